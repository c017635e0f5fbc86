"""The full-text index over page sections (``page_section``), on SQLite and PostgreSQL.

SQLite: an FTS5 table, ``page_section_search``, with external content (``page_section``, so
the text is stored once) and rowid = ``page_section.id``. PostgreSQL: a
``search_vector`` tsvector column on ``page_section`` with a GIN index. Both index the page
title (``lvl0``), the headings path (``lvl1``..``lvl6``) and the section's text.

Triggers on ``page_section`` keep the index in step, in the transaction of the statement that
changed the section: the pipeline's ``write_sections``, a page's cascade delete (dedupe, a
deleted client or job), and ``migrate-store``'s copy all go through them, so no writer can
forget the index. The queries are in control/search.py.
"""

from __future__ import annotations

import logging

import peewee

from docscrawl.backfill import in_id_ranges, report_progress
from docscrawl.drivers import is_sqlite

logger = logging.getLogger(__name__)

FTS_TABLE = "page_section_search"
# The FTS5 table's columns: page_section's own (the title, the headings, the text).
SQLITE_COLUMNS = "lvl0, lvl1, lvl2, lvl3, lvl4, lvl5, lvl6, text"
PG_COLUMN = "search_vector"
PG_FUNCTION = "docscrawl_section_vector"
PG_HEADINGS_FUNCTION = "docscrawl_headings_vector"
# Sections indexed per statement when an existing store is indexed (the migration).
CHUNK = 5_000
# What the progress reporter is told every so many sections (and at the end).
PROGRESS_EVERY = 50_000
# PostgreSQL's tsvector holds at most 1 MB: the text of a huge section is indexed up to here.
PG_TEXT_LIMIT = 300_000
# How the FTS5 index merges its segments. Every statement that writes sections (a crawl's flush)
# leaves a segment. With FTS5's defaults (automerge 4: each write also does some merging), a
# flush paid for merges into the index's biggest segments: on a store with 110,000 sections a
# flush's sections took 4.5 times as long as on one with 50,000 (1.34 s against 0.30 s per
# 7,000 sections), and more as the store grew. With no incremental merging (automerge 0) and a
# level's segments merged only once it holds 64 (crisismerge), a flush costs the same on both
# (0.17 s), and a query reads at most 64 segments a level: no slower on 300,000 sections
# (BENCHMARKS.md, "The search index's merges").
AUTOMERGE = 0
CRISISMERGE = 64

# The build's progress goes to backfill.progress_reporter (the CLI: stderr) and the log.


def fts5_available(db: peewee.Database) -> bool:
    """Whether this SQLite library was built with FTS5."""
    rows = db.execute_sql("PRAGMA compile_options").fetchall()
    return any(row[0] == "ENABLE_FTS5" for row in rows) or _try_fts5(db)


def _try_fts5(db: peewee.Database) -> bool:
    try:
        db.execute_sql("CREATE VIRTUAL TABLE temp.docscrawl_fts5_probe USING fts5(x)")
    except peewee.OperationalError:
        return False
    db.execute_sql("DROP TABLE temp.docscrawl_fts5_probe")
    return True


def create_index(db: peewee.Database) -> int:
    """Create the index and its triggers, and index every section already stored.

    Idempotent; in the caller's transaction. Returns how many sections it indexed.
    """
    if is_sqlite(db):
        return _create_sqlite(db)
    return _create_postgres(db)


def _create_sqlite(db: peewee.Database) -> int:
    if not fts5_available(db):
        raise peewee.DatabaseError(
            "this Python's SQLite library has no FTS5, which full-text search needs; use a "
            "Python whose sqlite3 module has it (Debian's and python.org's do)"
        )
    # External content read from page_section itself (no copy of the text, no view: a view
    # over page_section would break the ALTER TABLEs of older migration steps).
    db.execute_sql(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({SQLITE_COLUMNS}, "
        "content='page_section', content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
    )
    tune_merges(db)
    new = ", ".join(f"new.{column}" for column in SQLITE_COLUMNS.split(", "))
    old = ", ".join(f"old.{column}" for column in SQLITE_COLUMNS.split(", "))
    insert = f"INSERT INTO {FTS_TABLE} (rowid, {SQLITE_COLUMNS}) VALUES (new.id, {new});"
    # External content: FTS5 removes a row given the values it indexed, which old.* are.
    delete = (
        f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, {SQLITE_COLUMNS}) "
        f"VALUES ('delete', old.id, {old});"
    )
    for event, body in (("insert", insert), ("delete", delete), ("update", delete + insert)):
        db.execute_sql(
            f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_{event} AFTER {event.upper()} "
            f"ON page_section BEGIN {body} END"
        )
    return _backfill(
        db,
        f"INSERT INTO {FTS_TABLE} (rowid, {SQLITE_COLUMNS}) SELECT id, {SQLITE_COLUMNS} "
        "FROM page_section WHERE id > ? AND id <= ?",
        already=db.execute_sql(f"SELECT count(*) FROM {FTS_TABLE}_docsize").fetchone()[0],
    )


