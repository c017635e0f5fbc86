"""The store: peewee models for clients, crawl jobs, pages and crawl errors.

One SQLite file by default (WAL mode, busy timeout, absolute path), any peewee database URL
otherwise. The store is the one source of truth for a job's state; crawl processes and the CLI
share it, so writes are short transactions.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import sqlite3
import stat
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import parse_qs, urlsplit

import peewee

from docscrawl import drivers, redact

logger = logging.getLogger(__name__)

# The schema version this docscrawl writes: its last migration step (MIGRATIONS, below).
SCHEMA_VERSION = 16

# Job statuses. ACTIVE ones have (or are about to have) a live process.
PENDING = "pending"
RUNNING = "running"
CANCELLING = "cancelling"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
STATUSES = (PENDING, RUNNING, CANCELLING, COMPLETED, FAILED, CANCELLED)
ACTIVE_STATUSES = (PENDING, RUNNING, CANCELLING)
FINISHED_STATUSES = (COMPLETED, FAILED, CANCELLED)

database = peewee.DatabaseProxy()

# PostgreSQL advisory lock (per database) that write transactions and schema changes take, so
# writers are serialised there as BEGIN IMMEDIATE serialises them on SQLite.
WRITE_LOCK_KEY = 0x646F6373637261  # "docscra"


class StoreError(Exception):
    """The store cannot be opened or used."""


def utcnow() -> dt.datetime:
    """Now, as a naive UTC datetime (what every timestamp in the store is)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class JSONField(peewee.TextField):
    """A JSON document stored as text, so it works on every engine."""

    def db_value(self, value: Any) -> str | None:
        import json

        return None if value is None else json.dumps(value, ensure_ascii=False)

    def python_value(self, value: str | None) -> Any:
        import json

        return None if value is None else json.loads(value)


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class StoreMeta(BaseModel):
    """Key/value facts about the store itself, such as its schema version."""

    key = peewee.CharField(primary_key=True)
    value = peewee.TextField()


class Client(BaseModel):
    """A customer whose documentation site is crawled."""

    name = peewee.CharField()
    slug = peewee.CharField(unique=True)
    created_at = peewee.DateTimeField(default=utcnow)


class Job(BaseModel):
    """One crawl of one site for one client, from scheduling to its outcome."""

    client = peewee.ForeignKeyField(Client, backref="jobs", on_delete="CASCADE")
    url = peewee.TextField()
    status = peewee.CharField(default=PENDING, index=True)
    # "sync" (a foreground CLI crawl), "scrapyd", or "local" (a crawl process `docscrawl serve`
    # started, watches and reaps)
    mode = peewee.CharField(default="sync")
    max_pages = peewee.IntegerField(null=True)
    max_depth = peewee.IntegerField(null=True)
    settings = JSONField(default=dict)  # the -s overrides the job was started with
    # Where it runs: the Scrapyd job id and node URL, or the host for a foreground crawl.
    scrapyd_job_id = peewee.CharField(null=True, index=True)
    node = peewee.CharField(null=True)
    pid = peewee.IntegerField(null=True)
    # Tells a reused pid from ours. Double: FloatField is a 4-byte REAL on PostgreSQL, which
    # rounds an epoch timestamp to minutes and made live crawls look gone.
    process_started_at = peewee.DoubleField(null=True)
    log_url = peewee.TextField(null=True)
    created_at = peewee.DateTimeField(default=utcnow, index=True)  # `list --since/--until`
    started_at = peewee.DateTimeField(null=True)
    finished_at = peewee.DateTimeField(null=True)
    heartbeat_at = peewee.DateTimeField(null=True)
    cancel_requested_at = peewee.DateTimeField(null=True)
    pages = peewee.IntegerField(default=0)
    errors = peewee.IntegerField(default=0)
    queued = peewee.IntegerField(default=0)
    estimated_total = peewee.IntegerField(null=True)
    finish_reason = peewee.TextField(null=True)
    resumes = peewee.IntegerField(default=0)  # how many times the job was resumed
    # URLs the job did not store, counted by reason (every one, even past the ledger's row cap).
    skipped = JSONField(default=dict)
    # Pages whose extraction partly failed, by stage (docscrawl.extraction), from the crawl's
    # stats: a page is stored with what could be extracted, and the count says how often.
    extraction_failures = JSONField(default=dict)


class Page(BaseModel):
    """One documentation page of a client, keyed by its URL; re-crawls update it in place."""

    client = peewee.ForeignKeyField(Client, backref="pages", on_delete="CASCADE")
    job = peewee.ForeignKeyField(Job, backref="page_set", null=True, on_delete="SET NULL")
    url = peewee.TextField()  # the page's identity: the normalised final URL
    requested_url = peewee.TextField()
    final_url = peewee.TextField()
    canonical_url = peewee.TextField(null=True)
    status_code = peewee.IntegerField()
    title = peewee.TextField(null=True)
    description = peewee.TextField(null=True)
    language = peewee.CharField(null=True)
    headings = JSONField(default=list)
    markdown = peewee.TextField(default="")
    text = peewee.TextField(default="")
    links = JSONField(default=list)
    word_count = peewee.IntegerField(default=0)
    content_hash = peewee.CharField(index=True)
    etag = peewee.TextField(null=True)
    last_modified = peewee.TextField(null=True)
    fetched_at = peewee.DateTimeField(default=utcnow)
    depth = peewee.IntegerField(default=0)
    # What the extraction kept of the page (ExtractionAudit.as_dict(): text_share, words,
    # headings/code_blocks/tables as [found, kept], rule); {} for pages stored before version 6.
    extraction_audit = JSONField(default=dict)
    # Derived from extraction_audit when the page is written (audit_columns), so that counting
    # a job's flagged pages is SQL, not a JSON parse per page: the audit's text share (NULL: no
    # audit), and whether the main content lost a heading, code block or table, or was the body.
    audit_share = peewee.DoubleField(null=True)
    # (A database default too: rows written by plain SQL, as a test's older store, get one.)
    audit_lost = peewee.BooleanField(default=False, constraints=[peewee.SQL("DEFAULT FALSE")])
    # The text's 64-bit simhash, signed (docscrawl/fingerprints.py), computed when the page is
    # written; NULL until then for a page stored another way (dedupe --near computes it).
    simhash = peewee.BigIntegerField(null=True)

    class Meta:
        # (audit_lost, audit_share, job): a job's flagged pages are counted from the index
        # alone (control/audit.py), without reading the rows' text. (client, simhash,
        # word_count): so are a client's fingerprints (dedupe --near).
        indexes = (
            (("client", "url"), True),
            (("audit_lost", "audit_share", "job"), False),
            (("client", "simhash", "word_count"), False),
        )


