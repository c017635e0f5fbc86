"""A page is defined once, by the Page model: the item, the spider, the pipeline and the export
agree with it."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from control import export
from docscrawl import models, pipelines
from docscrawl.items import PageItem, page_item
from docscrawl.models import PAGE_FIELDS
from docscrawl.spiders.docs import DocsSpider

# The export's columns as released. Consumers read CSV columns by position, so these keep
# their place; a new page field is declared after the last one and becomes a new last column.
RELEASED_COLUMNS = (
    "client", "job_id", "url", "requested_url", "final_url", "canonical_url", "status_code",
    "title", "description", "language", "headings", "markdown", "text", "links", "word_count",
    "content_hash", "etag", "last_modified", "fetched_at", "depth",
)  # fmt: skip


def test_page_fields_are_the_models_columns_but_its_keys() -> None:
    columns = [field.name for field in models.Page._meta.sorted_fields]
    assert columns[:3] == ["id", "client", "job"]
    derived = list(models.DERIVED_PAGE_FIELDS)
    assert list(PAGE_FIELDS) == [name for name in columns[3:] if name not in derived]


def test_the_item_has_a_field_per_page_field_in_order() -> None:
    # Then what an extraction worker prepared for the store, which is no column.
    assert list(PageItem.fields) == [*PAGE_FIELDS, "prepared"]


def test_the_pipeline_writes_the_page_fields() -> None:
    assert list(pipelines.PAGE_FIELDS) == list(PAGE_FIELDS)


def test_the_export_columns_are_client_job_then_the_page_fields() -> None:
    assert export.COLUMNS == ("client", "job_id", *PAGE_FIELDS)
    assert export.COLUMNS[: len(RELEASED_COLUMNS)] == RELEASED_COLUMNS, (
        "an exported column moved or went away; declare new page fields after the last one"
    )


def test_the_export_json_encodes_every_json_field_in_csv() -> None:
    json_fields = [
        name for name in PAGE_FIELDS if isinstance(getattr(models.Page, name), models.JSONField)
    ]
    assert list(export.LIST_FIELDS) == json_fields


def test_a_page_item_needs_every_page_field() -> None:
    values = page_values()
    assert dict(page_item(**values)) == {**values, "prepared": None}
    del values["depth"]
    with pytest.raises(TypeError, match="missing: depth"):
        page_item(**values)


def test_the_spider_fills_every_page_field() -> None:
    url = "http://127.0.0.1:9/docs/a.html"
    crawler = get_crawler(DocsSpider)
    crawler.stats.open_spider()
    crawler.spider = DocsSpider.from_crawler(crawler, url="http://127.0.0.1:9/docs/", job_id=1)
    body = b"<html lang=en><title>A</title><h1>A</h1><p>Hello, <a href=b.html>b</a>.</p></html>"
    response = HtmlResponse(
        url, body=body, encoding="utf-8", request=Request(url, meta={"page_depth": 1})
    )

    async def outputs() -> list:
        return [output async for output in crawler.spider.parse_page(response)]

    items = [item for item in asyncio.run(outputs()) if isinstance(item, PageItem)]
    assert len(items) == 1
    assert sorted(items[0]) == sorted([*PAGE_FIELDS, "prepared"])


def test_every_page_field_goes_from_the_item_to_the_store_and_out(tmp_path: Path) -> None:
    location = str(tmp_path / "store.db")
    models.open_store(location)
    try:
        client = models.get_or_create_client("Acme")
        job = models.Job.create(client=client, url="http://h/")
        crawler = get_crawler()
        crawler.stats.open_spider()
        crawler.spider = SimpleNamespace(job_id=job.id)
        pipeline = pipelines.PageStorePipeline(crawler, location, 10, 60.0)
        pipeline.open_spider()
        values = page_values()
        pipeline.process_item(page_item(**values))
        pipeline.close_spider()
        stored = models.Page.get(models.Page.url == values["url"])
        assert {name: getattr(stored, name) for name in PAGE_FIELDS} == values
        out = tmp_path / "pages.jsonl"
        export.export_pages(client_slug=client.slug, fmt="jsonl", out=str(out))
        (record,) = [json.loads(line) for line in out.read_text().splitlines()]
        assert list(record) == list(export.COLUMNS)
        assert record == {
            "client": client.slug,
            "job_id": job.id,
            **values,
            "fetched_at": "2024-05-01T12:30:45Z",
        }
    finally:
        models.database.close()


def page_values() -> dict:
    """A value for every page field, none of them a default."""
    return {
        "url": "http://h/docs/a.html",
        "requested_url": "http://h/docs/a",
        "final_url": "http://h/docs/a.html#top",
        "canonical_url": "http://h/docs/",
        "status_code": 203,
        "title": "A",
        "description": "About A.",
        "language": "en",
        "headings": [{"level": 1, "text": "A", "anchor": "a"}],
        "markdown": "# A\n",
        "text": "A",
        "links": ["http://h/docs/b.html"],
        "word_count": 1,
        "content_hash": "hash-a",
        "etag": '"e"',
        "last_modified": "Wed, 01 May 2024 12:00:00 GMT",
        "fetched_at": dt.datetime(2024, 5, 1, 12, 30, 45),
        "depth": 2,
        "extraction_audit": {
            "text_share": 0.8,
            "visible_words": 5,
            "kept_words": 4,
            "headings": [2, 1],
            "code_blocks": [1, 1],
            "tables": [0, 0],
            "rule": "main",
        },
    }
