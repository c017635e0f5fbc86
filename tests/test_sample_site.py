"""The sample documentation site: its pages and links, and its loopback HTTP server."""

from __future__ import annotations

import http.client
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections import defaultdict, deque
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.etree
import lxml.html
import pytest

from sample_site import (
    NOT_FOUND_PATHS,
    ORPHAN_PATHS,
    ROBOTS_PATH,
    SERVER_ERROR_PATHS,
    SITEMAP_INDEX_PATH,
    SITEMAP_PATHS,
    SPECIAL_PATHS,
    ServerURL,
    Site,
    build_site,
    expected_pages,
    serve,
    sitemap_pages,
    special_links,
)
from sample_site.testing import PACKAGE_PARENT

BASE = "http://127.0.0.1:8000/"
SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
# Table-of-contents pages list a whole section, so they carry more than 25 links.
TOC_PAGES = {
    "/sphinx/tutorial/",
    "/sphinx/howto/",
    "/sphinx/api/",
    "/sphinx/genindex.html",
    "/mkdocs/guide/",
    "/mkdocs/reference/",
    "/docbook/",
}


@pytest.fixture(scope="module")
def site() -> Site:
    return build_site(BASE)


@pytest.fixture(scope="module")
def links(site: Site) -> dict[str, list[str]]:
    """Absolute targets of every <a href> on every 200 HTML page, by canonical path."""
    found = {}
    for path, page in site.items():
        if page.content_type.startswith("text/html") and page.canonical == path:
            tree = lxml.html.fromstring(page.body)
            found[path] = [urljoin(BASE + path[1:], href) for href in tree.xpath("//a/@href")]
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerURL, Path]]:
    log = tmp_path_factory.mktemp("sample_site") / "access.log"
    with serve(access_log=log) as url:
        yield url, log


