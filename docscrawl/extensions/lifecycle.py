"""The job lifecycle extension: keep the job's row in the store in step with the crawl process."""

from __future__ import annotations

import logging
import socket
from urllib.parse import urlsplit

import peewee
import psutil
from scrapy import Spider
from scrapy import signals as scrapy_signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from docscrawl import models
from docscrawl import signals as docscrawl_signals
from docscrawl.extensions.fast_cancel import queued_requests
from docscrawl.reactor import installed_reactor as _reactor
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
