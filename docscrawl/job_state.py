"""A job's state: the one module that writes a job's status.

Every writer comes here: the crawl process's extensions, the foreground runner, the CLI's job
service, scheduling and reconcile. Each transition below is one function that reads the job's
row and writes its status together with the times, the reason and the counters that go with it,
in one write transaction (writers are serialised, see ``models.write_transaction``). A
transition the table does not allow, such as ``completed -> running`` or a second finish, is
refused and logged, and nothing is written: so when a cancel races the crawl's own finish,
exactly one outcome wins.

A transition a user cares about (a start, a resume, a run's end) also writes its event to the
outbox (``models.JobEvent``) in the same transaction: ``docscrawl serve`` delivers it to the
webhooks, and an event is never lost, nor raised for a change that was not written.

The store is the only truth: nothing here keeps state in memory. It knows neither click nor
Scrapyd nor Scrapy; ``docscrawl/`` and ``control/`` both import it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import peewee

from docscrawl import models
from docscrawl.models import (
    ACTIVE_STATUSES,
    CANCELLED,
    CANCELLING,
    COMPLETED,
    FAILED,
    FINISHED_STATUSES,
    PENDING,
    RUNNING,
    STATUSES,
    Job,
)

logger = logging.getLogger(__name__)

# Events, and the statuses each may move a job between: {event: {from: {to, ...}}}. A status
# that maps to itself is a write that keeps the status (a heartbeat, a node assignment).
ASSIGN = "assign"  # handed to a node, or given its log file, before any crawl process took it
START = "start"  # a crawl process took the job
HEARTBEAT = "heartbeat"  # the crawl process is alive; its progress counters
REQUEST_CANCEL = "request_cancel"
FINISH = "finish"  # the job's outcome: the crawl's own, or what reconcile or a cancel found
FORCE_CANCEL = "force_cancel"  # `cancel --force`: cancelled whatever the job's state
RESUME = "resume"  # a cancelled or failed job continues, under the same id
TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    ASSIGN: {PENDING: frozenset({PENDING}), CANCELLING: frozenset({CANCELLING})},
    START: {PENDING: frozenset({RUNNING}), CANCELLING: frozenset({CANCELLING})},
    HEARTBEAT: {RUNNING: frozenset({RUNNING}), CANCELLING: frozenset({CANCELLING})},
    REQUEST_CANCEL: {status: frozenset({CANCELLING}) for status in ACTIVE_STATUSES},
    FINISH: {
        PENDING: frozenset({FAILED, CANCELLED}),  # it never ran: it cannot have completed
        RUNNING: frozenset({COMPLETED, FAILED, CANCELLED}),
        CANCELLING: frozenset({CANCELLED}),  # asked to cancel: whatever stopped it, cancelled
    },
    FORCE_CANCEL: {status: frozenset({CANCELLED}) for status in STATUSES},
    RESUME: {CANCELLED: frozenset({PENDING}), FAILED: frozenset({PENDING})},
}

# Scrapy close reasons that mean "the crawl did what it was asked to do".
COMPLETED_REASONS = frozenset(
    {
        "finished",
        "max_pages",
        "closespider_pagecount",
        "closespider_itemcount",
        "closespider_timeout",
        "closespider_timeout_no_item",
    }
)
# Close reasons that mean "someone stopped it".
CANCELLED_REASONS = frozenset({"shutdown", "cancelled"})
NOTHING_STORED = "no page was stored"


@dataclass(frozen=True)
class Change:
    """What a transition did: the status before and after, and whether it was written."""

    job_id: int
    event: str
    before: str | None  # None: there is no such job
    after: str | None
    applied: bool


class Outcome(NamedTuple):
    """How a job ends: its final status and the reason recorded with it."""

    status: str
    reason: str


def cancel_requested(job: Job) -> bool:
    """True once anyone asked the job to stop. Such a job ends ``cancelled``, however it stops:
    the one rule for "cancelled or failed?", whoever records the end."""
    return job.status == CANCELLING or job.cancel_requested_at is not None


def stop_outcome(job: Job, failed: str, cancelled: str) -> Outcome:
    """The outcome of a job whose process stopped before the crawl finished its work."""
    return Outcome(CANCELLED, cancelled) if cancel_requested(job) else Outcome(FAILED, failed)


def job_outcome(reason: str, cancel_requested: bool, pages: int, errors: int) -> Outcome:
    """Map a Scrapy close reason to the job's final status and the reason to record."""
    if cancel_requested or reason in CANCELLED_REASONS:
        return Outcome(CANCELLED, reason if reason in CANCELLED_REASONS else "shutdown")
    if reason in COMPLETED_REASONS:
        if pages == 0:
            return Outcome(FAILED, NOTHING_STORED)
        return Outcome(COMPLETED, reason)
    return Outcome(FAILED, reason)


