"""A client's near-duplicate pages, from the fingerprints stored with them.

Each page's 64-bit simhash is computed once, when it is stored (docscrawl/fingerprints.py);
here only the (id, fingerprint) pairs are read, from an index, and compared by pigeonhole
bands: two fingerprints within d bits agree on at least one of d+1 bands, so comparing the
fingerprints that share a band finds every pair within d bits that comparing all pairs would.
Pages that have no fingerprint yet (stored by plain SQL, or an update of their text cleared
it) get theirs first: their text is the only text read.
"""

from __future__ import annotations

from collections.abc import Iterable

from docscrawl import fingerprints, models
from docscrawl.models import Page

CHUNK = 500  # pages a statement when fingerprints are filled in, ids in one IN (...)


def fill_missing(client_id: int) -> int:
    """Fingerprint the client's pages with text but no fingerprint; returns how many."""
    missing = Page.select(Page.id).where(
        (Page.client == client_id) & Page.simhash.is_null() & (Page.word_count > 0)
    )
    ids = [page_id for (page_id,) in models.stream(missing.tuples())]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        texts = Page.select(Page.id, Page.text).where(Page.id << chunk).tuples()
        values = [(page_id, fingerprints.fingerprint(text)) for page_id, text in texts]
        with models.write_transaction():
            fingerprints.write(models.database.obj, values)
    return len(ids)


def close_pairs(values: list[int], distance: int) -> dict[tuple[int, int], int]:
    """(i, j) -> bits apart, i < j, for the unsigned fingerprints within distance bits."""
    bands = distance + 1
    width = 64 // bands
    mask = (1 << width) - 1
    pairs: dict[tuple[int, int], int] = {}
    for band in range(bands):
        shift = band * width
        buckets: dict[int, list[int]] = {}
        for index, value in enumerate(values):
            buckets.setdefault(value >> shift & mask, []).append(index)
        for members in buckets.values():
            if len(members) < 2:
                continue
            for position, a in enumerate(members):
                first = values[a]
                for b in members[position + 1 :]:
                    if (a, b) not in pairs:
                        bits = (first ^ values[b]).bit_count()
                        if bits <= distance:
                            pairs[(a, b)] = bits
    return pairs


def near_pairs(client_id: int, exclude: Iterable[int], distance: int) -> list[tuple[str, str, int]]:
    """(first URL, second URL, bits apart) for the client's pages with text within distance
    bits, closest first, then by URL."""
    fill_missing(client_id)
    excluded = set(exclude)
    query = Page.select(Page.id, Page.simhash).where(
        (Page.client == client_id) & (Page.word_count > 0) & Page.simhash.is_null(False)
    )
    ids: list[int] = []
    values: list[int] = []
    for page_id, stored in models.stream(query.tuples()):
        if page_id not in excluded:
            ids.append(page_id)
            values.append(fingerprints.from_stored(stored))
    pairs = close_pairs(values, distance)
    del values
    wanted = sorted({ids[index] for pair in pairs for index in pair})
    urls: dict[int, str] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        urls.update(Page.select(Page.id, Page.url).where(Page.id << chunk).tuples())
    found = [(*sorted((urls[ids[a]], urls[ids[b]])), bits) for (a, b), bits in pairs.items()]
    return sorted(found, key=lambda pair: (pair[2], pair[0], pair[1]))
