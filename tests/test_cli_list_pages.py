"""`docscrawl list` on a store with more jobs than a screen: the newest 30, --limit, --all,
--since/--until, the "N more jobs" line, and the SQL behind each filter (EXPLAIN QUERY PLAN)."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from pathlib import Path

import pytest
from conftest import Cli, Store, clean_env

from control import jobs
from docscrawl import models

JOBS = 45
START = dt.datetime(2026, 1, 1, 12, 0)


def _created(job_id: int) -> dt.datetime:
    return START + dt.timedelta(days=job_id - 1)  # job N was created on January N, 12:00


CLIENTS = [(1, "Alpha", "alpha", str(START)), (2, "Beta", "beta", str(START))]
JOB_ROWS = [
    (n, 1 if n % 2 else 2, f"https://docs.example/{n}/", "failed" if n % 5 == 0 else "completed",
     str(_created(n)), str(_created(n)), str(_created(n) + dt.timedelta(minutes=1)), n)
    for n in range(1, JOBS + 1)
]  # fmt: skip
INSERT_CLIENT = "INSERT INTO client (id, name, slug, created_at) VALUES (?, ?, ?, ?)"
INSERT_JOB = (
    "INSERT INTO job (id, client_id, url, status, mode, settings, created_at, started_at, "
    "finished_at, pages, errors, queued, resumes, skipped, extraction_failures) "
    "VALUES (?, ?, ?, ?, 'sync', '{}', ?, ?, ?, ?, 0, 0, 0, '{}', '{}')"
)


@pytest.fixture
def many_jobs(cli: Cli, store: Store) -> Cli:
    """45 finished jobs, one a day from 2026-01-01, of two clients (odd ids: alpha)."""
    assert cli("list").returncode == 0  # creates the store
    with sqlite3.connect(store.path) as conn:
        conn.executemany(INSERT_CLIENT, CLIENTS)
        conn.executemany(INSERT_JOB, JOB_ROWS)
    return cli


def ids(result) -> list[int]:
    return [job["id"] for job in result.json()]


def table_ids(result) -> list[int]:
    return [int(line.split()[0]) for line in result.stdout.splitlines()[1:]]


def test_list_shows_the_newest_30_and_says_how_many_more(many_jobs: Cli) -> None:
    result = many_jobs("list")
    assert result.returncode == 0
    assert table_ids(result) == list(range(45, 15, -1))
    assert result.stderr.strip() == "15 more jobs; --limit or --all shows them."
    as_json = many_jobs("list", "--json")
    assert ids(as_json) == list(range(45, 15, -1))
    assert as_json.stderr.strip() == "15 more jobs; --limit or --all shows them."


def test_limit_and_all(many_jobs: Cli) -> None:
    five = many_jobs("list", "--limit", "5")
    assert table_ids(five) == [45, 44, 43, 42, 41]
    assert five.stderr.strip() == "40 more jobs; --limit or --all shows them."
    every = many_jobs("list", "--all", "--json")
    assert ids(every) == list(range(45, 0, -1)) and every.stderr == ""
    exact = many_jobs("list", "--limit", "45")
    assert len(table_ids(exact)) == 45 and exact.stderr == ""
    one_more = many_jobs("list", "--limit", "44")
    assert one_more.stderr.strip() == "1 more job; --limit or --all shows them."


def test_filters_combine_with_the_limit(many_jobs: Cli) -> None:
    failed = many_jobs("list", "--status", "failed", "--limit", "3", "--json")
    assert ids(failed) == [45, 40, 35]
    assert failed.stderr.strip() == "6 more jobs; --limit or --all shows them."
    beta = many_jobs("list", "--client", "beta", "--json")
    assert ids(beta) == list(range(44, 0, -2)) and beta.stderr == ""
    assert many_jobs("list", "--client", "nobody", "--json").json() == []


def test_since_and_until(many_jobs: Cli) -> None:
    # A date is its whole day (UTC): --since from its start, --until to its end.
    assert ids(many_jobs("list", "--since", "2026-02-10", "--json")) == [45, 44, 43, 42, 41]
    assert ids(many_jobs("list", "--until", "2026-01-03", "--json")) == [3, 2, 1]
    window = many_jobs("list", "--since", "2026-01-10", "--until", "2026-01-12", "--json")
    assert ids(window) == [12, 11, 10]
    # A datetime is that instant; an offset is converted to UTC.
    assert ids(many_jobs("list", "--since", "2026-02-13T12:00:00", "--json")) == [45, 44]
    assert ids(many_jobs("list", "--since", "2026-02-14T13:00+01:00", "--json")) == [45]
    assert ids(many_jobs("list", "--until", "2026-01-02T11:59Z", "--json")) == [1]
    old = many_jobs("list", "--until", "2026-01-31", "--limit", "2", "--json")
    assert ids(old) == [31, 30]
    assert old.stderr.strip() == "29 more jobs; --limit or --all shows them."
    assert many_jobs("list", "--since", "2027-01-01").stderr.strip() == "No jobs."


@pytest.mark.parametrize(
    "args",
    [
        ["--since", "yesterday"],
        ["--until", "2026-13-01"],
        ["--since", "2026-01-01T25:00"],
        ["--limit", "0"],
        ["--limit", "5", "--all"],
    ],
)
def test_bad_options_are_usage_errors(many_jobs: Cli, args: list[str]) -> None:
    result = many_jobs("list", *args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.fixture
def pg_cli(postgres_store, tmp_path: Path):
    """The real CLI with ``--db <this test's PostgreSQL URL>``."""
    runner = Cli(postgres_store, tmp_path, clean_env())
    yield runner
    runner.stop_started()


