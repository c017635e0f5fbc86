"""Hostile sites: the code before the crawl ledger and trap rules (8bcdc36) against HEAD.

Every mode of tests/hostile_site.py is crawled by both sides, interleaved (before, after), each
a foreground `docscrawl crawl --quiet` with the default settings against a fresh loopback site,
capped at --cap seconds: a crawl still running then gets one SIGINT (Ctrl+C), and a SIGKILL if
it has not exited --grace seconds later. "before" runs from a git worktree of 8bcdc36 with the
same virtual environment. Per run: requests the site served, pages stored, the ledger's rows by
kind (before: crawl_error rows, which had no kind), how the job ended, peak RSS of the crawl
process (psutil every 0.1 s; not wait4's ru_maxrss, which Linux carries over from the parent
at fork), wall time.

    .venv/bin/python -m bench.hostile            # about 7 minutes
    .venv/bin/python -m bench.hostile --cap 20 --modes calendar,repeat
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import psutil

from tests.hostile_site import HostileSite
from tests.support import BIN, PROJECT_ROOT, clean_env

BEFORE = "8bcdc36"
WORKTREE = Path("/tmp/docscrawl-before")
OLD_CLI = "import sys; sys.argv[0]='docscrawl'; from control.cli import main; main()"
MIB = 1024 * 1024
LONG = "/docs/" + "x" * 10_000 + ".html"
# label -> (mode, extra crawl arguments, HostileSite keywords, start path, host)
CASES: dict[str, tuple[str, list[str], dict, str, str]] = {
    **{m: (m, [], {}, "/docs/", "127.0.0.1") for m in (
        "canonical-all", "canonical-other", "calendar", "paged", "repeat", "soft404")},
    "sitemap-chain --max-pages 100 --max-depth 2": (
        "sitemap-chain", ["--max-pages", "100", "--max-depth", "2"], {}, "/docs/", "127.0.0.1"),
    "sitemap-chain": ("sitemap-chain", [], {}, "/docs/", "127.0.0.1"),
    "big-sitemap 200k": ("big-sitemap", [], {"big_sitemap_urls": 200_000}, "/docs/", "127.0.0.1"),
    "big-sitemap 200k --max-pages 300": (
        "big-sitemap", ["--max-pages", "300"], {"big_sitemap_urls": 200_000}, "/docs/",
        "127.0.0.1"),
    **{m: (m, [], {}, "/docs/", "127.0.0.1") for m in (
        "redirect-loop", "redirect-chain", "redirect-offport", "gzip-bomb", "huge",
        "png-as-html")},
    "long-url (10k x)": ("long-url", [], {}, LONG, "127.0.0.1"),
    "plain on ::1": ("plain", [], {}, "/docs/", "::1"),
}  # fmt: skip


def command(side: str, db: Path, url: str, extra: list[str]) -> tuple[list[str], Path, dict]:
    """The crawl's argv, working directory and environment for one side."""
    args = ["--db", str(db), "crawl", "--url", url, "--quiet", *extra]
    if side == "after":
        return [str(BIN / "docscrawl"), *args], db.parent, clean_env()
    env = {**clean_env(), "PYTHONPATH": str(WORKTREE)}
    return [sys.executable, "-c", OLD_CLI, *args], db.parent, env


def run_capped(argv: list[str], cwd: Path, env: dict, cap: float, grace: float) -> dict:
    """Run to its end or to the cap (then SIGINT once, SIGKILL after grace); sample RSS."""
    with open(cwd / "out.txt", "wb") as out:
        started = time.monotonic()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip
    ps, peak, interrupted, killed = psutil.Process(proc.pid), 0, None, None
    while True:
        pid, status = os.waitpid(proc.pid, os.WNOHANG)
        if pid:
            break
        with contextlib.suppress(psutil.Error):
            peak = max(peak, ps.memory_info().rss + sum(
                c.memory_info().rss for c in ps.children(recursive=True)))  # fmt: skip
        elapsed = time.monotonic() - started
        if interrupted is None and elapsed >= cap:
            interrupted = elapsed
            proc.send_signal(signal.SIGINT)
        elif interrupted is not None and killed is None and elapsed >= cap + grace:
            killed = elapsed
            proc.kill()
        time.sleep(0.1)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall": time.monotonic() - started, "rc": proc.returncode,
            "peak_mib": peak / MIB, "interrupted": interrupted,
            "killed": killed, "output": (cwd / "out.txt").read_text(errors="replace")}  # fmt: skip