def crawl_outcome(close_reason: str, job: Job, cancel_seen: bool = False) -> Outcome:
    """The outcome the crawl process records when its spider closes (or its reactor stops)."""
    status, reason = job_outcome(
        close_reason, cancel_seen or cancel_requested(job), job.pages, job.errors
    )
    if reason == NOTHING_STORED:
        reason = _why_nothing_stored(job)
    return Outcome(status, reason)


def _why_nothing_stored(job: Job) -> str:
    """The finish reason of a job that stored no page: its ledger's first entry, and counts."""
    Ledger = models.CrawlError
    first = job.crawl_errors.order_by(Ledger.id).first()
    if first is None:
        return f"{NOTHING_STORED}: the start URL gave no page and no link"
    counts = ", ".join(f"{count} {kind}" for kind, count in (job.skipped or {}).items())
    return f"{NOTHING_STORED}: {first.url} {first.kind} ({first.reason}); not stored: {counts}"


# --- transitions ---------------------------------------------------------------------------------


def create(
    client: models.Client,
    url: str,
    *,
    mode: str,
    max_pages: int | None = None,
    max_depth: int | None = None,
    settings: dict[str, Any] | None = None,
    process: Mapping[str, Any] | None = None,
) -> Job:
    """Record a new ``pending`` job (process: pid, process_started_at, node when it is ours)."""
    with models.write_transaction():
        return Job.create(
            client=client,
            url=url,
            status=PENDING,
            mode=mode,
            max_pages=max_pages,
            max_depth=max_depth,
            settings=settings or {},
            **(process or {}),
        )


def assign(
    job_id: int,
    *,
    log_url: str,
    node: str | None = None,
    scrapyd_job_id: str | None = None,
    process: Mapping[str, Any] | None = None,
) -> Change:
    """Record where a job that has not started will run, and where its log goes.

    Given a node, it is being handed to Scrapyd: ``heartbeat_at`` becomes the hand-over time,
    from which reconcile's grace for a job Scrapyd does not list yet counts. Given a process
    (pid, process_started_at, node), that process was started for it (`docscrawl serve`'s
    local crawls): a cancel can signal it, and reconcile can tell when it is gone.
    """
    fields: dict[str, Any] = {"log_url": log_url, **(process or {})}
    if node is not None:
        fields.update(node=node, scrapyd_job_id=scrapyd_job_id, heartbeat_at=models.utcnow())
    return _transition(job_id, ASSIGN, lambda job: (job.status, fields))


def start(
    job_id: int,
    *,
    pid: int,
    process_started_at: float,
    node: str,
    scrapyd_job_id: str | None = None,
) -> Change:
    """The crawl process took the job. Refused for a finished job (cancelled while queued):
    the crawl then closes without crawling."""

    def fields(job: Job) -> tuple[str, dict[str, Any]]:
        now = models.utcnow()
        return RUNNING if job.status == PENDING else job.status, {
            "pid": pid,
            "process_started_at": process_started_at,
            "started_at": job.started_at or now,
            "heartbeat_at": now,
            "node": job.node or node,
            "scrapyd_job_id": scrapyd_job_id or job.scrapyd_job_id,
        }

    return _transition(job_id, START, fields)


def heartbeat(
    job_id: int,
    *,
    queued: int,
    estimated_total: int | None = None,
    extraction_failures: Mapping[str, int] | None = None,
) -> Change:
    """The crawl process is alive: its progress counters. ``after`` tells a cancel from the
    store (``cancelling``, or a finished status if someone marked it so)."""
    fields: dict[str, Any] = {
        "heartbeat_at": models.utcnow(),
        "queued": queued,
        "estimated_total": estimated_total,
    }
    if extraction_failures is not None:
        fields["extraction_failures"] = dict(sorted(extraction_failures.items()))
    return _transition(job_id, HEARTBEAT, lambda job: (job.status, fields), quiet=True)


