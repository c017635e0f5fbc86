"""The batched store pipeline: batches by count and by time, flushes on close and shutdown."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy.utils.test import get_crawler

from docscrawl import history, models
from docscrawl.items import CrawlErrorItem, PageItem
from docscrawl.job_state import job_outcome
from docscrawl.pipelines import PageStorePipeline


def page(n: int, url: str | None = None) -> PageItem:
    return PageItem(
        url=url or f"http://h/p{n}.html",
        requested_url=f"http://h/p{n}.html",
        final_url=f"http://h/p{n}.html",
        canonical_url=None,
        status_code=200,
        title=f"Page {n}",
        description=None,
        language="en",
        headings=[{"level": 1, "text": f"Page {n}", "anchor": "top"}],
        markdown=f"# Page {n}",
        text=f"Page {n}",
        links=[],
        word_count=2,
        content_hash=f"hash{n}",
        etag=None,
        last_modified=None,
        fetched_at=models.utcnow(),
        depth=1,
        extraction_audit={},
    )


@pytest.fixture
def pipeline(tmp_path: Path):
    location = str(tmp_path / "s.db")
    models.open_store(location)
    client = models.get_or_create_client("Test")
    job = models.Job.create(client=client, url="http://h/")
    crawler = get_crawler(
        settings_dict={
            "DOCSCRAWL_DB": location,
            "DOCSCRAWL_BATCH_SIZE": 10,
            "DOCSCRAWL_FLUSH_INTERVAL": 1.0,
        }
    )
    crawler.stats.open_spider()
    crawler.spider = SimpleNamespace(job_id=job.id)
    pipe = PageStorePipeline(crawler, location, 10, 1.0)
    pipe.open_spider()
    yield pipe, job.id
    if pipe._timer is not None and pipe._timer.running:
        pipe._timer.stop()
    models.database.close()


def stored() -> int:
    return models.Page.select().count()


def test_writes_nothing_until_a_batch_is_full(pipeline) -> None:
    pipe, job_id = pipeline
    for n in range(9):
        pipe.process_item(page(n))
    assert stored() == 0
    pipe.process_item(page(9))
    assert stored() == 10
    assert models.Job.get_by_id(job_id).pages == 10


def test_a_timer_flushes_a_partial_batch_every_interval(pipeline) -> None:
    pipe, _ = pipeline
    pipe.process_item(page(1))
    assert stored() == 0
    assert pipe._timer.interval == 1.0  # DOCSCRAWL_FLUSH_INTERVAL: the crash window
    pipe._timer.f()
    assert stored() == 1


def test_close_flushes_everything(pipeline) -> None:
    pipe, job_id = pipeline
    for n in range(3):
        pipe.process_item(page(n))
    pipe.process_item(
        CrawlErrorItem(
            url="http://h/x", status_code=404, reason="HTTP 404", occurred_at=models.utcnow()
        )
    )
    pipe.close_spider()
    job = models.Job.get_by_id(job_id)
    assert (stored(), job.pages, job.errors) == (3, 3, 1)
    assert models.CrawlError.get().status_code == 404


def test_recrawl_updates_a_page_in_place(pipeline) -> None:
    pipe, job_id = pipeline
    pipe.process_item(page(1))
    pipe.flush()
    second_job = models.Job.create(client=models.Job.get_by_id(job_id).client, url="http://h/")
    pipe.job_id = second_job.id
    updated = page(1)
    updated["title"] = "Page one, revised"
    pipe.process_item(updated)
    pipe.process_item(page(2))
    pipe.flush()
    assert stored() == 2
    row = models.Page.get(models.Page.url == "http://h/p1.html")
    assert (row.title, row.job_id) == ("Page one, revised", second_job.id)
    assert models.Job.get_by_id(job_id).pages == 1  # a job's count is what it crawled
    assert models.Job.get_by_id(second_job.id).pages == 2


def sections(url: str) -> list[tuple]:
    Section = models.PageSection
    query = (
        Section.select(Section.position, Section.lvl1, Section.lvl2, Section.anchor_url)
        .join(models.Page)
        .where(models.Page.url == url)
        .order_by(Section.position)
    )
    return list(query.tuples())


def test_a_page_is_stored_with_its_sections_and_a_recrawl_replaces_them(pipeline) -> None:
    pipe, job_id = pipeline
    first = page(1)
    first["markdown"] = "# Page 1\n\nHello.\n\n## Usage\n\nUse it."
    first["headings"] = [
        {"level": 1, "text": "Page 1", "anchor": "top"},
        {"level": 2, "text": "Usage", "anchor": "usage"},
    ]
    pipe.process_item(first)
    pipe.process_item(page(2))
    pipe.flush()
    url = "http://h/p1.html"
    assert sections(url) == [
        (0, "Page 1", None, url + "#top"),
        (1, "Page 1", "Usage", url + "#usage"),
    ]
    assert sections("http://h/p2.html") == [(0, "Page 2", None, "http://h/p2.html#top")]

    pipe.job_id = models.Job.create(client=models.Job.get_by_id(job_id).client, url="http://h/").id
    pipe.process_item(page(1))  # the page lost its second section
    pipe.flush()
    assert sections(url) == [(0, "Page 1", None, url + "#top")]
    assert models.PageSection.select().count() == 2


def section_ids(url: str) -> list[int]:
    Section = models.PageSection
    query = Section.select(Section.id).join(models.Page).where(models.Page.url == url)
    return sorted(section_id for (section_id,) in query.tuples())


def recrawl(pipe, job_id: int, *items: PageItem) -> None:
    pipe.job_id = models.Job.create(client=models.Job.get_by_id(job_id).client, url="http://h/").id
    for item in items:
        pipe.process_item(item)
    pipe.flush()


def test_an_unchanged_recrawl_keeps_the_sections_and_a_changed_title_or_heading_replaces_them(
    pipeline,
) -> None:
    from control.search import search

    pipe, job_id = pipeline
    pipe.process_item(page(1))
    pipe.process_item(page(2))
    pipe.flush()
    url = "http://h/p1.html"
    kept = section_ids(url)
    Section = models.PageSection
    # A mark on the stored section: a section deleted and written again loses it.
    Section.update(markdown="# Page 1 (marked)").where(Section.id << kept).execute()
    recrawl(pipe, job_id, page(1), page(2))
    assert [s.markdown for s in Section.select().where(Section.id << kept)] == ["# Page 1 (marked)"]
    assert [hit.url for hit in search('"Page 1"')] == [url]  # still in the search index

    retitled = page(1)
    retitled["title"] = "Page one"  # the same text: the same content hash
    recrawl(pipe, job_id, retitled)
    assert [s.markdown for s in Section.select().where(Section.id << section_ids(url))] == [
        "# Page 1"
    ]
    assert [s.lvl0 for s in Section.select().where(Section.id << section_ids(url))] == ["Page one"]

    moved = page(2)
    moved["headings"] = [{"level": 1, "text": "Page 2", "anchor": "moved"}]
    recrawl(pipe, job_id, moved)
    assert sections("http://h/p2.html") == [(0, "Page 2", None, "http://h/p2.html#moved")]


def test_a_page_stored_without_sections_gets_them_on_an_unchanged_recrawl(
    pipeline, monkeypatch
) -> None:
    from docscrawl.extraction import sections as sections_module

    pipe, job_id = pipeline
    split = sections_module.split_sections
    monkeypatch.setattr(sections_module, "split_sections", lambda *a: 1 / 0)
    pipe.process_item(page(1))
    pipe.flush()
    assert models.PageSection.select().count() == 0
    monkeypatch.setattr(sections_module, "split_sections", split)
    recrawl(pipe, job_id, page(1))
    assert sections("http://h/p1.html") == [(0, "Page 1", None, "http://h/p1.html#top")]


def test_resplit_sections_cuts_every_stored_page_again_with_the_splitter_of_now(
    pipeline, monkeypatch
) -> None:
    """What a migration step does when the splitter changes: an unchanged recrawl would keep
    the older splitter's sections."""
    from control.search import search
    from docscrawl import backfill
    from docscrawl.extraction import sections as sections_module

    pipe, job_id = pipeline
    split = sections_module.split_sections

    def older_splitter(url, title, markdown, headings):
        cut = split(url, title, markdown, headings)
        for section in cut:
            section.anchor_url = url + "#older"
            section.text = "older splitter"
        return cut

    monkeypatch.setattr(sections_module, "split_sections", older_splitter)
    for n in range(1, 6):
        pipe.process_item(page(n))
    pipe.flush()
    monkeypatch.setattr(sections_module, "split_sections", split)
    recrawl(pipe, job_id, page(1))
    assert sections("http://h/p1.html")[0][3] == "http://h/p1.html#older"  # kept, as designed

    progress = []
    monkeypatch.setattr(backfill, "progress_reporter", lambda *report: progress.append(report))
    monkeypatch.setattr(models, "RESPLIT_CHUNK", 2)  # several id ranges
    with models.database.atomic():
        assert models.resplit_sections(models.database) == 5
    assert progress[-1] == ("Splitting pages into sections", 5, 5, "pages")
    assert sections("http://h/p1.html") == [(0, "Page 1", None, "http://h/p1.html#top")]
    Section = models.PageSection
    assert not Section.select().where(Section.text == "older splitter").exists()
    assert search('"older splitter"') == []  # the search index followed
    assert {hit.url for hit in search("Page")} == {f"http://h/p{n}.html" for n in range(1, 6)}