# Columns of Page computed from other fields when a page is written, not extracted.
DERIVED_PAGE_FIELDS = ("audit_share", "audit_lost", "simhash")
# What a page is, in declaration order: every field of Page but its keys and derived columns.
# The spider's PageItem, the pipeline's rows and the export's columns are these
# (tests/test_page_definition.py checks).
PAGE_FIELDS = tuple(
    name
    for name in Page._meta.sorted_field_names
    if name not in ("id", "client", "job", *DERIVED_PAGE_FIELDS)
)
# An audit's [found, kept] pairs: a page whose main content kept fewer than it found lost some.
AUDIT_PAIRS = ("headings", "code_blocks", "tables")


def derived_columns(row: dict[str, Any], simhash: int | None = None) -> dict[str, Any]:
    """The DERIVED_PAGE_FIELDS of a page row (of PAGE_FIELDS) about to be written; `simhash`
    is the stored one of a page whose text has not changed (not computed again)."""
    from docscrawl.fingerprints import fingerprint

    audit = audit_columns(row.get("extraction_audit"))
    return {**audit, "simhash": fingerprint(row.get("text")) if simhash is None else simhash}


def audit_columns(audit: Any) -> dict[str, Any]:
    """Page.audit_share and Page.audit_lost for an extraction audit (see control/audit.py)."""
    if not isinstance(audit, dict) or not audit:
        return {"audit_share": None, "audit_lost": False}
    try:
        share = float(audit.get("text_share", 1.0))
    except (TypeError, ValueError):
        share = 1.0
    lost = audit.get("rule") == "body"
    for name in AUDIT_PAIRS:
        pair = audit.get(name)
        try:
            found, kept = int(pair[0]), int(pair[1])
        except (TypeError, ValueError, IndexError, KeyError):
            continue
        lost = lost or kept < found
    return {"audit_share": share, "audit_lost": lost}


# Why a job did not store a URL: the ledger's `kind`. ERROR_KINDS are fetches that failed (they
# count as the job's errors); the others are URLs the crawl chose not to fetch or keep.
HTTP_STATUS = "http_status"  # an error status (4xx, 5xx)
TIMEOUT = "timeout"
NETWORK = "network"  # refused, reset, DNS, TLS...
ROBOTS = "robots"  # disallowed by robots.txt
OUT_OF_SCOPE = "out_of_scope"  # another host, port or scheme, or outside the path prefix
OFF_ORIGIN_REDIRECT = "off_origin_redirect"  # redirected out of the crawl's scope
REDIRECT_LOOP = "redirect_loop"
REDIRECT_LIMIT = "redirect_limit"  # more hops than REDIRECT_MAX_TIMES
TOO_LARGE = "too_large"  # over DOWNLOAD_MAXSIZE, compressed or not
NOT_HTML = "not_html"  # another content type, a binary body, a file link
DUPLICATE = "duplicate"  # another URL of a page this job already has
SOFT_404 = "soft_404"  # answered 200 with the site's "not found" page
TRAP = "trap"  # a spider-trap rule (the detail names it)
DEPTH = "depth"  # deeper than --max-depth
LIMIT = "limit"  # past --max-pages or a sitemap bound
ERROR_KINDS = (HTTP_STATUS, TIMEOUT, NETWORK)
SKIP_KINDS = (
    ROBOTS, OUT_OF_SCOPE, OFF_ORIGIN_REDIRECT, REDIRECT_LOOP, REDIRECT_LIMIT, TOO_LARGE, NOT_HTML,
    DUPLICATE, SOFT_404, TRAP, DEPTH, LIMIT,
)  # fmt: skip
KINDS = ERROR_KINDS + SKIP_KINDS


class CrawlError(BaseModel):
    """The ledger: a URL a job did not store, and why (``kind``, and ``reason`` in words)."""

    job = peewee.ForeignKeyField(Job, backref="crawl_errors", on_delete="CASCADE")
    url = peewee.TextField()
    kind = peewee.CharField(default=HTTP_STATUS)
    status_code = peewee.IntegerField(null=True)
    reason = peewee.TextField()
    occurred_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("job", "kind"), False),)


class FrontierRequest(BaseModel):
    """A page request a job had queued but not fetched when it stopped; a resume starts here."""

    job = peewee.ForeignKeyField(Job, backref="frontier", on_delete="CASCADE")
    url = peewee.TextField()
    depth = peewee.IntegerField(default=0)
    # "queued" (never started) or "in_flight" (abandoned while downloading).
    state = peewee.CharField(default="queued")
    saved_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("job", "url"), True),)


# What a job found for a page, compared with what the store had before it.
NEW = "new"
CHANGED = "changed"
UNCHANGED = "unchanged"
REMOVED = "removed"
CHANGES = (NEW, CHANGED, UNCHANGED, REMOVED)


class JobPage(BaseModel):
    """That a job saw a page (or, for ``removed``, did not find it again), and with what text."""

    job = peewee.ForeignKeyField(Job, backref="seen", on_delete="CASCADE")
    page = peewee.ForeignKeyField(Page, backref="sightings", on_delete="CASCADE")
    change = peewee.CharField()
    content_hash = peewee.CharField(null=True)

    class Meta:
        # (job, change): a job's counts by change (`status`) are read from the index alone.
        indexes = ((("job", "page"), True), (("page", "job"), False), (("job", "change"), False))


