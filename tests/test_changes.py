"""Re-crawls: pages updated in place, changes tracked per job, conditional requests, `diff`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Cli, Store, free_port, wait_for

from docscrawl import models

# The PostgreSQL server fixtures (postgres_url), registered once per session.
pytest_plugins = ["postgres"]

PAGE = "<html><head><title>{title}</title></head><body><main><h1>{title}</h1><p>{text}</p>{links}</main></body></html>"  # noqa: E501


def write(root: Path, name: str, text: str, links: list[str] = ()) -> None:
    anchors = "".join(f'<a href="{link}">{link}</a> ' for link in links)
    path = root / name
    path.write_text(PAGE.format(title=name, text=text, links=anchors))
    # http.server compares modification times to the second: move them on explicitly.
    stamp = time.time() + (10 if path.exists() else 0)
    os.utime(path, (stamp, stamp))


@pytest.fixture
def static_site(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """A directory served by Python's http.server (Last-Modified and 304s), and its log."""
    root = tmp_path / "www" / "docs"
    root.mkdir(parents=True)
    log = tmp_path / "server.log"
    port = free_port()
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
            cwd=root.parent, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/docs/"
        write(root, "index.html", "Start here.", ["a.html", "b.html", "c.html"])
        write(root, "a.html", "Alpha stays the same.")
        write(root, "b.html", "Beta, first edition.")
        write(root, "c.html", "Gamma will be deleted.")

        def up() -> bool:
            import urllib.request

            try:
                return urllib.request.urlopen(url, timeout=1).status == 200
            except OSError:
                return False

        wait_for(up, timeout=15)
        yield url, root, log
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_recrawl_tracks_new_changed_unchanged_removed(cli: Cli, store: Store, static_site):
    url, root, log = static_site
    assert cli("crawl", "--url", url, "--client", "Static", "--quiet").returncode == 0
    assert cli("status", "--job", "1", "--json").json()["changes"] == {
        "new": 4, "changed": 0, "unchanged": 0, "removed": 0}  # fmt: skip

    write(root, "index.html", "Start here, now with Delta.", ["a.html", "b.html", "d.html"])
    write(root, "b.html", "Beta, second edition.")
    (root / "c.html").unlink()
    write(root, "d.html", "Delta is new.")
    log_offset = log.stat().st_size
    assert cli("crawl", "--url", url, "--client", "Static", "--quiet").returncode == 0

    details = cli("status", "--job", "2", "--json").json()
    assert details["changes"] == {"new": 1, "changed": 2, "unchanged": 1, "removed": 1}
    assert "1 new, 2 changed, 1 unchanged, 1 removed" in cli("status", "--job", "2").stdout
    # The unchanged page was asked for conditionally and answered 304; its content is kept.
    assert '"GET /docs/a.html HTTP/1.1" 304' in log.read_text()[log_offset:]
    text = store.value("SELECT text FROM page WHERE url LIKE '%/a.html'")
    assert "Alpha stays the same." in text
    assert store.value("SELECT job_id FROM page WHERE url LIKE '%/a.html'") == 2
    # One row per page, ever; the deleted page is kept, marked removed by job 2.
    assert store.value("SELECT COUNT(*) FROM page") == 5

    for args in (["--job", "1", "--job", "2"], ["--client-slug", "static"]):
        result = cli("diff", *args, "--json").json()
        assert result["added"] == [url + "d.html"]
        assert result["removed"] == [url + "c.html"]
        assert result["changed"] == [url, url + "b.html"]
        assert result["unchanged"] == 1
    people = cli("diff", "--client-slug", "static").stdout
    assert people.splitlines()[-1] == (
        "Job 1 -> job 2: 1 added, 1 removed, 2 changed, 1 unchanged."
    )


def test_removed_pages_are_not_reported_again(cli: Cli, store: Store, static_site) -> None:
    url, root, _ = static_site
    assert cli("crawl", "--url", url, "--client", "S", "--quiet").returncode == 0
    write(root, "index.html", "Start.", ["a.html", "b.html"])
    (root / "c.html").unlink()
    assert cli("crawl", "--url", url, "--client", "S", "--quiet").returncode == 0
    assert cli("crawl", "--url", url, "--client", "S", "--quiet").returncode == 0
    counts = [cli("status", "--job", str(n), "--json").json()["changes"]["removed"] for n in (2, 3)]
    assert counts == [1, 0]


