"""Downloader middlewares: conditional requests on re-crawls, and the scope of redirects."""

from __future__ import annotations

import logging

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from docscrawl import models
from docscrawl.ledger import UrlRefused
from docscrawl.urls import normalize_url

logger = logging.getLogger(__name__)


class ConditionalRequestsMiddleware:
    """Ask the server whether a page changed since the client's last crawl of it.

    At spider open it loads the ETag and Last-Modified the store holds for the client's pages;
    page requests for those URLs carry If-None-Match / If-Modified-Since, and a 304 reaches the
    spider (which records the page as unchanged and keeps the stored content).
    """

    def __init__(self, crawler: Crawler, location: str):
        self.crawler = crawler
        self.location = location
        self.validators: dict[str, tuple[str | None, str | None]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestsMiddleware:
        location = crawler.settings.get("DOCSCRAWL_DB")
        if not location or not crawler.settings.getbool("DOCSCRAWL_CONDITIONAL_REQUESTS"):
            raise NotConfigured
        middleware = cls(crawler, location)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider: Spider) -> None:
        models.open_crawl_store(self.location)
        job = models.Job.get_by_id(int(spider.job_id))
        Page = models.Page
        query = Page.select(Page.url, Page.etag, Page.last_modified).where(
            (Page.client == job.client_id)
            & (Page.etag.is_null(False) | Page.last_modified.is_null(False))
        )
        self.validators = {url: (etag, modified) for url, etag, modified in query.tuples()}
        logger.info("Conditional requests for %d known pages", len(self.validators))

    def process_request(self, request: Request) -> None:
        if "page_depth" not in request.meta or not self.validators:
            return
        known = self.validators.get(normalize_url(request.url))
        if known is None:
            return
        etag, modified = known
        if etag:
            request.headers.setdefault(b"If-None-Match", etag)
        if modified:
            request.headers.setdefault(b"If-Modified-Since", modified)
        request.meta["handle_httpstatus_list"] = [304]
        self.crawler.stats.inc_value("docscrawl/conditional_requests")


class RedirectScopeMiddleware:
    """Refuse a redirect hop out of the crawl's scope, back into its own chain, or to a URL the
    job already fetches, before anything (robots.txt included) is asked of the target.

    Redirected requests come back through every downloader middleware; this one sits before
    OffsiteMiddleware and RobotsTxtMiddleware. The spider decides (``refuse_redirect``), so the
    rules live with the crawl's scope and its set of seen URLs.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectScopeMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if "redirect_urls" not in request.meta:
            return
        refuse = getattr(self.crawler.spider, "refuse_redirect", None)
        refusal = refuse(request) if refuse is not None else None
        if refusal is not None:
            self.crawler.stats.inc_value("docscrawl/refused_redirects")
            raise UrlRefused(*refusal)
