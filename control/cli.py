"""The `docscrawl` command: a thin click layer over the job service and the Scrapyd client."""

from __future__ import annotations

import functools
import importlib
import sqlite3
import sys
import time
from collections.abc import Callable
from typing import Any

import click
import peewee

from control import environment, jobs, output, validation
from control.exceptions import DocscrawlError, Interrupted, InvalidEnvironment, InvalidRequest
from control.session import CommandSession
from docscrawl import backfill, models

EXIT_CANCELLED = 130  # what a shell reports for a program stopped by Ctrl+C
# A positive integer no bigger than SQLite's and PostgreSQL's largest integer key.
JOB_ID = click.IntRange(min=1, max=2**63 - 1)


class EnvironmentUsageError(click.ClickException):
    """A bad environment variable: one sentence, exit 2, no usage text (no option is bad)."""

    exit_code = 2


class DocscrawlGroup(click.Group):
    """Turns every domain error into one sentence on stderr and exit 1, never a traceback.

    The commands kept in modules of their own are imported when used (or listed by --help):
    a command starts without importing the others' code."""

    lazy_commands = {
        "history": "control.history_cli:history",
        "schedule": "control.schedule_cli:schedule",
        "search": "control.search_cli:search",
        "serve": "control.serve_cli:serve",
        "webhook": "control.webhook_cli:webhook",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            module, name = self.lazy_commands[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InvalidEnvironment as exc:
            raise EnvironmentUsageError(str(exc)) from exc
        except Interrupted as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(EXIT_CANCELLED)
        except KeyboardInterrupt:
            # Whatever was interrupted wrote nothing half-done: writes are short transactions.
            click.echo("Error: Interrupted (Ctrl+C).", err=True)
            sys.exit(EXIT_CANCELLED)
        except DocscrawlError as exc:
            raise click.ClickException(str(exc)) from exc
        except (peewee.DatabaseError, sqlite3.DatabaseError) as exc:
            session = ctx.find_object(CommandSession)
            where = models.describe_location(session.db) if session else "the store"
            # Drivers (psycopg2) add DETAIL and HINT lines, and may echo the connection string.
            reason = models.describe_location(models.first_line(exc))
            if "readonly" in reason:
                message = f"The store {where} is read-only; docscrawl needs to write to it."
            else:
                message = f"The store {where} cannot be used ({reason})."
            raise click.ClickException(message) from exc


def pass_session(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give the command the global CommandSession, with the store opened."""

    @click.pass_context
    @functools.wraps(command)
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        session: CommandSession = ctx.find_object(CommandSession)
        jobs.open_store(session.db)
        return ctx.invoke(command, session, *args, **kwargs)

    return wrapper


def job_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--job",
        "job_id",
        type=JOB_ID,
        required=True,
        help="Our job id.",
    )(command)


def json_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")(
        command
    )


@click.group(cls=DocscrawlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="DOCSCRAWL_DB",
    default="docscrawl.db",
    show_default=True,
    help="The store: a SQLite path or a peewee database URL (env DOCSCRAWL_DB).",
)
@click.option(
    "--scrapyd",
    "scrapyd_url",
    envvar="SCRAPYD_URL",
    default=None,
    help="Scrapyd URL (env SCRAPYD_URL; default: [deploy] url in scrapy.cfg, else "
    "http://127.0.0.1:6800).",
)
@click.version_option(package_name="docscrawl")
@click.pass_context
def main(ctx: click.Context, db: str, scrapyd_url: str | None) -> None:
    """Crawl documentation sites and keep every page in a store you can analyse."""
    # Every variable is checked before any command writes anything; one an option overrides
    # (--db over DOCSCRAWL_DB) is not used, so it is not checked.
    overridden = [
        variable
        for param, variable in (("db", environment.DB), ("scrapyd_url", environment.SCRAPYD_URL))
        if ctx.get_parameter_source(param) is not click.core.ParameterSource.ENVIRONMENT
    ]
    environment.check(ignore=overridden)
    # A store opened for the first time by this version may be indexed for search or
    # fingerprinted as it opens: minutes on a big store, so it says how far it is.
    backfill.progress_reporter = report_migration_progress
    ctx.obj = CommandSession(db=models.resolve_location(db), scrapyd_url=scrapyd_url)


def report_migration_progress(task: str, done: int, total: int, unit: str) -> None:
    click.echo(f"{task}: {done} of {total} {unit}", err=True)


def parse_settings(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict:
    settings = {}
    for value in values:
        key, sep, setting = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", ctx=ctx, param=param)
        settings[key.strip()] = setting
    try:
        return validation.validate_settings(settings)
    except InvalidRequest as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


def check_share(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    # Not click.FloatRange: it lets nan through (every comparison with nan is false).
    if value is not None and not 0 < value <= 1:
        raise click.BadParameter(
            f"{value:g} is not a share greater than 0 and at most 1", ctx=ctx, param=param
        )
    return value


def check_client(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    try:
        return None if value is None else validation.validate_client_name(value)
    except InvalidRequest as exc:
        raise click.BadParameter(str(exc).rstrip("."), ctx=ctx, param=param) from exc


def check_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return validation.validate_url(value)
    except InvalidRequest as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


@main.command()
@click.option(
    "--url",
    required=True,
    callback=check_url,
    help="Start URL; the crawl stays on its host and under its path.",
)
@click.option(
    "--client",
    "client_name",
    callback=check_client,
    help="Client name (default: the URL's host).",
)
@click.option("--async", "run_async", is_flag=True, help="Schedule on Scrapyd and return.")
@click.option("--max-pages", type=JOB_ID, help="Stop after this many pages.")
@click.option("--max-depth", type=click.IntRange(min=0), help="Follow links this deep.")
@click.option(
    "-s",
    "--setting",
    "settings",
    multiple=True,
    callback=parse_settings,
    metavar="KEY=VALUE",
    help="A Scrapy setting, as with `scrapy crawl -s` (repeatable).",
)
@click.option("--quiet", is_flag=True, help="No live progress on stderr.")
@click.option("--node", help="With --async: run on this Scrapyd node (name or URL).")
@pass_session
def crawl(
    session: CommandSession,
    url: str,
    client_name: str | None,
    run_async: bool,
    max_pages: int | None,
    max_depth: int | None,
    settings: dict[str, str],
    quiet: bool,
    node: str | None,
) -> None:
    """Crawl a documentation site, in the foreground or on Scrapyd (--async)."""
    from urllib.parse import urlsplit

    client_name = client_name or urlsplit(url).hostname or "default"
    if run_async:
        from control import scheduling
        from control.nodes import pick_node

        target = pick_node(session.nodes(), node)
        job, scrapyd_job_id = scheduling.schedule_crawl(
            target,
            session.db,
            url=url,
            client_name=client_name,
            max_pages=max_pages,
            max_depth=max_depth,
            settings=settings,
        )
        click.echo(f"Job {job.id} scheduled on Scrapyd as {scrapyd_job_id} ({target.url}).")
        return
    if node:
        raise click.UsageError("--node goes with --async.")

    job = jobs.create_job(
        url, client_name, max_pages=max_pages, max_depth=max_depth, settings=settings
    )
    click.echo(f"Job {job.id}: crawling {url} for {job.client.name}")
    _run_in_foreground(session, job, quiet=quiet)


def _run_in_foreground(
    session: CommandSession, job: models.Job, *, quiet: bool, resume: bool = False
):
    """Run the job's crawl in this process, then report its outcome (and exit code)."""
    sys.stdout.flush()
    from docscrawl.runner import run_foreground_crawl

    # The runner leaves the job finished whatever happens (Ctrl+C before the crawl started, a
    # crawl Scrapy cannot start): here only the report.
    run_foreground_crawl(
        job.id,
        session.db,
        job.url,
        max_pages=job.max_pages,
        max_depth=job.max_depth,
        overrides=job.settings,
        progress=not quiet,
        resume=resume,
    )
    job = jobs.get_job(job.id)
    seconds = jobs.duration_seconds(job)
    rate = f", {job.pages / seconds:.1f} pages/s" if seconds else ""
    summary = (
        f"Job {job.id} {job.status}: {job.pages} pages, {job.errors} errors "
        f"in {output.duration(seconds)}{rate}"
    )
    if job.status == models.COMPLETED:
        click.echo(summary + ".")
    elif job.status == models.CANCELLED:
        click.echo(summary + " (cancelled; pages so far are kept).")
        sys.exit(EXIT_CANCELLED)
    else:
        raise click.ClickException(f"{summary}: {job.finish_reason}.")


@main.command()
@job_option
@click.option("--async", "run_async", is_flag=True, help="Resume on Scrapyd and return.")
@click.option("--quiet", is_flag=True, help="No live progress on stderr.")
@pass_session
def resume(session: CommandSession, job_id: int, run_async: bool, quiet: bool) -> None:
    """Continue a cancelled or failed job from where it stopped (same job id)."""
    if run_async:
        from control import scheduling
        from control.nodes import pick_node

        previous = jobs.get_job(job_id)
        # Back to the job's own node when it ran on one, else wherever there is room.
        target = (
            session.target_for(previous.node)
            if previous.mode == "scrapyd" and previous.node
            else pick_node(session.nodes())
        )
        job = jobs.begin_resume(job_id, mode="scrapyd", probes=session.probes())
        scrapyd_job_id = scheduling.schedule_resume(target, session.db, job)
        click.echo(f"Job {job.id} resumed on Scrapyd as {scrapyd_job_id} ({target.url}).")
        return
    job = jobs.begin_resume(job_id, mode="sync", probes=session.probes())
    click.echo(f"Job {job.id}: resuming {job.url} for {job.client.name} ({job.pages} pages so far)")
    _run_in_foreground(session, job, quiet=quiet, resume=True)


@main.command()
@json_option
@pass_session
def nodes(session: CommandSession, as_json: bool) -> None:
    """List the Scrapyd nodes: reachable, running/pending/max_proc, deployed version."""
    from control.nodes import node_status

    statuses = [node_status(node) for node in session.nodes()]
    if as_json:
        output.print_json([status.as_dict() for status in statuses])
        return
    rows = [
        (
            s.name,
            s.url,
            "yes" if s.reachable else "no",
            s.running,
            s.pending,
            s.max_proc,
            s.version if s.deployed else ("no" if s.reachable else None),
        )
        for s in statuses
    ]
    click.echo(
        output.table(["Node", "URL", "Reachable", "Running", "Pending", "Max", "Deployed"], rows)
    )
    for s in statuses:
        if s.error:
            click.echo(f"{s.name}: {s.error}", err=True)


def _warn_unreachable(session: CommandSession) -> None:
    """Say which nodes could not be asked, so a stale status is not taken for a fresh one."""
    for view in session.unreachable_nodes():
        click.echo(
            f"Warning: node {view.node.target.name} ({view.node.url}) cannot be reached; its "
            "jobs show their last known state.",
            err=True,
        )


# How many jobs `list` shows unless told otherwise (--limit N, --all): a screenful.
LIST_LIMIT = 30


def parse_when(ctx: click.Context, param: click.Parameter, value: str | None):
    """--since / --until: an ISO date (the whole day, UTC) or datetime (UTC unless it says)."""
    if value is None:
        return None
    import datetime as dt

    try:
        if len(value) == 10:  # a date: --since from its start, --until to its end
            day = dt.datetime.combine(dt.date.fromisoformat(value), dt.time())
            return day if param.name == "since" else day + dt.timedelta(days=1, microseconds=-1)
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO date or datetime (2026-12-01, 2026-12-01T09:30Z)",
            ctx=ctx,
            param=param,
        ) from None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when


@main.command("list")
@click.option("--status", type=click.Choice(models.STATUSES), help="Only jobs in this status.")
@click.option("--client", "client_slug", help="Only jobs of this client (its slug).")
@click.option("--limit", type=JOB_ID, help=f"Show the newest N jobs (default {LIST_LIMIT}).")
@click.option("--all", "show_all", is_flag=True, help="Show every job.")
@click.option("--since", callback=parse_when, help="Only jobs created at or after this date (UTC).")
@click.option(
    "--until", callback=parse_when, help="Only jobs created at or before this date (UTC)."
)
@json_option
@pass_session
def list_command(
    session: CommandSession,
    status: str | None,
    client_slug: str | None,
    limit: int | None,
    show_all: bool,
    since: Any,
    until: Any,
    as_json: bool,
) -> None:
    """List jobs, newest first: the last 30 unless --limit N or --all."""
    if show_all and limit is not None:
        raise click.UsageError("Give --limit N or --all, not both.")
    for note in session.reconcile():
        click.echo(f"Job {note.job_id} is now {note.status}: {note.reason}.", err=True)
    _warn_unreachable(session)
    listing = jobs.list_job_summaries(
        status,
        client_slug,
        limit=None if show_all else limit or LIST_LIMIT,
        since=since,
        until=until,
    )
    if as_json:
        output.print_json(listing.jobs)
    elif not listing.jobs:
        click.echo("No jobs.", err=True)
    else:
        rows = [
            (
                job["id"],
                job["status"],
                job["client"],
                job["url"],
                job["pages"],
                job["started_at"] or "-",
                output.duration(job["duration"]),
            )
            for job in listing.jobs
        ]
        click.echo(
            output.table(["ID", "Status", "Client", "URL", "Pages", "Started", "Duration"], rows)
        )
    if listing.more:
        noun = "job" if listing.more == 1 else "jobs"
        click.echo(f"{listing.more} more {noun}; --limit or --all shows them.", err=True)


@main.command()
@job_option
@json_option
@click.option(
    "--watch",
    is_flag=True,
    help="Refresh every second until the job ends (JSON Lines with --json).",
)
@pass_session
def status(session: CommandSession, job_id: int, as_json: bool, watch: bool) -> None:
    """Show one job: status, pages, errors, rate, timings, where it runs."""
    while True:
        job = jobs.get_job(job_id)
        for note in session.reconcile([job]):
            click.echo(f"Job {note.job_id} is now {note.status}: {note.reason}.", err=True)
        job = jobs.get_job(job_id)
        details = session.merge_scrapyd(job, jobs.job_details(job))
        _warn_unreachable(session)
        if as_json and watch:
            output.print_json_line(details)  # one document per refresh: JSON Lines
        elif as_json:
            output.print_json(details)
        else:
            click.echo(_status_block(details))
        if not watch or job.status in models.FINISHED_STATUSES:
            return
        time.sleep(1.0)
        if not as_json:
            click.echo("")


def _skipped_line(counts: dict[str, int] | None) -> str | None:
    if not counts:
        return None
    return ", ".join(f"{count} {kind}" for kind, count in counts.items())


def _flagged_line(details: dict[str, Any]) -> str | None:
    flagged = details.get("extraction_flagged")
    if not flagged:  # shown only when there is something to check, like the failures
        return None
    noun = "page" if flagged == 1 else "pages"
    return f"{flagged} {noun} (`docscrawl audit --job {details['id']}` lists them)"


def _changes_line(counts: dict[str, int] | None) -> str | None:
    if not counts or not any(counts.values()):
        return None
    return ", ".join(f"{counts[name]} {name}" for name in models.CHANGES)


def _report_line(details: dict[str, Any]) -> str | None:
    report = details.get("change_report")
    if not report:
        return None
    since = f" since job {report['previous_job_id']}" if report.get("previous_job_id") else ""
    return f"{report['summary']}{since} (GET /api/jobs/{details['id']}/changes lists them)"


def _status_block(details: dict[str, Any]) -> str:
    rate = details["rate"]
    return output.key_values(
        [
            ("Job", details["id"]),
            ("Status", details["status"]),
            ("Client", f"{details['client_name']} ({details['client']})"),
            ("URL", details["url"]),
            ("Pages", details["pages"]),
            ("Errors", details["errors"]),
            ("Not stored", _skipped_line(details.get("skipped"))),  # details: `skipped`
            ("Extraction failures", _skipped_line(details.get("extraction_failures"))),
            ("Extraction flagged", _flagged_line(details)),
            ("Changes", _changes_line(details.get("changes"))),
            ("Change report", _report_line(details)),
            ("Queued", details["queued"] if details["status"] in models.ACTIVE_STATUSES else None),
            ("Rate", f"{rate:.1f} pages/s" if rate else None),
            ("Created", details["created_at"]),
            ("Started", details["started_at"]),
            ("Finished", details["finished_at"]),
            ("Duration", output.duration(details["duration"])),
            ("Finish reason", details["finish_reason"]),
            ("Resumed", f"{details['resumes']} times" if details.get("resumes") else None),
            ("Scrapyd job", details["scrapyd_job_id"]),
            ("Node", details["node"]),
            ("PID", details["pid"]),
            ("Log", details["log_url"]),
        ]
    )


@main.command()
@job_option
@click.option(
    "--reason",
    "kind",
    type=click.Choice(models.KINDS),
    help="Only URLs not stored for this reason.",
)
@click.option("--url", help="Why the job did not store this URL (or that it did).")
@click.option("--limit", type=JOB_ID, help="Show at most this many.")
@json_option
@pass_session
def skipped(
    session: CommandSession,
    job_id: int,
    kind: str | None,
    url: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """List the URLs a job did not store and why, or say why one URL is not stored (--url)."""
    from control import ledger

    if url is not None and not as_json:
        click.echo(ledger.explain_url(job_id, url))
        return
    entries = ledger.unstored_urls(job_id, kind, url, limit)
    if as_json:
        output.print_json([entry.as_dict() for entry in entries])
        return
    counts = jobs.get_job(job_id).skipped or {}
    click.echo(f"Job {job_id} did not store: {_skipped_line(counts) or 'nothing'}", err=True)
    rows = [(e.kind, e.status_code, e.url, e.reason) for e in entries]
    if rows:
        click.echo(output.table(["Reason", "HTTP", "URL", "Why"], rows))


@main.command()
@job_option
@click.option(
    "--below",
    type=float,
    callback=check_share,
    help="Flag pages whose text share is below this (default: DOCSCRAWL_AUDIT_MIN_TEXT_SHARE, "
    "else 0.2).",
)
@click.option("--limit", type=JOB_ID, help="Show at most this many.")
@json_option
@pass_session
def audit(
    session: CommandSession, job_id: int, below: float | None, limit: int | None, as_json: bool
) -> None:
    """List a job's pages whose extraction should be checked, worst first."""
    from control import audit as audit_service

    flagged = audit_service.flagged_pages(job_id, below, limit)
    if as_json:
        output.print_json([page.as_dict() for page in flagged])
        return
    threshold = audit_service.min_text_share(below)
    click.echo(
        f"Job {job_id}: {len(flagged)} {'page' if len(flagged) == 1 else 'pages'} flagged "
        f"(text share below {threshold:g}, a heading, code block or table lost, or no main "
        "region found)",
        err=True,
    )
    rows = [
        (
            page.url,
            f"{page.text_share:.2f}",
            "{}/{}".format(*page.headings),
            "{}/{}".format(*page.code_blocks),
            "{}/{}".format(*page.tables),
            page.rule,
            page.why(),
        )
        for page in flagged
    ]
    if rows:
        click.echo(
            output.table(["URL", "Share", "Headings", "Code", "Tables", "Rule", "Why"], rows)
        )


@main.command()
@click.option("--job", "job_id", type=JOB_ID, help="The job to cancel.")
@click.option("--all", "cancel_all", is_flag=True, help="Cancel every pending and running job.")
@click.option("--force", is_flag=True, help="Mark cancelled whatever the state; kill if needed.")
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds to wait for a running crawl to stop.",
)
@pass_session
def cancel(
    session: CommandSession, job_id: int | None, cancel_all: bool, force: bool, wait: float
) -> None:
    """Cancel a job (--job N) or every active job (--all)."""
    if (job_id is None) == (not cancel_all):
        raise click.UsageError("Give either --job N or --all.")
    if cancel_all:
        results = jobs.cancel_all(
            force=force,
            wait=wait,
            probes=[session.alive_on_scrapyd],
            stop_remote=session.stop_on_scrapyd,
        )
        if not results:
            click.echo("No pending or running jobs.")
        for result in results:
            click.echo(result.message, err=result.failed)
        failed = [result.job_id for result in results if result.failed]
        if failed:
            raise click.ClickException(
                f"{len(failed)} of {len(results)} jobs could not be cancelled: "
                + ", ".join(map(str, failed))
                + "."
            )
        return
    result = jobs.cancel_job(
        job_id,
        force=force,
        wait=wait,
        probes=[session.alive_on_scrapyd],
        stop_remote=session.stop_on_scrapyd,
    )
    click.echo(result.message)


@main.command()
@json_option
@pass_session
def reconcile(session: CommandSession, as_json: bool) -> None:
    """Find jobs marked active whose process is gone, and finish them."""
    notes = session.reconcile()
    if as_json:
        output.print_json([note.__dict__ for note in notes])
        return
    if not notes:
        click.echo("Every active job has a live process.")
    for note in notes:
        click.echo(f"Job {note.job_id} is now {note.status}: {note.reason}.")


@main.command("migrate-store")
@click.option("--from", "source", required=True, help="The store to copy (a SQLite path).")
@click.option("--to", "target", required=True, help="The database URL to copy it into.")
@json_option
def migrate_store_command(source: str, target: str, as_json: bool) -> None:
    """Copy a store into another database (e.g. PostgreSQL), keeping every id; idempotent."""
    from control.migrate_store import migrate_store

    report = migrate_store(source, target)
    if as_json:
        output.print_json(report.as_dict())
        return
    click.echo(output.table(report.headers(), report.rows()))
    click.echo(report.summary())


@main.command()
@click.option("--client-slug", required=True, help="The client whose pages to deduplicate.")
@click.option("--dry-run", is_flag=True, help="Report what would be removed; change nothing.")
@click.option("--near", is_flag=True, help="Also report near-duplicates (never removed).")
@json_option
@pass_session
def dedupe(
    session: CommandSession, client_slug: str, dry_run: bool, near: bool, as_json: bool
) -> None:
    """Remove a client's duplicate pages: one URL stored twice, or one text under two URLs."""
    from control import dedupe as dedupe_service  # its own imports: only for this command

    report = dedupe_service.dedupe_client(client_slug, dry_run=dry_run, near=near)
    if as_json:
        output.print_json(report.as_dict())
        return
    verb = "Would remove" if dry_run else "Removed"
    for group in report.groups:
        click.echo(f"Kept    {group.kept}  ({group.reason})")
        for url in group.removed:
            click.echo(f"  {'would remove' if dry_run else 'removed'} {url}")
    click.echo(
        f"{verb} {report.removed_count} duplicate pages in {len(report.groups)} groups "
        f"for client {client_slug}."
    )
    if report.near is not None:
        for pair in report.near:
            click.echo(f"Near    {pair.first} ~ {pair.second}  ({pair.distance} bits apart)")
        click.echo(f"{len(report.near)} near-duplicate pairs (reported only, not removed).")


@main.command()
@click.option("--client-slug", help="Export every page of this client.")
@click.option(
    "--job",
    "job_id",
    type=JOB_ID,
    help="Export the pages this job saw.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv", "markdown", "sections"]),
    required=True,
    help="jsonl and csv: one row per page; markdown: a folder tree of .md files; sections: "
    "one JSON line per section of a page (a heading through to the next).",
)  # fmt: skip
@click.option(
    "--out", required=True, help="A file (jsonl, csv; - for stdout) or a folder (markdown)."
)
@pass_session
def export(
    session: CommandSession, client_slug: str | None, job_id: int | None, fmt: str, out: str
) -> None:
    """Export pages with every extracted field, or their sections, for analysis elsewhere."""
    from control.export import export_pages

    if (client_slug is None) == (job_id is None):
        raise click.UsageError("Give exactly one of --client-slug SLUG or --job N.")
    result = export_pages(client_slug=client_slug, job_id=job_id, fmt=fmt, out=out)
    where = "stdout" if result.out == "-" else result.out
    if fmt == "sections":
        click.echo(
            f"Exported {result.sections} sections of {result.pages} pages to {where}.", err=True
        )
        return
    click.echo(f"Exported {result.pages} pages as {fmt} to {where}.", err=True)


