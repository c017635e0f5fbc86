"""One task at a time on a second thread while the caller prepares the next: what a big export
or store copy uses to overlap its reads and encoding with its writes (file system calls,
psycopg2's COPY and SQLite's reads release the GIL)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class SecondThread:
    """`submit` waits for the task before it (so at most one runs while the caller works on the
    next) and raises its error on the caller's thread. Leaving the block without an error
    waits for the last task; with one, it still waits, so that nothing writes after the caller
    has cleaned up."""

    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._running: Future[None] | None = None

    def __enter__(self) -> SecondThread:
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        try:
            if kind is None:
                self.wait()
        finally:
            self._executor.shutdown(wait=True)

    def submit(self, task: Callable[..., None], *args: Any) -> None:
        self.wait()
        self._running = self._executor.submit(task, *args)

    def wait(self) -> None:
        """Wait for the task that runs, if any; raise its error here."""
        if self._running is not None:
            running, self._running = self._running, None
            running.result()
