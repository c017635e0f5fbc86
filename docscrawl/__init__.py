"""docscrawl: a documentation-site crawler (the Scrapy project)."""

from docscrawl.drivers import defer_psycopg2

defer_psycopg2()  # before anything imports peewee: psycopg2 is loaded only for PostgreSQL