@main.command()
@click.option(
    "--job",
    "job_ids",
    type=JOB_ID,
    multiple=True,
    help="Two jobs: older, newer.",
)
@click.option("--client-slug", help="Compare the client's last two completed crawls.")
@click.option("--show", is_flag=True, help="Also print how each changed page's Markdown changed.")
@json_option
@pass_session
def diff(
    session: CommandSession,
    job_ids: tuple[int, ...],
    client_slug: str | None,
    show: bool,
    as_json: bool,
) -> None:
    """List what changed between two crawls: pages added, removed and changed."""
    from control import changes
    from control import history as page_history

    if (client_slug and job_ids) or (not client_slug and len(job_ids) != 2):
        raise click.UsageError("Give --job A --job B, or --client-slug SLUG.")
    old, new = changes.last_two_completed(client_slug) if client_slug else job_ids
    result = changes.diff_jobs(old, new)
    diffs = page_history.page_diffs(result) if show else []
    if as_json:
        document = result.as_dict()
        if show:
            document["diffs"] = {d.url: d.text for d in diffs}
        output.print_json(document)
        return
    for label, urls in (("added", result.added), ("removed", result.removed),
                        ("changed", result.changed)):  # fmt: skip
        for url in urls:
            click.echo(f"{label:<8} {url}")
    click.echo(
        f"Job {old} -> job {new}: {len(result.added)} added, {len(result.removed)} removed, "
        f"{len(result.changed)} changed, {result.unchanged} unchanged."
    )
    for page_diff in diffs:
        click.echo(page_diff.line())