def test_a_page_that_cannot_be_split_is_stored_without_sections(pipeline, monkeypatch) -> None:
    from docscrawl.extraction import sections as sections_module

    def broken(*args: object) -> list:
        raise ValueError("a bug")

    monkeypatch.setattr(sections_module, "split_sections", broken)
    pipe, _ = pipeline
    pipe.process_item(page(1))
    pipe.flush()
    assert stored() == 1 and models.PageSection.select().count() == 0
    assert pipe.crawler.stats.get_value("docscrawl/section_failures") == 1


def test_the_template_fixup_leaves_sections_that_match_the_markdown(pipeline) -> None:
    from docscrawl.extraction.page import Block
    from docscrawl.template_fixup import fix_up_pages

    pipe, job_id = pipeline
    notice = Block("p", "Version 3.2 of the manual.", "Version 3.2 of the manual.")
    item = page(1)
    item["markdown"] = f"# Page 1\n\n{notice.markdown}\n\nBody."
    item["text"] = f"Page 1\n{notice.text}\nBody."
    pipe.process_item(item)
    pipe.flush()
    assert fix_up_pages(job_id, {"http://h/p1.html": [notice]}) == 1
    stored = models.Page.get(models.Page.url == "http://h/p1.html")
    assert notice.markdown not in stored.markdown
    assert "".join(s.markdown for s in stored.sections.order_by(models.PageSection.position)) == (
        stored.markdown
    )


