"""The scheduler's disk queue, with its newest requests kept in memory (SCHEDULER_DISK_QUEUE).

docscrawl keeps the scheduler's queue on disk (a JOBDIR: see the docs spider's update_settings),
so that a crawl of tens of thousands of pages does not hold every queued Request in memory. But
Scrapy's disk queue serialises every request it is given (``Request.to_dict``, then pickle and a
file write) and reads every one back, even on a crawl whose queue never holds more than a few
hundred: on a real manual, a tenth of the crawl thread's time.

``MemoryFirstLifoDiskQueue`` is Scrapy's PickleLifoDiskQueue with at most
DOCSCRAWL_QUEUE_MEMORY_REQUESTS of the newest requests in memory on top of it. Scrapy makes one
such queue per download slot and request priority: docscrawl's crawls have one slot (one host)
and, unless DEPTH_PRIORITY or the like is set, one priority, so it is the crawl's bound.

When memory is full, the oldest request there goes to disk. All that is on disk is then older
than all that is in memory, so the order is exactly the disk queue's LIFO order, and memory
stays bounded however long the crawl. On close (a pause of a crawl with its own JOBDIR) the
requests in memory are written to disk, oldest first, so that a resumed crawl finds every one in
its place. docscrawl's throwaway JOBDIR is removed when the crawl ends, so nothing is written
there (a cancel has taken the queue into the job's frontier first: extensions/fast_cancel.py).
A request that cannot be serialised stays in memory, as Scrapy's scheduler keeps it in its
memory queue.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from scrapy.squeues import PickleLifoDiskQueue

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

MEMORY_REQUESTS_SETTING = "DOCSCRAWL_QUEUE_MEMORY_REQUESTS"
DEFAULT_MEMORY_REQUESTS = 2000  # docscrawl/settings.py's
MAX_MEMORY_REQUESTS = 1_000_000  # docscrawl.runner.AT_MOST says so to the CLI too


def memory_limit(settings: Any) -> int:
    """DOCSCRAWL_QUEUE_MEMORY_REQUESTS, checked; ValueError in a sentence when it is unusable.

    The docs spider calls it when it is made, so that a bad value fails the crawl at its start:
    inside the queue, a ValueError would read to Scrapy's scheduler as "this request cannot be
    serialised", which it answers by keeping every request in its unbounded memory queue.
    """
    raw = settings.get(MEMORY_REQUESTS_SETTING)
    if raw is None:  # settings without docscrawl's (a bare get_crawler): its default
        return DEFAULT_MEMORY_REQUESTS
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or isinstance(raw, float) or not 0 <= value <= MAX_MEMORY_REQUESTS:
        raise ValueError(
            f"{MEMORY_REQUESTS_SETTING} must be a whole number from 0 to "
            f"{MAX_MEMORY_REQUESTS:,}, not {raw!r}"
        )
    return value


class MemoryFirstLifoDiskQueue:
    """A LIFO queue of requests: the newest in memory, the rest in Scrapy's pickle disk queue."""

    def __init__(self, disk: Any, memory_limit: int, keep_on_close: bool = True) -> None:
        self.disk = disk
        self.memory_limit = memory_limit
        self.keep_on_close = keep_on_close
        self.memory: deque[Request] = deque()  # the newest requests, oldest on the left
        self.unserialisable: list[Request] = []  # refused by the disk queue when spilled

    @classmethod
    def from_crawler(cls, crawler: Crawler, key: str, *args: Any, **kwargs: Any):
        try:
            limit = memory_limit(crawler.settings)
        except ValueError as error:  # not a ValueError: see memory_limit
            raise RuntimeError(str(error)) from None
        disk = PickleLifoDiskQueue.from_crawler(crawler, key)
        if limit == 0:
            return disk  # the setting's way to keep every request on disk, as Scrapy does
        # docscrawl's own JOBDIR is removed when the crawl ends: nothing to keep in it.
        throwaway = crawler.settings.getbool("DOCSCRAWL_TEMPORARY_JOBDIR")
        return cls(disk, limit, keep_on_close=not throwaway)

    def push(self, request: Request) -> None:
        self.memory.append(request)
        if len(self.memory) > self.memory_limit:
            self._spill_oldest()

    def pop(self) -> Request | None:
        # As Scrapy's scheduler: what it could not serialise (its memory queue) before the disk.
        if self.memory:
            return self.memory.pop()
        if self.unserialisable:
            return self.unserialisable.pop()
        return self.disk.pop()

    def peek(self) -> Request | None:
        if self.memory:
            return self.memory[-1]
        if self.unserialisable:
            return self.unserialisable[-1]
        return self.disk.peek()

    def close(self) -> None:
        try:
            if self.keep_on_close:
                while self.memory:
                    self._spill_oldest()
                if self.unserialisable:
                    logger.warning(
                        "%d queued requests could not be serialised and are not kept in the JOBDIR",
                        len(self.unserialisable),
                    )
        finally:
            self.disk.close()  # writes the queue file's header: what a resume reads

    def __len__(self) -> int:
        return len(self.memory) + len(self.unserialisable) + len(self.disk)

    def _spill_oldest(self) -> None:
        request = self.memory.popleft()
        try:
            self.disk.push(request)
        except ValueError:  # not serialisable (a callback that is no spider method, ...)
            self.unserialisable.append(request)
