"""The least a Scrapy crawl can do: fetch its start URL and nothing else (bench/concurrency.py
times how long `scrapy crawl` takes to its first request with it)."""

from typing import Any

import scrapy


class EmptySpider(scrapy.Spider):
    name = "empty"

    def __init__(self, url: str, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.start_urls = [url]

    def parse(self, response: Any) -> None:
        return None
