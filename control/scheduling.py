"""Async crawls on Scrapyd: schedule them, and read and steer them through Scrapyd's API."""

from __future__ import annotations

import logging
import uuid

from control import jobs
from control.exceptions import DocscrawlError, Interrupted
from control.scrapyd import ScrapydNode, ScrapydTarget
from docscrawl import job_state, models
from docscrawl.models import Job

logger = logging.getLogger(__name__)


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
