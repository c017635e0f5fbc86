"""A plain follow-every-link CrawlSpider, as a Scrapy user would write it."""

from urllib.parse import urlsplit

from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule


class FollowSpider(CrawlSpider):
    name = "follow"

    def __init__(self, url: str, *args, **kwargs):
        self.start_urls = [url]
        self.allowed_domains = [urlsplit(url).hostname]
        self.rules = (Rule(LinkExtractor(), callback="parse_page", follow=True),)
        super().__init__(*args, **kwargs)

    def parse_start_url(self, response):
        return self.parse_page(response)

    def parse_page(self, response):
        yield {
            "url": response.url,
            "title": response.css("title::text").get(),
            "text": " ".join(response.css("main ::text, [role=main] ::text").getall()),
        }
