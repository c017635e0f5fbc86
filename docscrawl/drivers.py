"""peewee without psycopg2 until a PostgreSQL store is opened.

peewee imports psycopg2 when it is imported, whatever the database; loading psycopg2 and libpq
is about 45 ms of every command's start-up (a quarter of `docscrawl status` on SQLite). The
package __init__ modules install a finder (docscrawl/lean_imports.py) that lets peewee's own
import see no psycopg2 (nothing else is affected, and a psycopg2 already imported is used as it
is); `use_psycopg2()` then gives peewee the driver, as its import would have, when a
PostgreSQL store is opened.
peewee is pinned (setup.py): `use_psycopg2` sets exactly the names peewee 4.5.3's import sets.
"""

from __future__ import annotations

import threading
from typing import Any

from docscrawl.lean_imports import PEEWEE_WITHOUT_PSYCOPG2

_lock = threading.Lock()


def is_sqlite(db: Any) -> bool:
    """Whether the peewee database db is SQLite (else PostgreSQL): where the SQL differs."""
    import peewee

    return isinstance(db, peewee.SqliteDatabase)


def defer_psycopg2() -> None:
    """Make the coming import of peewee skip psycopg2 (a no-op once peewee is imported)."""
    PEEWEE_WITHOUT_PSYCOPG2.install()


def use_psycopg2() -> None:
    """Give peewee the psycopg2 driver, as its import does when psycopg2 is there.

    Raises ImportError when psycopg2 is not installed (peewee then says the driver is missing
    when connecting, as it would have anyway)."""
    import peewee

    with _lock:
        if peewee.psycopg2 is not None:
            return
        import psycopg2
        from psycopg2 import extensions
        from psycopg2.extras import Json, register_uuid

        register_uuid()
        peewee.psycopg2 = psycopg2
        peewee.pg_extensions = extensions
        peewee.Json_pg2 = Json
        adapter = peewee.Psycopg2Adapter
        adapter.txn_idle = extensions.TRANSACTION_STATUS_IDLE
        adapter.txn_inerror = extensions.TRANSACTION_STATUS_INERROR
        adapter.txn_unknown = extensions.TRANSACTION_STATUS_UNKNOWN
