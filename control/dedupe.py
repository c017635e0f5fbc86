"""Find and remove a client's duplicate pages: the same main text under different URLs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from control.exceptions import InvalidRequest
from docscrawl import models
from docscrawl.models import Client, Page


@dataclass
class DuplicateGroup:
    """Pages with one main-text hash: the one kept and the ones removed."""

    content_hash: str
    kept: str
    removed: list[str] = field(default_factory=list)


@dataclass
class DedupeReport:
    client: str
    dry_run: bool
    groups: list[DuplicateGroup]

    @property
    def removed_count(self) -> int:
        return sum(len(group.removed) for group in self.groups)

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "dry_run": self.dry_run,
            "groups": [asdict(group) for group in self.groups],
            "removed": self.removed_count,
        }


def keep_order(page: Page) -> tuple:
    """Which page of a group survives: the canonical URL first, then the shortest, then newest."""
    is_canonical = (
        page.canonical_url is not None and models_normalized(page.canonical_url) == page.url
    )
    return (not is_canonical, len(page.url), -page.fetched_at.timestamp())


def models_normalized(url: str) -> str:
    from docscrawl.urls import normalize_url

    return normalize_url(url)


def dedupe_client(slug: str, *, dry_run: bool = False) -> DedupeReport:
    """Group the client's pages by main-text hash and remove all but one page per group."""
    client = Client.get_or_none(Client.slug == slug)
    if client is None:
        raise InvalidRequest(f"There is no client {slug!r}; `docscrawl list` shows the clients.")
    by_hash: dict[str, list[Page]] = defaultdict(list)
    query = Page.select(
        Page.id, Page.url, Page.canonical_url, Page.fetched_at, Page.content_hash
    ).where((Page.client == client) & (Page.word_count > 0))
    for page in query:
        by_hash[page.content_hash].append(page)
    groups, doomed = [], []
    for content_hash, pages in sorted(by_hash.items(), key=lambda item: item[1][0].url):
        if len(pages) < 2:
            continue
        pages.sort(key=keep_order)
        groups.append(DuplicateGroup(content_hash, pages[0].url, [p.url for p in pages[1:]]))
        doomed.extend(p.id for p in pages[1:])
    if doomed and not dry_run:
        with models.write_transaction():
            for start in range(0, len(doomed), 500):
                Page.delete().where(Page.id << doomed[start : start + 500]).execute()
    return DedupeReport(slug, dry_run, groups)