def store_facts(db: Path, side: str) -> dict:
    """Pages stored, ledger rows by kind, and the job's status and finish reason."""
    if not db.exists():
        return {"stored": 0, "ledger": {}, "status": None, "reason": None}
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        try:
            stored = conn.execute("SELECT COUNT(*) FROM page").fetchone()[0]
            job = conn.execute("SELECT status, finish_reason FROM job ORDER BY id").fetchone()
            if side == "after":
                kinds = conn.execute("SELECT kind, COUNT(*) FROM crawl_error GROUP BY kind")
                ledger = dict(kinds.fetchall())
            else:
                ledger = {
                    "(no kind)": conn.execute("SELECT COUNT(*) FROM crawl_error").fetchone()[0]
                }
        except sqlite3.OperationalError:
            return {"stored": 0, "ledger": {}, "status": None, "reason": None}
    status, reason = job or (None, None)
    return {"stored": stored, "ledger": {k: v for k, v in ledger.items() if v},
            "status": status, "reason": reason}  # fmt: skip


def run_case(label: str, side: str, workdir: Path, cap: float, grace: float) -> dict:
    mode, extra, kwargs, start, host = CASES[label]
    rundir = (workdir if side == "after" else WORKTREE / ".bench-hostile") / f"{label[:20]}-{side}"
    rundir = Path(str(rundir).replace(" ", "_"))
    rundir.mkdir(parents=True, exist_ok=True)
    db = rundir / "store.db"
    with contextlib.ExitStack() as stack:
        other = None
        if mode == "redirect-offport":
            other = stack.enter_context(HostileSite("plain"))
            kwargs = {**kwargs, "other_base": other.base}
        site = stack.enter_context(HostileSite(mode, host, **kwargs))
        argv, cwd, env = command(side, db, site.base + start, extra)
        run = run_capped(argv, cwd, env, cap, grace)
        served, served_other = site.count("/"), other.count("/") if other else None
        paths = Counter("/".join(t.split("?")[0].split("/")[:3])[:40] for t in site.requests)
    run |= store_facts(db, side)
    run |= {
        "label": label,
        "side": side,
        "served": served,
        "served_other": served_other,
        "paths": dict(paths.most_common(8)),
    }
    return run


def ended(run: dict) -> str:
    if run["killed"] is not None:
        how = f"ran away, Ctrl+C at {run['interrupted']:.0f} s did not stop it: SIGKILL; "
    elif run["interrupted"] is not None:
        how = f"ran away, Ctrl+C at {run['interrupted']:.0f} s; "
    else:
        how = ""
    reason = (run["reason"] or "-").replace("|", "/").replace("\n", " ")
    reason = re.sub(r"x{40,}", lambda m: f"x…({len(m[0]):,} x)…", reason)
    reason = reason if len(reason) <= 90 else reason[:87] + "..."
    return f"{how}{run['status']}: {reason} (exit {run['rc']})"


def table(runs: list[dict]) -> str:
    lines = ["| mode | side | served | stored | not-stored reasons | ended | peak RSS MiB | s |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for run in runs:
        served = str(run["served"])
        if run["served_other"] is not None:
            served += f" + {run['served_other']} other"
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(run["ledger"].items())) or "-"
        lines.append(f"| {run['label']} | {run['side']} | {served} | {run['stored']} | {reasons}"
                     f" | {ended(run)} | {run['peak_mib']:.0f} | {run['wall']:.1f} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cap", type=float, default=45.0, help="seconds before Ctrl+C")
    parser.add_argument("--grace", type=float, default=30.0, help="seconds after it to SIGKILL")
    parser.add_argument("--modes", help="comma-separated labels (default: all)")
    parser.add_argument("--sides", default="before,after")
    parser.add_argument("--json", type=Path, help="also write every run here")
    args = parser.parse_args(argv)
    labels = args.modes.split(",") if args.modes else list(CASES)
    sides = args.sides.split(",")
    created = False
    workdir = Path(tempfile.mkdtemp(prefix="docscrawl-hostile-"))
    runs = []
    try:
        if "before" in sides and not WORKTREE.exists():
            subprocess.run(["git", "worktree", "add", "--detach", str(WORKTREE), BEFORE],
                           cwd=PROJECT_ROOT, check=True, capture_output=True)  # fmt: skip
            created = True
        if "before" in sides:
            probe = [sys.executable, "-c", "import control; print(control.__file__)"]
            env = {**clean_env(), "PYTHONPATH": str(WORKTREE)}
            check = subprocess.run(probe, cwd=WORKTREE, env=env, capture_output=True, text=True)
            print(f"before imports {check.stdout.strip()}", file=sys.stderr)
            assert check.stdout.startswith(str(WORKTREE)), check.stdout
        for label in labels:
            for side in sides:
                run = run_case(label, side, workdir, args.cap, args.grace)
                runs.append(run)
                line = f"{label:<34} {side:<6} served {run['served']:>6} stored {run['stored']:>5}"
                print(f"{line} {run['wall']:5.1f} s  {ended(run)}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(WORKTREE / ".bench-hostile", ignore_errors=True)
        if created:
            subprocess.run(["git", "worktree", "remove", "--force", str(WORKTREE)],
                           cwd=PROJECT_ROOT, check=False)  # fmt: skip
    print(table(runs))
    if args.json:
        args.json.write_text(json.dumps([{k: v for k, v in r.items() if k != "output"}
                                         for r in runs], indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
