"""Work over a big table in id ranges, reporting progress: what a migration that fills a new
column or index for every existing row does (docscrawl/fingerprints.py, search_index.py)."""

from __future__ import annotations

from collections.abc import Callable

# Called with (task, done, total, unit) as a migration fills a table, for example
# ("Indexing pages for search", 50000, 120000, "sections"). The CLI sets one that writes a line
# on stderr (control/cli.py); each task also logs its progress at INFO.
progress_reporter: Callable[[str, int, int, str], None] | None = None


def report_progress(task: str, done: int, total: int, unit: str) -> None:
    if progress_reporter is not None:
        progress_reporter(task, done, total, unit)


def in_id_ranges(
    low: int,
    high: int,
    chunk: int,
    every: int,
    step: Callable[[int, int], int],
    report: Callable[[int], None],
) -> int:
    """Call step(after, up_to) for consecutive id ranges of `chunk` from low to high; it returns
    how many rows it handled. report(done) runs every `every` rows and at the end. Returns how
    many rows were handled in all.

    Id ranges, not OFFSET: a chunk costs the same however far in it is; a range may hold fewer
    rows (gaps in the ids)."""
    done = reported = 0
    start = low - 1
    while start < high:
        done += step(start, start + chunk)
        start += chunk
        if done - reported >= every or start >= high:
            reported = done
            report(done)
    return done
