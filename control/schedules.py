"""Recurring crawls: schedules kept in the store, and the rules that fire each due run once.

A schedule is a client's crawl on a cron rhythm, in a time zone. `docscrawl serve` runs the
Scheduler (control/server/scheduler.py), which asks ``claim_due`` for the runs that are due and
fires each. The rules, all in the store so that any number of servers may share it:

- **Never twice.** A run is claimed by inserting its row (unique per schedule and due time)
  and moving the schedule's ``next_run_at`` on, both in one write transaction, conditional on
  ``next_run_at`` still being the due time: of two servers, one claims and the other sees the
  schedule already moved on.
- **Never overlapping.** A run due while the schedule's previous job is still active is
  ``skipped`` (policy ``skip``), or ``queued`` and fired when that job ends (policy ``queue``).
- **Never silently missed.** Due times that passed while no server ran are recorded ``missed``;
  with policy ``catch-up`` the latest of them is fired once, with ``record`` none is.

Times in the store are naive UTC; cron expressions are read in the schedule's time zone
(croniter, zoneinfo), so "0 3 * * 1" is 03:00 on Mondays in Paris across daylight saving.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from control import jobs, validation
from control.exceptions import InvalidRequest, UnknownJob
from docscrawl import models
from docscrawl.models import Schedule, ScheduleRun

OVERLAP_POLICIES = ("skip", "queue")
MISSED_POLICIES = ("catch-up", "record")
# A run fired this late is still on time; past it, the due time counts as missed (downtime).
MISFIRE_GRACE = dt.timedelta(seconds=60)
# After a long downtime, at most this many missed due times are recorded one by one.
MAX_MISSED_RECORDED = 100

# Run outcomes.
CLAIMED = "claimed"  # being fired by a server right now
FIRED = "fired"
SKIPPED = "skipped"
QUEUED = "queued"
MISSED = "missed"
FAILED = "failed"
REQUESTED = "requested"  # `schedule run-now`: a server fires it at its next tick
OUTCOMES = (CLAIMED, FIRED, SKIPPED, QUEUED, MISSED, FAILED, REQUESTED)


class UnknownSchedule(UnknownJob):
    """No schedule has this id."""


def utc(moment: dt.datetime) -> dt.datetime:
    """An aware time as the store keeps it: naive UTC."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def check_timezone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidRequest(
            f"{name!r} is not a time zone; give an IANA name such as Europe/Paris or UTC."
        ) from None


def check_cron(expression: str) -> str:
    """A cron expression croniter reads: 5 fields, or 6 with seconds last."""
    # croniter is imported where a cron expression is read: every CLI command imports this
    # module (through its `schedule` commands) and would pay for it at start-up.
    from croniter import croniter

    expression = " ".join(str(expression).split())
    fields = expression.split(" ")
    if len(fields) not in (5, 6) or not croniter.is_valid(expression):
        raise InvalidRequest(
            f"{expression!r} is not a cron expression: give five fields, minute hour "
            "day-of-month month day-of-week, such as '0 3 * * 1' (Mondays at 03:00), or six "
            "with seconds last."
        )
    return expression


def next_runs(expression: str, timezone: str, after: dt.datetime, count: int) -> list[dt.datetime]:
    """The next ``count`` due times after ``after`` (naive UTC), as naive UTC."""
    from croniter import croniter
    from croniter.croniter import CroniterError

    zone = check_timezone(timezone)
    start = after.replace(tzinfo=dt.UTC).astimezone(zone)
    try:
        it = croniter(check_cron(expression), start)
        return [utc(it.get_next(dt.datetime)) for _ in range(count)]
    except CroniterError as exc:  # e.g. "0 0 31 2 *": a day that never comes
        raise InvalidRequest(f"{expression!r} never runs ({exc}).") from exc


def _due_times(schedule: Schedule, now: dt.datetime) -> Iterator[dt.datetime]:
    """The schedule's due times from its next_run_at up to now, oldest first."""
    moment = schedule.next_run_at
    while moment <= now:
        yield moment
        moment = next_runs(schedule.cron, schedule.timezone, moment, 1)[0]


