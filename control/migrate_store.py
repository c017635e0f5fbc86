"""Copy a docscrawl store into another database (a SQLite file into PostgreSQL), keeping ids.

The source is read in one snapshot through its own connection (a read-only one for a SQLite
file); the target is opened like any store (``models.open_store``: schema created or migrated)
and written through the models in one write transaction, so a failed copy leaves nothing
behind. Rows are matched on their primary key: missing ones are inserted, ones that differ are
updated, identical ones are left alone, so running the copy again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote

import peewee

from control.exceptions import DocscrawlError, StoreUnavailable
from control.second_thread import SecondThread
from docscrawl import models
from docscrawl.backfill import report_progress

BATCH_SIZE = 500
PROGRESS_EVERY = 100_000  # rows of one table between two progress lines
# Into an empty PostgreSQL table the rows go by COPY, this many bytes of its text at a time.
# Building peewee INSERTs was half of a copy's time; what is left is mostly the server's.
COPY_CHUNK_BYTES = 8 * 1024 * 1024

# Each table with the columns that identify a row apart from its id. A target row with the same
# id but another identity was not copied from this source: overwriting it would corrupt the
# target, so the copy stops instead.
IDENTITY: dict[type[models.BaseModel], tuple[str, ...]] = {
    models.StoreMeta: ("key",),
    models.Client: ("slug",),
    models.Job: ("client", "url", "created_at"),
    models.Page: ("client", "url"),
    models.CrawlError: ("job", "url", "occurred_at"),
    models.FrontierRequest: ("job", "url"),
    models.JobPage: ("job", "page"),
    models.PageSection: ("page", "position"),
    models.JobEvent: ("job", "event", "created_at"),
    models.Webhook: ("url", "client"),
    models.WebhookDelivery: ("event", "webhook"),
    models.DeliveryAttempt: ("delivery", "attempted_at"),
    models.JobSample: ("job", "at"),
    models.PageVersion: ("page", "content_hash"),
    models.Schedule: ("client", "url", "created_at"),
    models.ScheduleRun: ("schedule", "due_at"),
    models.ChangeReport: ("job",),
}
# Parents before children: PostgreSQL checks foreign keys on every insert.
TABLES: list[type[models.BaseModel]] = list(IDENTITY)


class StoreMigrationError(DocscrawlError):
    """The store could not be copied; the target is left as it was."""


@dataclass(frozen=True)
class TableCopy:
    """What the copy did to one table."""

    table: str
    source_rows: int
    copied: int  # inserted into the target
    updated: int  # present with the same identity, but with older values
    already_present: int  # present and identical


@dataclass
class MigrationReport:
    """Per-table counts of a store copy; the locations are shown without passwords."""

    source: str
    target: str
    tables: list[TableCopy] = field(default_factory=list)
    sequences_reset: bool = False

    @property
    def copied(self) -> int:
        return sum(table.copied for table in self.tables)

    @property
    def updated(self) -> int:
        return sum(table.updated for table in self.tables)

    @property
    def already_present(self) -> int:
        return sum(table.already_present for table in self.tables)

    def headers(self) -> list[str]:
        return ["Table", "Source rows", "Copied", "Updated", "Already present"]

    def rows(self) -> list[tuple[str, int, int, int, int]]:
        """One row per table, in the order of ``headers()``."""
        return [
            (t.table, t.source_rows, t.copied, t.updated, t.already_present) for t in self.tables
        ]

    def summary(self) -> str:
        """One sentence for people."""
        return (
            f"Copied {self.copied} rows from {self.source} to {self.target} "
            f"({self.updated} updated, {self.already_present} already present); "
            f"every table's row count matches."
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "tables": [asdict(table) for table in self.tables],
            "copied": self.copied,
            "updated": self.updated,
            "already_present": self.already_present,
            "sequences_reset": self.sequences_reset,
        }


def migrate_store(source: str, target: str, *, batch_size: int = BATCH_SIZE) -> MigrationReport:
    """Copy every table of the store at source into target; verify the row counts.

    Leaves ``models.database`` bound to the target.
    """
    source = models.resolve_location(source)
    target = models.resolve_location(target)
    report = MigrationReport(models.describe_location(source), models.describe_location(target))
    if source == target:
        raise StoreMigrationError(f"The source and the target are both {report.source}.")
    source_db = _open_source(source, report.source)
    try:
        # One read transaction: a consistent snapshot even while a crawl writes to the source.
        with source_db.atomic():
            if isinstance(source_db, peewee.PostgresqlDatabase):  # its default sees each commit
                source_db.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            _check_source(source_db, report.source)
            try:
                target_db = models.open_store(target)
            except models.StoreError as exc:
                raise StoreUnavailable(str(exc)) from exc
            with models.write_transaction():
                for model in TABLES:
                    report.tables.append(
                        _copy_table(source_db, target_db, model, batch_size, report.target)
                    )
                report.sequences_reset = _reset_sequences(target_db)
                _verify_counts(report)
            if report.copied and isinstance(target_db, peewee.PostgresqlDatabase):
                _vacuum_analyze(target_db, report)
    except peewee.IntegrityError as exc:
        raise StoreMigrationError(
            f"The target {report.target} already holds rows that clash with the source's "
            f"({models.first_line(exc)}); copy into an empty database."
        ) from exc
    except (peewee.DatabaseError, sqlite3.DatabaseError) as exc:
        raise StoreMigrationError(
            f"Copying {report.source} to {report.target} failed: {models.first_line(exc)}."
        ) from exc
    finally:
        source_db.close()
    return report


def _open_source(location: str, shown: str) -> peewee.Database:
    if "://" in location:  # another server store (e.g. PostgreSQL into PostgreSQL)
        return models.make_database(location)
    if not os.path.isfile(location):
        raise StoreMigrationError(f"There is no store at {shown}.")
    # Read-only: the source must not be touched, even when it is not a store at all (the
    # store's usual pragmas would switch a stranger's file to WAL mode).
    return peewee.SqliteDatabase(
        f"file:{quote(location)}?mode=ro", uri=True, pragmas={"busy_timeout": 30_000}
    )


def _check_source(db: peewee.Database, shown: str) -> None:
    """Refuse a source that is not a docscrawl store of this schema version."""
    try:
        tables = set(db.get_tables())
    except (peewee.DatabaseError, sqlite3.DatabaseError) as exc:
        raise StoreMigrationError(
            f"{shown} is not a docscrawl store ({models.first_line(exc)})."
        ) from exc
    missing = [m._meta.table_name for m in TABLES if m._meta.table_name not in tables]
    if "store_meta" in missing:
        raise StoreMigrationError(f"{shown} is not a docscrawl store (it has no store_meta table).")
    row = db.execute_sql(
        f"SELECT value FROM store_meta WHERE key = {db.param}", ("schema_version",)
    ).fetchone()
    version = int(row[0]) if row and str(row[0]).isdigit() else None
    if version is None:
        raise StoreMigrationError(f"{shown} is not a docscrawl store (it has no schema version).")
    if version != models.SCHEMA_VERSION:
        raise StoreMigrationError(
            f"{shown} has schema version {version} and this docscrawl copies version "
            f"{models.SCHEMA_VERSION}; open it once with this docscrawl to upgrade it first."
        )
    if missing:
        raise StoreMigrationError(f"{shown} is not a complete store (no {', '.join(missing)}).")


def _columns(model: type[models.BaseModel]) -> list[peewee.Field]:
    return list(model._meta.sorted_fields)


def _source_batches(
    db: peewee.Database, model: type[models.BaseModel], batch_size: int
) -> Iterator[list[dict[str, Any]]]:
    """The source table's rows as python values, in primary-key order, batch by batch."""
    fields = _columns(model)
    pk = model._meta.primary_key
    table = model._meta.table_name
    names = ", ".join(f'"{f.column_name}"' for f in fields)
    last: Any = None
    while True:
        # Keyset pagination: constant cost per batch however large the table.
        where = "" if last is None else f'WHERE "{pk.column_name}" > {db.param} '
        params = () if last is None else (last,)
        cursor = db.execute_sql(
            f'SELECT {names} FROM "{table}" {where}ORDER BY "{pk.column_name}" LIMIT {batch_size}',
            params,
        )
        raw = cursor.fetchall()
        if not raw:
            return
        yield [
            {f.name: f.python_value(value) for f, value in zip(fields, row, strict=True)}
            for row in raw
        ]
        last = raw[-1][fields.index(pk)]


