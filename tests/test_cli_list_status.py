"""`docscrawl list` and `docscrawl status`: tables for people, JSON for programs."""

from __future__ import annotations

import json

import pytest
from conftest import Cli, Store, wait_for

LIST_FIELDS = {"id", "status", "client", "url", "pages", "started_at", "finished_at"}
STATUS_FIELDS = LIST_FIELDS | {
    "scrapyd_job_id", "node", "pid", "log_url", "errors", "finish_reason"}  # fmt: skip


@pytest.fixture
def two_jobs(cli: Cli, store: Store, site: str) -> Cli:
    assert (
        cli(
            "crawl",
            "--url",
            site + "sphinx/",
            "--client",
            "Sphinx Docs",
            "--max-pages",
            "5",
            "--quiet",
        ).returncode
        == 0
    )
    assert (
        cli(
            "crawl", "--url", site + "mkdocs/", "--client", "MkDocs", "--max-pages", "7", "--quiet"
        ).returncode
        == 0
    )
    cli("cancel", "--job", "1", "--force")
    return cli


def test_list_table_newest_first(two_jobs: Cli, site: str) -> None:
    result = two_jobs("list")
    assert result.returncode == 0
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["ID", "Status", "Client", "URL", "Pages", "Started", "Duration"]
    assert [row.split()[:5] for row in rows] == [
        ["2", "completed", "mkdocs", site + "mkdocs/", "7"],
        ["1", "cancelled", "sphinx-docs", site + "sphinx/", "5"],
    ]


def test_list_json_is_one_array_with_the_promised_fields(two_jobs: Cli) -> None:
    jobs = two_jobs("list", "--json").json()
    assert [job["id"] for job in jobs] == [2, 1]
    assert all(LIST_FIELDS <= set(job) for job in jobs)
    assert jobs[0]["started_at"].endswith("Z") and jobs[0]["finished_at"]


def test_list_filters(two_jobs: Cli) -> None:
    assert [j["id"] for j in two_jobs("list", "--status", "completed", "--json").json()] == [2]
    assert [j["id"] for j in two_jobs("list", "--client", "sphinx-docs", "--json").json()] == [1]
    assert two_jobs("list", "--status", "running", "--json").json() == []
    empty = two_jobs("list", "--status", "running")
    assert (empty.returncode, empty.stdout, empty.stderr.strip()) == (0, "", "No jobs.")


def test_status_json(two_jobs: Cli, store: Store) -> None:
    details = two_jobs("status", "--job", "2", "--json").json()
    assert STATUS_FIELDS <= set(details)
    errors = "SELECT COUNT(*) FROM crawl_error WHERE job_id = 2 AND kind = 'http_status'"
    assert details["pages"] == 7 and details["errors"] == store.value(errors)
    assert details["finish_reason"] == "max_pages"
    assert details["pid"] == store.job(2)["pid"] and details["node"]
    assert details["log_url"].endswith("logs/job-2.log")
    assert details["scrapyd_job_id"] is None  # a foreground crawl


def test_status_for_people(two_jobs: Cli) -> None:
    out = two_jobs("status", "--job", "2").stdout
    assert "Status:" in out and "completed" in out
    assert "Pages:" in out and "Finish reason: max_pages" in out


def test_status_watch_follows_a_job_to_its_end(cli: Cli, store: Store, slow_site) -> None:
    url, _ = slow_site
    crawl = cli.start("crawl", "--url", url + "docbook/", "--max-pages", "15", "--quiet")
    wait_for(lambda: store.job(1).get("status") == "running", timeout=60)
    result = cli("status", "--job", "1", "--watch", "--json", timeout=120)
    crawl.communicate(timeout=60)
    documents = [json.loads(line) for line in result.stdout.splitlines()]  # JSON Lines
    assert len(documents) >= 2
    assert documents[0]["status"] == "running"
    assert documents[-1]["status"] == "completed"
