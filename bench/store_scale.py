"""A year of crawls: every command against a big generated store, as whole processes.

Generates a store (clients, jobs, pages of realistic size, ``job_page`` rows for each client's
last crawls, a few ledger rows a job) straight through SQL: executemany in big transactions,
with the schema created by the code under test. One client, ``big``, holds --big-pages of the
pages. Then runs every command of issue 16's table as a new process, --runs times each
(median), with its peak RSS from GNU time (``wait4`` of a process that is itself small: a
child's ``ru_maxrss`` starts from the RSS of the process it was forked from), next to a bare
``python -c pass`` in the same run. A command that changes the store (a real ``dedupe``) runs
each time on a fresh copy of it, made before the timer starts.

    .venv/bin/python -m bench.store_scale        # CI size: 20 clients, 500 jobs, 20,000 pages
    .venv/bin/python -m bench.store_scale --clients 200 --jobs 10000 --pages 1000000 \
        --big-pages 200000                       # the size of issue 16
    .venv/bin/python -m bench.store_scale --before /tmp/docscrawl-before   # also older code

``--before DIR``: a checkout of older code (``git worktree add DIR COMMIT``), run with
``PYTHONPATH=DIR`` and this virtual environment. The store is generated with that code's schema
and copied (``-after.db``) for the working tree, whose first, untimed, run migrates its copy;
the two sides run interleaved, command by command. ``--keep PATH`` keeps (and reuses, when it
exists) the generated store and its copy. ``--postgres URL`` (an empty database) also times the
newer code on PostgreSQL, on a copy of the store made with ``docscrawl migrate-store``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support import BIN, PROJECT_ROOT, clean_env

PYTHON = str(BIN / "python")
DOCSCRAWL = str(BIN / "docscrawl")
BIG = "big"
MIB = 1024 * 1024
YEAR = dt.timedelta(days=365)
START = dt.datetime(2025, 12, 1)

# Issue 16's targets: seconds and MiB (None: no target), and pages/s for the exports.
TARGETS = {
    "dedupe --near": "≤ 60 s, ≤ 300 MiB",
    "python -c pass": "",
    "docscrawl --help": "",
    "list": "≤ 0.3 s",
    "list --json": "≤ 0.3 s",
    "list --all": "",
    "list --all --json": "",
    "list --status running": "≤ 0.2 s",
    "list --since": "",
    "status --job N": "≤ 0.2 s",
    "status --job N --json": "≤ 0.2 s",
    "reconcile": "≤ 0.2 s",
    "diff --client-slug big": "≤ 2 s, ≤ 150 MiB",
    "dedupe --dry-run": "≤ 10 s, ≤ 200 MiB",
    "dedupe": "≤ 15 s, ≤ 200 MiB",
    "export jsonl": "≥ 25,000 pages/s",
    "export csv": "≥ 20,000 pages/s",
    "export markdown": "≥ 10,000 pages/s",
    "files: the disk's own rate": "",
}

# The baseline of `export markdown`: the same tree of new files (a folder per 50 pages, as the
# generated URLs give, filled one folder at a time as the export does in URL order) of 7,000
# bytes (the generated pages' Markdown averages 6,800, plus the front matter), written as the
# export writes them (os.open, O_EXCL), by bare Python.
WRITE_FILES = """
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
data = b"x" * 7_000
flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
for n in range(count):
    folder = f"{root}/docs.big.example/docs/section-{n // 50}"
    if n % 50 == 0:
        os.makedirs(folder)
    fd = os.open(f"{folder}/page-{n}.md", flags, 0o666)
    os.write(fd, data)
    os.close(fd)