def _copy_table(
    source_db: peewee.Database,
    target_db: peewee.Database,
    model: type[models.BaseModel],
    batch_size: int,
    target: str,
) -> TableCopy:
    if isinstance(target_db, peewee.PostgresqlDatabase) and not model.select().exists():
        # Nothing to match the rows against: they all go in, by COPY.
        total = _copy_into_empty(source_db, target_db, model, batch_size)
        return TableCopy(model._meta.table_name, total, total, 0, 0)
    pk = model._meta.primary_key
    fields = _columns(model)
    identity = IDENTITY[model]
    total = copied = updated = present = 0
    for batch in _source_batches(source_db, model, batch_size):
        total += len(batch)
        ids = [row[pk.name] for row in batch]
        existing = {
            row[pk.name]: row
            for row in model.select(*fields).where(pk << ids).dicts()  # type: ignore[operator]
        }
        missing = []
        for row in batch:
            current = existing.get(row[pk.name])
            if current is None:
                missing.append(row)
            elif current == row:
                present += 1
            elif all(current[name] == row[name] for name in identity):
                # The same row, changed in the source since an earlier copy.
                model.update(**row).where(pk == row[pk.name]).execute()
                updated += 1
            else:
                raise StoreMigrationError(
                    f"The target {target} already has a different {model._meta.table_name} row "
                    f"with id {row[pk.name]!r}; copy into an empty database."
                )
        if missing:
            model.insert_many(missing).execute()
            copied += len(missing)
    return TableCopy(model._meta.table_name, total, copied, updated, present)


