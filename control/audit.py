"""A job's pages whose extraction should be checked, judged from the audit stored with each.

A page is flagged when its main text kept less than a share of its visible words (its
``text_share`` below ``DOCSCRAWL_AUDIT_MIN_TEXT_SHARE``, 0.2 by default, or ``--below``), when
the main content lost a heading, a code block or a table the page had, or when no region of the
page could be told from its furniture (the rule ``body``: the whole page was kept). Pages stored
before the audit existed (schema version 6) have an empty audit and are never flagged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import peewee

from control import environment, jobs
from control.exceptions import InvalidRequest
from docscrawl import drivers, models

# The text share below which a page is flagged; DOCSCRAWL_AUDIT_MIN_TEXT_SHARE overrides it.
MIN_TEXT_SHARE = 0.2

# Why a page is flagged (FlaggedPage.reasons), in the order they are listed.
LOW_TEXT_SHARE = "low_text_share"
LOST_HEADINGS = "lost_headings"
LOST_CODE_BLOCKS = "lost_code_blocks"
LOST_TABLES = "lost_tables"
NO_MAIN_REGION = "no_main_region"
# The audit's [found, kept] pairs, with the reason each gives and its name in words.
COUNTED = (
    ("headings", LOST_HEADINGS, "headings"),
    ("code_blocks", LOST_CODE_BLOCKS, "code blocks"),
    ("tables", LOST_TABLES, "tables"),
)


@dataclass(frozen=True)
class FlaggedPage:
    """A stored page whose audit says its extraction should be checked, and why."""

    url: str
    text_share: float
    headings: tuple[int, int]  # (found, kept)
    code_blocks: tuple[int, int]
    tables: tuple[int, int]
    rule: str
    reasons: tuple[str, ...]
    min_text_share: float

    def lost(self) -> int:
        """How many headings, code blocks and tables the main content lost."""
        return sum(found - kept for found, kept in (self.headings, self.code_blocks, self.tables))

    def why(self) -> str:
        """The reasons in words: "text share 0.31 < 0.5; lost 2 of 5 headings"."""
        words = []
        if LOW_TEXT_SHARE in self.reasons:
            words.append(f"text share {self.text_share:g} < {self.min_text_share:g}")
        for name, reason, label in COUNTED:
            if reason in self.reasons:
                found, kept = getattr(self, name)
                words.append(f"lost {found - kept} of {found} {label}")
        if NO_MAIN_REGION in self.reasons:
            words.append("no main region found: the whole page was kept")
        return "; ".join(words)

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "text_share": self.text_share,
            "headings_found": self.headings[0],
            "headings_kept": self.headings[1],
            "code_blocks_found": self.code_blocks[0],
            "code_blocks_kept": self.code_blocks[1],
            "tables_found": self.tables[0],
            "tables_kept": self.tables[1],
            "rule": self.rule,
            "reasons": list(self.reasons),
        }


def min_text_share(below: float | None = None) -> float:
    """The threshold: ``below`` if given, else DOCSCRAWL_AUDIT_MIN_TEXT_SHARE, else 0.2."""
    if below is None:
        configured = environment.audit_min_text_share()
        return MIN_TEXT_SHARE if configured is None else configured
    if not 0 < below <= 1:
        raise InvalidRequest(f"The text share {below:g} is not greater than 0 and at most 1.")
    return below


def judge(url: str, audit: dict[str, Any] | None, threshold: float) -> FlaggedPage | None:
    """The page as flagged, or None when its audit is empty or shows nothing lost."""
    if not audit:
        return None
    share = _number(audit.get("text_share"), 1.0)
    pairs = {name: _found_kept(audit.get(name)) for name, _, _ in COUNTED}
    reasons = [LOW_TEXT_SHARE] if share < threshold else []
    reasons += [reason for name, reason, _ in COUNTED if pairs[name][1] < pairs[name][0]]
    if audit.get("rule") == "body":
        reasons.append(NO_MAIN_REGION)
    if not reasons:
        return None
    return FlaggedPage(
        url=url,
        text_share=share,
        headings=pairs["headings"],
        code_blocks=pairs["code_blocks"],
        tables=pairs["tables"],
        rule=str(audit.get("rule") or "none"),
        reasons=tuple(reasons),
        min_text_share=threshold,
    )


def flagged_pages(
    job_id: int, below: float | None = None, limit: int | None = None
) -> list[FlaggedPage]:
    """The job's flagged pages, worst first: lowest text share, then most lost, then URL."""
    jobs.get_job(job_id)  # "There is no job N." for an unknown job
    threshold = min_text_share(below)
    flagged = [page for page in _judged(job_id, threshold) if page is not None]
    flagged.sort(key=lambda page: (page.text_share, -page.lost(), page.url))
    return flagged if limit is None else flagged[:limit]


