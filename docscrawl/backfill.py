"""Work over a big table in id ranges, reporting progress: what a migration that fills a new
column or index for every existing row does (docscrawl/fingerprints.py, search_index.py)."""

from __future__ import annotations

from collections.abc import Callable


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
