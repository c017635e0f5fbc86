"""The pipeline that writes pages and crawl errors to the store in batches."""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any

import peewee
from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from docscrawl import fingerprints, history, job_state, models
from docscrawl import settings as default_settings
from docscrawl.items import PREPARED, CrawlErrorItem, LedgerRetraction, NotModifiedItem, PageItem
from docscrawl.models import DERIVED_PAGE_FIELDS, PAGE_FIELDS
from docscrawl.reactor import installed_reactor as _reactor

logger = logging.getLogger(__name__)

LEDGER_FIELDS = ["url", "kind", "status_code", "reason", "occurred_at"]
# A section batch is written early once its pages' Markdown reaches this many characters: with
# the extraction pool a waiting page also holds its split sections (about 3 times its Markdown).
SECTION_BATCH_MAX_CHARS = 16_000_000


class PageStorePipeline:
    """Buffer items and write them in one short transaction per batch.

    A batch is written when it reaches ``DOCSCRAWL_BATCH_SIZE`` items or when
    ``DOCSCRAWL_FLUSH_INTERVAL`` seconds have passed, so a killed crawl loses at most that much
    work. A page already stored for the client is updated in place. Ledger entries (URLs not
    stored, and why) are kept up to ``DOCSCRAWL_LEDGER_MAX_ROWS`` per reason; the job's counts
    by reason take every one.

    Sections are written apart from their pages, ``DOCSCRAWL_SECTION_BATCH_SIZE`` pages' worth
    in one statement (and the rest when the crawl ends): each statement that writes sections
    leaves a segment in the search index, and merging those cost more the bigger the index (on
    a 1,000,000-page store, 64 statements of 175 sections paid a merge of 0.8-1.7 s, against
    0.1 s on an empty store; the same 7,000 sections in one statement took 0.13 s on both). A
    page's stale sections are deleted with the page's write, so a page has its current sections
    or none: one left without them by a SIGKILL gets them the next time a crawl sees it
    (fetched, or answered 304).
    """

    def __init__(
        self,
        crawler: Crawler,
        location: str,
        batch_size: int,
        interval: float,
        ledger_max_rows: int = 0,
        section_batch_size: int = 1,
    ):
        self.crawler = crawler
        self.location = location
        self.batch_size = batch_size
        self.interval = interval
        self.pages: dict[str, dict[str, Any]] = {}
        self.not_modified: dict[str, Any] = {}
        self.errors: list[dict[str, Any]] = []
        # What extraction workers prepared for the store (docscrawl.extraction_pool), by URL.
        self.prepared: dict[str, Any] = {}
        self.retracted: list[tuple[str, str]] = []  # (url, kind) of ledger rows written before
        self.taken_back: set[tuple[str, str]] = set()  # ... or not yet come to the pipeline
        self.unstored_counts: Counter[str] = Counter()  # by kind, since the last flush
        self.ledger_rows: Counter[str] = Counter()  # rows kept by kind in this crawl
        self.ledger_max_rows = ledger_max_rows
        # Pages stored whose sections are still to be written: page id -> what write_sections
        # takes, and the sections an extraction worker split already.
        self.section_batch_size = max(1, section_batch_size)
        self.unsectioned: dict[int, tuple[int, str, str | None, str, list]] = {}
        self.unsectioned_split: dict[int, Any] = {}
        self.unsectioned_chars = 0  # their Markdown's length, for SECTION_BATCH_MAX_CHARS
        self.job_id: int | None = None
        self.client_id: int | None = None
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
            crawler.settings.getint("DOCSCRAWL_LEDGER_MAX_ROWS"),
            crawler.settings.getint(
                "DOCSCRAWL_SECTION_BATCH_SIZE", default_settings.DOCSCRAWL_SECTION_BATCH_SIZE
            ),
        )
        # A forced stop (second Ctrl+C) skips close_spider but still shuts the reactor down:
        # flush what is buffered then.
        _reactor().addSystemEventTrigger("before", "shutdown", pipeline.flush)
        crawler.signals.connect(pipeline.flush, signal=signals.spider_idle)
        return pipeline

    def open_spider(self) -> None:
        models.open_crawl_store(self.location)
        job = models.Job.get_by_id(int(self.crawler.spider.job_id))
        self.job_id = job.id
        self.client_id = job.client_id
        # A resumed job skips the pages it stored before: those its killed run left without
        # sections (stored, their section batch not yet written) get them now.
        seen = models.JobPage.select(models.JobPage.page).where(models.JobPage.job == job.id)
        self._add_missing_sections([page_id for (page_id,) in seen.tuples()])
        self._timer = task.LoopingCall(self.flush, final=False)
        self._timer.start(self.interval, now=False)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        if isinstance(item, PageItem):
            self.pages[adapter["url"]] = {name: adapter.get(name) for name in PAGE_FIELDS}
            # Taken off the item: it is for the store, not for a feed export after it.
            prepared = item.pop(PREPARED, None)
            if prepared is not None:
                self.prepared[adapter["url"]] = prepared
            else:
                self.prepared.pop(adapter["url"], None)
        elif isinstance(item, NotModifiedItem):
            self.not_modified[adapter["url"]] = adapter["fetched_at"]
        elif isinstance(item, CrawlErrorItem):
            kind = adapter.get("kind") or (
                models.HTTP_STATUS if adapter.get("status_code") else models.NETWORK
            )
            self.unstored_counts[kind] += adapter.get("count") or 1
            if (adapter.get("url"), kind) in self.taken_back:
                # Taken back before it got here (items of different responses interleave).
                self.taken_back.discard((adapter.get("url"), kind))
            elif not self.ledger_max_rows or self.ledger_rows[kind] < self.ledger_max_rows:
                self.ledger_rows[kind] += 1
                self.errors.append({**{n: adapter.get(n) for n in LEDGER_FIELDS}, "kind": kind})
        elif isinstance(item, LedgerRetraction):
            self._retract(adapter["url"], adapter["kind"])
        if len(self.pages) + len(self.not_modified) + len(self.errors) >= self.batch_size:
            self.flush(final=False)
        return item

    def _retract(self, url: str, kind: str) -> None:
        """Take back a ledger entry of this crawl: from the buffer, else from the store, or,
        when it has not come yet, as it comes."""
        self.unstored_counts[kind] -= 1
        for position, row in enumerate(self.errors):
            if row["url"] == url and row["kind"] == kind:
                del self.errors[position]
                self.ledger_rows[kind] -= 1
                return
        self.retracted.append((url, kind))
        self.taken_back.add((url, kind))

    def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self.flush()

    def flush(self, final: bool = True) -> None:
        """Write every buffered page and error, and bump the job's counters, in one transaction.

        Each page is also recorded as seen by this job, as ``new``, ``changed`` (its main-text
        hash differs from the stored one) or ``unchanged`` (same hash, or a 304), and its
        sections (``page_section``) are replaced by those of its new Markdown (a 304 keeps them),
        now when ``final`` (the crawl's end, and a stop) or a section batch is full, else in a
        later flush. A new or changed page's Markdown is kept as a version (``page_version``)
        unless the page already had that text.
        """
        buffered = self.pages or self.not_modified or self.unstored_counts
        if self.job_id is None or not (buffered or (final and self.unsectioned)):
            return
        pages, not_modified, errors = self.pages, self.not_modified, self.errors
        unstored, retracted, prepared = self.unstored_counts, self.retracted, self.prepared
        self.pages, self.not_modified, self.errors = {}, {}, []
        self.unstored_counts, self.retracted, self.prepared = Counter(), [], {}
        # A transaction that fails leaves the sections waiting as they were (their pages were
        # stored by earlier flushes); what it added goes with its rolled-back pages.
        waiting = dict(self.unsectioned), dict(self.unsectioned_split), self.unsectioned_chars
        try:
            self._flush(pages, not_modified, errors, unstored, retracted, prepared, final)
        except BaseException:
            self.unsectioned, self.unsectioned_split, self.unsectioned_chars = waiting
            raise

    def _flush(self, pages, not_modified, errors, unstored, retracted, prepared, final) -> None:
        Page, JobPage = models.Page, models.JobPage
        with models.write_transaction():
            before = self._stored(list(pages) + list(not_modified))
            sightings = []
            versions = []
            if pages:
                known, sections_stand = self._unchanged(before, pages)
                for url, ready in prepared.items():
                    known.setdefault(url, ready.simhash)  # computed by the worker: the same
                rows = [
                    {**row, **models.derived_columns(row, known.get(url)),
                     "client": self.client_id, "job": self.job_id}
                    for url, row in pages.items()
                ]  # fmt: skip
                models.insert_rows(
                    Page, rows, conflict=("client", "url"),
                    update=(*PAGE_FIELDS, *DERIVED_PAGE_FIELDS, "job"),
                )  # fmt: skip
                after = self._stored(list(pages))
                self._keep_fingerprints(before, after, rows)
                # The page's sections, split from the Markdown just stored, replace its old ones
                # (gone now, the new ones come with a section batch), unless they were split from
                # this very title, Markdown and headings.
                resplit = [url for url in pages if url not in sections_stand]
                models.delete_sections([before[url][0] for url in resplit if url in before])
                for url in resplit:
                    row = pages[url]
                    self._add_unsectioned(
                        (after[url][0], url, row["title"], row["markdown"], row["headings"]),
                        prepared[url].sections if url in prepared else None,
                    )
                for url, row in pages.items():
                    previous = before.get(url)
                    change = (
                        models.NEW
                        if previous is None
                        else models.UNCHANGED
                        if previous[1] == row["content_hash"]
                        else models.CHANGED
                    )
                    sightings.append((after[url][0], change, row["content_hash"]))
                    if change != models.UNCHANGED:
                        ready = prepared.get(url)
                        markdown = row["markdown"]
                        if ready is not None and ready.compressed_markdown is not None:
                            markdown = ready.compressed_markdown  # the worker's compress()
                        versions.append((after[url][0], row["content_hash"], markdown, self.job_id))
                history.record_versions(versions)
            for url, fetched_at in not_modified.items():
                if url in before:
                    page_id, content_hash = before[url]
                    Page.update(job=self.job_id, fetched_at=fetched_at).where(
                        Page.id == page_id
                    ).execute()
                    sightings.append((page_id, models.UNCHANGED, content_hash))
            self._add_missing_sections([before[url][0] for url in not_modified if url in before])
            if (
                final
                or len(self.unsectioned) >= self.section_batch_size
                or self.unsectioned_chars >= SECTION_BATCH_MAX_CHARS
            ):
                self._write_sections()
            new_to_job = self._not_yet_seen([page_id for page_id, _, _ in sightings])
            models.insert_rows(
                JobPage,
                [
                    {"job": self.job_id, "page": page_id, "change": change, "content_hash": h}
                    for page_id, change, h in sightings
                ],
                conflict=("job", "page"),
                update=("change", "content_hash"),
            )
            for url, kind in retracted:
                Ledger = models.CrawlError
                Ledger.delete().where(
                    (Ledger.job == self.job_id) & (Ledger.kind == kind) & (Ledger.url == url)
                ).execute()
            models.insert_rows(models.CrawlError, [{**row, "job": self.job_id} for row in errors])
            # A page this job had already stored (fetched again after a crash) is no new page.
            job_state.add_stored(
                self.job_id,
                pages=new_to_job,
                errors=sum(unstored[kind] for kind in models.ERROR_KINDS),
                skipped=unstored,
            )
        self.stored_pages += len(sightings)
        self.crawler.stats.set_value("docscrawl/stored_pages", self.stored_pages)
        logger.debug("Stored %d pages and %d errors", len(sightings), len(errors))

    def _add_unsectioned(self, page: tuple, split: Any) -> None:
        """A stored page whose sections the next section batch writes (the last one wins)."""
        replaced = self.unsectioned.pop(page[0], None)  # to the end: after what came before
        if replaced is not None:
            self.unsectioned_chars -= len(replaced[3] or "")
        self.unsectioned[page[0]] = page
        self.unsectioned_chars += len(page[3] or "")
        if split is None:
            self.unsectioned_split.pop(page[0], None)
        else:
            self.unsectioned_split[page[0]] = split

    def _add_missing_sections(self, page_ids: list[int]) -> None:
        """Of these pages (answered 304, or stored by this job before it was resumed), those
        stored without sections (their crawl was killed before its section batch) get them from
        the stored Markdown."""
        if not page_ids:
            return
        Page, PageSection = models.Page, models.PageSection
        has_sections = peewee.fn.EXISTS(
            PageSection.select(peewee.SQL("1")).where(PageSection.page == Page.id)
        )
        for start in range(0, len(page_ids), 500):
            query = Page.select(Page.id, Page.url, Page.title, Page.markdown, Page.headings).where(
                (Page.id << page_ids[start : start + 500]) & (Page.markdown != "") & ~has_sections
            )
            for page in query.tuples():
                if page[0] not in self.unsectioned:
                    self._add_unsectioned(page, None)

    def _write_sections(self) -> None:
        """Write the sections of the pages waiting for them, in the caller's transaction."""
        if not self.unsectioned:
            return
        waiting, split = self.unsectioned, self.unsectioned_split
        self.unsectioned, self.unsectioned_split, self.unsectioned_chars = {}, {}, 0
        # Only pages stored as they wait: another writer may have removed one (dedupe) or
        # stored it again since (another crawl of the client, the template fix-up), and wrote
        # the sections of what it stored.
        Page, ids, current = models.Page, list(waiting), set()
        for start in range(0, len(ids), 500):
            query = Page.select(Page.id, Page.title, Page.markdown, Page.headings).where(
                Page.id << ids[start : start + 500]
            )
            for page_id, title, markdown, headings in query.tuples():
                _, _, waiting_title, waiting_markdown, waiting_headings = waiting[page_id]
                if (
                    title == waiting_title
                    and (markdown or "") == (waiting_markdown or "")
                    and headings == _as_stored(waiting_headings)
                ):
                    current.add(page_id)
        pages = [page for page_id, page in waiting.items() if page_id in current]
        unsplit = models.write_sections(pages, split=split)
        if unsplit:
            self.crawler.stats.inc_value("docscrawl/section_failures", unsplit)

    def _unchanged(
        self, before: dict[str, tuple[int, str]], pages: dict[str, dict[str, Any]]
    ) -> tuple[dict[str, int], set[str]]:
        """Of the pages whose text is the one stored (most pages of a recrawl): url -> stored
        fingerprint (not computed again), and the urls whose stored sections stand.

        A page's sections follow from its title, Markdown and headings (its URL is its key), so
        a page that has sections and comes back with the same three keeps them: no delete and
        insert of every section, each of which the search index would take out and put back.
        (The text alone is not enough: a link's target changes the Markdown, not the text.)
        """
        Page, PageSection = models.Page, models.PageSection
        same = {
            before[url][0]: url
            for url, row in pages.items()
            if url in before and before[url][1] == row["content_hash"]
        }
        known: dict[str, int] = {}
        sections_stand: set[str] = set()
        has_sections = peewee.fn.EXISTS(
            PageSection.select(peewee.SQL("1")).where(PageSection.page == Page.id)
        )
        ids = list(same)
        for start in range(0, len(ids), 500):
            query = Page.select(
                Page.id, Page.simhash, Page.title, Page.markdown, Page.headings, has_sections
            ).where(Page.id << ids[start : start + 500])
            for page_id, simhash, title, markdown, headings, sectioned in query.tuples():
                url = same[page_id]
                if simhash is not None:
                    known[url] = simhash
                row = pages[url]
                if (
                    sectioned
                    and title == row["title"]
                    and (markdown or "") == (row["markdown"] or "")
                    and headings == _as_stored(row["headings"])
                ):
                    sections_stand.add(url)
        return known, sections_stand

    def _keep_fingerprints(
        self,
        before: dict[str, tuple[int, str]],
        after: dict[str, tuple[int, str]],
        rows: list[dict[str, Any]],
    ) -> None:
        """Set again the fingerprint of each stored page whose new text has the old one's.

        The store's trigger clears a fingerprint that an update of the text left as it was
        (docscrawl/fingerprints.py): a writer that did not know about it. The upsert cannot be
        told from such a writer, so every page that was already stored is checked (its text
        may differ in a way its fingerprint does not see: a small edit, only spaces).
        """
        changed = [row for row in rows if row["url"] in before]
        if not changed:
            return
        Page = models.Page
        ids = {after[row["url"]][0]: row["simhash"] for row in changed}
        cleared = []
        keys = list(ids)
        for start in range(0, len(keys), 500):
            cleared += [
                (page_id, ids[page_id])
                for (page_id,) in Page.select(Page.id)
                .where((Page.id << keys[start : start + 500]) & Page.simhash.is_null())
                .tuples()
            ]
        if cleared:
            fingerprints.write(models.database.obj, cleared)

    def _not_yet_seen(self, page_ids: list[int]) -> int:
        """How many of these pages this job has not stored yet."""
        JobPage = models.JobPage
        seen = 0
        for start in range(0, len(page_ids), 500):
            seen += (
                JobPage.select()
                .where(
                    (JobPage.job == self.job_id)
                    & (JobPage.page << page_ids[start : start + 500])
                    & (JobPage.change != models.REMOVED)
                )
                .count()
            )
        return len(page_ids) - seen

    def _stored(self, urls: list[str]) -> dict[str, tuple[int, str]]:
        """url -> (page id, content hash) for the client's stored pages among urls."""
        Page = models.Page
        found: dict[str, tuple[int, str]] = {}
        for start in range(0, len(urls), 500):
            query = Page.select(Page.url, Page.id, Page.content_hash).where(
                (Page.client == self.client_id) & (Page.url << urls[start : start + 500])
            )
            found.update((url, (page_id, digest)) for url, page_id, digest in query.tuples())
        return found


def _as_stored(headings: Any) -> Any:
    """Headings as the store gives them back (JSON's lists and dicts)."""
    return json.loads(models.Page.headings.db_value(headings or []))
