"""Content history: every distinct Markdown a page has had (``page_version``), kept compressed.

A version is keyed by the page's main-text hash, so a text seen by many jobs, or one a page
returns to, is kept once, with the job that first stored it. The pipeline records the version
of every page it finds new or changed, in the transaction that stores the page.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import peewee

from docscrawl import models

# zlib's default trade-off: documentation Markdown shrinks to about a third, at ~0.1 ms a page.
COMPRESSION_LEVEL = 6
_CHUNK = 400  # versions looked up at a time (two IN lists of at most this many)


def compress(markdown: str) -> bytes:
    """The Markdown as it is stored: UTF-8, zlib-compressed."""
    return zlib.compress(markdown.encode("utf-8"), COMPRESSION_LEVEL)


def decompress(blob: bytes | memoryview) -> str:
    """The Markdown a stored version holds (PostgreSQL's driver gives a memoryview)."""
    return zlib.decompress(bytes(blob)).decode("utf-8")


def record_versions(rows: Iterable[Sequence[Any]]) -> None:
    """Keep these texts of pages as versions, in the caller's transaction.

    A row is (page id, content hash, Markdown, job id), with when it was first seen as a fifth
    item for texts older than now (the migration of older stores). The Markdown may come as
    compress() made it already (bytes: an extraction worker's, docscrawl.extraction_pool).

    A text the page already has a version for is left as it is, so its first job stays.
    """
    now = models.utcnow()
    values = [
        {
            "page": row[0],
            "content_hash": row[1],
            "markdown": row[2] if type(row[2]) is bytes else compress(row[2] or ""),
            "job": row[3],
            "created_at": (row[4] if len(row) > 4 else None) or now,
        }
        for row in rows
    ]
    models.insert_rows(models.PageVersion, values, ignore=True)


def forget_version(page_id: int, content_hash: str, job_id: int) -> None:
    """Drop the version this job recorded with this hash, unless a job saw the page with it.

    For a page rewritten after it was stored (the template fix-up): the text it was first
    stored with was never the page's.
    """
    PageVersion, JobPage = models.PageVersion, models.JobPage
    seen = JobPage.select(JobPage.id).where(
        (JobPage.page == page_id) & (JobPage.content_hash == content_hash)
    )
    PageVersion.delete().where(
        (PageVersion.page == page_id)
        & (PageVersion.content_hash == content_hash)
        & (PageVersion.job == job_id)
        & ~peewee.fn.EXISTS(seen)
    ).execute()


@dataclass(frozen=True)
class Version:
    """One stored text of a page."""

    id: int
    page_id: int
    content_hash: str
    job_id: int | None  # the job that first stored it; None once that job is deleted
    created_at: dt.datetime
    markdown: str


def versions_of(page_id: int) -> list[Version]:
    """The page's versions, newest first."""
    PageVersion = models.PageVersion
    query = (
        PageVersion.select(
            PageVersion.id,
            PageVersion.page,
            PageVersion.content_hash,
            PageVersion.job,
            PageVersion.created_at,
            PageVersion.markdown,
        )
        .where(PageVersion.page == page_id)
        .order_by(PageVersion.id.desc())
        .tuples()
    )
    return [
        Version(version_id, page, digest, job_id, created_at, decompress(blob))
        for version_id, page, digest, job_id, created_at, blob in query
    ]


def version_markdown(page_id: int, content_hash: str) -> str | None:
    """The Markdown of the page's version with this hash; None if none is stored."""
    return versions_markdown([(page_id, content_hash)]).get((page_id, content_hash))


def versions_markdown(keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """(page id, content hash) -> Markdown for those of these versions that are stored."""
    PageVersion = models.PageVersion
    wanted = sorted(set(keys))
    found: dict[tuple[int, str], str] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        query = PageVersion.select(
            PageVersion.page, PageVersion.content_hash, PageVersion.markdown
        ).where(
            (PageVersion.page << sorted({page_id for page_id, _ in chunk}))
            & (PageVersion.content_hash << sorted({digest for _, digest in chunk}))
        )
        keep = set(chunk)
        for page_id, digest, blob in query.tuples():
            if (page_id, digest) in keep:
                found[page_id, digest] = decompress(blob)
    return found
