"""What changed between two crawls of a client's site."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import peewee

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


def _differ(a: peewee.Node, b: peewee.Node) -> peewee.Node:
    """SQL for `a != b` as Python compares hashes: NULL differs from a hash, not from NULL."""
    return (a != b) | (a.is_null() != b.is_null())


def _added_or_changed(old_id: int, new_id: int) -> peewee.Select:
    """(url, added) of each page the newer job saw that the older one did not see (added
    true) or saw with another text; pages seen alike by both never leave the database."""
    newer, older = JobPage.alias("newer"), JobPage.alias("older")
    return (
        newer.select(Page.url, older.page.is_null())
        .join(
            older,
            peewee.JOIN.LEFT_OUTER,
            on=(older.job == old_id)
            & (older.page == newer.page)
            & (older.change != models.REMOVED),
        )
        .join(Page, on=(Page.id == newer.page))
        .where(
            (newer.job == new_id)
            & (newer.change != models.REMOVED)
            & (older.page.is_null() | _differ(newer.content_hash, older.content_hash))
        )
        .tuples()
    )


def _removed(old_id: int, new_id: int) -> peewee.Select:
    """(url,) of each page the older job saw and the newer one did not."""
    newer, older = JobPage.alias("newer"), JobPage.alias("older")
    return (
        older.select(Page.url)
        .join(
            newer,
            peewee.JOIN.LEFT_OUTER,
            on=(newer.job == new_id)
            & (newer.page == older.page)
            & (newer.change != models.REMOVED),
        )
        .join(Page, on=(Page.id == older.page))
        .where((older.job == old_id) & (older.change != models.REMOVED) & newer.page.is_null())
        .tuples()
    )


def _seen_by_both(old_id: int, new_id: int) -> int:
    """How many pages both jobs saw (not the ones either found removed)."""
    newer, older = JobPage.alias("newer"), JobPage.alias("older")
    return (
        newer.select(peewee.fn.COUNT(peewee.SQL("*")))
        .join(older, on=(older.job == old_id) & (older.page == newer.page))
        .where(
            (newer.job == new_id)
            & (newer.change != models.REMOVED)
            & (older.change != models.REMOVED)
        )
        .scalar()
    )


def diff_jobs(old_id: int, new_id: int) -> CrawlDiff:
    """Compare what two jobs of the same client saw (not the pages either found removed).

    A join of the two jobs' job_page rows in the database: only the added, removed and changed
    URLs come back, streamed, and a count of the pages both saw; a job's pages are one client's,
    whose URLs are unique, so pages compare by id.
    """
    old, new = get_job(old_id), get_job(new_id)
    if old.client_id != new.client_id:
        raise InvalidRequest(
            f"Jobs {old.id} and {new.id} crawled different clients; compare jobs of one client."
        )
    result = CrawlDiff(old.id, new.id)
    for url, added in models.stream(_added_or_changed(old.id, new.id)):
        (result.added if added else result.changed).append(url)
    result.removed = [url for (url,) in models.stream(_removed(old.id, new.id))]
    # Sorted here, not by ORDER BY: a PostgreSQL collation would order URLs otherwise.
    for urls in (result.added, result.removed, result.changed):
        urls.sort()
    result.unchanged = _seen_by_both(old.id, new.id) - len(result.changed)
    return result