class PageSection(BaseModel):
    """One section of a page: a heading through to the next (docscrawl.extraction.sections).

    Written with the page, replacing the page's earlier sections; deleted with it (cascade).
    ``lvl0`` is the page title, ``lvl1``..``lvl6`` the headings the section sits under.
    """

    page = peewee.ForeignKeyField(Page, backref="sections", on_delete="CASCADE", index=False)
    position = peewee.IntegerField()
    lvl0 = peewee.TextField(null=True)
    lvl1 = peewee.TextField(null=True)
    lvl2 = peewee.TextField(null=True)
    lvl3 = peewee.TextField(null=True)
    lvl4 = peewee.TextField(null=True)
    lvl5 = peewee.TextField(null=True)
    lvl6 = peewee.TextField(null=True)
    anchor_url = peewee.TextField()
    markdown = peewee.TextField(default="")
    text = peewee.TextField(default="")

    class Meta:
        table_name = "page_section"
        indexes = ((("page", "position"), True),)  # also the index on page


SECTION_LEVELS = ("lvl0", "lvl1", "lvl2", "lvl3", "lvl4", "lvl5", "lvl6")


# The webhook events a job's transitions raise (docscrawl.job_state writes them).
JOB_EVENTS = ("job.started", "job.completed", "job.failed", "job.cancelled", "job.resumed")


class JobEvent(BaseModel):
    """The outbox: one event a job's status change raised, written in the transaction that
    made the change, so an event is never lost and never raised without the change.

    ``snapshot`` is the job's row as the transition left it (docscrawl.job_state.snapshot);
    the server builds the webhook body (the `status --json` object) from it.
    """

    job = peewee.ForeignKeyField(Job, backref="events", on_delete="CASCADE")
    event = peewee.CharField()
    status = peewee.CharField()
    snapshot = JSONField(default=dict)
    created_at = peewee.DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "job_event"


class Webhook(BaseModel):
    """A URL that receives job events: every job's (client NULL) or one client's.

    A server's ``--webhook`` URLs are recorded here too, so that an event raised while the
    server was down is delivered to them when it starts again: a webhook receives the events
    raised since it was first configured.
    """

    url = peewee.TextField()
    client = peewee.ForeignKeyField(Client, backref="webhooks", null=True, on_delete="CASCADE")
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("url", "client"), True),)


PENDING_DELIVERY = "pending"
DELIVERED = "delivered"
GAVE_UP = "gave_up"


class WebhookDelivery(BaseModel):
    """One event's delivery to one webhook: its state, attempts and when to try again."""

    event = peewee.ForeignKeyField(JobEvent, backref="deliveries", on_delete="CASCADE")
    webhook = peewee.ForeignKeyField(Webhook, backref="deliveries", on_delete="CASCADE")
    state = peewee.CharField(default=PENDING_DELIVERY, index=True)
    attempts = peewee.IntegerField(default=0)
    next_attempt_at = peewee.DateTimeField(default=utcnow)
    delivered_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "webhook_delivery"
        indexes = ((("event", "webhook"), True),)


class DeliveryAttempt(BaseModel):
    """One HTTP attempt at a delivery: what the receiver answered, or why it could not."""

    delivery = peewee.ForeignKeyField(WebhookDelivery, backref="attempt_log", on_delete="CASCADE")
    attempted_at = peewee.DateTimeField(default=utcnow)
    status_code = peewee.IntegerField(null=True)
    error = peewee.TextField(null=True)
    duration_ms = peewee.IntegerField(default=0)

    class Meta:
        table_name = "delivery_attempt"


class JobSample(BaseModel):
    """A point of a job's progress over time, from its heartbeats (the dashboard's chart).

    Kept small: samples are spaced further apart the longer a job runs (job_state.heartbeat).
    """

    job = peewee.ForeignKeyField(Job, backref="samples", on_delete="CASCADE", index=False)
    at = peewee.DateTimeField(default=utcnow)
    pages = peewee.IntegerField()
    errors = peewee.IntegerField()
    queued = peewee.IntegerField()

    class Meta:
        table_name = "job_sample"
        indexes = ((("job", "at"), False),)


SERVER_MODELS = [JobEvent, Webhook, WebhookDelivery, DeliveryAttempt, JobSample]


class BytesField(peewee.BlobField):
    """A BLOB (bytea on PostgreSQL) read back as bytes on every engine: psycopg2 gives a
    memoryview, which compares unequal to the same bytes (migrate-store compares rows)."""

    def python_value(self, value: Any) -> bytes | None:
        return None if value is None else bytes(value)


class PageVersion(BaseModel):
    """One distinct text of a page, kept once however many jobs saw it (docscrawl.history).

    Keyed by the page's main-text hash; ``markdown`` is the page's Markdown, zlib-compressed
    (bytes in a BLOB on SQLite, bytea on PostgreSQL). ``job`` is the job that first stored it.
    """

    page = peewee.ForeignKeyField(Page, backref="versions", on_delete="CASCADE", index=False)
    content_hash = peewee.CharField()
    markdown = BytesField()
    job = peewee.ForeignKeyField(Job, backref="page_versions", null=True, on_delete="SET NULL")
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "page_version"
        indexes = ((("page", "content_hash"), True),)  # also the index on page