def test_same_url_twice_in_a_batch_is_one_page(pipeline) -> None:
    pipe, job_id = pipeline
    pipe.process_item(page(1))
    pipe.process_item(page(1))
    pipe.flush()
    assert stored() == 1
    assert models.Job.get_by_id(job_id).pages == 1


@pytest.mark.parametrize(
    ("reason", "cancel", "pages", "errors", "status"),
    [
        ("finished", False, 10, 0, "completed"),
        ("max_pages", False, 5, 0, "completed"),
        ("closespider_timeout", False, 5, 0, "completed"),
        ("shutdown", False, 5, 0, "cancelled"),
        ("finished", True, 5, 0, "cancelled"),
        ("finished", False, 0, 1, "failed"),
        ("memusage_exceeded", False, 5, 0, "failed"),
        ("forced shutdown", False, 5, 0, "failed"),
    ],
)
def test_close_reason_maps_to_status(reason, cancel, pages, errors, status) -> None:
    assert job_outcome(reason, cancel, pages, errors)[0] == status


def test_what_a_worker_prepared_is_stored_as_the_pipeline_would_make_it(pipeline) -> None:
    from docscrawl.extraction import extract_html
    from docscrawl.extraction_pool import prepare

    pipe, _ = pipeline
    html = (
        "<html><head><title>Guide</title></head><body><main><h1 id=top>Guide</h1><p>Intro text"
        " here.</p><h2 id=a>Alpha</h2><p>Alpha words and more words.</p><h2 id=b>Beta</h2>"
        "<p>Beta words.</p></main></body></html>"
    )
    for n, with_prepared in ((1, False), (2, True)):
        extracted = extract_html(html, f"http://h/p{n}.html")
        item = page(n)
        item.update(
            markdown=extracted.markdown, text=extracted.text, title=extracted.title,
            headings=[{"level": h.level, "text": h.text, "anchor": h.anchor}
                      for h in extracted.headings],
            prepared=prepare(extracted, item["url"]) if with_prepared else None,
        )  # fmt: skip
        pipe.process_item(item)
    pipe.flush()
    Page, Section = models.Page, models.PageSection

    def stored_as(n: int) -> tuple:
        row = Page.get(Page.url == f"http://h/p{n}.html")
        sections = Section.select().where(Section.page == row.id).order_by(Section.position)
        return row.simhash, [
            (s.position, s.anchor_url.replace(f"p{n}.html", "pN"), s.markdown, s.text)
            for s in sections
        ]

    simhash, sections = stored_as(1)
    assert len(sections) == 3 and simhash is not None
    assert stored_as(2) == (simhash, sections)


