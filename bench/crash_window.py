"""The crash window: what flushing every 25 pages / 0.25 s (new) costs and saves against every
100 pages / 1.0 s (old), both with the current code, the old window set with
`-s DOCSCRAWL_BATCH_SIZE=100 -s DOCSCRAWL_FLUSH_INTERVAL=1.0`.

(a) Throughput: full foreground crawls of the synthetic site (bench/synthetic_site.py, nginx
    when installed, else the Python server), old and new interleaved (ABBA) for --rounds pairs,
    with bench/throughput.py's settings. Median pages/s of each and the per-pair ratio.
(b) Work lost to a SIGKILL: the sample site answering each page in --delay s (16 requests at a
    time, AutoThrottle off), so pages arrive steadily. The crawl is killed once it has stored
    N pages (polling the store) plus a random 0-1 s, so the kill lands anywhere in a flush
    cycle; then `docscrawl resume --job 1` finishes the job. From the access log (page paths
    only): pages the server answered before the kill minus pages stored = work lost; pages
    answered after the kill were still in flight (never received, lost by any window); pages
    the resume fetched again that had been answered before the kill. Paths a full crawl fetches
    but never stores (aliases, duplicates) are left out of every count.

    .venv/bin/python -m bench.crash_window               # about 5 minutes
"""

from __future__ import annotations

import argparse
import contextlib
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench import synthetic_site
from bench.throughput import run_measured, settings_args, store_job
from sample_site.testing import serve
from tests.support import BIN, clean_env, free_port, wait_for

DOCSCRAWL = str(BIN / "docscrawl")
WINDOWS = {
    "old 100 / 1.0 s": ["-s", "DOCSCRAWL_BATCH_SIZE=100", "-s", "DOCSCRAWL_FLUSH_INTERVAL=1.0"],
    "new 25 / 0.25 s": [],
}
STEADY = ["-s", "CONCURRENT_REQUESTS=16", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
          "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0"]  # fmt: skip


def throughput(workdir: Path, pages: int, rounds: int) -> list[tuple[str, int, float, float]]:
    port = free_port()
    site = synthetic_site.generate(workdir / "site", f"http://127.0.0.1:{port}", pages)
    runs = []
    with synthetic_site.serve(site.root, "auto", port, workdir) as server:
        print(f"(a) {pages} pages served by {server.kind}", file=sys.stderr)
        for n in range(rounds):
            for window in list(WINDOWS)[:: 1 if n % 2 == 0 else -1]:
                rundir = workdir / f"a-{n}-{len(runs)}"
                rundir.mkdir()
                usage = run_measured(
                    [DOCSCRAWL, "--db", str(rundir / "s.db"), "crawl", "--url",
                     f"{site.base_url}/docs/", "--quiet", *settings_args(), *WINDOWS[window]],
                    cwd=rundir, log=rundir / "out.txt", timeout=600,
                )  # fmt: skip
                status, stored = store_job(rundir / "s.db", 1)
                assert usage.returncode == 0 and status == "completed", (usage, status)
                runs.append((window, n + 1, stored, usage.wall))
                rate = f"{stored} pages in {usage.wall:.2f} s = {stored / usage.wall:.1f} pages/s"
                print(f"round {n + 1} {window}: {rate}", file=sys.stderr, flush=True)
    return runs