"""

WORDS = str.split(
    "the a to of and in is for that with on as this by be are from or can you your it an "
    "request response server client token key value config option setting cluster node agent "
    "metric log trace span dashboard alert monitor query index field record table column "
    "deploy build release version upgrade install package module function method class object "
    "error warning timeout retry limit quota region zone instance container image volume "
    "network proxy gateway endpoint route path header cookie session user role permission "
    "policy secret certificate domain host port protocol socket stream queue topic event"
)


# --- generating the store ----------------------------------------------------------------------


@dataclass
class Shape:
    clients: int
    jobs: int
    pages: int
    big_pages: int
    seen_jobs: int  # the last N jobs of each client saw every page of it (job_page rows)
    errors: int  # ledger rows a job
    seed: int


def _sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 20))
    return " ".join(words).capitalize() + "."


def _paragraphs(rng: random.Random, count: int) -> list[str]:
    return [" ".join(_sentence(rng) for _ in range(rng.randint(3, 7))) for _ in range(count)]


def _code_blocks(rng: random.Random, count: int) -> list[str]:
    blocks = []
    for _ in range(count):
        lines = [f"{rng.choice(WORDS)}_{rng.choice(WORDS)} = {rng.randint(0, 999)}"
                 for _ in range(rng.randint(3, 10))]  # fmt: skip
        blocks.append("\n".join(lines))
    return blocks


class PageMaker:
    """Pages of about 5-10 KB of Markdown and text, with headings and links, made cheaply from
    pools of paragraphs (each page unique by its own first sentence)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.paragraphs = _paragraphs(rng, 3000)
        self.code = _code_blocks(rng, 300)
        self.headings = [" ".join(rng.choices(WORDS, k=rng.randint(2, 5))).title()
                         for _ in range(500)]  # fmt: skip

    def page(self, base: str, number: int, pages: int) -> dict:
        rng = self.rng
        section = number // 50
        url = f"{base}/docs/section-{section}/page-{number}.html"
        title = f"{self.headings[number % len(self.headings)]} {number}"
        headings = [{"level": 1, "text": title, "id": "top"}]
        md = [f"# {title}", f"Page {number} of {base}: {_sentence(rng)}"]
        text = [title, md[1]]
        links = []
        for h in range(rng.randint(4, 8)):
            heading = self.headings[rng.randrange(len(self.headings))]
            anchor = heading.lower().replace(" ", "-")
            headings.append({"level": 2, "text": heading, "id": anchor})
            md.append(f"## {heading}")
            text.append(heading)
            for _ in range(rng.randint(1, 3)):
                paragraph = self.paragraphs[rng.randrange(len(self.paragraphs))]
                target = rng.randrange(pages)
                link = f"{base}/docs/section-{target // 50}/page-{target}.html"
                links.append({"url": link, "text": f"page {target}"})
                md.append(f"{paragraph} See [page {target}]({link}).")
                text.append(f"{paragraph} See page {target}.")
            if h % 3 == 0:
                block = self.code[rng.randrange(len(self.code))]
                md.append(f"```python\n{block}\n```")
                text.append(block)
        markdown, plain = "\n\n".join(md), "\n".join(text)
        share = rng.uniform(0.1, 0.95) if rng.random() < 0.03 else rng.uniform(0.4, 0.95)
        lost = rng.random() < 0.01
        audit = {"text_share": round(share, 3), "words": len(plain.split()),
                 "headings": [len(headings), len(headings) - int(lost)],
                 "code_blocks": [2, 2], "tables": [0, 0], "rule": "main"}  # fmt: skip
        return {
            "url": url,
            "title": title,
            "headings": json.dumps(headings),
            "markdown": markdown,
            "text": plain,
            "links": json.dumps(links),
            "word_count": len(plain.split()),
            "hash": hashlib.sha256(plain.encode()).hexdigest(),
            "audit": json.dumps(audit),
            "share": share,
            "lost": lost,
        }


def _when(fraction: float) -> dt.datetime:
    return START + YEAR * fraction


