"""A crawl into a big store against the same crawl into an empty one: whole `docscrawl crawl`s.

The issue's own measure of "a crawl never slows because the store is big"
(bench/pipeline_scale.py times the pipeline alone, which magnifies the store's share). A
directory of HTML (a real manual from bench/real-docs.sh) is served on 127.0.0.1 (nginx when
installed) and crawled with bench/throughput.py's settings, as a foreground `docscrawl crawl`,
into

- ``empty``: a store that holds nothing else (a new file for each ``new`` run);
- ``big``: a big store (bench/store_scale.py --keep), which every run adds to;

the two interleaved, round by round. Two kinds of crawl:

- ``new``: a client the store has never seen: every page new;
- ``recrawl``: a client crawled once before (untimed, in each store): every page seen again,
  unchanged, the usual weekly crawl; nginx answers its conditional requests with 304s;
- ``refetch``: the same recrawl with ``DOCSCRAWL_CONDITIONAL_REQUESTS=false``, as from a site
  without validators (or whose validators change with every build): every page fetched,
  extracted and written again.

``--before DIR`` (a ``git worktree`` of older code) adds the sides ``before-empty`` and
``before-big``, the older code on the same stores. Prints pages/s per run (pages the job saw /
wall time of the process), and the median of the per-round ratios big/empty.

    .venv/bin/python -m bench.crawl_into_store --big /tmp/ss1m.db \
        --site-dir /tmp/real-docs/postgresql --rounds 5 --modes new,recrawl
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

from bench import synthetic_site
from bench.throughput import settings_args
from tests.support import BIN, clean_env

PYTHON = str(BIN / "python")
# The CLI of the code a side runs: the working tree's, or --before's on its PYTHONPATH.
CLI = "import sys; from control.cli import main; sys.exit(main())"


# Settings of a kind of crawl, besides bench/throughput.py's.
MODE_SETTINGS = {"refetch": ["-s", "DOCSCRAWL_CONDITIONAL_REQUESTS=false"]}


def crawl(
    store: Path, url: str, client: str, code: Path | None, rundir: Path, extra: list[str] = ()
) -> dict:
    """One foreground crawl; its wall time and the pages its job saw."""
    env = clean_env()
    if code is not None:
        env["PYTHONPATH"] = str(code)
    argv = [PYTHON, "-c", CLI, "--db", str(store), "crawl", "--url", url, "--client", client,
            "--quiet", *settings_args(), *extra]  # fmt: skip
    rundir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=rundir, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - started
    match = re.search(r"^Job (\d+):", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"the crawl failed ({done.returncode}): {done.stderr[-1500:]}")
    job_id = int(match.group(1))
    with closing(sqlite3.connect(store, timeout=60)) as conn:
        status, pages = conn.execute(
            "SELECT status, (SELECT COUNT(*) FROM job_page WHERE job_id = ?) FROM job WHERE id = ?",
            (job_id, job_id),
        ).fetchone()
    if status != "completed":
        raise RuntimeError(f"job {job_id} ended {status}")
    return {"wall": wall, "pages": pages, "pages_per_s": pages / wall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=Path, required=True, help="a big store to crawl into")
    parser.add_argument("--site-dir", type=Path, required=True, help="a directory of HTML")
    parser.add_argument("--start", default="index.html", help="the start page, in --site-dir")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--modes", default="new,recrawl")
    parser.add_argument("--before", type=Path, help="a checkout of older code")
    parser.add_argument("--server", choices=("auto", "nginx", "python"), default="auto",
                        help="what serves the site (auto: nginx if installed)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write every run here")
    args = parser.parse_args(argv)
    modes = args.modes.split(",")
    sides = [("empty", None), ("big", None)]
    if args.before:
        sides += [("before-empty", args.before), ("before-big", args.before)]
    runs: list[dict] = []
    with (
        tempfile.TemporaryDirectory(prefix="crawl-into-") as tmp,
        synthetic_site.serve(args.site_dir, args.server, 0, Path(tmp) / "server") as server,
    ):
        work = Path(tmp)
        url = f"{server.url}/{args.start}"
        # Each side's recrawl store and client, crawled once before the timed runs.
        recrawl_store = {
            side: (args.big if side.endswith("big") else work / f"{side}-recrawl.db")
            for side, _ in sides
        }
        if {"recrawl", "refetch"} & set(modes):
            for side, code in sides:
                crawl(recrawl_store[side], url, f"recrawl-{side}", code, work / "warm")
        for number in range(1, args.rounds + 1):
            for mode in modes:
                for side, code in sides:
                    if mode == "new":
                        store = args.big if side.endswith("big") else work / f"{side}-{number}.db"
                        client = f"new-{side}-{number}-{time.time_ns()}"
                    else:
                        store, client = recrawl_store[side], f"recrawl-{side}"
                    extra = MODE_SETTINGS.get(mode, [])
                    run = crawl(store, url, client, code, work / "runs", extra)
                    run.update(side=side, mode=mode, round=number)
                    runs.append(run)
                    print(
                        f"round {number} {mode:<8} {side:<13} {run['pages']:>5} pages in "
                        f"{run['wall']:6.2f} s = {run['pages_per_s']:6.1f} pages/s",
                        flush=True,
                    )
                    if mode == "new" and not side.endswith("big"):
                        store.unlink()
    print()
    print("| crawl | side | pages/s, median (range) | big / empty per round, median (range) |")
    print("|---|---|---|---|")
    for mode in modes:
        for side, _ in sides:
            rates = [r["pages_per_s"] for r in runs if r["mode"] == mode and r["side"] == side]
            ratio = ""
            if side.endswith("big"):
                empty = side.replace("big", "empty")
                pairs = [
                    r["pages_per_s"] / e["pages_per_s"]
                    for r in runs
                    for e in runs
                    if r["side"] == side and e["side"] == empty
                    and r["mode"] == e["mode"] == mode and r["round"] == e["round"]
                ]  # fmt: skip
                ratio = f"{statistics.median(pairs):.3f}x ({min(pairs):.3f}-{max(pairs):.3f})"
            print(
                f"| {mode} | {side} | {statistics.median(rates):.1f} "
                f"({min(rates):.1f}-{max(rates):.1f}) | {ratio} |"
            )
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
