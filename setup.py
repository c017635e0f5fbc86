"""docscrawl: a documentation-site crawler built on Scrapy, Scrapyd and peewee.

The `scrapy` entry point is what Scrapyd reads from the deployed egg; `docscrawl` is the CLI.
"""

from setuptools import find_packages, setup

setup(
    name="docscrawl",
    version="0.1.0",
    description="Crawl documentation sites into a store you can analyse, under Scrapyd",
    python_requires=">=3.11",
    # Not sample_site: the bundled sample docs site serves the tests and scripts/demo from the
    # repository root, and has no place in the egg Scrapyd runs.
    packages=find_packages(include=["docscrawl", "docscrawl.*", "control", "control.*"]),
    # The dashboard's templates and static files (no CDN: everything it loads is here).
    package_data={"control.server": ["templates/*.html", "static/*"]},
    install_requires=[
        "scrapy==2.19.0",
        "scrapyd==1.6.0",
        "scrapyd-client==2.0.3",
        "python-scrapyd-api==2.1.2",
        "peewee==4.5.3",
        "click==8.5.1",
        "psutil>=7,<8",
        # PostgreSQL stores (--db postgresql://...): every Scrapyd node's crawls need the driver.
        "psycopg2-binary>=2.9,<3",
        # `docscrawl export`: orjson encodes a page's big texts 40 times as fast as json.dumps,
        # with the same bytes (tests/test_export.py checks every code point).
        "orjson>=3.11,<4",
        # `docscrawl serve`: FastAPI gives the API's OpenAPI document and its request checks from
        # the same typed signatures; uvicorn serves it; Jinja2 renders the dashboard's pages;
        # python-multipart reads its forms; markdown-it-py renders a page's Markdown (with raw
        # HTML off: crawled text is never trusted as markup).
        "fastapi>=0.163,<0.164",
        "uvicorn>=0.54,<0.55",
        "jinja2>=3.1,<4",
        "python-multipart>=0.0.34,<0.1",
        "markdown-it-py>=4.3,<5",
        # Schedules: croniter reads cron expressions (next run times in a time zone); tzdata
        # gives zoneinfo the IANA zones on a machine without a system zone database.
        "croniter>=7,<8",
        "tzdata>=2026.1",
        # Scrapyd 1.6 reads eggs with pkg_resources, which setuptools 81 removed.
        "setuptools<81",
    ],
    extras_require={
        # httpx: the API tests' HTTP client (SSE streams included); selenium drives the system's
        # headless Chromium (Debian's chromium and chromium-driver) in the dashboard test.
        "test": [
            "pytest>=9,<10",
            "pytest-timeout>=2.4,<3",
            "hypothesis>=6.170,<7",
            "ruff==0.17.5",
            "httpx>=0.28,<0.29",
            "selenium>=4.40,<4.52",
        ],
        # bench/extraction_corpus.py compares the extractor with trafilatura.
        "bench": ["trafilatura>=2.0,<3"],
    },
    entry_points={
        "scrapy": ["settings = docscrawl.settings"],
        "console_scripts": ["docscrawl = control.cli:main"],
    },
)
