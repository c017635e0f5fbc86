"""Extraction failures are counted by stage on the page, and by the spider in the crawl's stats.

Broken markup and URLs go through the public API (extract_html, extract_page); a good page
must count nothing. Stages that no real input can make fail (choosing the main content,
reading the metadata) get their fault injected.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import parsel
import pytest
import support
import test_extraction
from conftest import Cli, Store
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

import docscrawl.extraction
from docscrawl.extensions.lifecycle import EXTRACTION_FAILURES
from docscrawl.extraction import STAGES, ExtractedPage, extract_html, extract_page
from docscrawl.spiders.docs import DocsSpider
from sample_site.site import build_site

URL = "https://docs.example.org/guide/page.html"


def extract(body: str, url: str = URL) -> ExtractedPage:
    return extract_html(f"<html><head><title>T</title></head><body>{body}</body></html>", url)


# --- pages that fail ------------------------------------------------------------------------


def test_an_unresolvable_link_is_one_resolve_failure_and_the_others_are_kept() -> None:
    page = extract(
        "<p><a href='http://[::1'>bad</a> <a href='ok.html'>ok</a>"
        " and the same <a href='http://[::1'>bad</a> again</p>"
    )
    assert page.failures == {"resolve": 1}  # one distinct href, however often it appears
    assert page.links == ["https://docs.example.org/guide/ok.html"]
    assert page.markdown == (
        "bad [ok](https://docs.example.org/guide/ok.html) and the same bad again"
    )


def test_an_unresolvable_base_href_falls_back_to_the_page_url() -> None:
    page = extract_html(
        "<head><base href='http://[x'></head><body><a href='next.html'>next</a></body>", URL
    )
    assert page.failures == {"resolve": 1}
    assert page.links == ["https://docs.example.org/guide/next.html"]


def test_every_relative_href_of_a_page_with_an_unusable_url_fails_to_resolve() -> None:
    page = extract("<a href='a.html'>a</a><a href='/b'>b</a><img src='c.png'>", "http://[::1/x")
    assert page.failures == {"resolve": 3}
    assert (page.links, page.markdown) == ([], "ab")


def test_an_unresolvable_image_and_canonical_are_resolve_failures() -> None:
    page = extract_html(
        "<head><link rel='canonical' href='https://[bad'></head>"
        "<body><p>See <img src='http://[img' alt='x'> here</p></body>",
        URL,
    )
    assert page.failures == {"resolve": 2}
    assert (page.canonical_url, page.markdown) == (None, "See here")


def test_spans_that_are_not_numbers_are_render_failures_and_the_table_is_kept() -> None:
    page = extract(
        "<table><tr><th colspan='wide'>a</th><th>b</th></tr>"
        "<tr><td rowspan='2.5'>c</td><td colspan=''>d</td></tr></table>"
    )
    assert page.failures == {"render": 2}  # an empty colspan is the default, not a failure
    assert page.markdown == "| a | b |\n|---|---|\n| c | d |"


def test_a_list_start_that_is_not_a_number_is_a_render_failure() -> None:
    page = extract("<ol start='iii'><li>one</li><li>two</li></ol>")
    assert page.failures == {"render": 1}
    assert page.markdown == "1. one\n2. two"


def test_nesting_too_deep_to_render_keeps_the_text_and_is_a_render_failure() -> None:
    page = extract("<p>" + "<b>" * 1500 + "deep bold" + "</b>" * 1500 + "</p>")
    assert page.failures == {"render": 1}
    assert (page.text, page.headings) == ("deep bold", [])


def test_markup_that_cannot_be_parsed_is_a_parse_failure() -> None:
    # lxml recovers from any markup; a base URL it cannot encode it refuses.
    page = extract_html("<p>text</p>", "https://docs.example.org/\ud800")
    assert page == ExtractedPage(failures={"parse": 1})


def test_xhtml_that_cannot_be_parsed_again_as_html_is_a_parse_failure() -> None:
    root = parsel.Selector(text=test_extraction.DOCBOOK_PAGE, type="xml").root
    page = extract_page(root, "https://docs.example.org/\ud800")
    assert page == ExtractedPage(failures={"parse": 1})


def test_failures_of_several_stages_add_up() -> None:
    page = extract(
        "<p><a href='http://[::1'>bad</a></p><ol start='x'><li>a</li></ol>"
        "<table><tr><td colspan='x'>c</td></tr></table>"
    )
    assert page.failures == {"resolve": 1, "render": 2}


@pytest.mark.parametrize(
    ("target", "stage", "kept"),
    [
        ("choose_main", "main_content", ("title", "links")),
        ("render_content", "render", ("title", "links")),
        ("fill_metadata", "metadata", ("markdown", "links")),
        ("page_links", "resolve", ("title", "markdown")),
    ],
)
def test_a_stage_that_raises_is_counted_and_the_other_stages_still_run(
    monkeypatch: pytest.MonkeyPatch, target: str, stage: str, kept: tuple[str, ...]
) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError(f"{target} is broken")

    body = "<main><h1>Heading</h1><p>Body <a href='/x'>x</a></p></main>"
    good = extract(body)
    monkeypatch.setattr(docscrawl.extraction, target, broken)
    page = extract(body)
    assert page.failures == {stage: 1}
    for name in kept:
        assert getattr(page, name) == getattr(good, name) != getattr(ExtractedPage(), name)


def test_a_failure_is_logged_at_debug_with_the_url_and_the_reason(caplog) -> None:
    with caplog.at_level(logging.DEBUG, logger="docscrawl.extraction"):
        extract("<a href='http://[::1'>bad</a>")
    [record] = [r for r in caplog.records if r.name == "docscrawl.extraction"]
    assert record.levelno == logging.DEBUG
    assert URL in record.getMessage() and "http://[::1" in record.getMessage()
    assert "resolve" in record.getMessage()


# --- pages that do not fail -----------------------------------------------------------------


def _good_pages() -> list[tuple[str, str | bytes]]:
    pages = [
        (getattr(test_extraction, name.replace("_PAGE", "_URL"), URL), value)
        for name, value in vars(test_extraction).items()
        if name.endswith("_PAGE") and isinstance(value, str)
    ]
    site = build_site("http://127.0.0.1:8000/")
    pages += [
        ("http://127.0.0.1:8000" + path, page.body)
        for path, page in site.items()
        if page.content_type.startswith("text/html") and page.status == 200
    ]
    return pages


def test_good_pages_count_no_failures() -> None:
    pages = _good_pages()
    assert len(pages) > 50
    failed = {
        url: page.failures for url, body in pages if (page := extract_html(body, url)).failures
    }
    assert failed == {}


@pytest.mark.parametrize(
    "markup", ["", "<!-- only a comment -->", "<html></html>", "<p>fine</p>", "<a href=''>x</a>"]
)
def test_empty_and_plain_documents_count_no_failures(markup: str) -> None:
    assert extract_html(markup, URL).failures == {}


def test_no_document_is_not_a_failure() -> None:
    assert extract_page(None, URL).failures == {}  # type: ignore[arg-type]


def test_the_stages_are_the_documented_names() -> None:
    assert STAGES == ("parse", "resolve", "metadata", "main_content", "render")


# --- the crawl's stats ----------------------------------------------------------------------

BROKEN_PAGE = (
    "<html><head><title>Broken</title></head><body><main><h1>Broken</h1>"
    "<p>An <a href='http://[::1'>IPv6 typo</a> and a <a href='good.html'>good page</a>.</p>"
    "<table><tr><td colspan='all'>wide</td></tr></table></main></body></html>"
)
GOOD_PAGE = (
    "<html><head><title>Good</title></head><body><main><h1>Good</h1>"
    "<p>Back to <a href='broken.html'>the broken page</a>.</p></main></body></html>"
)


def _parse_page(url: str, body: str) -> dict[str, int]:
    """The extraction-failure stats after the spider parses one page."""
    crawler = get_crawler(DocsSpider)
    spider = DocsSpider.from_crawler(crawler, url="http://127.0.0.1:1/docs/", job_id=1)
    request = Request(url, meta={"page_depth": 0})
    response = HtmlResponse(url, body=body.encode(), request=request)

    async def parse() -> list:
        return [output async for output in spider.parse_page(response)]

    asyncio.run(parse())
    assert crawler.stats.get_value("docscrawl/pages") == 1
    stats = crawler.stats.get_stats()
    return {key: value for key, value in stats.items() if key.startswith(EXTRACTION_FAILURES)}


def test_the_spider_counts_a_pages_failures_in_the_stats() -> None:
    assert _parse_page("http://127.0.0.1:1/docs/broken.html", BROKEN_PAGE) == {
        "docscrawl/extraction_failures/resolve": 1,
        "docscrawl/extraction_failures/render": 1,
    }


def test_the_spider_counts_nothing_for_a_good_page() -> None:
    assert _parse_page("http://127.0.0.1:1/docs/good.html", GOOD_PAGE) == {}


@pytest.fixture
def broken_site(tmp_path: Path) -> Iterator[str]:
    """A static site on loopback: a good start page linking to a page with broken parts."""
    docs = tmp_path / "www" / "docs"
    docs.mkdir(parents=True)
    (docs / "index.html").write_text(GOOD_PAGE.replace("Good", "Start"))
    (docs / "broken.html").write_text(BROKEN_PAGE)
    (docs / "good.html").write_text(GOOD_PAGE)
    with support.serve_directory(tmp_path / "www") as url:
        yield url + "docs/"


def test_a_crawl_reports_the_extraction_failures_of_its_pages(
    cli: Cli, store: Store, broken_site: str
) -> None:
    result = cli("crawl", "--url", broken_site, "--quiet")
    assert result.returncode == 0, result.stderr
    job = store.job(1)
    assert job["pages"] == 3
    dumped = Path(job["log_url"]).read_text()  # Scrapy's stats dump at the end of the crawl
    found = dict(re.findall(r"'docscrawl/extraction_failures/(\w+)': (\d+)", dumped))
    assert found == {"render": "1", "resolve": "1"}
