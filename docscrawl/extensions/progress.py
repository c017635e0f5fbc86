"""Live progress of a foreground crawl on stderr: pages, rate, errors, queued, ETA."""

from __future__ import annotations

import sys
import time

from scrapy import Spider
from scrapy import signals as scrapy_signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from docscrawl.extensions.fast_cancel import queued_requests
from docscrawl.progress import estimate_total, format_duration


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
