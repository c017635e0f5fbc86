"""Crawl throughput: a plain Scrapy CrawlSpider against docscrawl, in the foreground and on Scrapyd.

Every side crawls the same synthetic documentation site (bench/synthetic_site.py: nginx when it
is installed, else a keep-alive Python server, on 127.0.0.1) with the same settings, interleaved
A B C, A B C, ... for --rounds rounds:

- baseline:          `scrapy crawl docs_baseline` in bench/baseline: a CrawlSpider with a
                     LinkExtractor writing URL, title and main text as JSON Lines (a feed export);
- docscrawl:         a foreground `docscrawl crawl --quiet`: full extraction into a new store,
                     with the default extraction pool (docscrawl/extraction_pool.py);
- docscrawl-inprocess: the same with DOCSCRAWL_EXTRACTION_PROCESSES=0: every page extracted
                     on the crawl's own thread (what docscrawl did before the pool);
- docscrawl-scrapyd: `docscrawl crawl --async` on a Scrapyd started for the benchmark.

``--site-dir DIR`` crawls a directory of real HTML instead of the synthetic site, served the same
way, from ``--start`` (default: the directory's index.html): any docs tree will do.
bench/real-docs.sh unpacks a few of Debian's HTML manuals (PostgreSQL's DocBook manual, Python's
Sphinx docs, Git's AsciiDoc pages) for it.

Per run: pages/s (pages stored / wall time of the crawl process), CPU seconds per 1,000 pages
(user+sys of the crawl process and its children), peak RSS, and pages stored against the
responses Scrapy received and the site's size. Then `wget --mirror` once, as a non-Scrapy
reference.

    .venv/bin/python -m bench.throughput                             # 5,000 pages, 3 rounds
    .venv/bin/python -m bench.throughput --pages 50000 --rounds 1    # the point: peak RSS
    .venv/bin/python -m bench.throughput --site-dir /tmp/real-docs/postgresql --rounds 5
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

from bench import synthetic_site
from tests.support import (
    BIN,
    PROJECT_ROOT,
    ScrapydServer,
    clean_env,
    deploy,
    free_port,
    start_scrapyd,
    wait_for,
    write_scrapyd_conf,
)

SIDES = ("baseline", "docscrawl", "docscrawl-inprocess", "docscrawl-scrapyd")
DEFAULT_SIDES = ("baseline", "docscrawl", "docscrawl-scrapyd")
# docscrawl's polite AutoThrottle defaults would otherwise make the comparison unfair.
SETTINGS = {
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "ROBOTSTXT_OBEY": "True",
    "LOG_LEVEL": "INFO",
}
DOCSCRAWL = str(BIN / "docscrawl")
BASELINE_PROJECT = PROJECT_ROOT / "bench" / "baseline"
FINISHED = ("completed", "failed", "cancelled")
SAMPLE_INTERVAL = 0.1
MIB = 1024 * 1024
RESPONSE_COUNT = re.compile(r"'downloader/response_count': (\d+)")


@dataclass
class Usage:
    """What one crawl process cost: wall and CPU seconds, peak RSS, how it exited."""

    wall: float
    cpu: float
    peak_rss: int
    returncode: int | None = None
    timed_out: bool = False


@dataclass
class Run:
    """One measured crawl."""

    side: str
    round: int
    wall: float
    cpu: float
    peak_rss_mib: float
    stored: int
    site_pages: int
    responses: int | None
    server_cpu: float
    ok: bool
    other_cpu: float = 0.0
    note: str = ""
    end_to_end: float | None = None
    pages_per_s: float = field(init=False)
    cpu_per_1000: float | None = field(init=False)

    def __post_init__(self) -> None:
        self.pages_per_s = self.stored / self.wall if self.wall > 0 else 0.0
        self.cpu_per_1000 = self.cpu / self.stored * 1000 if self.stored else None

    def line(self) -> str:
        """The run as one printed line."""
        cpu = f"{self.cpu_per_1000:5.2f}" if self.cpu_per_1000 is not None else "    -"
        responses = "-" if self.responses is None else str(self.responses)
        text = (
            f"round {self.round:>2} {self.side:<18} {self.stored:>6} pages in {self.wall:7.2f} s"
            f" = {self.pages_per_s:7.1f} pages/s  cpu {cpu} s/1k pages"
            f"  peak RSS {self.peak_rss_mib:6.1f} MiB  stored {self.stored}/{self.site_pages}"
            f" (responses {responses})  server cpu {self.server_cpu:5.2f} s"
            f"  other cpu {self.other_cpu:5.2f} s"
        )
        if self.end_to_end is not None:
            text += f"  end-to-end {self.end_to_end:.2f} s"
        return text + ("" if self.ok else f"  FAILED: {self.note}")


class Sampler(threading.Thread):
    """Every 0.1 s, the CPU seconds a process (and its children) used so far and its peak RSS."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.cpu = 0.0
        self.peak_rss = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set() and self.sample():
            self.stopped.wait(SAMPLE_INTERVAL)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)

    def sample(self) -> bool:
        """Take one sample; False once the process is gone."""
        try:
            with self.process.oneshot():
                times = self.process.cpu_times()
                cpu = times.user + times.system + times.children_user + times.children_system
                if self.process.status() == psutil.STATUS_ZOMBIE:
                    self.cpu = max(self.cpu, cpu)
                    return False
                rss = self.process.memory_info().rss
            children = self.process.children(recursive=True)
        except psutil.Error:
            return False
        for child in children:
            with contextlib.suppress(psutil.Error):
                child_times = child.cpu_times()
                cpu += child_times.user + child_times.system
                rss += child.memory_info().rss
        self.cpu = max(self.cpu, cpu)
        self.peak_rss = max(self.peak_rss, rss)
        return True


