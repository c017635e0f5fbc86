"""Extraction on other cores (docscrawl/extraction_pool.py): the same pages as in the crawl's own
process, byte for byte; workers that die with the crawl and stop at a cancel; settings checked.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import Cli, Store, wait_for
from scrapy.http import HtmlResponse
from scrapy.settings import Settings

from docscrawl.extraction import SiteOverrides, extract_page, site_overrides
from docscrawl.extraction.sections import split_sections
from docscrawl.extraction_pool import ExtractionPool
from tests.corpus.generators import corpus

HOSTILE = {
    "empty": b"",
    "only-whitespace": b"  \n\t ",
    "binary-looking": bytes(range(256)) * 4,
    "nul-bytes": b"<html><body><main><p>a\x00b</p></main></body></html>",
    "cp1252": "<html><head><meta charset='windows-1252'></head><body><main><h1>Caf\xe9</h1>"
    "<p>\u201cquoted\u201d text</p></main></body></html>".encode("cp1252"),
    "xhtml": b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body><main>'
    b"<h1>X</h1><p>namespaced</p></main></body></html>",
    "unclosed-deep": b"<html><body>" + b"<div>" * 3000 + b"<p>deep text</p>",
    "base-href": b'<html><head><base href="/other/"></head><body><main><h1>B</h1>'
    b'<a href="page.html">rel</a></main></body></html>',
}


def responses() -> list[HtmlResponse]:
    found = [
        HtmlResponse(url=page.url, body=page.html.encode(), encoding="utf-8")
        for pages in corpus().values()
        for page in pages
    ]
    for name, body in HOSTILE.items():
        found.append(HtmlResponse(url=f"http://127.0.0.1:1/{name}.html", body=body))
    return found


def through_the_pool(pool: ExtractionPool, batch: list[HtmlResponse]) -> list:
    async def run() -> list:
        try:
            return await asyncio.gather(*(pool.extract(r.text, r.url) for r in batch))
        finally:
            pool.close()

    return [extraction.page if extraction else None for extraction in asyncio.run(run())]


def as_plain(page) -> dict:
    return dataclasses.asdict(page)


def test_the_pool_extracts_every_page_as_the_crawls_own_process_does() -> None:
    batch = responses()
    pool = ExtractionPool(2, 0.0, SiteOverrides())  # threshold 0: every page to the workers
    pooled = through_the_pool(pool, batch)
    assert pool.in_pool == len(batch) and pool.in_process == 0
    for response, page in zip(batch, pooled, strict=True):
        # What the spider extracted before the pool: Scrapy's own parse of the response.
        expected = extract_page(response.selector.root, response.url, SiteOverrides())
        assert as_plain(page) == as_plain(expected), response.url


def test_a_worker_prepares_what_the_store_would_derive() -> None:
    from docscrawl import models

    batch = responses()
    pool = ExtractionPool(2, 0.0, SiteOverrides())

    async def run() -> list:
        try:
            return await asyncio.gather(
                *(pool.extract(r.text, r.url, store_url=r.url + "#stored") for r in batch)
            )
        finally:
            pool.close()

    for response, (page, prepared) in zip(batch, asyncio.run(run()), strict=True):
        headings = [{"level": h.level, "text": h.text, "anchor": h.anchor} for h in page.headings]
        row = {"text": page.text, "extraction_audit": page.audit.as_dict()}
        assert prepared.simhash == models.derived_columns(row)["simhash"], response.url
        expected = split_sections(response.url + "#stored", page.title, page.markdown, headings)
        assert prepared.sections == expected, response.url


def test_the_workers_apply_the_sites_selector_overrides() -> None:
    settings = Settings(
        {"DOCSCRAWL_MAIN_SELECTOR": "div.body", "DOCSCRAWL_DROP_SELECTORS": "p.note, .admonition"}
    )
    settings.setdict(
        {"DOCSCRAWL_EXTRACTION_PROCESSES": 1, "DOCSCRAWL_EXTRACTION_POOL_THRESHOLD": 0}
    )
    overrides = site_overrides(settings)
    batch = responses()[:40]
    pool = ExtractionPool.from_settings(settings, overrides)
    pooled = through_the_pool(pool, batch)
    for response, page in zip(batch, pooled, strict=True):
        expected = extract_page(response.selector.root, response.url, overrides)
        assert as_plain(page) == as_plain(expected), response.url
    assert any(page.audit.rule == "selector" for page in pooled)  # the override did apply


def test_a_cheap_crawl_never_starts_the_pool() -> None:
    pool = ExtractionPool(2, 0.99, SiteOverrides())
    batch = responses()[:5]
    pages = through_the_pool(pool, batch)
    assert pool.in_process == len(batch) and not pool.started and all(pages)


def test_the_pool_waits_for_a_spare_core(tmp_path) -> None:
    """Every core busy (other crawls, say): the pool does not start however costly extraction
    is; once a core is idle again, it does."""
    cores = len(os.sched_getaffinity(0))
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores + 1)
    ]
    pool = ExtractionPool(2, 0.01, SiteOverrides())  # almost any extraction cost is enough
    batch = responses()[:30]

    async def extract_for(seconds: float, until_started: bool) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (until_started and pool.started):
            await asyncio.gather(*(pool.extract(r.text, r.url) for r in batch))

    async def run() -> None:
        try:
            await extract_for(3, until_started=False)
            assert not pool.started, "the pool started on a machine with no idle core"
        finally:
            for burner in burners:
                burner.kill()
                burner.wait()
        await extract_for(60, until_started=True)

    try:
        asyncio.run(run())
        assert pool.started
    finally:
        pool.close()


def test_a_cancel_takes_back_the_pages_no_worker_has_and_close_kills_the_rest() -> None:
    huge = "<html><body><main>" + "<p>word " * 200_000 + "</main></body></html>"
    pool = ExtractionPool(2, 0.0, SiteOverrides())

    async def run() -> tuple[list, list, float]:
        await pool.extract("<p>warm</p>", "http://127.0.0.1:1/")  # the workers are up
        pages = [
            asyncio.ensure_future(pool.extract(huge, "http://127.0.0.1:1/", n)) for n in range(8)
        ]
        # Until every page is submitted and a worker holds one (polled, not slept on).
        deadline = time.monotonic() + 30
        while not (len(pool._pending) == 8 and any(work.running() for work in pool._pending)):
            assert time.monotonic() < deadline, "no worker took a page"
            await asyncio.sleep(0.01)
        taken_back = pool.stop()
        started = time.monotonic()
        pool.close()
        results = await asyncio.gather(*pages)
        return taken_back, results, time.monotonic() - started

    taken_back, results, settled = asyncio.run(run())
    # Two workers each hold a page and one more is queued for them; the others are taken back.
    assert len(taken_back) >= 4 and set(taken_back) <= set(range(8))
    assert all(result is None for result in results)  # closed: nothing is stored after it
    assert settled < 2  # killed, not waited for (a huge page takes seconds)


def test_a_closed_pool_gives_no_page() -> None:
    pool = ExtractionPool(2, 0.0, SiteOverrides())
    pool.close()
    assert through_the_pool(pool, responses()[:1]) == [None]


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("DOCSCRAWL_EXTRACTION_PROCESSES=-1", "must not be negative"),
        ("DOCSCRAWL_EXTRACTION_PROCESSES=two", "takes a whole number"),
        ("DOCSCRAWL_EXTRACTION_PROCESSES=100000", "must be at most 64"),
        ("DOCSCRAWL_EXTRACTION_POOL_THRESHOLD=1.5", "must be from 0 to 1"),
        ("DOCSCRAWL_EXTRACTION_POOL_THRESHOLD=often", "takes a number"),
    ],
)
def test_bad_pool_settings_are_one_sentence(cli: Cli, store: Store, setting, expected) -> None:
    result = cli("crawl", "--url", "http://127.0.0.1:9/", "-s", setting)
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("Error:")]) == 1
    assert not store.path.exists()  # refused before anything was recorded


# --- real crawls ---------------------------------------------------------------------------

POOL_FROM_THE_FIRST_PAGE = [
    "-s", "DOCSCRAWL_EXTRACTION_PROCESSES=2", "-s", "DOCSCRAWL_EXTRACTION_POOL_THRESHOLD=0",
]  # fmt: skip
NO_POOL = ["-s", "DOCSCRAWL_EXTRACTION_PROCESSES=0"]
# Every stored column but the job's own ids and times, and the depth: which page links to a
# page first depends on when each page's extraction ends, with the pool as with concurrent
# requests (a page can be fetched while the one before it is still being extracted).
STORED = (
    "SELECT url, requested_url, final_url, canonical_url, status_code, title, description, "
    "language, headings, markdown, text, links, word_count, content_hash, extraction_audit, "
    "simhash "
    "FROM page WHERE job_id = ? ORDER BY url"
)


def test_a_crawl_with_the_pool_stores_the_pages_the_in_process_crawl_stores(
    cli: Cli, store: Store, site: str
) -> None:
    # One request at a time: the order pages come back in decides which URL of a page is
    # fetched first (requested_url, final_url) and its depth; with one at a time it is the same.
    one = ["-s", "CONCURRENT_REQUESTS=1"]
    in_process = cli("crawl", "--url", site, "--client", "one", *one, *NO_POOL)
    pooled = cli("crawl", "--url", site, "--client", "two", *one, *POOL_FROM_THE_FIRST_PAGE)
    assert in_process.returncode == 0, in_process.stderr
    assert pooled.returncode == 0, pooled.stderr
    assert "other processes" in crawl_log(store, 2)  # the pool did start
    first, second = store.rows(STORED, 1), store.rows(STORED, 2)
    assert len(first) >= 20
    assert first == second, differences(first, second)
    depths = "SELECT depth, count(*) FROM page WHERE job_id = ? GROUP BY depth ORDER BY depth"
    assert store.rows(depths, 1)[0] == store.rows(depths, 2)[0] == (0, 1)  # the start page
    # The sections, split by the workers for the pooled crawl, by the pipeline for the other.
    sections = (
        "SELECT p.url, s.position, s.anchor_url, s.markdown, s.text FROM page_section s "
        "JOIN page p ON p.id = s.page_id WHERE p.job_id = ? ORDER BY p.url, s.position"
    )
    assert store.rows(sections, 1) == store.rows(sections, 2) != []
    errors = "SELECT url, kind, status_code FROM crawl_error WHERE job_id = ? ORDER BY url"
    assert store.rows(errors, 1) == store.rows(errors, 2)


def differences(first: list[tuple], second: list[tuple]) -> list[tuple[str, str]]:
    """(url, column) of the cells that differ, for the assertion's message."""
    columns = STORED.split("SELECT ")[1].split(" FROM")[0].split(", ")
    return [
        (a[0], name)
        for a, b in zip(first, second, strict=False)
        for name, x, y in zip(columns, a, b, strict=True)
        if x != y
    ][:10]