def _copy_into_empty(
    source_db: peewee.Database,
    target_db: peewee.PostgresqlDatabase,
    model: type[models.BaseModel],
    batch_size: int,
) -> int:
    """Every source row into the (empty) target table through COPY FROM STDIN, in chunks.

    Each value goes through the field's python_value and db_value, as an INSERT's would, and
    is written as COPY's text format; the table's triggers and constraints apply as they do to
    an INSERT (a clash or a missing parent fails the copy like one).
    """
    fields = _columns(model)
    names = ", ".join(f'"{f.column_name}"' for f in fields)
    table = model._meta.table_name
    statement = f'COPY "{table}" ({names}) FROM STDIN'
    # Minutes for a big store's pages: the copy says how far it is (the CLI writes it on stderr).
    expected = source_db.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
    # The server takes longer over a chunk (its indexes, TOAST) than this thread takes to read
    # and encode the next: a second thread sends one chunk while the next is made. psycopg2's
    # connections may be shared by threads, and only that thread uses it meanwhile.
    connection = target_db.connection()

    # The text is UTF-8, the client encoding models.make_database gives every connection: the
    # server converts it to the database's, or refuses a character that encoding lacks.
    def send(data: bytes) -> None:
        with peewee.__exception_wrapper__, connection.cursor() as cursor:
            cursor.copy_expert(statement, io.BytesIO(data), size=1024 * 1024)

    encoders = [_copy_encoder(field) for field in fields]
    chunk: list[bytes] = []
    size = total = reported = 0
    with SecondThread("copy") as sender:

        def hand_over() -> None:  # waits for the chunk before; its error stops the copy
            sender.submit(send, b"".join(chunk))
            chunk.clear()

        # batch_size rows at a time: a chunk ends within a batch of COPY_CHUNK_BYTES, however
        # big the pages (5,000 at a time held 480 MB of 30 KB pages).
        for batch in _source_batches(source_db, model, batch_size):
            for row in batch:
                line = b"\t".join(
                    encode(row[field.name]) for field, encode in zip(fields, encoders, strict=True)
                )
                chunk.append(line + b"\n")
                size += len(line) + 1
            total += len(batch)
            if size >= COPY_CHUNK_BYTES:
                hand_over()
                size = 0
            if total - reported >= PROGRESS_EVERY:
                reported = total
                report_progress(f"Copying {table}", total, max(total, expected), "rows")
        if chunk:
            hand_over()
    if reported:
        report_progress(f"Copying {table}", total, total, "rows")
    return total


