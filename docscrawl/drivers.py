"""peewee without psycopg2 until a PostgreSQL store is opened.

peewee imports psycopg2 when it is imported, whatever the database; loading psycopg2 and libpq
is about 45 ms of every command's start-up (a quarter of `docscrawl status` on SQLite). The
package __init__ modules install a finder that lets peewee's own import see no psycopg2
(nothing else is affected, and a psycopg2 already imported is used as it is); `use_psycopg2()`
then gives peewee the driver, as its import would have, when a PostgreSQL store is opened.
peewee is pinned (setup.py): `use_psycopg2` sets exactly the names peewee 4.5.3's import sets.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any

_lock = threading.Lock()


class _PeeweeLoader:  # the loader protocol (importlib.abc costs an import of its own)
    """Runs peewee's module with psycopg2 absent from sys.modules' point of view."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: Any) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        blocked = "psycopg2" not in sys.modules
        if blocked:
            sys.modules["psycopg2"] = None  # type: ignore[assignment]  # `import` raises
        try:
            self.loader.exec_module(module)
        finally:
            if blocked and sys.modules.get("psycopg2", False) is None:
                del sys.modules["psycopg2"]


class _PeeweeFinder:  # the meta path finder protocol
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "peewee":
            return None
        # Once: the real spec from the finders after this one, with its loader wrapped.
        remove_finder()
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _PeeweeLoader(spec.loader)
        return spec


_finder = _PeeweeFinder()


def is_sqlite(db: Any) -> bool:
    """Whether the peewee database db is SQLite (else PostgreSQL): where the SQL differs."""
    import peewee

    return isinstance(db, peewee.SqliteDatabase)


def defer_psycopg2() -> None:
    """Make the coming import of peewee skip psycopg2 (a no-op once peewee is imported)."""
    with _lock:
        if "peewee" not in sys.modules and _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)


def remove_finder() -> None:
    with _lock:
        if _finder in sys.meta_path:
            sys.meta_path.remove(_finder)


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
