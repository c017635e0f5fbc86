"""The scheduler's disk queue, with its newest requests kept in memory (SCHEDULER_DISK_QUEUE).

docscrawl keeps the scheduler's queue on disk (a JOBDIR: see the docs spider's update_settings),
so that a crawl of tens of thousands of pages does not hold every queued Request in memory. But
Scrapy's disk queue serialises every request it is given (``Request.to_dict``, then pickle and a
file write) and reads every one back, even on a crawl whose queue never holds more than a few
hundred: on a real manual, a tenth of the crawl thread's time.

``MemoryFirstLifoDiskQueue`` is Scrapy's PickleLifoDiskQueue with at most
DOCSCRAWL_QUEUE_MEMORY_REQUESTS of the newest requests in memory on top of it. When memory is
full, the oldest request there goes to disk. All that is on disk is then older than all that is
in memory, so the order is exactly the disk queue's LIFO order, and memory stays bounded however
long the crawl. On close (the crawl's end, or a pause of a crawl with its own JOBDIR) the
requests in memory are written to disk, oldest first, so that a resumed crawl finds every one
in its place. A request that cannot be serialised stays in memory, as Scrapy's scheduler keeps
it in its memory queue.
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


class MemoryFirstLifoDiskQueue:
    """A LIFO queue of requests: the newest in memory, the rest in Scrapy's pickle disk queue."""

    def __init__(self, disk: Any, memory_limit: int) -> None:
        self.disk = disk
        self.memory_limit = memory_limit
        self.memory: deque[Request] = deque()  # the newest requests, oldest on the left
        self.unserialisable: list[Request] = []  # refused by the disk queue when spilled

    @classmethod
    def from_crawler(cls, crawler: Crawler, key: str, *args: Any, **kwargs: Any):
        limit = crawler.settings.getint("DOCSCRAWL_QUEUE_MEMORY_REQUESTS")
        disk = PickleLifoDiskQueue.from_crawler(crawler, key)
        if limit <= 0:
            return disk  # the setting's way to keep every request on disk, as Scrapy does
        return cls(disk, limit)

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
        while self.memory:
            self._spill_oldest()
        if self.unserialisable:
            logger.warning(
                "%d queued requests could not be serialised and are not kept in the JOBDIR",
                len(self.unserialisable),
            )
        self.disk.close()

    def __len__(self) -> int:
        return len(self.memory) + len(self.unserialisable) + len(self.disk)

    def _spill_oldest(self) -> None:
        request = self.memory.popleft()
        try:
            self.disk.push(request)
        except ValueError:  # not serialisable (a callback that is no spider method, ...)
            self.unserialisable.append(request)
