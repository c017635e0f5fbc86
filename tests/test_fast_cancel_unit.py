"""FastCancel against a real Scrapy engine: the guard for the engine internals it uses.

Each test serves the sample site slowly on loopback and runs one crawl in-process, the way
Scrapy tests its own extensions (``get_crawler(SpiderCls, settings)``, ``crawler.crawl()``), with
every page requested at once so that requests really wait in the downloader's slot and in the
scheduler. Twisted's reactor cannot be restarted, so each crawl runs in a fresh interpreter
(this file run as a script) that prints a JSON report; the tests assert on the report, the
server's access log and the store. When a Scrapy upgrade renames or changes the internals listed
at the top of docscrawl/extensions/fast_cancel.py, these fail within seconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from support import PROJECT_ROOT, wait_for

import sample_site
from sample_site.testing import serve

PAGE_COUNT = 30
# A crawl still running this long after it started has gone wrong: end it, and say so.
WATCHDOG_SECONDS = 15
# One request at a time per site, eight in the downloader: seven wait in the slot's queue, the
# rest in the scheduler (on disk, as in a real crawl: a JOBDIR).
SETTINGS = {
    "CONCURRENT_REQUESTS": 8,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
    "DOWNLOAD_DELAY_JITTER": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "ROBOTSTXT_OBEY": False,
    "EXTENSIONS": {"docscrawl.extensions.FastCancel": 110},
    "LOG_LEVEL": "WARNING",
}


# --- the crawl, run in a fresh interpreter -------------------------------------------------------


def crawl_and_cancel(args: dict[str, Any]) -> dict[str, Any]:
    """Crawl args["urls"], send stop_requested as args["cancel_on"] says, report what happened."""
    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from scrapy import Request, Spider, signals
    from scrapy.utils.test import get_crawler
    from twisted.internet import reactor
    from twisted.python.failure import Failure

    from docscrawl import models
    from docscrawl import settings as project_settings
    from docscrawl import signals as docscrawl_signals
    from docscrawl.exceptions import CancelledBeforeDownload
    from docscrawl.extensions.fast_cancel import FastCancel, queued_requests

    class QueueSpider(Spider):
        """Requests every page at once and records what comes back."""

        name = "queue"

        def __init__(self, urls: list[str], job_id: int, **kwargs: Any):
            super().__init__(**kwargs)
            self.urls = urls
            self.job_id = job_id
            self.received: list[str] = []
            self.cancelled: list[str] = []

        async def start(self):
            for url in self.urls:
                yield Request(url, errback=self.failed, meta={"page_depth": 1})

        def parse(self, response):
            self.received.append(response.url)

        def failed(self, failure):
            if failure.check(CancelledBeforeDownload):
                self.cancelled.append(failure.request.url)

    models.open_store(args["store"])
    job = models.Job.create(client=models.get_or_create_client("Unit"), url=args["urls"][0])
    crawler = get_crawler(
        QueueSpider,
        {
            **SETTINGS,
            **args["settings"],
            "JOBDIR": args["jobdir"],
            "DOCSCRAWL_CANCEL_INFLIGHT_TIMEOUT": project_settings.DOCSCRAWL_CANCEL_INFLIGHT_TIMEOUT,
            "DOCSCRAWL_CANCEL_DRAIN_BUDGET": project_settings.DOCSCRAWL_CANCEL_DRAIN_BUDGET,
        },
    )
    report: dict[str, Any] = {"frontier_calls": [], "errors": []}
    ext = crawler.get_extension(FastCancel)
    save_frontier = ext.save_frontier

    def recording_save_frontier(requests: list[Request], state: str) -> None:
        report["frontier_calls"].append({"state": state, "urls": [r.url for r in requests]})
        save_frontier(requests, state)

    ext.save_frontier = recording_save_frontier

    def snapshot() -> dict[str, Any]:
        engine = crawler.engine
        slots = list(engine.downloader.slots.values())
        return {
            "scheduled": len(engine.scheduler),
            "slot_queue": sum(len(slot.queue) for slot in slots),
            "delay_pending": any(slot.latercall is not None for slot in slots),
            "in_downloader": len(engine.downloader.active),
            "queued_requests": queued_requests(crawler),
        }

    def stop(error: str | None = None) -> None:
        if error:
            report["errors"].append(error)
        if reactor.running:
            reactor.stop()

    def cancel() -> None:
        try:
            report["before"] = snapshot()
            report["cancelled_at"] = time.monotonic()
            results = crawler.signals.send_catch_log(
                docscrawl_signals.stop_requested, origin="test"
            )
            report["errors"] += [r.getTraceback() for _, r in results if isinstance(r, Failure)]
            report["after"] = snapshot()
        except Exception:  # noqa: BLE001 - an internal this test reads is gone: report it
            report["errors"].append(traceback.format_exc())
        if report["errors"]:
            stop()  # fail at once rather than crawl on

    def on_response(response, request, spider) -> None:
        if args["cancel_on"] == "first_response" and "before" not in report:
            reactor.callLater(0, cancel)

    def on_opened(spider) -> None:
        if args["cancel_on"] == "in_flight":
            reactor.callLater(0.5, cancel)

    def on_closed(spider, reason: str) -> None:
        report["closed"] = {"reason": reason, "at": time.monotonic()}

    crawler.signals.connect(on_response, signal=signals.response_received)
    crawler.signals.connect(on_opened, signal=signals.spider_opened)
    crawler.signals.connect(on_closed, signal=signals.spider_closed)

    def finished(result: Any) -> None:
        stop(result.getTraceback() if isinstance(result, Failure) else None)

    crawler.crawl(urls=args["urls"], job_id=job.id).addBoth(finished)
    reactor.callLater(WATCHDOG_SECONDS, stop, f"still running after {WATCHDOG_SECONDS} s")
    reactor.run()
    report["stopped_at"] = time.monotonic()
    report["job_id"] = job.id
    report["received"] = crawler.spider.received
    report["cancelled"] = crawler.spider.cancelled
    report["stats"] = crawler.stats.get_stats()
    return report


# --- the tests -----------------------------------------------------------------------------------


def run_crawl(tmp_path: Path, delay: float, cancel_on: str, settings: dict) -> tuple[dict, Path]:
    """Serve the sample site answering after delay seconds, crawl and cancel it in a fresh
    interpreter; return its report and the server's access log."""
    paths = sorted(sample_site.expected_pages("/") - sample_site.UNDELAYED_PATHS)[:PAGE_COUNT]
    log = tmp_path / "access.log"
    with serve(delay=delay, access_log=log) as site:
        args = {
            "urls": [site.rstrip("/") + path for path in paths],
            "store": str(tmp_path / "store.db"),
            "jobdir": str(tmp_path / "jobdir"),
            "cancel_on": cancel_on,
            "settings": settings,
        }
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
        proc = subprocess.run(
            [sys.executable, __file__, json.dumps(args)],
            capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout.splitlines()[-1])
        report["stderr"] = proc.stderr
        in_flight = [u for c in report["frontier_calls"] if c["state"] == "in_flight"
                     for u in c["urls"]]  # fmt: skip
        # The server answers (and logs) an abandoned download once its delay is over.
        with contextlib.suppress(AssertionError):
            wait_for(lambda: set(map(url_path, in_flight)) <= fetched(log), timeout=delay + 2)
    assert not report["errors"], "\n".join(report["errors"]) + report["stderr"]
    return report, log


