"""The throughput baseline: the CrawlSpider a Scrapy user would write to crawl a docs site."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import Response
from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule


class DocsBaselineSpider(CrawlSpider):
    """Follow every link under the start URL's path; one item per page: URL, title, main text."""

    name = "docs_baseline"

    def __init__(self, url: str, *args: Any, **kwargs: Any):
        parts = urlsplit(url)
        prefix = f"{parts.scheme}://{parts.netloc}{parts.path.rsplit('/', 1)[0]}/"
        self.start_urls = [url]
        self.allowed_domains = [parts.hostname or ""]
        self.rules = (
            Rule(LinkExtractor(allow=rf"^{re.escape(prefix)}"), callback="parse_page", follow=True),
        )
        super().__init__(*args, **kwargs)

    def parse_start_url(self, response: Response, **kwargs: Any) -> Iterator[dict[str, Any]]:
        return self.parse_page(response)

    def parse_page(self, response: Response) -> Iterator[dict[str, Any]]:
        texts = (text.strip() for text in response.css("main ::text").getall())
        yield {
            "url": response.url,
            "title": response.css("title::text").get(),
            "text": " ".join(text for text in texts if text),
        }
