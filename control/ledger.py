"""The job's ledger: the URLs a job did not store, why, and the answer to "why is X missing?"."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from control import jobs
from docscrawl import models


@dataclass(frozen=True)
class UnstoredUrl:
    """One ledger entry."""

    url: str
    kind: str
    reason: str
    status_code: int | None
    occurred_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def unstored_urls(
    job_id: int, kind: str | None = None, url: str | None = None, limit: int | None = None
) -> list[UnstoredUrl]:
    """The job's ledger entries, oldest first, optionally of one kind or for one URL."""
    jobs.get_job(job_id)  # "There is no job N." for an unknown job
    Ledger = models.CrawlError
    query = Ledger.select(
        Ledger.url, Ledger.kind, Ledger.reason, Ledger.status_code, Ledger.occurred_at
    ).where(Ledger.job == job_id)
    if kind is not None:
        query = query.where(Ledger.kind == kind)
    if url is not None:
        query = query.where(Ledger.url << _url_forms(url))
    query = query.order_by(Ledger.id)
    if limit is not None:
        query = query.limit(limit)
    return [
        UnstoredUrl(url, kind, reason, status, jobs.iso(occurred))
        for url, kind, reason, status, occurred in query.tuples()
    ]


def _url_forms(url: str) -> list[str]:
    """The URL as given and as the crawl identifies it (the ledger keeps the link as found)."""
    from docscrawl.urls import normalize_url  # imports w3lib: only for this question

    return sorted({url, normalize_url(url)})


def explain_url(job_id: int, url: str) -> str:
    """One sentence: whether the job stored the page at url, and if not, why not."""
    job = jobs.get_job(job_id)
    forms = _url_forms(url)
    Page, JobPage = models.Page, models.JobPage
    # Under its own URL, or under the URL it redirected to (requested_url is the link).
    stored = (
        JobPage.select(JobPage.change, Page.url)
        .join(Page)
        .where(
            (JobPage.job == job_id)
            & (JobPage.change != models.REMOVED)
            & ((Page.url << forms) | (Page.requested_url << forms))
        )
        .order_by(Page.url.in_(forms).desc())
        .tuples()
        .first()
    )
    if stored is not None:
        change, stored_url = stored
        if stored_url in forms:
            return f"Job {job_id} stored {url} ({change})."
        return f"Job {job_id} stored {url} as {stored_url}, where it redirects ({change})."
    entries = unstored_urls(job_id, url=url)
    if entries:
        reasons = "; ".join(f"{entry.kind}: {entry.reason}" for entry in entries)
        return f"Job {job_id} did not store {url}: {reasons}."
    if job.status in models.ACTIVE_STATUSES:
        return f"Job {job_id} has not reached {url} yet (it is {job.status})."
    if job.finish_reason in ("max_pages", "closespider_pagecount"):
        return f"Job {job_id} stopped at --max-pages {job.max_pages} before it reached {url}."
    if job.status != models.COMPLETED:
        return f"Job {job_id} ended {job.status} before it reached {url} ({job.finish_reason})."
    return (
        f"Job {job_id} never met {url}: no page it stored links to it and no sitemap lists it"
        " (or the ledger was full for its reason: see DOCSCRAWL_LEDGER_MAX_ROWS)."
    )
