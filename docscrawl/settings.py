"""Scrapy settings for the docscrawl project.

Every docscrawl-specific setting starts with ``DOCSCRAWL_``. Anything here can be overridden per
crawl with ``docscrawl crawl -s KEY=VALUE`` or Scrapyd's ``setting=KEY=VALUE``, exactly as with
``scrapy crawl -s``.
"""

import os

from scrapy.settings import default_settings as _scrapy

from docscrawl.when_enabled import without_idle_imports

BOT_NAME = "docscrawl"

SPIDER_MODULES = ["docscrawl.spiders"]
NEWSPIDER_MODULE = "docscrawl.spiders"

USER_AGENT = "docscrawl/0.1 (+documentation crawler; contact the operator of this crawl)"

# Polite defaults for crawling customers' documentation sites; -s overrides any of them.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 8
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.1
AUTOTHROTTLE_MAX_DELAY = 10.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 1
# Documentation pages are small; anything this big is not a page we want.
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
# Scrapy's default resolver knows IPv4 only; this one (getaddrinfo) also resolves IPv6, and an
# IPv6 literal start URL (http://[::1]:8000/docs/) crawls.
DNS_RESOLVER = "scrapy.resolver.CachingHostnameResolver"
# Scrapy starts up to CONCURRENT_ITEMS tasks for every response's output; docscrawl's pipeline
# is a quick in-memory buffer, so a few are enough and the rest is pure overhead (bench/).
CONCURRENT_ITEMS = 4

# Production safety: no telnet console and no remote-control server (it runs arbitrary Python
# sent to it) in crawl processes.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

ITEM_PIPELINES = {
    "docscrawl.pipelines.PageStorePipeline": 300,
}

# Scrapy's own lists, with stand-ins that import a component only when its setting turns it on
# (docscrawl/when_enabled.py): a polite crawl process then takes about 10 MiB less.
DOWNLOADER_MIDDLEWARES_BASE = without_idle_imports(_scrapy.DOWNLOADER_MIDDLEWARES_BASE)
EXTENSIONS_BASE = without_idle_imports(_scrapy.EXTENSIONS_BASE)

DOWNLOADER_MIDDLEWARES = {
    # Before OffsiteMiddleware (50) and RobotsTxtMiddleware (100): a refused redirect target is
    # not even asked for its robots.txt.
    "docscrawl.middlewares.RedirectScopeMiddleware": 40,
    "docscrawl.middlewares.ConditionalRequestsMiddleware": 560,
}

EXTENSIONS = {
    "docscrawl.extensions.JobLifecycle": 100,
    "docscrawl.extensions.FastCancel": 110,
    "docscrawl.extensions.ProgressReporter": 500,
}

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

# --- docscrawl ---------------------------------------------------------------------------------
# The store: an absolute SQLite path or a peewee database URL. Crawl processes started by Scrapyd
# run in Scrapyd's working directory, so relative paths are refused.
DOCSCRAWL_DB = None
# The pipeline writes pages in batches of this many, or after this many seconds, whichever first:
# what a SIGKILL can lose (bench/crash_window.py measures what it costs).
DOCSCRAWL_BATCH_SIZE = 25
DOCSCRAWL_FLUSH_INTERVAL = 0.25
# Pages whose sections are written in one statement (and the rest at the crawl's end): the
# search index pays a merge for every so many statements (pipelines.py).
DOCSCRAWL_SECTION_BATCH_SIZE = 500
# How often a running job writes its heartbeat (pages, errors, queue) to the store.
DOCSCRAWL_HEARTBEAT_INTERVAL = 2.0
# Live progress on stderr; the CLI turns it on for foreground crawls.
DOCSCRAWL_PROGRESS = False
DOCSCRAWL_PROGRESS_INTERVAL = 1.0
# Keep the scheduler's queue on disk (a throwaway JOBDIR) so memory stays flat on big sites.
DOCSCRAWL_DISK_QUEUE = True
# ... with its newest requests (at most this many per priority) kept in memory on top of it, in
# the same LIFO order: most crawls' queues then never touch the disk (docscrawl/request_queue.py).
# 0 keeps every request on disk, as Scrapy's own disk queue does.
SCHEDULER_DISK_QUEUE = "docscrawl.request_queue.MemoryFirstLifoDiskQueue"
DOCSCRAWL_QUEUE_MEMORY_REQUESTS = 2000
# Re-crawls send If-None-Match / If-Modified-Since from the stored ETag and Last-Modified.
DOCSCRAWL_CONDITIONAL_REQUESTS = True
# On a cancel, how long an in-flight download may hold the stop before it is abandoned.
DOCSCRAWL_CANCEL_INFLIGHT_TIMEOUT = 0.5
# On a cancel, how long to spend saving the scheduler's queue to the store (the rest can be
# rebuilt from the stored pages' links on a resume).
DOCSCRAWL_CANCEL_DRAIN_BUDGET = 0.2

