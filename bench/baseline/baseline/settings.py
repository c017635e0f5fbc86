"""Plain Scrapy settings: what `scrapy startproject` gives, made as safe as docscrawl's."""

BOT_NAME = "baseline"
SPIDER_MODULES = ["baseline.spiders"]
ROBOTSTXT_OBEY = True
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