def tune_merges(db: peewee.Database) -> None:
    """Set how the FTS5 index merges (AUTOMERGE, CRISISMERGE), in the index's config table."""
    if is_sqlite(db):
        for option, value in (("automerge", AUTOMERGE), ("crisismerge", CRISISMERGE)):
            db.execute_sql(
                f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rank) VALUES ('{option}', {value})"
            )


def _create_postgres(db: peewee.Database) -> int:
    args = ", ".join(f"lvl{level} text" for level in range(7))
    headings = " || ' ' || ".join(f"coalesce(lvl{level}, '')" for level in range(1, 7))
    db.execute_sql(
        f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}({args}, body text) RETURNS tsvector "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT "
        "setweight(to_tsvector('simple', coalesce(lvl0, '')), 'A') || "
        f"setweight(to_tsvector('simple', {headings}), 'B') || "
        f"setweight(to_tsvector('simple', left(coalesce(body, ''), {PG_TEXT_LIMIT})), 'D') $$"
    )
    columns = ", ".join(f"lvl{level}" for level in range(7))
    new_columns = ", ".join(f"NEW.lvl{level}" for level in range(7))
    db.execute_sql(
        f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}_trigger() RETURNS trigger LANGUAGE plpgsql "
        f"AS $$ BEGIN NEW.{PG_COLUMN} := {PG_FUNCTION}({new_columns}, NEW.text); "
        "RETURN NEW; END $$"
    )
    present = {column.name for column in db.get_columns("page_section")}
    if PG_COLUMN not in present:
        db.execute_sql(f"ALTER TABLE page_section ADD COLUMN {PG_COLUMN} tsvector")
    db.execute_sql(f"DROP TRIGGER IF EXISTS {PG_COLUMN} ON page_section")
    db.execute_sql(
        f"CREATE TRIGGER {PG_COLUMN} BEFORE INSERT OR UPDATE OF {columns}, text "
        f"ON page_section FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}_trigger()"
    )
    indexed = _backfill(
        db,
        f"UPDATE page_section SET {PG_COLUMN} = {PG_FUNCTION}({columns}, text) "
        f"WHERE id > %s AND id <= %s AND {PG_COLUMN} IS NULL",
        already=0,
    )
    # The title and headings alone (control/search.py ranks a very common word's matches there
    # first), indexed as an expression: no second column to keep.
    db.execute_sql(
        f"CREATE OR REPLACE FUNCTION {PG_HEADINGS_FUNCTION}({args}) RETURNS tsvector "
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT "
        f"to_tsvector('simple', coalesce(lvl0, '') || ' ' || {headings}) $$"
    )
    # After the backfill: building a GIN index once is much faster than growing it row by row.
    db.execute_sql(
        f"CREATE INDEX IF NOT EXISTS page_section_{PG_COLUMN} ON page_section "
        f"USING GIN ({PG_COLUMN})"
    )
    db.execute_sql(
        f"CREATE INDEX IF NOT EXISTS page_section_headings_vector ON page_section "
        f"USING GIN ({PG_HEADINGS_FUNCTION}({columns}))"
    )
    return indexed


def _backfill(db: peewee.Database, statement: str, *, already: int) -> int:
    """Run statement (params: id after, id up to) over page_section in id ranges of CHUNK."""
    total, low, high = db.execute_sql(
        "SELECT count(*), min(id), max(id) FROM page_section"
    ).fetchone()
    if not total or already >= total:
        return 0
    logger.info("Indexing %d page sections for search", total)

    def index_range(after: int, up_to: int) -> int:
        return max(db.execute_sql(statement, (after, up_to)).rowcount, 0)

    def report(done: int) -> None:
        done = min(total, done)
        logger.info("Indexing pages for search: %d of %d sections", done, total)
        report_progress("Indexing pages for search", done, total, "sections")

    return min(total, in_id_ranges(low, high, CHUNK, PROGRESS_EVERY, index_range, report))


def drop_index(db: peewee.Database) -> None:
    """Remove the index, its triggers and column (tests make a schema-11 store with it)."""
    if is_sqlite(db):
        for suffix in ("insert", "delete", "update"):
            db.execute_sql(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{suffix}")
        db.execute_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    else:
        db.execute_sql(f"DROP TRIGGER IF EXISTS {PG_COLUMN} ON page_section")
        db.execute_sql("DROP INDEX IF EXISTS page_section_headings_vector")
        db.execute_sql(f"ALTER TABLE page_section DROP COLUMN IF EXISTS {PG_COLUMN}")
        db.execute_sql(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}_trigger()")
