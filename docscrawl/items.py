"""Items the docs spider yields: one per stored page, one per URL that could not be fetched."""

from __future__ import annotations

import scrapy


class PageItem(scrapy.Item):
    """A fetched HTML page with everything extracted from it."""

    url = scrapy.Field()  # the page's identity: the normalised final URL
    requested_url = scrapy.Field()
    final_url = scrapy.Field()
    canonical_url = scrapy.Field()
    status_code = scrapy.Field()
    title = scrapy.Field()
    description = scrapy.Field()
    language = scrapy.Field()
    headings = scrapy.Field()
    markdown = scrapy.Field()
    text = scrapy.Field()
    links = scrapy.Field()
    word_count = scrapy.Field()
    content_hash = scrapy.Field()
    etag = scrapy.Field()
    last_modified = scrapy.Field()
    fetched_at = scrapy.Field()
    depth = scrapy.Field()


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
