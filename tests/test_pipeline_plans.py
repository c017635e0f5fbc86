"""A crawl never slows because the store is big: every statement the pipeline runs for a batch
reads through an index, none scans a table (SQLite's EXPLAIN QUERY PLAN of each)."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy.utils.test import get_crawler

from docscrawl import models
from docscrawl.items import NotModifiedItem, PageItem
from docscrawl.pipelines import PageStorePipeline


def item(n: int, text: str) -> PageItem:
    url = f"http://h/p{n}.html"
    return PageItem(
        url=url, requested_url=url, final_url=url, canonical_url=None, status_code=200,
        title=f"Page {n}", description=None, language="en",
        headings=[{"level": 1, "text": f"Page {n}", "anchor": "top"}],
        markdown=f"# Page {n}\n\n{text}", text=text, links=[], word_count=len(text.split()),
        content_hash=f"{n}-{text}", etag=None, last_modified=None, fetched_at=models.utcnow(),
        depth=1, extraction_audit={},
    )  # fmt: skip


class Statements(logging.Handler):
    """The (sql, params) peewee logs for every statement it runs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[str, tuple]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            self.seen.append((record.msg[0], tuple(record.msg[1] or ())))


@pytest.fixture
def statements() -> Statements:
    handler = Statements()
    logger = logging.getLogger("peewee")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_no_statement_of_a_batch_scans_a_table(tmp_path: Path, statements: Statements) -> None:
    location = str(tmp_path / "s.db")
    db = models.open_store(location)
    client = models.get_or_create_client("Plans")
    first = models.Job.create(client=client, url="http://h/")
    crawler = get_crawler(settings_dict={"DOCSCRAWL_DB": location})
    crawler.stats.open_spider()
    crawler.spider = SimpleNamespace(job_id=first.id)
    pipe = PageStorePipeline(crawler, location, 100, 60.0)
    pipe.open_spider()
    for n in range(5):
        pipe.process_item(item(n, "alpha beta gamma " * 50))
    pipe.flush()
    # A second crawl: new, changed (simhash kept and not), unchanged and not-modified pages.
    second = models.Job.create(client=client, url="http://h/")
    pipe.job_id = second.id
    statements.seen.clear()
    pipe.process_item(item(0, "alpha beta gamma " * 50))  # unchanged
    pipe.process_item(item(1, "alpha beta gamma " * 50 + "delta"))  # changed, same simhash
    pipe.process_item(item(2, "something else entirely " * 30))  # changed
    pipe.process_item(NotModifiedItem(url="http://h/p3.html", fetched_at=models.utcnow()))
    pipe.process_item(item(9, "a new page " * 30))  # new
    pipe.flush()
    pipe._timer.stop()
    assert statements.seen
    tables = set(db.get_tables())
    scans = []
    for sql, params in statements.seen:
        if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "INSERT")):
            continue
        for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall():
            words = row[-1].split()
            # SCAN of a table, through an index or not, reads all of it; a VALUES list or a
            # constant row is no table.
            if words[0] == "SCAN" and words[1] in tables:
                scans.append((row[-1], sql[:160]))
    assert scans == []
    db.close()
