"""Fast cancel: stop a cancelled crawl at once instead of draining every queued download.

Scrapy internals used here, and only here (safe because scrapy==2.19.0 is pinned exactly;
tests/test_fast_cancel_unit.py runs a real crawl in-process against them and fails at once when
an upgrade renames or changes one):

- ``engine.downloader.slots`` (``drop_queued_downloads``): the downloader's slots by key.
  Semi-public: Scrapy's own AutoThrottle reads it.
- ``Slot.queue`` (``drop_queued_downloads``): the ``(request, deferred)`` pairs a slot accepted
  but has not started; each is popped and its deferred errbacked with
  ``CancelledBeforeDownload``, which is what the downloader awaits for that request.
- ``Slot.latercall`` (``drop_queued_downloads``): the pending ``DOWNLOAD_DELAY`` call that would
  start the slot's next download; cancelled and cleared so that the emptied slot stays quiet.
- ``Downloader.active`` (``queued_requests``, ``_abandon_if_still_open``): every request in the
  downloader, queued or transferring; what is left of it after the drop is in flight.

Why no public API: Scrapy 2.19 cannot take back a request once the downloader holds it. A
graceful stop (``crawler.stop()``, ``engine.close_spider_async()``) waits for every queued
download, with its delay; no call removes or fails a queued request, and nothing counts the
downloader's requests (``scrapy.utils.engine.get_engine_status`` reads ``downloader.active``
too). The scheduler has public API and is used through it: ``engine.scheduler`` (new in 2.19),
``next_request()`` of the scheduler interface, ``len()`` of Scrapy's default ``Scheduler``.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

import peewee
from scrapy import Request, Spider
from scrapy import signals as scrapy_signals
from scrapy.core.engine import ExecutionEngine
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from docscrawl import models
from docscrawl import signals as docscrawl_signals
from docscrawl.exceptions import CancelledBeforeDownload
from docscrawl.reactor import installed_reactor as _reactor

logger = logging.getLogger(__name__)


def started_engine(crawler: Crawler) -> ExecutionEngine | None:
    """The crawl's engine, or None before the crawl starts.

    ``Crawler.engine`` raises RuntimeError until then; Scrapy documents reading the underscored
    attribute from code that may run earlier (a heartbeat, a signal from the store).
    """
    return crawler._engine


def queued_requests(crawler: Crawler) -> int:
    """Requests waiting in the scheduler plus those held by the downloader."""
    engine = started_engine(crawler)
    if engine is None:
        return 0
    scheduler = engine.scheduler
    scheduled = len(scheduler) if scheduler is not None and hasattr(scheduler, "__len__") else 0
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
            crawler_stop = deferred_from_coro(self.crawler.stop_async())
            crawler_stop.addErrback(lambda f: logger.error("Stopping failed: %s", f.value))

    def cancel(self, origin: str) -> bool:
        """Begin a fast cancel; False if one is already under way."""
        if self.cancelling or not self.spider_open:
            return False
        self.cancelling = True
        logger.info("Cancel requested (%s): dropping queued requests", origin)
        # A receiver may return the requests it abandons (the spider: the pages its extraction
        # pool had); they are kept with the job's frontier like the in-flight downloads.
        answers = self.crawler.signals.send_catch_log(
            docscrawl_signals.cancel_started, origin=origin
        )
        abandoned = [r for _, answer in answers if isinstance(answer, list) for r in answer]
        dropped = self.drop_queued_downloads() + self.drain_scheduler()
        self.save_frontier(dropped, "queued")
        self.save_frontier(abandoned, "in_flight")
        self.crawler.stats.set_value("docscrawl/cancel_dropped_requests", len(dropped))
        _reactor().callLater(self.inflight_timeout, self._abandon_if_still_open)
        return True

    def drop_queued_downloads(self) -> list[Request]:
        """Fail every request waiting in a downloader slot, without fetching it."""
        engine = started_engine(self.crawler)
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
        engine = started_engine(self.crawler)
        scheduler = engine.scheduler if engine is not None else None
        if scheduler is None:
            return []
        deadline = time.monotonic() + self.drain_budget
        drained = []
        while time.monotonic() < deadline:
            request = scheduler.next_request()
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
        engine = started_engine(self.crawler)
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