@dataclass(frozen=True)
class ScheduleRequest:
    """A schedule to add, checked as `docscrawl schedule add` checks its options."""

    client_slug: str
    url: str
    cron: str
    timezone: str = "UTC"
    settings: dict[str, str] | None = None
    max_pages: int | None = None
    max_depth: int | None = None
    mode: str | None = None
    overlap: str = "skip"
    missed: str = "catch-up"


def add(request: ScheduleRequest, now: dt.datetime | None = None) -> Schedule:
    """Record a new schedule (checked first: nothing is written for a bad one)."""
    url = validation.validate_url(request.url)
    cron = check_cron(request.cron)
    check_timezone(request.timezone)
    validation.validate_limits(request.max_pages, request.max_depth)
    settings = validation.validate_settings(dict(request.settings or {}))
    if request.overlap not in OVERLAP_POLICIES:
        raise InvalidRequest(f"overlap must be one of {', '.join(OVERLAP_POLICIES)}.")
    if request.missed not in MISSED_POLICIES:
        raise InvalidRequest(f"missed must be one of {', '.join(MISSED_POLICIES)}.")
    if request.mode not in (None, "scrapyd", "local"):
        raise InvalidRequest("mode must be scrapyd or local.")
    validation.validate_client_name(request.client_slug or "")
    slug = models.slugify(request.client_slug)
    first = next_runs(cron, request.timezone, now or models.utcnow(), 1)[0]
    with models.write_transaction():
        client = models.Client.get_or_none(models.Client.slug == slug)
        if client is None:
            client = models.Client.create(name=request.client_slug, slug=slug)
        return Schedule.create(
            client=client,
            url=url,
            cron=cron,
            timezone=request.timezone,
            settings=settings,
            max_pages=request.max_pages,
            max_depth=request.max_depth,
            mode=request.mode,
            overlap=request.overlap,
            missed=request.missed,
            next_run_at=first,
        )


def get(schedule_id: int) -> Schedule:
    schedule = Schedule.get_or_none(Schedule.id == schedule_id)
    if schedule is None:
        raise UnknownSchedule(
            f"There is no schedule {schedule_id}; `docscrawl schedule list` shows them."
        )
    return schedule


def list_schedules() -> list[Schedule]:
    return list(Schedule.select(Schedule, models.Client).join(models.Client).order_by(Schedule.id))


def set_paused(schedule_id: int, paused: bool, now: dt.datetime | None = None) -> Schedule:
    """Pause, or resume from the next due time after now (the paused stretch is not missed)."""
    schedule = get(schedule_id)
    fields: dict[str, Any] = {"paused": paused}
    if not paused and schedule.paused:
        fields["next_run_at"] = next_runs(
            schedule.cron, schedule.timezone, now or models.utcnow(), 1
        )[0]
    with models.write_transaction():
        Schedule.update(fields).where(Schedule.id == schedule_id).execute()
    return get(schedule_id)


def remove(schedule_id: int) -> None:
    get(schedule_id)
    with models.write_transaction():
        Schedule.delete().where(Schedule.id == schedule_id).execute()


def request_run(schedule_id: int, now: dt.datetime | None = None) -> ScheduleRun:
    """`schedule run-now`: a run a server fires at its next tick (one outstanding at a time)."""
    schedule = get(schedule_id)
    now = now or models.utcnow()
    with models.write_transaction():
        waiting = (
            ScheduleRun.select()
            .where((ScheduleRun.schedule == schedule.id) & (ScheduleRun.outcome == REQUESTED))
            .first()
        )
        if waiting is not None:
            return waiting
        return ScheduleRun.create(
            schedule=schedule.id, due_at=now, outcome=REQUESTED, reason="run-now"
        )


def runs(schedule_id: int, limit: int = 20) -> list[ScheduleRun]:
    """The schedule's runs, newest first."""
    get(schedule_id)
    return list(
        ScheduleRun.select()
        .where(ScheduleRun.schedule == schedule_id)
        .order_by(ScheduleRun.due_at.desc(), ScheduleRun.id.desc())
        .limit(limit)
    )


def next_due() -> dt.datetime | None:
    """The earliest due time of any active schedule (naive UTC), or None."""
    return (
        Schedule.select(models.peewee.fn.MIN(Schedule.next_run_at))
        .where(Schedule.paused == False)  # noqa: E712 - SQL, not Python
        .scalar()
    )


