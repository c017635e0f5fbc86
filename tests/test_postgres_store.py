"""The store on PostgreSQL: schema and migrations, the pipeline's upserts, concurrent crawls.

The in-process store tests run on both engines (``store_location`` is parametrised), so a
difference between SQLite and PostgreSQL shows up as one failing parameter. The CLI tests crawl
the sample site into a PostgreSQL database through the real ``docscrawl`` command.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import peewee
import pytest
from conftest import DOCSCRAWL, Cli, Result, clean_env, crawl_job_id, free_port, wait_for
from scrapy.utils.test import get_crawler

import sample_site
from docscrawl import models
from docscrawl.pipelines import PAGE_FIELDS, PageStorePipeline

if TYPE_CHECKING:  # imported by pytest_plugins at run time, so that pytest can rewrite it
    from postgres import PostgresServer, PostgresStore

# Registers the server fixtures once per session, whether or not conftest does too.
pytest_plugins = ["postgres"]

# store_location (tests/postgres.py): a new, empty store on each engine.


@pytest.fixture
def opened(store_location: str) -> Iterator[peewee.Database]:
    """The store opened in this process (the models bound to it), closed afterwards."""
    db = models.open_store(store_location)
    yield db
    db.close()


def reopen(location: str) -> peewee.Database:
    models.database.close()
    return models.open_store(location)


# --- schema --------------------------------------------------------------------------------------


def test_new_store_has_every_table_and_the_schema_version(opened: peewee.Database) -> None:
    tables = set(opened.get_tables())
    assert {model._meta.table_name for model in models.MODELS} <= tables
    assert models.schema_version() == models.SCHEMA_VERSION


def test_reopening_changes_nothing(store_location: str, opened: peewee.Database) -> None:
    client = models.get_or_create_client("Python Docs")
    db = reopen(store_location)
    assert models.Client.get(models.Client.slug == "python-docs").id == client.id
    assert models.get_or_create_client("python docs").id == client.id
    assert models.StoreMeta.select().count() == 1
    db.close()


def test_a_version_1_store_is_migrated_without_losing_data(
    store_location: str, opened: peewee.Database
) -> None:
    # Turn the new store back into a version-1 one: no frontier, no job_page, no job.resumes, no
    # ledger kinds or counts, no extraction-failure counters, no page audit, no page sections.
    opened.execute_sql("DROP TABLE page_section")
    opened.execute_sql("ALTER TABLE page DROP COLUMN extraction_audit")
    opened.execute_sql("DROP TABLE job_page")
    opened.execute_sql("DROP TABLE frontier_request")
    opened.execute_sql("ALTER TABLE job DROP COLUMN resumes")
    opened.execute_sql("ALTER TABLE job DROP COLUMN skipped")
    opened.execute_sql("ALTER TABLE job DROP COLUMN extraction_failures")
    opened.execute_sql("DROP INDEX crawl_error_job_id_kind")
    opened.execute_sql("ALTER TABLE crawl_error DROP COLUMN kind")
    opened.execute_sql("UPDATE store_meta SET value = '1' WHERE key = 'schema_version'")

    def sql(text: str, *params: object) -> tuple:
        # fetchall: SQLite applies an INSERT ... RETURNING only once it is read to the end.
        return opened.execute_sql(text.replace("?", opened.param), params).fetchall()[0]

    client = sql(
        "INSERT INTO client (name, slug, created_at) VALUES ('Old', 'old', CURRENT_TIMESTAMP) "
        "RETURNING id"
    )[0]
    job = sql(
        "INSERT INTO job (client_id, url, status, mode, settings, created_at, pages, errors, "
        "queued) VALUES (?, 'http://h/', 'completed', 'sync', '{}', CURRENT_TIMESTAMP, 2, 0, 0) "
        "RETURNING id",
        client,
    )[0]
    for n, owner in ((1, job), (2, None)):
        url = f"http://h/{n}"
        sql(
            "INSERT INTO page (client_id, job_id, url, requested_url, final_url, status_code, "
            "headings, markdown, text, links, word_count, content_hash, fetched_at, depth) "
            "VALUES (?, ?, ?, ?, ?, 200, '[]', '', '', '[]', 0, ?, CURRENT_TIMESTAMP, 0) "
            "RETURNING id",
            *(client, owner, url, url, url, f"hash{n}"),
        )

    reopen(store_location)
    assert models.schema_version() == models.SCHEMA_VERSION
    migrated = models.Job.get_by_id(job)
    assert (migrated.resumes, migrated.skipped, migrated.extraction_failures) == (0, {}, {})
    sightings = list(models.JobPage.select().tuples())
    assert [(row[1], row[3], row[4]) for row in sightings] == [(job, models.NEW, "hash1")]
    assert models.FrontierRequest.select().count() == 0
    assert models.Page.select().count() == 2
    assert [page.extraction_audit for page in models.Page.select()] == [{}, {}]
    assert models.PageSection.select().count() == 0  # the pages have no Markdown


def test_a_version_5_store_gets_audits_and_sections_without_losing_data(
    store_location: str, opened: peewee.Database
) -> None:
    client = models.get_or_create_client("Five")
    job = models.Job.create(client=client, url="http://h/", status="completed", pages=2)
    markdown = "Intro.\n\n# Guide\n\nText.\n\n```sh\n# not a heading\n```\n\n## Usage\n\nUse."
    headings = [
        {"level": 1, "text": "Guide", "anchor": "guide"},
        {"level": 2, "text": "Usage", "anchor": "usage"},
    ]
    guide = models.Page.create(
        client=client, job=job, url="http://h/guide.html", requested_url="http://h/guide.html",
        final_url="http://h/guide.html", status_code=200, title="Guide", headings=headings,
        markdown=markdown, text="Intro.\nGuide\nText.\n# not a heading\nUsage\nUse.",
        content_hash="g",
    )  # fmt: skip
    empty = models.Page.create(
        client=client, job=job, url="http://h/empty.html", requested_url="http://h/empty.html",
        final_url="http://h/empty.html", status_code=200, content_hash="e",
    )  # fmt: skip
    models.JobPage.create(job=job, page=guide, change=models.NEW, content_hash="g")
    # Back to version 5: no page audit, no page_section table.
    opened.execute_sql("DROP TABLE page_section")
    opened.execute_sql("ALTER TABLE page DROP COLUMN extraction_audit")
    opened.execute_sql("UPDATE store_meta SET value = '5' WHERE key = 'schema_version'")

    reopen(store_location)
    assert models.schema_version() == models.SCHEMA_VERSION == max(models.MIGRATIONS)
    pages = {page.url: page for page in models.Page.select()}
    assert set(pages) == {guide.url, empty.url}
    assert pages[guide.url].markdown == markdown and pages[guide.url].headings == headings
    assert [page.extraction_audit for page in pages.values()] == [{}, {}]
    assert models.JobPage.select().count() == 1 and models.Job.get_by_id(job.id).pages == 2
    # The stored pages' sections are split from their Markdown by the migration.
    sections = list(
        models.PageSection.select().where(models.PageSection.page == guide.id)
        .order_by(models.PageSection.position)
    )  # fmt: skip
    assert [(s.position, s.lvl0, s.lvl1, s.lvl2, s.anchor_url) for s in sections] == [
        (0, "Guide", None, None, "http://h/guide.html"),
        (1, "Guide", "Guide", None, "http://h/guide.html#guide"),
        (2, "Guide", "Guide", "Usage", "http://h/guide.html#usage"),
    ]
    assert "".join(s.markdown for s in sections) == markdown
    assert models.PageSection.select().where(models.PageSection.page == empty.id).count() == 0


def test_values_round_trip(opened: peewee.Database) -> None:
    client = models.get_or_create_client("Ünïcode Docs — ß")
    started = 1_795_987_631.123456  # an epoch process start time: must keep sub-second precision
    when = models.utcnow()
    job = models.Job.create(
        client=client,
        url="http://h/",
        settings={"DOWNLOAD_DELAY": "0.5", "nested": {"list": [1, "two", None]}},
        process_started_at=started,
        started_at=when,
    )
    job = models.Job.get_by_id(job.id)
    assert job.settings == {"DOWNLOAD_DELAY": "0.5", "nested": {"list": [1, "two", None]}}
    assert abs(job.process_started_at - started) < 1e-3
    assert job.started_at == when and job.started_at.tzinfo is None
    assert models.Client.get_by_id(client.id).name == "Ünïcode Docs — ß"


def test_stream_reads_every_row_in_order_through_batches(opened: peewee.Database) -> None:
    client = models.get_or_create_client("Streamed")
    models.Job.insert_many(
        [{"client": client.id, "url": f"http://h/{n}"} for n in range(25)]
    ).execute()
    query = models.Job.select(models.Job.url).order_by(models.Job.id).tuples()
    # A batch smaller than the result: PostgreSQL fetches from its server-side cursor 4 times.
    assert [url for (url,) in models.stream(query, batch=7)] == [f"http://h/{n}" for n in range(25)]
    if isinstance(opened, peewee.PostgresqlDatabase):
        assert hasattr(opened, "_server_side_cursors")  # the class stream() needs for cursors


# --- the pipeline and change tracking ------------------------------------------------------------


def page_row(n: int, digest: str, prefix: str = "http://h/docs/") -> dict:
    url = f"{prefix}p{n}.html"
    return {
        "url": url, "requested_url": url, "final_url": url, "canonical_url": None,
        "status_code": 200, "title": f"Page {n} 'quoted' \\ back", "description": None,
        "language": "en", "headings": [{"level": 1, "text": f"Page {n}", "anchor": "top"}],
        "markdown": f"# Page {n}", "text": f"Page {n} 100% ✓", "links": [f"{prefix}p0.html"],
        "word_count": 3, "content_hash": digest, "etag": '"abc"', "last_modified": None,
        "fetched_at": models.utcnow(), "depth": 1,
        "extraction_audit": {"text_share": 0.9, "headings": [1, 1], "rule": "main"},
    }  # fmt: skip


def make_pipeline(location: str, client: str = "Test") -> PageStorePipeline:
    client_row = models.get_or_create_client(client)
    job = models.Job.create(client=client_row, url="http://h/docs/")
    crawler = get_crawler(settings_dict={"DOCSCRAWL_DB": location})
    crawler.stats.open_spider()
    crawler.spider = SimpleNamespace(job_id=job.id)
    pipeline = PageStorePipeline(crawler, location, 100, 1.0)
    pipeline.job_id, pipeline.client_id = job.id, client_row.id
    return pipeline


def flush(pipeline: PageStorePipeline, rows: list[dict]) -> None:
    pipeline.pages = {row["url"]: {name: row[name] for name in PAGE_FIELDS} for row in rows}
    pipeline.flush()


def test_batched_upserts_update_pages_in_place_and_track_changes(
    store_location: str, opened: peewee.Database
) -> None:
    first = make_pipeline(store_location)
    flush(first, [page_row(n, f"h{n}") for n in range(250)])  # more than one 200-row insert
    assert models.Page.select().count() == 250
    assert models.change_counts(first.job_id)[models.NEW] == 250

    second = make_pipeline(store_location)
    flush(second, [page_row(n, "edited" if n < 5 else f"h{n}") for n in range(260)])
    assert models.Page.select().count() == 260
    assert models.change_counts(second.job_id) == {
        models.NEW: 10, models.CHANGED: 5, models.UNCHANGED: 245, models.REMOVED: 0,
    }  # fmt: skip
    assert models.Job.get_by_id(second.job_id).pages == 260
    stored = models.Page.get(models.Page.url == "http://h/docs/p3.html")
    assert stored.content_hash == "edited" and stored.job_id == second.job_id
    assert stored.title == "Page 3 'quoted' \\ back" and stored.text == "Page 3 100% ✓"
    assert stored.headings == [{"level": 1, "text": "Page 3", "anchor": "top"}]


def test_a_pages_sections_are_replaced_with_it_and_deleted_with_it(
    store_location: str, opened: peewee.Database
) -> None:
    pipeline = make_pipeline(store_location)
    first = page_row(1, "h1")
    first["markdown"] = "# Page 1\n\nIntro.\n\n## Usage\n\nUse."
    flush(pipeline, [first, page_row(2, "h2")])
    Section = models.PageSection
    assert Section.select().count() == 3
    flush(pipeline, [page_row(1, "h1-edited")])  # re-crawled: one section now
    page = models.Page.get(models.Page.url == first["url"])
    assert [(s.position, s.lvl1, s.anchor_url) for s in page.sections] == [
        (0, "Page 1", first["url"] + "#top")
    ]
    with models.write_transaction():
        models.Page.delete().where(models.Page.id == page.id).execute()
    assert Section.select().where(Section.page == page.id).count() == 0  # ON DELETE CASCADE
    assert Section.select().count() == 1


def test_removed_pages_are_recorded_under_the_prefix_only(
    store_location: str, opened: peewee.Database
) -> None:
    # "_" and "%" are LIKE wildcards: the prefix must match literally on both engines.
    prefix = "http://h/docs_v1%/"
    first = make_pipeline(store_location)
    flush(first, [page_row(n, f"h{n}", prefix) for n in range(4)])
    flush(first, [page_row(9, "h9", "http://h/docsXv1%/")])  # matches only if "_" is a wildcard
    second = make_pipeline(store_location)
    flush(second, [page_row(n, f"h{n}", prefix) for n in range(2)])

    assert models.record_removed_pages(second.job_id, second.client_id, prefix) == 2
    assert models.record_removed_pages(second.job_id, second.client_id, prefix) == 0
    assert models.change_counts(second.job_id)[models.REMOVED] == 2
    # A later job does not find them removed again.
    third = make_pipeline(store_location)
    assert models.record_removed_pages(third.job_id, third.client_id, prefix) == 2


def test_concurrent_writers_create_one_client(store_location: str, opened: peewee.Database) -> None:
    # Read-then-write transactions must not race: BEGIN IMMEDIATE on SQLite, an advisory lock
    # on PostgreSQL (without it two threads both find no client and one insert fails).
    threads, rounds = 6, 10
    barrier = threading.Barrier(threads)
    results: list[tuple[int, int]] = []
    failures: list[Exception] = []

    def create() -> None:
        try:
            opened.connect(reuse_if_open=True)  # connected before the start line: a real race
            for n in range(rounds):
                barrier.wait(timeout=10)
                results.append((n, models.get_or_create_client(f"Same Client {n}").id))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)
            barrier.abort()
        finally:
            opened.close()  # this thread's connection

    workers = [threading.Thread(target=create) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not failures
    assert len(results) == threads * rounds
    assert len(set(results)) == rounds
    assert models.Client.select().count() == rounds


# --- the real CLI on PostgreSQL ------------------------------------------------------------------


@pytest.fixture
def pg_cli(postgres_store: PostgresStore, tmp_path: Path) -> Iterator[Cli]:
    """conftest's Cli with ``--db <this test's PostgreSQL URL>``; stops what it started."""
    runner = Cli(postgres_store, tmp_path, clean_env())  # type: ignore[arg-type]
    yield runner
    runner.stop_started()


def stored_paths(store: PostgresStore, client_slug: str) -> list[str]:
    rows = store.rows(
        "SELECT page.url FROM page JOIN client ON client.id = page.client_id WHERE slug = ?",
        client_slug,
    )
    return sorted(urlsplit(url).path for (url,) in rows)


def assert_secret_free(password: str, *results: Result) -> None:
    for result in results:
        assert password not in result.stdout + result.stderr


def test_crawl_list_status_and_recrawl(
    pg_cli: Cli, postgres_store: PostgresStore, postgres_server: PostgresServer, site: str
) -> None:
    expected = sample_site.expected_pages("/")
    first = pg_cli("crawl", "--url", site, "--client", "Sample Docs", "--quiet")
    assert first.returncode == 0, first.stderr
    assert crawl_job_id(first.stdout.splitlines()[0]) == 1
    assert "Job 1 completed" in first.stdout
    assert stored_paths(postgres_store, "sample-docs") == sorted(expected)
    assert postgres_store.job(1)["pages"] == len(expected)
    assert postgres_store.job(1)["finish_reason"] == "finished"
    # The crawl's start time survived the round trip (it tells a reused pid from the crawl).
    assert postgres_store.value(
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_name = 'job' AND column_name = 'process_started_at'"
    ) == "double precision"  # fmt: skip

    listed = pg_cli("list", "--json")
    assert listed.returncode == 0, listed.stderr
    [summary] = listed.json()
    assert summary["id"] == 1 and summary["status"] == "completed"
    assert summary["client"] == "sample-docs" and summary["pages"] == len(expected)
    status = pg_cli("status", "--job", "1", "--json")
    assert status.returncode == 0, status.stderr
    details = status.json()
    assert details["changes"] == {"new": len(expected), "changed": 0, "unchanged": 0, "removed": 0}
    errors = "SELECT COUNT(*) FROM crawl_error WHERE kind IN ('http_status', 'timeout', 'network')"
    assert details["errors"] == postgres_store.value(errors) > 0
    assert sum(details["skipped"].values()) == postgres_store.value(
        "SELECT COUNT(*) FROM crawl_error"
    )

    second = pg_cli("crawl", "--url", site, "--client", "Sample Docs", "--quiet")
    assert second.returncode == 0, second.stderr
    assert "Job 2 completed" in second.stdout
    changes = pg_cli("status", "--job", "2", "--json").json()["changes"]
    assert changes == {"new": 0, "changed": 0, "unchanged": len(expected), "removed": 0}
    assert postgres_store.value("SELECT COUNT(*) FROM page") == len(expected)
    diff = pg_cli("diff", "--client-slug", "sample-docs")
    assert diff.returncode == 0, diff.stderr
    assert f"0 added, 0 removed, 0 changed, {len(expected)} unchanged" in diff.stdout
    assert_secret_free(postgres_server.password, first, listed, status, second, diff)


def test_three_concurrent_crawls_lose_no_page(
    pg_cli: Cli, postgres_store: PostgresStore, postgres_server: PostgresServer, site: str
) -> None:
    prefixes = {"sphinx": "/sphinx/", "mkdocs": "/mkdocs/", "docbook": "/docbook/"}
    # Every flush of the crawls below writes 5 pages, so their write transactions interleave.
    procs = {
        client: pg_cli.start(
            "crawl", "--url", site.rstrip("/") + prefix, "--client", client, "--quiet",
            "-s", "DOCSCRAWL_BATCH_SIZE=5",
        )
        for client, prefix in prefixes.items()
    }  # fmt: skip
    # While they run, `status` must see them alive: a reconcile must not mistake them for gone.
    seen_running: set[int] = set()
    deadline = time.monotonic() + 120
    while any(proc.poll() is None for proc in procs.values()) and time.monotonic() < deadline:
        for job_id in (1, 2, 3):
            job = postgres_store.job(job_id)
            if job.get("status") == models.RUNNING:
                result = pg_cli("status", "--job", str(job_id), "--json")
                if result.returncode == 0:
                    assert result.json()["status"] in (*models.ACTIVE_STATUSES, models.COMPLETED)
                    assert "is now" not in result.stderr, result.stderr
                    seen_running.add(job_id)
        time.sleep(0.2)
    outputs = {client: proc.communicate(timeout=60) for client, proc in procs.items()}
    assert seen_running, "no crawl was seen running"

    for client, prefix in prefixes.items():
        stdout, stderr = outputs[client]
        assert procs[client].returncode == 0, stderr
        assert postgres_server.password not in stdout + stderr
        job_id = crawl_job_id(stdout.splitlines()[0])
        job = postgres_store.job(job_id)
        expected = sample_site.expected_pages(prefix)
        assert job["status"] == models.COMPLETED, job
        assert stored_paths(postgres_store, client) == sorted(expected)
        seen = postgres_store.value("SELECT COUNT(*) FROM job_page WHERE job_id = ?", job_id)
        assert job["pages"] == seen == len(expected)
    assert postgres_store.value("SELECT COUNT(*) FROM job") == 3


def test_unreachable_database_is_one_sentence_without_the_password(
    tmp_path: Path, site: str
) -> None:
    url = f"postgresql://u:secret@127.0.0.1:{free_port()}/x"
    for args in (["list"], ["crawl", "--url", site, "--quiet"], ["status", "--job", "1"]):
        proc = subprocess.run(
            [DOCSCRAWL, "--db", url, *args],
            cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert "secret" not in proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert lines[0].startswith("Error: The store postgresql://u:***@127.0.0.1:")
        assert lines[0].endswith(".") and "Connection refused" in lines[0]


def test_wrong_password_is_refused_without_showing_it(
    tmp_path: Path, postgres_server: PostgresServer, postgres_url: str
) -> None:
    dbname = urlsplit(postgres_url).path.lstrip("/")
    wrong = postgres_server.url(dbname, password="not-the-Pa55word")
    proc = subprocess.run(
        [DOCSCRAWL, "list"],
        cwd=tmp_path, env={**clean_env(), "DOCSCRAWL_DB": wrong},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "not-the-Pa55word" not in proc.stdout + proc.stderr
    assert "password authentication failed" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_scrapyd_crawls_into_postgresql_without_seeing_the_password(
    postgres_url: str, postgres_store: PostgresStore, scrapyd_factory, site: str, tmp_path: Path
) -> None:
    """The spider gets the URL without the password; Scrapyd's environment has PGPASSWORD."""
    password = urlsplit(postgres_url).password
    scrapyd = scrapyd_factory(env={"PGPASSWORD": password})
    cli = Cli(postgres_store, tmp_path, clean_env())  # type: ignore[arg-type]
    for prefix in ("sphinx/", "mkdocs/", "docbook/"):
        result = cli("--scrapyd", scrapyd.url, "crawl", "--url", site + prefix, "--async")
        assert result.returncode == 0, result.stderr
        assert password not in result.stdout + result.stderr
    wait_for(lambda: all(postgres_store.status(n) == "completed" for n in (1, 2, 3)), 120)
    for job_id, prefix in enumerate(("/sphinx/", "/mkdocs/", "/docbook/"), start=1):
        expected = len(sample_site.expected_pages(prefix))
        stored = postgres_store.value("SELECT COUNT(*) FROM page WHERE job_id = ?", job_id)
        assert postgres_store.job(job_id)["pages"] == stored == expected
    # Nothing Scrapyd shows or writes holds the password: its log, the crawls' logs, the API.
    everything = [scrapyd.workdir / "scrapyd.out", *scrapyd.workdir.glob("logs/**/*.log")]
    for path in everything:
        assert password not in path.read_text(errors="replace"), path
    assert password not in json.dumps(scrapyd.list_jobs())
    status = cli("--scrapyd", scrapyd.url, "status", "--job", "1", "--json")
    assert password not in status.stdout + status.stderr


@pytest.mark.parametrize("scheme", ["POSTGRESQL", "postgres", "postgresql+pool", "postgresqlext"])
def test_every_spelling_of_a_postgresql_url_gets_the_driver(
    postgres_url: str, tmp_path: Path, scheme: str
) -> None:
    """psycopg2 is loaded only for PostgreSQL (docscrawl/drivers.py): in a new process, each
    scheme the environment check accepts must still find it."""
    url = scheme + postgres_url[postgres_url.index("://") :]
    result = subprocess.run(
        [DOCSCRAWL, "--db", url, "list", "--json"],
        capture_output=True, text=True, env=clean_env(), cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