def test_a_limited_crawl_does_not_call_pages_removed(cli: Cli, static_site) -> None:
    url, _, _ = static_site
    assert cli("crawl", "--url", url, "--client", "S", "--quiet").returncode == 0
    assert (
        cli("crawl", "--url", url, "--client", "S", "--max-pages", "1", "--quiet").returncode == 0
    )
    assert cli("status", "--job", "2", "--json").json()["changes"]["removed"] == 0


def test_pages_a_recrawl_chose_not_to_fetch_are_not_removed(
    cli: Cli, store: Store, static_site
) -> None:
    """A re-crawl that skipped pages (deeper than --max-depth here; a trap rule or a timeout
    alike) ran to its end, yet did not look at them: they are not gone."""
    url, _, _ = static_site
    assert cli("crawl", "--url", url, "--client", "S", "--quiet").returncode == 0
    again = cli("crawl", "--url", url, "--client", "S", "--max-depth", "0", "--quiet")
    assert again.returncode == 0, again.stderr
    details = cli("status", "--job", "2", "--json").json()
    assert details["finish_reason"] == "finished" and details["skipped"].get("depth") == 3
    assert details["changes"]["removed"] == 0
    # A later full crawl that finds a page gone still says so.
    assert cli("crawl", "--url", url, "--client", "S", "--quiet").returncode == 0
    assert cli("status", "--job", "3", "--json").json()["changes"]["removed"] == 0


def test_sample_site_recrawl_is_all_not_modified(cli: Cli, store: Store, site: str) -> None:
    url = site + "docbook/"
    assert cli("crawl", "--url", url, "--client", "D", "--quiet").returncode == 0
    assert cli("crawl", "--url", url, "--client", "D", "--quiet").returncode == 0
    first = cli("status", "--job", "1", "--json").json()
    second = cli("status", "--job", "2", "--json").json()
    assert second["changes"]["unchanged"] == second["pages"] == first["changes"]["new"]
    assert store.value("SELECT COUNT(*) FROM page WHERE markdown = ''") == 0


def test_diff_errors(cli: Cli, site: str) -> None:
    assert cli("crawl", "--url", site + "sphinx/", "--max-pages", "2", "--quiet").returncode == 0
    assert cli("diff", "--client-slug", "127-0-0-1").returncode == 1  # one completed crawl only
    assert cli("diff", "--job", "1").returncode == 2
    assert cli("diff", "--client-slug", "nobody").returncode == 1


# --- diff as SQL: what the two jobs' url -> hash dicts gave, on both engines --------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def opened(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new store on each engine, opened in this process; its location."""
    if request.param == "sqlite":
        location = str(tmp_path / "docscrawl.db")
    else:
        location = request.getfixturevalue("postgres_url")
    db = models.open_store(location)
    yield location
    db.close()


def _by_dicts(old: int, new: int) -> dict:
    """The diff as it was computed before issue 16: each job's url -> hash dict, in Python."""

    def seen(job_id: int) -> dict:
        query = (
            models.JobPage.select(models.Page.url, models.JobPage.content_hash)
            .join(models.Page)
            .where((models.JobPage.job == job_id) & (models.JobPage.change != models.REMOVED))
        )
        return dict(query.tuples())

    before, after = seen(old), seen(new)
    common = set(before) & set(after)
    changed = sorted(url for url in common if before[url] != after[url])
    return {
        "old_job": old, "new_job": new,
        "added": sorted(set(after) - set(before)), "removed": sorted(set(before) - set(after)),
        "changed": changed, "unchanged": len(common) - len(changed),
    }  # fmt: skip


# What jobs 1, 2 and 3 saw of each page: (change, hash), or None for no job_page row.
PLANTED = {
    "http://h/same": (("new", "a"), ("unchanged", "a"), None),
    "http://h/Same-upper": (("new", "a"), ("unchanged", "a"), None),
    "http://h/changed": (("new", "a"), ("changed", "b"), None),
    "http://h/hash-lost": (("new", "a"), ("changed", None), None),
    "http://h/hash-came": (("new", None), ("changed", "a"), None),
    "http://h/no-hash-either": (("new", None), ("unchanged", None), None),
    "http://h/added": (None, ("new", "a"), ("unchanged", "a")),
    "http://h/ajouté-é": (None, ("new", "a"), None),
    "http://h/~tilde": (None, ("new", "a"), None),
    "http://h/back-again": (("removed", None), ("new", "c"), None),
    "http://h/removed": (("new", "a"), None, None),
    "http://h/Removed-found-gone": (("new", "a"), ("removed", "a"), None),
    "http://h/gone-in-both": (("removed", "a"), ("removed", "a"), None),
    "http://h/only-job-3": (None, None, ("new", "a")),
}


