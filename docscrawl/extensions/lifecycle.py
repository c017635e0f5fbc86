"""The job lifecycle extension: keep the job's row in the store in step with the crawl process."""

from __future__ import annotations

import logging
import socket
from typing import Any

import psutil
from scrapy import Spider
from scrapy import signals as scrapy_signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from docscrawl import job_state, models
from docscrawl import signals as docscrawl_signals
from docscrawl.extensions.fast_cancel import queued_requests, started_engine
from docscrawl.reactor import installed_reactor as _reactor

logger = logging.getLogger(__name__)
# The stats keys under which the spider counts extraction failures, one per stage.
EXTRACTION_FAILURES = "docscrawl/extraction_failures/"


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
        models.open_crawl_store(self.location)
        self.job_id = int(spider.job_id)
        process = psutil.Process()
        change = job_state.start(
            self.job_id,
            pid=process.pid,
            process_started_at=process.create_time(),
            node=socket.gethostname(),
            scrapyd_job_id=getattr(spider, "_job", None),
        )
        if not change.applied:
            # Cancelled while it was still queued on Scrapyd: do not crawl at all.
            logger.info("Job %s is already %s; closing at once", self.job_id, change.before)
            self.closed = True
            _reactor().callLater(0, self._close_without_recording)
            return
        if change.after == models.CANCELLING:
            self.crawler.signals.send_catch_log(docscrawl_signals.stop_requested, origin="store")
        self._heartbeat = task.LoopingCall(self.heartbeat)
        self._heartbeat.start(self.interval, now=False)

    def _close_without_recording(self) -> None:
        engine = started_engine(self.crawler)
        if engine is not None and engine.spider is not None:
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(engine.close_spider_async(reason="cancelled"))

    def heartbeat(self) -> None:
        """Write the liveness timestamp and progress counters; pick up a cancel from the store."""
        if self.job_id is None or self.closed:
            return
        stats = self.crawler.stats
        change = job_state.heartbeat(
            self.job_id,
            queued=queued_requests(self.crawler),
            estimated_total=stats.get_value("docscrawl/estimated_total"),
            extraction_failures=extraction_failures(stats.get_stats()),
        )
        if change.after in (models.CANCELLING, models.CANCELLED) and not self.cancel_requested:
            self.crawler.signals.send_catch_log(docscrawl_signals.stop_requested, origin="store")

    def cancel_started(self, origin: str) -> None:
        self.cancel_requested = True
        if self.job_id is not None:
            job_state.request_cancel(self.job_id)

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
        change = job_state.finish(
            self.job_id,
            lambda job: job_state.crawl_outcome(reason, job, self.cancel_requested),
            alive=True,
            extraction_failures=extraction_failures(self.crawler.stats.get_stats()),
        )
        if change.applied:
            job = models.Job.get_by_id(self.job_id)
            logger.info("Job %s ended %s (%s)", self.job_id, job.status, job.finish_reason)
        else:
            # Someone already decided (cancel --force while this node was unreachable).
            logger.info("Job %s was already marked %s", self.job_id, change.before)


def extraction_failures(stats: dict[str, Any]) -> dict[str, int]:
    """The crawl's extraction failures by stage, from its stats (docscrawl.extraction)."""
    prefix = EXTRACTION_FAILURES
    return {key[len(prefix) :]: value for key, value in stats.items() if key.startswith(prefix)}