def _add_page_versions(db: peewee.Database) -> None:
    # Stores before version 8 kept only each page's current Markdown: that becomes its first
    # version, seen first by the earliest job that saw the page with that text.
    from docscrawl import history

    db.create_tables([PageVersion], safe=True)
    last = 0
    while True:
        chunk = list(
            Page.select(Page.id, Page.content_hash, Page.markdown, Page.job, Page.fetched_at)
            .where(Page.id > last)
            .order_by(Page.id)
            .limit(200)
            .tuples()
        )
        if not chunk:
            return
        first_job = dict(
            JobPage.select(JobPage.page, peewee.fn.MIN(JobPage.job))
            .join(Page)
            .where((JobPage.page << [row[0] for row in chunk])
                   & (JobPage.content_hash == Page.content_hash))
            .group_by(JobPage.page)
            .tuples()
        )  # fmt: skip
        started = {
            job_id: started_at or created_at
            for job_id, started_at, created_at in Job.select(Job.id, Job.started_at, Job.created_at)
            .where(Job.id << list(set(first_job.values())))
            .tuples()
        }
        rows = []
        for page_id, digest, markdown, job_id, fetched_at in chunk:
            job_id = first_job.get(page_id, job_id)
            rows.append((page_id, digest, markdown, job_id, started.get(job_id) or fetched_at))
        history.record_versions(rows)
        last = chunk[-1][0]


class Schedule(BaseModel):
    """A client's recurring crawl (control/schedules.py): a cron rhythm in a time zone.

    ``next_run_at`` (naive UTC) is the next due time; claiming a run moves it on.
    """

    client = peewee.ForeignKeyField(Client, backref="schedules", on_delete="CASCADE")
    url = peewee.TextField()
    cron = peewee.CharField()
    timezone = peewee.CharField(default="UTC")
    settings = JSONField(default=dict)
    max_pages = peewee.IntegerField(null=True)
    max_depth = peewee.IntegerField(null=True)
    mode = peewee.CharField(null=True)  # None: Scrapyd when a node is reachable, else local
    overlap = peewee.CharField(default="skip")  # skip | queue
    missed = peewee.CharField(default="catch-up")  # catch-up | record
    paused = peewee.BooleanField(default=False)
    next_run_at = peewee.DateTimeField(index=True)
    created_at = peewee.DateTimeField(default=utcnow)


class ScheduleRun(BaseModel):
    """One due time of a schedule and what became of it: fired (with its job), skipped,
    queued, missed or failed, and why. Unique per schedule and due time: never fired twice."""

    schedule = peewee.ForeignKeyField(Schedule, backref="runs", on_delete="CASCADE", index=False)
    due_at = peewee.DateTimeField()
    outcome = peewee.CharField()
    job = peewee.ForeignKeyField(Job, backref="schedule_runs", null=True, on_delete="SET NULL")
    reason = peewee.TextField(null=True)
    recorded_at = peewee.DateTimeField(default=utcnow)
    fired_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "schedule_run"
        indexes = ((("schedule", "due_at"), True), (("outcome",), False))


class ChangeReport(BaseModel):
    """What a crawl changed since the client's previous completed crawl (control/change_reports)."""

    job = peewee.ForeignKeyField(Job, backref="change_reports", unique=True, on_delete="CASCADE")
    report = JSONField(default=dict)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "change_report"


SCHEDULE_MODELS = [Schedule, ScheduleRun, ChangeReport]


def _add_schedules(db: peewee.Database) -> None:
    db.create_tables(SCHEDULE_MODELS, safe=True)


def _add_scale_indexes(db: peewee.Database) -> None:
    # A year of crawls: a job's change counts without a table lookup per row, and jobs by date.
    db.execute_sql("CREATE INDEX IF NOT EXISTS job_page_job_id_change ON job_page (job_id, change)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS job_created_at ON job (created_at)")


def _add_audit_index(db: peewee.Database) -> None:
    # `status` counts a job's flagged pages from this index alone. Building it reads every
    # page once (the audit columns come after the text).
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS page_audit_lost_audit_share_job_id "
        "ON page (audit_lost, audit_share, job_id)"
    )


def _add_audit_columns(db: peewee.Database) -> None:
    # Plain ADD COLUMNs (see _add_job_pages), filled from each page's stored audit.
    present = {column.name for column in db.get_columns("page")}
    if "audit_share" not in present:
        db.execute_sql("ALTER TABLE page ADD COLUMN audit_share DOUBLE PRECISION")
    if "audit_lost" not in present:
        db.execute_sql("ALTER TABLE page ADD COLUMN audit_lost BOOLEAN NOT NULL DEFAULT FALSE")
    last = 0
    while True:
        chunk = list(
            Page.select(Page.id, Page.extraction_audit)
            .where((Page.id > last) & (Page.extraction_audit != {}))
            .order_by(Page.id)
            .limit(1000)
            .tuples()
        )
        if not chunk:
            return
        for page_id, audit in chunk:
            Page.update(audit_columns(audit)).where(Page.id == page_id).execute()
        last = chunk[-1][0]


MODELS = [StoreMeta, Client, Job, Page, CrawlError, FrontierRequest, JobPage, PageSection,
          *SERVER_MODELS, PageVersion, *SCHEDULE_MODELS]  # fmt: skip


def _add_fingerprints(db: peewee.Database) -> None:
    # Each page's simhash (docscrawl/fingerprints.py), computed from its stored text in id
    # ranges, with progress; then its index and the trigger that keeps it honest.
    from docscrawl import fingerprints

    fingerprints.add_to_store(db)


def _add_search_index(db: peewee.Database) -> None:
    # Full-text search (docscrawl/search_index.py): existing sections are indexed in chunks.
    from docscrawl import search_index

    search_index.create_index(db)


def _tune_search_merges(db: peewee.Database) -> None:
    # SQLite: the FTS5 index merges a level's segments once it holds 64, not a little on every
    # write (search_index.AUTOMERGE, CRISISMERGE); options in the index's config table, no row
    # rewritten. Nothing to do on PostgreSQL.
    from docscrawl import search_index

    search_index.tune_merges(db)


def _add_frontier(db: peewee.Database) -> None:
    db.create_tables([FrontierRequest], safe=True)


