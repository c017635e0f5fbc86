"""Find and remove a client's duplicate pages, and report near-duplicates.

Exact duplicates are rows of the same normalised URL (left by older data or by a change in the
normalisation rules) and different URLs with the same main-text hash. Near-duplicates are pages
whose main texts have simhashes a few bits apart; they are reported, never removed.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from control.exceptions import InvalidRequest
from docscrawl import models
from docscrawl.models import Client, JobPage, Page

WORD = re.compile(r"\w+")
NEAR_DISTANCE = 3  # bits of 64: pages this close are near-duplicates


@dataclass
class DuplicateGroup:
    """Pages that are one page: the one kept, the ones removed, and why they matched."""

    kept: str
    removed: list[str] = field(default_factory=list)
    reason: str = "same main text"


@dataclass
class NearDuplicate:
    first: str
    second: str
    distance: int


@dataclass
class DedupeReport:
    client: str
    dry_run: bool
    groups: list[DuplicateGroup]
    near: list[NearDuplicate] | None = None

    @property
    def removed_count(self) -> int:
        return sum(len(group.removed) for group in self.groups)

    def as_dict(self) -> dict[str, Any]:
        document = {
            "client": self.client,
            "dry_run": self.dry_run,
            "groups": [asdict(group) for group in self.groups],
            "removed": self.removed_count,
        }
        if self.near is not None:
            document["near_duplicates"] = [asdict(pair) for pair in self.near]
        return document


def keep_order(page: Page) -> tuple:
    """Which page of a group survives: the canonical URL first, then the shortest, then newest."""
    from docscrawl.urls import normalize_url

    is_canonical = page.canonical_url is not None and normalize_url(page.canonical_url) == page.url
    return (not is_canonical, len(page.url), -page.fetched_at.timestamp(), page.id)


class _Groups:
    """Union-find over page ids: URL duplicates and text duplicates merge into one group."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.reason: dict[int, set[str]] = defaultdict(set)

    def find(self, item: int) -> int:
        self.parent.setdefault(item, item)
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, ids: list[int], reason: str) -> None:
        root = self.find(ids[0])
        for other in ids[1:]:
            self.parent[self.find(other)] = root
        self.reason[root].add(reason)

    def groups(self) -> dict[int, list[int]]:
        members: dict[int, list[int]] = defaultdict(list)
        for item in list(self.parent):
            members[self.find(item)].append(item)
        return {root: ids for root, ids in members.items() if len(ids) > 1}

    def reasons(self, ids: list[int]) -> str:
        found: set[str] = set()
        for item in ids:
            found |= self.reason.get(item, set())
        return " and ".join(sorted(found))


def dedupe_client(slug: str, *, dry_run: bool = False, near: bool = False) -> DedupeReport:
    """Keep one page per group of duplicates of the client; with near, report near-duplicates."""
    from docscrawl.urls import normalize_url

    client = Client.get_or_none(Client.slug == slug)
    if client is None:
        raise InvalidRequest(f"There is no client {slug!r}; `docscrawl list` shows the clients.")
    pages = {
        page.id: page
        for page in Page.select(
            Page.id, Page.url, Page.canonical_url, Page.fetched_at, Page.content_hash,
            Page.word_count,
        ).where(Page.client == client)
    }  # fmt: skip
    groups = _Groups()
    by_url: dict[str, list[int]] = defaultdict(list)
    by_text: dict[str, list[int]] = defaultdict(list)
    for page in pages.values():
        by_url[normalize_url(page.url)].append(page.id)
        if page.word_count:  # empty pages all share one hash without being one page
            by_text[page.content_hash].append(page.id)
    for ids in by_url.values():
        if len(ids) > 1:
            groups.union(ids, "same URL")
    for ids in by_text.values():
        if len(ids) > 1:
            groups.union(ids, "same main text")

    report_groups, moves = [], []
    for ids in groups.groups().values():
        ordered = sorted((pages[i] for i in ids), key=keep_order)
        kept, doomed = ordered[0], ordered[1:]
        report_groups.append(DuplicateGroup(kept.url, [p.url for p in doomed], groups.reasons(ids)))
        moves.extend((p.id, kept.id) for p in doomed)
    report_groups.sort(key=lambda group: group.kept)
    if moves and not dry_run:
        _remove(moves)
    report = DedupeReport(slug, dry_run, report_groups)
    if near:
        removed = {doomed for doomed, _ in moves}
        report.near = near_duplicates(client.id, exclude=removed)
    return report


def _remove(moves: list[tuple[int, int]]) -> None:
    """Delete duplicate pages, moving their job history onto the page that is kept."""
    with models.write_transaction():
        for doomed, kept in moves:
            kept_jobs = JobPage.select(JobPage.job).where(JobPage.page == kept)
            JobPage.update(page=kept).where(
                (JobPage.page == doomed) & JobPage.job.not_in(kept_jobs)
            ).execute()
            JobPage.delete().where(JobPage.page == doomed).execute()
            Page.delete().where(Page.id == doomed).execute()


def simhash(text: str) -> int:
    """A 64-bit simhash of the text's word 3-shingles."""
    words = WORD.findall(text.lower())
    shingles = [" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))]
    weights = [0] * 64
    for shingle in shingles:
        value = int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if value >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if weights[bit] > 0)


def near_duplicates(
    client_id: int, exclude: set[int] = frozenset(), distance: int = NEAR_DISTANCE
) -> list[NearDuplicate]:
    """Pairs of the client's pages whose main texts are within `distance` simhash bits."""
    hashes = [
        (url, simhash(text))
        for page_id, url, text in Page.select(Page.id, Page.url, Page.text)
        .where((Page.client == client_id) & (Page.word_count > 0))
        .tuples()
        if page_id not in exclude
    ]
    # Pigeonhole: two hashes within `distance` bits agree on at least one of distance+1 bands.
    bands = distance + 1
    width = 64 // bands
    buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, (_, value) in enumerate(hashes):
        for band in range(bands):
            buckets[(band, (value >> (band * width)) & ((1 << width) - 1))].append(index)
    pairs: dict[tuple[int, int], int] = {}
    for members in buckets.values():
        for a_pos, a in enumerate(members):
            for b in members[a_pos + 1 :]:
                key = (min(a, b), max(a, b))
                if key not in pairs:
                    bits = (hashes[a][1] ^ hashes[b][1]).bit_count()
                    if 0 < bits <= distance or (bits == 0 and hashes[a][0] != hashes[b][0]):
                        pairs[key] = bits
    found = [
        NearDuplicate(*sorted((hashes[a][0], hashes[b][0])), bits) for (a, b), bits in pairs.items()
    ]
    return sorted(found, key=lambda pair: (pair.distance, pair.first))