def run_measured(command: list[str], cwd: Path, log: Path, timeout: float) -> Usage:
    """Run command to its end, output to log; its CPU and peak RSS come from wait4."""
    with open(log, "wb") as out:
        started = time.monotonic()
        process = subprocess.Popen(
            command, cwd=cwd, env=clean_env(), stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    sampler = Sampler(process.pid)
    sampler.start()
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        process.kill()

    timer = threading.Timer(timeout, kill)
    timer.daemon = True
    timer.start()
    try:
        # wait4 instead of Popen.wait: it also gives the child's own rusage (CPU and max RSS,
        # descendants included), exact where sampling would miss the last tenth of a second.
        _, status, rusage = os.wait4(process.pid, 0)
        wall = time.monotonic() - started
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        timer.cancel()
        sampler.stop()
    process.returncode = os.waitstatus_to_exitcode(status)
    return Usage(
        wall=wall,
        cpu=rusage.ru_utime + rusage.ru_stime,
        peak_rss=max(rusage.ru_maxrss * 1024, sampler.peak_rss),
        returncode=process.returncode,
        timed_out=killed.is_set(),
    )


def busy_cpu() -> float:
    """CPU seconds the whole machine has spent busy since boot, all cores together."""
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + times.irq + times.softirq


def own_cpu() -> float:
    """CPU seconds this process (the harness and its sampling threads) has used."""
    times = psutil.Process().cpu_times()
    return times.user + times.system


def settings_args() -> list[str]:
    return [arg for key, value in SETTINGS.items() for arg in ("-s", f"{key}={value}")]


def responses_in(log: Path) -> int | None:
    """Scrapy's downloader/response_count from the stats a crawl log ends with."""
    if not log.exists():
        return None
    found = RESPONSE_COUNT.findall(log.read_text(errors="replace"))
    return int(found[-1]) if found else None


def store_job(db: Path, job_id: int) -> tuple[str | None, int]:
    """A job's status and its number of rows in the page table."""
    if not db.exists():
        return None, 0
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        try:
            row = conn.execute("SELECT status FROM job WHERE id = ?", (job_id,)).fetchone()
            pages = conn.execute("SELECT COUNT(*) FROM page WHERE job_id = ?", (job_id,))
            return (row[0] if row else None), pages.fetchone()[0]
        except sqlite3.OperationalError:  # the schema is not there yet
            return None, 0


class Bench:
    """The sides, each run against the same served site, and the server's CPU per run."""

    def __init__(self, workdir: Path, site: synthetic_site.SiteInfo,
                 server: synthetic_site.Server, timeout: float, keep: bool):  # fmt: skip
        self.workdir = workdir
        self.site = site
        self.server = server
        self.start_url = f"{site.base_url}/docs/"
        self.timeout = timeout
        self.keep = keep
        self.scrapyd: ScrapydServer | None = None
        self.count = 0

    def run(self, side: str, round_number: int) -> Run:
        """Run one side once in a fresh directory, and measure it."""
        self.count += 1
        rundir = self.workdir / "runs" / f"{self.count:03d}-{side}"
        rundir.mkdir(parents=True)
        server_cpu, busy, own = self.server.cpu_seconds(), busy_cpu(), own_cpu()
        try:
            run = getattr(self, side.replace("-", "_"))(rundir, round_number)
        finally:
            if not self.keep:
                shutil.rmtree(rundir, ignore_errors=True)
        run.server_cpu = self.server.cpu_seconds() - server_cpu
        run.other_cpu = busy_cpu() - busy - run.cpu - run.server_cpu - (own_cpu() - own)
        return run

    def _run(self, side: str, round_number: int, usage: Usage, stored: int,
             responses: int | None, ok: bool, note: str, **extra: float) -> Run:  # fmt: skip
        if usage.timed_out:
            ok, note = False, f"timed out after {self.timeout:.0f} s"
        elif ok and stored != self.site.pages:
            note = f"stored {stored} of {self.site.pages} pages"
        return Run(
            side=side, round=round_number, wall=usage.wall, cpu=usage.cpu,
            peak_rss_mib=usage.peak_rss / MIB, stored=stored, site_pages=self.site.pages,
            responses=responses, server_cpu=0.0, ok=ok, note=note, **extra,
        )  # fmt: skip

    def baseline(self, rundir: Path, round_number: int) -> Run:
        feed = rundir / "items.jsonl"
        log = rundir / "scrapy.log"
        feeds = json.dumps({feed.as_uri(): {"format": "jsonlines"}})
        usage = run_measured(
            [str(BIN / "scrapy"), "crawl", "docs_baseline", "-a", f"url={self.start_url}",
             "-s", f"FEEDS={feeds}", *settings_args()],
            cwd=BASELINE_PROJECT, log=log, timeout=self.timeout,
        )  # fmt: skip
        stored = sum(1 for _ in feed.open()) if feed.exists() else 0
        ok = usage.returncode == 0
        note = "" if ok else f"exit code {usage.returncode}: {_tail(log)}"
        return self._run("baseline", round_number, usage, stored, responses_in(log), ok, note)

    def docscrawl(self, rundir: Path, round_number: int, side: str = "docscrawl",
                  extra: tuple[str, ...] = ()) -> Run:  # fmt: skip
        db = rundir / "bench.db"
        out = rundir / "docscrawl.out"
        usage = run_measured(
            [DOCSCRAWL, "--db", str(db), "crawl", "--url", self.start_url, "--quiet",
             *settings_args(), *extra],
            cwd=rundir, log=out, timeout=self.timeout,
        )  # fmt: skip
        match = re.search(r"^Job (\d+):", out.read_text(), re.MULTILINE)
        job_id = int(match.group(1)) if match else 1
        status, stored = store_job(db, job_id)
        ok = usage.returncode == 0 and status == "completed"
        note = "" if ok else f"exit code {usage.returncode}, job {status}: {_tail(out)}"
        responses = responses_in(rundir / "logs" / f"job-{job_id}.log")
        return self._run(side, round_number, usage, stored, responses, ok, note)

    def docscrawl_inprocess(self, rundir: Path, round_number: int) -> Run:
        no_pool = ("-s", "DOCSCRAWL_EXTRACTION_PROCESSES=0")
        return self.docscrawl(rundir, round_number, "docscrawl-inprocess", no_pool)

    def docscrawl_scrapyd(self, rundir: Path, round_number: int) -> Run:
        assert self.scrapyd is not None
        db = rundir / "bench.db"
        started = time.monotonic()
        scheduled = subprocess.run(
            [DOCSCRAWL, "--db", str(db), "--scrapyd", self.scrapyd.url, "crawl", "--url",
             self.start_url, "--async", *settings_args()],
            cwd=rundir, env=clean_env(), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        match = re.search(r"Job (\d+) scheduled on Scrapyd as (\S+) ", scheduled.stdout)
        if scheduled.returncode != 0 or not match:
            raise RuntimeError(f"docscrawl crawl --async failed: {scheduled.stderr}")
        job_id, scrapyd_job = int(match.group(1)), match.group(2)
        scrapyd = self.scrapyd
        pid = wait_for(
            lambda: next((p.pid for p in scrapyd.crawl_processes()), None),
            timeout=60, interval=0.02,
        )  # fmt: skip
        usage = measure_pid(pid, self.timeout)
        status, stored = wait_for(
            lambda: (found := store_job(db, job_id))[0] in FINISHED and found, timeout=60
        )
        end_to_end = time.monotonic() - started
        log = self.scrapyd.workdir / "logs" / "docscrawl" / "docs" / f"{scrapyd_job}.log"
        ok = status == "completed"
        note = "" if ok else f"job {status}: {_tail(log)}"
        return self._run("docscrawl-scrapyd", round_number, usage, stored, responses_in(log),
                         ok, note, end_to_end=end_to_end)  # fmt: skip

    def wget(self) -> Run | None:
        """`wget --mirror` of the docs once: the non-Scrapy reference."""
        wget = shutil.which("wget")
        if wget is None:
            return None
        dest = self.workdir / "wget"
        dest.mkdir()
        log = self.workdir / "wget.log"
        server_cpu, busy, own = self.server.cpu_seconds(), busy_cpu(), own_cpu()
        usage = run_measured(
            [wget, "-q", "--mirror", "--no-parent", "-P", str(dest), self.start_url],
            cwd=self.workdir, log=log, timeout=self.timeout,
        )  # fmt: skip
        stored = sum(1 for _ in dest.rglob("*.html"))
        ok = usage.returncode == 0
        note = "" if ok else f"exit code {usage.returncode}: {_tail(log)}"
        run = self._run("wget --mirror", 1, usage, stored, None, ok, note)
        run.server_cpu = self.server.cpu_seconds() - server_cpu
        run.other_cpu = busy_cpu() - busy - run.cpu - run.server_cpu - (own_cpu() - own)
        if not self.keep:
            shutil.rmtree(dest, ignore_errors=True)
        return run


def directory_site(root: Path, base_url: str) -> synthetic_site.SiteInfo:
    """A directory of real HTML as the site to crawl: its size is its .html files (the
    crawls may store fewer: not every file is linked, and some are not pages)."""
    root = root.resolve()
    if not root.is_dir():
        raise SystemExit(f"--site-dir {root} is not a directory")
    files = [path for path in root.rglob("*.htm*") if path.is_file()]
    size = sum(path.stat().st_size for path in files)
    return synthetic_site.SiteInfo(root, base_url, len(files), size)


def measure_pid(pid: int, timeout: float) -> Usage:
    """Follow a process we did not start (a Scrapyd crawl) by its pid until it exits."""
    process = psutil.Process(pid)
    sampler = Sampler(pid)
    sampler.start()
    created = process.create_time()
    timed_out = False
    try:
        process.wait(timeout=timeout)
    except psutil.TimeoutExpired:
        timed_out = True
        process.kill()
        process.wait(timeout=30)
    ended = time.time()
    sampler.stop()
    return Usage(ended - created, sampler.cpu, sampler.peak_rss, timed_out=timed_out)


def _tail(path: Path, lines: int = 5) -> str:
    if not path.exists():
        return "(no output)"
    return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])


