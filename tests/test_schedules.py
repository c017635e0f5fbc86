"""Recurring crawls: schedules fired by a real `docscrawl serve` on a seconds cron, crawling the
real sample site; never twice (two servers on one PostgreSQL store), never overlapping, never
silently missed; bad cron expressions and time zones refused up front."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from conftest import Cli, Store, wait_for
from support import DocscrawlServer, serve_directory, start_server

from control import change_reports, schedules
from docscrawl import models

EVERY_2_SECONDS = "* * * * * */2"


def _runs(server: DocscrawlServer, schedule_id: int) -> list[dict]:
    response = server.api("GET", f"/api/schedules/{schedule_id}/runs?limit=500")
    assert response.status_code == 200, response.text
    return response.json()


def _add(server: DocscrawlServer, **body) -> dict:
    response = server.api("POST", "/api/schedules", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_bad_schedules_are_usage_errors(cli: Cli, store: Store) -> None:
    base = ["schedule", "add", "--client-slug", "acme", "--url", "http://127.0.0.1:9/"]
    for cron in ("61 * * * *", "every monday", "* * *", "0 0 31 2 *"):
        result = cli(*base, "--cron", cron)
        assert result.returncode == 2 if cron != "0 0 31 2 *" else result.returncode in (1, 2)
        assert "Traceback" not in result.stderr
        assert len([line for line in result.stderr.splitlines() if "Error" in line]) == 1
    zone = cli(*base, "--cron", "0 3 * * 1", "--timezone", "Mars/Olympus")
    assert zone.returncode == 2 and "not a time zone" in zone.stderr
    url = cli("schedule", "add", "--client-slug", "a", "--url", "ftp://x", "--cron", "0 3 * * *")
    assert url.returncode == 2 and "http(s)" in url.stderr
    setting = cli(*base, "--cron", "0 3 * * 1", "-s", "CONCURRENT_REQUESTS=0")
    assert setting.returncode == 2 and "at least 1" in setting.stderr
    assert store.value("SELECT COUNT(*) FROM schedule") == 0
    for command in ("pause", "resume", "remove", "run-now", "runs"):
        unknown = cli("schedule", command, "42")
        assert unknown.returncode == 1 and "There is no schedule 42" in unknown.stderr


def test_add_shows_the_next_five_runs_in_the_time_zone(cli: Cli) -> None:
    result = cli("schedule", "add", "--client-slug", "acme", "--url", "http://127.0.0.1:9/",
                 "--cron", "0 3 * * 1", "--timezone", "Europe/Paris", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    shown = result.json()
    upcoming = [dt.datetime.fromisoformat(t.removesuffix("Z")) for t in shown["upcoming"]]
    assert len(upcoming) == 5
    for moment in upcoming:
        paris = moment.replace(tzinfo=dt.UTC).astimezone(__import__("zoneinfo").ZoneInfo(
            "Europe/Paris"))  # fmt: skip
        assert (paris.weekday(), paris.hour, paris.minute) == (0, 3, 0)
    listed = cli("schedule", "list", "--json").json()
    assert [s["id"] for s in listed] == [shown["id"]] and listed[0]["timezone"] == "Europe/Paris"
    assert cli("schedule", "pause", str(shown["id"])).returncode == 0
    assert cli("schedule", "list", "--json").json()[0]["paused"] is True
    assert cli("schedule", "resume", str(shown["id"])).returncode == 0
    assert cli("schedule", "remove", str(shown["id"])).returncode == 0
    assert cli("schedule", "list", "--json").json() == []


def test_a_schedule_fires_on_time_and_each_run_crawls(server: DocscrawlServer, site: str) -> None:
    added = _add(server, client_slug="sample", url=site, cron=EVERY_2_SECONDS, max_pages=3,
                 mode="local")  # fmt: skip
    fired = wait_for(
        lambda: (
            (runs := [r for r in _runs(server, added["id"]) if r["outcome"] == "fired"])
            and len(runs) >= 3
            and runs
        ),
        timeout=60,
    )
    for run in fired:
        assert 0 <= run["delay_seconds"] < 1.5, run  # fired when due, not a tick late
        job = server.api("GET", f"/api/jobs/{run['job_id']}").json()
        assert job["client"] == "sample"
    # Each due time once: the due times are distinct and two seconds apart.
    dues = sorted(dt.datetime.fromisoformat(r["due_at"].removesuffix("Z")) for r in fired)
    assert len(set(dues)) == len(dues)
    assert server.api("POST", f"/api/schedules/{added['id']}/pause").json()["paused"] is True


def test_no_overlap_a_run_due_while_the_crawl_runs_is_skipped(
    server: DocscrawlServer, slow_site: tuple[str, Path]
) -> None:
    url, _ = slow_site
    added = _add(server, client_slug="slow", url=url, cron=EVERY_2_SECONDS, mode="local",
                 settings={"CONCURRENT_REQUESTS": 1})  # fmt: skip
    skipped = wait_for(
        lambda: [r for r in _runs(server, added["id"]) if r["outcome"] == "skipped"], timeout=60
    )
    fired = [r for r in _runs(server, added["id"]) if r["outcome"] == "fired"]
    assert len(fired) == 1  # the first crawl is still running: every later run was skipped
    assert f"job {fired[0]['job_id']} was still" in skipped[0]["reason"]
    server.api("POST", f"/api/schedules/{added['id']}/pause")
    server.api("POST", f"/api/jobs/{fired[0]['job_id']}/cancel")


def test_queue_policy_fires_once_the_crawl_ends(
    server: DocscrawlServer, slow_site: tuple[str, Path]
) -> None:
    url, _ = slow_site
    added = _add(server, client_slug="q", url=url, cron=EVERY_2_SECONDS, mode="local",
                 overlap="queue", settings={"CONCURRENT_REQUESTS": 1})  # fmt: skip
    wait_for(lambda: any(r["outcome"] == "queued" for r in _runs(server, added["id"])), timeout=60)
    server.api("POST", f"/api/schedules/{added['id']}/pause")
    first = next(r for r in _runs(server, added["id"]) if r["outcome"] == "fired")
    queued_due = next(r for r in _runs(server, added["id"]) if r["outcome"] == "queued")["due_at"]
    server.api("POST", f"/api/jobs/{first['job_id']}/cancel")
    # The queued run fires once the first crawl has ended.
    second = wait_for(
        lambda: next((r for r in _runs(server, added["id"])
                      if r["due_at"] == queued_due and r["outcome"] == "fired"), None),
        timeout=30,
    )  # fmt: skip
    assert second["job_id"] != first["job_id"]
    server.api("POST", f"/api/jobs/{second['job_id']}/cancel")


def _backdate(location: str, schedule_id: int, seconds: float) -> dt.datetime:
    """Move a schedule's next due time into the past, as if the server had been down; returns
    that due time."""
    due = models.utcnow() - dt.timedelta(seconds=seconds)
    models.open_store(location)
    models.Schedule.update(next_run_at=due).where(models.Schedule.id == schedule_id).execute()
    models.database.close()
    return due


def _midnights_between(start: dt.datetime, end: dt.datetime) -> int:
    """How many UTC midnights fall in (start, end]."""
    return (end.date() - start.date()).days


@pytest.mark.parametrize("policy", ["catch-up", "record"])
def test_runs_due_while_no_server_ran(
    cli: Cli, store: Store, site: str, tmp_path: Path, policy: str
) -> None:
    added = cli("schedule", "add", "--client-slug", "down", "--url", site, "--cron",
                "0 0 * * *", "--max-pages", "2", "--mode", "local", "--missed", policy,
                "--json").json()  # fmt: skip
    # The server was down for three days and an hour: the backdated due time, then every daily
    # one since (three, or four when the test runs in the first hour of a UTC day).
    backdated = _backdate(str(store.path), added["id"], 3 * 86400 + 3600)
    started = models.utcnow()
    server = start_server(store.path, tmp_path)
    try:
        settled = "fired" if policy == "catch-up" else "missed"
        runs = wait_for(
            lambda: (
                (found := _runs(server, added["id"])) and found[0]["outcome"] == settled and found
            ),
            timeout=30,
        )
        fired = [r for r in runs if r["outcome"] == "fired"]
        missed = [r for r in runs if r["outcome"] == "missed"]
        # (A midnight that passes while the server starts may or may not be counted.)
        due_times = {1 + _midnights_between(backdated, at) for at in (started, models.utcnow())}
        assert len(runs) in due_times, runs
        assert len({r["due_at"] for r in runs}) == len(runs)
        if policy == "catch-up":
            # The latest due time is fired once; the earlier ones say they were caught up.
            assert len(fired) == 1 and fired[0] == runs[0] and len(missed) == len(runs) - 1
            assert all("caught up by the run due" in r["reason"] for r in missed)
        else:
            assert fired == [] and len(missed) == len(runs)
        listed = cli("schedule", "list", "--json").json()[0]
        assert listed["runs"]["missed"] == len(missed)
        assert dt.datetime.fromisoformat(listed["next_run_at"].removesuffix("Z")) > models.utcnow()
    finally:
        server.stop()
        server.stop_crawls(store.path)


def test_two_servers_on_one_postgresql_store_fire_each_run_once(
    postgres_url: str, site: str, tmp_path: Path
) -> None:
    models.open_store(postgres_url)
    request = schedules.ScheduleRequest(
        client_slug="shared", url=site, cron=EVERY_2_SECONDS, max_pages=2, mode="local"
    )
    added = schedules.add(request)
    models.database.close()
    servers = [start_server(postgres_url, tmp_path) for _ in range(2)]
    try:
        wait_for(
            lambda: sum(r["outcome"] == "fired" for r in _runs(servers[0], added.id)) >= 6,
            timeout=60,
        )
        for server in servers:
            server.api("POST", f"/api/schedules/{added.id}/pause")
        runs = _runs(servers[1], added.id)
        dues = [r["due_at"] for r in runs]
        assert len(dues) == len(set(dues))  # one row per due time
        fired = [r for r in runs if r["outcome"] == "fired"]
        jobs = [r["job_id"] for r in fired]
        assert len(jobs) == len(set(jobs))  # one job per run
        all_jobs = servers[0].api("GET", "/api/jobs?client=shared&limit=500").json()["jobs"]
        assert len(all_jobs) == len(fired)  # no job that no run accounts for
    finally:
        for server in servers:
            server.stop()
        import psycopg2

        with psycopg2.connect(postgres_url) as conn, conn.cursor() as cur:
            cur.execute("SELECT pid, process_started_at FROM job WHERE pid IS NOT NULL")
            rows = cur.fetchall()
        conn.close()
        import contextlib

        import psutil

        for pid, started in rows:
            with contextlib.suppress(psutil.NoSuchProcess):
                process = psutil.Process(pid)
                if abs(process.create_time() - (started or 0)) < 1:
                    process.kill()


def test_claims_from_many_threads_never_fire_a_run_twice(tmp_path: Path) -> None:
    location = str(tmp_path / "s.db")
    models.open_store(location)
    added = schedules.add(schedules.ScheduleRequest(
        client_slug="race", url="http://127.0.0.1:9/", cron="* * * * *"))  # fmt: skip
    claims: list = []
    later = models.utcnow() + dt.timedelta(minutes=3, seconds=1)

    def claim() -> None:
        # The store is opened once (as the server does): peewee gives each thread its own
        # connection. (open_store in each thread would rebind the shared models mid-claim.)
        claims.extend(schedules.claim_due(later))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claims) == 1  # the latest due time, claimed by one thread
    rows = list(models.ScheduleRun.select().where(models.ScheduleRun.schedule == added.id))
    # Three or four due times passed (by where in its minute now is): all but the last missed.
    assert len({row.due_at for row in rows}) == len(rows) in (3, 4)
    assert sum(row.outcome == schedules.CLAIMED for row in rows) == 1
    models.database.close()


# --- change reports ------------------------------------------------------------------------------


PAGE = """<!doctype html><html><head><title>{title}</title></head><body>
<nav><a href="index.html">Home</a> <a href="a.html">A</a> <a href="b.html">B</a></nav>
<main><h1>{title}</h1><p>{updated}</p>
<h2>Install</h2><p>{install}</p>
<h2>Usage</h2><p>Run the tool with the right options and read what it prints.</p>
</main></body></html>"""


def _write_site(root: Path, install_a: str, updated_b: str) -> None:
    root.mkdir(exist_ok=True)
    pages = {
        "index.html": ("Home", "Welcome to the docs.", "pip install thing"),
        "a.html": ("Page A", "Page A explains the first thing.", install_a),
        "b.html": ("Page B", updated_b, "apt install other-thing"),
    }
    for name, (title, updated, install) in pages.items():
        (root / name).write_text(PAGE.format(title=title, updated=updated, install=install))


def test_a_scheduled_recrawl_reports_exactly_the_planted_changes(
    server: DocscrawlServer, store: Store, tmp_path: Path
) -> None:
    root = tmp_path / "site"
    _write_site(root, "pip install thing==1.0", "Last updated on 1 December 2026")
    with serve_directory(root) as url:
        added = _add(server, client_slug="planted", url=url + "index.html",
                     cron="0 0 1 1 *", mode="local")  # fmt: skip
        run = server.api("POST", f"/api/schedules/{added['id']}/run-now")
        assert run.status_code == 202
        first = wait_for(lambda: next((r for r in _runs(server, added["id"])
                                       if r["outcome"] == "fired"), None), timeout=30)  # fmt: skip
        wait_for(lambda: server.api("GET", f"/api/jobs/{first['job_id']}/changes").ok, timeout=60)
        # One real change (page A's install line), one that is only noise (page B's date).
        _write_site(root, "pip install thing==2.0", "Last updated on 3 December 2026")
        server.api("POST", f"/api/schedules/{added['id']}/run-now")
        second = wait_for(lambda: next((r for r in _runs(server, added["id"]) if r["outcome"]
                                        == "fired" and r["id"] != first["id"]), None),
                          timeout=30)  # fmt: skip
        report = wait_for(
            lambda: (
                (r := server.api("GET", f"/api/jobs/{second['job_id']}/changes")).ok and r.json()
            ),
            timeout=60,
        )
    assert report["previous_job_id"] == first["job_id"]
    assert report["counts"] == {"added": 0, "removed": 0, "changed": 1, "ignored": 1}
    (changed,) = report["changed"]
    assert changed["url"].endswith("/a.html")
    assert changed["sections"] == [{"heading": "Page A > Install", "change": "changed"}]
    (ignored,) = report["ignored"]
    assert ignored["url"].endswith("/b.html") and ignored["rules"] == ["last-updated line"]
    status = server.api("GET", f"/api/jobs/{second['job_id']}").json()
    assert status["change_report"]["counts"] == report["counts"]
    # The webhook event was raised with the report, in the outbox.
    raised = store.value("SELECT COUNT(*) FROM job_event WHERE job_id = ? AND event = ?",
                         second["job_id"], "job.changes")  # fmt: skip
    assert raised == 1


def test_noise_rules() -> None:
    assert change_reports.noise_rule("Last updated on Dec 3, 2026") == "last-updated line"
    assert change_reports.noise_rule("*Page last modified: 2026-12-03*") == "last-updated line"
    assert change_reports.noise_rule("Built with Sphinx on 2026-12-03 10:00") == "build stamp"
    assert change_reports.noise_rule("© 2019\u20132026 Example Inc.") == "copyright year"
    assert change_reports.noise_rule("Update the package before you install it.") is None
    assert change_reports.noise_rule("Run `pip install thing==2.0`.") is None
    old, new = "# A\n\nLast updated 1 Dec\n\nBody", "# A\n\nLast updated 3 Dec\n\nBody"
    changed, rules = change_reports.compare_markdown(old, new)
    assert (changed, rules) == (False, ["last-updated line"])
