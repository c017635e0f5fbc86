"""Copying a SQLite store (made by real crawls of the sample site) into PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import Cli, Store, clean_env, crawl_job_id
from support import wait_for

from control.exceptions import DocscrawlError, StoreUnavailable
from control.migrate_store import StoreMigrationError, migrate_store
from docscrawl import models

if TYPE_CHECKING:  # imported by pytest_plugins at run time, so that pytest can rewrite it
    from postgres import PostgresServer, PostgresStore

pytest_plugins = ["postgres"]

TABLES = [
    "store_meta", "client", "job", "page", "crawl_error", "frontier_request", "job_page",
    "page_section", "job_event", "webhook", "webhook_delivery", "delivery_attempt", "job_sample",
    "page_version", "schedule", "schedule_run", "change_report",
]  # fmt: skip


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, site: str) -> Store:
    """A SQLite store with three real crawls (two clients, a re-crawl) and a saved frontier."""
    tmp = tmp_path_factory.mktemp("source")
    store = Store(tmp / "docscrawl.db")
    cli = Cli(store, tmp, clean_env())
    for client, path in (("Sample Docs", ""), ("Sample Docs", "sphinx/"), ("MkDocs", "mkdocs/")):
        result = cli("crawl", "--url", site + path, "--client", client, "--quiet")
        assert result.returncode == 0, result.stderr
    with sqlite3.connect(store.path) as conn:  # what a cancelled job leaves for its resume
        conn.execute(
            "INSERT INTO frontier_request (job_id, url, depth, state, saved_at) "
            "VALUES (3, ?, 2, 'queued', '2026-01-02 03:04:05.678901')",
            (site + "mkdocs/never-fetched/",),
        )
    return store


def counts(store: Any) -> dict[str, int]:
    return {table: store.value(f"SELECT COUNT(*) FROM {table}") for table in TABLES}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def with_datetimes(row: tuple, *indexes: int) -> tuple:
    """SQLite keeps timestamps as text, PostgreSQL as timestamps: compare them as datetimes."""
    return tuple(
        dt.datetime.fromisoformat(value) if i in indexes and value is not None else value
        for i, value in enumerate(row)
    )


@pytest.fixture
def target(postgres_store: PostgresStore) -> PostgresStore:
    return postgres_store


def test_copy_keeps_every_row_id_and_value(source: Store, target: PostgresStore) -> None:
    before = digest(Path(source.path))
    report = migrate_store(str(source.path), target.url)

    expected = counts(source)
    assert counts(target) == expected
    assert [(t.table, t.source_rows) for t in report.tables] == list(expected.items())
    by_table = {t.table: t for t in report.tables}
    assert by_table["store_meta"].already_present == 1  # the target's new schema has it too
    for table in TABLES[1:]:
        assert (by_table[table].copied, by_table[table].updated) == (expected[table], 0)
    assert report.sequences_reset and report.copied == sum(expected.values()) - 1
    assert "***" in report.target and target.url.split(":")[2].split("@")[0] not in report.target
    assert digest(Path(source.path)) == before  # the source is only read
    # The bulk-loaded tables are vacuumed and analyzed: the planner has statistics at once.
    vacuumed = (
        "SELECT COUNT(*) FROM pg_stat_user_tables WHERE relname IN ('page', 'job_page') "
        "AND last_vacuum IS NOT NULL AND last_analyze IS NOT NULL"
    )
    assert wait_for(lambda: target.value(vacuumed) == 2, timeout=10)
    assert target.value("SELECT reltuples FROM pg_class WHERE relname = 'page'") == expected["page"]

    job_columns = (
        "id, client_id, url, status, mode, settings, pid, process_started_at, started_at, "
        "finished_at, pages, errors, finish_reason, resumes, log_url"
    )
    jobs_sql = f"SELECT {job_columns} FROM job ORDER BY id"
    assert target.rows(jobs_sql) == [with_datetimes(row, 8, 9) for row in source.rows(jobs_sql)]
    page_sql = (
        "SELECT id, client_id, job_id, url, final_url, title, content_hash, word_count, depth, "
        "etag, last_modified FROM page ORDER BY id"
    )
    assert target.rows(page_sql) == source.rows(page_sql)
    for sql in (
        "SELECT id, job_id, page_id, change, content_hash FROM job_page ORDER BY id",
        "SELECT id, job_id, url, status_code, reason FROM crawl_error ORDER BY id",
        "SELECT id, job_id, url, depth, state FROM frontier_request ORDER BY id",
        "SELECT id, name, slug FROM client ORDER BY id",
    ):
        assert target.rows(sql) == source.rows(sql), sql
    # JSON and long text columns arrive intact.
    sample = "SELECT headings, links, markdown, text FROM page WHERE id = ?"
    for page_id in (1, expected["page"] // 2, expected["page"]):
        [(headings, links, markdown, text)] = source.rows(sample, page_id)
        [copied] = target.rows(sample, page_id)
        assert (json.loads(copied[0]), json.loads(copied[1])) == (
            json.loads(headings),
            json.loads(links),
        )
        assert copied[2:] == (markdown, text)
    # Compressed page versions (a BLOB in SQLite) arrive byte for byte (bytea).
    versions = "SELECT id, page_id, job_id, content_hash, markdown FROM page_version ORDER BY id"
    copied_versions = [(*row[:4], bytes(row[4])) for row in target.rows(versions)]
    assert copied_versions == source.rows(versions) and expected["page_version"] > 0
    [(saved_at,)] = target.rows("SELECT saved_at FROM frontier_request")
    assert saved_at == dt.datetime(2026, 1, 2, 3, 4, 5, 678901)


def test_running_again_changes_nothing(source: Store, target: PostgresStore) -> None:
    migrate_store(str(source.path), target.url)
    first = target.rows("SELECT id, url, fetched_at, job_id FROM page ORDER BY id")
    again = migrate_store(str(source.path), target.url)
    assert again.copied == again.updated == 0
    assert again.already_present == sum(counts(source).values())
    assert counts(target) == counts(source)
    assert target.rows("SELECT id, url, fetched_at, job_id FROM page ORDER BY id") == first


def test_rows_changed_in_the_source_since_are_updated(
    source: Store, target: PostgresStore, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.db"
    shutil.copy(source.path, copy)
    migrate_store(str(copy), target.url)
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE page SET title = 'Retitled' WHERE id = 2")
        conn.execute("UPDATE job SET finish_reason = 'edited' WHERE id = 1")
    again = migrate_store(str(copy), target.url)
    assert again.updated == 2 and again.copied == 0
    assert target.value("SELECT title FROM page WHERE id = 2") == "Retitled"
    assert target.value("SELECT finish_reason FROM job WHERE id = 1") == "edited"


def test_new_rows_in_the_target_come_after_the_copied_ids(
    source: Store, target: PostgresStore, tmp_path: Path, site: str
) -> None:
    migrate_store(str(source.path), target.url)
    last = {table: source.value(f"SELECT MAX(id) FROM {table}") for table in TABLES[1:]}
    cli = Cli(target, tmp_path, clean_env())  # type: ignore[arg-type]
    result = cli("crawl", "--url", site + "docbook/", "--client", "New Client", "--quiet")
    assert result.returncode == 0, result.stderr
    assert crawl_job_id(result.stdout.splitlines()[0]) == last["job"] + 1
    assert target.value("SELECT MIN(id) FROM client WHERE slug = 'new-client'") == last[
        "client"
    ] + 1  # fmt: skip
    assert target.value("SELECT MIN(id) FROM page WHERE job_id = ?", last["job"] + 1) == (
        last["page"] + 1
    )
    assert target.value("SELECT MIN(id) FROM job_page WHERE job_id = ?", last["job"] + 1) == (
        last["job_page"] + 1
    )
    listed = cli("list", "--json")
    assert [job["id"] for job in listed.json()] == list(range(last["job"] + 1, 0, -1))


def test_values_copy_cannot_carry_plainly_arrive_intact(
    source: Store, target: PostgresStore, tmp_path: Path
) -> None:
    """An empty table is filled by COPY's text format, where a backslash, a tab, a line break,
    `\\N` (its null) and bytes need escaping: every value must arrive as an INSERT's would."""
    copy = tmp_path / "copy.db"
    with sqlite3.connect(source.path) as live, sqlite3.connect(copy) as copied:
        live.backup(copied)  # with what is still in the source's WAL file
    tricky = "a\\b\tc\r\nd\\N e\\\\f \\x00 « ünïcode » 𝄞\n"
    with sqlite3.connect(copy) as conn:
        conn.execute(
            "UPDATE page SET title = ?, markdown = ?, text = '', description = NULL, "
            "audit_share = 0.1, audit_lost = 1, simhash = -9223372036854775808 WHERE id = 1",
            ("\\N", tricky),
        )
        conn.execute("UPDATE job SET process_started_at = 1.5e-7 WHERE id = 1")
        conn.execute("UPDATE page_version SET markdown = ? WHERE id = 1", (b"\\x\t\n\\N\x00\xff",))
    report = migrate_store(str(copy), target.url)
    assert report.copied == sum(counts(source).values()) - 1
    row = target.rows(
        "SELECT title, markdown, text, description, audit_share, audit_lost, simhash "
        "FROM page WHERE id = 1"
    )
    assert row == [("\\N", tricky, "", None, 0.1, True, -9223372036854775808)]
    assert target.value("SELECT process_started_at FROM job WHERE id = 1") == 1.5e-7
    [(blob,)] = target.rows("SELECT markdown FROM page_version WHERE id = 1")
    assert bytes(blob) == b"\\x\t\n\\N\x00\xff"
    # Read back through the models, every copied row equals the source's: nothing to update.
    again = migrate_store(str(copy), target.url)
    assert again.copied == again.updated == 0