def test_on_postgresql(pg_cli: Cli, postgres_store) -> None:
    assert pg_cli("list").returncode == 0  # creates the schema
    for row in CLIENTS:
        postgres_store.rows(INSERT_CLIENT, *row)
    for row in JOB_ROWS:
        postgres_store.rows(INSERT_JOB, *row)
    first = pg_cli("list", "--json")
    assert ids(first) == list(range(45, 15, -1))
    assert first.stderr.strip() == "15 more jobs; --limit or --all shows them."
    assert len(table_ids(pg_cli("list", "--all"))) == 45
    assert ids(pg_cli("list", "--status", "failed", "--limit", "3", "--json")) == [45, 40, 35]
    assert ids(pg_cli("list", "--client", "beta", "--limit", "2", "--json")) == [44, 42]
    window = pg_cli("list", "--since", "2026-01-10", "--until", "2026-01-12", "--json")
    assert ids(window) == [12, 11, 10]
    assert ids(pg_cli("list", "--since", "2026-02-14T13:00+01:00", "--json")) == [45]


# --- the SQL behind it ---------------------------------------------------------------------------


class _Queries(logging.Handler):
    """The SQL peewee runs (it logs each query at DEBUG on the 'peewee' logger)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.queries: list[tuple[str, tuple]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, tuple):
            self.queries.append(record.msg)


def _plans(store_path: Path, **filters) -> list[str]:
    """The query plan of every query list_job_summaries runs for these filters."""
    handler = _Queries()
    logger = logging.getLogger("peewee")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        jobs.list_job_summaries(limit=5, **filters)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    db = models.database.obj
    return [
        "\n".join(row[3] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
        for sql, params in handler.queries
    ]


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({}, None),
        ({"status": "failed"}, "USING INDEX job_status (status=?)"),
        ({"client_slug": "beta"}, "USING INDEX job_client_id (client_id=?)"),
        ({"since": dt.datetime(2026, 2, 1)}, "USING COVERING INDEX job_created_at (created_at>?)"),
        ({"until": dt.datetime(2026, 1, 5)}, "USING COVERING INDEX job_created_at (created_at<?)"),
    ],
)
def test_the_hot_queries_use_an_index_and_no_sort(
    many_jobs: Cli, store: Store, filters: dict, index: str | None
) -> None:
    db = models.open_store(str(store.path))
    try:
        plans = _plans(store.path, **filters)
    finally:
        db.close()
    everything = "\n".join(plans)  # the page of jobs, then the count of the rest
    assert "TEMP B-TREE" not in everything, plans
    if index is None:
        # Newest first along the primary key, stopped by the LIMIT.
        assert plans[0].splitlines()[0] == "SCAN t1", plans
    else:
        # Read through the filter's index (and the primary key), never a scan.
        assert index in everything and "SCAN" not in everything, plans
