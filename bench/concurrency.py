"""Several crawls on one machine, a polite crawl's memory, and a crawl's start-up.

Three parts, each against a baseline measured in the same run:

- crawls:  with Scrapyd ``max_proc = 2``, one crawl alone, then two crawls of two sites at once
           (the same tree served on two ports: two hosts to docscrawl), interleaved for
           --rounds rounds. Pages/s of the pair (pages of both / wall time from the first start
           to the last end) against one alone, and each crawl process's peak RSS (its
           extraction workers included).
- idle:    a polite crawl (DOWNLOAD_DELAY, one request at a time) between its requests: the RSS
           of the crawl process, and of its children, against a polite `scrapy crawl` of a
           plain CrawlSpider (bench/baseline) sampled the same way.
- cancel:  Ctrl+C (SIGINT) of a fast foreground crawl, with the extraction pool from its first
           page and without: the time to the process's exit, and that its workers are gone.
- startup: the time from starting the process to its first request reaching the server, for
           `docscrawl crawl` and for `scrapy crawl` of a spider that only fetches its start URL
           (bench/baseline's `empty`), interleaved.

    .venv/bin/python -m bench.concurrency                          # synthetic site, 2,000 pages
    .venv/bin/python -m bench.concurrency --site-dir /tmp/real-docs/postgresql --rounds 5
    .venv/bin/python -m bench.concurrency --parts idle,startup
    .venv/bin/python -m bench.concurrency --parts crawls -s DOCSCRAWL_EXTRACTION_PROCESSES=0
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench import synthetic_site
from bench.throughput import (
    BASELINE_PROJECT,
    DOCSCRAWL,
    FINISHED,
    MIB,
    SETTINGS,
    directory_site,
    measure_pid,
    settings_args,
    store_job,
)
from tests.support import (
    BIN,
    clean_env,
    deploy,
    free_port,
    start_scrapyd,
    wait_for,
    write_scrapyd_conf,
)

PARTS = ("crawls", "idle", "startup", "cancel")
POLITE = {
    "DOWNLOAD_DELAY": "3",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
    "AUTOTHROTTLE_ENABLED": "False",
}
IDLE_SAMPLE_SECONDS = 12


@dataclass
class Crawl:
    pages: int
    started: float
    ended: float
    peak_rss_mib: float

    @property
    def wall(self) -> float:
        return self.ended - self.started


# --- two crawls at once ----------------------------------------------------------------------


def scrapyd_crawl(scrapyd_url: str, db: Path, url: str, cwd: Path) -> int:
    scheduled = subprocess.run(
        [DOCSCRAWL, "--db", str(db), "--scrapyd", scrapyd_url, "crawl", "--url", url, "--async",
         *settings_args()],
        cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    match = re.search(r"Job (\d+) scheduled on Scrapyd", scheduled.stdout)
    if scheduled.returncode != 0 or not match:
        raise RuntimeError(f"docscrawl crawl --async failed: {scheduled.stderr}")
    return int(match.group(1))


def run_crawls(scrapyd, db: Path, urls: list[str], cwd: Path, timeout: float) -> list[Crawl]:
    """Schedule one crawl per URL at once on Scrapyd; follow each crawl process to its end."""
    known = {p.pid for p in scrapyd.crawl_processes()}
    jobs = [scrapyd_crawl(scrapyd.url, db, url, cwd) for url in urls]
    pids = wait_for(
        lambda: (found := [p.pid for p in scrapyd.crawl_processes() if p.pid not in known])
        and len(found) >= len(urls) and found,
        timeout=60, interval=0.02,
    )  # fmt: skip
    usages: dict[int, object] = {}
    threads = [
        threading.Thread(target=lambda pid=pid: usages.__setitem__(pid, measure_pid(pid, timeout)))
        for pid in pids
    ]
    started = {pid: psutil.Process(pid).create_time() for pid in pids}
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = [wait_for(lambda job=job: (s := store_job(db, job))[0] in FINISHED and s, timeout=60)
            for job in jobs]  # fmt: skip
    crawls = []
    for pid, (status, stored) in zip(pids, done, strict=True):
        usage = usages[pid]
        if status != "completed":
            raise RuntimeError(f"a crawl ended {status}")
        crawls.append(Crawl(stored, started[pid], started[pid] + usage.wall,
                            usage.peak_rss / MIB))  # fmt: skip
    return crawls


def part_crawls(site_for, workdir: Path, rounds: int, server_kind: str) -> list[str]:
    lines = []
    with contextlib.ExitStack() as stack:
        servers = []
        for n in range(2):
            port = free_port()
            root = site_for(port)
            servers.append(stack.enter_context(
                synthetic_site.serve(root, server_kind, port, workdir / f"server-{n}")
            ))  # fmt: skip
        scrapyd_dir = workdir / "scrapyd"
        scrapyd_dir.mkdir()
        port = free_port()
        write_scrapyd_conf(scrapyd_dir, port, max_proc=2, auth=None)
        scrapyd = start_scrapyd(scrapyd_dir, port)
        stack.callback(scrapyd.stop_with_crawls)
        deploy(scrapyd.url, workdir)
        urls = [f"{server.url}/{START}" for server in servers]
        singles, pairs, peaks_one, peaks_two = [], [], [], []
        for round_number in range(1, rounds + 1):
            db = workdir / f"round-{round_number}-one.db"
            (one,) = run_crawls(scrapyd, db, urls[:1], workdir, TIMEOUT)
            db = workdir / f"round-{round_number}-two.db"
            both = run_crawls(scrapyd, db, urls, workdir, TIMEOUT)
            single = one.pages / one.wall
            wall = max(c.ended for c in both) - min(c.started for c in both)
            pair = sum(c.pages for c in both) / wall
            singles.append(single)
            pairs.append(pair)
            peaks_one.append(one.peak_rss_mib)
            peaks_two.extend(c.peak_rss_mib for c in both)
            print(
                f"round {round_number}: one crawl {one.pages} pages {single:.1f} pages/s "
                f"(peak RSS {one.peak_rss_mib:.0f} MiB); two at once "
                f"{'+'.join(str(c.pages) for c in both)} pages {pair:.1f} pages/s "
                f"(peak RSS {', '.join(f'{c.peak_rss_mib:.0f}' for c in both)} MiB): "
                f"{pair / single:.2f}x",
                flush=True,
            )
    ratios = [pair / single for pair, single in zip(pairs, singles, strict=True)]
    lines.append("| crawls at once | pages/s (median) | peak RSS per crawl process |")
    lines.append("|---|---|---|")
    lines.append(f"| 1 | {statistics.median(singles):.1f} | {max(peaks_one):.0f} MiB |")
    lines.append(f"| 2 | {statistics.median(pairs):.1f} | {max(peaks_two):.0f} MiB |")
    lines.append(
        f"\ntwo at once / one alone, per round: median {statistics.median(ratios):.2f}x, "
        f"range {min(ratios):.2f}..{max(ratios):.2f} ({len(ratios)} rounds; target >= 1.8x)"
    )
    return lines


# --- an idle polite crawl ----------------------------------------------------------------------


def tree_rss(process: psutil.Process) -> tuple[int, int]:
    """(RSS of the process, RSS of its children) in bytes."""
    own = process.memory_info().rss
    children = 0
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            children += child.memory_info().rss
    return own, children


def sample_idle(command: list[str], cwd: Path, ready) -> tuple[float, float]:
    """Start command, wait until ready(), then sample its RSS for a while; (own, children) MiB."""
    process = subprocess.Popen(command, cwd=cwd, env=clean_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(ready, timeout=120, interval=0.2)
        crawl = psutil.Process(process.pid)
        own = children = 0
        deadline = time.monotonic() + IDLE_SAMPLE_SECONDS
        while time.monotonic() < deadline:
            sample = tree_rss(crawl)
            own, children = max(own, sample[0]), max(children, sample[1])
            time.sleep(0.2)
        if process.poll() is not None:
            raise RuntimeError("the polite crawl ended before it was sampled")
        return own / MIB, children / MIB
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def part_idle(site_for, workdir: Path, server_kind: str) -> list[str]:
    polite = [arg for key, value in POLITE.items() for arg in ("-s", f"{key}={value}")]
    port = free_port()
    prefix = workdir / "idle"
    with synthetic_site.serve(site_for(port), "nginx", port, prefix) as server:
        url = f"{server.url}/{START}"
        access = prefix / "nginx" / "access.log"  # nginx writes it at least every second

        def fetched_since(lines: int):
            return lambda: access.exists() and len(access.read_text().splitlines()) >= lines

        db = workdir / "idle.db"
        docscrawl = sample_idle(
            [DOCSCRAWL, "--db", str(db), "crawl", "--url", url, "--quiet", *polite],
            workdir,
            fetched_since(3),  # robots.txt and two pages or probes: past its start-up
        )
        seen = len(access.read_text().splitlines())
        scrapy = sample_idle(
            [str(BIN / "scrapy"), "crawl", "follow", "-a", f"url={url}", "-o",
             str(workdir / "idle.jsonl"), *polite],
            BASELINE_PROJECT,
            fetched_since(seen + 3),
        )  # fmt: skip
    return [
        "| polite crawl, between requests | RSS of the process | RSS of its children |",
        "|---|---|---|",
        f"| docscrawl crawl | {docscrawl[0]:.0f} MiB | {docscrawl[1]:.0f} MiB |",
        f"| scrapy crawl (plain CrawlSpider) | {scrapy[0]:.0f} MiB | {scrapy[1]:.0f} MiB |",
        f"\ndocscrawl / scrapy: {docscrawl[0] / scrapy[0]:.2f}x (target: docscrawl <= 80 MiB)",
    ]


# --- start-up ------------------------------------------------------------------------------------


class FirstRequest(http.server.ThreadingHTTPServer):
    """Answers every request with a tiny page, and notes when the first one arrived."""

    def __init__(self) -> None:
        self.first: float | None = None
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if server.first is None:
                    server.first = time.monotonic()
                body = (
                    b"<html><head><title>t</title></head><body><main><p>x</p></main></body></html>"
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


def time_to_first_request(command: list[str], cwd: Path, server: FirstRequest) -> float:
    server.first = None
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, env=clean_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(lambda: server.first is not None, timeout=60, interval=0.005)
        return server.first - started
    finally:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def part_startup(workdir: Path, rounds: int) -> list[str]:
    server = FirstRequest()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/docs/index.html"
    docscrawl, scrapy = [], []
    try:
        for round_number in range(rounds + 1):  # the first round warms the caches, untimed
            db = workdir / f"startup-{round_number}.db"
            d = time_to_first_request(
                [DOCSCRAWL, "--db", str(db), "crawl", "--url", url, "--quiet", "--max-pages", "1"],
                workdir, server,
            )  # fmt: skip
            s = time_to_first_request(
                [str(BIN / "scrapy"), "crawl", "empty", "-a", f"url={url}"], BASELINE_PROJECT,
                server,
            )  # fmt: skip
            if round_number:
                docscrawl.append(d)
                scrapy.append(s)
    finally:
        server.shutdown()
        server.server_close()
    ratios = [d / s for d, s in zip(docscrawl, scrapy, strict=True)]
    return [
        "| to the first request | median | range |",
        "|---|---|---|",
        f"| docscrawl crawl (new store) | {statistics.median(docscrawl):.3f} s | "
        f"{min(docscrawl):.3f}..{max(docscrawl):.3f} s |",
        f"| scrapy crawl (empty spider) | {statistics.median(scrapy):.3f} s | "
        f"{min(scrapy):.3f}..{max(scrapy):.3f} s |",
        f"\ndocscrawl / scrapy, per round: median {statistics.median(ratios):.2f}x "
        f"({len(ratios)} rounds; target <= 1.2x)",
    ]


def cancel_once(url: str, db: Path, workdir: Path, extra: list[str]) -> tuple[float, int]:
    """(seconds from SIGINT to exit, worker processes left) of one cancelled crawl."""
    process = subprocess.Popen(
        [DOCSCRAWL, "--db", str(db), "crawl", "--url", url, "--quiet", *settings_args(), *extra],
        cwd=workdir, env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: store_job(db, 1)[1] >= 200, timeout=120, interval=0.05)
        workers = psutil.Process(process.pid).children(recursive=True)
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        latency = time.monotonic() - sent
        _, alive = psutil.wait_procs(workers, timeout=2)
        return latency, len(alive)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def part_cancel(site_for, workdir: Path, rounds: int, server_kind: str) -> list[str]:
    port = free_port()
    sides = {
        "with the pool": ["-s", "DOCSCRAWL_EXTRACTION_POOL_THRESHOLD=0"],
        "in the crawl's process": ["-s", "DOCSCRAWL_EXTRACTION_PROCESSES=0"],
    }
    latencies: dict[str, list[float]] = {side: [] for side in sides}
    left = 0
    with synthetic_site.serve(site_for(port), server_kind, port, workdir / "cancel") as server:
        url = f"{server.url}/{START}"
        for round_number in range(rounds):
            for side, extra in sides.items():
                db = workdir / f"cancel-{round_number}-{len(latencies[side])}-{side[:4]}.db"
                latency, alive = cancel_once(url, db, workdir, extra)
                latencies[side].append(latency)
                left += alive
    lines = ["| Ctrl+C of a fast crawl | to exit, median | max |", "|---|---|---|"]
    for side, values in latencies.items():
        lines.append(f"| {side} | {statistics.median(values):.2f} s | {max(values):.2f} s |")
    lines.append(f"\nworker processes left after the exits: {left} (target: 0; exit <= 1 s)")
    return lines


START = "docs/"
TIMEOUT = 1800.0


def main(argv: list[str] | None = None) -> int:
    global START
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default=",".join(PARTS), help=f"of {', '.join(PARTS)}")
    parser.add_argument("--pages", type=int, default=2000, help="synthetic site size")
    parser.add_argument("--site-dir", type=Path, help="crawl this directory of HTML instead")
    parser.add_argument("--start", default="index.html", help="with --site-dir: start page")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", choices=("auto", "nginx", "python"), default="auto")
    parser.add_argument("-s", "--setting", action="append", default=[], metavar="KEY=VALUE",
                        help="one more setting for the crawls of the crawls part")  # fmt: skip
    args = parser.parse_args(argv)
    for setting in args.setting:
        key, _, value = setting.partition("=")
        SETTINGS[key] = value
    parts = [part for part in args.parts.split(",") if part]
    if set(parts) - set(PARTS):
        parser.error(f"unknown parts {sorted(set(parts) - set(PARTS))}")
    workdir = Path(tempfile.mkdtemp(prefix="docscrawl-concurrency-"))
    tables = []
    try:
        if args.site_dir is not None:
            site = directory_site(args.site_dir, "http://127.0.0.1")
            START = args.start.lstrip("/")

            def site_for(port: int) -> Path:
                return site.root

        else:

            def site_for(port: int) -> Path:
                # One site per port: the sitemap names its own host and port.
                base = f"http://127.0.0.1:{port}"
                return synthetic_site.generate(workdir / f"site-{port}", base, args.pages).root

        print(f"site: {args.site_dir or 'synthetic'}, cpus {psutil.cpu_count()}, load "
              f"{psutil.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
        if "crawls" in parts:
            tables.append(part_crawls(site_for, workdir, args.rounds, args.server))
        if "idle" in parts:
            tables.append(part_idle(site_for, workdir, args.server))
        if "cancel" in parts:
            tables.append(part_cancel(site_for, workdir, args.rounds, args.server))
        if "startup" in parts:
            tables.append(part_startup(workdir, max(args.rounds, 5)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for table in tables:
        print()
        print("\n".join(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
