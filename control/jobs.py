"""The job service: create, find, reconcile and cancel crawl jobs. The store is the truth."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import peewee

from control import environment, processes
from control.exceptions import (
    DocscrawlError,
    JobAlreadyFinished,
    JobInWrongState,
    ScrapydUnavailable,
    StoreUnavailable,
    UnknownJob,
)
from docscrawl import job_state, models
from docscrawl.models import Job

# A job whose heartbeat is older than this, and whose process we cannot check directly (its
# node is another machine, or unreachable), is gone. DOCSCRAWL_STALE_AFTER overrides it (seconds).
STALE_HEARTBEAT = dt.timedelta(seconds=60)


def stale_after() -> dt.timedelta:
    """The grace period before a silent job on a node we cannot ask is declared gone."""
    seconds = environment.stale_after()
    return dt.timedelta(seconds=seconds) if seconds else STALE_HEARTBEAT


# How long `cancel --force` lets a graceful stop run before it kills the process.
FORCE_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class CancelResult:
    """What a cancel did to one job, in a sentence."""

    job_id: int
    status: str
    message: str
    failed: bool = False


@dataclass(frozen=True)
class Reconciled:
    """A job found active in the store whose process is gone, and what it became."""

    job_id: int
    status: str
    reason: str


def open_store(location: str) -> peewee.Database:
    """Open the store or raise StoreUnavailable with the reason."""
    try:
        return models.open_store(location)
    except models.StoreError as exc:
        raise StoreUnavailable(str(exc)) from exc


def create_job(
    url: str,
    client_name: str,
    *,
    mode: str = "sync",
    max_pages: int | None = None,
    max_depth: int | None = None,
    settings: dict[str, Any] | None = None,
) -> Job:
    """Record a new pending job; a foreground job is owned by this process from the start."""
    return job_state.create(
        models.get_or_create_client(client_name),
        url,
        mode=mode,
        max_pages=max_pages,
        max_depth=max_depth,
        settings=settings,
        process=_this_process() if mode == "sync" else None,
    )


def _this_process() -> dict[str, Any]:
    """The job fields that make this process (a foreground crawl) the job's process."""
    import psutil  # only commands that start or resume a crawl need it

    me = psutil.Process()
    return {"pid": me.pid, "process_started_at": me.create_time(), "node": processes.this_host()}


def get_job(job_id: int) -> Job:
    """The job with this id, or UnknownJob."""
    job = Job.get_or_none(Job.id == job_id)
    if job is None:
        raise UnknownJob(f"There is no job {job_id}; `docscrawl list` shows the jobs.")
    return job


