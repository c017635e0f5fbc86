"""Content history: every distinct text of a page kept (page_version), `diff --show`, `history`."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import Cli, Store
from scrapy.utils.test import get_crawler
from support import serve_directory

from docscrawl import history, models
from docscrawl.pipelines import PAGE_FIELDS, PageStorePipeline

pytest_plugins = ["postgres"]

NAV = ("index.html", "install.html", "configure.html", "api.html", "faq.html")
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body>
<nav>{links}</nav>
<main>
<h1>{title}</h1>
{paragraphs}
</main>
</body></html>
"""
TEXTS = {
    "index.html": ["Welcome to the widget documentation.", "Start with the installation guide.",
                   "Every page below is kept up to date."],
    "install.html": ["Install the widget with pip install widget.",
                     "The widget needs Python 3.11 or newer.",
                     "Check the installation with widget --version."],
    "configure.html": ["The widget reads widget.toml from the working directory.",
                       "Every setting has a default value.",
                       "Environment variables override the file."],
    "api.html": ["The API has three endpoints.", "Every request needs a token.",
                 "Answers are JSON documents."],
    "faq.html": ["Is the widget free? Yes.", "Can I run it offline? Yes.",
                 "Where do I report bugs? On the tracker."],
}  # fmt: skip
INSTALL_BEFORE, INSTALL_AFTER = TEXTS["install.html"][1], "The widget needs Python 3.12 or newer."
API_BEFORE, API_AFTER = TEXTS["api.html"][0], "The API has four endpoints."


def write_page(root: Path, name: str, paragraphs: list[str], nav: tuple[str, ...] = NAV) -> None:
    path = root / name
    bump = path.exists()
    links = " ".join(f'<a href="{page}">{page}</a>' for page in nav)
    body = "\n".join(f"<p>{text}</p>" for text in paragraphs)
    path.write_text(PAGE.format(title=name.removesuffix(".html"), links=links, paragraphs=body))
    # http.server answers If-Modified-Since to the second: move a rewritten page's time on.
    stamp = time.time() + (10 if bump else 0)
    os.utime(path, (stamp, stamp))