def request_cancel(job_id: int) -> Change:
    """Ask an active job to stop; the first request's time is kept."""
    return _transition(
        job_id,
        REQUEST_CANCEL,
        lambda job: (
            CANCELLING,
            {"cancel_requested_at": job.cancel_requested_at or models.utcnow()},
        ),
        quiet=True,
    )


def finish(
    job_id: int,
    outcome: Outcome | Callable[[Job], Outcome],
    *,
    finished_at: Any = None,
    alive: bool = False,
    extraction_failures: Mapping[str, int] | None = None,
) -> Change:
    """Record how an active job ended. A second finish is refused.

    ``outcome`` may be a function of the job's row as it is inside the transaction, for an
    outcome that depends on it (its counts, whether a cancel was asked). ``finished_at``
    defaults to now; ``alive`` says the job's own process records it (its last heartbeat is
    now). A completed job has nothing left to resume from: its saved frontier goes, and a crawl
    that ran to its end records the pages it no longer found.
    """

    def fields(job: Job) -> tuple[str, dict[str, Any]]:
        status, reason = outcome(job) if callable(outcome) else outcome
        now = models.utcnow()
        values: dict[str, Any] = {
            "finish_reason": reason,
            "finished_at": finished_at or now,
            "queued": 0,
        }
        if alive:
            values["heartbeat_at"] = now
        if extraction_failures is not None:
            values["extraction_failures"] = dict(sorted(extraction_failures.items()))
        return status, values

    def completed(job: Job) -> None:
        models.FrontierRequest.delete().where(models.FrontierRequest.job == job.id).execute()
        if job.finish_reason == "finished":
            # Only a crawl that ran to its end can say a page is no longer there.
            # (Imported here: w3lib's urllib.request would cost every CLI command start-up.)
            from docscrawl.urls import CrawlScope

            scope = CrawlScope(job.url)
            prefix = f"{urlsplit(job.url).scheme}://{scope.netloc}{scope.prefix}"
            models.record_removed_pages(job.id, job.client_id, prefix)

    return _transition(job_id, FINISH, fields, after={COMPLETED: completed})


def force_cancel(job_id: int, reason: str) -> Change:
    """`cancel --force`: cancelled whatever its state; a finished job keeps its end time."""
    return _transition(
        job_id,
        FORCE_CANCEL,
        lambda job: (
            CANCELLED,
            {
                "finish_reason": reason,
                "finished_at": job.finished_at or models.utcnow(),
                "queued": 0,
            },
        ),
    )


def resume(job_id: int, *, mode: str, process: Mapping[str, Any] | None = None) -> Change:
    """Move a cancelled or failed job back to ``pending`` to continue it. Two resumes at once
    cannot both win: the second finds it ``pending``."""
    fields: dict[str, Any] = {
        "mode": mode,
        "resumes": Job.resumes + 1,
        "finished_at": None,
        "finish_reason": None,
        "cancel_requested_at": None,
        "heartbeat_at": None,
        "queued": 0,
        "pid": None,
        "process_started_at": None,
        **(process or {}),
    }
    return _transition(job_id, RESUME, lambda job: (PENDING, fields))


def add_stored(
    job_id: int, *, pages: int, errors: int, skipped: Mapping[str, int] | None = None
) -> None:
    """Add a batch's counts to the job, inside the pipeline's transaction that stored it (so the
    counts always match the rows). Written in every state: a crawl marked cancelled with
    --force may still flush what it had."""
    changes: dict[Any, Any] = {Job.pages: Job.pages + pages, Job.errors: Job.errors + errors}
    if skipped:
        counts = dict(Job.select(Job.skipped).where(Job.id == job_id).scalar() or {})
        for kind, count in skipped.items():
            counts[kind] = counts.get(kind, 0) + count
        changes[Job.skipped] = dict(sorted(counts.items()))
    with models.write_transaction():
        Job.update(changes).where(Job.id == job_id).execute()


# --- the outbox ----------------------------------------------------------------------------------