def _ts(value: dt.datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d %H:%M:%S.%f")


def generate(path: Path, shape: Shape, live_pid: int, live_started: float) -> None:
    """Write the store at path (its schema from models.open_store, then plain SQL)."""
    from docscrawl import models

    rng = random.Random(shape.seed)
    models.open_store(str(path)).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=off")
    maker = PageMaker(rng)

    # Clients: `big` first, then the rest share the other pages evenly.
    names = [BIG] + [f"client-{n:03d}" for n in range(1, shape.clients)]
    created = _ts(START)
    conn.executemany(
        "INSERT INTO client (id, name, slug, created_at) VALUES (?, ?, ?, ?)",
        [(i + 1, name.title(), name, created) for i, name in enumerate(names)],
    )
    rest = shape.pages - shape.big_pages
    others = max(shape.clients - 1, 1)
    page_counts = [shape.big_pages] + [
        rest // others + (1 if n < rest % others else 0) for n in range(shape.clients - 1)
    ]

    # Jobs through the year: the big client crawls weekly; the others share the rest.
    big_jobs = min(52, max(shape.jobs // shape.clients, shape.seen_jobs + 1))
    owners = [1] * big_jobs + [2 + (n % others) for n in range(shape.jobs - big_jobs)]
    rng.shuffle(owners)
    host = socket.gethostname()
    by_client: dict[int, list[int]] = {}
    job_rows = []
    for index, client_id in enumerate(owners):
        job_id = index + 1
        by_client.setdefault(client_id, []).append(job_id)
        created_at = _when(index / len(owners))
        status = rng.choices(("completed", "failed", "cancelled"), (90, 6, 4))[0]
        job_rows.append([job_id, client_id, f"https://docs.{names[client_id - 1]}.example/docs/",
                         status, "sync", created_at, page_counts[client_id - 1]])  # fmt: skip
    # The last jobs of each client are the completed crawls that saw every page of it, and
    # the two newest jobs of the store are running (this benchmark's own process: alive).
    for job_ids in by_client.values():
        for job_id in job_ids[-shape.seen_jobs :]:
            job_rows[job_id - 1][3] = "completed"
    last_seen = {job_id for ids in by_client.values() for job_id in ids[-shape.seen_jobs :]}
    running = {job_id for job_id in range(len(job_rows), 0, -1) if job_id not in last_seen}
    running = set(sorted(running)[-2:])
    rows = []
    for job_id, client_id, url, status, mode, created_at, pages in job_rows:
        started = created_at + dt.timedelta(seconds=5)
        live = job_id in running
        if live:
            status = "running"
        finished = None if live else started + dt.timedelta(seconds=pages / 40 + 30)
        rows.append((
            job_id, client_id, url, status, mode, "{}", host if live else None,
            live_pid if live else None, live_started if live else None, _ts(created_at),
            _ts(started), _ts(finished), _ts(models.utcnow() if live else finished),
            pages, shape.errors, 0, 0, "finished" if status == "completed" else None,
            json.dumps({"out_of_scope": 12, "not_html": 3}), "{}",
        ))  # fmt: skip
    conn.executemany(
        "INSERT INTO job (id, client_id, url, status, mode, settings, node, pid, "
        "process_started_at, created_at, started_at, finished_at, heartbeat_at, pages, errors, "
        "queued, resumes, finish_reason, skipped, extraction_failures) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    errors = [
        (job_id, f"{job_rows[job_id - 1][2]}missing-{n}", "http_status", 404, "HTTP 404",
         _ts(job_rows[job_id - 1][5]))
        for job_id in range(1, len(job_rows) + 1) for n in range(shape.errors)
    ]  # fmt: skip
    conn.executemany(
        "INSERT INTO crawl_error (job_id, url, kind, status_code, reason, occurred_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        errors,
    )
    conn.commit()

    # Pages, and the job_page rows of each client's last crawls: most pages unchanged from one
    # crawl to the next, 2% changed, 1% new in the last; 0.5% exact duplicates (another URL).
    page_id = 0
    written = 0
    started = time.monotonic()
    for client_id, count in enumerate(page_counts, start=1):
        seen_by = by_client.get(client_id, [])[-shape.seen_jobs :]
        last = seen_by[-1] if seen_by else None
        base = f"https://docs.{names[client_id - 1]}.example"
        page_rows, seen_rows = [], []
        previous = None
        for number in range(count):
            page = maker.page(base, number, count)
            page_id += 1
            url = page["url"]
            if previous is not None and rng.random() < 0.005:
                url = url.replace(".html", "-copy.html")
                page.update({k: previous[k] for k in ("markdown", "text", "hash", "title")})
            previous = page
            page_rows.append((
                page_id, client_id, last, url, url, url, None, 200, page["title"],
                "A page of the generated store.", "en", page["headings"], page["markdown"],
                page["text"], page["links"], page["word_count"], page["hash"],
                _ts(job_rows[last - 1][5]) if last else created, 3, page["audit"],
                page["share"], page["lost"],
            ))  # fmt: skip
            new_in_last = rng.random() < 0.01
            # A changed page had another text (hash) until the newest crawl, which says so.
            changed = rng.random() < 0.02
            for position, job_id in enumerate(seen_by):
                newest = position == len(seen_by) - 1
                if new_in_last and not newest:
                    continue
                if new_in_last or position == 0:
                    change = "new"
                else:
                    change = "changed" if changed and newest else "unchanged"
                digest = page["hash"] if newest or not changed else "0" * 64
                seen_rows.append((job_id, page_id, change, digest))
            if len(page_rows) >= 5000:
                written += _write_pages(conn, page_rows, seen_rows)
                page_rows, seen_rows = [], []
                _progress(written, shape.pages, started)
        written += _write_pages(conn, page_rows, seen_rows)
    _progress(written, shape.pages, started)
    print(file=sys.stderr)
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()


def _write_pages(conn: sqlite3.Connection, pages: list[tuple], seen: list[tuple]) -> int:
    conn.executemany(
        "INSERT INTO page (id, client_id, job_id, url, requested_url, final_url, canonical_url, "
        "status_code, title, description, language, headings, markdown, text, links, "
        "word_count, content_hash, fetched_at, depth, extraction_audit, audit_share, audit_lost) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        pages,
    )
    conn.executemany(
        "INSERT INTO job_page (job_id, page_id, change, content_hash) VALUES (?, ?, ?, ?)", seen
    )
    conn.commit()
    return len(pages)


def _progress(done: int, total: int, started: float) -> None:
    rate = done / max(time.monotonic() - started, 1e-9)
    print(f"\r  {done:,} of {total:,} pages ({rate:,.0f}/s)", end="", file=sys.stderr)


# --- timing ------------------------------------------------------------------------------------


@dataclass
class Timing:
    side: str
    name: str
    seconds: list[float]
    rss_mib: list[float]
    pages: int | None = None  # exports: pages exported, for pages/s
    failed: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def run_timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB, stderr) of one process, through GNU time's wait4."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        started = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", report.name, *argv],
            env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            timeout=1800,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        lines = [line for line in Path(report.name).read_text().splitlines() if line.strip()]
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[3:])} exited {proc.returncode}: {proc.stderr[-500:]}")
    return seconds, int(lines[-1]) / 1024, proc.stderr