def test_copy_keeps_text_and_times_whatever_the_connection(
    source: Store, target: PostgresStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COPY's text is UTF-8 even where the client encoding is not (found by review: LATIN1
    stored "Grüße" as "GrÃ¼Ã\x9fe"), and a time with an offset is stored in UTC, as an
    INSERT stores it."""
    copy = tmp_path / "copy.db"
    with sqlite3.connect(source.path) as live, sqlite3.connect(copy) as copied:
        live.backup(copied)
    with sqlite3.connect(copy) as conn:
        conn.execute(
            "UPDATE page SET title = 'Grüße, 5 €', fetched_at = '2026-01-02T03:04:05+02:00' "
            "WHERE id = 1"
        )
    monkeypatch.setenv("PGCLIENTENCODING", "LATIN1")
    migrate_store(str(copy), target.url)
    again = migrate_store(str(copy), target.url)  # reads the rows back, in UTF-8 as well
    assert again.copied == 0 and again.updated <= 1  # the page: an aware time is never "equal"
    monkeypatch.delenv("PGCLIENTENCODING")  # the test's own connection could not show "€"
    [(title, fetched)] = target.rows("SELECT title, fetched_at FROM page WHERE id = 1")
    assert (title, fetched) == ("Grüße, 5 €", dt.datetime(2026, 1, 2, 1, 4, 5))


def test_copy_into_a_sqlite_file_works_too(source: Store, tmp_path: Path) -> None:
    copy = Store(tmp_path / "copy.db")
    report = migrate_store(str(source.path), str(copy.path))
    assert not report.sequences_reset
    assert counts(copy) == counts(source)
    sql = "SELECT id, url, content_hash, job_id FROM page ORDER BY id"
    assert copy.rows(sql) == source.rows(sql)
    assert migrate_store(str(source.path), str(copy.path)).copied == 0


# --- refusals ------------------------------------------------------------------------------------


def test_what_is_not_a_store_is_refused(tmp_path: Path, postgres_url: str) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("these are my notes, not a database\n" * 100)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE things (id INTEGER PRIMARY KEY)")
    other_before = digest(other)
    cases = {
        notes: "is not a docscrawl store (file is not a database)",
        other: "is not a docscrawl store (it has no store_meta table)",
        tmp_path / "missing.db": "There is no store at",
    }
    for path, message in cases.items():
        with pytest.raises(StoreMigrationError, match=re.escape(message)) as error:
            migrate_store(str(path), postgres_url)
        assert "\n" not in str(error.value) and str(error.value).endswith(".")
    assert digest(other) == other_before


def test_an_older_source_is_refused(source: Store, tmp_path: Path, postgres_url: str) -> None:
    copy = tmp_path / "old.db"
    shutil.copy(source.path, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE store_meta SET value = '2' WHERE key = 'schema_version'")
    with pytest.raises(StoreMigrationError, match="schema version 2"):
        migrate_store(str(copy), postgres_url)


def test_a_target_holding_other_data_is_left_alone(
    source: Store, target: PostgresStore, site: str
) -> None:
    # Someone already crawled into the target: its client 1 is not the source's client 1.
    models.open_store(target.url)
    models.get_or_create_client("Somebody Else")
    models.database.close()
    before = counts(target)
    with pytest.raises(StoreMigrationError, match="different client row with id 1"):
        migrate_store(str(source.path), target.url)
    assert counts(target) == before


def test_a_target_with_extra_rows_fails_the_count_check(
    source: Store, target: PostgresStore
) -> None:
    migrate_store(str(source.path), target.url)
    target.rows("INSERT INTO client (name, slug, created_at) VALUES ('X', 'x', now())")
    before = counts(target)
    with pytest.raises(StoreMigrationError, match=r"client table has \d+ rows but the source"):
        migrate_store(str(source.path), target.url)
    assert counts(target) == before


def test_an_unreachable_target_is_one_sentence_without_the_password(
    source: Store, postgres_server: PostgresServer
) -> None:
    url = postgres_server.url("nope", password="Sup3r-secret")
    with pytest.raises(StoreUnavailable) as error:
        migrate_store(str(source.path), url)
    message = str(error.value)
    assert isinstance(error.value, DocscrawlError)
    assert "Sup3r-secret" not in message and "\n" not in message
    assert "password authentication failed" in message


def test_a_server_that_never_answers_is_given_up_on(source: Store) -> None:
    """libpq waits forever for a server that accepts and never answers: every store URL gets a
    connect timeout (PG_CONNECT_TIMEOUT) unless it sets its own, as this one does."""
    import socket

    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen()
        port = hung.getsockname()[1]
        url = f"postgresql://docscrawl:Sup3r-secret@127.0.0.1:{port}/x?connect_timeout=1"
        with pytest.raises(StoreUnavailable) as error:
            migrate_store(str(source.path), url)
    message = str(error.value)
    assert "timeout expired" in message and "Sup3r-secret" not in message and "\n" not in message
    default = models.make_database(f"postgresql://u@127.0.0.1:{port}/x")
    assert default.connect_params["connect_timeout"] == models.PG_CONNECT_TIMEOUT
    assert default.connect_params["client_encoding"] == "UTF8"