def list_jobs(
    status: str | None = None,
    client_slug: str | None = None,
    *,
    limit: int | None = None,
    before: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[Job]:
    """Jobs, newest first, optionally of one status or one client, created in [since, until];
    a page of them with ``limit`` and ``before`` (only jobs with a smaller id)."""
    query = Job.select(Job, models.Client).join(models.Client).order_by(Job.id.desc())
    query = _filtered(query, status, client_slug, before, since, until)
    if limit is not None:
        query = query.limit(limit)
    return list(query)


@dataclass(frozen=True)
class JobListing:
    """A page of job summaries (`list`), newest first, and how many more jobs match."""

    jobs: list[dict[str, Any]]
    more: int


def list_job_summaries(
    status: str | None = None,
    client_slug: str | None = None,
    *,
    limit: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> JobListing:
    """What list_jobs lists, as job_summary dicts built from plain rows: a peewee Job and
    Client object per row cost 0.5 s for 10,000 jobs (issue 16). ``more`` is counted in SQL."""
    Client = models.Client
    columns = (Job.id, Job.status, Client.slug, Client.name, Job.url, Job.pages,
               Job.started_at, Job.finished_at, Job.mode)  # fmt: skip
    query = Job.select(*columns).join(Client).order_by(Job.id.desc())
    query = _filtered(query, status, client_slug, None, since, until)
    if limit is not None:
        query = query.limit(limit)
    now = models.utcnow()
    summaries = [_summary(*row, now=now) for row in query.tuples()]
    more = 0
    if limit is not None and len(summaries) == limit:
        counted = _filtered(Job.select(), status, client_slug, None, since, until).count()
        more = max(0, counted - limit)
    return JobListing(summaries, more)


def _filtered(
    query: peewee.ModelSelect,
    status: str | None,
    client_slug: str | None,
    before: int | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> peewee.ModelSelect:
    # Each filter has an index behind it, and keeps the jobs in id order (newest first) so that
    # a LIMIT stops early: job.status and job.client_id (the client found by its unique slug)
    # list their jobs by id; a date range is also given as the id range it implies (ids grow
    # as jobs are created), found on job.created_at, so the jobs are read from the primary key.
    if status:
        query = query.where(Job.status == status)
    if client_slug:
        client = models.Client.select(models.Client.id).where(models.Client.slug == client_slug)
        query = query.where(Job.client == client)
    if before is not None:
        query = query.where(Job.id < before)
    # (MIN(id + 0): a bare MIN(id) makes SQLite walk the primary key instead of the range.)
    if since is not None:
        first = Job.select(peewee.fn.MIN(Job.id + 0)).where(Job.created_at >= since)
        query = query.where((Job.created_at >= since) & (Job.id >= first))
    if until is not None:
        last = Job.select(peewee.fn.MAX(Job.id + 0)).where(Job.created_at <= until)
        query = query.where((Job.created_at <= until) & (Job.id <= last))
    return query


# --- liveness ------------------------------------------------------------------------------------

LivenessProbe = Callable[[Job], "bool | None"]


def local_process_alive(job: Job) -> bool | None:
    """True/False for a job whose process runs on this machine; None if we cannot tell here."""
    if not processes.is_local_node(job.node) or not job.pid:
        return None
    return processes.is_alive(job.pid, job.process_started_at)


def heartbeat_alive(job: Job, now: dt.datetime | None = None) -> bool | None:
    """False when a running job's heartbeat is stale; None when it says nothing."""
    if job.status == models.PENDING or job.heartbeat_at is None or never_started(job):
        return None  # (a never-started job's heartbeat_at is when it was handed to its node)
    now = now or models.utcnow()
    return now - job.heartbeat_at <= stale_after()


def never_started(job: Job) -> bool:
    """True for a job no crawl process has taken yet (it records its pid when it starts)."""
    return job.pid is None and job.started_at is None


def waited_too_long(job: Job, now: dt.datetime | None = None) -> bool:
    """True once a job that never started has waited longer than the grace period.

    It waits from when it was handed to a node (heartbeat_at, set by the scheduler), else from
    when it was created.
    """
    since = job.heartbeat_at or job.created_at
    return (now or models.utcnow()) - since > stale_after()


def scheduled_alive(job: Job) -> bool | None:
    """False for a Scrapyd job that never reached a node (its schedule was cut short), once
    past the grace period; None for any other job."""
    if job.mode != "scrapyd" or job.node or not never_started(job):
        return None
    return not waited_too_long(job)


def reconcile(
    jobs: Iterable[Job] | None = None, probes: Iterable[LivenessProbe] = ()
) -> list[Reconciled]:
    """Finish every active job whose process is gone: ``failed``, or ``cancelled`` if asked.

    Probes are asked in order (extra ones, e.g. Scrapyd's view, first); the first that knows
    decides. Jobs nobody can vouch for stay as they are.
    """
    if jobs is None:
        # Read to the end first: a SELECT still being stepped keeps a read snapshot open, and a
        # write from inside it fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT,
        # no busy wait) when a crawl has written meanwhile.
        jobs = list(Job.select().where(Job.status << models.ACTIVE_STATUSES))
    results = []
    for job in jobs:
        if job.status not in models.ACTIVE_STATUSES:
            continue
        reason = _why_gone(job, [*probes, scheduled_alive, local_process_alive, heartbeat_alive])
        if reason is not None:
            finished = _finish_gone_job(job, reason)
            if finished is not None:
                results.append(finished)
    return results


def _why_gone(job: Job, probes: list[LivenessProbe]) -> str | None:
    for probe in probes:
        alive = probe(job)
        if alive is None:
            continue
        if alive:
            return None
        if never_started(job) and job.mode == "scrapyd":
            if not job.node:
                return "it never reached a Scrapyd node (its scheduling was cut short)"
            return f"it never started, and Scrapyd at {job.node} does not have it queued"
        if probe is heartbeat_alive:
            return f"no heartbeat since {job.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC"
        if job.pid:
            return f"its process {job.pid} is gone (killed or crashed)"
        return "its process is gone"
    return None


def _finish_gone_job(job: Job, why: str) -> Reconciled | None:
    # It stopped at some point after its last sign of life; that is the best end time known.
    change = job_state.finish(
        job.id,
        lambda current: job_state.stop_outcome(
            current, failed=f"{why} while {current.status}", cancelled=f"{why} while cancelling"
        ),
        finished_at=job.heartbeat_at,
    )
    if not change.applied:
        return None  # it finished on its own meanwhile
    current = get_job(job.id)
    return Reconciled(job.id, current.status, current.finish_reason)


# --- cancel --------------------------------------------------------------------------------------


def cancel_job(
    job_id: int,
    *,
    force: bool = False,
    wait: float = 30.0,
    probes: Iterable[LivenessProbe] = (),
    stop_remote: Callable[[Job, bool], tuple[bool, str | None]] | None = None,
) -> CancelResult:
    """Cancel one job as DESIGN.md's cancel semantics say.

    stop_remote, if given, stops a job run by Scrapyd (a graceful cancel, or a kill when its
    second argument is True); it returns whether Scrapyd took the cancel, and a sentence.
    """
    job = get_job(job_id)
    reconcile([job], probes)
    job = get_job(job_id)
    if job.status in models.FINISHED_STATUSES:
        if not force:
            raise JobAlreadyFinished(
                f"Job {job.id} is already {job.status}; use --force to mark it cancelled anyway."
            )
        return _force_finished(job)

    _request_cancel(job)
    via_scrapyd = job.mode == "scrapyd" and stop_remote is not None
    handled = False
    if via_scrapyd:
        try:
            handled, note = stop_remote(job, False)
        except ScrapydUnavailable as exc:
            return _cancel_on_unreachable_node(job, force, exc)
        job = get_job(job_id)
        if job.status == models.CANCELLED:  # removed from Scrapyd's queue before it started
            return CancelResult(job.id, job.status, note or f"Job {job.id} cancelled.")
    if not handled and never_started(get_job(job_id)):
        # No process has it and no Scrapyd queue holds it (it never reached a node, or Scrapyd
        # lost it): nothing will ever record its end but us. Should the crawl start after
        # all, it finds the job cancelled and closes at once.
        job = mark_cancelled(job_id, "cancelled before it started")
        return CancelResult(job.id, job.status, f"Job {job.id} cancelled before it started.")
    if not handled:
        # A foreground crawl, or one Scrapyd no longer knows (orphaned by a Scrapyd restart):
        # stop it by its pid, as Scrapyd itself would.
        _signal_job(job, signal.SIGINT)

    job = _wait_finished(job_id, FORCE_GRACE_SECONDS if force else wait, probes)
    if job.status in models.ACTIVE_STATUSES and force:
        if via_scrapyd:
            stop_remote(job, True)
        _kill_job(job)
        reconcile([job], probes)
        job = mark_cancelled(job_id, "killed after the graceful stop did not end it")
    if job.status in models.ACTIVE_STATUSES:
        return CancelResult(
            job.id,
            job.status,
            f"Job {job.id} is cancelling; it shows cancelled once its process has exited "
            f"(use --force to kill it).",
        )
    # The outcome is recorded just before the process exits; report once it really has.
    if processes.is_local_node(job.node) and job.pid and job.pid != os.getpid():
        processes.wait_gone(job.pid, job.process_started_at, timeout=5.0)
    return CancelResult(job.id, job.status, _ended_sentence(job))


def cancel_all(
    *,
    force: bool = False,
    wait: float = 30.0,
    probes: Iterable[LivenessProbe] = (),
    stop_remote: Callable[[Job, bool], tuple[bool, str | None]] | None = None,
) -> list[CancelResult]:
    """Cancel every pending and running job; one result per job."""
    probes = list(probes)
    reconcile(probes=probes)
    active = Job.select().where(Job.status << models.ACTIVE_STATUSES).order_by(Job.id)
    # Pending jobs first: cancelling a running crawl frees a Scrapyd slot, and a pending job
    # would start in it.
    results = []
    for job in sorted(active, key=lambda job: (job.status != models.PENDING, job.id)):
        try:
            results.append(
                cancel_job(job.id, force=force, wait=wait, probes=probes, stop_remote=stop_remote)
            )
        except JobAlreadyFinished:
            job = get_job(job.id)
            results.append(CancelResult(job.id, job.status, _ended_sentence(job)))
        except DocscrawlError as exc:  # one node down must not stop the others' cancels
            job = get_job(job.id)
            results.append(CancelResult(job.id, job.status, f"Job {job.id}: {exc}", failed=True))
    return results


def _cancel_on_unreachable_node(job: Job, force: bool, exc: ScrapydUnavailable) -> CancelResult:
    """The job's node is down: explain, or with --force mark the job cancelled anyway.

    The crawl, if it still runs, sees the cancel in the store at its next heartbeat and stops.
    """
    if not force:
        raise ScrapydUnavailable(
            f"Job {job.id} runs on {job.node}, which cannot be reached ({exc}); it was asked to "
            "stop through the store and will stop if it can still write there. Use --force to "
            "mark it cancelled now."
        ) from exc
    job = mark_cancelled(job.id, f"marked cancelled with --force while its node {job.node} "
                          "could not be reached")  # fmt: skip
    return CancelResult(
        job.id, job.status, f"Job {job.id} marked cancelled; its node {job.node} is unreachable."
    )


def _request_cancel(job: Job) -> None:
    job_state.request_cancel(job.id)


def _signal_job(job: Job, signum: int) -> bool:
    if not processes.is_local_node(job.node) or not job.pid:
        return False
    if job.pid == os.getpid():
        return False  # never signal ourselves (a crawl cancelling itself)
    return processes.send_signal(job.pid, job.process_started_at, signum)


def _kill_job(job: Job) -> None:
    if processes.is_local_node(job.node) and job.pid and job.pid != os.getpid():
        processes.kill(job.pid, job.process_started_at)


def _wait_finished(job_id: int, timeout: float, probes: Iterable[LivenessProbe]) -> Job:
    deadline = time.monotonic() + timeout
    probes = list(probes)
    next_reconcile = 0.0
    while True:
        job = get_job(job_id)
        if job.status not in models.ACTIVE_STATUSES:
            return job
        # The store tells the outcome; asking whether the process died is the fallback, and
        # it may cost a request to Scrapyd: once a second is enough.
        if time.monotonic() >= next_reconcile:
            reconcile([job], probes)
            next_reconcile = time.monotonic() + 1.0
        if time.monotonic() >= deadline:
            return get_job(job_id)
        time.sleep(0.1)


def _force_finished(job: Job) -> CancelResult:
    _kill_job(job)
    previous = job.status
    job = mark_cancelled(job.id, f"marked cancelled with --force (was {previous})", force=True)
    return CancelResult(job.id, job.status, f"Job {job.id} marked cancelled (was {previous}).")


def mark_cancelled(job_id: int, reason: str, force: bool = False) -> Job:
    """Record the job as cancelled (if still active, or whatever its state with force)."""
    if force:
        job_state.force_cancel(job_id, reason)
    else:
        job_state.finish(job_id, job_state.Outcome(models.CANCELLED, reason))
    return get_job(job_id)


def _ended_sentence(job: Job) -> str:
    pages = f"{job.pages} page{'s' if job.pages != 1 else ''} kept"
    if job.status == models.CANCELLED:
        return f"Job {job.id} cancelled: {pages}."
    return f"Job {job.id} is {job.status}: {pages}."


# --- resume --------------------------------------------------------------------------------------


def begin_resume(job_id: int, *, mode: str, probes: Iterable[LivenessProbe] = ()) -> Job:
    """Move a cancelled or failed job back to ``pending`` for a resume, or refuse.

    The move is one conditional UPDATE, so two resumes started at once cannot both win.
    """
    job = get_job(job_id)
    reconcile([job], probes)  # a job whose process died is failed, hence resumable
    job = get_job(job_id)
    if job.status == models.COMPLETED:
        raise JobInWrongState(f"Job {job.id} is completed; there is nothing left to resume.")
    if job.status in models.ACTIVE_STATUSES:
        raise JobInWrongState(
            f"Job {job.id} is {job.status}; only a cancelled or failed job can be resumed."
        )
    change = job_state.resume(
        job.id, mode=mode, process=_this_process() if mode == "sync" else None
    )
    if not change.applied:
        raise JobInWrongState(f"Job {job.id} is already being resumed.")
    return get_job(job.id)


# --- views ---------------------------------------------------------------------------------------


def duration_seconds(job: Job, now: dt.datetime | None = None) -> float | None:
    """How long the job has been running, or ran."""
    if job.started_at is None:
        return None
    end = job.finished_at or now or models.utcnow()
    return max(0.0, (end - job.started_at).total_seconds())


def job_summary(job: Job) -> dict[str, Any]:
    """The fields `list --json` promises for a job."""
    return _summary(
        job.id, job.status, job.client.slug, job.client.name, job.url, job.pages,
        job.started_at, job.finished_at, job.mode,
    )  # fmt: skip


def _summary(
    job_id: int,
    status: str,
    client_slug: str,
    client_name: str,
    url: str,
    pages: int,
    started_at: dt.datetime | None,
    finished_at: dt.datetime | None,
    mode: str,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    seconds = None
    if started_at is not None:
        end = finished_at or now or models.utcnow()
        seconds = max(0.0, (end - started_at).total_seconds())
    return {
        "id": job_id,
        "status": status,
        "client": client_slug,
        "client_name": client_name,
        "url": url,
        "pages": pages,
        "started_at": iso(started_at),
        "finished_at": iso(finished_at),
        "duration": _round(seconds),
        "mode": mode,
    }


def job_details(job: Job) -> dict[str, Any]:
    """Everything `status --json` promises for a job."""
    seconds = duration_seconds(job)
    rate = job.pages / seconds if seconds else None
    return {
        **job_summary(job),
        "errors": job.errors,
        "skipped": job.skipped or {},  # URLs not stored, by reason (`docscrawl skipped`)
        # Pages stored with part of their extraction failed, by stage (docscrawl.extraction).
        "extraction_failures": job.extraction_failures or {},
        # Stored pages whose extraction audit says to check them (`docscrawl audit`).
        "extraction_flagged": _flagged_count(job.id),
        "queued": job.queued,
        "rate": _round(rate),
        "estimated_total": job.estimated_total,
        "max_pages": job.max_pages,
        "max_depth": job.max_depth,
        "settings": job.settings,
        "created_at": iso(job.created_at),
        "heartbeat_at": iso(job.heartbeat_at),
        "cancel_requested_at": iso(job.cancel_requested_at),
        "finish_reason": job.finish_reason,
        "changes": models.change_counts(job.id),
        # What a scheduled crawl changed since the client's previous crawl (change_reports).
        "change_report": _change_summary(job.id),
        "resumes": job.resumes,
        "scrapyd_job_id": job.scrapyd_job_id,
        "node": job.node,
        "pid": job.pid,
        "log_url": job.log_url,
    }


def _change_summary(job_id: int) -> dict[str, Any] | None:
    # Not control.change_reports: what writes reports imports the diff and the history.
    report = models.change_report(job_id)
    if report is None:
        return None
    keys = ("previous_job_id", "summary", "counts")
    return {key: report.get(key) for key in keys}


def _flagged_count(job_id: int) -> int:
    from control import audit  # it imports this module

    return audit.flagged_count(job_id)


def iso(value: dt.datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO 8601 with a Z, to the second."""
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