# --- firing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A run this server claimed and must fire now (the run row exists with outcome claimed)."""

    run_id: int
    schedule_id: int
    due_at: dt.datetime


def _active_job(schedule: Schedule) -> models.Job | None:
    """The client's newest active job (a scheduled run or any other crawl of the client)."""
    return (
        models.Job.select()
        .where(
            (models.Job.client == schedule.client_id)
            & (models.Job.status << models.ACTIVE_STATUSES)
        )
        .order_by(models.Job.id.desc())
        .first()
    )


def claim_due(now: dt.datetime | None = None) -> list[Claim]:
    """Claim every run due now, recording skips, queues and misses; the runs to fire."""
    now = now or models.utcnow()
    claims: list[Claim] = []
    due = list(
        Schedule.select(Schedule.id)
        .where((Schedule.paused == False) & (Schedule.next_run_at <= now))  # noqa: E712
        .tuples()
    )
    for (schedule_id,) in due:
        claims.extend(_claim_schedule(schedule_id, now))
    claims.extend(_claim_waiting(now))
    return claims


def _claim_schedule(schedule_id: int, now: dt.datetime) -> list[Claim]:
    with models.write_transaction():
        schedule = Schedule.get_or_none(Schedule.id == schedule_id)
        if schedule is None or schedule.paused or schedule.next_run_at > now:
            return []  # another server claimed it meanwhile, or it was paused
        times = list(_due_times(schedule, now))
        following = next_runs(schedule.cron, schedule.timezone, times[-1], 1)[0]
        moved = (
            Schedule.update(next_run_at=following)
            .where((Schedule.id == schedule.id) & (Schedule.next_run_at == schedule.next_run_at))
            .execute()
        )
        if not moved:
            return []
        latest = times[-1]
        on_time = now - latest <= MISFIRE_GRACE
        fire = on_time or schedule.missed == "catch-up"
        earlier = times[:-1] if fire else times
        for moment in earlier[-MAX_MISSED_RECORDED:]:
            reason = "not fired at its due time (no server was running, or it was held up)"
            if fire:
                reason += f"; caught up by the run due {latest:%Y-%m-%d %H:%M:%S} UTC"
            ScheduleRun.create(schedule=schedule.id, due_at=moment, outcome=MISSED, reason=reason)
        if len(earlier) > MAX_MISSED_RECORDED:
            ScheduleRun.create(
                schedule=schedule.id,
                due_at=earlier[0] - dt.timedelta(microseconds=1),
                outcome=MISSED,
                reason=f"{len(earlier) - MAX_MISSED_RECORDED} earlier due times were missed too",
            )
        if not fire:
            return []
        late = "" if on_time else f" (fired {(now - latest).total_seconds():.0f} s late)"
        return _decide(schedule, latest, late)


def _decide(schedule: Schedule, due_at: dt.datetime, note: str = "") -> list[Claim]:
    """Inside the claiming transaction: fire, skip or queue the run due at due_at."""
    active = _active_job(schedule)
    if active is not None:
        queued = (
            ScheduleRun.select()
            .where((ScheduleRun.schedule == schedule.id) & (ScheduleRun.outcome == QUEUED))
            .exists()
        )
        if schedule.overlap == "queue" and not queued:
            why = f"job {active.id} was still {active.status}{note}"
            ScheduleRun.create(schedule=schedule.id, due_at=due_at, outcome=QUEUED, reason=why)
        else:
            why = f"job {active.id} was still {active.status}"
            if queued:
                why += ", and a run is already queued"
            ScheduleRun.create(schedule=schedule.id, due_at=due_at, outcome=SKIPPED,
                               reason=why + note)  # fmt: skip
        return []
    run = ScheduleRun.create(schedule=schedule.id, due_at=due_at, outcome=CLAIMED,
                             reason=note.strip(" ()") or None)  # fmt: skip
    return [Claim(run.id, schedule.id, due_at)]


