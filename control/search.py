"""Full-text search over the store's page sections (the index: docscrawl/search_index.py).

A query is words and "quoted phrases", every one of which must appear in a section's title,
headings or text; nothing else in it is syntax, so no input is a query error. Results are
pages, each with its best section, best first: a page whose title is the query comes first,
then bm25 (SQLite FTS5) or ts_rank (PostgreSQL), with the title weighted above the headings and
the headings above the text.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import peewee

from control.exceptions import InvalidRequest
from docscrawl import models, search_index
from docscrawl.models import Client, Page, PageSection

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
# Where a snippet's matched words start and end; each output (CLI, JSON) renders them its way.
MARK_START = "\ue000"
MARK_END = "\ue001"
SNIPPET_WORDS = 24
# bm25 column weights (search_index.SQLITE_COLUMNS): the title, six heading levels, the text.
SQLITE_WEIGHTS = (10.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 1.0)
SQLITE_TEXT_COLUMN = 7
# A query matching more sections than this is ranked by its title and heading matches first
# (see _best_sqlite): scoring a million matches takes over a second.
RANK_ALL_UP_TO = 20_000
RANK_ALL_UP_TO_PG = 4_000  # ts_rank reads each match's tsvector: about 40 µs a match
_TERM = re.compile(r'"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class SearchHit:
    """One page found: its best section, with a snippet of it."""

    page_id: int
    url: str
    anchor_url: str
    title: str | None
    heading: str | None  # the headings path of the section ("Install > From source")
    snippet: str  # with MARK_START / MARK_END around the matched words
    rank: float  # higher is better (bm25 negated on SQLite, ts_rank on PostgreSQL)
    client: str
    job_id: int | None

    def as_dict(self, start: str = "[[", end: str = "]]") -> dict[str, Any]:
        document = asdict(self)
        document["snippet"] = mark(self.snippet, start, end)
        return document


def mark(snippet: str, start: str, end: str) -> str:
    """The snippet with its match markers replaced by start and end."""
    return snippet.replace(MARK_START, start).replace(MARK_END, end)


def parse_query(query: str) -> list[str]:
    """The words and phrases of a query: each a run of text that must appear as it is.

    A double quote opens a phrase up to the next one; an unmatched quote is dropped. Terms with
    no letter or digit (``*``, ``-``) are left out: they cannot match a word.
    """
    terms = []
    for phrase, word in _TERM.findall(query):
        term = " ".join((phrase or word).replace('"', " ").split())
        if any(ch.isalnum() for ch in term):
            terms.append(term)
    return terms


def _fts5_query(terms: list[str]) -> str:
    # Each term an FTS5 string (its tokens a phrase): AND, OR, NEAR, *, ^, : inside are text.
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _websearch_query(terms: list[str]) -> str:
    # Quoted, so websearch_to_tsquery reads "or" and "-x" as words, not operators.
    return " ".join('"' + term + '"' for term in terms)


def search(
    query: str,
    *,
    client_slug: str | None = None,
    job_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[SearchHit]:
    """The pages that match query, best first, at most limit; in the store models are bound to."""
    terms = parse_query(query)
    if not terms:
        raise InvalidRequest(f"The query {query!r} has no word to search for.")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"The limit must be between 1 and {MAX_LIMIT}.")
    where = _page_filter(client_slug, job_id)
    db = models.database.obj
    title = " ".join(query.replace('"', " ").split())
    if search_index.is_sqlite(db):
        best = _best_sqlite(db, _fts5_query(terms), title, where, limit)
        snippets = _snippets_sqlite(db, _fts5_query(terms), [row[1] for row in best])
    else:
        best = _best_postgres(db, _websearch_query(terms), title, where, limit)
        snippets = _snippets_postgres(db, _websearch_query(terms), [row[1] for row in best])
    return _hits(best, snippets)


def _page_filter(client_slug: str | None, job_id: int | None) -> tuple[str, tuple]:
    """SQL (on alias p, the page) and its params for the pages the filters allow."""
    from control.export import pages_where  # the one definition of "a job's pages"

    conditions = []
    if client_slug is not None:
        conditions.append(pages_where(client_slug=client_slug)[0])
    if job_id is not None:
        conditions.append(pages_where(job_id=job_id)[0])
    if not conditions:
        return "", ()
    condition = conditions[0] if len(conditions) == 1 else conditions[0] & conditions[1]
    sql, params = Page.select(Page.id).where(condition).sql()
    return f"AND p.id IN ({sql})", tuple(params)


def _best_sqlite(
    db: peewee.Database, match: str, title: str, where: tuple[str, tuple], limit: int
) -> list[tuple]:
    table = search_index.FTS_TABLE
    (matching,) = db.execute_sql(
        f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {table} MATCH ? LIMIT ?)",
        (match, RANK_ALL_UP_TO + 1),
    ).fetchone()
    if matching <= RANK_ALL_UP_TO:
        return _ranked_sqlite(db, match, title, where, limit)
    # Too many sections to score every one (bm25 costs about 1 µs a match): rank the sections
    # whose title or headings match, which outrank the others for the same words anyway, then
    # further matching pages in store order.
    headings = "{" + search_index.SQLITE_COLUMNS.replace(", text", "").replace(",", "") + "}"
    best = _ranked_sqlite(db, f"{headings} : ({match})", title, where, limit)
    if len(best) < limit:
        best += _more_sqlite(db, match, where, limit - len(best), {row[0] for row in best})
    return best


def _ranked_sqlite(
    db: peewee.Database, match: str, title: str, where: tuple[str, tuple], limit: int
) -> list[tuple]:
    weights = ", ".join(str(weight) for weight in SQLITE_WEIGHTS)
    condition, params = where
    # The best section of each page (SQLite's bare columns take the row of MIN()); a page whose
    # title is the query (any case) first. MATERIALIZED: bm25() works only in the FTS query.
    sql = f"""
        WITH hits AS MATERIALIZED (
            SELECT rowid AS id, bm25({search_index.FTS_TABLE}, {weights}) AS score
            FROM {search_index.FTS_TABLE} WHERE {search_index.FTS_TABLE} MATCH ?
        )
        SELECT s.page_id, s.id, MIN(h.score) AS best, lower(s.lvl0) = lower(?) AS exact
        FROM hits h JOIN page_section s ON s.id = h.id JOIN page p ON p.id = s.page_id
        WHERE 1 = 1 {condition}
        GROUP BY s.page_id
        ORDER BY exact DESC, best, s.page_id
        LIMIT ?
    """
    rows = db.execute_sql(sql, (match, title, *params, limit)).fetchall()
    return [(page_id, section_id, -score) for page_id, section_id, score, _ in rows]


def _more_sqlite(
    db: peewee.Database, match: str, where: tuple[str, tuple], limit: int, seen: set[int]
) -> list[tuple]:
    """Up to limit more matching pages (not in seen), in store order."""
    table = search_index.FTS_TABLE
    condition, params = where
    cursor = db.execute_sql(
        f"SELECT s.page_id, s.id FROM {table} h JOIN page_section s ON s.id = h.rowid "
        f"JOIN page p ON p.id = s.page_id WHERE {table} MATCH ? {condition}",
        (match, *params),
    )
    first: dict[int, int] = {}
    for page_id, section_id in cursor:  # streamed: stops reading once enough pages are found
        if page_id not in seen and page_id not in first:
            first[page_id] = section_id
            if len(first) == limit:
                break
    # Unscored (rank 0): bm25 of even one row costs a pass over every match (its IDF).
    return [(page_id, section_id, 0.0) for page_id, section_id in first.items()]


def _snippets_sqlite(db: peewee.Database, match: str, section_ids: list[int]) -> dict[int, str]:
    if not section_ids:
        return {}
    marks = ", ".join("?" for _ in section_ids)
    table = search_index.FTS_TABLE
    # From the text; a section matched only by its title or headings shows its start.
    rows = db.execute_sql(
        f"SELECT rowid, snippet({table}, {SQLITE_TEXT_COLUMN}, ?, ?, '…', {SNIPPET_WORDS}) "
        f"FROM {table} WHERE {table} MATCH ? AND rowid IN ({marks})",
        (MARK_START, MARK_END, match, *section_ids),
    ).fetchall()
    return dict(rows)


def _best_postgres(
    db: peewee.Database, query: str, title: str, where: tuple[str, tuple], limit: int
) -> list[tuple]:
    column = search_index.PG_COLUMN
    (matching,) = db.execute_sql(
        f"SELECT count(*) FROM (SELECT 1 FROM page_section "
        f"WHERE {column} @@ websearch_to_tsquery('simple', %s) LIMIT %s) m",
        (query, RANK_ALL_UP_TO_PG + 1),
    ).fetchone()
    if matching <= RANK_ALL_UP_TO_PG:
        return _ranked_postgres(db, query, title, where, limit, f"s.{column} @@ q")
    # As on SQLite (_best_sqlite): rank the title and heading matches, then the others.
    levels = ", ".join(f"s.{level}" for level in models.SECTION_LEVELS)
    headings = f"{search_index.PG_HEADINGS_FUNCTION}({levels})"  # its index's expression
    best = _ranked_postgres(db, query, title, where, limit, f"{headings} @@ q AND s.{column} @@ q")
    if len(best) < limit:
        best += _more_postgres(db, query, where, limit - len(best), {row[0] for row in best})
    return best


def _ranked_postgres(
    db: peewee.Database,
    query: str,
    title: str,
    where: tuple[str, tuple],
    limit: int,
    matches: str,
) -> list[tuple]:
    condition, params = where
    column = search_index.PG_COLUMN
    sql = f"""
        WITH hits AS (
            SELECT DISTINCT ON (s.page_id) s.page_id, s.id, ts_rank(s.{column}, q) AS score,
                lower(s.lvl0) = lower(%s) AS exact
            FROM page_section s, websearch_to_tsquery('simple', %s) q
            WHERE {matches}
            ORDER BY s.page_id, score DESC, s.id
        )
        SELECT h.page_id, h.id, h.score, h.exact
        FROM hits h JOIN page p ON p.id = h.page_id
        WHERE TRUE {condition}
        ORDER BY h.exact DESC, h.score DESC, h.page_id
        LIMIT %s
    """
    rows = db.execute_sql(sql, (title, query, *params, limit)).fetchall()
    return [(page_id, section_id, float(score)) for page_id, section_id, score, _ in rows]


def _more_postgres(
    db: peewee.Database, query: str, where: tuple[str, tuple], limit: int, seen: set[int]
) -> list[tuple]:
    """Up to limit more matching pages (not in seen), unscored (rank 0)."""
    condition, params = where
    rows = db.execute_sql(
        f"SELECT s.page_id, s.id FROM page_section s JOIN page p ON p.id = s.page_id "
        f"WHERE s.{search_index.PG_COLUMN} @@ websearch_to_tsquery('simple', %s) {condition} "
        "LIMIT %s",
        (query, *params, (limit + len(seen)) * 20),
    ).fetchall()
    first: dict[int, int] = {}
    for page_id, section_id in rows:
        if page_id not in seen and page_id not in first and len(first) < limit:
            first[page_id] = section_id
    return [(page_id, section_id, 0.0) for page_id, section_id in first.items()]


def _snippets_postgres(db: peewee.Database, query: str, section_ids: list[int]) -> dict[int, str]:
    if not section_ids:
        return {}
    options = (
        f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_WORDS}, MinWords=8, "
        'MaxFragments=2, FragmentDelimiter=" … "'
    )
    rows = db.execute_sql(
        "SELECT id, ts_headline('simple', left(text, %s), websearch_to_tsquery('simple', %s), %s) "
        "FROM page_section WHERE id = ANY(%s)",
        (search_index.PG_TEXT_LIMIT, query, options, section_ids),
    ).fetchall()
    return dict(rows)


def _hits(best: list[tuple], snippets: dict[int, str]) -> list[SearchHit]:
    if not best:
        return []
    sections = {
        section.id: section
        for section in PageSection.select().where(PageSection.id << [row[1] for row in best])
    }
    pages = {
        row[0]: row
        for row in Page.select(Page.id, Page.url, Page.title, Page.job, Client.slug)
        .join(Client)
        .where(Page.id << [row[0] for row in best])
        .tuples()
    }
    hits = []
    for page_id, section_id, rank in best:
        section = sections[section_id]
        _, url, title, job, slug = pages[page_id]
        path = [getattr(section, level) for level in models.SECTION_LEVELS[1:]]
        heading = " > ".join(part for part in path if part) or None
        hits.append(
            SearchHit(
                page_id=page_id,
                url=url,
                anchor_url=section.anchor_url,
                title=title,
                heading=heading,
                snippet=" ".join((snippets.get(section_id) or "").split()),
                rank=round(rank, 6),
                client=slug,
                job_id=job,
            )
        )
    return hits
