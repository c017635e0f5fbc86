"""docscrawl: a documentation-site crawler (the Scrapy project)."""

from docscrawl.drivers import defer_psycopg2
from docscrawl.lean_imports import ITEMADAPTER_WITHOUT_PYDANTIC

defer_psycopg2()  # before anything imports peewee: psycopg2 is loaded only for PostgreSQL
ITEMADAPTER_WITHOUT_PYDANTIC.install()  # a crawl's items are Scrapy Items, never pydantic models
