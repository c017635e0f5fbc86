"""Scrapy extensions: the job lifecycle in the store, fast cancel, and live progress."""

from __future__ import annotations

import logging
import signal
import socket
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import peewee
import psutil
from scrapy import Request, Spider
from scrapy import signals as scrapy_signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task
from twisted.python.failure import Failure

from docscrawl import models
from docscrawl import signals as docscrawl_signals
from docscrawl.exceptions import CancelledBeforeDownload
from docscrawl.progress import estimate_total, format_duration
from docscrawl.urls import CrawlScope

logger = logging.getLogger(__name__)

# Close reasons that mean "the crawl did what it was asked to do".
COMPLETED_REASONS = {
    "finished",
    "max_pages",
    "closespider_pagecount",
    "closespider_itemcount",
    "closespider_timeout",
    "closespider_timeout_no_item",
}
NOTHING_STORED = "no page was stored"
# Close reasons that mean "someone stopped it".
CANCELLED_REASONS = {"shutdown", "cancelled"}


def job_outcome(reason: str, cancel_requested: bool, pages: int, errors: int) -> tuple[str, str]:
    """Map a Scrapy close reason to the job's final status and the reason to record."""
    if cancel_requested or reason in CANCELLED_REASONS:
        return models.CANCELLED, reason if reason in CANCELLED_REASONS else "shutdown"
    if reason in COMPLETED_REASONS:
        if pages == 0:
            return models.FAILED, NOTHING_STORED
        return models.COMPLETED, reason
    return models.FAILED, reason


