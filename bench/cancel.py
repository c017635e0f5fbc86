"""Cancel latency and pages lost: plain Scrapy + Scrapyd's cancel.json against docscrawl.

Everything runs against the same polite setup: the sample site answering every page in 2 s,
DOWNLOAD_DELAY=1, CONCURRENT_REQUESTS_PER_DOMAIN=1, hundreds of requests queued. The sides run
interleaved (A B C D, A B C D, ...) in one run, each cancelled at a random moment:

- baseline:       a plain follow-all CrawlSpider on Scrapyd, cancelled with cancel.json;
- docscrawl-async: `docscrawl crawl --async`, cancelled with `docscrawl cancel`;
- docscrawl-ctrlc: a foreground `docscrawl crawl`, stopped with SIGINT (Ctrl+C);
- docscrawl-sync-cancel: a foreground crawl, cancelled with `docscrawl cancel` from elsewhere.

Latency is from the cancel request to the crawl process having exited (and, for docscrawl, the
job showing `cancelled`). Pages lost: pages the server answered and the crawler received but
did not store (docscrawl: the page table; baseline: the JSON Lines feed).

    .venv/bin/python -m bench.cancel --cancels 10
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import requests

from sample_site.testing import serve
from tests.support import (
    BIN,
    PROJECT_ROOT,
    clean_env,
    deploy,
    free_port,
    start_scrapyd,
    wait_for,
    write_scrapyd_conf,
)

POLITE = {
    "DOWNLOAD_DELAY": "1",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
    "AUTOTHROTTLE_ENABLED": "False",
}
SIDES = ("baseline", "docscrawl-async", "docscrawl-ctrlc", "docscrawl-sync-cancel")
DOCSCRAWL = str(BIN / "docscrawl")
# After a cancel, the server still answers the download that was in flight (it takes 2 s);
# wait for that before reading the access log.
SETTLE_SECONDS = 2.5


@dataclass
class Run:
    side: str
    latency: float
    fetched: int
    stored: int
    lost: int


class Bench:
    def __init__(self, workdir: Path, site: str, access_log: Path, rng: random.Random,
                 min_wait: float, max_wait: float):  # fmt: skip
        self.workdir = workdir
        self.site = site
        self.access_log = access_log
        self.rng = rng
        self.min_wait = min_wait
        self.max_wait = max_wait
        self.db = workdir / "bench.db"
        self.env = clean_env()
        self.scrapyd = None
        self.count = 0

    # --- helpers ---------------------------------------------------------------------------

    def docscrawl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [DOCSCRAWL, "--db", str(self.db), "--scrapyd", self.scrapyd.url, *args],
            env=self.env, cwd=self.workdir, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if check and proc.returncode != 0:
            raise RuntimeError(f"docscrawl {' '.join(args)} failed: {proc.stderr}")
        return proc

    def job(self, job_id: int) -> dict:
        with sqlite3.connect(self.db, timeout=30) as conn:
            conn.row_factory = sqlite3.Row
            try:
                row = conn.execute("SELECT * FROM job WHERE id = ?", (job_id,)).fetchone()
            except sqlite3.OperationalError:
                return {}
            return dict(row) if row else {}

    def rows(self, sql: str, *params) -> list[tuple]:
        with sqlite3.connect(self.db, timeout=30) as conn:
            return conn.execute(sql, params).fetchall()

    def log_offset(self) -> int:
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def fetched_pages(self, offset: int) -> set[str]:
        with open(self.access_log, "rb") as log:
            log.seek(offset)
            lines = log.read().decode().splitlines()
        pages = set()
        for line in lines:
            _method, path, status = line.split()
            skipped = path.startswith(("/robots.txt", "/sitemap")) or path.endswith(
                (".pdf", ".png", ".zip", ".css")
            )
            if status == "200" and not skipped:
                pages.add(path.split("?")[0])
        return pages

    def random_wait(self) -> None:
        time.sleep(self.rng.uniform(self.min_wait, self.max_wait))

    def settings_args(self) -> list[str]:
        return [arg for key, value in POLITE.items() for arg in ("-s", f"{key}={value}")]

    def docscrawl_losses(self, job_id: int, offset: int) -> tuple[int, int, int]:
        time.sleep(SETTLE_SECONDS)
        fetched = self.fetched_pages(offset)
        stored = {
            urlsplit(url).path
            for (url,) in self.rows("SELECT requested_url FROM page WHERE job_id = ?", job_id)
        }
        abandoned = {
            urlsplit(url).path
            for (url,) in self.rows(
                "SELECT url FROM frontier_request WHERE job_id = ? AND state = 'in_flight'",
                job_id,
            )
        }
        # An abandoned download was answered by the server but never received by the crawler.
        lost = fetched - stored - abandoned
        return len(fetched), len(stored), len(lost)

    # --- the sides ---------------------------------------------------------------------------

    def baseline(self) -> Run:
        self.count += 1
        feed = self.workdir / f"baseline-{self.count}.jsonl"
        offset = self.log_offset()
        data = [("project", "baseline"), ("spider", "follow"), ("url", self.site)]
        data += [("setting", f"{k}={v}") for k, v in POLITE.items()]
        data += [("setting", "FEEDS=" + json.dumps({feed.as_uri(): {"format": "jsonlines"}}))]
        jobid = requests.post(f"{self.scrapyd.url}/schedule.json", data=data, timeout=10).json()[
            "jobid"
        ]

        def running_pid() -> int | None:
            for job in self.scrapyd.list_jobs("baseline")["running"]:
                if job["id"] == jobid:
                    return job["pid"]
            return None

        pid = wait_for(running_pid, timeout=60)
        process = psutil.Process(pid)
        wait_for(lambda: len(self.fetched_pages(offset)) >= 2, timeout=60)
        self.random_wait()
        started = time.monotonic()
        requests.post(
            f"{self.scrapyd.url}/cancel.json",
            data={"project": "baseline", "job": jobid},
            timeout=10,
        )
        wait_for(lambda: not _alive(process), timeout=600, interval=0.02)
        latency = time.monotonic() - started
        time.sleep(SETTLE_SECONDS)
        fetched = self.fetched_pages(offset)
        items = (
            [json.loads(line) for line in feed.read_text().splitlines()] if feed.exists() else []
        )
        stored = {urlsplit(item["url"]).path for item in items}
        lost = {p for p in fetched if p not in stored and p.rstrip("/") + "/" not in stored}
        return Run("baseline", latency, len(fetched), len(stored), len(lost))

    def docscrawl_async(self) -> Run:
        self.count += 1
        offset = self.log_offset()
        out = self.docscrawl("crawl", "--url", self.site, "--client", f"async-{self.count}",
                             "--async", *self.settings_args())  # fmt: skip
        job_id = int(out.stdout.split()[1])
        wait_for(lambda: (self.job(job_id).get("pages") or 0) >= 2, timeout=60)
        process = psutil.Process(self.job(job_id)["pid"])
        self.random_wait()
        started = time.monotonic()
        self.docscrawl("cancel", "--job", str(job_id))
        wait_for(lambda: not _alive(process), timeout=60, interval=0.01)
        latency = time.monotonic() - started
        assert self.job(job_id)["status"] == "cancelled", self.job(job_id)
        return Run("docscrawl-async", latency, *self.docscrawl_losses(job_id, offset))

    def _foreground(self, side: str, stop) -> Run:
        self.count += 1
        offset = self.log_offset()
        crawl = subprocess.Popen(
            [DOCSCRAWL, "--db", str(self.db), "crawl", "--url", self.site, "--client",
             f"sync-{self.count}", "--quiet", *self.settings_args()],
            env=self.env, cwd=self.workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        job_id = int(wait_for(lambda: crawl.stdout.readline(), timeout=30).split()[1].rstrip(":"))
        wait_for(lambda: (self.job(job_id).get("pages") or 0) >= 2, timeout=60)
        self.random_wait()
        started = time.monotonic()
        stop(crawl, job_id)
        crawl.communicate(timeout=600)
        latency = time.monotonic() - started
        assert self.job(job_id)["status"] == "cancelled", self.job(job_id)
        return Run(side, latency, *self.docscrawl_losses(job_id, offset))

    def docscrawl_ctrlc(self) -> Run:
        return self._foreground(
            "docscrawl-ctrlc", lambda crawl, _: crawl.send_signal(signal.SIGINT)
        )

    def docscrawl_sync_cancel(self) -> Run:
        return self._foreground(
            "docscrawl-sync-cancel",
            lambda _, job_id: self.docscrawl("cancel", "--job", str(job_id)),
        )


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def report(runs: list[Run]) -> str:
    lines = [
        f"{'side':<24} {'cancels':>7} {'median s':>9} {'p95 s':>7} {'max s':>7} "
        f"{'pages lost':>10} {'pages/run':>9}",
    ]
    baseline = None
    for side in SIDES:
        mine = [run for run in runs if run.side == side]
        if not mine:
            continue
        latencies = [run.latency for run in mine]
        median = statistics.median(latencies)
        baseline = baseline or median
        lines.append(
            f"{side:<24} {len(mine):>7} {median:>9.2f} {percentile(latencies, 0.95):>7.2f} "
            f"{max(latencies):>7.2f} {sum(run.lost for run in mine):>10} "
            f"{statistics.mean(run.stored for run in mine):>9.1f}"
        )
    medians = {
        side: statistics.median(run.latency for run in runs if run.side == side)
        for side in SIDES
        if any(run.side == side for run in runs)
    }
    if "baseline" in medians:
        for side, median in medians.items():
            if side != "baseline":
                lines.append(f"{side}: median {medians['baseline'] / median:.1f}x faster to stop")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cancels", type=int, default=10, help="cancels per side (default 10)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--min-wait", type=float, default=2.0, help="seconds before a cancel")
    parser.add_argument("--max-wait", type=float, default=8.0)
    parser.add_argument("--sides", default=",".join(SIDES))
    parser.add_argument("--json", type=Path, help="also write every run to this file")
    args = parser.parse_args(argv)
    sides = [side for side in args.sides.split(",") if side]
    rng = random.Random(args.seed)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="docscrawl-bench-") as tmp:
        workdir = Path(tmp)
        access_log = workdir / "access.log"
        with serve(delay=2.0, access_log=str(access_log)) as site:
            port = free_port()
            scrapyd_dir = workdir / "scrapyd"
            scrapyd_dir.mkdir()
            write_scrapyd_conf(scrapyd_dir, port, max_proc=2, auth=None)
            scrapyd = start_scrapyd(scrapyd_dir, port)
            try:
                deploy(scrapyd.url, workdir)
                deploy(scrapyd.url, workdir, project_dir=PROJECT_ROOT / "bench" / "baseline",
                       project="baseline")  # fmt: skip
                bench = Bench(workdir, site, access_log, rng, args.min_wait, args.max_wait)
                bench.scrapyd = scrapyd
                for round_number in range(1, args.cancels + 1):
                    for side in sides:
                        run = getattr(bench, side.replace("-", "_"))()
                        runs.append(run)
                        print(
                            f"round {round_number:>2} {run.side:<22} {run.latency:6.2f} s  "
                            f"fetched {run.fetched:>3}  stored {run.stored:>3}  lost {run.lost}",
                            file=sys.stderr,
                            flush=True,
                        )
            finally:
                scrapyd.stop_with_crawls()
    print(report(runs))
    if args.json:
        args.json.write_text(json.dumps([run.__dict__ for run in runs], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