def _claim_waiting(now: dt.datetime) -> list[Claim]:
    """Queued runs whose previous job has ended, and run-now requests: claim them to fire."""
    claims = []
    waiting = list(
        ScheduleRun.select(ScheduleRun.id)
        .where(ScheduleRun.outcome << (QUEUED, REQUESTED))
        .order_by(ScheduleRun.id)
        .tuples()
    )
    for (run_id,) in waiting:
        with models.write_transaction():
            run = ScheduleRun.get_or_none(ScheduleRun.id == run_id)
            if run is None or run.outcome not in (QUEUED, REQUESTED):
                continue
            schedule = Schedule.get_by_id(run.schedule_id)
            active = _active_job(schedule)
            if active is not None:
                if run.outcome == REQUESTED and schedule.overlap == "skip":
                    ScheduleRun.update(outcome=SKIPPED, reason=f"run-now: job {active.id} was "
                                       f"still {active.status}").where(
                        ScheduleRun.id == run.id).execute()  # fmt: skip
                continue  # a queued run waits for it to end
            moved = (
                ScheduleRun.update(outcome=CLAIMED)
                .where((ScheduleRun.id == run.id) & (ScheduleRun.outcome == run.outcome))
                .execute()
            )
            if moved:
                claims.append(Claim(run.id, schedule.id, run.due_at))
    return claims


def record_fired(claim: Claim, job_id: int, now: dt.datetime | None = None) -> None:
    with models.write_transaction():
        ScheduleRun.update(outcome=FIRED, job=job_id, fired_at=now or models.utcnow()).where(
            ScheduleRun.id == claim.run_id
        ).execute()


def record_failed(claim: Claim, reason: str) -> None:
    with models.write_transaction():
        ScheduleRun.update(outcome=FAILED, reason=reason, fired_at=models.utcnow()).where(
            ScheduleRun.id == claim.run_id
        ).execute()


def abandon_stale_claims(older_than: dt.timedelta, now: dt.datetime | None = None) -> int:
    """Runs claimed by a server that stopped before firing them: failed, with the reason."""
    cutoff = (now or models.utcnow()) - older_than
    with models.write_transaction():
        return (
            ScheduleRun.update(outcome=FAILED, reason="the server that claimed it stopped first")
            .where((ScheduleRun.outcome == CLAIMED) & (ScheduleRun.recorded_at < cutoff))
            .execute()
        )


# --- views ----------------------------------------------------------------------------------------


def run_as_dict(run: ScheduleRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "schedule_id": run.schedule_id,
        "due_at": jobs.iso(run.due_at),
        "fired_at": jobs.iso(run.fired_at),
        "outcome": run.outcome,
        "job_id": run.job_id,
        "reason": run.reason,
        "delay_seconds": (
            round((run.fired_at - run.due_at).total_seconds(), 3)
            if run.fired_at and run.outcome == FIRED
            else None
        ),
    }


def schedule_as_dict(schedule: Schedule, upcoming: int = 1) -> dict[str, Any]:
    counts = dict.fromkeys((FIRED, SKIPPED, QUEUED, MISSED, FAILED), 0)
    query = (
        ScheduleRun.select(ScheduleRun.outcome, models.peewee.fn.COUNT(ScheduleRun.id))
        .where(ScheduleRun.schedule == schedule.id)
        .group_by(ScheduleRun.outcome)
    )
    counts.update(dict(query.tuples()))
    last = (
        ScheduleRun.select()
        .where(ScheduleRun.schedule == schedule.id)
        .order_by(ScheduleRun.due_at.desc(), ScheduleRun.id.desc())
        .first()
    )
    return {
        "id": schedule.id,
        "client": schedule.client.slug,
        "url": schedule.url,
        "cron": schedule.cron,
        "timezone": schedule.timezone,
        "paused": schedule.paused,
        "overlap": schedule.overlap,
        "missed": schedule.missed,
        "mode": schedule.mode,
        "max_pages": schedule.max_pages,
        "max_depth": schedule.max_depth,
        "settings": schedule.settings,
        "next_run_at": None if schedule.paused else jobs.iso(schedule.next_run_at),
        "upcoming": [] if schedule.paused else _upcoming(schedule, upcoming),
        "runs": counts,
        "last_run": run_as_dict(last) if last else None,
        "created_at": jobs.iso(schedule.created_at),
    }


def _upcoming(schedule: Schedule, count: int) -> list[str | None]:
    if count < 1:
        return []
    later = next_runs(schedule.cron, schedule.timezone, schedule.next_run_at, count - 1)
    return [jobs.iso(moment) for moment in [schedule.next_run_at, *later]]
