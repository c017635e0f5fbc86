"""Async crawls on Scrapyd: schedule them, and read and steer them through Scrapyd's API."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from typing import Any

from control import jobs, processes
from control.exceptions import DocscrawlError, Interrupted, ScrapydUnavailable
from control.scrapyd import ScrapydNode, ScrapydTarget
from docscrawl import job_state, models
from docscrawl.models import Job

logger = logging.getLogger(__name__)
# How long one listjobs.json answer stands for the node's state within a command.
LISTING_TTL = 0.5


def scrapyd_job_id(job_id: int) -> str:
    """Scrapyd's id for our job: ours first, so the Scrapyd web UI shows which job is which."""
    return f"{job_id}-{uuid.uuid4().hex[:12]}"


def schedule_crawl(
    target: ScrapydTarget,
    location: str,
    *,
    url: str,
    client_name: str,
    max_pages: int | None,
    max_depth: int | None,
    settings: dict[str, str],
) -> tuple[Job, str]:
    """Record a pending job and queue the docs spider for it on Scrapyd.

    A failed schedule leaves the job ``failed`` with the reason, an interrupted one (Ctrl+C)
    ``cancelled``: never a phantom ``pending``.
    """
    job = jobs.create_job(
        url,
        client_name,
        mode="scrapyd",
        max_pages=max_pages,
        max_depth=max_depth,
        settings=settings,
    )
    return job, _schedule(target, location, job)


def schedule_resume(target: ScrapydTarget, location: str, job: Job) -> str:
    """Queue the docs spider on Scrapyd to continue a job (already moved to ``pending``)."""
    return _schedule(target, location, job, resume=True)


def _schedule(target: ScrapydTarget, location: str, job: Job, resume: bool = False) -> str:
    try:
        return _hand_to_scrapyd(target, location, job, resume)
    except DocscrawlError as exc:
        _end_unscheduled(job, models.FAILED, f"could not be scheduled: {exc}")
        raise
    except KeyboardInterrupt:
        # The request may have reached Scrapyd: if the crawl starts after all, it finds the job
        # finished in the store and closes at once.
        reason = f"scheduling on {target.url} was interrupted (Ctrl+C)"
        _end_unscheduled(job, models.CANCELLED, reason)
        raise Interrupted(f"Job {job.id} cancelled: {reason}.") from None


def _end_unscheduled(job: Job, status: str, reason: str) -> None:
    if status == models.CANCELLED:
        job_state.finish(job.id, job_state.Outcome(status, reason))
    else:  # a cancel asked meanwhile still decides
        job_state.finish(
            job.id, lambda current: job_state.stop_outcome(current, failed=reason, cancelled=reason)
        )


def _hand_to_scrapyd(target: ScrapydTarget, location: str, job: Job, resume: bool) -> str:
    node = ScrapydNode(target)
    jobid = scrapyd_job_id(job.id)
    job_state.assign(job.id, log_url=node.log_url(jobid), node=node.url, scrapyd_job_id=jobid)
    # The crawl process runs in Scrapyd's working directory: give it the absolute store.
    # Never the password: Scrapyd's web UI and logs show what it is given.
    store = models.without_password(models.resolve_location(location))
    crawl_settings = {**job.settings, "DOCSCRAWL_DB": store}
    spider_args = {
        "url": job.url,
        "job_id": job.id,
        "max_pages": job.max_pages,
        "max_depth": job.max_depth,
        "resume": "1" if resume else None,
    }
    node.schedule(jobid, spider_args, crawl_settings)
    return jobid


class ScrapydView:
    """Scrapyd's listjobs, read once per command, answering questions about our jobs."""

    def __init__(self, target: ScrapydTarget):
        self.node = ScrapydNode(target)
        self._jobs: dict[str, tuple[str, dict[str, Any]]] | None = None
        self._fetched_at = 0.0
        self.unreachable: DocscrawlError | None = None

    def refresh(self) -> None:
        self._jobs = None

    def lookup(self, scrapyd_job_id: str | None) -> tuple[str, dict[str, Any]] | None:
        """('pending'|'running'|'finished', entry) for a Scrapyd job id, None if unknown.

        One listjobs.json answers for every job of the node; it is asked again once it is older
        than LISTING_TTL (a command waiting for a cancel sees the job finish).
        """
        if self._jobs is None or time.monotonic() - self._fetched_at > LISTING_TTL:
            self._jobs = {}
            self._fetched_at = time.monotonic()
            try:
                listing = self.node.list_jobs()
                self.unreachable = None
            except DocscrawlError as exc:
                self.unreachable = exc
                return None
            for state in ("pending", "running", "finished"):
                for entry in listing.get(state, []):
                    self._jobs[entry["id"]] = (state, entry)
        return self._jobs.get(scrapyd_job_id or "")

    def _is_ours(self, job: Job) -> bool:
        return job.mode == "scrapyd" and job.node == self.node.url

    def is_alive(self, job: Job) -> bool | None:
        """Liveness probe for reconcile: Scrapyd's answer when it has one."""
        if not self._is_ours(job):
            return None
        found = self.lookup(job.scrapyd_job_id)
        if self.unreachable is not None:
            return None  # the node is down: the pid and the heartbeat decide
        if found is None:
            if jobs.never_started(job):
                # Scrapyd does not have it queued: it restarted, or lost or never got the
                # schedule. Not before the grace period: a schedule may be on its way.
                return not jobs.waited_too_long(job)
            # A running crawl that Scrapyd forgot (Scrapyd restarted): an orphan. Let the pid
            # or the heartbeat say whether it still lives.
            return None
        state, _ = found
        if state in ("pending", "running"):
            return True
        # Finished on Scrapyd's side. If the store still says active, the process died without
        # recording its outcome; give the process a moment if its pid is still there.
        return processes.is_local_node(job.node) and processes.is_alive(
            job.pid, job.process_started_at
        )

    def stop(self, job: Job, kill: bool) -> tuple[bool, str | None]:
        """Cancel a job through Scrapyd (KILL when kill): whether Scrapyd took it, a sentence."""
        if not self._is_ours(job) or not job.scrapyd_job_id:
            return False, None
        self.refresh()  # whatever it answers, the listing changes
        try:
            previous = self.node.cancel(job.scrapyd_job_id, signal="KILL" if kill else None)
        except ScrapydUnavailable:
            if processes.is_local_node(job.node) and job.pid:
                return False, None  # it runs here: we can still stop it by its pid
            raise
        if previous == "pending":
            reason = "removed from Scrapyd's queue before it started"
            job_state.finish(job.id, job_state.Outcome(models.CANCELLED, reason))
            return True, f"Job {job.id} removed from Scrapyd's queue and cancelled."
        return previous == "running", None

    def merge(self, job: Job, details: dict[str, Any]) -> dict[str, Any]:
        """status --json fields completed from Scrapyd: pid, start and end times, log URL."""
        found = self.lookup(job.scrapyd_job_id)
        merged = dict(details)
        merged["log_url"] = job.log_url or self.node.log_url(job.scrapyd_job_id or "")
        merged["scrapyd_state"] = found[0] if found else None
        merged["node_reachable"] = self.unreachable is None
        if found:
            entry = found[1]
            merged["pid"] = merged.get("pid") or entry.get("pid")
            merged["scrapyd_start_time"] = _scrapyd_time(entry.get("start_time"))
            merged["scrapyd_end_time"] = _scrapyd_time(entry.get("end_time"))
        return merged


def _scrapyd_time(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value).replace(microsecond=0).isoformat()
    except ValueError:
        return value
