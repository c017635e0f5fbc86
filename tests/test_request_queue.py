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

from docscrawl.request_queue import MemoryFirstLifoDiskQueue, memory_limit


class _Spider(Spider):
    name = "queue-test"

    def parse(self, response):  # pragma: no cover - never called
        yield from ()


def _crawler(limit: object, **settings: object):
    crawler = get_crawler(_Spider, {"DOCSCRAWL_QUEUE_MEMORY_REQUESTS": limit, **settings})
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


def test_docscrawls_own_jobdir_gets_nothing_written_on_close(tmp_path: Path) -> None:
    # It is removed when the crawl ends (a cancel has taken the queue into the frontier).
    path = str(tmp_path / "queue")
    crawler = _crawler(10, DOCSCRAWL_TEMPORARY_JOBDIR=True)
    queue = MemoryFirstLifoDiskQueue.from_crawler(crawler, path)
    for number in range(25):
        queue.push(Request(f"http://docs.example/page-{number}"))
    queue.close()
    reopened = PickleLifoDiskQueue.from_crawler(_crawler(10), path)
    assert len(reopened) == 15  # what had gone to disk; the 10 newest were not spilled
    reopened.close()


@pytest.mark.parametrize("value", ["abc", "1.5", 1.5, "-1", "1000001", ""])
def test_an_unusable_limit_is_refused_in_a_sentence_not_taken_as_unserialisable(
    tmp_path: Path, value: object
) -> None:
    with pytest.raises(ValueError, match="DOCSCRAWL_QUEUE_MEMORY_REQUESTS must be a whole number"):
        memory_limit(_crawler(value).settings)
    # In the queue it is no ValueError, which Scrapy's scheduler would read as "unserialisable"
    # and answer by keeping every request in its unbounded memory queue.
    with pytest.raises(RuntimeError):
        MemoryFirstLifoDiskQueue.from_crawler(_crawler(value), str(tmp_path / "queue"))


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


def test_the_default_is_the_projects_setting() -> None:
    from docscrawl.request_queue import DEFAULT_MEMORY_REQUESTS
    from docscrawl.runner import project_settings

    settings = project_settings()
    assert settings.getint("DOCSCRAWL_QUEUE_MEMORY_REQUESTS") == DEFAULT_MEMORY_REQUESTS
    assert memory_limit(get_crawler(_Spider).settings) == DEFAULT_MEMORY_REQUESTS  # not set
