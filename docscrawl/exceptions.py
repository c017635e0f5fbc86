"""Exceptions of the Scrapy project."""

from scrapy.exceptions import IgnoreRequest


class CancelledBeforeDownload(IgnoreRequest):
    """A queued request dropped without being fetched because the crawl was cancelled."""
