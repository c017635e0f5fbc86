"""The pipeline that writes pages and crawl errors to the store in batches."""

from __future__ import annotations

import logging
import time
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from docscrawl import models
from docscrawl.items import CrawlErrorItem, PageItem

logger = logging.getLogger(__name__)

PAGE_FIELDS = [
    "url", "requested_url", "final_url", "canonical_url", "status_code", "title", "description",
    "language", "headings", "markdown", "text", "links", "word_count", "content_hash", "etag",
    "last_modified", "fetched_at", "depth",
]  # fmt: skip


class PageStorePipeline:
    """Buffer items and write them in one short transaction per batch.

    A batch is written when it reaches ``DOCSCRAWL_BATCH_SIZE`` items or when
    ``DOCSCRAWL_FLUSH_INTERVAL`` seconds have passed, so a killed crawl loses at most about a
    second of work. A page already stored for the client is updated in place.
    """

    def __init__(self, crawler: Crawler, location: str, batch_size: int, interval: float):
        self.crawler = crawler
        self.location = location
        self.batch_size = batch_size
        self.interval = interval
        self.pages: dict[str, dict[str, Any]] = {}
        self.errors: list[dict[str, Any]] = []
        self.job_id: int | None = None
        self.client_id: int | None = None
        self.last_flush = time.monotonic()
        self._timer: task.LoopingCall | None = None
        self.stored_pages = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageStorePipeline:
        location = crawler.settings.get("DOCSCRAWL_DB")
        if not location:
            raise NotConfigured("DOCSCRAWL_DB is not set")
        pipeline = cls(
            crawler,
            location,
            crawler.settings.getint("DOCSCRAWL_BATCH_SIZE"),
            crawler.settings.getfloat("DOCSCRAWL_FLUSH_INTERVAL"),
        )
        # A forced stop (second Ctrl+C) skips close_spider but still shuts the reactor down:
        # flush what is buffered then.
        _reactor().addSystemEventTrigger("before", "shutdown", pipeline.flush)
        crawler.signals.connect(pipeline.flush, signal=signals.spider_idle)
        return pipeline

    def open_spider(self) -> None:
        models.open_store(self.location)
        job = models.Job.get_by_id(int(self.crawler.spider.job_id))
        self.job_id = job.id
        self.client_id = job.client_id
        self._timer = task.LoopingCall(self._flush_if_due)
        self._timer.start(min(self.interval, 0.25), now=False)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        if isinstance(item, PageItem):
            self.pages[adapter["url"]] = {name: adapter.get(name) for name in PAGE_FIELDS}
        elif isinstance(item, CrawlErrorItem):
            self.errors.append(adapter.asdict())
        if len(self.pages) + len(self.errors) >= self.batch_size:
            self.flush()
        return item

    def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self.flush()

    def _flush_if_due(self) -> None:
        if time.monotonic() - self.last_flush >= self.interval:
            self.flush()

    def flush(self) -> None:
        """Write every buffered page and error, and bump the job's counters, in one transaction."""
        self.last_flush = time.monotonic()
        if self.job_id is None or not (self.pages or self.errors):
            return
        pages, errors = list(self.pages.values()), self.errors
        self.pages, self.errors = {}, []
        Page = models.Page
        with models.write_transaction():
            if pages:
                rows = [{**row, "client": self.client_id, "job": self.job_id} for row in pages]
                (
                    Page.insert_many(rows)
                    .on_conflict(
                        conflict_target=[Page.client, Page.url],
                        preserve=[getattr(Page, name) for name in PAGE_FIELDS] + [Page.job],
                    )
                    .execute()
                )
            if errors:
                models.CrawlError.insert_many(
                    [{**row, "job": self.job_id} for row in errors]
                ).execute()
            models.Job.update(
                pages=models.Job.pages + len(pages), errors=models.Job.errors + len(errors)
            ).where(models.Job.id == self.job_id).execute()
        self.stored_pages += len(pages)
        self.crawler.stats.set_value("docscrawl/stored_pages", self.stored_pages)
        logger.debug("Stored %d pages and %d errors", len(pages), len(errors))


def _reactor() -> Any:
    # Imported late: importing twisted.internet.reactor installs the default reactor, and
    # Scrapy must be the one to choose and install it.
    from twisted.internet import reactor

    return reactor