class Site:
    """The sample site with its access log, read by offsets."""

    def __init__(self, url: str, log: Path):
        self.url, self.log = url, log

    def offset(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def pages(self, start: int, end: int | None = None, ok_only: bool = True) -> list[str]:
        with open(self.log, "rb") as log:
            log.seek(start)
            text = log.read(None if end is None else end - start).decode()
        found = []
        for line in text.splitlines():
            _method, path, status = line.split()
            path = path.split("?")[0].removesuffix("index.html")  # one page, two names
            skip = path.startswith(("/robots.txt", "/sitemap")) or path.endswith(
                (".pdf", ".png", ".zip", ".css", ".js")
            )
            if not skip and (status == "200" or not ok_only):
                found.append(path)
        return found


def stored_paths(db: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        rows = conn.execute("SELECT requested_url FROM page").fetchall()
    return {urlsplit(url).path.removesuffix("index.html") for (url,) in rows}


def count_pages(db: Path) -> int:
    uri = f"file:{db}?mode=ro"
    with (
        contextlib.suppress(sqlite3.Error),
        contextlib.closing(sqlite3.connect(uri, uri=True)) as conn,
    ):
        return conn.execute("SELECT COUNT(*) FROM page").fetchone()[0]
    return 0


def crawl(db: Path, site: Site, window: str) -> subprocess.Popen:
    return subprocess.Popen(
        [DOCSCRAWL, "--db", str(db), "crawl", "--url", site.url, "--quiet", *STEADY,
         *WINDOWS[window]],
        cwd=db.parent, env=clean_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def kill_trial(workdir: Path, site: Site, window: str, n: int, extra: float, settle: float,
               unstored: set[str], full: set[str]) -> dict:  # fmt: skip
    rundir = workdir / f"b-{len(list(workdir.iterdir()))}"
    rundir.mkdir()
    db, start = rundir / "s.db", site.offset()
    proc = crawl(db, site, window)
    wait_for(lambda: count_pages(db) >= n or proc.poll() is not None, timeout=120, interval=0.01)
    time.sleep(extra)
    finished_first = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    at_kill = site.offset()
    proc.wait()
    time.sleep(settle)  # the server answers what was in flight, into a closed socket
    before = set(site.pages(start, at_kill)) - unstored
    in_flight = set(site.pages(at_kill, site.offset())) - before - unstored
    stored = stored_paths(db)
    resume_at = site.offset()
    resumed = subprocess.run(
        [DOCSCRAWL, "--db", str(db), "resume", "--job", "1", "--quiet"], cwd=rundir,
        env=clean_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    refetched = set(site.pages(resume_at, ok_only=False)) & (before | in_flight)
    final = stored_paths(db)
    return {
        "window": window, "n": n, "extra": extra, "stored": len(stored), "finished": finished_first,
        "lost": len(before - stored), "in_flight": len(in_flight),
        "refetched": len(refetched), "refetched_stored": len(refetched & stored),
        "resume_rc": resumed.returncode, "final": len(final),
        "missing": len((before | in_flight) - final),
        "missing_paths": sorted((before | in_flight) - final), "extra_paths": sorted(final - full),
    }  # fmt: skip


def kills(workdir: Path, delay: float, count: int, seed: int) -> tuple[list[dict], int]:
    rng = random.Random(seed)
    points = [(30 + 40 * (i % 5), rng.uniform(0, 1.0)) for i in range(count)]
    with serve(delay=delay, access_log=str(workdir / "access.log")) as url:
        site = Site(str(url), workdir / "access.log")
        # A full crawl, once: the paths it fetches but does not store are not work lost.
        (workdir / "full").mkdir()
        start = site.offset()
        crawl(workdir / "full" / "s.db", site, "new 25 / 0.25 s").wait(timeout=300)
        unstored = set(site.pages(start)) - stored_paths(workdir / "full" / "s.db")
        full = stored_paths(workdir / "full" / "s.db")
        print(f"(b) full crawl: {len(full)} pages; fetched, not stored: {sorted(unstored)}",
              file=sys.stderr)  # fmt: skip
        trials = []
        for n, extra in points:
            for window in WINDOWS:
                t = kill_trial(workdir, site, window, n, extra, delay + 0.5, unstored, full)
                trials.append(t)
                print(f"{window}: kill at >= {n} stored + {extra:.2f} s: stored {t['stored']}, "
                      f"lost {t['lost']}, in flight {t['in_flight']}, resume re-fetched "
                      f"{t['refetched']} (of them stored {t['refetched_stored']}), after resume "
                      f"{t['final']} stored, {t['missing']} missing, resume exit {t['resume_rc']}"
                      + (" (had finished before the kill)" if t["finished"] else "")
                      + (f" missing {t['missing_paths']}" if t["missing"] else "")
                      + (f" not in the full crawl {t['extra_paths']}" if t["extra_paths"] else ""),
                      file=sys.stderr, flush=True)  # fmt: skip
    return trials, len(full)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=3000, help="(a) synthetic site size")
    parser.add_argument("--rounds", type=int, default=5, help="(a) pairs of crawls")
    parser.add_argument("--delay", type=float, default=0.2, help="(b) seconds per page")
    parser.add_argument("--kills", type=int, default=10, help="(b) kills per window")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip", choices=("a", "b"), help="skip one part")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="docscrawl-crash-") as tmp:
        workdir = Path(tmp)
        (workdir / "a").mkdir()
        (workdir / "b").mkdir()
        runs = [] if args.skip == "a" else throughput(workdir / "a", args.pages, args.rounds)
        trials, full = ([], 0) if args.skip == "b" else kills(
            workdir / "b", args.delay, args.kills, args.seed)  # fmt: skip
    if runs:
        print(f"(a) throughput, {args.pages}-page synthetic site, {args.rounds} interleaved pairs")
        print("| window | runs | pages/s median | range | stored |\n|---|---|---|---|---|")
        medians = {}
        for window in WINDOWS:
            rates = [s / w for win, _, s, w in runs if win == window]
            medians[window] = statistics.median(rates)
            stored = {s for win, _, s, _ in runs if win == window}
            print(f"| {window} | {len(rates)} | {medians[window]:.1f} | {min(rates):.1f}.."
                  f"{max(rates):.1f} | {'/'.join(map(str, sorted(stored)))} |")  # fmt: skip
        old, new = WINDOWS
        ratios = [
            (sn / wn) / (so / wo)
            for (wo_, r1, so, wo) in runs if wo_ == old
            for (wn_, r2, sn, wn) in runs if wn_ == new and r1 == r2
        ]  # fmt: skip
        print(f"\nnew/old pages/s per pair: median {statistics.median(ratios):.3f}, range "
              f"{min(ratios):.3f}..{max(ratios):.3f}\n")  # fmt: skip
    if trials:
        print(f"(b) SIGKILL, sample site at {args.delay} s a page, 16 at a time ({full} pages); "
              f"{args.kills} kills per window")  # fmt: skip
        print(
            "| window | kills | lost median | lost max | in flight median | re-fetched by"
            " resume median (max) | of them already stored | missing after resume |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for window in WINDOWS:
            mine = [t for t in trials if t["window"] == window]
            lost, flight = [t["lost"] for t in mine], [t["in_flight"] for t in mine]
            ref = [t["refetched"] for t in mine]
            print(f"| {window} | {len(mine)} | {statistics.median(lost):g} | {max(lost)} | "
                  f"{statistics.median(flight):g} | {statistics.median(ref):g} ({max(ref)}) | "
                  f"{sum(t['refetched_stored'] for t in mine)} | "
                  f"{sum(t['missing'] for t in mine)} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
