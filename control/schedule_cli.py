"""`docscrawl schedule`: recurring crawls per client, fired by a running `docscrawl serve`."""

from __future__ import annotations

import click

from control import output, schedules
from control.cli import JOB_ID, json_option, parse_settings, pass_session
from control.exceptions import InvalidRequest
from control.session import CommandSession


def _usage(exc: InvalidRequest, param: str) -> click.BadParameter:
    return click.BadParameter(str(exc).rstrip("."), param_hint=param)


@click.group()
def schedule() -> None:
    """Recurring crawls per client: add, list, pause, resume, remove, run now."""


@schedule.command("add")
@click.option("--client-slug", required=True, help="The client (created if new).")
@click.option("--url", required=True, help="Start URL of each crawl.")
@click.option(
    "--cron", required=True, help="When: five cron fields, e.g. '0 3 * * 1' (Mondays 03:00)."
)
@click.option("--timezone", default="UTC", show_default=True, help="The cron's time zone (IANA).")
@click.option(
    "-s",
    "--setting",
    "settings",
    multiple=True,
    callback=parse_settings,
    metavar="KEY=VALUE",
    help="A Scrapy setting for each crawl (repeatable).",
)
@click.option("--max-pages", type=JOB_ID, help="Stop each crawl after this many pages.")
@click.option("--max-depth", type=click.IntRange(min=0), help="Follow links this deep.")
@click.option(
    "--mode",
    type=click.Choice(["scrapyd", "local"]),
    help="Where crawls run (default: Scrapyd when a node is reachable, else local).",
)
@click.option(
    "--overlap",
    type=click.Choice(schedules.OVERLAP_POLICIES),
    default="skip",
    show_default=True,
    help="A run due while the client's crawl still runs: skip it, or queue it.",
)
@click.option(
    "--missed",
    type=click.Choice(schedules.MISSED_POLICIES),
    default="catch-up",
    show_default=True,
    help="Runs due while no server ran: fire the latest once, or only record them.",
)
@json_option
@pass_session
def add_command(
    session: CommandSession,
    client_slug: str,
    url: str,
    cron: str,
    timezone: str,
    settings: dict[str, str],
    max_pages: int | None,
    max_depth: int | None,
    mode: str | None,
    overlap: str,
    missed: str,
    as_json: bool,
) -> None:
    """Add a schedule; shows its next five run times."""
    for check, value, param in (
        (schedules.check_cron, cron, "'--cron'"),
        (schedules.check_timezone, timezone, "'--timezone'"),
    ):
        try:
            check(value)
        except InvalidRequest as exc:
            raise _usage(exc, param) from exc
    try:
        from control.validation import validate_url

        validate_url(url)
    except InvalidRequest as exc:
        raise _usage(exc, "'--url'") from exc
    added = schedules.add(
        schedules.ScheduleRequest(
            client_slug=client_slug,
            url=url,
            cron=cron,
            timezone=timezone,
            settings=settings,
            max_pages=max_pages,
            max_depth=max_depth,
            mode=mode,
            overlap=overlap,
            missed=missed,
        )
    )
    shown = schedules.schedule_as_dict(added, upcoming=5)
    if as_json:
        output.print_json(shown)
        return
    click.echo(
        f"Schedule {added.id}: {added.url} for {added.client.slug}, {added.cron} "
        f"({added.timezone}). Next runs (UTC):"
    )
    for moment in shown["upcoming"]:
        click.echo(f"  {moment}")
    click.echo("A running `docscrawl serve` fires them.", err=True)


@schedule.command("list")
@json_option
@pass_session
def list_command(session: CommandSession, as_json: bool) -> None:
    """List the schedules with their next run and what their runs did."""
    found = [schedules.schedule_as_dict(s) for s in schedules.list_schedules()]
    if as_json:
        output.print_json(found)
        return
    if not found:
        click.echo("No schedules.", err=True)
        return
    rows = [
        (
            s["id"],
            s["client"],
            s["cron"],
            s["timezone"],
            "paused" if s["paused"] else s["next_run_at"],
            "{fired}/{skipped}/{missed}/{failed}".format(**s["runs"]),
            _last(s["last_run"]),
            s["url"],
        )
        for s in found
    ]
    click.echo(
        output.table(
            ["ID", "Client", "Cron", "Zone", "Next run", "Fired/skip/miss/fail", "Last", "URL"],
            rows,
        )
    )


def _last(run: dict | None) -> str:
    if run is None:
        return "-"
    job = f" job {run['job_id']}" if run["job_id"] else ""
    return f"{run['outcome']}{job} ({run['due_at']})"


@schedule.command("runs")
@click.argument("schedule_id", type=JOB_ID)
@click.option("--limit", type=JOB_ID, default=20, show_default=True, help="Show at most this many.")
@json_option
@pass_session
def runs_command(session: CommandSession, schedule_id: int, limit: int, as_json: bool) -> None:
    """A schedule's runs, newest first: fired, skipped, queued, missed or failed, and why."""
    found = [schedules.run_as_dict(run) for run in schedules.runs(schedule_id, limit)]
    if as_json:
        output.print_json(found)
        return
    rows = [
        (
            r["due_at"],
            r["outcome"],
            r["job_id"] or "-",
            "-" if r["delay_seconds"] is None else f"{r['delay_seconds']:.2f}s",
            r["reason"] or "",
        )
        for r in found
    ]
    click.echo(output.table(["Due (UTC)", "Outcome", "Job", "Late by", "Why"], rows))


def _simple(name: str, help_text: str, action) -> None:
    @schedule.command(name, help=help_text)
    @click.argument("schedule_id", type=JOB_ID)
    @pass_session
    def command(session: CommandSession, schedule_id: int) -> None:
        click.echo(action(schedule_id))


_simple(
    "pause",
    "Pause a schedule (its due times pass without a run).",
    lambda i: f"Schedule {schedules.set_paused(i, True).id} paused.",
)
_simple(
    "resume",
    "Resume a paused schedule from its next due time.",
    lambda i: (
        f"Schedule {i} resumed; next run "
        f"{schedules.schedule_as_dict(schedules.set_paused(i, False))['next_run_at']}."
    ),
)


def _remove(schedule_id: int) -> str:
    schedules.remove(schedule_id)
    return f"Schedule {schedule_id} removed (its jobs and pages are kept)."


def _run_now(schedule_id: int) -> str:
    run = schedules.request_run(schedule_id)
    return (
        f"Schedule {schedule_id}: run requested (run {run.id}); a running `docscrawl serve` "
        "fires it within a second."
    )


_simple("remove", "Remove a schedule (its jobs and pages are kept).", _remove)
_simple("run-now", "Fire a run now, through a running `docscrawl serve`.", _run_now)