# Commands that change the store: each run gets a fresh copy of it (SCRATCH, made untimed).
CHANGES_STORE = {"dedupe"}
SCRATCH = "store.db"  # in the run's out directory


def commands(
    store: Path, job: int, since: str, out: Path, big_pages: int
) -> list[tuple[str, list[str], bool]]:
    """(name, argv, counts pages) for every command timed."""
    db = ["--db", str(store)]
    return [
        ("python -c pass", [PYTHON, "-c", "pass"], False),
        ("docscrawl --help", [DOCSCRAWL, "--help"], False),
        ("list", [DOCSCRAWL, *db, "list"], False),
        ("list --json", [DOCSCRAWL, *db, "list", "--json"], False),
        ("list --all", [DOCSCRAWL, *db, "list", "--all"], False),
        ("list --all --json", [DOCSCRAWL, *db, "list", "--all", "--json"], False),
        ("list --status running", [DOCSCRAWL, *db, "list", "--status", "running"], False),
        ("list --since", [DOCSCRAWL, *db, "list", "--since", since], False),
        ("status --job N", [DOCSCRAWL, *db, "status", "--job", str(job)], False),
        ("status --job N --json", [DOCSCRAWL, *db, "status", "--job", str(job), "--json"], False),
        ("reconcile", [DOCSCRAWL, *db, "reconcile"], False),
        ("diff --client-slug big", [DOCSCRAWL, *db, "diff", "--client-slug", BIG], False),
        ("dedupe --dry-run", [DOCSCRAWL, *db, "dedupe", "--dry-run", "--client-slug", BIG], False),
        ("dedupe", [DOCSCRAWL, "--db", str(out / SCRATCH), "dedupe", "--client-slug", BIG], False),
        ("export jsonl", [DOCSCRAWL, *db, "export", "--client-slug", BIG, "--format", "jsonl",
                          "--out", str(out / "big.jsonl")], True),
        ("export csv", [DOCSCRAWL, *db, "export", "--client-slug", BIG, "--format", "csv",
                        "--out", str(out / "big.csv")], True),
        ("export markdown", [DOCSCRAWL, *db, "export", "--client-slug", BIG, "--format",
                             "markdown", "--out", str(out / "md")], True),
        ("files: the disk's own rate", [PYTHON, "-c", WRITE_FILES, str(out / "files"),
                                         str(big_pages)], True),
        ("dedupe --near", [DOCSCRAWL, *db, "dedupe", "--near", "--dry-run", "--client-slug",
                           BIG], False),
    ]  # fmt: skip


@dataclass
class Side:
    """One version of the code, with its own copy of the store (an older docscrawl refuses a
    store the newer one has migrated)."""

    name: str
    env: dict[str, str]
    store: Path


