"""The docs spider's sitemaps: read from robots.txt, bounded, and fed to the queue in batches."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.http import Response
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.python.failure import Failure

from docscrawl import models
from docscrawl.urls import UrlKeySet, normalize_url

# Sitemap URLs scheduled at a time (see SitemapsMixin._feed_sitemap_urls).
SITEMAP_FEED_BATCH = 200


class SitemapsMixin:
    """The sitemap half of DocsSpider (its scope, seen-sets, limits and ledger are the spider's).

    Sitemaps count against the crawl's limits, and their URLs are queued as the crawl's queue
    empties, so an endless chain of sitemap indexes ends and a sitemap of 200,000 URLs neither
    stalls the start of a crawl nor fills its memory.
    """

    crawler: Any
    scope: Any
    seen: UrlKeySet
    stored: UrlKeySet
    max_pages: int | None
    max_depth: int | None
    _sitemap_base: str
    # The spider's: a request for a new URL of the crawl or its ledger entry, and an entry.
    _follow: Any
    unstored: Any
    key: Any

    def init_sitemaps(self) -> None:
        # Sitemaps asked for, how many, and the URLs they listed that are not yet scheduled
        # (bounded by DOCSCRAWL_SITEMAP_MAX_URLS).
        self.sitemaps_seen = UrlKeySet()
        self.sitemap_files = 0
        self.sitemap_backlog: deque[str] = deque()
        self.sitemap_taken = 0
        self.max_sitemap_urls = 0
        self.feeder_pending = False

    def _robots_received(self, response: Response, request: scrapy.Request, spider: Any) -> None:
        if urlsplit(request.url).path != "/robots.txt" or not request.meta.get(
            "dont_obey_robotstxt"
        ):
            return
        self.crawler.signals.disconnect(self._robots_received, signal=signals.response_received)
        response.meta["sitemap_base"] = self._sitemap_base
        outputs = list(self.parse_robots(response))
        # Not a callback: requests go to the engine, ledger entries through a callback of a
        # data: request (items reach the pipelines only as a callback's output).
        entries = [output for output in outputs if not isinstance(output, scrapy.Request)]
        for output in outputs:
            if isinstance(output, scrapy.Request):
                self.crawler.engine.crawl(output)
        if entries:
            self.crawler.engine.crawl(
                scrapy.Request(
                    "data:,", callback=lambda _: iter(entries), priority=20, dont_filter=True
                )
            )

    def parse_robots(self, response: Response) -> Iterator[Any]:
        """The sitemaps robots.txt lists (or /sitemap.xml), as requests or ledger entries."""
        urls = list(sitemap_urls_from_robots(response.body, base_url=response.url))
        if not urls:
            urls = [f"{response.meta['sitemap_base']}/sitemap.xml"]
        for url in urls:
            output = self._sitemap_request(url, hops=1)
            if output is not None:
                yield output

    def sitemap_unavailable(self, failure: Failure) -> Iterator[scrapy.Request]:
        request = failure.request
        if "sitemap_base" in request.meta:  # no robots.txt: try the conventional location
            sitemap = self._sitemap_request(f"{request.meta['sitemap_base']}/sitemap.xml", hops=1)
            if sitemap is not None:
                yield sitemap

    def _sitemap_request(self, url: str, hops: int) -> Any:
        """A request for a sitemap ``hops`` sitemap links from robots.txt, or its ledger entry.

        Sitemaps count against the limits: an index nested deeper than the crawl's depth (or
        DOCSCRAWL_SITEMAP_MAX_DEPTH) is not read, nor more than DOCSCRAWL_SITEMAP_MAX_FILES
        sitemaps (or --max-pages of them), so an endless chain of indexes ends.
        """
        key = normalize_url(url)
        if key in self.sitemaps_seen:
            return None
        self.sitemaps_seen.add(key)
        settings = self.crawler.settings
        if urlsplit(key).netloc != self.scope.netloc:
            return self.unstored(
                url, models.OUT_OF_SCOPE, f"a sitemap on another origin than {self.scope}"
            )
        max_hops = settings.getint("DOCSCRAWL_SITEMAP_MAX_DEPTH")
        if self.max_depth is not None:
            max_hops = min(max_hops, self.max_depth) if max_hops else self.max_depth
        if max_hops and hops > max_hops:
            return self.unstored(
                url, models.LIMIT, f"a sitemap nested {hops} deep, deeper than {max_hops}"
            )
        max_files = settings.getint("DOCSCRAWL_SITEMAP_MAX_FILES")
        if self.max_pages is not None:
            max_files = min(max_files, self.max_pages) if max_files else self.max_pages
        if max_files and self.sitemap_files >= max_files:
            return self.unstored(url, models.LIMIT, f"more than {max_files} sitemaps")
        self.sitemap_files += 1
        return scrapy.Request(
            url,
            callback=self.parse_sitemap,
            errback=self.ignore,
            priority=10,
            meta={"sitemap_hops": hops},
            dont_filter=True,
        )

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
            except OSError:
                return
        try:
            sitemap = Sitemap(body)
        except Exception:  # noqa: BLE001 - not XML at all: a soft 404 page, for instance
            return
        hops = response.meta.get("sitemap_hops", 1)
        if sitemap.type == "sitemapindex":
            for entry in sitemap:
                request = self._sitemap_request(entry["loc"], hops + 1)
                if request is not None:
                    yield request
        elif sitemap.type == "urlset":
            # Only queue the raw locations here: a sitemap of 200,000 URLs must not hold the
            # reactor while each is normalised and scheduled. The feeder takes them in batches.
            room = self.max_sitemap_urls - self.sitemap_taken if self.max_sitemap_urls else None
            locations = [entry["loc"] for entry in sitemap]
            if room is not None and len(locations) > room:
                yield self.unstored(
                    response.url,
                    models.LIMIT,
                    f"{len(locations) - room} of its {len(locations)} URLs not taken: the crawl "
                    f"takes at most {self.max_sitemap_urls} sitemap URLs "
                    "(DOCSCRAWL_SITEMAP_MAX_URLS)",
                    count=len(locations) - room,
                )
                locations = locations[:room]
            self.sitemap_taken += len(locations)
            self.sitemap_backlog.extend(locations)
            self.crawler.stats.set_value("docscrawl/estimated_total", self.sitemap_taken)
            yield from self._feed_sitemap_urls()

    def _feed_sitemap_urls(self) -> Iterator[Any]:
        """Schedule a batch of sitemap URLs, then a feeder request for the next batch.

        The feeder is a ``data:`` request with the lowest priority: it is downloaded (at once,
        from memory) only when no page request is waiting, so sitemap URLs fill the queue as it
        empties and never crowd out the links of pages.
        """
        if self.feeder_pending:
            return
        depth_allowed = self.max_depth is None or self.max_depth >= 1
        batch = 0
        while self.sitemap_backlog and batch < SITEMAP_FEED_BATCH:
            if self.max_pages is not None and len(self.stored) >= self.max_pages:
                self.sitemap_backlog.clear()
                return
            url = self.sitemap_backlog.popleft()
            key = self.key(url)
            if key in self.seen:
                # Nothing, unless a chain of numbered pages reached it first and it was refused
                # as a trap: a sitemap lists it, so it is a page after all (_follow says).
                yield from self._follow(url, key, 1)
                continue
            if not depth_allowed:
                self.seen.add(key)
                yield self.unstored(url, models.DEPTH, "a sitemap URL, and --max-depth is 0")
                continue
            batch += 1
            yield from self._follow(url, key, 1)
        if self.sitemap_backlog:
            self.feeder_pending = True
            yield scrapy.Request(
                "data:,",
                callback=self._feeder_downloaded,
                priority=-1000,
                dont_filter=True,
            )

    def _feeder_downloaded(self, response: Response) -> Iterator[Any]:
        self.feeder_pending = False
        yield from self._feed_sitemap_urls()
