"""The store: opening, schema version, WAL, and refusing what is not a store."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from docscrawl import models


def test_new_store_is_wal_with_schema_version(tmp_path: Path) -> None:
    db = models.open_store(str(tmp_path / "s.db"))
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 30000
    assert models.schema_version() == models.SCHEMA_VERSION
    db.close()


def test_relative_path_is_opened_absolute(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    db = models.open_store("rel.db")
    assert db.database == str(tmp_path / "rel.db")
    db.close()


def test_reopening_keeps_data(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    models.open_store(path)
    client = models.get_or_create_client("Python Docs")
    assert client.slug == "python-docs"
    models.database.close()
    models.open_store(path)
    assert models.Client.get(models.Client.slug == "python-docs").name == "Python Docs"
    assert models.get_or_create_client("python docs").id == client.id
    models.database.close()


def test_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(models.StoreError, match="does not exist"):
        models.open_store(str(tmp_path / "nowhere" / "s.db"))


def test_file_that_is_not_a_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 100)
    before = path.read_bytes()
    with pytest.raises(models.StoreError, match="not a docscrawl store"):
        models.open_store(str(path))
    assert path.read_bytes() == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files anyway")
def test_read_only_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    sqlite3.connect(path).close()
    path.chmod(stat.S_IRUSR)
    with pytest.raises(models.StoreError, match="read-only"):
        models.open_store(str(path))


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    models.open_store(path)
    models.StoreMeta.update(value=str(models.SCHEMA_VERSION + 1)).execute()
    models.database.close()
    with pytest.raises(models.StoreError, match="newer"):
        models.open_store(path)


def test_password_is_hidden_in_descriptions() -> None:
    url = "postgresql://crawler:s3cret@db.internal:5432/docs"
    assert "s3cret" not in models.describe_location(url)
    assert models.describe_location(url) == "postgresql://crawler:***@db.internal:5432/docs"
    assert models.without_password(url) == "postgresql://crawler@db.internal:5432/docs"


@pytest.mark.parametrize(
    ("name", "slug"), [("Python", "python"), ("Datadog Docs!", "datadog-docs"), ("Café", "cafe")]
)
def test_slugify(name: str, slug: str) -> None:
    assert models.slugify(name) == slug


def test_sqlite_urls_become_absolute_paths(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert models.resolve_location("sqlite:///rel.db") == str(tmp_path / "rel.db")
    assert models.resolve_location(f"sqlite:///{tmp_path}/abs.db") == str(tmp_path / "abs.db")
    assert models.resolve_location("postgresql://u@h/db") == "postgresql://u@h/db"
    db = models.open_store("sqlite:///url.db")
    assert isinstance(db, models.peewee.SqliteDatabase)
    assert (tmp_path / "url.db").exists()
    db.close()


def test_version_1_store_is_migrated_without_losing_data(tmp_path: Path) -> None:
    path = str(tmp_path / "v1.db")
    db = models.open_store(path)
    client = models.get_or_create_client("Old")
    models.Job.create(client=client, url="http://h/", status="completed", pages=3)
    db.drop_tables([models.JobPage, models.FrontierRequest])
    db.execute_sql("ALTER TABLE job DROP COLUMN resumes")
    # The version-1 ledger: no kind, no per-job counts.
    models.CrawlError.create(job=1, url="http://h/404", status_code=404, reason="HTTP 404")
    models.CrawlError.create(job=1, url="http://h/down", reason="ConnectionRefusedError: ")
    db.execute_sql("DROP INDEX crawl_error_job_id_kind")
    db.execute_sql("ALTER TABLE crawl_error DROP COLUMN kind")
    db.execute_sql("ALTER TABLE job DROP COLUMN skipped")
    db.execute_sql("ALTER TABLE job DROP COLUMN extraction_failures")
    db.drop_tables([models.PageSection])
    db.execute_sql("ALTER TABLE page DROP COLUMN extraction_audit")
    db.drop_tables(list(reversed(models.SERVER_MODELS)))
    db.drop_tables([*reversed(models.SCHEDULE_MODELS), models.PageVersion])
    models.StoreMeta.update(value="1").execute()
    db.close()

    db = models.open_store(path)
    assert models.schema_version() == models.SCHEMA_VERSION == max(models.MIGRATIONS)
    assert all(model.table_exists() for model in models.SCHEDULE_MODELS)
    assert models.PageSection.table_exists()
    assert models.PageVersion.table_exists()
    assert all(model.table_exists() for model in models.SERVER_MODELS)
    assert models.FrontierRequest.table_exists()
    job = models.Job.get()
    assert (job.pages, job.resumes, job.skipped, models.Client.get().name) == (3, 0, {}, "Old")
    assert job.extraction_failures == {}
    kinds = dict(models.CrawlError.select(models.CrawlError.url, models.CrawlError.kind).tuples())
    assert kinds == {"http://h/404": "http_status", "http://h/down": "network"}
    db.close()


def test_a_migration_waits_for_another_writer_instead_of_failing(tmp_path: Path) -> None:
    """An older store held by a writer (a crawl's flush): opening it waits, then migrates."""
    import subprocess

    from conftest import DOCSCRAWL
    from support import clean_env

    path = tmp_path / "s.db"
    models.open_store(str(path))
    models.StoreMeta.update(value=str(models.SCHEMA_VERSION - 1)).where(
        models.StoreMeta.key == "schema_version"
    ).execute()
    models.database.close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE store_meta SET value = value WHERE key = 'schema_version'")
    proc = subprocess.Popen(
        [DOCSCRAWL, "--db", str(path), "list"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(),
    )  # fmt: skip
    try:
        # Still waiting while the lock is held (without the wait it failed in 0.2 s).
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=1.5)
        holder.execute("COMMIT")
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        holder.close()
    assert proc.returncode == 0, stderr
    with sqlite3.connect(path) as conn:
        (version,) = conn.execute(
            "SELECT value FROM store_meta WHERE key = 'schema_version'"
        ).fetchone()
    assert version == str(models.SCHEMA_VERSION)