def time_sides(sides: list[Side], work: Path, runs: int, only: set[str] | None,
               big_pages: int) -> list[Timing]:  # fmt: skip
    """Every command on every side, interleaved (A B A B ...) so that the machine's drifts hit
    every side alike; one untimed run of each side first (it warms the cache, and the newer
    side's migrates its store)."""
    job, since = _probe_store(sides[0].store)
    listed = {side.name: commands(side.store, job, since, work / f"out-{side.name}", big_pages)
              for side in sides}  # fmt: skip
    results = []
    for index, (name, _, counts_pages) in enumerate(listed[sides[0].name]):
        if only and name not in only and name != "python -c pass":
            continue
        timings = {}
        for side in sides:
            if side.name == "before" and name in ("list --all", "list --all --json",
                                                  "list --since"):  # fmt: skip
                continue  # the older list has no --all or --since: `list` prints every job
            if name in CHANGES_STORE and "://" in str(side.store):
                continue  # a fresh copy of a PostgreSQL store each run: not done here
            timings[side.name] = Timing(
                side.name, name, [], [], big_pages if counts_pages else None
            )
        for attempt in range(runs + 1):
            for side in sides:
                timing = timings.get(side.name)
                if timing is None or timing.failed:
                    continue
                out = work / f"out-{side.name}"
                _remove_tree(out)
                out.mkdir(parents=True)
                if name in CHANGES_STORE:
                    if not attempt:  # the side's own store migrated first, not each copy
                        run_timed([DOCSCRAWL, "--db", str(side.store), "list"], side.env, work)
                    _fresh_copy(side.store, out / SCRATCH)
                try:
                    seconds, rss, _ = run_timed(listed[side.name][index][1], side.env, work)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    timing.failed = str(exc).splitlines()[0][:200]
                    continue
                if attempt:
                    timing.seconds.append(seconds)
                    timing.rss_mib.append(rss)
        for timing in timings.values():
            results.append(timing)
            print(f"  {timing.side:<6} {name:<26} {_cell(timing)}", file=sys.stderr)
    return results


def _fresh_copy(store: Path, to: Path) -> None:
    """Copy the SQLite store (its WAL checkpointed into it first) for a run that changes it."""
    conn = sqlite3.connect(store)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    shutil.copyfile(store, to)


def _probe_store(store: Path) -> tuple[int, str]:
    """The big client's newest completed job, and a --since date that keeps about 10 days."""
    with sqlite3.connect(store) as conn:
        (job,) = conn.execute(
            "SELECT MAX(job.id) FROM job JOIN client ON client.id = job.client_id "
            "WHERE client.slug = ? AND job.status = 'completed'", (BIG,)
        ).fetchone()  # fmt: skip
        (newest,) = conn.execute("SELECT MAX(created_at) FROM job").fetchone()
    since = dt.datetime.fromisoformat(newest[:19]) - dt.timedelta(days=10)
    return job, since.date().isoformat()


def _remove_tree(path: Path) -> None:
    """The last run's output, 200,000 files after a Markdown export: `rm -rf` takes a fraction
    of shutil.rmtree's minutes (untimed, but it was most of a run's wall time)."""
    if shutil.which("rm"):
        subprocess.run(["rm", "-rf", "--", str(path)], check=False)
    shutil.rmtree(path, ignore_errors=True)


def _cell(timing: Timing | None) -> str:
    if timing is None:
        return "-"
    if timing.failed:
        return f"failed: {timing.failed}"
    text = f"{timing.median:.3f} s, {max(timing.rss_mib):.0f} MiB"
    if timing.pages:
        text += f", {timing.pages / timing.median:,.0f} pages/s"
    return text


def table(results: list[Timing]) -> str:
    sides = list(dict.fromkeys(t.side for t in results))
    by = {(t.side, t.name): t for t in results}
    names = list(dict.fromkeys(t.name for t in results))
    header = "| command | " + " | ".join(sides) + " | target |"
    lines = [header, "|---" * (len(sides) + 2) + "|"]
    for name in names:
        cells = [_cell(by.get((side, name))) for side in sides]
        lines.append(f"| `{name}` | " + " | ".join(cells) + f" | {TARGETS.get(name, '')} |")
    return "\n".join(lines)


