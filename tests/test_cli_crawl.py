"""`docscrawl crawl` in the foreground against the sample docs site on loopback."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import Cli, Store, clean_env, crawl_job_id

import sample_site


def stored_paths(store: Store, job_id: int | None = None) -> set[str]:
    sql = "SELECT url FROM page" + (" WHERE job_id = ?" if job_id else "")
    return {urlsplit(url).path for (url,) in store.rows(sql, *([job_id] if job_id else []))}


@pytest.fixture(scope="module")
def full_crawl(tmp_path_factory, site):
    """One crawl of the whole sample site, shared by the tests that only read its results."""
    tmp = tmp_path_factory.mktemp("full")
    store = Store(tmp / "docscrawl.db")
    result = Cli(store, tmp, clean_env())("crawl", "--url", site, "--client", "Sample Docs")
    return store, result


def test_crawl_prints_the_job_id_first_and_completes(full_crawl) -> None:
    store, result = full_crawl
    assert result.returncode == 0, result.stderr
    first_line = result.stdout.splitlines()[0]
    assert first_line.startswith("Job 1:")
    assert crawl_job_id(first_line) == 1
    assert "Job 1 completed" in result.stdout
    assert store.status(1) == "completed"
    assert store.job(1)["finish_reason"] == "finished"


def test_crawl_stores_exactly_the_expected_pages(full_crawl) -> None:
    store, _ = full_crawl
    expected = sample_site.expected_pages("/")
    assert stored_paths(store) == expected
    assert store.job(1)["pages"] == len(expected) == store.value("SELECT COUNT(*) FROM page")


def test_robots_disallowed_and_non_html_are_not_pages(full_crawl) -> None:
    store, _ = full_crawl
    paths = stored_paths(store)
    assert not paths & set(sample_site.PRIVATE_PATHS)
    assert not paths & set(sample_site.ASSETS)
    assert not any(path.endswith((".pdf", ".png", ".zip")) for path in paths)


def test_sitemap_only_pages_are_found(full_crawl) -> None:
    store, _ = full_crawl
    orphans = {path for paths in sample_site.ORPHAN_PATHS.values() for path in paths}
    assert orphans and orphans <= stored_paths(store)


def test_http_errors_are_job_errors_not_pages(full_crawl) -> None:
    store, _ = full_crawl
    errors = {
        urlsplit(url).path: code
        for url, code in store.rows(
            "SELECT url, status_code FROM crawl_error WHERE job_id = 1 AND kind = ?", "http_status"
        )
    }
    for path in sample_site.NOT_FOUND_PATHS:
        assert errors.get(path) == 404
    for path in sample_site.SERVER_ERROR_PATHS:
        assert errors.get(path) == 500
    assert store.job(1)["errors"] == len(errors)
    assert not stored_paths(store) & set(errors)


def test_redirects_stay_on_the_host(full_crawl) -> None:
    store, _ = full_crawl
    hosts = {urlsplit(url).hostname for (url,) in store.rows("SELECT final_url FROM page")}
    assert hosts == {"127.0.0.1"}
    paths = stored_paths(store)
    for source, (_status, target) in sample_site.REDIRECTS.items():
        assert source not in paths and target in paths  # stored once, under where it landed
    for source in sample_site.OFFHOST_REDIRECTS:
        assert source not in paths  # the redirect to 127.0.0.2 was not followed


def test_index_html_variant_is_one_page(full_crawl) -> None:
    store, _ = full_crawl
    urls = [url for (url,) in store.rows("SELECT url FROM page")]
    assert not any(url.endswith(("/index.html", "/index.htm")) for url in urls)
    assert len(urls) == len(set(urls))


def test_progress_goes_to_stderr(full_crawl) -> None:
    _, result = full_crawl
    progress = [line for line in result.stderr.splitlines() if line.startswith("pages ")]
    assert progress, result.stderr
    last = progress[-1]
    for word in ("/s", "errors", "queued", "elapsed", "ETA"):
        assert word in last
    assert "Traceback" not in result.stderr


def test_extracted_fields_of_a_sphinx_page(full_crawl) -> None:
    store, _ = full_crawl
    row = store.rows(
        "SELECT title, language, headings, markdown, text, links, word_count, content_hash, "
        "etag, last_modified, depth, canonical_url, description FROM page "
        "WHERE url LIKE '%/sphinx/tutorial/%' ORDER BY url LIMIT 1"
    )[0]
    title, language, headings, markdown, text, links, words, digest, etag, modified = row[:10]
    depth, canonical, description = row[10:]
    assert title and language == "en" and description
    headings = json.loads(headings)
    assert headings[0]["level"] == 1 and all(h["anchor"] for h in headings)
    assert "```" in markdown and "¶" not in text
    assert 0.9 * len(text.split()) <= words <= len(text.split()) and len(digest) == 64
    assert etag and modified and depth >= 1 and canonical.startswith("http://127.0.0.1")
    links = json.loads(links)
    assert links and all(link.startswith("http://127.0.0.1") for link in links)


@pytest.mark.parametrize("flavour", sample_site.SUBSITES)
def test_navigation_is_not_main_content(full_crawl, flavour: str) -> None:
    store, _ = full_crawl
    rows = store.rows(
        "SELECT text, markdown FROM page WHERE url LIKE ? AND word_count > 0", f"%/{flavour}/%"
    )
    assert len(rows) > 10
    for text, markdown in rows:
        assert "Edit on GitHub" not in text
        assert text.strip() and markdown.strip()


def test_crawl_stays_under_the_start_path(cli: Cli, store: Store, site: str) -> None:
    result = cli("crawl", "--url", site + "mkdocs/", "--client", "MkDocs", "--quiet")
    assert result.returncode == 0, result.stderr
    assert stored_paths(store) == sample_site.expected_pages("/mkdocs/")
    assert result.stderr == ""


def test_max_pages(cli: Cli, store: Store, site: str) -> None:
    result = cli("crawl", "--url", site, "--max-pages", "20", "--quiet")
    assert result.returncode == 0, result.stderr
    job = store.job(1)
    assert (job["status"], job["pages"], job["finish_reason"]) == ("completed", 20, "max_pages")
    assert store.value("SELECT COUNT(*) FROM page") == 20


def test_max_depth_zero_is_the_start_page_only(cli: Cli, store: Store, site: str) -> None:
    result = cli("crawl", "--url", site + "sphinx/", "--max-depth", "0", "--quiet")
    assert result.returncode == 0, result.stderr
    assert stored_paths(store) == {"/sphinx/"}


def test_max_depth_one(cli: Cli, store: Store, site: str) -> None:
    result = cli("crawl", "--url", site + "docbook/", "--max-depth", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    depths = {depth for (depth,) in store.rows("SELECT DISTINCT depth FROM page")}
    assert depths == {0, 1}  # pages listed in a sitemap count as depth 1
    assert stored_paths(store) <= sample_site.expected_pages("/docbook/")


def test_settings_pass_through_like_scrapy_crawl(cli: Cli, store: Store, site: str) -> None:
    result = cli(
        "crawl",
        "--url",
        site,
        "-s",
        "ROBOTSTXT_OBEY=False",
        "--setting",
        "CONCURRENT_REQUESTS=4",
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    assert set(sample_site.PRIVATE_PATHS) <= stored_paths(store)
    assert json.loads(store.job(1)["settings"]) == {
        "ROBOTSTXT_OBEY": "False",
        "CONCURRENT_REQUESTS": "4",
    }


def test_recrawl_updates_pages_without_duplicates(cli: Cli, store: Store, site: str) -> None:
    url = site + "docbook/"
    assert cli("crawl", "--url", url, "--client", "DB", "--quiet").returncode == 0
    first = store.value("SELECT COUNT(*) FROM page")
    assert cli("crawl", "--url", url, "--client", "DB", "--quiet").returncode == 0
    assert store.value("SELECT COUNT(*) FROM page") == first
    assert store.job(1)["pages"] == store.job(2)["pages"] == first
    assert store.value("SELECT COUNT(DISTINCT job_id) FROM page") == 1  # all moved to job 2
    assert store.value("SELECT COUNT(*) FROM client") == 1


def test_unreachable_host_fails_the_job(cli: Cli, store: Store) -> None:
    from conftest import free_port

    result = cli("crawl", "--url", f"http://127.0.0.1:{free_port()}/docs/", "--quiet")
    assert result.returncode == 1
    assert store.status(1) == "failed"
    assert "no page was stored" in store.job(1)["finish_reason"]
    assert "Connection" in store.job(1)["finish_reason"]
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: Job 1 failed")


def test_foreground_log_goes_to_a_file_beside_the_store(cli: Cli, store: Store, site: str):
    assert cli("crawl", "--url", site + "sphinx/", "--max-pages", "3", "--quiet").returncode == 0
    log = Path(store.job(1)["log_url"])
    assert log.parent == store.path.parent / "logs"
    assert "Spider closed (max_pages)" in log.read_text()


def test_no_url_variant_is_fetched_twice(cli: Cli, store: Store, tmp_path: Path) -> None:
    """The site links /x/ and /x/index.html, #fragments and ?utm_ variants of its pages; and
    robots.txt is read once, for both the rules and the sitemaps."""
    from collections import Counter

    from sample_site.testing import serve

    log = tmp_path / "access.log"
    with serve(access_log=str(log)) as url:
        assert cli("crawl", "--url", url, "--quiet").returncode == 0
    fetched = Counter()
    for line in log.read_text().splitlines():
        _method, target, status = line.split()
        if status.startswith("5"):
            continue  # a retry of a server error is not a variant
        path = target.split("?")[0]
        if path.endswith("/index.html"):
            path = path[: -len("index.html")]
        fetched[path] += 1
    assert {path: n for path, n in fetched.items() if n > 1} == {}
    assert store.job(1)["pages"] == len(sample_site.expected_pages("/"))
