"""The scheduler's disk queue with its newest requests in memory (docscrawl/request_queue.py):
the same order as Scrapy's disk queue, bounded memory, and nothing lost on close."""

from __future__ import annotations

import random
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import DOCSCRAWL
from scrapy import Request, Spider
from scrapy.squeues import PickleLifoDiskQueue
from scrapy.utils.test import get_crawler
from support import clean_env

from docscrawl.request_queue import MemoryFirstLifoDiskQueue


class _Spider(Spider):
    name = "queue-test"

    def parse(self, response):  # pragma: no cover - never called
        yield from ()


def _crawler(limit: int):
    crawler = get_crawler(_Spider, {"DOCSCRAWL_QUEUE_MEMORY_REQUESTS": limit})
    crawler.spider = _Spider()
    return crawler


def _url(request: Request | None) -> str | None:
    return None if request is None else request.url


@pytest.mark.parametrize("limit", [1, 7, 50])
def test_pops_in_the_disk_queues_own_order_with_bounded_memory(tmp_path: Path, limit: int) -> None:
    rng = random.Random(limit)
    ours = MemoryFirstLifoDiskQueue.from_crawler(_crawler(limit), str(tmp_path / "ours"))
    scrapys = PickleLifoDiskQueue.from_crawler(_crawler(limit), str(tmp_path / "scrapys"))
    assert isinstance(ours, MemoryFirstLifoDiskQueue)
    popped, expected, spilled = [], [], False
    for number in range(2_000):
        if rng.random() < 0.55:
            for queue in (ours, scrapys):
                queue.push(Request(f"http://docs.example/page-{number}"))
        else:
            assert _url(ours.peek()) == _url(scrapys.peek())
            popped.append(_url(ours.pop()))
            expected.append(_url(scrapys.pop()))
        assert len(ours.memory) <= limit
        spilled = spilled or len(ours.disk) > 0
        assert len(ours) == len(scrapys)
    while len(scrapys):
        popped.append(_url(ours.pop()))
        expected.append(_url(scrapys.pop()))
    assert ours.pop() is None and len(ours) == 0
    assert spilled  # the disk part was used
    assert popped == expected


def test_close_writes_the_requests_in_memory_to_disk_in_order(tmp_path: Path) -> None:
    path = str(tmp_path / "queue")
    queue = MemoryFirstLifoDiskQueue.from_crawler(_crawler(10), path)
    for number in range(25):
        queue.push(Request(f"http://docs.example/page-{number}"))
    assert len(queue.memory) == 10
    queue.close()
    reopened = PickleLifoDiskQueue.from_crawler(_crawler(10), path)  # as a resumed crawl does
    assert len(reopened) == 25
    urls = [reopened.pop().url for _ in range(25)]
    assert urls == [f"http://docs.example/page-{number}" for number in reversed(range(25))]
    reopened.close()


def test_a_request_the_disk_queue_refuses_stays_queued(tmp_path: Path) -> None:
    queue = MemoryFirstLifoDiskQueue.from_crawler(_crawler(1), str(tmp_path / "queue"))
    unserialisable = Request("http://docs.example/lambda", callback=lambda response: None)
    queue.push(unserialisable)
    queue.push(Request("http://docs.example/a"))  # spills the lambda one, which fails
    queue.push(Request("http://docs.example/b"))
    assert len(queue) == 3 and queue.unserialisable == [unserialisable]
    assert [queue.pop().url for _ in range(3)] == [
        "http://docs.example/b",
        "http://docs.example/lambda",
        "http://docs.example/a",
    ]
    queue.close()


def test_zero_keeps_every_request_on_disk_as_scrapy_does(tmp_path: Path) -> None:
    queue = MemoryFirstLifoDiskQueue.from_crawler(_crawler(0), str(tmp_path / "queue"))
    assert isinstance(queue, PickleLifoDiskQueue)
    queue.close()


def _stored_urls(store: Path) -> set[str]:
    with sqlite3.connect(store) as conn:
        return {row[0] for row in conn.execute("SELECT url FROM page")}


def test_a_crawl_spilling_every_request_stores_the_same_pages(tmp_path: Path, site: str) -> None:
    stores = {}
    for name, limit in (("default", None), ("spill", "1"), ("disk", "0")):
        stores[name] = tmp_path / f"{name}.db"
        settings = [] if limit is None else ["-s", f"DOCSCRAWL_QUEUE_MEMORY_REQUESTS={limit}"]
        result = subprocess.run(
            [DOCSCRAWL, "--db", str(stores[name]), "crawl", "--url", site, "--quiet", *settings],
            capture_output=True, text=True, env=clean_env(), timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    default = _stored_urls(stores["default"])
    assert len(default) > 100
    assert _stored_urls(stores["spill"]) == default
    assert _stored_urls(stores["disk"]) == default
