"""docscrawl's own Scrapy signals (objects, as Scrapy's are)."""

#: Ask the crawl to stop as a cancel (sent when the store says a cancel was requested).
#: args: origin (str)
stop_requested = object()

#: A cancel has begun: queued downloads are being dropped and the spider is closing.
#: args: origin (str). A receiver may return a list of the requests it abandons (fetched but
#: not stored), which are saved with the job's frontier for a resume.
cancel_started = object()
