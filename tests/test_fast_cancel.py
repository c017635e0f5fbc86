"""A cancel under a polite setup (DOWNLOAD_DELAY=1, one request at a time, a server that answers
in 2 s) ends the crawl without draining the downloader's queue, loses no processed page, and keeps
the requests it did not fetch with the job. Functional checks, not timings: bench/cancel.py
measures the latency."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import Cli, Store, wait_for

from sample_site.testing import serve

POLITE = [
    "-s", "DOWNLOAD_DELAY=1", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
    "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOCSCRAWL_FLUSH_INTERVAL=0.2",
]  # fmt: skip


@pytest.fixture
def polite_site(tmp_path: Path):
    log = tmp_path / "access.log"
    with serve(delay=2.0, access_log=str(log)) as url:
        yield url, log


def page_fetches(log: Path) -> Counter:
    lines = [line.split() for line in log.read_text().splitlines()]
    return Counter(
        path for method, path, status in lines
        if status == "200" and not path.startswith(("/robots.txt", "/sitemap"))
    )  # fmt: skip


def stored_for(store: Store, job_id: int) -> int:
    return store.value("SELECT COUNT(*) FROM page WHERE job_id = ?", job_id)


def paths(store: Store, sql: str, job_id: int) -> set[str]:
    return {urlsplit(url).path for (url,) in store.rows(sql, job_id)}


def assert_cancelled_without_draining(store: Store, log: Path, job_id: int) -> None:
    job = store.job(job_id)
    assert job["status"] == "cancelled"
    assert job["pages"] == stored_for(store, job_id) >= 2  # zero pages lost
    queued = paths(
        store, "SELECT url FROM frontier_request WHERE job_id = ? AND state = 'queued'", job_id
    )
    in_flight = paths(
        store, "SELECT url FROM frontier_request WHERE job_id = ? AND state = 'in_flight'", job_id
    )
    # Many requests were waiting (in the scheduler and the downloader slot): kept, not fetched.
    assert len(queued) >= 10
    assert len(in_flight) <= 1  # one request at a time
    # The server logs a request when it answers; wait for the abandoned one to be answered.
    wait_for(lambda: in_flight <= set(page_fetches(log)), timeout=10)
    fetched = set(page_fetches(log))
    stored = paths(store, "SELECT requested_url FROM page WHERE job_id = ?", job_id)
    assert not fetched & queued, "a request that was queued at the cancel was fetched anyway"
    assert fetched - stored <= in_flight  # every other page fetched was stored


def test_ctrl_c_on_a_polite_foreground_crawl(cli: Cli, store: Store, polite_site) -> None:
    url, log = polite_site
    crawl = cli.start("crawl", "--url", url, *POLITE)
    wait_for(lambda: (store.job(1).get("pages") or 0) >= 2, timeout=60)
    crawl.send_signal(signal.SIGINT)
    crawl.communicate(timeout=15)
    assert crawl.returncode == 130
    assert_cancelled_without_draining(store, log, 1)


def test_cancel_of_a_polite_async_crawl(cli: Cli, store: Store, scrapyd, polite_site) -> None:
    url, log = polite_site
    result = cli("--scrapyd", scrapyd.url, "crawl", "--url", url, "--async", *POLITE)
    assert result.returncode == 0, result.stderr
    wait_for(lambda: (store.job(1).get("pages") or 0) >= 2, timeout=60)
    cancel = cli("--scrapyd", scrapyd.url, "cancel", "--job", "1", timeout=15)
    assert cancel.returncode == 0, cancel.stderr
    assert cancel.stdout.startswith("Job 1 cancelled:")
    # The process has exited when cancel returns; Scrapyd notices a moment later.
    wait_for(lambda: not scrapyd.list_jobs()["running"], timeout=10)
    assert_cancelled_without_draining(store, log, 1)