# --- safe by default: spider traps and sitemap bounds (0 turns a rule off) ----------------------
# Bounds a documentation site does not reach and a spider trap reaches quickly. A URL that trips
# one is not fetched (a page: not stored) and the job's ledger names the rule.
DOCSCRAWL_TRAP_MAX_URL_LENGTH = 2048  # characters
DOCSCRAWL_TRAP_MAX_PATH_SEGMENTS = 24  # /a/b/c/... deeper than this
DOCSCRAWL_TRAP_MAX_SEGMENT_REPEATS = 3  # one segment more often than this in a path (/a/a/a/a/)
DOCSCRAWL_TRAP_MAX_QUERY_PARAMS = 12  # parameters in one query string
DOCSCRAWL_TRAP_MAX_QUERY_VARIANTS = 100  # multi-parameter query strings for one path (facets)
# Pages in a row each found only on one before it, with a number or id that one did not have
# (an endless /calendar/2026/12/, ?page=7, /s-<session id>/).
DOCSCRAWL_TRAP_MAX_NUMBERED_CHAIN = 100
# URLs of one shape (numbers and ids blanked) found on pages with other numbers.
DOCSCRAWL_TRAP_MAX_NUMBERED_SHAPE = 500
DOCSCRAWL_TRAP_MAX_SAME_CONTENT = 20  # pages with one title and main text (a soft-404 site)
# Sitemap index nesting, sitemap files and sitemap URLs one crawl reads at most.
DOCSCRAWL_SITEMAP_MAX_DEPTH = 4
DOCSCRAWL_SITEMAP_MAX_FILES = 200
DOCSCRAWL_SITEMAP_MAX_URLS = 100_000
# Per-site selector overrides (CSS): the main content, and what never to keep inside it (one
# selector group, or a list). Empty: the extractor's own rules choose (docscrawl/extraction/).
DOCSCRAWL_MAIN_SELECTOR = ""
DOCSCRAWL_DROP_SELECTORS = ""
# Template learning (docscrawl/extraction/template.py): once a crawl has stored this many pages,
# a short block of main content found on at least this share of them is the site's template,
# dropped from later pages and, when the crawl closes, from the pages stored before.
# Extraction on other cores (docscrawl/extraction_pool.py): up to this many worker processes,
# started only once extraction takes DOCSCRAWL_EXTRACTION_POOL_THRESHOLD of the crawl's time
# (0: from the first page; 1, or 0 processes: always in the crawl's own process).
DOCSCRAWL_EXTRACTION_PROCESSES = (  # the cores this crawl may use
    len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
)
DOCSCRAWL_EXTRACTION_POOL_THRESHOLD = 0.25
DOCSCRAWL_TEMPLATE_LEARNING = True
DOCSCRAWL_TEMPLATE_MIN_PAGES = 10
DOCSCRAWL_TEMPLATE_SHARE = 0.8
# Ledger rows (URLs not stored, and why) kept per reason and crawl; past it only the counts grow.
DOCSCRAWL_LEDGER_MAX_ROWS = 10_000
