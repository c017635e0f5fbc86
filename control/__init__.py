"""The docscrawl command-line tool and its glue to Scrapyd and the store."""

import docscrawl  # noqa: F401  # first: it keeps psycopg2 out of peewee's import (drivers.py)
