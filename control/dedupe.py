"""Find and remove a client's duplicate pages, and report near-duplicates.

Exact duplicates are rows of the same normalised URL (left by older data or by a change in the
normalisation rules) and different URLs with the same main-text hash. Near-duplicates are pages
whose main texts have simhashes a few bits apart; they are reported, never removed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import peewee

from control.exceptions import InvalidRequest
from docscrawl import models
from docscrawl.models import Client, JobPage, Page

NEAR_DISTANCE = 3  # bits of 64: pages this close are near-duplicates
_CHUNK = 500  # ids in one IN (...)


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


def keep_order(page: Any) -> tuple:
    """Which page of a group survives: the canonical URL first, then the shortest, then newest.

    `page` is a Page or a row with its id, url, canonical_url and fetched_at.
    """
    from docscrawl.urls import normalize_url

    is_canonical = page.canonical_url is not None and normalize_url(page.canonical_url) == page.url
    return (not is_canonical, len(page.url), -page.fetched_at.timestamp(), page.id)


# A URL that normalize_url returns unchanged: http(s), a lower-case ASCII host, a port that is
# not the default, and a path of plain segments (none empty, none starting with a dot, nothing
# to percent-encode), without query or fragment. A stored URL is normalised when it is written,
# so nearly all match; normalize_url costs ten times this check (tests/test_cli_dedupe.py
# checks that every URL matched is one normalize_url keeps).
_PLAINLY_NORMAL = re.compile(
    r"(https?)://(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    r"(?::([1-9][0-9]{0,4}))?/(?:[\w~-][\w~.-]*/)*(?:[\w~-][\w~.-]*)?",
    re.ASCII,
)


def plainly_normal(url: str) -> bool:
    """True if url is surely in normal form (normalize_url(url) == url), without normalising it."""
    match = _PLAINLY_NORMAL.fullmatch(url)
    if match is None:
        return False
    # docscrawl.urls' DEFAULT_PORTS and INDEX_FILES, spelled out: importing that module loads
    # w3lib, which every CLI command (this module is imported by control.cli) would pay for.
    scheme, port = match.groups()
    if port is not None and (int(port) > 65535 or port == ("80" if scheme == "http" else "443")):
        return False
    return not url.endswith(("/index.html", "/index.htm"))


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
    client = Client.get_or_none(Client.slug == slug)
    if client is None:
        raise InvalidRequest(f"There is no client {slug!r}; `docscrawl list` shows the clients.")
    groups = _Groups()
    for ids in _same_url(client.id):
        groups.union(ids, "same URL")
    for ids in _same_text(client.id):
        groups.union(ids, "same main text")

    members = groups.groups()
    pages = _keep_fields([page_id for ids in members.values() for page_id in ids])
    report_groups, moves = [], []
    for ids in members.values():
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


def _chunks(items: list) -> Iterator[list]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _same_url(client_id: int) -> list[list[int]]:
    """Ids of the client's pages stored under URLs that normalise to one, group by group.

    Stored URLs are normalised, so only those that are not in today's normal form (older data,
    or a change of the rules) can join a group: with the page stored under their normal form,
    if any, and with each other. The (client, url) index holds the URLs and ids.
    """
    from docscrawl.urls import normalize_url

    by_url: dict[str, list[int]] = defaultdict(list)
    for page_id, url in models.stream(_urls_query(client_id)):
        if not plainly_normal(url) and (normal := normalize_url(url)) != url:
            by_url[normal].append(page_id)
    for chunk in _chunks(list(by_url)):
        query = Page.select(Page.id, Page.url).where(
            (Page.client == client_id) & Page.url.in_(chunk)
        )
        for page_id, url in query.tuples():
            by_url[url].append(page_id)
    return [ids for ids in by_url.values() if len(ids) > 1]


def _urls_query(client_id: int) -> peewee.Select:
    """(id, url) of each of the client's pages."""
    # `url >= ''` (every URL) has SQLite read them from the (client, url) index alone: on
    # client_id only, it may take another index on client and look up every row.
    return (
        Page.select(Page.id, Page.url).where((Page.client == client_id) & (Page.url >= "")).tuples()
    )