# COPY's text format: a backslash, tab, newline or carriage return in a value is escaped.
# The backslash first, or the others' escapes would be escaped again.
_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))


def _copy_encoder(field: peewee.Field) -> Callable[[Any], bytes]:
    """The function that writes a python value of field as a COPY text-format value."""

    # A BLOB's db_value is the driver's wrapper for a query's parameter (psycopg2.Binary).
    to_database = (lambda value: value) if isinstance(field, peewee.BlobField) else field.db_value

    def encode(value: Any) -> bytes:
        value = to_database(value)
        if value is None:
            return b"\\N"
        if isinstance(value, bool):
            return b"t" if value else b"f"
        if isinstance(value, (bytes, bytearray, memoryview)):
            return b"\\\\x" + bytes(value).hex().encode()  # bytea's hex form, escaped
        if isinstance(value, (int, float)):
            return repr(value).encode()
        if isinstance(value, dt.datetime):
            if value.utcoffset() is not None:  # as psycopg2 sends it (timestamptz), in UTC
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            return value.isoformat(sep=" ").encode()
        if isinstance(value, dt.date):
            return value.isoformat().encode()
        text = str(value)
        for character, escaped in _COPY_ESCAPES:  # str.replace finds none fast (memchr)
            if character in text:
                text = text.replace(character, escaped)
        return text.encode()

    return encode


def _reset_sequences(db: peewee.Database) -> bool:
    """Move PostgreSQL's id sequences past the copied ids, so new rows do not collide.

    SQLite (and MySQL) derive the next id from the largest one and need nothing.
    """
    if not isinstance(db, peewee.PostgresqlDatabase):
        return False
    for model in TABLES:
        pk = model._meta.primary_key
        if not isinstance(pk, peewee.AutoField):
            continue
        table, column = model._meta.table_name, pk.column_name
        # An empty table restarts at 1 (is_called false); otherwise the next id is MAX + 1.
        db.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), "
            f'COALESCE(MAX("{column}"), 1), MAX("{column}") IS NOT NULL) FROM "{table}"'
        )
    return True


def _vacuum_analyze(db: peewee.PostgresqlDatabase, report: MigrationReport) -> None:
    """VACUUM (ANALYZE) each table the copy wrote to, once it is committed.

    A bulk load leaves PostgreSQL with no statistics and no visibility map until autovacuum
    comes by (minutes later on a big store): meanwhile the planner guesses, and every index
    scan also reads the table's rows (`status` on a 1,000,000-page copy took 2.2 s, 0.3 s once
    autovacuum had run). VACUUM cannot run in a transaction: peewee's connection is in
    autocommit mode outside one.
    """
    written = [t.table for t in report.tables if t.copied or t.updated]
    big = report.copied + report.updated >= PROGRESS_EVERY  # a small copy's is instant
    for done, table in enumerate(written, start=1):
        db.execute_sql(f'VACUUM (ANALYZE) "{table}"')
        if big:
            report_progress("Vacuuming and analyzing the copied tables", done, len(written),
                            "tables")  # fmt: skip


def _verify_counts(report: MigrationReport) -> None:
    by_name = {model._meta.table_name: model for model in TABLES}
    for table in report.tables:
        in_target = by_name[table.table].select().count()
        if in_target != table.source_rows:
            raise StoreMigrationError(
                f"After the copy the target's {table.table} table has {in_target} rows but the "
                f"source's has {table.source_rows}; nothing was committed."
            )