def event_name(event: str, before: str, after: str) -> str | None:
    """The webhook event a transition raises, if any: one per transition a user cares about.

    A run has exactly one terminal event: the move out of an active status. Force-marking a
    job that had already ended (``completed -> cancelled``) ends no run, so it raises none.
    """
    if event == START and before == PENDING and after == RUNNING:
        return "job.started"
    if event == RESUME and after == PENDING:
        return "job.resumed"
    if before in ACTIVE_STATUSES and after in FINISHED_STATUSES:
        return f"job.{after}"
    return None


def raise_event(job: Job, name: str) -> None:
    """Write an event to the outbox; call it inside the write transaction of the change it
    announces (a transition here, or a change report being kept)."""
    models.JobEvent.create(job=job.id, event=name, status=job.status, snapshot=snapshot(job))


def snapshot(job: Job) -> dict[str, Any]:
    """The job's row as JSON (times as ISO strings): what an event carries of the job."""
    values = {}
    for name, field in Job._meta.fields.items():
        value = getattr(job, field.column_name if name == "client" else name)
        values[field.column_name] = value.isoformat() if isinstance(value, dt.datetime) else value
    return values


def from_snapshot(values: dict[str, Any]) -> Job:
    """The job as an event's snapshot recorded it (not saved; its client is loaded on use)."""
    fields = Job._meta.fields
    row = {}
    for name, field in fields.items():
        value = values.get(field.column_name)
        if isinstance(field, peewee.DateTimeField) and isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        row[field.column_name if name == "client" else name] = value
    return Job(**row)


# A job's progress samples: one per heartbeat at first, then further apart, so that a job of
# any length keeps a few hundred (the spacing grows with the job's age).
SAMPLE_SPACING_SHARE = 1 / 200


FINISHED_EVENTS = frozenset(f"job.{status}" for status in FINISHED_STATUSES)


def _sample(job: Job, last: bool = False) -> None:
    """Record the job's counters now, unless the previous sample is too recent (the last one,
    at the job's end, is always recorded)."""
    now = models.utcnow()
    previous = (
        models.JobSample.select(models.JobSample.at)
        .where(models.JobSample.job == job.id)
        .order_by(models.JobSample.at.desc())
        .limit(1)
        .scalar()
    )
    age = (now - (job.started_at or now)).total_seconds()
    too_soon = (
        previous is not None and (now - previous).total_seconds() < age * SAMPLE_SPACING_SHARE
    )
    if too_soon and not last:
        return
    models.JobSample.create(job=job.id, at=now, pages=job.pages, errors=job.errors,
                            queued=job.queued)  # fmt: skip


def _transition(
    job_id: int,
    event: str,
    decide: Callable[[Job], tuple[str, dict[str, Any]]],
    *,
    after: Mapping[str, Callable[[Job], None]] | None = None,
    quiet: bool = False,
) -> Change:
    """Read the job, check the move against TRANSITIONS, and write it; all in one transaction."""
    with models.write_transaction():
        job = Job.get_or_none(Job.id == job_id)
        if job is None:
            logger.warning("Job %s: %s refused, there is no such job", job_id, event)
            return Change(job_id, event, None, None, applied=False)
        before = job.status
        allowed = TRANSITIONS[event].get(before, frozenset())
        status, fields = decide(job) if allowed else (before, {})
        if status not in allowed:
            log = logger.debug if quiet else logger.info
            log("Job %s: %s refused, it is %s (allowed from %s)", job_id, event, before,
                ", ".join(TRANSITIONS[event]) or "nowhere")  # fmt: skip
            return Change(job_id, event, before, before, applied=False)
        written = (
            Job.update(status=status, **fields)
            .where((Job.id == job_id) & (Job.status == before))
            .execute()
        )
        if not written:  # cannot happen under the write lock; never write on a guess
            return Change(job_id, event, before, before, applied=False)
        hook = (after or {}).get(status)
        if hook is not None:
            hook(Job.get_by_id(job_id))
        name = event_name(event, before, status)
        if name is not None:
            raise_event(Job.get_by_id(job_id), name)
        if event in (START, HEARTBEAT) or name in FINISHED_EVENTS:
            _sample(Job.get_by_id(job_id), last=name in FINISHED_EVENTS)
    if status != before:
        logger.debug("Job %s: %s, %s -> %s", job_id, event, before, status)
    return Change(job_id, event, before, status, applied=True)