def _same_text(client_id: int) -> list[list[int]]:
    """Ids of the client's non-empty pages that share a main-text hash, group by group."""
    by_text: dict[str, list[int]] = defaultdict(list)
    for page_id, digest in models.stream(_shared_text_query(client_id)):
        by_text[digest].append(page_id)
    return [ids for ids in by_text.values() if len(ids) > 1]


def _shared_text_query(client_id: int) -> peewee.Select:
    """(id, hash) of the client's non-empty pages whose hash is stored more than once."""
    # The hashes stored more than once come from the content_hash index alone (every client's),
    # then the rows that hold them. Reading the client's rows instead would read each one whole:
    # the hash and word count sit after the text. `+ 0` keeps SQLite off the client indexes,
    # which would lead it to do just that.
    shared = (
        Page.select(Page.content_hash)
        .group_by(Page.content_hash)
        .having(peewee.fn.COUNT(peewee.SQL("*")) > 1)
    )
    return (
        Page.select(Page.id, Page.content_hash)
        .where(
            Page.content_hash.in_(shared)
            & ((Page.client + 0) == client_id)
            & (Page.word_count != 0)  # empty pages all share one hash without being one page
        )
        .tuples()
    )


def _keep_fields(page_ids: list[int]) -> dict[int, Any]:
    """id -> the row keep_order reads, for these pages."""
    rows = {}
    for chunk in _chunks(page_ids):
        query = Page.select(Page.id, Page.url, Page.canonical_url, Page.fetched_at)
        rows.update((row.id, row) for row in query.where(Page.id.in_(chunk)).namedtuples())
    return rows


def _remove(moves: list[tuple[int, int]]) -> None:
    """Delete duplicate pages, moving their job history onto the page that is kept.

    A job that saw the kept page keeps that sighting; one that saw only duplicates keeps the
    sighting of the first duplicate in `moves` (the order of keep_order). A few set-based
    statements per chunk of duplicates, in one transaction.
    """
    with models.write_transaction():
        for chunk in _chunks(moves):
            kept_of = dict(chunk)
            doomed = list(kept_of)
            rows = JobPage.select(JobPage.id, JobPage.job, JobPage.page).where(
                JobPage.page.in_(doomed + list(set(kept_of.values())))
            )
            sightings: dict[int, list[tuple[int, int]]] = defaultdict(list)  # page -> (job, row)
            for row_id, job_id, page_id in rows.tuples():
                sightings[page_id].append((job_id, row_id))
            taken = {(page_id, job_id) for page_id in set(kept_of.values())
                     for job_id, _ in sightings[page_id]}  # fmt: skip
            onto: dict[int, int] = {}  # job_page row -> the kept page it moves to
            for page_id in doomed:
                for job_id, row_id in sightings[page_id]:
                    if (kept_of[page_id], job_id) not in taken:
                        taken.add((kept_of[page_id], job_id))
                        onto[row_id] = kept_of[page_id]
            for part in _chunks(list(onto.items())):
                JobPage.update(page=peewee.Case(JobPage.id, part)).where(
                    JobPage.id.in_([row_id for row_id, _ in part])
                ).execute()
            JobPage.delete().where(JobPage.page.in_(doomed)).execute()
            Page.delete().where(Page.id.in_(doomed)).execute()


def near_duplicates(
    client_id: int, exclude: set[int] = frozenset(), distance: int = NEAR_DISTANCE
) -> list[NearDuplicate]:
    """Pairs of the client's pages whose main texts are within `distance` simhash bits.

    From the fingerprints stored with the pages (control/near_duplicates.py), closest first.
    """
    from control.near_duplicates import near_pairs

    return [NearDuplicate(*pair) for pair in near_pairs(client_id, exclude, distance)]