def store_size(store: Path) -> str:
    with sqlite3.connect(store) as conn:
        counts = {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("client", "job", "page", "job_page", "crawl_error")
        }
        (big,) = conn.execute(
            "SELECT COUNT(*) FROM page JOIN client ON client.id = page.client_id "
            "WHERE client.slug = ?", (BIG,)
        ).fetchone()  # fmt: skip
    size = sum(p.stat().st_size for p in store.parent.glob(store.name + "*")) / MIB
    return (
        f"{counts['client']:,} clients, {counts['job']:,} jobs, {counts['page']:,} pages "
        f"({big:,} of client `big`), {counts['job_page']:,} job_page rows, "
        f"{counts['crawl_error']:,} crawl errors; {size:,.0f} MiB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--pages", type=int, default=20_000)
    parser.add_argument("--big-pages", type=int, help="pages of client big (default: a fifth)")
    parser.add_argument(
        "--seen-jobs",
        type=int,
        default=2,
        help="each client's last N jobs have a job_page row per page",
    )
    parser.add_argument("--errors", type=int, default=3, help="crawl errors a job")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--before", type=Path, help="a checkout of older code to time first")
    parser.add_argument(
        "--sides",
        default="before,after",
        help="with --before: which code to time (before needs a store it made)",
    )
    parser.add_argument("--only", help="comma-separated command names (as in the table)")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also time the newer code on this empty PostgreSQL database (the store is copied "
        "into it with migrate-store)",
    )
    parser.add_argument("--keep", type=Path, help="keep the store here (reused if it exists)")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--live", help=argparse.SUPPRESS)  # pid:create_time of the timer
    args = parser.parse_args(argv)
    shape = Shape(args.clients, args.jobs, args.pages, args.big_pages or args.pages // 5,
                  args.seen_jobs, args.errors, args.seed)  # fmt: skip

    if args.generate_only:  # the child that writes the store (see below)
        pid, started = args.live.split(":")
        generate(args.keep, shape, int(pid), float(started))
        return 0

    import psutil

    work = Path(tempfile.mkdtemp(prefix="store-scale-"))
    store = args.keep or work / "big.db"
    env = {**clean_env(), "SCRAPYD_URL": "http://127.0.0.1:9"}
    before_env = {**env, "PYTHONPATH": str(args.before)} if args.before else None
    try:
        if not store.exists():
            # In a child process, so that this one stays small (see run_timed) and, with
            # --before, so that the store gets the older code's schema.
            me = psutil.Process()
            print(f"Generating {store} ...", file=sys.stderr)
            started = time.monotonic()
            # By path, not -m: the current directory would come first on sys.path, before the
            # older code's PYTHONPATH.
            subprocess.run(
                [PYTHON, __file__, "--generate-only", "--keep", str(store),
                 "--live", f"{me.pid}:{me.create_time()}", "--clients", str(shape.clients),
                 "--jobs", str(shape.jobs), "--pages", str(shape.pages), "--big-pages",
                 str(shape.big_pages), "--seen-jobs", str(shape.seen_jobs), "--errors",
                 str(shape.errors), "--seed", str(shape.seed)],
                cwd=work, env={**(before_env or env), "PYTHONPATH": os.pathsep.join(
                    [*([str(args.before)] if args.before else []), str(PROJECT_ROOT)])},
                check=True,
            )  # fmt: skip
            print(f"Generated in {time.monotonic() - started:.0f} s", file=sys.stderr)
        size = store_size(store)
        print(size, file=sys.stderr)
        only = set(args.only.split(",")) if args.only else None
        sides = []
        wanted = args.sides.split(",")
        if before_env and "before" in wanted:
            sides.append(Side("before", before_env, store))
        if "after" in wanted or not before_env:
            after = store
            if before_env and "before" in wanted:
                after = store.with_name(store.stem + "-after.db")
                if not after.exists():
                    print(f"Copying the store to {after} for the newer code", file=sys.stderr)
                    with sqlite3.connect(store) as conn:
                        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    shutil.copyfile(store, after)
            sides.append(Side("after", env, after))
        if args.postgres:
            # The same store in PostgreSQL, copied by `docscrawl migrate-store` (every id kept).
            print(f"Copying the store into {args.postgres.split('@')[-1]} ...", file=sys.stderr)
            started = time.monotonic()
            # Opened once by the newer code first: migrate-store copies only its own schema.
            subprocess.run(
                [DOCSCRAWL, "--db", str(sides[-1].store), "list"], env=env, cwd=work,
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            subprocess.run(
                [DOCSCRAWL, "migrate-store", "--from", str(sides[-1].store), "--to",
                 args.postgres], env=env, cwd=work, check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            print(f"Copied in {time.monotonic() - started:.0f} s", file=sys.stderr)
            sides.append(Side("after-pg", env, args.postgres))  # type: ignore[arg-type]
        results = time_sides(sides, work, args.runs, only, shape.big_pages)
        print(f"\nStore: {size}. Median of {args.runs} runs, peak RSS the largest.\n")
        print(table(results))
        return 1 if any(t.failed for t in results) else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
