"""Smoke tests of the throughput benchmark: the synthetic site, its servers, one tiny run."""

from __future__ import annotations

import http.client
import json
import re
import xml.etree.ElementTree as ET
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest

from bench import synthetic_site, throughput

PAGES = 30
BASE = "http://127.0.0.1:8000"
HREF = re.compile(r'<a [^>]*href="([^"]+)"')
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def url_path(file_path: str) -> str:
    return "/" + file_path.removesuffix("index.html")


def test_site_is_deterministic(tmp_path: Path) -> None:
    synthetic_site.generate(tmp_path / "a", BASE, PAGES, seed=7)
    synthetic_site.generate(tmp_path / "b", BASE, PAGES, seed=7)
    synthetic_site.generate(tmp_path / "c", BASE, PAGES, seed=8)
    first = files(tmp_path / "a")
    assert first == files(tmp_path / "b")
    assert first != files(tmp_path / "c")


def test_site_structure_and_links(tmp_path: Path) -> None:
    site = synthetic_site.generate(tmp_path, BASE, PAGES)
    pages = {
        path: data.decode() for path, data in files(tmp_path).items() if path.endswith(".html")
    }
    assert len(pages) == site.pages == PAGES
    assert "docs/index.html" in pages
    assert "docs/section-0/page-29.html" in pages
    sizes = [len(page.encode()) for path, page in pages.items() if path != "docs/index.html"]
    assert 6000 < sum(sizes) / len(sizes) < 10000

    graph: dict[str, list[str]] = {}
    for path, page in pages.items():
        hrefs = HREF.findall(page)
        internal = [href for href in hrefs if href.startswith("/docs/")]
        if path != "docs/index.html":  # the index lists the sections: one, here
            assert 15 <= len(hrefs) <= 30, path
        assert len(internal) >= 0.8 * len(hrefs), path
        graph[url_path(path)] = internal
    assert set().union(*graph.values()) <= set(graph)  # no link to a missing page
    reached, todo = {"/docs/"}, deque(["/docs/"])
    while todo:
        for link in graph[todo.popleft()]:
            if link not in reached:
                reached.add(link)
                todo.append(link)
    assert reached == set(graph)

    page = pages["docs/section-0/page-3.html"]
    for marker in ("<nav", "<aside", "<main", "<pre><code", "<table", '<h2 id="', "<footer"):
        assert marker in page
    assert "<title>" in page

    robots = (tmp_path / "robots.txt").read_text()
    assert "User-agent: *\nAllow: /" in robots
    assert f"Sitemap: {BASE}/sitemap.xml" in robots
    sitemap = ET.parse(tmp_path / "sitemap.xml").getroot()
    locs = {loc.text for loc in sitemap.iter(f"{SITEMAP_NS}loc")}
    assert locs == {BASE + path for path in graph}


def test_big_sites_get_a_sitemap_index() -> None:
    sitemaps = synthetic_site.sitemap_files(BASE, 50_001)
    assert sorted(sitemaps) == ["sitemap-1.xml", "sitemap-2.xml", "sitemap.xml"]
    assert "<sitemapindex" in sitemaps["sitemap.xml"]
    assert sitemaps["sitemap-2.xml"].count("<loc>") == 1


