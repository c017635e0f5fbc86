"""The docscrawl command-line tool and its glue to Scrapyd and the store."""