@pytest.fixture
def docs(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Five linked pages in a directory served on 127.0.0.1."""
    root = tmp_path / "www"
    root.mkdir()
    for name, paragraphs in TEXTS.items():
        write_page(root, name, paragraphs)
    with serve_directory(root) as url:
        yield url, root


def crawl(cli: Cli, url: str) -> None:
    result = cli("crawl", "--url", url, "--client", "x", "--quiet")
    assert result.returncode == 0, result.stderr


def plant_changes(root: Path) -> None:
    """Change one paragraph of install and of api; remove faq (and the links to it)."""
    nav = tuple(page for page in NAV if page != "faq.html")
    for name, paragraphs in TEXTS.items():
        if name == "faq.html":
            (root / name).unlink()
            continue
        paragraphs = [
            {INSTALL_BEFORE: INSTALL_AFTER, API_BEFORE: API_AFTER}.get(text, text)
            for text in paragraphs
        ]
        write_page(root, name, paragraphs, nav)


def changed_lines(diff_text: str) -> list[str]:
    """The - and + lines of unified diffs, without the ---/+++ headers."""
    return [
        line
        for line in diff_text.splitlines()
        if line[:1] in "-+" and not line.startswith(("---", "+++"))
    ]


def versions(store: Store) -> int:
    return store.value("SELECT COUNT(*) FROM page_version")


def test_recrawl_shows_exactly_the_planted_changes(cli: Cli, store: Store, docs) -> None:
    url, root = docs
    crawl(cli, url)
    assert versions(store) == 5  # every new page's first version
    plant_changes(root)
    crawl(cli, url)

    result = cli("diff", "--job", "1", "--job", "2", "--show")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        f"removed  {url}faq.html",
        f"changed  {url}api.html",
        f"changed  {url}install.html",
        "Job 1 -> job 2: 0 added, 1 removed, 2 changed, 2 unchanged.",
    ]
    assert f"--- {url}api.html (job 1)" in lines and f"+++ {url}api.html (job 2)" in lines
    assert f"--- {url}install.html (job 1)" in lines
    assert f"+++ {url}install.html (job 2)" in lines
    assert changed_lines(result.stdout) == [
        f"-{API_BEFORE}", f"+{API_AFTER}", f"-{INSTALL_BEFORE}", f"+{INSTALL_AFTER}"
    ]  # fmt: skip
    assert versions(store) == 7  # the two changed pages' new texts, nothing for the others

    # By client, and as JSON: the keys diff always had, and the diffs.
    document = cli("diff", "--client-slug", "x", "--show", "--json").json()
    assert document["changed"] == [url + "api.html", url + "install.html"]
    assert document["removed"] == [url + "faq.html"] and document["unchanged"] == 2
    assert set(document["diffs"]) == {url + "api.html", url + "install.html"}
    assert changed_lines(document["diffs"][url + "install.html"]) == [
        f"-{INSTALL_BEFORE}", f"+{INSTALL_AFTER}"
    ]  # fmt: skip
    assert "diffs" not in cli("diff", "--client-slug", "x", "--json").json()
    assert "---" not in cli("diff", "--client-slug", "x").stdout  # no diffs without --show


def test_history_lists_versions_newest_first(cli: Cli, store: Store, docs) -> None:
    url, root = docs
    crawl(cli, url)
    plant_changes(root)
    crawl(cli, url)

    result = cli("history", "--url", url + "install.html")
    assert result.returncode == 0, result.stderr
    header, newer, older, summary = result.stdout.splitlines()
    assert header.split() == ["Version", "First", "job", "First", "seen", "(UTC)", "Words", "Lines"]
    hashes = [h for (h,) in store.rows(
        "SELECT v.content_hash FROM page_version v JOIN page p ON p.id = v.page_id "
        "WHERE p.url = ? ORDER BY v.id DESC", url + "install.html")]  # fmt: skip
    assert newer.split()[:2] == [hashes[0][:12], "2"] and newer.split()[-2:] == ["+1", "-1"]
    assert older.split()[:2] == [hashes[1][:12], "1"] and older.split()[-1] == "first"
    assert summary == f"{url}install.html (client x): 2 versions."

    unchanged = cli("history", "--url", url + "configure.html", "--json").json()
    assert unchanged["url"] == url + "configure.html" and unchanged["client"] == "x"
    [only] = unchanged["versions"]
    assert (only["job"], only["lines_added"], only["lines_removed"]) == (1, None, None)
    # The words of its Markdown: the heading and the three paragraphs, as the page counts them.
    assert (
        only["words"]
        == 20
        == store.value("SELECT word_count FROM page WHERE url LIKE '%/configure.html'")
    )
    # An unnormalised URL finds the page too; a removed page keeps its history.
    assert cli("history", "--url", url + "./install.html#top", "--json").json()["versions"]
    assert len(cli("history", "--url", url + "faq.html", "--json").json()["versions"]) == 1


def test_unchanged_recrawl_and_a_text_coming_back_add_no_version(
    cli: Cli, store: Store, docs
) -> None:
    url, root = docs
    crawl(cli, url)
    plant_changes(root)
    crawl(cli, url)
    crawl(cli, url)  # nothing changed
    assert versions(store) == 7
    # install goes back to its first text: a change, but a text the store already has.
    write_page(root, "install.html", TEXTS["install.html"], NAV[:-1])
    crawl(cli, url)
    assert cli("status", "--job", "4", "--json").json()["changes"]["changed"] == 1
    assert versions(store) == 7
    diff = cli("diff", "--job", "3", "--job", "4", "--show").stdout
    assert changed_lines(diff) == [f"-{INSTALL_AFTER}", f"+{INSTALL_BEFORE}"]
    shown = cli("history", "--url", url + "install.html", "--json").json()["versions"]
    assert [version["job"] for version in shown] == [2, 1]  # each kept with its first job


def test_a_schema_7_store_keeps_its_pages_as_first_versions(cli: Cli, store: Store, docs) -> None:
    url, root = docs
    crawl(cli, url)
    plant_changes(root)
    crawl(cli, url)
    markdown = dict(store.rows("SELECT url, markdown FROM page"))
    with sqlite3.connect(store.path) as conn:  # what a store before content history holds
        conn.execute("DROP TABLE page_version")
        conn.execute("UPDATE store_meta SET value = '7' WHERE key = 'schema_version'")

    shown = cli("history", "--url", url + "install.html", "--json").json()["versions"]
    version = store.value("SELECT value FROM store_meta WHERE key = 'schema_version'")
    assert version == str(models.SCHEMA_VERSION)
    assert [version["job"] for version in shown] == [2]  # the job that first saw this text
    rows = store.rows(
        "SELECT p.url, v.content_hash = p.content_hash, v.markdown, v.job_id FROM page_version v "
        "JOIN page p ON p.id = v.page_id"
    )
    assert sorted(row[0] for row in rows) == sorted(markdown)
    for page_url, same_hash, blob, job_id in rows:
        assert same_hash and zlib.decompress(blob).decode() == markdown[page_url]
        assert job_id == (2 if page_url.endswith(("install.html", "api.html")) else 1)
    # Job 1's text of the changed pages was never kept: said in one line, not a diff.
    result = cli("diff", "--job", "1", "--job", "2", "--show")
    assert result.returncode == 0
    missing = [line for line in result.stdout.splitlines() if "is not stored" in line]
    assert missing == [
        f"{url}{name}: job 1's text of this page is not stored (it was crawled before docscrawl "
        "kept content history), so there is no diff."
        for name in ("api.html", "install.html")
    ]
    document = cli("diff", "--job", "1", "--job", "2", "--show", "--json").json()
    assert document["diffs"] == {url + "api.html": None, url + "install.html": None}


def test_errors_are_one_sentence(cli: Cli, docs) -> None:
    url, _ = docs
    crawl(cli, url)
    unknown = cli("history", "--url", url + "nowhere.html")
    assert unknown.returncode == 1
    assert unknown.stderr == (
        f"Error: No page of any client is stored at {url}nowhere.html; `docscrawl skipped --job N "
        "--url URL` says why a crawl did not store it.\n"
    )
    other = cli("history", "--url", url, "--client-slug", "nobody")
    assert other.returncode == 1
    assert other.stderr == "Error: There is no client 'nobody'; `docscrawl list` shows them.\n"
    for args in (["--show"], ["--job", "1", "--show"]):
        usage = cli("diff", *args)
        assert usage.returncode == 2
        assert (
            usage.stderr.splitlines()[-1] == "Error: Give --job A --job B, or --client-slug SLUG."
        )
    assert cli("history").returncode == 2  # --url is required


def test_compressed_versions_round_trip() -> None:
    text = "# Title\n\nSome text with ünïcode and `code`.\n" * 50
    blob = history.compress(text)
    assert len(blob) < len(text.encode()) / 5
    assert history.decompress(blob) == history.decompress(memoryview(blob)) == text


# --- both engines: the pipeline's versions, the migration, the diffs --------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def opened(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new store on each engine, opened in this process; its location."""
    location = (
        str(tmp_path / "docscrawl.db")
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    db = models.open_store(location)
    yield location
    db.close()


def store_pages(location: str, texts: dict[str, str]) -> int:
    """One job of client Engines storing these pages (url -> Markdown) through the pipeline."""
    client = models.get_or_create_client("Engines")
    job = models.Job.create(client=client, url="http://h/docs/")
    crawler = get_crawler(settings_dict={"DOCSCRAWL_DB": location})
    crawler.stats.open_spider()
    crawler.spider = SimpleNamespace(job_id=job.id)
    pipeline = PageStorePipeline(crawler, location, 100, 1.0)
    pipeline.job_id, pipeline.client_id = job.id, client.id
    pipeline.pages = {url: page_row(url, markdown) for url, markdown in texts.items()}
    pipeline.flush()
    return job.id


def page_row(url: str, markdown: str) -> dict:
    row = dict.fromkeys(PAGE_FIELDS)
    row.update(
        url=url, requested_url=url, final_url=url, status_code=200, title="T", headings=[],
        markdown=markdown, text=markdown, links=[], word_count=len(markdown.split()),
        content_hash=hashlib.sha256(markdown.encode()).hexdigest(), fetched_at=models.utcnow(),
        depth=0, extraction_audit={},
    )  # fmt: skip
    return row


def test_versions_on_both_engines(opened: str) -> None:
    one = "# One\n\nFirst text ✓.\n\nSame end."
    first = store_pages(opened, {"http://h/docs/a": one, "http://h/docs/b": "# B"})
    second = store_pages(opened, {"http://h/docs/a": one.replace("First", "Second"),
                                  "http://h/docs/b": "# B"})  # fmt: skip
    third = store_pages(opened, {"http://h/docs/a": one, "http://h/docs/b": "# B"})
    assert models.PageVersion.select().count() == 3  # a's two texts, b's one
    page = models.Page.get(models.Page.url == "http://h/docs/a")
    shown = history.versions_of(page.id)
    assert [(v.job_id, v.markdown) for v in shown] == [
        (second, one.replace("First", "Second")), (first, one)
    ]  # fmt: skip
    assert history.version_markdown(page.id, shown[1].content_hash) == one
    assert history.version_markdown(page.id, "no such hash") is None

    from control.changes import diff_jobs
    from control.history import page_diffs, page_history

    [changed] = page_diffs(diff_jobs(second, third))
    assert changed.text is not None
    assert [line for line in changed.text.splitlines() if line[:1] in "-+"] == [
        f"--- http://h/docs/a (job {second})", f"+++ http://h/docs/a (job {third})",
        "-Second text ✓.", "+First text ✓.",
    ]  # fmt: skip
    summary = page_history("http://h/docs/a")
    assert [(v.job_id, v.lines_added, v.lines_removed) for v in summary.versions] == [
        (second, 1, 1), (first, None, None)
    ]  # fmt: skip

    # A store of version 7 (no page_version) keeps each page's current text as a version.
    models.database.obj.execute_sql("DROP TABLE page_version")
    models.StoreMeta.update(value="7").execute()
    models.database.close()
    models.open_store(opened)
    rows = sorted(
        (url, job_id, history.decompress(blob))
        for url, job_id, blob in models.PageVersion.select(
            models.Page.url, models.PageVersion.job, models.PageVersion.markdown
        ).join(models.Page).tuples()
    )  # fmt: skip
    assert rows == [("http://h/docs/a", first, one), ("http://h/docs/b", first, "# B")]
