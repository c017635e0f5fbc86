"""The change report of a crawl: what it found added, removed and changed since the client's
previous completed crawl, with the sections that changed, and noise left out by rule.

Written once per completed scheduled crawl by the server's scheduler, kept with the job
(``change_report``), shown by `status` and the dashboard, and announced by the webhook event
``job.changes``, raised in the same transaction as the report is written.

Noise: a page whose only differences are lines such as "Last updated on 3 Dec 2026" or a build
timestamp is not reported as changed; it is listed under ``ignored`` with the rule that matched,
so a reader can see what was left out and why.
"""

from __future__ import annotations

import re
from typing import Any

from control import changes
from control.history import versions_seen
from docscrawl import job_state, models
from docscrawl.models import ChangeReport, Job

# Each rule: a name shown in the report, and the lines it makes ignorable.
NOISE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "last-updated line",
        re.compile(
            r"(?i)^\W*(page\s+)?(last\s+(updated|modified|edited|reviewed|changed)|updated|"
            r"modified|edited)(\s+(on|at|by))?\b.{0,80}$"
        ),
    ),
    (
        "build stamp",
        re.compile(
            r"(?i)^\W*(built|generated|rendered|published|deployed|build|revision|commit)\b"
            r"(\s+(on|at|with|by|from))?.{0,80}(\d{4}-\d{2}-\d{2}|\b[0-9a-f]{7,40}\b|\d{1,2}:\d{2})"
        ),
    ),
    ("copyright year", re.compile(r"(?i)^\W*(©|\(c\)|copyright)\s*[\d\s,\u2013-]*\d{4}\b.{0,80}$")),
)
# How many URLs of each kind a report lists (the counts are always complete).
MAX_LISTED = 200


def noise_rule(line: str) -> str | None:
    """The name of the rule that makes this line noise, if any."""
    stripped = line.strip()
    for name, pattern in NOISE_RULES:
        if pattern.search(stripped):
            return name
    return None


def _without_noise(markdown: str) -> tuple[list[str], set[str]]:
    kept, rules = [], set()
    for line in markdown.splitlines():
        rule = noise_rule(line)
        if rule is None:
            if line.strip():
                kept.append(line.rstrip())
        else:
            rules.add(rule)
    return kept, rules


def compare_markdown(old: str, new: str) -> tuple[bool, list[str]]:
    """(changed apart from noise, the noise rules that matched a differing line)."""
    old_lines, old_rules = _without_noise(old)
    new_lines, new_rules = _without_noise(new)
    if old_lines != new_lines:
        return True, []
    # Only noise differs: name the rules of the lines that differ.
    differing = set(old.splitlines()) ^ set(new.splitlines())
    rules = sorted({rule for line in differing if (rule := noise_rule(line))})
    return False, rules or sorted(old_rules | new_rules)


def changed_sections(url: str, old: str, new: str) -> list[dict[str, Any]]:
    """The sections (heading paths) added, removed or changed between two versions."""
    from docscrawl.extraction.sections import split_sections

    def by_path(markdown: str) -> dict[tuple, str]:
        found = {}
        for section in split_sections(url, None, markdown, []):
            levels = [section.hierarchy.get(f"lvl{n}") for n in range(1, 7)]
            path = tuple(level for level in levels if level) or ("(top)",)
            text, _ = _without_noise(section.markdown)
            found[path] = "\n".join(text)
        return found

    before, after = by_path(old), by_path(new)
    found = []
    for path in sorted(set(before) | set(after)):
        if path not in before:
            kind = "added"
        elif path not in after:
            kind = "removed"
        elif before[path] != after[path]:
            kind = "changed"
        else:
            continue
        found.append({"heading": " > ".join(path), "change": kind})
    return found


def _markdown(version: tuple[int, str | None] | None) -> str | None:
    """The Markdown of the version a job saw ((page id, hash) from history.versions_seen)."""
    if version is None or version[1] is None:
        return None
    from docscrawl import history

    return history.version_markdown(*version)


def build_report(job_id: int) -> dict[str, Any]:
    """The change report of a completed job against the client's previous completed crawl."""
    job = Job.get_by_id(job_id)
    previous = (
        Job.select(Job.id)
        .where((Job.client == job.client_id) & (Job.status == models.COMPLETED) & (Job.id < job.id))
        .order_by(Job.id.desc())
        .scalar()
    )
    if previous is None:
        pages = models.change_counts(job.id)
        return {
            "job_id": job.id,
            "previous_job_id": None,
            "summary": "the client's first completed crawl",
            "counts": {"added": pages["new"], "removed": 0, "changed": 0, "ignored": 0},
            "added": [],
            "removed": [],
            "changed": [],
            "ignored": [],
            "noise_rules": [name for name, _ in NOISE_RULES],
        }
    diff = changes.diff_jobs(previous, job.id)
    old_versions = versions_seen(previous, diff.changed)
    new_versions = versions_seen(job.id, diff.changed)
    changed, ignored = [], []
    for url in diff.changed:
        old, new = _markdown(old_versions.get(url)), _markdown(new_versions.get(url))
        if old is None or new is None:
            changed.append({"url": url, "sections": None})  # no history to compare with
            continue
        really, rules = compare_markdown(old, new)
        if really:
            changed.append({"url": url, "sections": changed_sections(url, old, new)})
        else:
            ignored.append({"url": url, "rules": rules})
    counts = {
        "added": len(diff.added),
        "removed": len(diff.removed),
        "changed": len(changed),
        "ignored": len(ignored),
    }
    return {
        "job_id": job.id,
        "previous_job_id": previous,
        "summary": ", ".join(f"{count} {kind}" for kind, count in counts.items()),
        "counts": counts,
        "added": diff.added[:MAX_LISTED],
        "removed": diff.removed[:MAX_LISTED],
        "changed": changed[:MAX_LISTED],
        "ignored": ignored[:MAX_LISTED],
        "noise_rules": [name for name, _ in NOISE_RULES],
    }


def pending_reports(limit: int = 5) -> list[int]:
    """Completed scheduled crawls that have no change report yet, oldest first."""
    from docscrawl.models import ScheduleRun

    query = (
        Job.select(Job.id)
        .join(ScheduleRun, on=(ScheduleRun.job == Job.id))
        .switch(Job)
        .join(ChangeReport, models.peewee.JOIN.LEFT_OUTER, on=(ChangeReport.job == Job.id))
        .where((Job.status == models.COMPLETED) & ChangeReport.id.is_null())
        .order_by(Job.id)
        .limit(limit)
    )
    return [job_id for (job_id,) in query.tuples()]


def write_report(job_id: int) -> dict[str, Any] | None:
    """Build and keep the job's report, raising ``job.changes`` in the same transaction."""
    report = build_report(job_id)
    with models.write_transaction():
        if ChangeReport.select().where(ChangeReport.job == job_id).exists():
            return None  # another server wrote it meanwhile
        ChangeReport.create(job=job_id, report=report)
        job_state.raise_event(Job.get_by_id(job_id), "job.changes")
    return report