def _add_job_pages(db: peewee.Database) -> None:
    # A plain ADD COLUMN: playhouse.migrate rebuilds the table on SQLite, and with foreign keys
    # on, dropping the old `job` table would empty every table that refers to it.
    db.execute_sql("ALTER TABLE job ADD COLUMN resumes INTEGER NOT NULL DEFAULT 0")
    # Version 2 stores know only each page's last job: record that as the page's sighting.
    db.create_tables([JobPage], safe=True)
    JobPage.insert_from(
        Page.select(Page.job, Page.id, peewee.Value(NEW), Page.content_hash).where(
            Page.job.is_null(False)
        ),
        [JobPage.job, JobPage.page, JobPage.change, JobPage.content_hash],
    ).execute()


def _add_ledger_kinds(db: peewee.Database) -> None:
    # Plain ADD COLUMNs, as in _add_job_pages. Earlier rows are fetch failures: an HTTP status
    # when they have one, a network failure otherwise.
    db.execute_sql(
        f"ALTER TABLE crawl_error ADD COLUMN kind VARCHAR(255) NOT NULL DEFAULT '{HTTP_STATUS}'"
    )
    CrawlError.update(kind=NETWORK).where(CrawlError.status_code.is_null()).execute()
    db.execute_sql("CREATE INDEX crawl_error_job_id_kind ON crawl_error (job_id, kind)")
    db.execute_sql("ALTER TABLE job ADD COLUMN skipped TEXT NOT NULL DEFAULT '{}'")


def _add_extraction_failures(db: peewee.Database) -> None:
    db.execute_sql("ALTER TABLE job ADD COLUMN extraction_failures TEXT NOT NULL DEFAULT '{}'")


def _add_audit_and_sections(db: peewee.Database) -> None:
    # Pages stored before have no audit ({}: never flagged) until a crawl stores them again;
    # their sections are split from the Markdown the store holds.
    db.execute_sql("ALTER TABLE page ADD COLUMN extraction_audit TEXT NOT NULL DEFAULT '{}'")
    db.create_tables([PageSection], safe=True)
    resplit_sections(db)


# Pages re-split per statement by resplit_sections, and how often it reports its progress.
RESPLIT_CHUNK = 200
RESPLIT_PROGRESS_EVERY = 20_000


def resplit_sections(db: peewee.Database) -> int:
    """Cut every stored page's sections again from its stored title, Markdown and headings, in
    the caller's transaction; returns how many pages it went through.

    A recrawl keeps the sections of a page that comes back unchanged (pipelines.py), so this is
    how a change to how sections are cut (docscrawl/extraction/sections.py) reaches the pages
    already stored: the change comes with a migration step that calls it.
    """
    from docscrawl.backfill import in_id_ranges, report_progress

    total, low, high = db.execute_sql("SELECT count(*), min(id), max(id) FROM page").fetchone()
    if not total:
        return 0
    logger.info("Splitting %d pages into sections", total)

    def split_range(after: int, up_to: int) -> int:
        chunk = list(
            Page.select(Page.id, Page.url, Page.title, Page.markdown, Page.headings)
            .where((Page.id > after) & (Page.id <= up_to))
            .tuples()
        )
        write_sections(chunk)
        return len(chunk)

    def report(done: int) -> None:
        logger.info("Splitting pages into sections: %d of %d pages", done, total)
        report_progress("Splitting pages into sections", done, total, "pages")

    return in_id_ranges(low, high, RESPLIT_CHUNK, RESPLIT_PROGRESS_EVERY, split_range, report)


def _add_events_and_samples(db: peewee.Database) -> None:
    db.create_tables(SERVER_MODELS, safe=True)


# Schema migrations: version -> function(db) that brings version-1 to version. Version 1 is the
# initial schema, created from the models. Append here; never edit a released step.
MIGRATIONS: dict[int, Any] = {
    2: _add_frontier,
    3: _add_job_pages,
    4: _add_ledger_kinds,
    5: _add_extraction_failures,
    6: _add_audit_and_sections,
    7: _add_events_and_samples,
    8: _add_page_versions,
    9: _add_schedules,
    10: _add_audit_columns,
    11: _add_scale_indexes,
    13: _add_search_index,
    14: _add_audit_index,
    15: _add_fingerprints,
    16: _tune_search_merges,
}
# Steps may skip numbers (work on several steps at once lands in any order); none is reused.
assert SCHEMA_VERSION == max(MIGRATIONS), "SCHEMA_VERSION must be the last migration step"


