"""Extraction on the machine's other cores: a process pool fed with response text.

A crawl's reactor thread downloads, schedules and stores; parsing and extracting a real docs
page costs about as much again. In one process the two take turns on one core. The pool moves
extraction into worker processes, so that on a machine with two cores both work at once.

The pool starts only when it pays. Pages are extracted in the crawl's own process, and their
cost is measured, until extraction takes more than ``DOCSCRAWL_EXTRACTION_POOL_THRESHOLD`` of
the reactor's time over the last second or so, and the machine has a core to spare. Only then
does the pool start (its workers are spawned as pages wait for them, up to
``DOCSCRAWL_EXTRACTION_PROCESSES``). A polite crawl, which spends most of its time waiting for
its download delay, never starts one and stays small; nor do crawls that already keep every
core busy (several on one Scrapyd node), where workers would only take turns with them.

A worker runs :func:`docscrawl.extraction.extract_html` on the text Scrapy decoded; it parses
it exactly as parsel parses ``response.selector``, so a page comes out the same either way
(tests/test_extraction_pool.py checks it byte for byte on the generator corpus).

Workers are killed, not drained, when the crawl closes or is cancelled, and they die with the
crawl process (``PR_SET_PDEATHSIG``) even when that is killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import sys
import time
import types
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import Any, NamedTuple

from docscrawl.extraction import ExtractedPage, SiteOverrides, extract_html
from docscrawl.extraction.sections import Section

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# How long a look back the in-process cost is averaged over, in seconds.
WINDOW = 1.0
# How often, at most, the machine's idle CPU is read (a shorter interval reads noise).
CPU_CHECK_INTERVAL = 0.5
# Idle CPU (in cores) the machine must have for the pool to start: workers on a machine whose
# cores are all busy (other crawls, say) would only take turns with them, and cost memory.
MIN_SPARE_CORES = 0.5
# More workers than this would only cost memory (31 MiB each) on any machine docscrawl runs on.
MAX_PROCESSES = 64

# The worker's own state: the site's overrides, compiled once per worker.
_worker_overrides: SiteOverrides | None = None


def _start_worker(main_selector: str, drop_selectors: list[str]) -> None:
    """Initialise a worker: die with the crawl, ignore Ctrl-C (the crawl handles it), compile."""
    global _worker_overrides
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the executor's own checks remain
        pass
    if os.getppid() == 1:  # the crawl died before prctl took effect
        os._exit(0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_overrides = SiteOverrides.from_settings(main_selector, drop_selectors)


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """While a worker is started: a spawned child imports the parent's ``__main__`` first, and
    a worker needs nothing of it (the docscrawl CLI, or Scrapyd's runner and with it Scrapy):
    12 MiB and half a second a worker, for nothing."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


class _WorkerProcess(SpawnProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        with _main_module_hidden():
            return SpawnProcess._Popen(process_obj)


class _WorkerContext(SpawnContext):
    """spawn, not fork: the crawl has threads by now (DNS, the executor's own), and a forked
    child could inherit one of their locks held."""

    Process = _WorkerProcess


class PreparedPage(NamedTuple):
    """What the store derives from a page (its Page.simhash, its sections and its Markdown as
    a version keeps it), computed by the worker that extracted it so that the crawl's own
    thread need not. Exactly what the pipeline would compute (docscrawl.models.derived_columns,
    write_sections, history.compress)."""

    simhash: int
    sections: list[Section]
    compressed_markdown: bytes | None = None  # None: the pipeline compresses it


class Extraction(NamedTuple):
    page: ExtractedPage
    prepared: PreparedPage | None  # None: extracted in the crawl's process, or not splittable


def prepare(page: ExtractedPage, store_url: str) -> PreparedPage | None:
    """The page's derived columns and sections, as the store would make them at store_url."""
    from docscrawl.extraction.sections import split_sections
    from docscrawl.fingerprints import fingerprint
    from docscrawl.history import compress

    try:
        sections = split_sections(
            store_url, page.title, page.markdown or "", page.heading_records()
        )
    except Exception:  # noqa: BLE001 - the pipeline splits it again, and counts the failure
        return None
    return PreparedPage(fingerprint(page.text), sections, compress(page.markdown or ""))


def _extract_in_worker(text: str, url: str, store_url: str | None) -> Extraction:
    page = extract_html(text, url, None, _worker_overrides)
    return Extraction(page, prepare(page, store_url) if store_url is not None else None)


def spare_cores() -> float:
    """Idle CPU, in cores, of the cores this process may use, since the last call."""
    import psutil

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    busy = psutil.cpu_percent(interval=None) / 100  # of all the machine's cores
    total = psutil.cpu_count() or cores
    return max(0.0, min(cores, total * (1 - busy)))


class ExtractionPool:
    """Extract pages in the crawl's process until that costs too much, then on other cores."""

    def __init__(
        self,
        processes: int,
        threshold: float,
        overrides: SiteOverrides,
        main_selector: str = "",
        drop_selectors: list[str] | None = None,
    ) -> None:
        self.processes = processes
        self.threshold = threshold
        self.overrides = overrides
        self._selectors = (main_selector, list(drop_selectors or []))
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False
        self._accepting = True
        # The pages at the workers (their futures) and the caller's token for each.
        self._pending: dict[Future, Any] = {}
        # The workers of a pool stopped by a cancel (shutdown() forgets them), to kill at close.
        self._stopped: list[Any] = []
        # Seconds spent extracting in this process, decayed over WINDOW, and when last updated.
        self._busy = 0.0
        self._since = time.monotonic()
        self._cpu_checked = time.monotonic()
        if processes > 0 and 0 < threshold < 1:  # only then is the machine's CPU ever read
            spare_cores()  # starts the measurement the first check reads
        self.in_process = 0  # pages extracted here
        self.in_pool = 0  # pages extracted by the workers

    @classmethod
    def from_settings(cls, settings: Any, overrides: SiteOverrides) -> ExtractionPool:
        """The pool a crawl's settings ask for (ValueError, in a sentence, for a bad value)."""
        try:
            processes = settings.getint("DOCSCRAWL_EXTRACTION_PROCESSES")
            threshold = settings.getfloat("DOCSCRAWL_EXTRACTION_POOL_THRESHOLD")
        except (TypeError, ValueError):
            raise ValueError(
                "DOCSCRAWL_EXTRACTION_PROCESSES takes a whole number and "
                "DOCSCRAWL_EXTRACTION_POOL_THRESHOLD a number"
            ) from None
        if not 0 <= processes <= MAX_PROCESSES:
            raise ValueError(
                f"DOCSCRAWL_EXTRACTION_PROCESSES must be from 0 (no pool) to {MAX_PROCESSES}"
            )
        if not 0 <= threshold <= 1:
            raise ValueError("DOCSCRAWL_EXTRACTION_POOL_THRESHOLD must be from 0 to 1")
        drop = settings.get("DOCSCRAWL_DROP_SELECTORS") or ""
        return cls(
            processes,
            threshold,
            overrides,
            settings.get("DOCSCRAWL_MAIN_SELECTOR") or "",
            [drop] if isinstance(drop, str) else list(drop),
        )

    @property
    def started(self) -> bool:
        return self._executor is not None

    @property
    def share(self) -> float:
        """The share of the last WINDOW seconds this process spent extracting."""
        return self._decayed(time.monotonic()) / WINDOW

    def _decayed(self, now: float) -> float:
        elapsed = now - self._since
        if elapsed > 0:
            self._busy *= max(0.0, 1 - elapsed / WINDOW)
            self._since = now
        return self._busy

    async def extract(
        self, text: str, url: str, token: Any = None, store_url: str | None = None
    ) -> Extraction | None:
        """The page extracted from ``text`` (Scrapy's decoded response), or None when a cancel
        took it back (its ``token`` is in what stop() returned) or the pool is closed. A
        worker also prepares what the store derives from the page, when given ``store_url``
        (the URL the page is stored under)."""
        if self._closed:
            return None
        if self._executor is None and (not self._accepting or not self._should_start()):
            return self._extract_here(text, url)
        executor = self._executor or self._start()
        try:
            work = executor.submit(_extract_in_worker, text, url, store_url)
        except (BrokenProcessPool, RuntimeError):  # a worker died
            return self._recover(text, url)
        self._pending[work] = token
        try:
            extraction = await asyncio.wrap_future(work)
        except asyncio.CancelledError:
            return None  # taken back by stop(), or the pool was closed under it
        except BrokenProcessPool:
            return self._recover(text, url)
        finally:
            self._pending.pop(work, None)
        if self._closed:  # came back while the crawl was closing: nothing more is stored
            return None
        self.in_pool += 1
        return extraction

    def stop(self) -> list[Any]:
        """A cancel: the workers finish the pages they hold (milliseconds), the pages still
        waiting for one are taken back (their tokens are returned), and pages that come later
        are extracted in this process, as before the pool."""
        self._accepting = False
        executor, self._executor = self._executor, None
        if executor is None:
            return []
        # Cancelled here, not by shutdown(cancel_futures=True), which leaves it to the
        # executor's thread: a future a worker has not taken yet cancels; one it has, runs on.
        taken_back = [token for work, token in list(self._pending.items()) if work.cancel()]
        self._stopped.extend(_workers(executor))
        executor.shutdown(wait=False, cancel_futures=True)
        return taken_back

    def _should_start(self) -> bool:
        if self.processes == 0 or self.threshold >= 1 or self.share < self.threshold:
            return False
        if self.threshold == 0:  # asked for from the first page, whatever the machine does
            return True
        now = time.monotonic()
        if now - self._cpu_checked < CPU_CHECK_INTERVAL:
            return False
        self._cpu_checked = now
        return spare_cores() >= MIN_SPARE_CORES

    def _extract_here(self, text: str, url: str) -> Extraction:
        started = time.monotonic()
        page = extract_html(text, url, None, self.overrides)
        finished = time.monotonic()
        self._busy = self._decayed(finished) + (finished - started)
        self.in_process += 1
        return Extraction(page, None)

    def _start(self) -> ProcessPoolExecutor:
        self._executor = ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=_WorkerContext(),
            initializer=_start_worker,
            initargs=self._selectors,
        )
        logger.info(
            "Extraction took %.0f%% of the crawl's time: extracting on up to %d other processes",
            100 * self.share,
            self.processes,
        )
        return self._executor

    def _recover(self, text: str, url: str) -> Extraction | None:
        """A worker died (a page crashed libxml2, or the OOM killer): go on in this process."""
        if self._closed:
            return None
        if self._executor is not None:
            logger.warning("An extraction worker died; extracting in the crawl's process again")
            self._kill()
            self.processes = 0  # a page that crashes a worker may crash it again: stay here
        return self._extract_here(text, url)

    def close(self) -> None:
        """Stop now (the crawl is closed): pages at the workers get None, the workers die."""
        self._closed = True
        for work in list(self._pending):
            work.cancel()
        self._kill()
        _kill_processes(self._stopped)
        self._stopped.clear()

    def _kill(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        workers = _workers(executor)  # before shutdown(), which forgets them
        executor.shutdown(wait=False, cancel_futures=True)
        _kill_processes(workers)


def _workers(executor: ProcessPoolExecutor) -> list[Any]:
    """The executor's worker processes (its private map: concurrent.futures has no public way
    to stop a worker in the middle of a call, and shutdown() would wait for it)."""
    return list((getattr(executor, "_processes", None) or {}).values())


def _kill_processes(processes: list[Any]) -> None:
    for process in processes:
        if process.is_alive():
            process.kill()
    for process in processes:
        process.join(timeout=1)