class JobLifecycle:
    """Keep the job's row in the store in step with the crawl process.

    Marks the job ``running`` (pid, start time, node) when the spider opens, writes a heartbeat
    with the counters every ``DOCSCRAWL_HEARTBEAT_INTERVAL`` seconds, and records the outcome
    from the close reason. A forced stop skips ``spider_closed``; a reactor shutdown trigger
    records the outcome then.
    """

    def __init__(self, crawler: Crawler, location: str, interval: float):
        self.crawler = crawler
        self.location = location
        self.interval = interval
        self.job_id: int | None = None
        self.closed = False
        self.cancel_requested = False
        self._heartbeat: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobLifecycle:
        location = crawler.settings.get("DOCSCRAWL_DB")
        if not location:
            raise NotConfigured("DOCSCRAWL_DB is not set")
        ext = cls(crawler, location, crawler.settings.getfloat("DOCSCRAWL_HEARTBEAT_INTERVAL"))
        crawler.signals.connect(ext.spider_opened, signal=scrapy_signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=scrapy_signals.spider_closed)
        crawler.signals.connect(ext.cancel_started, signal=docscrawl_signals.cancel_started)
        # "during": after the pipeline's "before shutdown" flush, so the counts are final.
        _reactor().addSystemEventTrigger("during", "shutdown", ext.reactor_shutdown)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        models.open_store(self.location)
        self.job_id = int(spider.job_id)
        process = psutil.Process()
        with models.write_transaction():
            job = models.Job.get_by_id(self.job_id)
            if job.status in models.FINISHED_STATUSES:
                # Cancelled while it was still queued on Scrapyd: do not crawl at all.
                logger.info("Job %s is already %s; closing at once", job.id, job.status)
                self.closed = True
                _reactor().callLater(0, self._close_without_recording)
                return
            job.status = models.CANCELLING if job.status == models.CANCELLING else models.RUNNING
            job.pid = process.pid
            job.process_started_at = process.create_time()
            job.started_at = job.started_at or models.utcnow()
            job.heartbeat_at = models.utcnow()
            job.node = job.node or socket.gethostname()
            job.scrapyd_job_id = getattr(spider, "_job", None) or job.scrapyd_job_id
            job.save()
        if job.status == models.CANCELLING:
            self.crawler.signals.send_catch_log(docscrawl_signals.stop_requested, origin="store")
        self._heartbeat = task.LoopingCall(self.heartbeat)
        self._heartbeat.start(self.interval, now=False)

    def _close_without_recording(self) -> None:
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(engine.close_spider_async(reason="cancelled"))

    def heartbeat(self) -> None:
        """Write the liveness timestamp and progress counters; pick up a cancel from the store."""
        if self.job_id is None or self.closed:
            return
        stats = self.crawler.stats
        queued = queued_requests(self.crawler)
        Job = models.Job
        with models.write_transaction():
            Job.update(
                heartbeat_at=models.utcnow(),
                queued=queued,
                estimated_total=stats.get_value("docscrawl/estimated_total"),
            ).where(Job.id == self.job_id).execute()
            status = Job.select(Job.status).where(Job.id == self.job_id).scalar()
        if status in (models.CANCELLING, models.CANCELLED) and not self.cancel_requested:
            self.crawler.signals.send_catch_log(docscrawl_signals.stop_requested, origin="store")

    def cancel_started(self, origin: str) -> None:
        self.cancel_requested = True
        if self.job_id is None:
            return
        Job = models.Job
        with models.write_transaction():
            Job.update(
                status=models.CANCELLING,
                cancel_requested_at=peewee.fn.COALESCE(Job.cancel_requested_at, models.utcnow()),
            ).where((Job.id == self.job_id) & (Job.status << models.ACTIVE_STATUSES)).execute()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.closed or self.job_id is None:
            return
        self._finish(reason)

    def reactor_shutdown(self) -> None:
        """A forced stop: spider_closed never ran, so record the outcome now."""
        if self.closed or self.job_id is None:
            return
        self._finish("shutdown" if self.cancel_requested else "forced shutdown")

    def _finish(self, reason: str) -> None:
        self.closed = True
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        Job = models.Job
        with models.write_transaction():
            job = Job.get_by_id(self.job_id)
            if job.status in models.FINISHED_STATUSES:
                # Someone already decided (cancel --force while this node was unreachable).
                logger.info("Job %s was already marked %s", job.id, job.status)
                return
            cancel_requested = self.cancel_requested or job.cancel_requested_at is not None
            status, recorded = job_outcome(reason, cancel_requested, job.pages, job.errors)
            if recorded == NOTHING_STORED:
                recorded = _why_nothing_stored(job)
            Job.update(
                status=status,
                finish_reason=recorded,
                finished_at=models.utcnow(),
                heartbeat_at=models.utcnow(),
                queued=0,
            ).where(Job.id == self.job_id).execute()
            if status == models.COMPLETED:
                # Nothing is left to resume from.
                models.FrontierRequest.delete().where(
                    models.FrontierRequest.job == self.job_id
                ).execute()
            if status == models.COMPLETED and recorded == "finished":
                # Only a crawl that ran to its end can say a page is no longer there.
                scope = CrawlScope(job.url)
                prefix = f"{urlsplit(job.url).scheme}://{scope.netloc}{scope.prefix}"
                models.record_removed_pages(job.id, job.client_id, prefix)
        logger.info("Job %s ended %s (%s)", self.job_id, status, recorded)


def _why_nothing_stored(job: models.Job) -> str:
    """The finish reason of a job that stored no page: its ledger's first entry, and counts."""
    Ledger = models.CrawlError
    first = job.crawl_errors.order_by(Ledger.id).first()
    if first is None:
        return f"{NOTHING_STORED}: the start URL gave no page and no link"
    counts = ", ".join(f"{count} {kind}" for kind, count in (job.skipped or {}).items())
    return f"{NOTHING_STORED}: {first.url} {first.kind} ({first.reason}); not stored: {counts}"


def queued_requests(crawler: Crawler) -> int:
    """Requests waiting in the scheduler plus those held by the downloader."""
    engine = crawler.engine
    if engine is None:
        return 0
    slot = getattr(engine, "_slot", None)
    scheduled = (
        len(slot.scheduler) if slot is not None and hasattr(slot.scheduler, "__len__") else 0
    )
    return scheduled + len(engine.downloader.active)