def test_a_retracted_ledger_entry_leaves_no_row_and_no_count(pipeline) -> None:
    from docscrawl.items import LedgerRetraction

    pipe, job_id = pipeline
    trap = {"kind": models.TRAP, "reason": "a trap", "occurred_at": models.utcnow()}
    pipe.process_item(CrawlErrorItem(url="http://h/a-1.html", **trap))
    pipe.process_item(CrawlErrorItem(url="http://h/a-2.html", **trap))
    pipe.flush()  # a-1 and a-2 are in the store now
    pipe.process_item(CrawlErrorItem(url="http://h/a-3.html", **trap))
    pipe.process_item(LedgerRetraction(url="http://h/a-1.html", kind=models.TRAP))  # stored
    pipe.process_item(LedgerRetraction(url="http://h/a-3.html", kind=models.TRAP))  # buffered
    pipe.flush()
    # Taken back before the entry itself reached the pipeline (another response's items).
    pipe.process_item(LedgerRetraction(url="http://h/a-4.html", kind=models.TRAP))
    pipe.flush()
    pipe.process_item(CrawlErrorItem(url="http://h/a-4.html", **trap))
    pipe.flush()
    Ledger = models.CrawlError
    assert [url for (url,) in Ledger.select(Ledger.url).tuples()] == ["http://h/a-2.html"]
    assert models.Job.get_by_id(job_id).skipped == {models.TRAP: 1}


def test_the_pipeline_takes_the_prepared_values_instead_of_computing_them(pipeline) -> None:
    from docscrawl.extraction.sections import Section
    from docscrawl.extraction_pool import PreparedPage

    pipe, _ = pipeline
    item = page(7)
    marker = Section(position=0, anchor_url="http://h/p7.html#x", markdown="# X", text="X")
    item["prepared"] = PreparedPage(
        simhash=42, sections=[marker], compressed_markdown=history.compress("# The worker's")
    )
    returned = pipe.process_item(item)
    assert "prepared" not in returned  # for the store only: a feed export after it has none
    pipe.flush()
    stored_page = models.Page.get(models.Page.url == "http://h/p7.html")
    assert stored_page.simhash == 42  # not the fingerprint of its text
    (section,) = models.PageSection.select().where(models.PageSection.page == stored_page.id)
    assert (section.anchor_url, section.markdown) == ("http://h/p7.html#x", "# X")
    (version,) = models.PageVersion.select().where(models.PageVersion.page == stored_page.id)
    assert history.decompress(version.markdown) == "# The worker's"  # not compressed again


