"""What changed between two crawls of a client's site."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from control.exceptions import InvalidRequest
from control.jobs import get_job
from docscrawl import models
from docscrawl.models import Client, Job, JobPage, Page


@dataclass
class CrawlDiff:
    """Pages added, removed and changed from job `old` to job `new`."""

    old: int
    new: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "old_job": self.old,
            "new_job": self.new,
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "unchanged": self.unchanged,
        }


def last_two_completed(client_slug: str) -> tuple[int, int]:
    """The ids of the client's two most recent completed jobs, older first."""
    client = Client.get_or_none(Client.slug == client_slug)
    if client is None:
        raise InvalidRequest(f"There is no client {client_slug!r}; `docscrawl list` shows them.")
    jobs = list(
        Job.select(Job.id)
        .where((Job.client == client) & (Job.status == models.COMPLETED))
        .order_by(Job.id.desc())
        .limit(2)
        .tuples()
    )
    if len(jobs) < 2:
        raise InvalidRequest(
            f"Client {client_slug!r} has {len(jobs)} completed crawl(s); a diff needs two."
        )
    return jobs[1][0], jobs[0][0]


def _seen(job_id: int) -> dict[str, str | None]:
    """url -> main-text hash of every page the job saw (not the ones it found removed)."""
    query = (
        JobPage.select(Page.url, JobPage.content_hash)
        .join(Page)
        .where((JobPage.job == job_id) & (JobPage.change != models.REMOVED))
    )
    return dict(query.tuples())


def diff_jobs(old_id: int, new_id: int) -> CrawlDiff:
    """Compare what two jobs of the same client saw."""
    old, new = get_job(old_id), get_job(new_id)
    if old.client_id != new.client_id:
        raise InvalidRequest(
            f"Jobs {old.id} and {new.id} crawled different clients; compare jobs of one client."
        )
    before, after = _seen(old.id), _seen(new.id)
    result = CrawlDiff(old.id, new.id)
    result.added = sorted(set(after) - set(before))
    result.removed = sorted(set(before) - set(after))
    common = set(before) & set(after)
    result.changed = sorted(url for url in common if before[url] != after[url])
    result.unchanged = len(common) - len(result.changed)
    return result