def plant_diff_store() -> tuple[int, int, int]:
    """The pages of PLANTED, seen by three jobs of one client (and the ids of those jobs)."""
    client = models.get_or_create_client("Diffed")
    jobs = [models.Job.create(client=client, url="http://h/", status="completed").id
            for _ in range(3)]  # fmt: skip
    for url, sightings in PLANTED.items():
        page = models.Page.create(
            client=client, url=url, requested_url=url, final_url=url, status_code=200,
            content_hash="x",
        )  # fmt: skip
        for job_id, seen in zip(jobs, sightings, strict=True):
            if seen is not None:
                models.JobPage.create(job=job_id, page=page, change=seen[0], content_hash=seen[1])
    return tuple(jobs)


def test_diff_is_what_the_url_hash_dicts_gave(opened: str) -> None:
    from control.changes import diff_jobs

    first, second, third = plant_diff_store()
    for old, new in ((first, second), (second, first), (second, third), (first, third)):
        assert diff_jobs(old, new).as_dict() == _by_dicts(old, new)
    assert diff_jobs(first, second).as_dict() == {
        "old_job": first, "new_job": second,
        "added": ["http://h/added", "http://h/ajouté-é", "http://h/back-again", "http://h/~tilde"],
        "removed": ["http://h/Removed-found-gone", "http://h/removed"],
        "changed": ["http://h/changed", "http://h/hash-came", "http://h/hash-lost"],
        "unchanged": 3,
    }  # fmt: skip


def _plans(queries: list) -> list[str]:
    db = models.database.obj
    plans = []
    for query in queries:
        sql, params = query.sql()
        plans.append(
            "\n".join(row[3] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
        )
    return plans


def test_the_diff_queries_walk_the_job_page_indexes(store: Store) -> None:
    """Each job's rows through an index on job_id, the other job's row of the same page by
    (job, page), and the page's URL by its key: no scan, no sort, no temporary table."""
    from control.changes import _added_or_changed, _removed

    models.open_store(str(store.path))
    try:
        first, second, _ = plant_diff_store()
        for plan in _plans([_added_or_changed(first, second), _removed(first, second)]):
            lines = plan.splitlines()
            assert len(lines) == 3, plan
            assert "USING INDEX job_page_job_id" in lines[0] and "(job_id=?)" in lines[0], plan
            assert "page_id=?" in lines[1] and "job_id=?" in lines[1], plan
            assert lines[2].endswith("USING INTEGER PRIMARY KEY (rowid=?)"), plan
            assert "SCAN" not in plan and "TEMP" not in plan, plan
    finally:
        models.database.close()


def test_diff_show_on_a_planted_store(cli: Cli, store: Store) -> None:
    """The CLI's text and JSON, and --show for pages whose versions are not stored."""
    models.open_store(str(store.path))
    first, second, _ = plant_diff_store()
    models.database.close()
    text = cli("diff", "--job", str(first), "--job", str(second))
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == [
        "added    http://h/added", "added    http://h/ajouté-é", "added    http://h/back-again",
        "added    http://h/~tilde", "removed  http://h/Removed-found-gone",
        "removed  http://h/removed", "changed  http://h/changed", "changed  http://h/hash-came",
        "changed  http://h/hash-lost",
        f"Job {first} -> job {second}: 4 added, 2 removed, 3 changed, 3 unchanged.",
    ]  # fmt: skip
    shown = cli("diff", "--job", str(first), "--job", str(second), "--show", "--json")
    assert shown.returncode == 0, shown.stderr
    assert sorted(shown.json()["diffs"]) == shown.json()["changed"]
    people = cli("diff", "--job", str(first), "--job", str(second), "--show").stdout
    assert "http://h/changed: job 1's text of this page is not stored" in people