def crawl_log(store: Store, job_id: int) -> str:
    """Scrapy's log of a foreground crawl (a file beside the store)."""
    return Path(store.job(job_id)["log_url"]).read_text()


def pool_workers(crawl: psutil.Process) -> list[psutil.Process]:
    return [
        child
        for child in crawl.children(recursive=True)
        if any("multiprocessing" in part for part in child.cmdline())
    ]


def crawl_process(started) -> psutil.Process:
    """The process running the crawl: the docscrawl entry point itself (a foreground crawl)."""
    return psutil.Process(started.pid)


def test_sigkill_of_the_crawl_takes_its_workers_with_it(cli: Cli, store: Store, slow_site) -> None:
    url, _ = slow_site
    started = cli.start("crawl", "--url", url, *POOL_FROM_THE_FIRST_PAGE)
    crawl = crawl_process(started)
    workers = wait_for(lambda: pool_workers(crawl), timeout=60)
    wait_for(lambda: (store.job(1).get("pages") or 0) >= 1, timeout=60)
    started.send_signal(signal.SIGKILL)
    started.communicate(timeout=15)
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, f"workers outlived the crawl: {[p.pid for p in alive]}"


def test_ctrl_c_stops_the_pool_at_once_and_keeps_its_pages_for_a_resume(
    cli: Cli, store: Store, slow_site
) -> None:
    url, _ = slow_site
    started = cli.start("crawl", "--url", url, *POOL_FROM_THE_FIRST_PAGE)
    crawl = crawl_process(started)
    wait_for(lambda: (store.job(1).get("pages") or 0) >= 3, timeout=60)
    workers = pool_workers(crawl)
    assert workers
    started.send_signal(signal.SIGINT)
    started.communicate(timeout=15)
    assert started.returncode == 130
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert not alive
    job = store.job(1)
    assert job["status"] == "cancelled"
    assert job["pages"] == store.value("SELECT COUNT(*) FROM page WHERE job_id = 1")
    # The resume finishes the crawl: nothing the pool held at the cancel is lost.
    resumed = cli("resume", "--job", "1", timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    everything = cli("crawl", "--url", url, "--client", "reference", *NO_POOL, timeout=300)
    assert everything.returncode == 0
    urls = "SELECT url FROM page WHERE job_id = ? ORDER BY url"
    reference_job = store.value("SELECT MAX(id) FROM job")
    assert store.rows(urls, 1) == store.rows(urls, reference_job)


def extracted(log: str, where: str) -> int:
    found = re.search(rf"'docscrawl/extracted_in_{where}': (\d+)", log)
    return int(found.group(1)) if found else 0


def test_the_crawls_stats_say_where_pages_were_extracted(cli: Cli, store: Store, site: str) -> None:
    limit = ["--max-pages", "5"]
    pooled = cli("crawl", "--url", site, "--client", "a", *limit, *POOL_FROM_THE_FIRST_PAGE)
    in_process = cli("crawl", "--url", site, "--client", "b", *limit, *NO_POOL)
    assert pooled.returncode == 0 and in_process.returncode == 0
    # At least the 5 pages stored; a few more may have been extracted as the limit was reached.
    assert extracted(crawl_log(store, 1), "pool") >= 5
    assert extracted(crawl_log(store, 1), "process") == 0
    assert extracted(crawl_log(store, 2), "process") >= 5
    assert extracted(crawl_log(store, 2), "pool") == 0
    assert "other processes" not in crawl_log(store, 2)
    assert store.value("SELECT COUNT(*) FROM page WHERE job_id = 1") == 5