class FastCancel:
    """Stop a cancelled crawl at once instead of draining every queued download.

    Scrapy's graceful stop (first SIGINT/SIGTERM) waits for every request already queued in the
    downloader's slots; with a download delay that can take minutes. On a cancel this extension
    drops the queued downloads without fetching them, empties the scheduler, keeps all of those
    page requests with the job (the ``frontier_request`` table) so nothing queued is silently
    lost, lets the spider close (the pipeline flushes, the job is recorded ``cancelled``), and
    abandons in-flight downloads after ``DOCSCRAWL_CANCEL_INFLIGHT_TIMEOUT`` seconds.
    """

    def __init__(self, crawler: Crawler, inflight_timeout: float, drain_budget: float = 0.2):
        self.crawler = crawler
        self.inflight_timeout = inflight_timeout
        self.drain_budget = drain_budget
        self.cancelling = False
        self.spider_open = False
        self._previous_handlers: dict[int, Any] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FastCancel:
        ext = cls(
            crawler,
            crawler.settings.getfloat("DOCSCRAWL_CANCEL_INFLIGHT_TIMEOUT"),
            crawler.settings.getfloat("DOCSCRAWL_CANCEL_DRAIN_BUDGET"),
        )
        crawler.signals.connect(ext.stop_requested, signal=docscrawl_signals.stop_requested)
        crawler.signals.connect(ext.spider_opened, signal=scrapy_signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=scrapy_signals.spider_closed)
        # Scrapy installs its own shutdown handlers in a reactor "after startup" trigger; wrap
        # them once they are in place.
        _reactor().callWhenRunning(lambda: _reactor().callLater(0, ext.install_signal_handlers))
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self.spider_open = True

    def spider_closed(self, spider: Spider) -> None:
        self.spider_open = False

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(signum)
            if previous in (signal.SIG_DFL, signal.SIG_IGN, None, signal.default_int_handler):
                continue  # not under Scrapy's shutdown handling (e.g. an embedded crawler)
            self._previous_handlers[signum] = previous
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        # Runs in a signal handler: only schedule work, and let Scrapy's handler do its part
        # (start the graceful stop, and arm the "second signal forces" handler). Ours is
        # queued first, so the queues are emptied before the graceful stop starts waiting.
        _reactor().callFromThread(self.cancel, "signal")
        previous = self._previous_handlers.get(signum)
        if callable(previous):
            previous(signum, frame)

    def stop_requested(self, origin: str) -> None:
        if self.cancel(origin):
            crawler_stop = self.crawler.stop()
            crawler_stop.addErrback(lambda f: logger.error("Stopping failed: %s", f.value))

    def cancel(self, origin: str) -> bool:
        """Begin a fast cancel; False if one is already under way."""
        if self.cancelling or not self.spider_open:
            return False
        self.cancelling = True
        logger.info("Cancel requested (%s): dropping queued requests", origin)
        self.crawler.signals.send_catch_log(docscrawl_signals.cancel_started, origin=origin)
        dropped = self.drop_queued_downloads() + self.drain_scheduler()
        self.save_frontier(dropped, "queued")
        self.crawler.stats.set_value("docscrawl/cancel_dropped_requests", len(dropped))
        _reactor().callLater(self.inflight_timeout, self._abandon_if_still_open)
        return True

    def drop_queued_downloads(self) -> list[Request]:
        """Fail every request waiting in a downloader slot, without fetching it."""
        engine = self.crawler.engine
        if engine is None:
            return []
        dropped = []
        for slot in list(engine.downloader.slots.values()):
            if slot.latercall is not None:
                slot.latercall.cancel()
                slot.latercall = None
            while slot.queue:
                request, queued = slot.queue.popleft()
                dropped.append(request)
                queued.errback(Failure(CancelledBeforeDownload(request.url)))
        return dropped

    def drain_scheduler(self) -> list[Request]:
        """Take the requests still waiting in the scheduler, within a small time budget.

        Whatever the budget leaves behind is not lost: every queued page request is a link of a
        stored page or a sitemap entry, and a resume rebuilds those from the store.
        """
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None) if engine is not None else None
        if slot is None:
            return []
        deadline = time.monotonic() + self.drain_budget
        drained = []
        while time.monotonic() < deadline:
            request = slot.scheduler.next_request()
            if request is None:
                break
            drained.append(request)
        return drained

    def save_frontier(self, requests: list[Request], state: str) -> None:
        """Keep the page requests that were not fetched with the job, for a later resume."""
        spider = self.crawler.spider
        job_id = getattr(spider, "job_id", None)
        rows = [
            {"job": job_id, "url": r.url, "depth": r.meta["page_depth"], "state": state}
            for r in requests
            if "page_depth" in r.meta
        ]
        if job_id is None or not rows or models.database.obj is None:
            return
        try:
            with models.write_transaction():
                for start in range(0, len(rows), 500):
                    models.FrontierRequest.insert_many(rows[start : start + 500]).on_conflict(
                        conflict_target=[models.FrontierRequest.job, models.FrontierRequest.url],
                        preserve=[models.FrontierRequest.state, models.FrontierRequest.depth],
                    ).execute()
        except peewee.PeeweeException:
            logger.exception("Could not save %d unfetched requests of job %s", len(rows), job_id)
            return
        self.crawler.stats.inc_value("docscrawl/frontier_saved", len(rows))

    def _abandon_if_still_open(self) -> None:
        if not self.spider_open:
            return
        engine = self.crawler.engine
        in_flight = list(engine.downloader.active) if engine is not None else []
        logger.warning(
            "%d in-flight downloads still running %.1fs after the cancel; abandoning them",
            len(in_flight),
            self.inflight_timeout,
        )
        self.save_frontier(in_flight, "in_flight")
        # The pipeline and the job lifecycle flush and record the outcome in reactor shutdown
        # triggers, so stopping the reactor here loses nothing already scraped.
        if _reactor().running:
            _reactor().stop()