def slugify(name: str) -> str:
    """A URL-safe lower-case slug for a client name ("Python Docs" -> "python-docs")."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug or "client"


def resolve_location(location: str) -> str:
    """The store location as an absolute SQLite path, or a (non-SQLite) database URL as given.

    ``sqlite:///rel.db`` and ``sqlite:////abs.db`` become absolute paths: crawl processes run in
    Scrapyd's working directory, where a relative path would point somewhere else.
    """
    if location.startswith("sqlite:///"):
        path = location[len("sqlite:///") :]
        location = path if path.startswith("/") else path or "docscrawl.db"
    if "://" in location or redact.looks_like_libpq_dsn(location):
        return location  # a DSN is no path: open_store refuses it with a sentence
    return os.path.abspath(os.path.expanduser(location))


# Seconds to wait for a PostgreSQL server to answer a connection, unless the URL says
# (?connect_timeout=N); without it a hung server hangs every command.
PG_CONNECT_TIMEOUT = 10


def make_database(location: str) -> peewee.Database:
    """Build (without connecting) the peewee database for a path or a database URL."""
    location = resolve_location(location)
    if "://" in location:
        scheme, rest = location.split("://", 1)
        if scheme.lower() in ("postgres", "postgresql"):
            # The playhouse extension class: the same database, plus server-side cursors for
            # stream() (psycopg2's ordinary cursor fetches a whole result before the first row).
            location = f"postgresqlext://{rest}"
        if not scheme.lower().startswith("sqlite"):
            # Every other engine peewee knows of the PostgreSQL family (postgresql+pool,
            # postgresqlext, cockroachdb) drives psycopg2. Without psycopg2 installed,
            # connecting says the driver is missing (open_store turns that into a sentence).
            with suppress(ImportError):
                drivers.use_psycopg2()
        # Imported here: playhouse.db_url imports every engine's extension module.
        from playhouse.db_url import connect as connect_url

        if scheme.lower().startswith(("postgres", "cockroach")):
            # The store's text is Python's str both ways: a client encoding from the
            # environment (PGCLIENTENCODING) or the server would garble what COPY sends
            # (migrate-store) and fail to read back what it cannot encode.
            options: dict[str, Any] = {"client_encoding": "UTF8"}
            if "connect_timeout" not in parse_qs(urlsplit(location).query):
                # libpq waits forever on a server that accepts and never answers.
                options["connect_timeout"] = PG_CONNECT_TIMEOUT
            return connect_url(location, **options)
        return connect_url(location)
    return peewee.SqliteDatabase(
        location,
        # WAL: crawl processes write while the CLI reads. busy_timeout makes writers wait for
        # each other instead of failing with "database is locked".
        pragmas={
            "journal_mode": "wal",
            "busy_timeout": 30_000,
            "synchronous": "normal",
            "foreign_keys": 1,
        },
        timeout=30,
    )


def without_password(location: str) -> str:
    """The store location with any password removed (what is handed to Scrapyd).

    Scrapyd shows and logs a crawl's arguments; the crawl process gets the password from its
    own environment instead (libpq reads PGPASSWORD or ~/.pgpass where Scrapyd runs).
    """
    return redact.without_password(location)


def describe_location(location: str) -> str:
    """The store location without any password, safe to print or log."""
    return redact.mask_credentials(location)


def open_store(location: str, *, create: bool = True) -> peewee.Database:
    """Open the store at location, create or migrate its schema, and bind the models to it."""
    location = resolve_location(location)
    if redact.looks_like_libpq_dsn(location):
        raise StoreError(
            "The store looks like a libpq connection string (key=value); give a database URL "
            "such as postgresql://user@host/db, with the password in PGPASSWORD or ~/.pgpass."
        )
    if "://" not in location:
        directory = os.path.dirname(location)
        if not os.path.isdir(directory):
            raise StoreError(f"The directory {directory} of the store does not exist.")
        if not create and not os.path.exists(location):
            raise StoreError(f"There is no store at {location}.")
        _check_store_file(location)
    try:
        db = make_database(location)
    except (RuntimeError, ValueError) as exc:  # playhouse.db_url: an unknown scheme
        raise StoreError(
            f"{describe_location(location)} is neither a file path nor a database URL "
            f"docscrawl supports; it supports {SUPPORTED_STORES}."
        ) from exc
    try:
        # Connect first: binding the models asks the engine's driver for its binary type
        # (BlobField), which fails obscurely when the driver is missing; connecting says so.
        db.connect(reuse_if_open=True)
        database.initialize(db)
        _ensure_schema(db)
    except peewee.ImproperlyConfigured as exc:  # e.g. mysql:// with no MySQL driver installed
        raise StoreError(
            f"The store {describe_location(location)} cannot be used: {str(exc).rstrip('!.')}, "
            f"and docscrawl supports only {SUPPORTED_STORES}."
        ) from exc
    except (peewee.DatabaseError, sqlite3.DatabaseError, peewee.OperationalError) as exc:
        db.close()
        raise StoreError(_explain(location, exc)) from exc
    return db


def open_crawl_store(location: str) -> peewee.Database:
    """The store of this crawl process: opened by whichever component asks first (pipeline,
    middleware, extension), then shared, so the process holds one connection and binds the
    models once."""
    location = resolve_location(location)
    db = _crawl_stores.get(location)
    if db is None or db.is_closed() or database.obj is not db:
        db = _crawl_stores[location] = open_store(location)
    return db


_crawl_stores: dict[str, peewee.Database] = {}

SUPPORTED_STORES = "SQLite (a file path or sqlite:///PATH) and PostgreSQL (postgresql://)"


def _check_store_file(path: str) -> None:
    # Before SQLite opens it: SQLite would write a -journal or -wal file next to a device
    # (/dev/null-journal) and fail on a FIFO or a directory with a confusing message.
    try:
        mode = os.stat(path).st_mode  # through symlinks: a link to a store file is fine
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"The store {path} cannot be opened ({exc.strerror or exc}).") from exc
    if stat.S_ISREG(mode):
        return
    kind = (
        "a directory" if stat.S_ISDIR(mode)
        else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a FIFO" if stat.S_ISFIFO(mode)
        else "a special file"
    )  # fmt: skip
    raise StoreError(
        f"The store {path} is not a regular file (it is {kind}); give the path of a SQLite "
        "file or a database URL."
    )


def first_line(error: BaseException | str) -> str:
    """The first line of an error's message, spaces collapsed, without a final full stop.

    Drivers' messages span lines (psycopg2: "... failed: Connection refused\n\tIs the server
    running ...?", then DETAIL and HINT lines); the first keeps an error to one sentence. An
    exception with no message gives its type's name.
    """
    text = str(error).strip()
    if not text and isinstance(error, BaseException):
        text = type(error).__name__
    return " ".join(text.splitlines()[0].split()).rstrip(".") if text else ""


def _explain(location: str, exc: Exception) -> str:
    message = first_line(exc)
    for password in redact.passwords(location):  # a driver may echo its parameters
        # Whole words only: a one-letter password must not mangle the rest of the message.
        message = re.sub(rf"(?<!\w){re.escape(password)}(?!\w)", redact.MASK, message)
    message = redact.mask_credentials(message)
    where = describe_location(location)
    if "not a database" in message:
        return f"{where} is not a docscrawl store (not a database file)."
    if "readonly" in message or "read-only" in message:
        return f"The store {where} is read-only; docscrawl needs to write to it."
    if "unable to open" in message:
        return f"The store {where} cannot be opened ({message})."
    return f"The store {where} cannot be used: {message}."


def _uses_write_lock(db: peewee.Database) -> bool:
    # CockroachDB speaks PostgreSQL's protocol but has no advisory locks.
    return isinstance(db, peewee.PostgresqlDatabase) and "Cockroach" not in type(db).__name__


def _take_write_lock(db: peewee.Database) -> None:
    """In a PostgreSQL transaction: wait for the store's write lock, held until it ends."""
    if _uses_write_lock(db):
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))


