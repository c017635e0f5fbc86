"""The job state module: every transition it allows, every one it refuses, and racing writers.

Through the real store, on SQLite and on PostgreSQL (the racing tests), with real processes.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import peewee
import pytest

from docscrawl import job_state, models
from docscrawl.job_state import Change, Outcome
from docscrawl.models import (
    CANCELLED,
    CANCELLING,
    COMPLETED,
    FAILED,
    FINISHED_STATUSES,
    PENDING,
    RUNNING,
    STATUSES,
)

if TYPE_CHECKING:
    from postgres import PostgresServer  # noqa: F401

pytest_plugins = ["postgres"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[str]:
    location = str(tmp_path / "state.db")
    models.open_store(location)
    yield location
    models.database.close()


def job_in(status: str, **fields) -> int:
    """A job put straight into a status, as a test fixture (never how the product does it)."""
    client = models.get_or_create_client("State")
    job = job_state.create(client, "http://127.0.0.1:9/docs/", mode="scrapyd")
    if status in FINISHED_STATUSES:
        fields.setdefault("finished_at", models.utcnow())
        fields.setdefault("finish_reason", "set up by the test")
    if status == CANCELLING:
        fields.setdefault("cancel_requested_at", models.utcnow())
    models.Job.update(status=status, **fields).where(models.Job.id == job.id).execute()
    return job.id


def row(job_id: int) -> dict:
    return models.Job.select().where(models.Job.id == job_id).dicts().get()


# Each event with the call that makes it, and what a test can say it should end in.
EVENTS: dict[str, Callable[[int], Change]] = {
    job_state.ASSIGN: lambda job_id: job_state.assign(
        job_id,
        log_url="http://127.0.0.1:9/logs/1.log",
        node="http://127.0.0.1:9",
        scrapyd_job_id="x",
    ),
    job_state.START: lambda job_id: job_state.start(
        job_id, pid=os.getpid(), process_started_at=1.0, node="here"
    ),
    job_state.HEARTBEAT: lambda job_id: job_state.heartbeat(
        job_id, queued=7, extraction_failures={"render": 1}
    ),
    job_state.REQUEST_CANCEL: job_state.request_cancel,
    job_state.FINISH: lambda job_id: job_state.finish(job_id, Outcome(FAILED, "it broke")),
    job_state.FORCE_CANCEL: lambda job_id: job_state.force_cancel(job_id, "forced"),
    job_state.RESUME: lambda job_id: job_state.resume(job_id, mode="scrapyd"),
}


def test_every_event_is_tested_and_every_target_is_a_status() -> None:
    assert set(EVENTS) == set(job_state.TRANSITIONS)
    for moves in job_state.TRANSITIONS.values():
        assert set(moves) <= set(STATUSES)
        assert all(targets <= set(STATUSES) for targets in moves.values())


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("event", list(EVENTS))
def test_each_event_from_each_status(store: str, event: str, status: str) -> None:
    job_id = job_in(status)
    before = row(job_id)
    change = EVENTS[event](job_id)
    allowed = job_state.TRANSITIONS[event].get(status, frozenset())
    after = row(job_id)
    assert change.before == status
    if not allowed or (event == job_state.FINISH and FAILED not in allowed):
        # Refused: logged, and not one field written.
        assert not change.applied and change.after == status
        assert after == before
        return
    assert change.applied
    assert after["status"] == change.after
    assert change.after in allowed
    if event == job_state.FINISH or event == job_state.FORCE_CANCEL:
        assert after["finished_at"] is not None and after["queued"] == 0
    if event == job_state.RESUME:
        assert after["status"] == PENDING and after["finished_at"] is None
        assert after["resumes"] == before["resumes"] + 1
    if event == job_state.REQUEST_CANCEL:
        assert after["cancel_requested_at"] is not None
    if event == job_state.HEARTBEAT:
        assert (after["queued"], after["extraction_failures"]) == (7, {"render": 1})


@pytest.mark.parametrize(
    ("start", "outcome", "ends"),
    [
        (RUNNING, Outcome(COMPLETED, "finished"), COMPLETED),
        (RUNNING, Outcome(CANCELLED, "shutdown"), CANCELLED),
        (PENDING, Outcome(CANCELLED, "cancelled before it started"), CANCELLED),
    ],
)
def test_finish_records_the_outcome_once(store: str, start: str, outcome: Outcome, ends: str):
    job_id = job_in(start)
    first = job_state.finish(job_id, outcome)
    assert (first.applied, first.before, first.after) == (True, start, ends)
    assert (row(job_id)["status"], row(job_id)["finish_reason"]) == (ends, outcome.reason)
    finished = row(job_id)
    # A second finish, with any outcome, is refused and writes nothing.
    for again in (Outcome(FAILED, "late"), Outcome(COMPLETED, "finished")):
        assert not job_state.finish(job_id, again).applied
    assert row(job_id) == finished


def test_completed_is_refused_for_a_job_that_never_ran_or_was_asked_to_cancel(store: str):
    pending, cancelling = job_in(PENDING), job_in(CANCELLING)
    for job_id in (pending, cancelling):
        assert not job_state.finish(job_id, Outcome(COMPLETED, "finished")).applied
    assert row(pending)["status"] == PENDING and row(cancelling)["status"] == CANCELLING


def test_the_crawl_outcome_of_a_job_asked_to_cancel_is_cancelled(store: str) -> None:
    job_id = job_in(RUNNING, pages=3)
    job_state.request_cancel(job_id)
    # The spider closed "finished" just as the cancel arrived: the cancel decides.
    change = job_state.finish(job_id, lambda job: job_state.crawl_outcome("finished", job))
    assert change.after == CANCELLED and row(job_id)["finish_reason"] == "shutdown"


def test_a_completed_crawl_drops_its_frontier(store: str) -> None:
    job_id = job_in(RUNNING, pages=1)
    models.FrontierRequest.create(job=job_id, url="http://127.0.0.1:9/docs/next")
    job_state.finish(job_id, lambda job: job_state.crawl_outcome("finished", job))
    assert row(job_id)["status"] == COMPLETED
    assert not models.FrontierRequest.select().where(models.FrontierRequest.job == job_id).exists()


def test_start_keeps_a_cancel_that_came_first_and_refuses_a_finished_job(store: str) -> None:
    cancelling, cancelled = job_in(CANCELLING), job_in(CANCELLED)
    assert job_state.start(cancelling, pid=1, process_started_at=1.0, node="n").after == CANCELLING
    assert row(cancelling)["pid"] == 1
    refused = job_state.start(cancelled, pid=1, process_started_at=1.0, node="n")
    assert not refused.applied and row(cancelled)["pid"] is None


def test_force_cancel_of_a_finished_job_keeps_its_end_time(store: str) -> None:
    job_id = job_in(COMPLETED)
    ended = row(job_id)["finished_at"]
    assert job_state.force_cancel(job_id, "marked cancelled with --force").applied
    assert (row(job_id)["status"], row(job_id)["finished_at"]) == (CANCELLED, ended)


def test_an_unknown_job_is_refused(store: str) -> None:
    change = job_state.finish(999, Outcome(FAILED, "x"))
    assert (change.applied, change.before) == (False, None)


def test_the_status_is_written_nowhere_else() -> None:
    """`grep` for status writes: only docscrawl/job_state.py may set a job's status."""
    import re

    root = Path(__file__).resolve().parent.parent
    # job.status = ..., Job.update(status=...), Job.create(status=...), {Job.status: ...},
    # {"status": models.X} handed to an update.
    pattern = re.compile(
        r"\.status\s*=(?!=)|\bstatus=(?!=)|Job\.status\s*:|[\"']status[\"']\s*:\s*models\."
    )
    writers = set()
    for path in [*root.glob("docscrawl/**/*.py"), *root.glob("control/**/*.py")]:
        for line in path.read_text().splitlines():
            code = line.split("#")[0]
            if pattern.search(code) and "def " not in code:
                writers.add(path.relative_to(root).as_posix())
    assert writers == {"docscrawl/job_state.py"}


