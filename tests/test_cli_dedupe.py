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


def test_rows_of_one_normalised_url_are_one_page(cli: Cli, store: Store) -> None:
    """Rows left by older data (before index.html folding) merge; job history moves along."""
    models.open_store(str(store.path))
    client = models.get_or_create_client("Old")
    old_job = models.Job.create(client=client, url="http://h/", status="completed")
    new_job = models.Job.create(client=client, url="http://h/", status="completed")

    def add(url: str, digest: str, job: models.Job) -> models.Page:
        page = models.Page.create(
            client=client, job=job, url=url, requested_url=url, final_url=url, status_code=200,
            content_hash=digest, word_count=5, text="x", fetched_at=dt.datetime(2026, 1, 1),
        )  # fmt: skip
        models.JobPage.create(job=job, page=page, change="new", content_hash=digest)
        return page

    kept = add("http://h/guide/", "new-text", new_job)
    add("http://h/guide/index.html", "old-text", old_job)
    models.database.close()

    result = cli("dedupe", "--client-slug", "old", "--json")
    assert result.returncode == 0, result.stderr
    assert result.json()["groups"] == [
        {"kept": "http://h/guide/", "removed": ["http://h/guide/index.html"], "reason": "same URL"}
    ]
    assert store.rows("SELECT id, url FROM page") == [(kept.id, "http://h/guide/")]
    history = store.rows("SELECT job_id, page_id FROM job_page ORDER BY job_id")
    assert history == [(old_job.id, kept.id), (new_job.id, kept.id)]  # nothing lost


def test_near_duplicates_are_reported_not_removed(cli: Cli, store: Store) -> None:
    models.open_store(str(store.path))
    client = models.get_or_create_client("Near")
    job = models.Job.create(client=client, url="http://h/", status="completed")
    base = " ".join(f"word{n}" for n in range(400))
    texts = {
        "http://h/v1/install.html": base,
        "http://h/v2/install.html": base + " plus one more sentence at the end",
        "http://h/other.html": " ".join(f"other{n}" for n in range(400)),
    }
    for n, (url, text) in enumerate(texts.items()):
        models.Page.create(
            client=client, job=job, url=url, requested_url=url, final_url=url, status_code=200,
            content_hash=f"h{n}", word_count=400, text=text,
        )  # fmt: skip
    models.database.close()
    result = cli("dedupe", "--client-slug", "near", "--near", "--json")
    assert result.returncode == 0, result.stderr
    report = result.json()
    assert report["removed"] == 0
    pairs = [(p["first"], p["second"]) for p in report["near_duplicates"]]
    assert pairs == [("http://h/v1/install.html", "http://h/v2/install.html")]
    assert store.value("SELECT COUNT(*) FROM page") == 3
    people = cli("dedupe", "--client-slug", "near", "--near").stdout
    assert "1 near-duplicate pairs (reported only, not removed)." in people


def test_export_through_the_cli(cli: Cli, store: Store, site: str, tmp_path) -> None:
    import json

    assert cli("crawl", "--url", site + "sphinx/", "--max-pages", "5", "--quiet").returncode == 0
    out = tmp_path / "pages.jsonl"
    result = cli("export", "--job", "1", "--format", "jsonl", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"Exported 5 pages as jsonl to {out}."
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 5 and all(row["markdown"] and row["headings"] for row in rows)
    tree = tmp_path / "md"
    assert cli("export", "--client-slug", "127-0-0-1", "--format", "markdown",
               "--out", str(tree)).returncode == 0  # fmt: skip
    assert len(list(tree.rglob("*.md"))) == 5
    assert cli("export", "--format", "csv", "--out", "-").returncode == 2
    assert cli("export", "--job", "9", "--format", "csv", "--out", "-").returncode == 1


def test_removed_pages_leave_no_sections_behind(cli: Cli, duplicated: Store) -> None:
    models.open_store(str(duplicated.path))
    pages = list(models.Page.select(models.Page.id, models.Page.url).tuples())
    with models.write_transaction():
        models.write_sections(
            [(page_id, url, "T", f"# {url}\n\nText.\n\n## More\n\nx", []) for page_id, url in pages]
        )
    models.database.close()
    assert duplicated.value("SELECT COUNT(*) FROM page_section") == 12
    assert cli("dedupe", "--client-slug", "docs").returncode == 0
    orphans = "SELECT COUNT(*) FROM page_section WHERE page_id NOT IN (SELECT id FROM page)"
    assert duplicated.value(orphans) == 0
    kept = duplicated.rows(
        "SELECT page.url, COUNT(*) FROM page_section JOIN page ON page.id = page_id GROUP BY 1"
    )
    assert sorted(kept) == [
        ("http://h/b-long-nam2.html", 2),
        ("http://h/guide/install.html", 2),
        ("http://h/unique.html", 2),
    ]
