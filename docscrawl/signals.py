"""docscrawl's own Scrapy signals (objects, as Scrapy's are)."""

#: Ask the crawl to stop as a cancel (sent when the store says a cancel was requested).
#: args: origin (str)
stop_requested = object()

#: A cancel has begun: queued downloads are being dropped and the spider is closing.
#: args: origin (str)
cancel_started = object()
