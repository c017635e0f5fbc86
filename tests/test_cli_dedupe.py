"""`docscrawl dedupe`: one page per main text, by the stated rule, and --dry-run changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import Cli, Store

from docscrawl import models

# The PostgreSQL server fixtures (postgres_url), registered once per session.
pytest_plugins = ["postgres"]


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


# --- the set-based dedupe gives what the page-by-page one gave (issue 16) ----------------------


def test_plainly_normal_urls_are_ones_normalize_url_keeps() -> None:
    """The cheap check says yes only for URLs that normalize_url returns unchanged (and for the
    usual stored URL, so that normalize_url seldom runs)."""
    import random

    from control.dedupe import plainly_normal
    from docscrawl.urls import normalize_url

    hosts = [
        "h",
        "H",
        "docs.example",
        "127.0.0.1",
        "127.0.0.1:80",
        "127.0.0.1:8080",
        "h:443",
        "h:0",
        "h:08",
        "h:65535",
        "h:65536",
        "xn--bcher-kva.example",
        "a-.b",
        "-a.b",
        "a..b",
        "h.",
        "[::1]",
        "a" * 63 + ".b",
        "a" * 64 + ".b",
        "user@h",
        "é.example",
    ]
    pieces = [
        "a",
        "B",
        "-",
        "_",
        "~",
        ".",
        "..",
        "/",
        "//",
        "%41",
        "%2f",
        "?",
        "#",
        "x=1",
        "&utm_source=y",
        "index.html",
        "index.htm",
        ":",
        "@",
        "+",
        " ",
        "é",
        ";",
        "!",
    ]
    rng = random.Random(16)
    matched = 0
    for _ in range(30_000):
        scheme = rng.choice(["http", "https", "HTTP", "ftp"])
        path = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        url = f"{scheme}://{rng.choice(hosts)}/{path}"
        if plainly_normal(url):
            matched += 1
            assert normalize_url(url) == url, url
    assert matched > 500
    for url in ("https://docs.big.example/docs/section-3/page-151.html", "http://h/guide/",
                "http://127.0.0.1:8123/docs/a.html", "https://h/v1.2/api_ref~x"):  # fmt: skip
        assert plainly_normal(url) and normalize_url(url) == url
    for url in (
        "http://h",
        "http://h/x/index.html",
        "http://h:80/",
        "https://h:443/",
        "http://H/",
        "http://h/a?b=1",
        "http://h/a#top",
        "http://h/./a",
        "http://h//a",
    ):
        assert not plainly_normal(url)


def _one_by_one(slug: str, dry_run: bool) -> dict:
    """dedupe as it ran before issue 16 (every page loaded and every URL normalised; three
    statements per removed page): the reference the set-based one must match."""
    from collections import defaultdict

    from control.dedupe import DedupeReport, DuplicateGroup, _Groups
    from docscrawl.models import JobPage, Page
    from docscrawl.urls import normalize_url

    def keep_order(page: Page) -> tuple:
        is_canonical = (
            page.canonical_url is not None and normalize_url(page.canonical_url) == page.url
        )
        return (not is_canonical, len(page.url), -page.fetched_at.timestamp(), page.id)

    client = models.Client.get(models.Client.slug == slug)
    pages = {
        page.id: page
        for page in Page.select(
            Page.id, Page.url, Page.canonical_url, Page.fetched_at, Page.content_hash,
            Page.word_count,
        ).where(Page.client == client)
    }  # fmt: skip
    groups = _Groups()
    by_url, by_text = defaultdict(list), defaultdict(list)
    for page in pages.values():
        by_url[normalize_url(page.url)].append(page.id)
        if page.word_count:
            by_text[page.content_hash].append(page.id)
    for ids in by_url.values():
        if len(ids) > 1:
            groups.union(ids, "same URL")
    for ids in by_text.values():
        if len(ids) > 1:
            groups.union(ids, "same main text")
    report_groups, moves = [], []
    for ids in groups.groups().values():
        ordered = sorted((pages[i] for i in ids), key=keep_order)
        kept, doomed = ordered[0], ordered[1:]
        report_groups.append(DuplicateGroup(kept.url, [p.url for p in doomed], groups.reasons(ids)))
        moves.extend((p.id, kept.id) for p in doomed)
    report_groups.sort(key=lambda group: group.kept)
    if moves and not dry_run:
        with models.write_transaction():
            for doomed, kept in moves:
                kept_jobs = JobPage.select(JobPage.job).where(JobPage.page == kept)
                JobPage.update(page=kept).where(
                    (JobPage.page == doomed) & JobPage.job.not_in(kept_jobs)
                ).execute()
                JobPage.delete().where(JobPage.page == doomed).execute()
                Page.delete().where(Page.id == doomed).execute()
    return DedupeReport(slug, dry_run, report_groups).as_dict()


def plant_duplicates(location) -> None:
    """Every kind of duplicate, seen by three jobs in overlapping ways, and decoys."""
    models.open_store(str(location))
    client = models.get_or_create_client("Planted")
    other = models.get_or_create_client("Other")
    jobs = [models.Job.create(client=client, url="http://h/", status="completed") for _ in range(3)]
    other_job = models.Job.create(client=other, url="http://h/", status="completed")
    now = dt.datetime(2026, 1, 1)

    def add(url, digest, seen=(), canonical=None, age=0, words=10, owner=client) -> None:
        page = models.Page.create(
            client=owner, job=jobs[0], url=url, requested_url=url, final_url=url,
            canonical_url=canonical, status_code=200, content_hash=digest, word_count=words,
            text="t", fetched_at=now - dt.timedelta(days=age),
        )  # fmt: skip
        for n in seen:  # each sighting with its own change and hash, to tell them apart
            models.JobPage.create(job=jobs[n], page=page, change=f"{url} {n}", content_hash=url)

    # One text under three URLs: the one that is its own canonical wins over shorter ones; the
    # jobs that did not see it keep the first loser's sighting (job 1 saw both losers).
    add("http://h/guide/install.html", "A", (2,), canonical="http://h/guide/install.html#x")
    add("http://h/i.html", "A", (0, 1))
    add("http://h/old/guide/install.html", "A", (1, 2))
    # Same length: the newest; then the same fetch time: the lower id.
    add("http://h/b-long-name.html", "B", (0,), age=1)
    add("http://h/b-long-nam2.html", "B", (1,))
    add("http://h/c-long-name.html", "C", (0, 1))
    add("http://h/c-long-nam2.html", "C", (1, 2))
    # Rows of one URL in older forms (with the normal form stored, and one with another's text).
    add("http://h/guide/", "G", (2,))
    add("http://h/guide/index.html", "G-old", (0, 1))
    add("HTTP://H:80/guide/?utm_source=x#top", "G-older", (0,))
    add("http://h/Guide/../guide/", "G-3", (1,))
    add("http://h/guide/copy.html", "G", (0, 2))
    # Older forms without the normal one; and one older form alone (nothing to merge with).
    add("http://h/x/index.html", "X1", (0,))
    add("http://h/x/index.htm", "X2", (1,))
    add("http://h/lonely/index.html", "L", (0,))
    add("http://h/q?b=2&a=1", "Q1", (0,))
    add("http://h/q?a=1&b=2", "Q2", (1,))
    # Empty pages share a hash without being one page; other clients' pages are not ours.
    add("http://h/empty-1", "E", (0,), words=0)
    add("http://h/empty-2", "E", (1,), words=0)
    add("http://h/unique.html", "U", (0, 1, 2))
    add("http://h/i.html", "A", owner=other)
    add("http://h/other-copy.html", "U", owner=other)
    models.JobPage.create(job=other_job, page=models.Page.select().order_by(-models.Page.id).get(),
                          change="new")  # fmt: skip
    models.database.close()


def _dump(path) -> list:
    import sqlite3

    with sqlite3.connect(path) as conn:
        return [
            conn.execute(sql).fetchall()
            for sql in (
                "SELECT id, client_id, url FROM page ORDER BY id",
                "SELECT id, job_id, page_id, change, content_hash FROM job_page ORDER BY id",
            )
        ]


@pytest.mark.parametrize("chunk", [500, 2])
def test_same_report_and_history_as_the_page_by_page_dedupe(
    store: Store, tmp_path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    import shutil

    from control import dedupe

    monkeypatch.setattr(dedupe, "_CHUNK", chunk)  # 2: groups and sightings across chunks
    plant_duplicates(store.path)
    reference = tmp_path / "reference.db"
    shutil.copyfile(store.path, reference)
    for path in (store.path, reference):
        models.open_store(str(path))
        try:
            assert dedupe.dedupe_client("planted", dry_run=True).as_dict() == _one_by_one(
                "planted", dry_run=True
            )
        finally:
            models.database.close()
    models.open_store(str(reference))
    expected = _one_by_one("planted", dry_run=False)
    models.database.close()
    models.open_store(str(store.path))
    report = dedupe.dedupe_client("planted").as_dict()
    models.database.close()
    assert report == expected
    assert _dump(store.path) == _dump(reference)
    assert [(g["kept"], g["reason"]) for g in report["groups"]] == [
        ("http://h/b-long-nam2.html", "same main text"),
        ("http://h/c-long-name.html", "same main text"),
        ("http://h/guide/", "same URL and same main text"),
        ("http://h/guide/install.html", "same main text"),
        ("http://h/q?b=2&a=1", "same URL"),  # same length and age: the lower id
        ("http://h/x/index.htm", "same URL"),
    ]
    assert report["removed"] == 10


def test_the_dedupe_queries_read_indexes(store: Store) -> None:
    """URLs from the (client, url) index alone; shared hashes from the content_hash index alone,
    and then only the rows that hold them (not every row of the client, read whole)."""
    from control.dedupe import _shared_text_query, _urls_query

    plant_duplicates(store.path)
    db = models.open_store(str(store.path))
    try:
        plans = []
        for query in (_urls_query(1), _shared_text_query(1)):
            sql, params = query.sql()
            plans.append([row[3] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params)])
    finally:
        models.database.close()
    urls, shared = plans
    assert urls == ["SEARCH t1 USING COVERING INDEX page_client_id_url (client_id=? AND url>?)"]
    assert shared[0].endswith("USING INDEX page_content_hash (content_hash=?)"), shared
    assert shared[-1].endswith("USING COVERING INDEX page_content_hash"), shared
    assert not any("TEMP" in line for line in shared), shared


def test_same_on_postgresql(store: Store, postgres_url: str) -> None:
    """The set-based dedupe on PostgreSQL does what the page-by-page one does on SQLite."""
    from control import dedupe
    from docscrawl.models import JobPage, Page

    def set_based(slug: str, dry_run: bool) -> dict:
        return dedupe.dedupe_client(slug, dry_run=dry_run).as_dict()

    results = []
    for location, run in ((store.path, _one_by_one), (postgres_url, set_based)):
        plant_duplicates(location)
        models.open_store(str(location))
        try:
            results.append((
                run("planted", dry_run=True),
                run("planted", dry_run=False),
                list(Page.select(Page.id, Page.url).order_by(Page.id).tuples()),
                list(JobPage.select(JobPage.id, JobPage.job, JobPage.page, JobPage.change)
                     .order_by(JobPage.id).tuples()),
            ))  # fmt: skip
        finally:
            models.database.close()
    assert results[0] == results[1]
    assert results[1][1]["removed"] == 10
