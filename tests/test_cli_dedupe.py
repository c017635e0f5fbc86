"""`docscrawl dedupe`: one page per main text, by the stated rule, and --dry-run changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import Cli, Store

from docscrawl import models


@pytest.fixture
def duplicated(store: Store) -> Store:
    """A client with three copies of one page, two of another, and one unique page."""
    models.open_store(str(store.path))
    client = models.get_or_create_client("Docs")
    job = models.Job.create(client=client, url="http://h/", status="completed")
    now = dt.datetime(2026, 1, 1)

    def add(url: str, digest: str, canonical: str | None = None, age: int = 0) -> None:
        models.Page.create(
            client=client, job=job, url=url, requested_url=url, final_url=url,
            canonical_url=canonical, status_code=200, content_hash=digest, word_count=10,
            text="same", fetched_at=now - dt.timedelta(days=age),
        )  # fmt: skip

    add("http://h/guide/install.html", "A", canonical="http://h/guide/install.html")
    add("http://h/i.html", "A")
    add("http://h/old/guide/install.html", "A")
    add("http://h/b-long-name.html", "B", age=1)
    add("http://h/b-long-nam2.html", "B", age=0)
    add("http://h/unique.html", "C")
    models.database.close()
    return store


def test_dry_run_reports_and_changes_nothing(cli: Cli, duplicated: Store) -> None:
    result = cli("dedupe", "--client-slug", "docs", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    report = result.json()
    assert report["removed"] == 3 and report["dry_run"] is True
    assert duplicated.value("SELECT COUNT(*) FROM page") == 6


def test_keeps_canonical_then_shortest_then_newest(cli: Cli, duplicated: Store) -> None:
    result = cli("dedupe", "--client-slug", "docs")
    assert result.returncode == 0, result.stderr
    assert "Removed 3 duplicate pages in 2 groups for client docs." in result.stdout
    left = {url for (url,) in duplicated.rows("SELECT url FROM page")}
    assert left == {
        "http://h/guide/install.html",  # its own canonical beats the shorter /i.html
        "http://h/b-long-nam2.html",  # same length: the newest fetch
        "http://h/unique.html",
    }
    assert duplicated.value("SELECT COUNT(*) FROM job") == 1  # job history kept
    again = cli("dedupe", "--client-slug", "docs")
    assert "Removed 0 duplicate pages in 0 groups" in again.stdout
