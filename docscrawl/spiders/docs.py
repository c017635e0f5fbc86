"""The documentation spider: follows links and sitemaps within one site and one path prefix."""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.python.failure import Failure
from w3lib.url import safe_url_string

from docscrawl import models
from docscrawl.extensions import CancelledBeforeDownload
from docscrawl.extraction import extract_page
from docscrawl.items import CrawlErrorItem, NotModifiedItem, PageItem
from docscrawl.urls import CrawlScope, UrlKeySet, has_skipped_extension, normalize_url

HTML_TYPES = (b"text/html", b"application/xhtml+xml")


def _optional_int(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None
    if number < 0:
        raise ValueError(f"{name} must not be negative")
    return number


class DocsSpider(scrapy.Spider):
    """Crawl one documentation site from ``url``.

    Spider arguments: ``url`` (start URL), ``job_id`` (the docscrawl job this run belongs to),
    ``max_pages`` and ``max_depth`` (optional limits). Scrapyd adds ``_job``.
    """

    name = "docs"

    def __init__(
        self,
        url: str | None = None,
        job_id: str | int | None = None,
        max_pages: str | int | None = None,
        max_depth: str | int | None = None,
        resume: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if not url:
            raise ValueError("the docs spider needs a start url (-a url=...)")
        if job_id in (None, ""):
            raise ValueError("the docs spider needs a docscrawl job id (-a job_id=...)")
        self.start_url = safe_url_string(url)
        self.job_id = int(job_id)
        self.max_pages = _optional_int(max_pages, "max_pages")
        self.max_depth = _optional_int(max_depth, "max_depth")
        self.resume = resume not in (None, "", "0", "false", "False")
        self.scope = CrawlScope(self.start_url)
        self.allowed_domains = [self.scope.host]
        # Normalised URLs already turned into a request (or a stored page) in this crawl. Checking
        # here is far cheaper than building, fingerprinting and dupe-filtering a Request.
        self.seen = UrlKeySet()
        self.stored = UrlKeySet()
        self.sitemap_urls = UrlKeySet()
        # ("http://host", "https://host") once the site is seen redirecting between schemes.
        self.scheme_alias: tuple[str, str] | None = None

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        if settings.getbool("DOCSCRAWL_DISK_QUEUE") and not settings.get("JOBDIR"):
            # Keep the scheduler's queue on disk: at tens of thousands of pages, queued Request
            # objects would be most of the crawl's memory. A throwaway JOBDIR does it; the
            # store, not JOBDIR, is what a resume starts from.
            settings.set("JOBDIR", tempfile.mkdtemp(prefix="docscrawl-queue-"), priority="spider")
            settings.set("DOCSCRAWL_TEMPORARY_JOBDIR", True, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> DocsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if crawler.settings.getbool("DOCSCRAWL_TEMPORARY_JOBDIR"):
            crawler.signals.connect(spider._remove_jobdir, signal=signals.engine_stopped)
        return spider

    def _remove_jobdir(self) -> None:
        shutil.rmtree(self.crawler.settings["JOBDIR"], ignore_errors=True)

    async def start(self) -> AsyncIterator[Any]:
        base = f"{self.start_url.split('://', 1)[0]}://{self.scope.netloc}"
        obey_robots = self.crawler.settings.getbool("ROBOTSTXT_OBEY")
        if obey_robots:
            # Scrapy's RobotsTxtMiddleware fetches robots.txt before the first request anyway:
            # read the sitemaps from that response instead of fetching the file a second time.
            # Listen before yielding anything, or the response may come first.
            self._sitemap_base = base
            self.crawler.signals.connect(self._robots_received, signal=signals.response_received)
        if self.resume:
            for request in self._resume_requests():
                yield request
        else:
            self.seen.add(self.key(self.start_url))
            yield self._page_request(self.start_url, depth=0)
        if not obey_robots:
            yield scrapy.Request(
                f"{base}/robots.txt",
                callback=self.parse_robots,
                errback=self.sitemap_unavailable,
                priority=10,
                meta={"sitemap_base": base},
            )

    # --- resume ------------------------------------------------------------------------------

    def _resume_requests(self) -> Iterator[scrapy.Request]:
        """Continue this job: skip what it stored, fetch what it had queued and what it missed.

        The frontier is rebuilt from the store, which is always consistent (unlike a JOBDIR
        after a forced stop or a SIGKILL): the requests kept at the last cancel, then every
        link of the job's stored pages that the job has not stored. The sitemaps are read
        again as on any start, for pages no stored page links to.
        """
        Page, JobPage = models.Page, models.JobPage
        stored = (
            Page.select(Page.url, Page.depth, Page.links)
            .join(JobPage)
            .where((JobPage.job == self.job_id) & (JobPage.change != models.REMOVED))
        )
        candidates: list[tuple[str, int]] = []
        link_lists = []
        for url, depth, links in stored.tuples():
            self.stored.add(url)
            self.seen.add(url)
            link_lists.append((links or [], depth + 1))
        self.crawler.stats.set_value("docscrawl/resumed_with_pages", len(self.stored))
        # A URL that answered 404/410 in this job is gone; do not ask again.
        gone = models.CrawlError.select(models.CrawlError.url).where(
            (models.CrawlError.job == self.job_id) & (models.CrawlError.status_code << [404, 410])
        )
        self.seen.update(self.key(url) for (url,) in gone.tuples())
        frontier = models.FrontierRequest.select(
            models.FrontierRequest.url, models.FrontierRequest.depth
        ).where(models.FrontierRequest.job == self.job_id)
        candidates.extend(frontier.tuples())
        candidates.append((self.start_url, 0))
        for links, depth in link_lists:
            candidates.extend((link, depth) for link in links)
        for url, depth in candidates:
            key = self.key(url)
            if key in self.seen or not self.scope.contains(key) or has_skipped_extension(key):
                continue
            if self.max_depth is not None and depth > self.max_depth:
                continue
            self.seen.add(key)
            yield self._page_request(url, depth)

    # --- sitemaps ----------------------------------------------------------------------------

    def _robots_received(self, response: Response, request: scrapy.Request, spider: Any) -> None:
        if urlsplit(request.url).path != "/robots.txt" or not request.meta.get(
            "dont_obey_robotstxt"
        ):
            return
        self.crawler.signals.disconnect(self._robots_received, signal=signals.response_received)
        response.meta["sitemap_base"] = self._sitemap_base
        for sitemap_request in self.parse_robots(response):
            self.crawler.engine.crawl(sitemap_request)

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        urls = list(sitemap_urls_from_robots(response.body, base_url=response.url))
        if not urls:
            urls = [f"{response.meta['sitemap_base']}/sitemap.xml"]
        for url in urls:
            yield self._sitemap_request(url)

    def sitemap_unavailable(self, failure: Failure) -> Iterator[scrapy.Request]:
        request = failure.request
        if "sitemap_base" in request.meta:  # no robots.txt: try the conventional location
            yield self._sitemap_request(f"{request.meta['sitemap_base']}/sitemap.xml")

    def _sitemap_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_sitemap, errback=self.ignore, priority=10)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
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
        if sitemap.type == "sitemapindex":
            for entry in sitemap:
                yield self._sitemap_request(entry["loc"])
        elif sitemap.type == "urlset":
            depth_allowed = self.max_depth is None or self.max_depth >= 1
            for entry in sitemap:
                url = entry["loc"]
                key = self.key(url)
                if not self.scope.contains(key) or has_skipped_extension(key):
                    continue
                self.sitemap_urls.add(key)
                if depth_allowed and key not in self.seen:
                    self.seen.add(key)
                    yield self._page_request(url, depth=1)
            self.crawler.stats.set_value("docscrawl/estimated_total", len(self.sitemap_urls))

    # --- pages -------------------------------------------------------------------------------

    def _page_request(self, url: str, depth: int) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse_page, errback=self.page_failed, meta={"page_depth": depth}
        )

    def key(self, url: str) -> str:
        """The page identity of url: normalised, with the site's http/https choice applied."""
        key = normalize_url(url)
        if self.scheme_alias is not None and key.startswith(self.scheme_alias[0]):
            key = self.scheme_alias[1] + key[len(self.scheme_alias[0]) :]
        return key

    def _learn_scheme(self, requested: str, final: str) -> None:
        """Remember that the site redirects http to https (or back): one page, not two."""
        old, new = urlsplit(requested), urlsplit(final)
        if old.scheme != new.scheme and (old.hostname, old.path) == (new.hostname, new.path):
            self.scheme_alias = (f"{old.scheme}://{old.netloc}", f"{new.scheme}://{new.netloc}")

    def parse_page(self, response: Response) -> Iterator[Any]:
        stats = self.crawler.stats
        if response.status == 304:
            yield from self._not_modified(response)
            return
        if not self._is_html(response):
            stats.inc_value("docscrawl/skipped_non_html")
            return
        request_url = response.request.url if response.request else response.url
        if self.scheme_alias is None and request_url != response.url:
            self._learn_scheme(normalize_url(request_url), normalize_url(response.url))
        final_key = self.key(response.url)
        if not self.scope.contains(final_key):
            stats.inc_value("docscrawl/skipped_out_of_scope")
            return
        if self.max_pages is not None and len(self.stored) >= self.max_pages:
            return
        page = extract_page(response.selector.root, response.url)
        linked = [(link, self.key(link)) for link in page.links]
        key = final_key
        if page.canonical_url:
            canonical_key = self.key(page.canonical_url)
            if self.scope.contains(canonical_key):
                key = canonical_key
        if key in self.stored:
            return  # a second URL for a page already stored (a redirect or a canonical alias)
        self.stored.add(key)
        self.seen.update((key, final_key))
        # Our own depth: Scrapy's "depth" also counts the robots.txt and sitemap hops.
        depth = response.meta.get("page_depth", 0)
        stats.inc_value("docscrawl/pages")
        yield PageItem(
            url=key,
            requested_url=response.request.url if response.request else response.url,
            final_url=response.url,
            canonical_url=page.canonical_url,
            status_code=response.status,
            title=page.title,
            description=page.description,
            language=page.language,
            headings=[
                {"level": h.level, "text": h.text, "anchor": h.anchor} for h in page.headings
            ],
            markdown=page.markdown,
            text=page.text,
            links=[link for link, key in linked if self.scope.contains(key)],
            word_count=page.word_count,
            content_hash=page.content_hash,
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            fetched_at=models.utcnow(),
            depth=depth,
        )
        yield from self._after_page(linked, depth)

    def _after_page(self, linked: list[tuple[str, str]], depth: int) -> Iterator[scrapy.Request]:
        """Follow a page's (link, key) pairs that are new, in scope and within the limits."""
        if self.max_pages is not None and len(self.stored) >= self.max_pages:
            raise CloseSpider("max_pages")
        if self.max_depth is not None and depth >= self.max_depth:
            return
        for link, link_key in linked:
            if link_key in self.seen:
                continue
            self.seen.add(link_key)
            if not self.scope.contains(link_key) or has_skipped_extension(link_key):
                continue
            yield self._page_request(link, depth + 1)

    @functools.cached_property
    def client_id(self) -> int:
        """The client this job crawls for (read from the store once)."""
        return models.Job.get_by_id(self.job_id).client_id

    def _not_modified(self, response: Response) -> Iterator[Any]:
        """A 304 on a re-crawl: the page is unchanged; follow the links stored with it."""
        key = self.key(response.url)
        if key in self.stored or (
            self.max_pages is not None and len(self.stored) >= self.max_pages
        ):
            return
        self.stored.add(key)
        self.crawler.stats.inc_value("docscrawl/pages")
        self.crawler.stats.inc_value("docscrawl/not_modified")
        yield NotModifiedItem(url=key, fetched_at=models.utcnow())
        Page = models.Page
        links = (
            Page.select(Page.links)
            .where((Page.client == self.client_id) & (Page.url == key))
            .scalar()
        )
        linked = [(link, self.key(link)) for link in links or []]
        yield from self._after_page(linked, response.meta.get("page_depth", 0))

    @staticmethod
    def _is_html(response: Response) -> bool:
        if isinstance(response, HtmlResponse):
            return True
        content_type = response.headers.get(b"Content-Type") or b""
        return isinstance(response, TextResponse) and content_type.startswith(HTML_TYPES)

    def page_failed(self, failure: Failure) -> Iterator[CrawlErrorItem]:
        """Record an HTTP error or a network failure as a job error (not a page)."""
        stats = self.crawler.stats
        if failure.check(CancelledBeforeDownload):
            stats.inc_value("docscrawl/dropped_on_cancel")
            return
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            stats.inc_value("docscrawl/ignored")  # robots.txt, offsite redirect, size limit
            return
        status: int | None = None
        if failure.check(HttpError):
            status = failure.value.response.status
            reason = f"HTTP {status}"
        else:
            reason = f"{type(failure.value).__name__}: {failure.getErrorMessage()}"
        stats.inc_value("docscrawl/errors")
        yield CrawlErrorItem(
            url=failure.request.url,
            status_code=status,
            reason=reason,
            occurred_at=models.utcnow(),
        )

    def ignore(self, failure: Failure) -> None:
        """Sitemaps are optional: a missing one is not a crawl error."""


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
