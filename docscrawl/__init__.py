"""docscrawl: a documentation-site crawler (the Scrapy project)."""