def request(
    base: str,
    path: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request on a new connection, redirects not followed."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def sitemap_locs(site: Site, url: str) -> list[str]:
    """Page URLs of a sitemap or sitemap index, read from the in-memory site."""
    root = lxml.etree.fromstring(site.resolve(urlsplit(url).path).body)
    locs = root.xpath("//sm:loc/text()", namespaces=SITEMAP_NS)
    if root.tag.endswith("sitemapindex"):
        return [page for loc in locs for page in sitemap_locs(site, loc)]
    return locs


def crawl(
    site: Site, links: dict[str, list[str]], prefix: str, sitemaps: bool, obey_robots: bool
) -> tuple[set[str], dict[int, set[str]]]:
    """What a crawler following links and sitemaps under prefix stores, and the errors it meets."""
    netloc = urlsplit(site.base_url).netloc
    queue = deque([urljoin(site.base_url, prefix)])
    if sitemaps:
        for line in site.resolve(ROBOTS_PATH).body.decode().splitlines():
            if line.startswith("Sitemap:"):
                queue.extend(sitemap_locs(site, line.split(":", 1)[1].strip()))
    seen: set[str] = set()
    stored: set[str] = set()
    errors: dict[int, set[str]] = defaultdict(set)
    while queue:
        parts = urlsplit(urldefrag(queue.popleft())[0])
        path = parts.path
        if path.endswith("/index.html"):
            path = path[: -len("index.html")]
        if parts.scheme != "http" or parts.netloc != netloc or path in seen:
            continue
        if not path.startswith(prefix) or (obey_robots and path.startswith("/private/")):
            continue
        seen.add(path)
        page = site.resolve(path)
        if page.location:
            queue.append(page.location)
        elif page.status != 200:
            errors[page.status].add(path)
        elif page.content_type.startswith("text/html"):
            assert page.canonical == path
            stored.add(path)
            queue.extend(links[path])
    return stored, errors


def main_text(page_body: bytes, subsite: str) -> str:
    tree = lxml.html.fromstring(page_body)
    if subsite == "sphinx":
        return tree.cssselect("div.body")[0].text_content()
    if subsite == "mkdocs":
        return tree.cssselect("article.md-content__inner")[0].text_content()
    for nav in tree.cssselect("div.navheader, div.navfooter"):
        nav.drop_tree()
    return tree.cssselect("body")[0].text_content()


def test_page_counts() -> None:
    counts = {name: len(sitemap_pages(name)) for name in ("sphinx", "mkdocs", "docbook")}
    assert counts == {"sphinx": 123, "mkdocs": 103, "docbook": 83}
    assert expected_pages() == {"/"} | set().union(*map(sitemap_pages, counts))
    assert len(expected_pages(sitemaps=False)) == 1 + 120 + 100 + 80
    assert expected_pages(obey_robots=False) - expected_pages() == {SPECIAL_PATHS["private"]}
    for name, orphans in ORPHAN_PATHS.items():
        assert set(orphans) <= sitemap_pages(name)
        assert not set(orphans) & expected_pages(sitemaps=False)


@pytest.mark.parametrize(
    ("prefix", "sitemaps", "obey_robots"),
    [
        ("/", True, True),
        ("/", False, True),
        ("/", True, False),
        ("/sphinx/", True, True),
        ("/mkdocs/", True, True),
        ("/docbook/", False, True),
    ],
)
def test_crawl_stores_exactly_the_expected_pages(
    site: Site, links: dict[str, list[str]], prefix: str, sitemaps: bool, obey_robots: bool
) -> None:
    stored, _ = crawl(site, links, prefix, sitemaps, obey_robots)
    assert stored == expected_pages(prefix, sitemaps=sitemaps, obey_robots=obey_robots)


def test_only_the_planted_links_are_broken(site: Site, links: dict[str, list[str]]) -> None:
    _, errors = crawl(site, links, "/", sitemaps=True, obey_robots=True)
    assert errors == {404: set(NOT_FOUND_PATHS), 500: set(SERVER_ERROR_PATHS)}


def test_special_links_are_where_declared(site: Site, links: dict[str, list[str]]) -> None:
    declared = special_links()
    for key in ("not_found", "server_error", "redirect", "offhost_redirect", "slash_redirect"):
        assert SPECIAL_PATHS[key] in declared
    for key in ("pdf", "png", "zip", "index_alias_mkdocs_guide"):
        assert SPECIAL_PATHS[key] in declared
    for target, pages in declared.items():
        for page in pages:
            assert target in {urlsplit(url).path for url in links[page]}, (page, target)
    linked = {urlsplit(url).path for targets in links.values() for url in targets}
    assert SPECIAL_PATHS["private"] in {urlsplit(url).path for url in links["/"]}
    assert "/sphinx/" in linked and "/sphinx/index.html" in linked
    orphans = {orphan for paths in ORPHAN_PATHS.values() for orphan in paths}
    for page, urls in links.items():
        assert not {urlsplit(url).path for url in urls} & (orphans - {page}), page


def test_links_mix_fragments_queries_and_other_hosts(links: dict[str, list[str]]) -> None:
    targets = [url for urls in links.values() for url in urls]
    to_other_pages = [
        url for page, urls in links.items() for url in urls if urldefrag(url)[0] != BASE + page[1:]
    ]
    assert sum("#" in url for url in to_other_pages) > 50
    assert sum("?utm_source=x" in url for url in targets) > 50
    assert sum(url.startswith(BASE) and "utm" not in url for url in targets) > 1000
    other_hosts = {urlsplit(url).netloc for url in targets if not url.startswith(BASE)}
    assert other_hosts == {"example.com", ""}  # "" is the mailto: link


def test_pages_have_realistic_size(site: Site, links: dict[str, list[str]]) -> None:
    for path in expected_pages() - {"/"}:
        page = site[path]
        words = len(main_text(page.body, page.subsite).split())
        assert 300 <= words <= 1200, (path, words)
        if path not in TOC_PAGES:
            url = urljoin(BASE, path)
            distinct = {urldefrag(target)[0] for target in links[path]} - {url}
            assert 10 <= len(distinct) <= 25, (path, len(distinct))


def test_build_is_deterministic(site: Site) -> None:
    again = build_site(BASE)
    assert {path: page.etag for path, page in again.items()} == {
        path: page.etag for path, page in site.items()
    }
    other = build_site("http://127.0.0.1:9/")
    assert other["/sphinx/"].body != site["/sphinx/"].body
    assert b'href="http://127.0.0.1:9/sphinx/"' in other["/sphinx/"].body


def test_mkdocs_and_docbook_structure(site: Site) -> None:
    page = lxml.html.fromstring(site["/mkdocs/guide/page-4/"].body)
    assert page.cssselect("header.md-header")
    assert page.cssselect("nav.md-nav.md-nav--primary a.md-nav__link")
    assert page.cssselect("nav.md-nav--secondary a[href^='#']")
    article = page.cssselect("main.md-main div.md-content > article.md-content__inner.md-typeset")
    headings = article[0].cssselect("h1, h2, h3, h4")
    assert headings and all(h.get("id") for h in headings)
    assert all(h.cssselect("a.headerlink")[0].get("href") == "#" + h.get("id") for h in headings)
    assert page.cssselect("footer.md-footer a.md-footer__link--next")
    mkdocs = [lxml.html.fromstring(site[p].body) for p in sitemap_pages("mkdocs")]
    assert any(t.cssselect("article pre > code") for t in mkdocs)
    assert any(t.cssselect("article table") for t in mkdocs)

    chapter = lxml.html.fromstring(site["/docbook/ch03s02.html"].body)
    assert chapter.cssselect("div.navheader table a[accesskey=n]")
    assert chapter.cssselect("div.navfooter table a[accesskey=u]")
    assert chapter.cssselect("div.section > div.titlepage h2.title > a[id]")
    assert lxml.html.fromstring(site["/docbook/"].body).cssselect("div.toc dl.toc a")
    docbook = [lxml.html.fromstring(site[p].body) for p in sitemap_pages("docbook")]
    assert any(t.cssselect("pre.programlisting") for t in docbook)
    assert any(t.cssselect("div.table > table") for t in docbook)
    assert any(t.cssselect("div.chapter > div.titlepage h1") for t in docbook)


def test_sphinx_page_structure(server: tuple[ServerURL, Path]) -> None:
    url = server[0]
    status, headers, body = request(url, "/sphinx/tutorial/part-3.html")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert int(headers["Content-Length"]) == len(body)
    page = lxml.html.fromstring(body)
    assert page.get("lang") == "en"
    assert page.cssselect("meta[name=description]")[0].get("content")
    canonical = page.cssselect("link[rel=canonical]")[0].get("href")
    assert canonical == url + "sphinx/tutorial/part-3.html"
    assert len(page.cssselect("div.related")) == 2
    assert page.cssselect("div.sphinxsidebar li.toctree-l1 > a.reference.internal")
    main = page.cssselect(
        "div.document > div.documentwrapper > div.bodywrapper > div.body[role=main]"
    )
    sections = main[0].cssselect("section[id]")
    assert len(sections) >= 3
    for section in sections:
        heading = section.cssselect("h1, h2, h3")[0]
        link = heading.cssselect("a.headerlink")[0]
        assert (link.get("href"), link.text) == ("#" + section.get("id"), "¶")
    assert page.cssselect("div.footer")
    status, _, body = request(url, "/sphinx/installation.html")
    installation = lxml.html.fromstring(body)
    assert installation.cssselect("a.reference.download[href='_downloads/manual.pdf']")
    assert installation.cssselect("figure img[src='_images/diagram.png']")


def test_sphinx_code_blocks_and_tables(site: Site) -> None:
    pages = [lxml.html.fromstring(site[p].body) for p in sitemap_pages("sphinx")]
    assert any(t.cssselect("div.highlight-python > div.highlight > pre span.k") for t in pages)
    assert any(t.cssselect("table.docutils thead th") for t in pages)
    assert any(t.cssselect("dl.py.function > dt[id]") for t in pages)


def test_robots_txt(server: tuple[ServerURL, Path]) -> None:
    url = server[0]
    status, headers, body = request(url, "/robots.txt")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain")
    lines = body.decode().splitlines()
    assert "User-agent: *" in lines and "Disallow: /private/" in lines
    assert f"Sitemap: {url}sitemap.xml" in lines
    assert request(url, SPECIAL_PATHS["private"])[0] == 200


def test_sitemaps(server: tuple[ServerURL, Path]) -> None:
    url = server[0]
    status, headers, body = request(url, SITEMAP_INDEX_PATH)
    assert (status, headers["Content-Type"]) == (200, "application/xml")
    index = lxml.etree.fromstring(body)
    assert index.tag == f"{{{SITEMAP_NS['sm']}}}sitemapindex"
    children = index.xpath("//sm:sitemap/sm:loc/text()", namespaces=SITEMAP_NS)
    assert children == [url + path[1:] for path in SITEMAP_PATHS.values()]
    assert len(index.xpath("//sm:sitemap/sm:lastmod", namespaces=SITEMAP_NS)) == 3
    status, _, body = request(url, SITEMAP_PATHS["sphinx"])
    urlset = lxml.etree.fromstring(body)
    locs = urlset.xpath("//sm:url/sm:loc/text()", namespaces=SITEMAP_NS)
    assert {urlsplit(loc).path for loc in locs} == sitemap_pages("sphinx")
    assert all(loc.startswith(url) for loc in locs)
    assert len(urlset.xpath("//sm:url/sm:lastmod", namespaces=SITEMAP_NS)) == len(locs)


def test_error_and_redirect_statuses(server: tuple[ServerURL, Path]) -> None:
    url = server[0]
    port = urlsplit(url).port
    for path in (*NOT_FOUND_PATHS, "/no/such/page.html"):
        status, headers, _ = request(url, path)
        assert (status, headers["Content-Type"]) == (404, "text/html; charset=utf-8")
    assert request(url, SPECIAL_PATHS["server_error"])[0] == 500
    status, headers, _ = request(url, SPECIAL_PATHS["redirect"])
    assert (status, headers["Location"]) == (301, url + "sphinx/tutorial/part-1.html")
    status, headers, _ = request(url, SPECIAL_PATHS["offhost_redirect"])
    assert (status, headers["Location"]) == (302, f"http://127.0.0.2:{port}/sphinx/index.html")
    status, headers, _ = request(url, SPECIAL_PATHS["slash_redirect"])
    assert (status, headers["Location"]) == (301, url + "mkdocs/guide/")


def test_index_aliases_and_queries_serve_the_same_page(server: tuple[ServerURL, Path]) -> None:
    url = server[0]
    for directory in ("/sphinx/", "/mkdocs/guide/", "/docbook/"):
        bodies = {
            request(url, path)[2]
            for path in (directory, directory + "index.html", directory + "?utm_source=x")
        }
        assert len(bodies) == 1


def test_binary_files(server: tuple[ServerURL, Path]) -> None:
    url = server[0]
    status, headers, body = request(url, SPECIAL_PATHS["pdf"])
    assert (status, headers["Content-Type"]) == (200, "application/pdf")
    assert body.startswith(b"%PDF-1.4") and body.rstrip().endswith(b"%%EOF")
    status, headers, body = request(url, SPECIAL_PATHS["png"])
    assert (status, headers["Content-Type"]) == (200, "image/png")
    assert body.startswith(b"\x89PNG\r\n\x1a\n")
    status, headers, body = request(url, SPECIAL_PATHS["zip"])
    assert (status, headers["Content-Type"]) == (200, "application/zip")
    assert zipfile.ZipFile(io.BytesIO(body)).testzip() is None


def test_conditional_requests(server: tuple[ServerURL, Path]) -> None:
    url = server[0]
    status, headers, _ = request(url, "/mkdocs/guide/page-4/")
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    status, headers, body = request(url, "/mkdocs/guide/page-4/", headers={"If-None-Match": etag})
    assert (status, body, headers["ETag"]) == (304, b"", etag)
    status, _, _ = request(url, "/mkdocs/guide/page-4/", headers={"If-None-Match": '"other"'})
    assert status == 200
    since = {"If-Modified-Since": last_modified}
    assert request(url, "/mkdocs/guide/page-4/", headers=since)[0] == 304
    before = {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
    assert request(url, "/mkdocs/guide/page-4/", headers=before)[0] == 200


def test_head_and_keep_alive(server: tuple[ServerURL, Path]) -> None:
    parts = urlsplit(server[0])
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("HEAD", "/docbook/ch03s02.html")
        head = conn.getresponse()
        assert (head.status, head.read()) == (200, b"")
        sock = conn.sock
        for path in sorted(expected_pages()):
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200, path
            assert response.headers["Content-Type"] == "text/html; charset=utf-8"
            if path == "/docbook/ch03s02.html":
                assert int(head.headers["Content-Length"]) == len(body)
        assert conn.sock is sock
    finally:
        conn.close()


def test_access_log(server: tuple[ServerURL, Path]) -> None:
    url, log = server
    for _ in range(3):
        request(url, "/sphinx/faq.html?probe=access-log")
    request(url, "/docbook/ch01.html?probe=access-log", method="HEAD")
    request(url, "/missing?probe=access-log")
    lines = log.read_text().splitlines()
    assert lines.count("GET /sphinx/faq.html?probe=access-log 200") == 3
    assert "HEAD /docbook/ch01.html?probe=access-log 200" in lines
    assert "GET /missing?probe=access-log 404" in lines


def test_delay_slows_pages_but_not_robots_and_serve_stops_the_process() -> None:
    with serve(delay=0.4) as url:
        started = time.monotonic()
        assert request(url, "/robots.txt")[0] == 200
        assert request(url, "/sitemaps/docbook.xml")[0] == 200
        assert time.monotonic() - started < 0.4
        started = time.monotonic()
        assert request(url, "/docbook/")[0] == 200
        assert time.monotonic() - started >= 0.4
        os.kill(url.pid, 0)
    with pytest.raises(ProcessLookupError):
        os.kill(url.pid, 0)
    with pytest.raises(ConnectionRefusedError):
        request(url, "/")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signals_stop_the_server_cleanly(signum: signal.Signals) -> None:
    env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT}
    process = subprocess.Popen(
        [sys.executable, "-m", "sample_site", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().decode().strip()
        assert request(url, "/")[0] == 200
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=10)
        assert process.returncode == 0
        assert b"Traceback" not in stderr
        assert b"GET / 200" in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_refuses_non_loopback_hosts() -> None:
    env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT}
    result = subprocess.run(
        [sys.executable, "-m", "sample_site", "--host", "192.0.2.1"],
        capture_output=True,
        env=env,
        timeout=10,
    )
    assert result.returncode == 2
    assert b"not a loopback address" in result.stderr
