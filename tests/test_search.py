"""Full-text search: the index kept in step by the pipeline, ranking, filters, quoting, the
schema-13 migration (SQLite and PostgreSQL), `docscrawl search` and `GET /api/search`."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import peewee
import pytest
import support
from conftest import Cli, Store, clean_env, crawl_job_id
from scrapy.utils.test import get_crawler

from control import search
from control.exceptions import DocscrawlError
from docscrawl import backfill, models, search_index
from docscrawl.items import PageItem
from docscrawl.pipelines import PageStorePipeline


@pytest.fixture
def location(store_location: str) -> str:
    """A new, empty store on each engine (tests/postgres.py's store_location)."""
    return store_location


class Writer:
    """Pages written through the real pipeline, as a crawl of one client writes them."""

    def __init__(self, location: str):
        self.location = location
        self.pipes: list[PageStorePipeline] = []

    def job(self, client: str = "Acme") -> int:
        client_row = models.get_or_create_client(client)
        return models.Job.create(client=client_row, url="http://h/").id

    def write(self, job_id: int, pages: list[PageItem]) -> None:
        crawler = get_crawler(settings_dict={"DOCSCRAWL_DB": self.location})
        crawler.stats.open_spider()
        crawler.spider = SimpleNamespace(job_id=job_id)
        pipe = PageStorePipeline(crawler, self.location, 1000, 60.0)
        pipe.open_spider()
        for item in pages:
            pipe.process_item(item)
        pipe._timer.stop()
        pipe.flush()


@pytest.fixture
def writer(location: str) -> Iterator[Writer]:
    models.open_store(location)
    yield Writer(location)
    models.database.close()


def page(slug: str, title: str, *sections: tuple[str, str], host: str = "h") -> PageItem:
    """A page with an intro and sections given as (heading, text)."""
    url = f"http://{host}/{slug}.html"
    markdown = [f"# {title}", "", f"About {title.lower()}."]
    headings = [{"level": 1, "text": title, "anchor": "top"}]
    for heading, text in sections:
        anchor = heading.lower().replace(" ", "-")
        markdown += ["", f"## {heading}", "", text]
        headings.append({"level": 2, "text": heading, "anchor": anchor})
    body = "\n".join(markdown)
    return PageItem(
        url=url, requested_url=url, final_url=url, canonical_url=None, status_code=200,
        title=title, description=None, language="en", headings=headings, markdown=body,
        text=body.replace("#", ""), links=[], word_count=len(body.split()),
        content_hash=str(hash(body)), etag=None, last_modified=None,
        fetched_at=models.utcnow(), depth=1, extraction_audit={},
    )  # fmt: skip


CORPUS = [
    page("install", "Installation", ("From source", "Run make install to build the widget.")),
    page("config", "Configuration", ("Widget options", "The frobnicate setting tunes widgets.")),
    page("widget", "Widget", ("Overview", "A widget is a small thing.")),
    page("faq", "FAQ", ("Widgets", "Why does my widget widget widget wobble?")),
]


def urls(hits: list[search.SearchHit]) -> list[str]:
    return [hit.url for hit in hits]


def index_rows() -> int:
    """How many sections the index holds (every one, if it is in step)."""
    db = models.database.obj
    if search_index.is_sqlite(db):
        table = search_index.FTS_TABLE
        db.execute_sql(f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)")
        return db.execute_sql(f"SELECT count(*) FROM {table}_docsize").fetchone()[0]
    return db.execute_sql(
        f"SELECT count(*) FROM page_section WHERE {search_index.PG_COLUMN} IS NOT NULL"
    ).fetchone()[0]


# --- finding and ranking -------------------------------------------------------------------------


def test_planted_phrases_are_found_in_their_section(writer: Writer) -> None:
    writer.write(writer.job(), CORPUS)
    [hit] = search.search("frobnicate")
    assert hit.url == "http://h/config.html"
    assert hit.anchor_url == "http://h/config.html#widget-options"
    assert (hit.title, hit.heading, hit.client) == (
        "Configuration",
        "Configuration > Widget options",
        "acme",
    )
    assert f"{search.MARK_START}frobnicate{search.MARK_END}" in hit.snippet
    assert "The [[frobnicate]] setting tunes widgets" in hit.as_dict()["snippet"]
    # A phrase matches its words in order only; every term must appear.
    assert urls(search.search('"make install"')) == ["http://h/install.html"]
    assert search.search('"install make"') == []
    assert urls(search.search("build widget")) == ["http://h/install.html"]
    # Case does not matter (nor, on SQLite, accents).
    assert urls(search.search("FROBNICATE")) == ["http://h/config.html"]
    if search_index.is_sqlite(models.database.obj):
        assert urls(search.search("fröbnicate")) == ["http://h/config.html"]


def test_an_exact_title_match_ranks_first(writer: Writer) -> None:
    writer.write(writer.job(), CORPUS)
    hits = search.search("widget")
    # The FAQ says "widget" four times, but the page titled "Widget" comes first.
    assert hits[0].url == "http://h/widget.html"
    assert set(urls(hits)) == {f"http://h/{s}.html" for s in ("install", "config", "widget", "faq")}
    assert len(urls(hits)) == 4  # one result per page: its best section
    assert hits[0].rank >= hits[1].rank or hits[0].title == "Widget"
    assert search.search("Widget", limit=2)[0].title == "Widget"
    assert len(search.search("widget", limit=2)) == 2


def test_filters_by_client_and_by_job(writer: Writer) -> None:
    first = writer.job("Acme")
    writer.write(first, CORPUS[:2])
    second = writer.job("Acme")
    writer.write(second, CORPUS[2:])
    other = writer.job("Other Co")
    writer.write(other, [page("x", "Other widget", ("Widgets", "widget"), host="o")])
    assert len(search.search("widget")) == 5
    assert {hit.client for hit in search.search("widget", client_slug="other-co")} == {"other-co"}
    assert len(search.search("widget", client_slug="acme")) == 4
    assert set(urls(search.search("widget", job_id=first))) == {
        "http://h/install.html", "http://h/config.html"
    }  # fmt: skip
    assert {hit.job_id for hit in search.search("widget", job_id=second)} == {second}
    assert search.search("widget", client_slug="other-co", job_id=first) == []
    with pytest.raises(DocscrawlError, match="no client 'nobody'"):
        search.search("widget", client_slug="nobody")
    with pytest.raises(DocscrawlError, match="no job 999"):
        search.search("widget", job_id=999)


@pytest.mark.parametrize(
    "query",
    ['"foo', "AND", "OR widget", "NOT", "NEAR(widget", "widget*", "title:widget", "-widget",
     "^widget", "widget)", "'", "a\"b\"c", "widget AND", "{title}", "\\", "%", "_"],
)  # fmt: skip
def test_hostile_queries_are_words_not_syntax(writer: Writer, query: str) -> None:
    writer.write(writer.job(), CORPUS)
    hits = search.search(query) if search.parse_query(query) else []
    assert isinstance(hits, list)
    if query in ("widget*", "-widget", "^widget", "widget)"):
        assert len(hits) == 4  # punctuation around a word: the word is searched


def test_a_query_with_no_word_is_refused(writer: Writer) -> None:
    for query in ('"', "", "  ", "* - ^"):
        with pytest.raises(DocscrawlError, match="no word to search for"):
            search.search(query)


# --- the index in step ---------------------------------------------------------------------------


def test_a_recrawl_that_changes_a_page_updates_the_index(writer: Writer) -> None:
    writer.write(writer.job(), CORPUS)
    assert urls(search.search("frobnicate")) == ["http://h/config.html"]
    changed = page("config", "Configuration", ("Widget options", "The quuxify setting now."))
    writer.write(writer.job(), [changed])
    assert search.search("frobnicate") == []
    assert urls(search.search("quuxify")) == ["http://h/config.html"]
    assert index_rows() == models.PageSection.select().count()


def test_deleted_pages_leave_the_index(writer: Writer) -> None:
    writer.write(writer.job("Acme"), CORPUS)
    writer.write(writer.job("Other Co"), [page("x", "Other", ("Widgets", "frobnicate"), host="o")])
    assert len(search.search("frobnicate")) == 2
    # A page removed as dedupe removes one (its sections go by cascade).
    models.Page.delete().where(models.Page.url == "http://h/config.html").execute()
    assert urls(search.search("frobnicate")) == ["http://o/x.html"]
    # A client removed with everything it has.
    models.Client.delete().where(models.Client.slug == "other-co").execute()
    assert search.search("frobnicate") == []
    assert index_rows() == models.PageSection.select().count() > 0


# --- the migration to schema 13 ------------------------------------------------------------------


def counts() -> dict[str, int]:
    return {model._meta.table_name: model.select().count() for model in models.MODELS}


def test_a_schema_11_store_gets_the_index_without_losing_rows(
    writer: Writer, location: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer.write(writer.job("Acme"), CORPUS)
    writer.write(writer.job("Other Co"), [page(f"p{n}", f"Page {n}", ("Body", f"word{n} common"),
                                               host="o") for n in range(40)])  # fmt: skip
    db = models.database.obj
    search_index.drop_index(db)
    models.StoreMeta.update(value="11").where(models.StoreMeta.key == "schema_version").execute()
    before = counts()
    sections = models.PageSection.select().count()
    reported: list[tuple[int, int]] = []
    monkeypatch.setattr(search_index, "CHUNK", 7)
    monkeypatch.setattr(search_index, "PROGRESS_EVERY", 20)

    def report(task: str, done: int, total: int, _unit: str) -> None:
        if task.startswith("Indexing"):
            reported.append((done, total))

    monkeypatch.setattr(backfill, "progress_reporter", report)
    models.database.close()
    models.open_store(location)
    assert models.schema_version() == models.SCHEMA_VERSION
    assert counts() == before
    assert index_rows() == sections
    assert reported and reported[-1] == (sections, sections)
    steps = [b - a for (a, _), (b, _) in itertools.pairwise(reported[:-1])]
    assert all(step >= 20 for step in steps) and len(reported) >= 3
    assert urls(search.search("frobnicate")) == ["http://h/config.html"]
    assert len(search.search("common", limit=100)) == 40
    # And it is kept in step afterwards.
    writer.write(writer.job("Acme"), [page("new", "New", ("Body", "zyzzyva"))])
    assert urls(search.search("zyzzyva")) == ["http://h/new.html"]


def _merge_options() -> dict[str, int]:
    rows = models.database.obj.execute_sql(
        f"SELECT k, v FROM {search_index.FTS_TABLE}_config WHERE k IN ('automerge', 'crisismerge')"
    ).fetchall()
    return {key: int(value) for key, value in rows}


TUNED = {"automerge": 0, "crisismerge": 64}


def test_the_sqlite_index_merges_only_full_levels(writer: Writer, location: str) -> None:
    if not search_index.is_sqlite(models.database.obj):
        pytest.skip("an FTS5 option: SQLite only")
    assert _merge_options() == TUNED  # a new store's index
    writer.write(writer.job("Acme"), CORPUS)
    # A schema-15 store (FTS5's defaults) gets them by migration, every row kept.
    models.database.obj.execute_sql(
        f"DELETE FROM {search_index.FTS_TABLE}_config WHERE k IN ('automerge', 'crisismerge')"
    )
    models.StoreMeta.update(value="15").where(models.StoreMeta.key == "schema_version").execute()
    before, sections = counts(), index_rows()
    models.database.close()
    models.open_store(location)
    assert models.schema_version() == models.SCHEMA_VERSION
    assert _merge_options() == TUNED
    assert counts() == before and index_rows() == sections
    assert urls(search.search("frobnicate"))  # the index still answers


def test_the_cli_reports_the_indexing_on_stderr(cli: Cli, store: Store, site: str) -> None:
    result = cli("crawl", "--url", site, "--client", "Sample", "--quiet")
    assert result.returncode == 0, result.stderr
    sections = store.value("SELECT count(*) FROM page_section")
    with models.open_store(str(store.path)) as db:
        search_index.drop_index(db)
        db.execute_sql("UPDATE store_meta SET value = '11' WHERE key = 'schema_version'")
    models.database.close()
    result = cli("list")
    assert result.returncode == 0, result.stderr
    assert f"Indexing pages for search: {sections} of {sections} sections" in result.stderr
    assert store.value("SELECT count(*) FROM page_section_search_docsize") == sections
    assert cli("list").stderr.count("Indexing") == 0  # once


def test_the_cli_reports_the_fingerprints_backfill_on_stderr(
    cli: Cli, store: Store, site: str
) -> None:
    from docscrawl import fingerprints

    result = cli("crawl", "--url", site, "--client", "Sample", "--quiet")
    assert result.returncode == 0, result.stderr
    pages = store.value("SELECT count(*) FROM page")
    with models.open_store(str(store.path)) as db:
        fingerprints.drop_from_store(db)  # a store of schema 14, before the fingerprints
        db.execute_sql("UPDATE store_meta SET value = '14' WHERE key = 'schema_version'")
    models.database.close()
    result = cli("list")
    assert result.returncode == 0, result.stderr
    assert f"Fingerprinting pages for dedupe --near: {pages} of {pages} pages" in result.stderr
    assert store.value("SELECT count(*) FROM page WHERE simhash IS NULL") == 0
    assert cli("list").stderr.count("Fingerprinting") == 0  # once


# --- the command and the API ---------------------------------------------------------------------


@pytest.fixture
def docs_site(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "site"
    root.mkdir()
    pages = {
        "index.html": ("Home", "<p>Start with <a href='tokens.html'>tokens</a> and "
                       "<a href='rate.html'>rate limits</a>.</p>"),
        "tokens.html": ("API tokens", "<h2 id='create'>Create a token</h2><p>Open the "
                        "settings and press the rotate button twice.</p>"),
        "rate.html": ("Rate limits", "<h2 id='limits'>Limits</h2><p>Each API token may "
                      "send 100 requests a minute.</p>"),
    }  # fmt: skip
    for name, (title, body) in pages.items():
        (root / name).write_text(
            f"<html><head><title>{title}</title></head><body><main><h1>{title}</h1>{body}"
            "</main></body></html>"
        )
    with support.serve_directory(root) as url:
        yield url


def test_search_command_finds_a_crawled_page(cli: Cli, docs_site: str, tmp_path: Path) -> None:
    result = cli("crawl", "--url", docs_site, "--client", "Docs", "--quiet")
    assert result.returncode == 0, result.stderr
    job_id = crawl_job_id(result.stdout.splitlines()[0]) if result.stdout else 1

    found = cli("search", "rotate button")
    assert found.returncode == 0, found.stderr
    lines = found.stdout.splitlines()
    assert lines[0] == "1. API tokens > API tokens > Create a token"
    assert lines[1] == f"   {docs_site}tokens.html#create"
    assert "[[rotate]] [[button]]" in lines[2]
    assert found.stderr == "1 page found.\n"

    as_json = cli("search", "api token", "--json", "--client-slug", "docs", "--job", str(job_id))
    hits = json.loads(as_json.stdout)
    assert [hit["url"] for hit in hits][:1] == [f"{docs_site}tokens.html"]  # title first
    assert set(hits[0]) == {"page_id", "url", "anchor_url", "title", "heading", "snippet",
                            "rank", "client", "job_id"}  # fmt: skip
    assert {hit["client"] for hit in hits} == {"docs"} and len(hits) == 2

    for query in ('"foo', "AND", "NEAR(", "x:y"):
        hostile = cli("search", query)
        assert hostile.returncode == 0 and "Traceback" not in hostile.stderr, hostile.stderr
    empty = cli("search", '"')
    assert empty.returncode == 1
    assert empty.stderr == "Error: The query '\"' has no word to search for.\n"
    unknown = cli("search", "token", "--client-slug", "nobody")
    assert unknown.returncode == 1 and "no client 'nobody'" in unknown.stderr
    assert cli("search", "token", "--limit", "0").returncode == 2
    assert "quoted phrases" in cli("search", "--help").stdout


def test_search_through_the_api(cli: Cli, docs_site: str, server) -> None:
    result = cli("crawl", "--url", docs_site, "--client", "Docs", "--quiet")
    assert result.returncode == 0, result.stderr
    response = server.api("GET", "/api/search", params={"q": "rotate", "client": "docs"})
    assert response.status_code == 200, response.text
    [hit] = response.json()
    assert hit["anchor_url"] == f"{docs_site}tokens.html#create"
    assert "[[rotate]]" in hit["snippet"]
    bad = server.api("GET", "/api/search", params={"q": '"'})
    assert bad.status_code == 400 and "no word" in bad.json()["error"]
    missing = server.api("GET", "/api/search", params={"q": "x", "job": 999})
    assert missing.status_code == 404 and "error" in missing.json()


# --- migrate-store -------------------------------------------------------------------------------


def test_migrate_store_leaves_the_target_index_complete(
    docs_site: str, tmp_path: Path, location: str
) -> None:
    from control.migrate_store import migrate_store

    source = Store(tmp_path / "source.db")
    cli = Cli(source, tmp_path, clean_env())
    assert cli("crawl", "--url", docs_site, "--client", "Docs", "--quiet").returncode == 0
    target = location if "://" in location else str(tmp_path / "target.db")
    migrate_store(str(source.path), target)
    try:
        assert index_rows() == models.PageSection.select().count() > 0
        assert urls(search.search("rotate")) == [f"{docs_site}tokens.html"]
    finally:
        models.database.close()


def test_without_fts5_the_store_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_index, "fts5_available", lambda db: False)
    with pytest.raises(models.StoreError, match="no FTS5"):
        models.open_store(str(tmp_path / "s.db"))
    models.database.close()


def test_fts5_is_available_here() -> None:
    db = peewee.SqliteDatabase(":memory:")
    assert search_index.fts5_available(db)


def test_a_query_matching_very_many_sections_ranks_title_and_heading_matches(
    writer: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer.write(writer.job(), CORPUS)
    # "widget" matches more sections than that.
    monkeypatch.setattr(search, "RANK_ALL_UP_TO", 2)
    monkeypatch.setattr(search, "RANK_ALL_UP_TO_PG", 2)
    hits = search.search("widget")
    assert hits[0].url == "http://h/widget.html"  # the exact title still first
    assert set(urls(hits)) == {f"http://h/{s}.html" for s in ("install", "config", "widget", "faq")}
    assert len(search.search("widget", limit=3)) == 3


@pytest.mark.skipif(
    "DOCSCRAWL_BENCH_SEARCH" not in __import__("os").environ,
    reason="a timing run: DOCSCRAWL_BENCH_SEARCH=PAGES (5 sections a page)",
)
def test_query_times_on_a_generated_store(location: str, capsys: pytest.CaptureFixture) -> None:
    """Not a check but a measurement (BENCHMARKS.md): bench.search_scale on this engine."""
    import os
    import time

    from bench import search_scale

    pages = int(os.environ["DOCSCRAWL_BENCH_SEARCH"])
    start = time.perf_counter()
    search_scale.generate(location, pages, 5)
    generated = time.perf_counter() - start
    models.database.close()
    start = time.perf_counter()
    models.open_store(location)
    migrated = time.perf_counter() - start
    lines = [f"{location.split(':')[0]}: {pages} pages, generated {generated:.1f} s, "
             f"migration {migrated:.1f} s"]  # fmt: skip
    for query, filters in search_scale.QUERIES:
        seconds, _ = search_scale.timed(3, lambda q=query, f=filters: search.search(q, **f))
        lines.append(f"{query!r} {filters}: {seconds:.3f} s, {search_scale.matching(query):,}")
    models.database.close()
    with capsys.disabled():
        print("\n" + "\n".join(lines))