def flagged_count(job_id: int, below: float | None = None) -> int:
    """How many of the job's stored pages are flagged (what `status` shows): COUNTs over the
    audit's derived columns (models.audit_columns), not a JSON parse per page."""
    return sum(query.count() for query in _flagged_queries(job_id, min_text_share(below)))


def _flagged_queries(job_id: int, threshold: float) -> list[Any]:
    """The job's flagged pages, as four queries with no row in common: pages that lost a
    heading, code block or table (or were kept whole), and the others whose text share is low;
    each among the pages whose last job this is, and among the others this job saw.

    Each is one range of the index on page (audit_lost, audit_share, job_id), which holds
    every column they test: flagged pages are few, and a page's row, with its text before the
    audit columns, is never read to count them (SQLite read the job's 200,000 rows before, 11 s
    on a big store; issue 16). The pages another job stored last are fewer still, and each is
    looked up in job_page (one OR of both made PostgreSQL hash the job's 200,000 job_page rows).
    """
    Page, JobPage = models.Page, models.JobPage
    # The job's pages as `status` counts them and `export --job` exports them: every page it
    # saw (pages move to the latest job that saw them), with the audit the store holds now.
    seen = JobPage.select(JobPage.id).where(
        (JobPage.page == Page.id) & (JobPage.job == job_id) & (JobPage.change != models.REMOVED)
    )
    # `job_id + 0`: never the index on job_id alone. With it the planner may read every page
    # row of the job to test its audit (a big job's 200,000 rows, 2 s; it guesses a job has a
    # store's average number of pages); without it, the covering index's range is all it reads.
    stored_last = (Page.job + 0) == job_id
    seen_too = (Page.job.is_null() | (Page.job != job_id)) & peewee.fn.EXISTS(seen)
    lost = _rare(Page.audit_lost == True)  # noqa: E712 - SQL
    low = (Page.audit_lost == False) & _rare(Page.audit_share < threshold)  # noqa: E712 - SQL
    return [
        Page.select(Page.url, Page.extraction_audit).where(
            Page.audit_share.is_null(False) & flagged & of_job
        )
        for flagged in (lost, low)
        for of_job in (stored_last, seen_too)
    ]


def _rare(condition: Any) -> Any:
    """condition, marked as true of few rows for SQLite's planner. Flagged pages are few, but
    its statistics keep only the average rows per value of the index's columns (audit_lost has
    two): without the hint it may scan every page row of the store instead of the index."""
    if drivers.is_sqlite(models.database.obj):
        return peewee.fn.unlikely(condition)
    return condition


def _judged(job_id: int, threshold: float) -> Iterator[FlaggedPage | None]:
    for query in _flagged_queries(job_id, threshold):
        for url, audit in query.tuples().iterator():
            yield judge(url, audit if isinstance(audit, dict) else None, threshold)


def _number(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _found_kept(value: Any) -> tuple[int, int]:
    """An audit's [found, kept] pair; (0, 0) for anything else (nothing to say it lost)."""
    try:
        found, kept = value
        return int(found), int(kept)
    except (TypeError, ValueError):
        return 0, 0
