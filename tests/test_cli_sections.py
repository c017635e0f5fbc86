"""Section records end to end: a real crawl of the sample site through `docscrawl`, then
`docscrawl export --format sections`; a re-crawl replaces the sections, never adds to them."""

from __future__ import annotations

import json
from collections import defaultdict
from urllib.parse import unquote, urlsplit

import lxml.html
import requests
from conftest import Cli, Store

from docscrawl.models import SECTION_LEVELS


def export_sections(cli: Cli, *selection: str) -> list[dict]:
    result = cli("export", *selection, "--format", "sections", "--out", "-")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    pages = len({record["page_url"] for record in records})
    assert result.stderr == f"Exported {len(records)} sections of {pages} pages to stdout.\n"
    return records


def by_page(records: list[dict]) -> dict[str, list[dict]]:
    pages: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        pages[record["page_url"]].append(record)
    return pages


def test_a_crawl_stores_sections_that_cover_each_page_and_point_at_its_ids(
    cli: Cli, store: Store, site: str
) -> None:
    result = cli("crawl", "--url", site, "--client", "Sample", "--quiet")
    assert result.returncode == 0, result.stderr
    records = export_sections(cli, "--job", "1")
    pages = {
        url: (title, markdown, text)
        for url, title, markdown, text in store.rows("SELECT url, title, markdown, text FROM page")
    }
    sections = by_page(records)
    # Every page with Markdown has sections, and they are the page cut at its headings.
    assert set(sections) == {url for url, (_, markdown, _) in pages.items() if markdown}
    for url, found in sections.items():
        title, markdown, text = pages[url]
        assert [record["position"] for record in found] == list(range(len(found)))
        assert "".join(record["markdown"] for record in found) == markdown
        assert " ".join(record["text"] for record in found).split() == text.split()
        assert all(record["hierarchy"]["lvl0"] == title for record in found)
        assert all(list(record["hierarchy"]) == list(SECTION_LEVELS) for record in found)
        assert all(record["client"] == "sample" and record["job_id"] == 1 for record in found)
    # An anchor URL is the page's URL and a fragment naming an id that is on the page.
    anchored = [record for record in records if urlsplit(record["anchor_url"]).fragment]
    assert len(anchored) > len(sections)  # most headings have an id on the sample site
    for url, found in by_page(anchored).items():
        html = requests.get(url, timeout=10).content
        ids = set(lxml.html.fromstring(html).xpath("//@id | //a/@name"))
        for record in found:
            base, _, fragment = record["anchor_url"].partition("#")
            assert base == url
            assert unquote(fragment) in ids, record["anchor_url"]
    for record in records:
        if not urlsplit(record["anchor_url"]).fragment:
            assert record["anchor_url"] == record["page_url"]
    # A section under a heading carries that heading's text at its level.
    headed = [record for record in records if record["markdown"].startswith("#")]
    for record in headed:
        level = len(record["markdown"]) - len(record["markdown"].lstrip("#"))
        assert record["hierarchy"][f"lvl{level}"], record
        deeper = [record["hierarchy"][f"lvl{n}"] for n in range(level + 1, 7)]
        assert deeper == [None] * len(deeper)


def test_a_recrawl_replaces_the_sections(cli: Cli, store: Store, site: str) -> None:
    url = site + "mkdocs/"
    assert cli("crawl", "--url", url, "--quiet").returncode == 0
    first = export_sections(cli, "--job", "1")
    count = store.value("SELECT COUNT(*) FROM page_section")
    assert count == len(first) > 0
    # Change what the store holds, as if the pages had been edited since.
    store.rows("UPDATE page_section SET text = 'stale', markdown = 'stale'")
    store.rows("UPDATE page SET markdown = 'stale'")
    # Answered 304 Not Modified: the pages keep their content, and their sections with it.
    assert cli("crawl", "--url", url, "--quiet").returncode == 0
    assert store.value("SELECT COUNT(*) FROM page_section WHERE text = 'stale'") == count
    # Fetched again: each page's Markdown is not the stored one, so its sections are replaced
    # by those of its Markdown. (A page whose Markdown, title and headings are the stored ones
    # keeps its sections: tests/test_pipeline.py.)
    fresh = ("-s", "DOCSCRAWL_CONDITIONAL_REQUESTS=False")
    assert cli("crawl", "--url", url, *fresh, "--quiet").returncode == 0
    assert store.value("SELECT COUNT(*) FROM page_section") == count
    duplicates = store.value(
        "SELECT COUNT(*) FROM (SELECT page_id, position FROM page_section "
        "GROUP BY page_id, position HAVING COUNT(*) > 1)"
    )
    assert duplicates == 0
    again = export_sections(cli, "--job", "3")
    assert [{**r, "job_id": 1} for r in again] == first
    # The client's sections are the same ones: every page belongs to each job.
    assert len(export_sections(cli, "--client-slug", "127-0-0-1")) == len(first)