def section_count() -> int:
    return models.PageSection.select().count()


def test_sections_are_written_a_batch_of_pages_at_a_time_and_the_rest_at_close(pipeline) -> None:
    from control.search import search

    pipe, _ = pipeline
    pipe.section_batch_size = 3
    for n in (1, 2):
        pipe.process_item(page(n))
    pipe.flush(final=False)  # what the batch size and the timer do
    assert (stored(), section_count()) == (2, 0)
    pipe.process_item(page(3))
    pipe.flush(final=False)  # three pages wait: one statement writes their sections
    assert section_count() == 3 and not pipe.unsectioned
    pipe.process_item(page(4))
    pipe._timer.f(final=False)
    assert section_count() == 3
    pipe.close_spider()
    assert section_count() == 4
    assert {hit.url for hit in search("Page")} == {f"http://h/p{n}.html" for n in range(1, 5)}


def test_a_changed_page_never_keeps_stale_sections_while_its_new_ones_wait(pipeline) -> None:
    from control.search import search

    pipe, job_id = pipeline
    pipe.section_batch_size = 100
    pipe.process_item(page(1))
    pipe.flush()
    edited = page(1)
    edited["markdown"], edited["text"], edited["content_hash"] = "# Page 1\n\nNew words.", "x", "h"
    pipe.job_id = models.Job.create(client=models.Job.get_by_id(job_id).client, url="http://h/").id
    pipe.process_item(edited)
    pipe.flush(final=False)
    assert section_count() == 0  # the old ones went with the page's write
    pipe.flush()
    assert [s.markdown for s in models.PageSection.select()] == ["# Page 1\n\nNew words."]
    assert [hit.url for hit in search("words")] == ["http://h/p1.html"]


def test_a_page_a_kill_left_without_sections_gets_them_when_next_answered_304(pipeline) -> None:
    from docscrawl.items import NotModifiedItem

    pipe, job_id = pipeline
    pipe.section_batch_size = 100
    for n in (1, 2):
        pipe.process_item(page(n))
    pipe.flush(final=False)
    pipe.unsectioned.clear()  # SIGKILL: the batch waiting in memory is gone
    assert (stored(), section_count()) == (2, 0)
    recrawl(pipe, job_id, NotModifiedItem(url="http://h/p1.html", fetched_at=models.utcnow()))
    assert sections("http://h/p1.html") == [(0, "Page 1", None, "http://h/p1.html#top")]
    assert sections("http://h/p2.html") == []  # not seen again yet
    recrawl(pipe, job_id, page(2))  # fetched again, unchanged: it gets them too
    assert sections("http://h/p2.html") == [(0, "Page 2", None, "http://h/p2.html#top")]


def test_waiting_sections_of_a_page_removed_meanwhile_are_not_written(pipeline) -> None:
    pipe, job_id = pipeline
    pipe.section_batch_size = 100
    for n in (1, 2, 3):
        pipe.process_item(page(n))
    pipe.flush(final=False)
    models.Page.delete().where(models.Page.url == "http://h/p1.html").execute()  # dedupe
    other = models.Job.create(client=models.Job.get_by_id(job_id).client, url="http://h/")
    # Stored again by another crawl, as it was: its sections are the same ones.
    models.Page.update(job=other.id).where(models.Page.url == "http://h/p2.html").execute()
    pipe.close_spider()  # no foreign-key failure for the removed page
    assert sections("http://h/p2.html") == [(0, "Page 2", None, "http://h/p2.html#top")]
    assert sections("http://h/p3.html") == [(0, "Page 3", None, "http://h/p3.html#top")]