def _ensure_schema(db: peewee.Database) -> None:
    sqlite = drivers.is_sqlite(db)
    if sqlite and StoreMeta.table_exists() and _recorded_version() == SCHEMA_VERSION:
        return  # the common case: no write, so no wait for a crawl's write lock
    # SQLite: BEGIN IMMEDIATE waits (the busy timeout) for another writer; a deferred
    # transaction that reads the version first would fail at once with "database is locked"
    # when it came to migrate. The version is read again inside: another process may have
    # migrated meanwhile.
    with db.atomic("IMMEDIATE") if sqlite else db.atomic():
        # Crawls started together on an empty PostgreSQL database would race to create the
        # tables (and the schema_version row); the first creates, the others then see them.
        _take_write_lock(db)
        if not StoreMeta.table_exists():
            db.create_tables(MODELS)
            _add_search_index(db)  # not a model: its table, triggers (and column) come here
            from docscrawl import fingerprints

            fingerprints.create_trigger(db)  # the model made the column and its index
            StoreMeta.create(key="schema_version", value=str(SCHEMA_VERSION))
            return
        version = _recorded_version()
        if version > SCHEMA_VERSION:
            raise peewee.DatabaseError(
                f"schema version {version} is newer than this docscrawl ({SCHEMA_VERSION})"
            )
        for step in sorted(step for step in MIGRATIONS if version < step <= SCHEMA_VERSION):
            MIGRATIONS[step](db)
        if version != SCHEMA_VERSION:
            StoreMeta.update(value=str(SCHEMA_VERSION)).where(
                StoreMeta.key == "schema_version"
            ).execute()


def schema_version() -> int:
    """The schema version recorded in the open store."""
    return _recorded_version()


def _recorded_version() -> int:
    row = StoreMeta.get_or_none(StoreMeta.key == "schema_version")
    # A DatabaseError, so that open_store explains it like any other unusable store.
    if row is None:
        raise peewee.DatabaseError("it records no schema version (store_meta has no row for it)")
    try:
        return int(row.value)
    except (TypeError, ValueError):
        raise peewee.DatabaseError(
            f"its schema version {row.value!r} is not a number (store_meta is damaged)"
        ) from None


def stream(query: Any, batch: int = 2000) -> Iterator[Any]:
    """A select's rows one by one without holding them all, whatever the result's size.

    SQLite steps its statement as rows are read (peewee's iterator() keeps none of them); on
    PostgreSQL the rows come through a server-side cursor, `batch` at a time.
    """
    db = database.obj
    if isinstance(db, peewee.PostgresqlDatabase) and hasattr(db, "_server_side_cursors"):
        from playhouse.postgres_ext import ServerSide

        yield from ServerSide(query, array_size=batch)
    else:
        yield from query.iterator()


# Variables a statement may have: 32,766 since SQLite 3.32, 999 before.
_SQLITE_VARIABLES = 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999


def insert_rows(
    model: type[peewee.Model],
    rows: list[dict[str, Any]],
    *,
    conflict: tuple[str, ...] = (),
    update: tuple[str, ...] = (),
    ignore: bool = False,
) -> None:
    """INSERT rows of model (dicts of field name -> value, all with the keys of the first) as
    Model.insert_many would, with the statement built once.

    peewee builds a node of SQL for every value of every row: building a batch's INSERTs took
    the crawl's thread twice as long as SQLite took to run them (issue 17). Here the statement
    is made once and each value converted by its field's db_value, as peewee does, then run in
    multi-row statements (SQLite) or by psycopg2's execute_values (PostgreSQL). With conflict (field
    names), a row whose key is there already updates the fields in update, or, with update
    empty, is left as it is; with ignore, a row that breaks any unique key is skipped
    (on_conflict_ignore). Missing fields get their defaults, as with insert_many.
    """
    if not rows:
        return
    meta = model._meta
    names = list(rows[0])
    defaulted = [f for n, f in meta.fields.items() if n not in rows[0] and f in meta.defaults]
    fields = [meta.fields[name] for name in names] + defaulted
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    tail = " ON CONFLICT DO NOTHING" if ignore else ""
    if conflict:
        target = ", ".join(f'"{meta.fields[name].column_name}"' for name in conflict)
        if update:
            sets = ", ".join(
                f'"{column}" = excluded."{column}"'
                for column in (meta.fields[name].column_name for name in update)
            )
            tail = f" ON CONFLICT ({target}) DO UPDATE SET {sets}"
        else:
            tail = f" ON CONFLICT ({target}) DO NOTHING"
    given = [(name, meta.fields[name].db_value) for name in names]
    defaults = [(meta.defaults[field], field.db_value) for field in defaulted]
    values = [
        (
            *(convert(row[name]) for name, convert in given),
            *(convert(value() if callable(value) else value) for value, convert in defaults),
        )
        for row in rows
    ]
    db = database.obj
    table = f'"{meta.table_name}"'
    with peewee.__exception_wrapper__:
        cursor = db.cursor()
        if drivers.is_sqlite(db):
            # As few statements as SQLite takes, not executemany: each statement is a
            # savepoint, at which FTS5 writes out a segment of what it holds, and segments are
            # merged as they pile up (search_index.AUTOMERGE, CRISISMERGE). A row a statement
            # made that 8 s a page on a big store; a flush's sections now take one.
            per = max(1, _SQLITE_VARIABLES // len(fields))
            one = "(" + ", ".join("?" * len(fields)) + ")"
            for start in range(0, len(values), per):
                chunk = values[start : start + per]
                marks = ", ".join([one] * len(chunk))
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) VALUES {marks}{tail}",
                    [value for row in chunk for value in row],
                )
        else:
            from psycopg2.extras import execute_values

            execute_values(cursor, f"INSERT INTO {table} ({columns}) VALUES %s{tail}", values,
                           page_size=200)  # fmt: skip


