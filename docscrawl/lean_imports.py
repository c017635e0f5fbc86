"""Imports that leave out an optional module their code probes for but docscrawl never uses.

Two libraries import an optional module the moment they are imported, whatever they are then
used for:

- peewee imports psycopg2 (and libpq): about 45 ms of every command's start-up on SQLite.
  docscrawl/drivers.py gives peewee the driver when a PostgreSQL store is opened.
- itemadapter (imported by Scrapy) imports pydantic, to recognise pydantic models as items:
  about 8 MiB in every crawl process. docscrawl's spiders yield Scrapy Items, and pydantic is
  installed only for `docscrawl serve`'s FastAPI.

``ImportWithout(importer, hidden)`` is a meta path finder that runs the importer's module with
the hidden module absent from sys.modules' point of view. The hidden module imports as usual
before and after (and one already imported is used as it is). While the importer's module
runs, the hidden one is absent for every thread, so the package __init__ installs the finders
before anything imports these libraries: docscrawl imports both at start-up, before it starts
a thread (`docscrawl serve` imports FastAPI, and so pydantic, before anything imports
itemadapter).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any

_lock = threading.Lock()


class _LoaderWithout:  # the loader protocol (importlib.abc costs an import of its own)
    def __init__(self, loader: Any, hidden: str) -> None:
        self.loader = loader
        self.hidden = hidden

    def create_module(self, spec: Any) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        blocked = self.hidden not in sys.modules
        if blocked:
            sys.modules[self.hidden] = None  # type: ignore[assignment]  # `import` raises
        try:
            self.loader.exec_module(module)
        finally:
            if blocked and sys.modules.get(self.hidden, False) is None:
                del sys.modules[self.hidden]


class ImportWithout:  # the meta path finder protocol
    """Import the module `importer` with the module `hidden` looking absent, once."""

    def __init__(self, importer: str, hidden: str) -> None:
        self.importer = importer
        self.hidden = hidden
        self.used = False

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != self.importer or self.used:
            return None
        # Once: the real spec from the finders after this one, with its loader wrapped. The
        # finder stays in sys.meta_path (another thread may be walking it) and answers no more.
        with _lock:
            if self.used:
                return None
            self.used = True
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _LoaderWithout(spec.loader, self.hidden)
        return spec

    def install(self) -> None:
        """Take effect on the importer's coming import (a no-op once it is imported)."""
        with _lock:
            if self.importer not in sys.modules:
                self.used = False
                if self not in sys.meta_path:
                    sys.meta_path.insert(0, self)

    def remove(self) -> None:
        with _lock:
            if self in sys.meta_path:
                sys.meta_path.remove(self)


PEEWEE_WITHOUT_PSYCOPG2 = ImportWithout("peewee", "psycopg2")
ITEMADAPTER_WITHOUT_PYDANTIC = ImportWithout("itemadapter._imports", "pydantic")
