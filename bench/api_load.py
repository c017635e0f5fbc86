"""Load on `docscrawl serve`'s API: pollers and SSE followers, idle and while crawls run.

One `docscrawl serve` on a new SQLite store, a synthetic docs site (bench/synthetic_site.py)
large enough for the crawls to outlast the load phase, and three phases of --seconds each, in
one run:

- warm-up:    --crawls crawls of 5 pages each, run to their end;
- idle:       --clients pollers (a thread and a requests.Session each) loop over
              GET /api/jobs?limit=50 and GET /api/jobs/{id} (the warm-up jobs);
- load:       the same pollers, on the --crawls local crawls (POST /api/jobs, mode local) that
              run through the phase, each paced at --rate pages/s (DOWNLOAD_DELAY), while
              --streams clients follow their event streams
              (GET /api/jobs/{id}/events); the crawls are cancelled after it (cancel-all);
- idle-after: the pollers again on the load phase's jobs, the crawls ended: the same list and
              the same jobs as in load, with no crawl running (the jobs are larger by now);
- serial:     one client, one request at a time: what each request costs the server.

Every request's latency and status is recorded; an error is any answer but 2xx, a connection
error or a timeout. The server's output and the crawls' logs (logs/job-*.log beside the store)
are searched for "database is locked". The exit code is 1 when anything failed: an error, a
"database is locked", a stream that stalled or did not end with its job, a crawl whose page
count stopped growing during the load phase.

    .venv/bin/python -m bench.api_load
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

from bench import synthetic_site
from tests.support import DocscrawlServer, free_port, start_server, wait_for

LOCKED = re.compile(r"database is locked", re.IGNORECASE)
# A request (or an event stream's next line) that takes this long counts as an error.
REQUEST_TIMEOUT = 30.0
# The server sends a progress event every second (STREAM_INTERVAL); a longer silence is a stall.
STALL_SECONDS = 5.0
FINISHED = {"completed", "cancelled", "failed"}
WARMUP_PAGES = 5
# The site has pages for the load crawls to run this much longer than the phase (their start
# varies), twice over: not every page is linked from the others.
CRAWL_MARGIN_SECONDS = 20.0


@dataclass
class Request:
    kind: str
    latency: float
    ok: bool


@dataclass
class Stream:
    """One client following a job's event stream."""

    job_id: int
    events: Counter = field(default_factory=Counter)
    in_phase: int = 0
    max_gap: float = 0.0
    ended: bool = False
    error: str | None = None

    def as_dict(self) -> dict:
        return {**vars(self), "events": dict(self.events)}


@dataclass
class Phase:
    name: str
    crawls: int
    seconds: float
    requests: list[Request] = field(default_factory=list)
    streams: list[Stream] = field(default_factory=list)
    failures: Counter = field(default_factory=Counter)
    locked: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def failed(self, message: str) -> None:
        with self.lock:
            self.failures[message[:300]] += 1

    def latencies_ms(self, kind: str | None = None) -> list[float]:
        return [r.latency * 1000 for r in self.requests if kind in (None, r.kind)]

    def rate(self) -> float:
        return len(self.requests) / self.seconds if self.seconds else 0.0

    def errors(self) -> int:
        return sum(not r.ok for r in self.requests) + sum(s.error is not None for s in self.streams)

    def p(self, fraction: float) -> float:
        return percentile(self.latencies_ms(), fraction) if self.requests else math.nan


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (fraction 0.95 for p95)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