def test_a_resumed_job_writes_the_sections_its_killed_run_left_waiting(pipeline) -> None:
    pipe, _ = pipeline
    pipe.section_batch_size = 100
    for n in (1, 2):
        pipe.process_item(page(n))
    pipe.flush(final=False)
    assert section_count() == 0  # SIGKILL here: the waiting batch is gone with the process
    resumed = PageStorePipeline(pipe.crawler, pipe.location, 10, 1.0, section_batch_size=100)
    resumed.open_spider()  # the same job: a resume fetches neither page again
    resumed.close_spider()
    assert sections("http://h/p1.html") == [(0, "Page 1", None, "http://h/p1.html#top")]
    assert sections("http://h/p2.html") == [(0, "Page 2", None, "http://h/p2.html#top")]


def test_a_failed_flush_keeps_the_sections_waiting_for_pages_stored_before(
    pipeline, monkeypatch
) -> None:
    import peewee

    pipe, _ = pipeline
    pipe.section_batch_size = 100
    for n in (1, 2, 3):
        pipe.process_item(page(n))
    pipe.flush(final=False)  # stored, their sections waiting
    insert_rows = models.insert_rows

    def failing_once(model, rows, **options):
        if model is models.PageSection:
            monkeypatch.setattr(models, "insert_rows", insert_rows)
            raise peewee.OperationalError("disk I/O error")
        return insert_rows(model, rows, **options)

    monkeypatch.setattr(models, "insert_rows", failing_once)
    pipe.process_item(page(4))
    with pytest.raises(peewee.OperationalError):
        pipe.flush()  # rolled back: page 4 with it
    pipe.process_item(page(5))
    pipe.close_spider()
    for n in (1, 2, 3, 5):
        assert sections(f"http://h/p{n}.html") == [
            (0, f"Page {n}", None, f"http://h/p{n}.html#top")
        ]
    assert not models.Page.select().where(models.Page.url == "http://h/p4.html").exists()


def test_waiting_sections_of_a_page_another_crawl_stored_since_are_not_written(pipeline) -> None:
    """Two crawls of one client: B stores the page again, with its sections; A's waiting ones
    (of A's older Markdown) must not replace them, even when A then sees the page (a 304)."""
    from docscrawl.items import NotModifiedItem

    a, job_a = pipeline
    a.section_batch_size = 100
    client = models.Job.get_by_id(job_a).client
    b = PageStorePipeline(a.crawler, a.location, 10, 1.0, section_batch_size=100)
    b.job_id, b.client_id = models.Job.create(client=client, url="http://h/").id, client.id
    older, newer = page(1), page(1)
    older["markdown"], older["content_hash"] = "# Page 1\n\nA's text.", "ha"
    newer["markdown"], newer["content_hash"] = "# Page 1\n\nB's newer text.", "hb"
    a.process_item(older)
    a.flush(final=False)
    b.process_item(newer)
    b.flush()
    a.process_item(NotModifiedItem(url="http://h/p1.html", fetched_at=models.utcnow()))
    a.close_spider()
    assert [s.markdown for s in models.PageSection.select()] == ["# Page 1\n\nB's newer text."]


def test_a_section_batch_is_written_early_when_its_markdown_is_big(pipeline, monkeypatch) -> None:
    from docscrawl import pipelines

    pipe, _ = pipeline
    pipe.section_batch_size = 100
    monkeypatch.setattr(pipelines, "SECTION_BATCH_MAX_CHARS", 15)
    pipe.process_item(page(1))  # "# Page 1": 8 characters
    pipe.flush(final=False)
    assert section_count() == 0 and pipe.unsectioned_chars == 8
    pipe.process_item(page(2))
    pipe.flush(final=False)
    assert section_count() == 2 and pipe.unsectioned_chars == 0
