"""How close to its due time `docscrawl serve` fires a scheduled crawl, over N runs.

A real server on a fresh SQLite store fires a schedule every few seconds (a seconds cron),
each run a real local crawl of one page of the sample site. In the same run, side by side, a
baseline thread sleeps until each of the same due times with time.sleep (what a hand-written
loop or cron's own minute tick would at best achieve) and records how late it woke. Reported:
the lateness of each side (median, p95, max) and docscrawl's over the baseline's, plus every
run's outcome (no run may be skipped, missed or doubled).

    .venv/bin/python -m bench.schedule_timing --runs 20
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from croniter import croniter

from sample_site.testing import serve
from tests.support import start_server, wait_for


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def baseline(cron: str, start: dt.datetime, count: int, late: list[float]) -> None:
    """Sleep until each due time, as a plain loop would; record how late each wake-up is."""
    it = croniter(cron, start.replace(tzinfo=dt.UTC))
    for _ in range(count):
        due = it.get_next(dt.datetime).timestamp()
        time.sleep(max(0.0, due - time.time()))
        late.append(time.time() - due)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--every", type=int, default=4, help="seconds between due times")
    args = parser.parse_args()
    cron = f"* * * * * */{args.every}"
    with tempfile.TemporaryDirectory() as tmp, serve() as site:
        work = Path(tmp)
        server = start_server(work / "docscrawl.db", work)
        try:
            added = server.api("POST", "/api/schedules", json={
                "client_slug": "timing", "url": site, "cron": cron, "max_pages": 1,
                "mode": "local"}).json()  # fmt: skip
            first_due = dt.datetime.fromisoformat(added["next_run_at"].removesuffix("Z"))
            baseline_late: list[float] = []
            sleeper = threading.Thread(
                target=baseline,
                args=(cron, first_due - dt.timedelta(seconds=1), args.runs, baseline_late),
                daemon=True,
            )
            sleeper.start()

            def runs() -> list[dict]:
                return server.api("GET", f"/api/schedules/{added['id']}/runs?limit=500").json()

            done = wait_for(
                lambda: len(found := runs()) >= args.runs and found,
                timeout=args.runs * args.every + 60,
                interval=0.5,
            )
            server.api("POST", f"/api/schedules/{added['id']}/pause")
            sleeper.join(timeout=30)
            done = sorted(done, key=lambda run: run["due_at"])[: args.runs]
            fired = [r for r in done if r["outcome"] == "fired"]
            late = [r["delay_seconds"] for r in fired]
            outcomes = {r["outcome"] for r in done}
            dues = [r["due_at"] for r in done]
        finally:
            server.stop()
            server.stop_crawls(work / "docscrawl.db")
    print(f"{args.runs} runs of `{cron}` (every {args.every} s), each a local crawl of 1 page")
    print()
    print(f"{'side':<22}{'runs':>6}{'median ms':>12}{'p95 ms':>10}{'max ms':>10}")
    for name, values in (("baseline time.sleep", baseline_late), ("docscrawl serve", late)):
        print(f"{name:<22}{len(values):>6}{statistics.median(values) * 1000:>12.0f}"
              f"{percentile(values, 0.95) * 1000:>10.0f}{max(values) * 1000:>10.0f}")  # fmt: skip
    ratio = statistics.median(late) / max(statistics.median(baseline_late), 1e-6)
    print()
    print(f"docscrawl median lateness / baseline: {ratio:.1f}x; outcomes: {sorted(outcomes)}; "
          f"distinct due times: {len(set(dues))} of {len(dues)}")  # fmt: skip
    ok = outcomes == {"fired"} and len(set(dues)) == len(dues) == args.runs
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