@contextmanager
def write_transaction() -> Iterator[None]:
    """A short write transaction that takes the write lock up front.

    On SQLite a deferred transaction that reads before it writes can fail with "database is
    locked" without waiting for the busy timeout; BEGIN IMMEDIATE waits instead. On PostgreSQL
    an advisory lock gives the same one-writer-at-a-time semantics, which the read-then-write
    code relies on (get_or_create_client, the pipeline's new/changed classification) and which
    keeps concurrent upserts of one client's pages from deadlocking.
    """
    db = database.obj
    if drivers.is_sqlite(db):
        with db.atomic("IMMEDIATE"):
            yield
    else:
        with db.atomic():
            _take_write_lock(db)
            yield


def get_or_create_client(name: str) -> Client:
    """The client with this name's slug, created if it does not exist yet."""
    slug = slugify(name)
    with write_transaction():
        client = Client.get_or_none(Client.slug == slug)
        if client is None:
            client = Client.create(name=name, slug=slug)
    return client


# Skips that leave a URL unfetched: such a page may still be there. (A page that answers 404 or
# 410, is a soft 404, or now redirects away, is gone; one that timed out or hit a trap rule is
# not known.)
NOT_FETCHED_KINDS = (TIMEOUT, NETWORK, ROBOTS, TOO_LARGE, TRAP, DEPTH, LIMIT, DUPLICATE)


def record_removed_pages(job_id: int, client_id: int, url_prefix: str) -> int:
    """Mark as ``removed`` for this job the client's pages under url_prefix that an earlier job
    saw (and did not already find removed) but this job did not. Returns how many.

    A page this job chose not to fetch (a trap rule, --max-depth, a timeout: its ledger says
    so) is not removed; and when the ledger's row cap left such skips unnamed, the job cannot
    tell a page it skipped from one that is gone, so it marks none.
    """
    job = Job.get_by_id(job_id)
    named = dict(
        CrawlError.select(CrawlError.kind, peewee.fn.COUNT(CrawlError.id))
        .where((CrawlError.job == job_id) & (CrawlError.kind << NOT_FETCHED_KINDS))
        .group_by(CrawlError.kind)
        .tuples()
    )
    counted = {kind: n for kind, n in (job.skipped or {}).items() if kind in NOT_FETCHED_KINDS}
    if any(n > named.get(kind, 0) for kind, n in counted.items()):
        logger.info(
            "Job %s: some skipped URLs are not in its ledger; no page marked removed", job_id
        )
        return 0
    skipped = CrawlError.select(CrawlError.url).where(
        (CrawlError.job == job_id) & (CrawlError.kind << NOT_FETCHED_KINDS)
    )
    earlier = (
        JobPage.select(JobPage.change)
        .where((JobPage.page == Page.id) & (JobPage.job < job_id))
        .order_by(JobPage.job.desc())
        .limit(1)
    )
    seen_now = JobPage.select(JobPage.id).where((JobPage.page == Page.id) & (JobPage.job == job_id))
    gone = Page.select(Page.id, Page.content_hash).where(
        (Page.client == client_id)
        & Page.url.startswith(url_prefix)
        & ~peewee.fn.EXISTS(seen_now)
        & (earlier.alias("last_change") != REMOVED)
        & ~(Page.url << skipped)
    )
    rows = [
        {"job": job_id, "page": page_id, "change": REMOVED, "content_hash": digest}
        for page_id, digest in gone.tuples()
    ]
    for start in range(0, len(rows), 500):
        JobPage.insert_many(rows[start : start + 500]).on_conflict_ignore().execute()
    return len(rows)


def write_sections(
    pages: list[tuple[int, str, str | None, str, list]], split: dict[int, list] | None = None
) -> int:
    """Replace the sections of these pages, given as (id, url, title, markdown, headings), with
    the sections of their Markdown, in the caller's transaction; `split` has those of pages an
    extraction worker split already, by page id. Returns how many pages could not be split
    (logged; they keep no sections rather than lose the page)."""
    from docscrawl.extraction.sections import split_sections  # lxml: only where pages change

    rows: list[dict[str, Any]] = []
    failed = 0
    split = split or {}
    for page_id, url, title, markdown, headings in pages:
        try:
            sections = split.get(page_id)
            if sections is None:
                sections = split_sections(url, title, markdown or "", headings or ())
        except Exception:  # a bug in splitting must not cost the crawl its pages
            logger.exception("Could not split %s into sections", url)
            failed += 1
            continue
        rows.extend(
            {
                "page": page_id,
                "position": section.position,
                **section.hierarchy,
                "anchor_url": section.anchor_url,
                "markdown": section.markdown,
                "text": section.text,
            }
            for section in sections
        )
    delete_sections([page[0] for page in pages])
    insert_rows(PageSection, rows)
    return failed


def delete_sections(page_ids: list[int]) -> None:
    """Delete the sections of these pages (and so their search-index entries)."""
    for start in range(0, len(page_ids), 500):
        PageSection.delete().where(PageSection.page << page_ids[start : start + 500]).execute()


def change_counts(job_id: int) -> dict[str, int]:
    """How many pages the job found new, changed, unchanged and removed."""
    counts = dict.fromkeys(CHANGES, 0)
    # COUNT(*), not COUNT(id): PostgreSQL then counts from the (job_id, change) index alone.
    query = (
        JobPage.select(JobPage.change, peewee.fn.COUNT(peewee.SQL("*")))
        .where(JobPage.job == job_id)
        .group_by(JobPage.change)
    )
    counts.update(dict(query.tuples()))
    return counts


def change_report(job_id: int) -> dict[str, Any] | None:
    """The job's change report (control/change_reports.py writes them), if one was written."""
    row = ChangeReport.select(ChangeReport.report).where(ChangeReport.job == job_id).first()
    return None if row is None else row.report