class Bench:
    def __init__(
        self,
        server: DocscrawlServer,
        store: Path,
        site: synthetic_site.Server,
        args: argparse.Namespace,
    ):
        self.server = server
        self.store = store
        self.site = site
        self.args = args
        self.log_offset = 0
        self.problems: list[str] = []

    # --- helpers ---------------------------------------------------------------------------

    def session(self) -> requests.Session:
        session = requests.Session()
        session.headers.update(self.server.headers())
        return session

    def get_job(self, session: requests.Session, job_id: int) -> dict:
        response = session.get(f"{self.server.url}/api/jobs/{job_id}", timeout=REQUEST_TIMEOUT)
        response.raise_for_status()
        return response.json()

    def start_crawl(self, client: str, **body) -> int:
        response = self.server.api(
            "POST",
            "/api/jobs",
            json={"url": f"{self.site.url}/docs/", "mode": "local", "client": client, **body},
        )
        if response.status_code != 201:
            raise RuntimeError(f"POST /api/jobs answered {response.status_code}: {response.text}")
        return response.json()["id"]

    def server_log_locked(self) -> int:
        """'database is locked' in the server's output since the last call."""
        text = self.server.log()
        found = len(LOCKED.findall(text[self.log_offset :]))
        self.log_offset = len(text)
        return found

    def crawl_logs_locked(self, job_ids: list[int]) -> int:
        logs = self.store.parent / "logs"
        return sum(
            len(LOCKED.findall((logs / f"job-{job_id}.log").read_text(errors="replace")))
            for job_id in job_ids
            if (logs / f"job-{job_id}.log").exists()
        )

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds so far: the server, its crawl processes, the bench (this process and the
        site), the whole machine."""
        server = psutil.Process(self.server.process.pid)
        crawls = {}
        for child in server.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                crawls[child.pid] = sum(child.cpu_times()[:2])
        machine = psutil.cpu_times()
        return {
            "server": sum(server.cpu_times()[:2]),
            "crawls": crawls,
            "bench": sum(psutil.Process().cpu_times()[:2]) + self.site.cpu_seconds(),
            "busy": sum(machine) - machine.idle - getattr(machine, "iowait", 0.0),
        }

    @staticmethod
    def cpu_used(before: dict, after: dict, wall: float) -> dict[str, float]:
        """Cores used on average over the phase, by whom (other: the rest of the machine)."""
        crawls = sum(cpu - before["crawls"].get(pid, 0.0) for pid, cpu in after["crawls"].items())
        used = {key: after[key] - before[key] for key in ("server", "bench", "busy")}
        used["crawls"] = crawls
        # Per-process and machine-wide times tick apart: a few hundredths below zero is noise.
        used["other"] = max(0.0, used["busy"] - used["server"] - used["bench"] - crawls)
        return {key: round(value / wall, 2) for key, value in used.items()}

    # --- the clients -------------------------------------------------------------------------

    def poll(self, index: int, job_ids: list[int], deadline: float, phase: Phase) -> None:
        session = self.session()
        turn = index
        with session:
            while time.monotonic() < deadline:
                turn += 1
                job_id = job_ids[turn % len(job_ids)]
                for kind, path in (("list", "/api/jobs?limit=50"), ("job", f"/api/jobs/{job_id}")):
                    started = time.monotonic()
                    try:
                        response = session.get(self.server.url + path, timeout=REQUEST_TIMEOUT)
                        response.json()
                        ok = 200 <= response.status_code < 300
                        if not ok:
                            phase.failed(f"{kind} HTTP {response.status_code}: {response.text}")
                    except (requests.RequestException, ValueError) as exc:
                        ok = False
                        phase.failed(f"{kind} {type(exc).__name__}: {exc}")
                    phase.requests.append(Request(kind, time.monotonic() - started, ok))

    def follow(self, stream: Stream, window: list[float]) -> None:
        """Read the job's event stream until it ends (the job ended) or fails."""
        url = f"{self.server.url}/api/jobs/{stream.job_id}/events"
        last = time.monotonic()
        try:
            with self.session() as session, session.get(
                url, stream=True, timeout=(REQUEST_TIMEOUT, STALL_SECONDS * 2)
            ) as response:  # fmt: skip
                if response.status_code != 200:
                    stream.error = f"HTTP {response.status_code}: {response.text[:200]}"
                    return
                for line in response.iter_lines(decode_unicode=True):
                    if not line.startswith("event:"):
                        continue
                    now = time.monotonic()
                    stream.max_gap = max(stream.max_gap, now - last)
                    last = now
                    name = line.partition(":")[2].strip()
                    stream.events[name] += 1
                    if window[0] <= now <= window[1]:
                        stream.in_phase += 1
                    if name == "end":
                        stream.ended = True
        except requests.RequestException as exc:
            stream.error = f"{type(exc).__name__}: {exc}"[:300]

    def run_pollers(self, phase: Phase, job_ids: list[int]) -> None:
        deadline = time.monotonic() + phase.seconds
        threads = [
            threading.Thread(target=self.poll, args=(i, job_ids, deadline, phase), daemon=True)
            for i in range(self.args.clients)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=phase.seconds + REQUEST_TIMEOUT * 3)
        phase.seconds = time.monotonic() - started

    # --- the phases ----------------------------------------------------------------------------

    def warm_up(self) -> list[int]:
        """--crawls small crawls, run to their end: the jobs the idle phase polls."""
        job_ids = [
            self.start_crawl(f"warmup-{n}", max_pages=WARMUP_PAGES)
            for n in range(1, self.args.crawls + 1)
        ]
        with self.session() as session:
            wait_for(
                lambda: all(self.get_job(session, j)["status"] in FINISHED for j in job_ids),
                timeout=120,
                interval=0.5,
            )
        locked = self.server_log_locked() + self.crawl_logs_locked(job_ids)
        if locked:
            self.problems.append(f'warm-up: "database is locked" {locked} times in the logs')
        return job_ids

    def serial(self, job_ids: list[int], rounds: int = 50) -> list[tuple[str, float, float]]:
        """One client, one request at a time, nothing else running: what each request costs
        the server (median and p95 ms), for the list and for jobs of each size."""
        rows = []
        with self.session() as session:
            paths = [("GET /api/jobs?limit=50", "/api/jobs?limit=50")]
            for job_id in job_ids:
                pages = self.get_job(session, job_id)["pages"]
                paths.append((f"GET /api/jobs/{job_id} ({pages} pages)", f"/api/jobs/{job_id}"))
            for label, path in paths:
                times = []
                for _ in range(rounds):
                    started = time.monotonic()
                    session.get(self.server.url + path, timeout=REQUEST_TIMEOUT).raise_for_status()
                    times.append((time.monotonic() - started) * 1000)
                rows.append((label, percentile(times, 0.5), percentile(times, 0.95)))
        return rows

    def wait_started(self, session: requests.Session, job_ids: list[int]) -> None:
        """Wait until every crawl has stored a page; raise, saying how each is, if one ends
        first or does not store any page within two minutes."""
        deadline = time.monotonic() + 120
        while True:
            found = {j: self.get_job(session, j) for j in job_ids}
            if all(job["pages"] > 0 for job in found.values()):
                return
            ended = [job for job in found.values() if job["status"] in FINISHED]
            if ended or time.monotonic() > deadline:
                states = "; ".join(
                    f"job {job['id']} {job['status']} ({job['finish_reason']}), "
                    f"{job['pages']} pages, log {job['log_url']}"
                    for job in found.values()
                )
                raise RuntimeError(f"the load crawls did not start storing pages: {states}")
            time.sleep(0.25)

    def idle(self, name: str, job_ids: list[int]) -> Phase:
        phase = Phase(name, 0, self.args.seconds)
        before = self.cpu_seconds()
        self.run_pollers(phase, job_ids)
        phase.cpu = self.cpu_used(before, self.cpu_seconds(), phase.seconds)
        phase.locked = self.server_log_locked()
        return phase

    def load(self) -> tuple[Phase, list[int], dict[int, list[tuple[float, int, str]]]]:
        # One request every 1/rate s: Scrapy spaces a slot's requests by DOWNLOAD_DELAY.
        settings = {
            "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": round(1 / self.args.rate, 4),
            "DOWNLOAD_DELAY_JITTER": 0,
        }
        job_ids = [
            self.start_crawl(f"load-{n}", settings=settings) for n in range(1, self.args.crawls + 1)
        ]
        phase = Phase("load", len(job_ids), self.args.seconds)
        monitor = self.session()
        self.wait_started(monitor, job_ids)
        # Each crawl's pages and status over the phase, read once a second.
        progress: dict[int, list[tuple[float, int, str]]] = {j: [] for j in job_ids}
        done = threading.Event()

        def watch() -> None:
            while True:
                now = time.monotonic()
                for job_id in job_ids:
                    try:
                        job = self.get_job(monitor, job_id)
                        progress[job_id].append((now, job["pages"], job["status"]))
                    except (requests.RequestException, ValueError) as exc:
                        phase.failed(f"monitor {type(exc).__name__}: {exc}")
                if done.wait(1.0):
                    return

        window = [math.inf, math.inf]
        phase.streams = [Stream(job_ids[n % len(job_ids)]) for n in range(self.args.streams)]
        followers = [
            threading.Thread(target=self.follow, args=(stream, window), daemon=True)
            for stream in phase.streams
        ]
        before = self.cpu_seconds()
        window[0] = time.monotonic()
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        for follower in followers:
            follower.start()
        self.run_pollers(phase, job_ids)
        window[1] = time.monotonic()
        phase.cpu = self.cpu_used(before, self.cpu_seconds(), phase.seconds)
        done.set()
        watcher.join(timeout=REQUEST_TIMEOUT * len(job_ids))
        with monitor:
            for job_id in job_ids:
                progress[job_id].append(
                    (time.monotonic(), *map(self.get_job(monitor, job_id).get, ("pages", "status")))
                )

        response = self.server.api("POST", "/api/jobs/cancel-all", json={"wait": 30}, timeout=90)
        if response.status_code != 200 or response.json().get("failed"):
            self.problems.append(f"cancel-all answered {response.status_code}: {response.text}")
        for follower in followers:
            follower.join(timeout=REQUEST_TIMEOUT)
        phase.locked = self.server_log_locked() + self.crawl_logs_locked(job_ids)
        return phase, job_ids, progress


