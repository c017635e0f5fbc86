"""What a page's text was, crawl by crawl: unified diffs between two jobs, a page's versions."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from control.changes import CrawlDiff
from control.exceptions import InvalidRequest
from docscrawl import history
from docscrawl.models import Client, JobPage, Page

_CHUNK = 500  # URLs in one IN (...)


@dataclass
class PageDiff:
    """How one changed page's Markdown differs from the older job to the newer one.

    ``text`` is the unified diff, or None when a job's version is not stored (``missing``
    names the job): the page was crawled before the store kept content history.
    """

    url: str
    text: str | None
    missing: int | None = None

    def line(self) -> str:
        """The diff for people, or one line saying why there is none."""
        if self.text == "":  # a text hash can change with the Markdown as it was
            return f"{self.url}: the Markdown is the same in both jobs."
        if self.text is not None:
            return self.text
        return (
            f"{self.url}: job {self.missing}'s text of this page is not stored (it was crawled "
            "before docscrawl kept content history), so there is no diff."
        )


def page_diffs(result: CrawlDiff) -> list[PageDiff]:
    """The unified diff of each changed page's Markdown, from the versions the two jobs saw."""
    old, new = versions_seen(result.old, result.changed), versions_seen(result.new, result.changed)
    texts = history.versions_markdown(
        [key for key in (*old.values(), *new.values()) if key[1] is not None]
    )
    diffs = []
    for url in result.changed:
        before, after = texts.get(old[url]), texts.get(new[url])
        if before is None or after is None:
            diffs.append(PageDiff(url, None, result.old if before is None else result.new))
            continue
        lines = difflib.unified_diff(
            before.splitlines(),
            after.splitlines(),
            f"{url} (job {result.old})",
            f"{url} (job {result.new})",
            lineterm="",
        )
        diffs.append(PageDiff(url, "\n".join(lines)))
    return diffs


def versions_seen(job_id: int, urls: Sequence[str]) -> dict[str, tuple[int, str | None]]:
    """url -> (page id, the hash this job saw the page with) for those of these URLs it saw:
    the key of the page's version (docscrawl.history) that job saw."""
    found: dict[str, tuple[int, str | None]] = {}
    for start in range(0, len(urls), _CHUNK):
        query = (
            JobPage.select(Page.url, Page.id, JobPage.content_hash)
            .join(Page)
            .where((JobPage.job == job_id) & (Page.url << list(urls[start : start + _CHUNK])))
        )
        found.update((url, (page_id, digest)) for url, page_id, digest in query.tuples())
    return found


@dataclass(frozen=True)
class VersionSummary:
    """One version of a page, as `docscrawl history` shows it."""

    content_hash: str
    job_id: int | None
    created_at: dt.datetime
    words: int
    lines_added: int | None  # against the previous version; None for the first
    lines_removed: int | None

    @property
    def short_hash(self) -> str:
        return self.content_hash[:12]

    def as_dict(self) -> dict[str, Any]:
        return {
            "content_hash": self.content_hash,
            "job": self.job_id,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "words": self.words,
            "lines_added": self.lines_added,
            "lines_removed": self.lines_removed,
        }


@dataclass
class PageHistory:
    """A page's versions, newest first."""

    url: str
    client: str
    versions: list[VersionSummary] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "client": self.client,
            "versions": [version.as_dict() for version in self.versions],
        }


def page_history(url: str, client_slug: str | None = None) -> PageHistory:
    """The versions of the page stored at url (of this client, when several have it)."""
    page = find_page(url, client_slug)
    versions = history.versions_of(page.id)
    summaries = []
    for version, previous in zip(versions, [*versions[1:], None], strict=True):
        added = removed = None
        if previous is not None:
            added, removed = changed_lines(previous.markdown, version.markdown)
        summaries.append(
            VersionSummary(
                version.content_hash,
                version.job_id,
                version.created_at,
                markdown_words(version.markdown),
                added,
                removed,
            )
        )
    return PageHistory(page.url, page.client.slug, summaries)


def find_page(url: str, client_slug: str | None) -> Page:
    """The stored page at url (as given, or normalised), of this client if one is given."""
    from docscrawl.urls import normalize_url  # imports w3lib: only for this question

    query = (
        Page.select(Page, Client).join(Client).where(Page.url << sorted({url, normalize_url(url)}))
    )
    if client_slug is not None:
        if Client.get_or_none(Client.slug == client_slug) is None:
            raise InvalidRequest(
                f"There is no client {client_slug!r}; `docscrawl list` shows them."
            )
        query = query.where(Client.slug == client_slug)
    pages = list(query.order_by(Client.slug))
    if not pages:
        whose = f"client {client_slug!r}" if client_slug else "any client"
        raise InvalidRequest(
            f"No page of {whose} is stored at {url}; `docscrawl skipped --job N --url URL` "
            "says why a crawl did not store it."
        )
    if len(pages) > 1:
        slugs = ", ".join(page.client.slug for page in pages)
        raise InvalidRequest(
            f"Several clients ({slugs}) have a page at {url}; choose one with --client-slug."
        )
    return pages[0]


def changed_lines(before: str, after: str) -> tuple[int, int]:
    """How many lines the newer Markdown adds and removes."""
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False)
    added = removed = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    return added, removed


def markdown_words(markdown: str) -> int:
    """Words of a version's Markdown: tokens with a letter or a digit (not "#", "|", "```")."""
    return sum(1 for token in markdown.split() if any(c.isalnum() for c in token))