def url_path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def fetched(log: Path) -> set[str]:
    """The paths the server answered."""
    return {line.split()[1] for line in log.read_text().splitlines()}


def frontier(tmp_path: Path, job_id: int) -> dict[str, tuple[str, int]]:
    """The job's kept requests in the store: url -> (state, depth)."""
    with sqlite3.connect(tmp_path / "store.db") as conn:
        rows = conn.execute(
            "SELECT url, state, depth FROM frontier_request WHERE job_id = ?", (job_id,)
        ).fetchall()
    return {url: (state, depth) for url, state, depth in rows}


def saved(report: dict, state: str) -> list[str]:
    return [url for call in report["frontier_calls"] if call["state"] == state
            for url in call["urls"]]  # fmt: skip


def test_cancel_drops_the_queued_downloads_and_drains_the_scheduler(tmp_path: Path) -> None:
    # DOWNLOAD_DELAY longer than the server takes: at the first response the slot waits on its
    # delay call with seven requests queued behind it, nothing in flight.
    report, log = run_crawl(tmp_path, 0.1, "first_response", {"DOWNLOAD_DELAY": 1.0})
    before, after = report["before"], report["after"]
    assert before["delay_pending"] and before["slot_queue"] >= 5 and before["scheduled"] >= 10
    assert before["queued_requests"] == before["scheduled"] + before["in_downloader"]

    # Dropped from the slot (each failed with CancelledBeforeDownload), the delay call cancelled,
    # the scheduler empty.
    assert after["slot_queue"] == 0 and not after["delay_pending"]
    assert after["scheduled"] == 0
    assert len(report["cancelled"]) == before["slot_queue"]

    # Never fetched: the server answered only what the spider received.
    assert fetched(log) == set(map(url_path, report["received"])) and len(report["received"]) < 3
    not_fetched = PAGE_COUNT - len(report["received"])

    # Every dropped page request went to save_frontier, and from there into the store.
    queued = saved(report, "queued")
    assert len(queued) == len(set(queued)) == not_fetched
    assert set(report["cancelled"]) <= set(queued)
    assert frontier(tmp_path, report["job_id"]) == {url: ("queued", 1) for url in queued}
    assert report["stats"]["docscrawl/cancel_dropped_requests"] == not_fetched
    assert report["stats"]["docscrawl/frontier_saved"] == not_fetched

    # Closed at once, not after seven more delays.
    assert report["closed"]["reason"] == "shutdown"
    assert report["closed"]["at"] - report["cancelled_at"] < 2.0


def test_cancel_abandons_the_download_in_flight(tmp_path: Path) -> None:
    # A server slower than DOCSCRAWL_CANCEL_INFLIGHT_TIMEOUT: one request in flight at the
    # cancel, seven queued in the slot, the rest in the scheduler.
    report, log = run_crawl(tmp_path, 2.0, "in_flight", {"DOWNLOAD_DELAY": 0})
    before = report["before"]
    assert before["in_downloader"] == 8 and before["slot_queue"] == 7 and before["scheduled"] > 0
    assert report["after"]["slot_queue"] == 0 and report["after"]["scheduled"] == 0
    assert len(report["cancelled"]) == 7

    in_flight = saved(report, "in_flight")
    queued = saved(report, "queued")
    assert len(in_flight) == 1 and len(queued) == PAGE_COUNT - 1
    assert frontier(tmp_path, report["job_id"]) == {
        **{url: ("queued", 1) for url in queued},
        **{url: ("in_flight", 1) for url in in_flight},
    }
    # The server only ever got the request in flight.
    assert fetched(log) == set(map(url_path, in_flight))
    assert not report["received"]
    # The reactor was stopped once the in-flight timeout had passed, without waiting for it.
    assert report["stopped_at"] - report["cancelled_at"] < 1.5


if __name__ == "__main__":
    print(json.dumps(crawl_and_cancel(json.loads(sys.argv[1])), default=str))