def site_pages(seconds: float, rate: float) -> int:
    """A site the load crawls do not finish during the phase."""
    return math.ceil(2 * rate * (seconds + CRAWL_MARGIN_SECONDS))


def growth_problems(progress: dict[int, list[tuple[float, int, str]]], seconds: float) -> list[str]:
    """The crawls that stopped growing: in each third of the phase (each half, or the whole
    phase, when it is too short for thirds), a crawl must have stored pages."""
    problems = []
    windows = max(1, min(3, int(seconds // 5)))
    for job_id, samples in progress.items():
        if not samples:
            problems.append(f"job {job_id}: no progress was read")
            continue
        start, end = samples[0][0], samples[-1][0]
        edges = [start + (end - start) * k / windows for k in range(windows + 1)]
        for k in range(windows):
            inside = [s for s in samples if edges[k] - 0.01 <= s[0] <= edges[k + 1] + 0.01]
            if len(inside) < 2 or inside[-1][1] <= inside[0][1]:
                problems.append(
                    f"job {job_id}: no page stored in part {k + 1}/{windows} of the load phase "
                    f"(pages {inside[0][1] if inside else '?'} -> "
                    f"{inside[-1][1] if inside else '?'})"
                )
        if samples[-1][2] != "running":
            problems.append(f"job {job_id} was {samples[-1][2]} before the load phase ended")
    return problems


def fmt(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def report(
    phases: list[Phase],
    progress: dict[int, list[tuple[float, int, str]]],
    serial: list[tuple[str, float, float]],
) -> str:
    lines = [
        "| phase | crawls | requests | requests/s | p50 ms | p95 ms | p99 ms | errors "
        '| SSE events | max SSE gap s | "database is locked" |',
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for phase in phases:
        events = sum(s.in_phase for s in phase.streams)
        gap = max((s.max_gap for s in phase.streams), default=math.nan)
        streams = f"{events} ({len(phase.streams)} streams)" if phase.streams else "-"
        lines.append(
            f"| {phase.name} | {phase.crawls} | {len(phase.requests)} | {phase.rate():.0f} "
            f"| {fmt(phase.p(0.50))} | {fmt(phase.p(0.95))} | {fmt(phase.p(0.99))} "
            f"| {phase.errors()} | {streams} | {fmt(gap, 2)} | {phase.locked} |"
        )
    lines += [
        "",
        "| phase | server cores | crawls cores | bench cores (clients, site) | other cores "
        "| machine busy |",
        "|---|---|---|---|---|---|",
    ]
    for phase in phases:
        cpu = phase.cpu
        lines.append(
            f"| {phase.name} | {cpu['server']:.2f} | {cpu['crawls']:.2f} | {cpu['bench']:.2f} "
            f"| {cpu['other']:.2f} | {cpu['busy']:.2f} |"
        )
    lines += [
        "",
        "| phase | GET /api/jobs p50 ms | p95 ms | GET /api/jobs/{id} p50 ms | p95 ms |",
        "|---|---|---|---|---|",
    ]
    for phase in phases:
        cells = []
        for kind in ("list", "job"):
            values = phase.latencies_ms(kind)
            cells += [fmt(percentile(values, q) if values else math.nan) for q in (0.5, 0.95)]
        lines.append(f"| {phase.name} | " + " | ".join(cells) + " |")
    if serial:
        lines += ["", "| one client, one request at a time | median ms | p95 ms |", "|---|---|---|"]
        lines += [f"| {label} | {median:.1f} | {p95:.1f} |" for label, median, p95 in serial]
    lines.append("")
    by_name = {phase.name: phase for phase in phases}
    load = by_name.get("load")
    for name in ("idle", "idle-after"):
        idle = by_name.get(name)
        if load and idle and idle.requests and load.requests:
            lines.append(
                f"- load/{name}: requests/s {load.rate() / idle.rate():.2f}x, "
                f"p95 {load.p(0.95) / idle.p(0.95):.2f}x"
            )
    for job_id, samples in progress.items():
        if samples:
            lines.append(
                f"- crawl job {job_id}: {samples[0][1]} -> {samples[-1][1]} pages over the load "
                f"phase ({(samples[-1][1] - samples[0][1]) / (samples[-1][0] - samples[0][0]):.1f}"
                f" pages/s), {samples[-1][2]} at its end"
            )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> tuple[list[Phase], dict, list, list[str]]:
    """The site, the server and the three phases; what went wrong, as sentences."""
    phases: list[Phase] = []
    progress: dict[int, list[tuple[float, int, str]]] = {}
    serial: list[tuple[str, float, float]] = []
    problems: list[str] = []
    with contextlib.ExitStack() as stack:
        if args.keep:
            workdir = Path(tempfile.mkdtemp(prefix="docscrawl-bench-"))
            print(f"keeping {workdir}", file=sys.stderr)
        else:
            workdir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="docscrawl-bench-"))
            )
        port = free_port()
        pages = site_pages(args.seconds, args.rate)
        synthetic_site.generate(workdir / "site", f"http://127.0.0.1:{port}", pages)
        site = stack.enter_context(
            synthetic_site.serve(workdir / "site", args.server, port, workdir)
        )
        store = workdir / "store" / "docscrawl.db"
        store.parent.mkdir()
        server = start_server(store, workdir)
        print(f"site: {pages} pages at {site.url}/docs/ ({site.kind}); server at {server.url}",
              file=sys.stderr, flush=True)  # fmt: skip
        bench = Bench(server, store, site, args)
        try:
            warm = bench.warm_up()
            for name in ("idle", "load", "idle-after"):
                print(f"phase {name}: {args.seconds:g} s", file=sys.stderr, flush=True)
                if name == "load":
                    phase, load_ids, progress = bench.load()
                    problems += growth_problems(progress, phase.seconds)
                else:
                    phase = bench.idle(name, warm if name == "idle" else load_ids)
                phases.append(phase)
            serial = bench.serial([warm[0], *load_ids])
        finally:
            exit_code = server.stop()
            server.stop_crawls(store)
        if exit_code != 0:
            problems.append(f"docscrawl serve exited with code {exit_code}")
        locked_at_exit = bench.server_log_locked()
    problems += bench.problems
    for phase in phases:
        for message, count in phase.failures.most_common():
            problems.append(f"{phase.name}: {count} x {message}")
        for stream in phase.streams:
            if stream.error:
                problems.append(f"{phase.name}: the stream of job {stream.job_id}: {stream.error}")
            elif not stream.ended:
                problems.append(f"the stream of job {stream.job_id} closed without an end event")
            if stream.max_gap > STALL_SECONDS:
                problems.append(
                    f"the stream of job {stream.job_id} was silent {stream.max_gap:.1f} s"
                )
        if phase.locked:
            problems.append(f'{phase.name}: "database is locked" {phase.locked} times in the logs')
    if locked_at_exit:
        problems.append(f'"database is locked" {locked_at_exit} times at the server\'s shutdown')
    return phases, progress, serial, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=25.0, help="each phase (default 25)")
    parser.add_argument("--clients", type=int, default=50, help="pollers (default 50)")
    parser.add_argument("--streams", type=int, default=10, help="SSE followers (default 10)")
    parser.add_argument("--crawls", type=int, default=3, help="load crawls (default 3)")
    parser.add_argument("--rate", type=float, default=20.0,
                        help="pages/s of each load crawl (default 20)")  # fmt: skip
    parser.add_argument("--server", choices=("auto", "nginx", "python"), default="auto",
                        help="what serves the site (auto: nginx when installed)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the phases to this file")
    parser.add_argument(
        "--keep", action="store_true", help="keep the work directory (site, store, logs)"
    )
    args = parser.parse_args(argv)
    if min(args.clients, args.crawls) < 1 or args.streams < 0 or min(args.seconds, args.rate) <= 0:
        parser.error("--clients and --crawls take at least 1, --streams 0, --seconds and --rate "
                     "more than 0")  # fmt: skip

    load_average = os.getloadavg()
    phases, progress, serial, problems = run(args)
    print(
        f"{args.clients} pollers, {args.streams} streams, {args.crawls} crawls at "
        f"{args.rate:g} pages/s, {args.seconds:g} s a phase; load average before the run "
        + " ".join(f"{value:.2f}" for value in load_average)
    )
    print()
    print(report(phases, progress, serial))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "args": {
                        k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
                    },
                    "phases": [
                        {
                            "name": p.name,
                            "requests": len(p.requests),
                            "seconds": p.seconds,
                            "requests_per_s": p.rate(),
                            "p50_ms": p.p(0.5),
                            "p95_ms": p.p(0.95),
                            "p99_ms": p.p(0.99),
                            "errors": p.errors(),
                            "locked": p.locked,
                            "cpu": p.cpu,
                            "streams": [s.as_dict() for s in p.streams],
                        }
                        for p in phases
                    ],
                    "serial": [
                        {"request": label, "median_ms": median, "p95_ms": p95}
                        for label, median, p95 in serial
                    ],
                    "problems": problems,
                },
                indent=2,
            )
        )
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
