"""Scrapyd's view of one node within a command: its listjobs, read once, answering questions
about our jobs (alive? finished? where is the log?) and stopping them through Scrapyd."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from control import jobs, processes
from control.exceptions import DocscrawlError, ScrapydUnavailable
from control.scrapyd import ScrapydNode, ScrapydTarget
from docscrawl import job_state, models
from docscrawl.models import Job

# How long one listjobs.json answer stands for the node's state within a command.
LISTING_TTL = 0.5


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
