"""A page's text fingerprint: a 64-bit simhash, computed once when the page is stored.

``Page.simhash`` holds it (schema step 15), as a signed 64-bit integer so that it round-trips
through SQLite's INTEGER and PostgreSQL's BIGINT alike. ``dedupe --near`` (control/dedupe.py)
compares the stored fingerprints instead of reading every page's text.

Who keeps it right: the pipeline computes it with each page it writes; a page written another
way (plain SQL, an older docscrawl) has NULL, which near_duplicates computes on demand; and a
trigger clears it when an UPDATE changes a page's text but not its fingerprint (a writer that
did not know about it), so that a stale fingerprint is never read.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from functools import partial
from operator import methodcaller

import peewee

from docscrawl.backfill import in_id_ranges, report_progress
from docscrawl.drivers import is_sqlite

logger = logging.getLogger(__name__)

WORD = re.compile(r"\w+")
COLUMN = "simhash"
INDEX = "page_client_id_simhash_word_count"
SQLITE_TRIGGER = "page_simhash_stale"
PG_FUNCTION = "docscrawl_simhash_stale"
# Pages fingerprinted per statement when an existing store is backfilled (the migration).
CHUNK = 500
# What the progress reporter is told every so many pages (and at the end).
PROGRESS_EVERY = 20_000

# The backfill's progress goes to backfill.progress_reporter (the CLI: stderr) and the log.

_blake2b_64 = partial(hashlib.blake2b, digest_size=8)
_digest = methodcaller("digest")
# For bit j of a byte: the table that maps a byte to that bit (0 or 1).
_BIT = [bytes(value >> j & 1 for value in range(256)) for j in range(8)]


def simhash(text: str) -> int:
    """The 64-bit simhash (unsigned) of the text's lower-cased word 3-shingles.

    Each shingle's hash is the first 8 bytes of its BLAKE2b digest (big-endian); a bit of the
    simhash is set when more than half of the shingles have it set. The bits are counted a
    column of bytes at a time (bytes.translate and int.bit_count work in C), not shingle by
    shingle and bit by bit: the same value as the loop, 8x faster.
    """
    words = WORD.findall(text.lower())
    if len(words) < 3:
        shingles: Iterable[str] = [" ".join(words)]
    else:
        shingles = map(" ".join, zip(words, words[1:], words[2:], strict=False))
    digests = b"".join(map(_digest, map(_blake2b_64, map(str.encode, shingles))))
    count = len(digests) // 8
    value = 0
    for position in range(8):  # byte 0 of a digest holds its bits 63..56
        column = digests[position::8]
        shift = (7 - position) * 8
        for bit in range(8):
            if 2 * int.from_bytes(column.translate(_BIT[bit])).bit_count() > count:
                value |= 1 << (shift + bit)
    return value


def to_stored(value: int) -> int:
    """An unsigned 64-bit simhash as the signed integer the store keeps."""
    return value - (1 << 64) if value >= 1 << 63 else value


def from_stored(value: int) -> int:
    """The unsigned 64-bit simhash of a stored (signed) one."""
    return value + (1 << 64) if value < 0 else value


def fingerprint(text: str | None) -> int:
    """The value of Page.simhash for a page with this text."""
    return to_stored(simhash(text or ""))


def create_column(db: peewee.Database) -> None:
    """Add Page.simhash, its index and its trigger where missing (idempotent)."""
    present = {column.name for column in db.get_columns("page")}
    if COLUMN not in present:
        # A plain ADD COLUMN (see models._add_job_pages).
        db.execute_sql(f"ALTER TABLE page ADD COLUMN {COLUMN} BIGINT")
    create_trigger(db)


def create_trigger(db: peewee.Database) -> None:
    """The trigger that clears a fingerprint an UPDATE of the text left unchanged."""
    if is_sqlite(db):
        db.execute_sql(
            f"CREATE TRIGGER IF NOT EXISTS {SQLITE_TRIGGER} AFTER UPDATE OF text ON page "
            f"WHEN new.text IS NOT old.text AND new.{COLUMN} IS old.{COLUMN} "
            f"AND new.{COLUMN} IS NOT NULL "
            f"BEGIN UPDATE page SET {COLUMN} = NULL WHERE id = new.id; END"
        )
        return
    db.execute_sql(
        f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN NEW.{COLUMN} := NULL; RETURN NEW; END $$"
    )
    db.execute_sql(f"DROP TRIGGER IF EXISTS {SQLITE_TRIGGER} ON page")
    db.execute_sql(
        f"CREATE TRIGGER {SQLITE_TRIGGER} BEFORE UPDATE OF text ON page FOR EACH ROW "
        f"WHEN (NEW.text IS DISTINCT FROM OLD.text AND NEW.{COLUMN} IS NOT DISTINCT FROM "
        f"OLD.{COLUMN} AND NEW.{COLUMN} IS NOT NULL) EXECUTE FUNCTION {PG_FUNCTION}()"
    )


def create_index(db: peewee.Database) -> None:
    # (client, simhash, word_count): near_duplicates reads a client's fingerprints (and the
    # ids, which SQLite keeps in every index) from the index alone, and finds the pages with
    # none by its prefix.
    db.execute_sql(f"CREATE INDEX IF NOT EXISTS {INDEX} ON page (client_id, {COLUMN}, word_count)")
    # A store with planner statistics (ANALYZE) and none for the new index: SQLite's default
    # estimate makes it look selective and takes it for a client's pages, sorting them all for
    # an ORDER BY url (the export: 5.5 s instead of 1.2 s for 40,000 pages). Its own statistics
    # (one read of the index) put it back in its place; PostgreSQL samples the new column.
    if is_sqlite(db):
        if db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            db.execute_sql(f"ANALYZE {INDEX}")
    else:
        db.execute_sql(f"ANALYZE page ({COLUMN})")


def write(db: peewee.Database, values: list[tuple[int, int]]) -> None:
    """Set Page.simhash to each (page id, stored fingerprint), one statement per CHUNK."""
    param = db.param
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        # PostgreSQL types a VALUES list's columns from its first row.
        rows = [f"(CAST({param} AS BIGINT), CAST({param} AS BIGINT))"]
        rows += [f"({param}, {param})"] * (len(chunk) - 1)
        # UPDATE ... FROM (VALUES ...): one statement a chunk on both engines (SQLite 3.33 and
        # later), whose VALUES columns are column1, column2 on both.
        db.execute_sql(
            f"UPDATE page SET {COLUMN} = fingerprints.column2 "
            f"FROM (VALUES {', '.join(rows)}) AS fingerprints "
            "WHERE page.id = fingerprints.column1",
            [item for pair in chunk for item in pair],
        )


def backfill(db: peewee.Database) -> int:
    """Fingerprint every stored page that has none, in id ranges; returns how many."""
    total, low, high = db.execute_sql(
        f"SELECT count(*), min(id), max(id) FROM page WHERE {COLUMN} IS NULL"
    ).fetchone()
    if not total:
        return 0
    logger.info("Fingerprinting %d pages for near-duplicate detection", total)
    param = db.param

    def fingerprint_range(after: int, up_to: int) -> int:
        rows = db.execute_sql(
            f"SELECT id, text FROM page WHERE id > {param} AND id <= {param} AND {COLUMN} IS NULL",
            (after, up_to),
        ).fetchall()
        write(db, [(page_id, fingerprint(text)) for page_id, text in rows])
        return len(rows)

    def report(done: int) -> None:
        logger.info("Fingerprinting pages: %d of %d", done, total)
        report_progress("Fingerprinting pages for dedupe --near", done, total, "pages")

    return in_id_ranges(low, high, CHUNK, PROGRESS_EVERY, fingerprint_range, report)


def add_to_store(db: peewee.Database) -> int:
    """Schema step 15: the column, its trigger and index, and every stored page's value."""
    create_column(db)
    done = backfill(db)
    create_index(db)  # after the backfill: built once rather than grown row by row
    return done


def drop_from_store(db: peewee.Database) -> None:
    """Remove the column, its index and trigger (tests make a schema-14 store with it)."""
    db.execute_sql(f"DROP INDEX IF EXISTS {INDEX}")
    if is_sqlite(db):
        db.execute_sql(f"DROP TRIGGER IF EXISTS {SQLITE_TRIGGER}")
    else:
        db.execute_sql(f"DROP TRIGGER IF EXISTS {SQLITE_TRIGGER} ON page")
        db.execute_sql(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
    db.execute_sql(f"ALTER TABLE page DROP COLUMN {COLUMN}")