class ProgressReporter:
    """Print live crawl progress to stderr (foreground crawls): pages, rate, errors, ETA."""

    def __init__(self, crawler: Crawler, interval: float, max_pages: int | None = None):
        self.crawler = crawler
        self.interval = interval
        self.started = time.monotonic()
        self.stream = sys.stderr
        self.tty = self.stream.isatty()
        self._loop: task.LoopingCall | None = None
        self.max_pages = max_pages

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressReporter:
        if not crawler.settings.getbool("DOCSCRAWL_PROGRESS"):
            raise NotConfigured
        ext = cls(crawler, crawler.settings.getfloat("DOCSCRAWL_PROGRESS_INTERVAL"))
        crawler.signals.connect(ext.spider_opened, signal=scrapy_signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=scrapy_signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self.started = time.monotonic()
        self.max_pages = getattr(spider, "max_pages", None)
        self._loop = task.LoopingCall(self.report)
        self._loop.start(self.interval, now=False)

    def spider_closed(self, spider: Spider) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self.report(final=True)

    def report(self, final: bool = False) -> None:
        self.stream.write(("\r\x1b[K" if self.tty else "") + self.line())
        if final or not self.tty:
            self.stream.write("\n")
        self.stream.flush()

    def line(self) -> str:
        stats = self.crawler.stats
        pages = stats.get_value("docscrawl/pages", 0)
        errors = stats.get_value("docscrawl/errors", 0)
        queued = queued_requests(self.crawler)
        elapsed = time.monotonic() - self.started
        rate = pages / elapsed if elapsed > 0 else 0.0
        total = estimate_total(
            pages, queued, stats.get_value("docscrawl/estimated_total"), self.max_pages
        )
        eta = format_duration((total - pages) / rate) if total and rate > 0 else "?"
        return (
            f"pages {pages}  {rate:.1f}/s  errors {errors}  queued {queued}  "
            f"elapsed {format_duration(elapsed)}  ETA {eta}"
        )


def _reactor() -> Any:
    # Imported late: importing twisted.internet.reactor installs the default reactor, and
    # Scrapy must be the one to choose and install it.
    from twisted.internet import reactor

    return reactor
