"""Items the docs spider yields: one per stored page, one per URL that could not be fetched."""

from __future__ import annotations

from typing import Any

import scrapy

from docscrawl.models import PAGE_FIELDS

PREPARED = "prepared"


class PageItem(scrapy.Item):
    """A fetched HTML page with everything extracted from it: a field per models.PAGE_FIELDS."""

    # From the Page model, not field by field, so the two cannot drift apart. `fields` is what
    # Scrapy builds from Field attributes; a class may also give it whole. Then `prepared`,
    # which is no column: what the store derives from the page (its fingerprint and sections)
    # when an extraction worker computed it already (docscrawl.extraction_pool.PreparedPage),
    # else None and the pipeline computes it.
    fields = {name: scrapy.Field() for name in PAGE_FIELDS} | {PREPARED: scrapy.Field()}


def page_item(**values: Any) -> PageItem:
    """A PageItem with every page field set; a field left out is a TypeError, not a NULL."""
    missing = [name for name in PAGE_FIELDS if name not in values]
    if missing:
        raise TypeError(f"A PageItem needs every page field; missing: {', '.join(missing)}.")
    values.setdefault(PREPARED, None)
    return PageItem(**values)


class CrawlErrorItem(scrapy.Item):
    """A URL the crawl did not store, and why: a failed fetch or a URL it chose to skip."""

    url = scrapy.Field()
    kind = scrapy.Field()  # one of models.KINDS
    status_code = scrapy.Field()
    reason = scrapy.Field()
    occurred_at = scrapy.Field()
    count = scrapy.Field()  # how many URLs the entry stands for (a sitemap's overflow), 1 if unset


class NotModifiedItem(scrapy.Item):
    """A page the server answered 304 Not Modified for: seen again, unchanged, content kept."""

    url = scrapy.Field()
    fetched_at = scrapy.Field()


class LedgerRetraction(scrapy.Item):
    """An earlier ledger entry of this crawl that no longer holds: a URL refused as a trap when
    a chain of numbered pages led to it, fetched after all once an index or a sitemap listed
    it. The pipeline removes the entry and takes it out of the job's counts."""

    url = scrapy.Field()  # as the entry has it
    kind = scrapy.Field()