def _range(values: list[float], digits: int = 1) -> str:
    return f"{min(values):.{digits}f}..{max(values):.{digits}f}"


def summary(runs: list[Run], wget: Run | None, sides: list[str]) -> tuple[str, dict]:
    """The summary table and ratio lines, and the same as a dict for --json."""
    lines = [
        f"{'side':<18} {'runs':>4} {'pages/s median':>14} {'range':>15} {'CPU s/1k':>8} "
        f"{'peak RSS MiB':>12} {'stored/site':>13}"
    ]
    data: dict = {"sides": {}, "ratios": {}}
    medians: dict[str, float] = {}
    for side in [*sides, "wget --mirror"]:
        mine = [run for run in runs if run.side == side and run.ok]
        if side == "wget --mirror":
            mine = [wget] if wget is not None and wget.ok else []
        if not mine:
            continue
        rates = [run.pages_per_s for run in mine]
        medians[side] = statistics.median(rates)
        cpu = statistics.median(run.cpu_per_1000 or 0.0 for run in mine)
        peak = max(run.peak_rss_mib for run in mine)
        stored = f"{min(run.stored for run in mine)}/{mine[0].site_pages}"
        lines.append(
            f"{side:<18} {len(mine):>4} {medians[side]:>14.1f} {_range(rates):>15} {cpu:>8.2f} "
            f"{peak:>12.1f} {stored:>13}"
        )
        data["sides"][side] = {
            "runs": len(mine), "pages_per_s_median": medians[side], "pages_per_s_min": min(rates),
            "pages_per_s_max": max(rates), "cpu_per_1000_median": cpu, "peak_rss_mib_max": peak,
        }  # fmt: skip
    failed = [run for run in runs if not run.ok]
    if failed:
        lines.append(f"{len(failed)} failed runs are left out: " + "; ".join(
            f"{run.side} round {run.round}: {run.note}" for run in failed
        ))  # fmt: skip
    others = [run.other_cpu for run in runs]
    if others:
        lines.append(
            f"CPU used by anything else during a run: median {statistics.median(others):.2f} s, "
            f"max {max(others):.2f} s (Scrapyd and scheduling for the Scrapyd side; other "
            "processes on the machine make every number noisier)"
        )
    for side in ("docscrawl", "docscrawl-inprocess", "docscrawl-scrapyd"):
        ratios = [
            run.pages_per_s / base.pages_per_s
            for run in runs
            for base in runs
            if run.side == side and base.side == "baseline" and run.round == base.round
            and run.ok and base.ok and base.pages_per_s > 0
        ]  # fmt: skip
        if ratios:
            median = statistics.median(ratios)
            lines.append(
                f"ratio {side}/baseline pages/s, per round: median {median:.2f}, "
                f"range {_range(ratios, 2)} ({len(ratios)} rounds)"
            )
            data["ratios"][f"{side}/baseline"] = {
                "median": median,
                "min": min(ratios),
                "max": max(ratios),
                "rounds": len(ratios),
            }
    if "wget --mirror" in medians:
        reference = medians["wget --mirror"]
        compared = ", ".join(
            f"{side} {medians[side] / reference:.2f}x" for side in sides if side in medians
        )
        lines.append(f"against wget --mirror ({reference:.1f} pages/s, one run): {compared}")
        data["ratios"]["vs wget"] = {side: medians[side] / reference for side in sides
                                     if side in medians}  # fmt: skip
    return "\n".join(lines), data