def fetch_twice_on_one_connection(server: synthetic_site.Server, root: Path) -> None:
    """Two GETs on one HTTP/1.1 connection, then a redirect and a 404 on it too."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", "/docs/")
        first = conn.getresponse()
        body = first.read()
        assert first.status == 200
        assert first.version == 11
        assert first.getheader("Content-Type", "").startswith("text/html")
        assert int(first.getheader("Content-Length", "-1")) == len(body)
        assert body == (root / "docs" / "index.html").read_bytes()
        sock = conn.sock
        assert sock is not None

        conn.request("GET", "/docs/section-0/page-2.html")
        second = conn.getresponse()
        assert second.status == 200
        assert second.read() == (root / "docs" / "section-0" / "page-2.html").read_bytes()
        assert conn.sock is sock  # http.client reconnects silently if the server closed

        conn.request("GET", "/docs")
        redirect = conn.getresponse()
        redirect.read()
        assert redirect.status == 301
        assert urlsplit(redirect.getheader("Location", "")).path == "/docs/"
        conn.request("GET", "/nowhere.html")
        missing = conn.getresponse()
        missing.read()
        assert missing.status == 404
    finally:
        conn.close()


def test_python_server_keeps_alive_and_stops(tmp_path: Path) -> None:
    site = synthetic_site.generate(tmp_path / "site", BASE, PAGES)
    with synthetic_site.serve(site.root, "python") as server:
        assert server.kind == "python"
        pid = server.pid
        assert psutil.pid_exists(pid)
        fetch_twice_on_one_connection(server, site.root)
    assert not psutil.pid_exists(pid)


@pytest.mark.skipif(synthetic_site.nginx_binary() is None, reason="nginx is not installed")
def test_nginx_keeps_alive_and_stops(tmp_path: Path) -> None:
    site = synthetic_site.generate(tmp_path / "site", BASE, PAGES)
    with synthetic_site.serve(site.root, "nginx", workdir=tmp_path) as server:
        pids = [process.pid for process in server.processes()]
        assert len(pids) == 2  # master and one worker
        fetch_twice_on_one_connection(server, site.root)
    assert not any(psutil.pid_exists(pid) for pid in pids)


def test_tiny_benchmark_run(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    argv = ["--pages", str(PAGES), "--rounds", "1", "--sides", "baseline,docscrawl"]
    argv += ["--server", "python", "--no-wget", "--json", str(report)]
    assert throughput.main(argv) == 0
    runs = {run["side"]: run for run in json.loads(report.read_text())["runs"]}
    assert runs["docscrawl"]["stored"] == PAGES
    # The start URL is not dupe-filtered, so a plain CrawlSpider stores /docs/ a second time.
    assert PAGES <= runs["baseline"]["stored"] <= PAGES + 1
    for run in runs.values():
        assert run["ok"]
        assert run["pages_per_s"] > 0
        assert run["peak_rss_mib"] > 10
        assert run["cpu"] > 0


def test_tiny_api_load_run(capsys: pytest.CaptureFixture[str]) -> None:
    """bench/api_load.py with tiny numbers: no error, no "database is locked", and its table."""
    from bench import api_load

    argv = ["--seconds", "2", "--clients", "3", "--streams", "1", "--crawls", "1"]
    assert api_load.main([*argv, "--server", "python"]) == 0
    out = capsys.readouterr().out
    header = "| phase | crawls | requests | requests/s | p50 ms | p95 ms | p99 ms | errors |"
    assert header in out
    for phase in ("idle", "load", "idle-after"):
        assert f"\n| {phase} | " in out
    assert "- load/idle: requests/s " in out


def test_crawl_into_store_compares_a_big_store_with_an_empty_one(tmp_path: Path, capsys) -> None:
    from bench import crawl_into_store

    synthetic_site.generate(tmp_path / "site", BASE, PAGES)
    big = tmp_path / "big.db"
    runs = tmp_path / "runs.json"
    argv = ["--big", str(big), "--site-dir", str(tmp_path / "site"), "--start", "docs/",
            "--rounds", "1", "--modes", "new,refetch", "--server", "python",
            "--json", str(runs)]  # fmt: skip
    assert crawl_into_store.main(argv) == 0
    done = json.loads(runs.read_text())
    assert [(run["mode"], run["side"]) for run in done] == [
        ("new", "empty"), ("new", "big"), ("refetch", "empty"), ("refetch", "big"),
    ]  # fmt: skip
    assert {run["pages"] for run in done} == {PAGES}  # every page, on both sides
    table = capsys.readouterr().out
    assert re.search(r"\| new \| big \| [\d.]+ \([\d.-]+\) \| [\d.]+x", table)
