"""The documentation spider: follows links and sitemaps within one site and one path prefix."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import CloseSpider
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure
from w3lib.url import safe_url_string

from docscrawl import models
from docscrawl import signals as docscrawl_signals
from docscrawl.extensions import CancelledBeforeDownload
from docscrawl.extensions.lifecycle import EXTRACTION_FAILURES
from docscrawl.extraction import ExtractedPage, SiteOverrides, extract_page, site_overrides
from docscrawl.extraction.template import TemplateLearner
from docscrawl.extraction_pool import ExtractionPool, PreparedPage
from docscrawl.items import CrawlErrorItem, LedgerRetraction, NotModifiedItem, page_item
from docscrawl.ledger import classify_failure
from docscrawl.queue_dir import make_queue_dir, remove_queue_dir
from docscrawl.request_queue import memory_limit
from docscrawl.spiders.sitemaps import SitemapsMixin
from docscrawl.template_fixup import fix_up_pages
from docscrawl.traps import SoftNotFound, TrapRules, numbered_chain
from docscrawl.urls import CrawlScope, UrlKeySet, has_skipped_extension, normalize_url

logger = logging.getLogger(__name__)

HTML_TYPES = (b"text/html", b"application/xhtml+xml")
# Bodies that are files, whatever their Content-Type says: PNG, GIF, JPEG, PDF, ZIP, gzip, WebP.
BINARY_SIGNATURES = (
    b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"RIFF",
)  # fmt: skip


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


class DocsSpider(SitemapsMixin, scrapy.Spider):
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
        self.requested = UrlKeySet()  # the seen URLs that became requests (not ledger entries)
        self.stored = UrlKeySet()
        self.init_sitemaps()
        self.traps = TrapRules()
        self.overrides = SiteOverrides()
        self.extraction = ExtractionPool(0, 1.0, self.overrides)  # from_crawler: the settings'
        # Final URL key -> request of the pages being extracted (by the pool: they interleave).
        self.extracting: dict[str, scrapy.Request] = {}
        self.template: TemplateLearner | None = None
        self.soft_not_found = SoftNotFound()
        # ("http://host", "https://host") once the site is seen redirecting between schemes.
        self.scheme_alias: tuple[str, str] | None = None

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        if settings.getbool("DOCSCRAWL_DISK_QUEUE") and not settings.get("JOBDIR"):
            # Keep the scheduler's queue on disk: at tens of thousands of pages, queued Request
            # objects would be most of the crawl's memory. A throwaway JOBDIR does it; the
            # store, not JOBDIR, is what a resume starts from. (docscrawl/queue_dir.py also
            # removes those of crawls that were killed before removing their own.)
            settings.set("JOBDIR", make_queue_dir(), priority="spider")
            settings.set("DOCSCRAWL_TEMPORARY_JOBDIR", True, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> DocsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.traps = TrapRules.from_settings(crawler.settings)
        spider.max_sitemap_urls = crawler.settings.getint("DOCSCRAWL_SITEMAP_MAX_URLS")
        memory_limit(crawler.settings)  # a bad value fails the crawl here, not in the queue
        spider.overrides = site_overrides(crawler.settings)
        spider.extraction = ExtractionPool.from_settings(crawler.settings, spider.overrides)
        crawler.signals.connect(spider._stop_extraction, signal=signals.spider_closed)
        crawler.signals.connect(spider._cancel_extraction, signal=docscrawl_signals.cancel_started)
        if crawler.settings.getbool("DOCSCRAWL_TEMPLATE_LEARNING"):
            spider.template = TemplateLearner(
                min_pages=crawler.settings.getint("DOCSCRAWL_TEMPLATE_MIN_PAGES"),
                share=crawler.settings.getfloat("DOCSCRAWL_TEMPLATE_SHARE"),
            )
        if crawler.settings.getbool("DOCSCRAWL_TEMPORARY_JOBDIR"):
            crawler.signals.connect(spider._remove_jobdir, signal=signals.engine_stopped)
        return spider

    def _main_selector_missed(self, url: str) -> None:
        """DOCSCRAWL_MAIN_SELECTOR matched nothing on a page: counted, and said once."""
        stats = self.crawler.stats
        if not stats.get_value("docscrawl/main_selector_missed"):
            logger.warning(
                "DOCSCRAWL_MAIN_SELECTOR matches nothing on %s; its main content was chosen by "
                "the rules (docscrawl/main_selector_missed counts such pages)",
                url,
            )
        stats.inc_value("docscrawl/main_selector_missed")

    def closed(self, reason: str) -> None:
        """After the pipeline's last flush: take the learned template out of earlier pages."""
        if self.template is None:
            return
        fixed = fix_up_pages(self.job_id, self.template.pages_to_fix())
        if fixed:
            self.crawler.stats.set_value("docscrawl/template_pages_fixed", fixed)
            logger.info(
                "Removed the site's template from %d pages stored before it was known", fixed
            )

    def _stop_extraction(self) -> None:
        self.extraction.close()
        stats = self.crawler.stats
        stats.set_value("docscrawl/extracted_in_process", self.extraction.in_process)
        stats.set_value("docscrawl/extracted_in_pool", self.extraction.in_pool)

    def _cancel_extraction(self, origin: str) -> list[scrapy.Request]:
        """A cancel stops the pool: the pages still waiting for a worker are kept in the job's
        frontier (FastCancel saves the requests a cancel_started receiver returns)."""
        return [self.extracting[key] for key in self.extraction.stop() if key in self.extracting]

    def _remove_jobdir(self) -> None:
        remove_queue_dir(self.crawler.settings["JOBDIR"])

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
            for output in self._resume_requests():
                yield output
        else:
            key = self.key(self.start_url)
            self.seen.add(key)
            trap = self.traps.check_url(key)
            if trap is not None:  # nothing to crawl: not even the sitemaps of such a site
                yield self.unstored(self.start_url, models.TRAP, trap)
                return
            self.requested.add(key)
            yield self._page_request(self.start_url, depth=0)
        yield scrapy.Request(
            f"{base}{SoftNotFound.probe_path(self.scope.prefix)}",
            callback=self._soft_404_probed,
            errback=self.ignore,
            priority=20,
            dont_filter=True,
            meta={"dont_redirect": True},
        )
        if not obey_robots:
            yield scrapy.Request(
                f"{base}/robots.txt",
                callback=self.parse_robots,
                errback=self.sitemap_unavailable,
                priority=10,
                meta={"sitemap_base": base},
                dont_filter=True,
            )

    # --- resume ------------------------------------------------------------------------------

    def _resume_requests(self) -> Iterator[Any]:
        """Continue this job: skip what it stored, fetch what it had queued and what it missed.

        The frontier is rebuilt from the store, which is always consistent (unlike a JOBDIR
        after a forced stop or a SIGKILL): the requests kept at the last cancel, then every
        link of the job's stored pages that the job has not stored. The sitemaps are read
        again as on any start, for pages no stored page links to. A URL the job already gave
        up on (its ledger has it: HTTP 404, a trap, out of scope...) is not asked again.
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
        # Failures worth retrying (timeouts, network, 5xx) are; the rest of the ledger is not.
        Ledger = models.CrawlError
        settled = Ledger.select(Ledger.url).where(
            (Ledger.job == self.job_id)
            & ((Ledger.kind << models.SKIP_KINDS) | (Ledger.status_code << [404, 410]))
            & (Ledger.kind != models.LIMIT)
        )
        self.seen.update(self.key(url) for (url,) in settled.tuples())
        frontier = models.FrontierRequest.select(
            models.FrontierRequest.url, models.FrontierRequest.depth
        ).where(models.FrontierRequest.job == self.job_id)
        candidates.extend(frontier.tuples())
        candidates.append((self.start_url, 0))
        for links, depth in link_lists:
            candidates.extend((link, depth) for link in links)
        for url, depth in candidates:
            yield from self._follow(url, self.key(url), depth)

    # --- pages -------------------------------------------------------------------------------

    def _page_request(self, url: str, depth: int, chain: int = 0) -> scrapy.Request:
        # dont_filter: the spider's own `seen` set is the duplicate filter (cheaper than
        # fingerprints), and a redirect must reach RedirectScopeMiddleware, which records a
        # redirect back to a URL of the job as a loop or a duplicate instead of dropping it.
        return scrapy.Request(
            url,
            callback=self.parse_page,
            errback=self.page_failed,
            meta={"page_depth": depth, "numbered_chain": chain},
            dont_filter=True,
        )

    def _follow(self, url: str, key: str, depth: int, chain: int = 0) -> Iterator[Any]:
        """A request for a new URL of the crawl, or its ledger entry saying why not."""
        if key in self.seen:
            # Refused when a chain of numbered pages led to it, now listed by an index or a
            # sitemap: fetched after all, and its ledger entry taken back.
            within_depth = self.max_depth is None or depth <= self.max_depth
            refused = chain == 0 and within_depth and self.traps.listed_after_all(key)
            if refused:
                self.crawler.stats.inc_value(f"docscrawl/unstored/{models.TRAP}", -1)
                yield LedgerRetraction(url=refused, kind=models.TRAP)
                if key not in self.requested:  # a redirect may have reached it since
                    self.requested.add(key)
                    yield self._page_request(url, depth, chain)
            return
        self.seen.add(key)
        if not self.scope.contains(key):
            yield self.unstored(url, models.OUT_OF_SCOPE, f"outside {self.scope}")
        elif has_skipped_extension(key):
            yield self.unstored(url, models.NOT_HTML, "a link to a file that is not a page")
        elif self.max_depth is not None and depth > self.max_depth:
            yield self.unstored(url, models.DEPTH, f"deeper than --max-depth {self.max_depth}")
        elif (trap := self.traps.check_url(key, chain, url)) is not None:
            yield self.unstored(url, models.TRAP, trap)
        else:
            self.requested.add(key)
            yield self._page_request(url, depth, chain)

    def unstored(
        self, url: str, kind: str, reason: str, status: int | None = None, count: int = 1
    ) -> CrawlErrorItem:
        """The ledger entry for a URL this job does not store."""
        self.crawler.stats.inc_value(f"docscrawl/unstored/{kind}", count)
        if kind in models.ERROR_KINDS:
            self.crawler.stats.inc_value("docscrawl/errors", count)
        return CrawlErrorItem(
            url=url,
            kind=kind,
            status_code=status,
            reason=reason,
            occurred_at=models.utcnow(),
            count=count,
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

    def refuse_redirect(self, request: scrapy.Request) -> tuple[str, str] | None:
        """Why a redirected request must not be fetched ((kind, reason)), or None.

        Called by RedirectScopeMiddleware for every redirect hop, before robots.txt of the
        target is asked for: the target must be in the crawl's scope (scheme, host and port,
        and the path prefix for pages), not a URL of the chain (a loop), and not a URL this
        job already requested (a duplicate: the page is stored once, under that URL).
        """
        chain = request.meta.get("redirect_urls") or []
        target = normalize_url(request.url)
        if "page_depth" not in request.meta:
            # robots.txt and sitemaps may move within the site's host (http to https, say).
            if urlsplit(target).hostname != self.scope.host:
                return models.OFF_ORIGIN_REDIRECT, f"redirects to {request.url}, another host"
            return None
        # A loop is the very same URL again; http://h/a -> https://h/a is one page moving.
        if any(normalize_url(url) == target for url in chain):
            return models.REDIRECT_LOOP, f"redirects back to {request.url}"
        if self.scheme_alias is None and chain:
            self._learn_scheme(normalize_url(chain[0]), target)
        key = self.key(request.url)
        if not self.scope.contains(key):
            return models.OFF_ORIGIN_REDIRECT, f"redirects to {request.url}, outside {self.scope}"
        if key in self.requested and key != self.key(chain[0]):
            return models.DUPLICATE, f"redirects to {request.url}, which this job fetches too"
        self.seen.add(key)
        self.requested.add(key)
        trap = self.traps.check_url(key)
        if trap is not None:
            return models.TRAP, f"redirects to {request.url}: {trap}"
        return None

    async def parse_page(self, response: Response) -> AsyncIterator[Any]:
        refusal = self._refusal(response)
        if refusal is not None:
            for output in refusal:
                yield output
            return
        url = self.requested_url(response.request) if response.request else response.url
        final_key = self.key(response.url)
        # Reserved while it is extracted: the same page reached by another URL is a duplicate
        # even before this one is stored (the pool's pages finish in any order).
        self.extracting[final_key] = response.request
        try:
            extraction = await self.extraction.extract(
                response.text, response.url, token=final_key, store_url=final_key
            )
        finally:
            del self.extracting[final_key]
        if extraction is None:  # the crawl was cancelled under it: the frontier keeps it
            return
        if self.max_pages is not None and len(self.stored) >= self.max_pages:
            yield self.unstored(url, models.LIMIT, f"the job reached --max-pages {self.max_pages}")
            return
        for output in self._page_outputs(response, url, final_key, *extraction):
            yield output

    def _refusal(self, response: Response) -> Iterable[Any] | None:
        """What to yield instead of extracting the response, or None for a page to extract."""
        if response.status == 304:
            # Lazily: it yields the page's item before it may raise CloseSpider (max_pages).
            return self._not_modified(response)
        url = self.requested_url(response.request) if response.request else response.url
        not_html = self._not_html(response)
        if not_html is not None:
            self.crawler.stats.inc_value("docscrawl/skipped_non_html")
            return [self.unstored(url, models.NOT_HTML, not_html, response.status)]
        final_key = self.key(response.url)
        if not self.scope.contains(final_key):
            reason = f"{response.url} is outside {self.scope}"
            return [self.unstored(url, models.OUT_OF_SCOPE, reason)]
        if self.max_pages is not None and len(self.stored) >= self.max_pages:
            reason = f"the job reached --max-pages {self.max_pages}"
            return [self.unstored(url, models.LIMIT, reason)]
        if final_key in self.stored or final_key in self.extracting:
            reason = f"the same page as {response.url}"
            return [self.unstored(url, models.DUPLICATE, reason)]
        return None

    def _page_outputs(
        self,
        response: Response,
        url: str,
        final_key: str,
        page: ExtractedPage,
        prepared: PreparedPage | None = None,
    ) -> Iterator[Any]:
        """The page's item and its links' requests, unless the page turns out not to be one."""
        stats = self.crawler.stats
        if self.soft_not_found.matches(response.url, page.title, page.text):
            yield self.unstored(
                url, models.SOFT_404, "answered 200 with the site's page for a missing URL"
            )
            return
        trap = self.traps.check_content(page.title, page.content_hash)
        if trap is not None:
            yield self.unstored(url, models.TRAP, trap, response.status)
            return
        if self.overrides.main is not None and page.audit.rule != "selector":
            self._main_selector_missed(response.url)
        if self.template is not None:
            dropped = self.template.learn_and_strip(final_key, page)
            if dropped:
                stats.inc_value("docscrawl/template_blocks_dropped", dropped)
                prepared = None  # of the content before the template was taken out
        # The page is stored under its own URL whatever its rel=canonical says: a canonical is
        # a hint (often wrong: every page naming the home page, or another version of the
        # docs), recorded with the page. Pages with one main text are merged by `dedupe`.
        self.stored.add(final_key)
        self.seen.add(final_key)
        # Our own depth: Scrapy's "depth" also counts the robots.txt and sitemap hops.
        depth = response.meta.get("page_depth", 0)
        stats.inc_value("docscrawl/pages")
        for stage, count in page.failures.items():  # stored with what could be extracted
            stats.inc_value(f"{EXTRACTION_FAILURES}{stage}", count)
        linked = [(link, self.key(link)) for link in page.links]
        yield page_item(
            url=final_key,
            requested_url=url,
            final_url=response.url,
            canonical_url=page.canonical_url,
            status_code=response.status,
            title=page.title,
            description=page.description,
            language=page.language,
            headings=page.heading_records(),
            markdown=page.markdown,
            text=page.text,
            links=[link for link, key in linked if self.scope.contains(key)],
            word_count=page.word_count,
            content_hash=page.content_hash,
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            fetched_at=models.utcnow(),
            depth=depth,
            extraction_audit=page.audit.as_dict(),
            prepared=prepared,
        )
        yield from self._after_page(
            linked, depth, final_key, response.meta.get("numbered_chain", 0)
        )

    def _soft_404_probed(self, response: Response) -> None:
        """The site answered a URL that cannot exist with a page: remember that page."""
        if response.status == 200 and self._not_html(response) is None:
            page = extract_page(response.selector.root, response.url, self.overrides)
            self.soft_not_found.learn(response.url, page.title, page.text)
            logger.info("%s answers missing URLs with a page titled %r", self.scope, page.title)

    @staticmethod
    def requested_url(request: scrapy.Request) -> str:
        """The URL the crawl asked for, before any redirect."""
        chain = request.meta.get("redirect_urls")
        return chain[0] if chain else request.url

    def _after_page(
        self, linked: list[tuple[str, str]], depth: int, page_key: str, page_chain: int = 0
    ) -> Iterator[Any]:
        """Follow a page's (link, key) pairs that are new, or record why not."""
        if self.max_pages is not None and len(self.stored) >= self.max_pages:
            raise CloseSpider("max_pages")
        may_take_back = self.traps.has_refusals()
        for link, link_key in linked:
            if link_key not in self.seen:
                chain = numbered_chain(page_key, page_chain, link_key)
                yield from self._follow(link, link_key, depth + 1, chain)
            elif may_take_back and numbered_chain(page_key, page_chain, link_key) == 0:
                # An index or a table of contents listing a URL refused as a trap earlier.
                yield from self._follow(link, link_key, depth + 1, 0)

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
        yield from self._after_page(linked, response.meta.get("page_depth", 0), key)

    @staticmethod
    def _not_html(response: Response) -> str | None:
        """Why a response is not an HTML page to store, or None if it is one."""
        content_type = (response.headers.get(b"Content-Type") or b"").split(b";")[0].strip()
        if not isinstance(response, HtmlResponse) and not (
            isinstance(response, TextResponse) and content_type.startswith(HTML_TYPES)
        ):
            return f"served as {content_type.decode('latin-1') or 'no content type'}, not HTML"
        head = response.body[:1024]
        # In UTF-16 or UTF-32 text (with a BOM or a declared charset) NUL bytes are characters.
        wide = head.startswith((b"\xff\xfe", b"\xfe\xff")) or (
            isinstance(response, TextResponse)
            and response.encoding.lower().startswith(("utf-16", "utf-32"))
        )
        if head.startswith(BINARY_SIGNATURES) or (b"\x00" in head and not wide):
            return "served as HTML, but the body is binary data"
        return None

    def page_failed(self, failure: Failure) -> Iterator[CrawlErrorItem]:
        """Record a page that could not be fetched, or was refused, in the job's ledger."""
        if failure.check(CancelledBeforeDownload):
            self.crawler.stats.inc_value("docscrawl/dropped_on_cancel")
            return
        kind, reason, status = classify_failure(failure)
        if kind == models.ROBOTS:
            self.crawler.stats.inc_value("docscrawl/ignored")
        yield self.unstored(self.requested_url(failure.request), kind, reason, status)

    def ignore(self, failure: Failure) -> None:
        """Sitemaps are optional: a missing one is not a crawl error."""


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
