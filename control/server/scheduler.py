"""The server's scheduler: fires each due schedule run as a job, in a thread of its own.

What is due, skipped, queued or missed is decided in the store by control.schedules (so two
servers on one store fire each run once); this thread only wakes up in time, fires what it
claimed through the same JobService as `POST /api/jobs`, and writes the change report of each
scheduled crawl that has completed.
"""

from __future__ import annotations

import datetime as dt
import logging

from control import schedules
from control.exceptions import DocscrawlError
from control.server.background import BackgroundLoop
from control.server.service import CrawlRequest, JobService
from docscrawl import models

logger = logging.getLogger(__name__)

# The longest the scheduler sleeps: a schedule added (or run-now) meanwhile waits at most this.
MAX_SLEEP = 1.0
# A run claimed by a server that then died is given up after this.
STALE_CLAIM = dt.timedelta(minutes=2)


class Scheduler(BackgroundLoop):
    """Wakes at each due time, claims and fires the runs, and reports scheduled crawls' changes."""

    name = "scheduler"

    def __init__(self, service: JobService, max_sleep: float = MAX_SLEEP):
        self.service = service
        self.max_sleep = max_sleep
        super().__init__()

    def before_first(self) -> None:
        schedules.abandon_stale_claims(STALE_CLAIM)

    def wait(self) -> float:
        """Until the next due time, but at most max_sleep."""
        try:
            upcoming = schedules.next_due()
        except Exception:  # noqa: BLE001 - the store may be locked a moment
            return self.max_sleep
        if upcoming is None:
            return self.max_sleep
        wait = (upcoming - models.utcnow()).total_seconds()
        return min(self.max_sleep, max(0.0, wait))

    def tick(self) -> None:
        for claim in schedules.claim_due():
            self.fire(claim)
        from control import change_reports

        for job_id in change_reports.pending_reports():
            change_reports.write_report(job_id)

    def fire(self, claim: schedules.Claim) -> None:
        schedule = schedules.get(claim.schedule_id)
        request = CrawlRequest(
            url=schedule.url,
            client=schedule.client.name,
            max_pages=schedule.max_pages,
            max_depth=schedule.max_depth,
            settings=dict(schedule.settings or {}),
            mode=schedule.mode,
        )
        try:
            job = self.service.create(request)
        except DocscrawlError as exc:
            schedules.record_failed(claim, str(exc))
            logger.warning("Schedule %s: the run due %s failed: %s", schedule.id, claim.due_at, exc)
            return
        schedules.record_fired(claim, job["id"])
        logger.info("Schedule %s: fired job %s (due %s)", schedule.id, job["id"], claim.due_at)