# --- racing writers ------------------------------------------------------------------------------


def _race_worker(location: str, job_ids: list[int], role: str, start, results) -> None:
    models.open_store(location)
    jitter = random.Random(role)
    for job_id in job_ids:
        start.wait()  # both sides go for the same job at the same moment...
        time.sleep(jitter.random() * 0.004)  # ...give or take, so that each side wins some
        if role == "crawl":  # the crawl's own finish
            change = job_state.finish(job_id, lambda job: job_state.crawl_outcome("finished", job))
        else:  # `cancel`: ask, then record it cancelled (a job Scrapyd dropped from its queue)
            job_state.request_cancel(job_id)
            change = job_state.finish(job_id, Outcome(CANCELLED, "cancelled by the race"))
        results.put((role, job_id, change.applied, change.after))
    models.database.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def race_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    location = (
        str(tmp_path / "race.db")
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    models.open_store(location)
    yield location
    models.database.close()


def test_a_cancel_racing_the_crawls_finish_has_exactly_one_winner(race_store: str) -> None:
    job_ids = [job_in(RUNNING, pages=1) for _ in range(40)]
    models.database.close()
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=_race_worker, args=(race_store, job_ids, role, start, results))
        for role in ("crawl", "cancel")
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in range(2 * len(job_ids))]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    models.open_store(race_store)
    for job_id in job_ids:
        finishes = [o for o in outcomes if o[1] == job_id and o[2]]
        assert len(finishes) == 1, f"job {job_id}: {finishes}"
        _, _, _, status = finishes[0]
        job = row(job_id)
        assert job["status"] == status and job["status"] in (COMPLETED, CANCELLED)
    # Both outcomes really occur: a race that one side always wins proves nothing.
    assert {row(job_id)["status"] for job_id in job_ids} == {COMPLETED, CANCELLED}


def test_a_failure_inside_a_transition_writes_nothing(store: str, monkeypatch) -> None:
    job_id = job_in(RUNNING, pages=2)
    models.FrontierRequest.create(job=job_id, url="http://127.0.0.1:9/docs/next")
    before = row(job_id)

    def broken(*args) -> int:  # fails after the status and the frontier were written
        raise peewee.OperationalError("disk I/O error")

    monkeypatch.setattr(models, "record_removed_pages", broken)
    with pytest.raises(peewee.OperationalError):
        job_state.finish(job_id, Outcome(COMPLETED, "finished"))
    assert row(job_id) == before
    assert models.FrontierRequest.select().where(models.FrontierRequest.job == job_id).exists()