def peak_rss_banner(runs: list[Run], wget: Run | None, pages: int) -> str:
    """Peak RSS per side, set apart: at --pages 50000 it is what the run is for."""
    peaks = {}
    for run in [*runs, *([wget] if wget else [])]:
        peaks[run.side] = max(peaks.get(run.side, 0.0), run.peak_rss_mib)
    text = "  ".join(f"{side} {peak:.0f} MiB" for side, peak in peaks.items())
    rule = "=" * 100
    return f"{rule}\nPEAK RSS at {pages:,} pages (max over runs): {text}\n{rule}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=5000, help="site size (default 5000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of all sides (default 3)")
    parser.add_argument("--sides", default=",".join(DEFAULT_SIDES),
                        help=f"comma-separated, in order, of {', '.join(SIDES)}")  # fmt: skip
    parser.add_argument("--site-dir", type=Path, help="crawl this directory of HTML instead")
    parser.add_argument("-s", "--setting", action="append", default=[], metavar="KEY=VALUE",
                        help="one more setting for every side (repeatable)")  # fmt: skip
    parser.add_argument("--start", default="index.html",
                        help="with --site-dir: the start page, relative to it")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="the synthetic site's seed")
    parser.add_argument("--server", choices=("auto", "nginx", "python"), default="auto",
                        help="what serves the site (auto: nginx if installed)")  # fmt: skip
    parser.add_argument("--no-wget", action="store_true", help="skip the wget --mirror run")
    parser.add_argument("--timeout", type=float, help="seconds per crawl (default from --pages)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", type=Path, help="also write every run and the summary here")
    args = parser.parse_args(argv)
    sides = [side for side in args.sides.split(",") if side]
    unknown = set(sides) - set(SIDES)
    if unknown:
        parser.error(f"unknown sides {sorted(unknown)}; choose from {', '.join(SIDES)}")
    timeout = args.timeout or 120 + 0.5 * args.pages
    for setting in args.setting:
        key, _, value = setting.partition("=")
        SETTINGS[key] = value
    workdir = Path(tempfile.mkdtemp(prefix="docscrawl-throughput-"))
    runs: list[Run] = []
    wget: Run | None = None
    scrapyd: ScrapydServer | None = None
    server_kind = args.server
    try:
        port = free_port()
        started = time.monotonic()
        base_url = f"http://127.0.0.1:{port}"
        if args.site_dir is not None:
            site = directory_site(args.site_dir, base_url)
            print(f"site: {site.root}, {site.pages} HTML files, "
                  f"{site.html_bytes / MIB:.1f} MiB", flush=True)  # fmt: skip
        else:
            site = synthetic_site.generate(workdir / "site", base_url, args.pages, args.seed)
            print(
                f"site: {site.pages} pages, {site.html_bytes / MIB:.1f} MiB of HTML, generated "
                f"in {time.monotonic() - started:.1f} s",
                flush=True,
            )
        with synthetic_site.serve(site.root, args.server, port, workdir) as server:
            server_kind = server.kind
            print(f"server: {server.kind} (pid {server.pid}) at {server.url}", flush=True)
            print(f"settings on every side: {' '.join(settings_args())}", flush=True)
            print(f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.2f} at start",
                  flush=True)  # fmt: skip
            bench = Bench(workdir, site, server, timeout, args.keep)
            if args.site_dir is not None:
                bench.start_url = f"{site.base_url}/{args.start.lstrip('/')}"
                bench.timeout = args.timeout or 120 + 0.5 * site.pages
            if "docscrawl-scrapyd" in sides:
                scrapyd_dir = workdir / "scrapyd"
                scrapyd_dir.mkdir()
                scrapyd_port = free_port()
                write_scrapyd_conf(scrapyd_dir, scrapyd_port, max_proc=1, auth=None)
                scrapyd = start_scrapyd(scrapyd_dir, scrapyd_port)
                deploy(scrapyd.url, workdir)
                bench.scrapyd = scrapyd
            for round_number in range(1, args.rounds + 1):
                for side in sides:
                    run = bench.run(side, round_number)
                    runs.append(run)
                    print(run.line(), flush=True)
            if not args.no_wget:
                wget = bench.wget()
                print(wget.line() if wget else "wget is not installed: no reference run",
                      flush=True)  # fmt: skip
    finally:
        if scrapyd is not None:
            scrapyd.stop_with_crawls()
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    table, data = summary(runs, wget, sides)
    print()
    print(table)
    print(peak_rss_banner(runs, wget, args.pages))
    if args.json:
        document = {
            "pages": args.pages, "rounds": args.rounds, "sides": sides, "server": server_kind,
            "settings": SETTINGS, "runs": [asdict(run) for run in runs],
            "wget": asdict(wget) if wget else None, "summary": data,
        }  # fmt: skip
        args.json.write_text(json.dumps(document, indent=2))
    return 0 if runs and all(run.ok for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
