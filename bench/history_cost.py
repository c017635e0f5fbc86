"""What content history (``page_version``) costs in store size when 5% of pages change per crawl.

Generates the synthetic documentation site (bench/synthetic_site.py: about 8 KB of HTML and
5 KB of Markdown a page) into a temporary directory, served from disk on 127.0.0.1 by
``tests.support.serve_directory`` (Last-Modified and 304s, as a real site's re-crawl). Crawls it
once with `docscrawl crawl`, then --recrawls more times; before each re-crawl it rewrites one
paragraph of --change-share of the pages (chosen at random, seeded; never the index). After each
crawl it checks the re-crawl found exactly the planted changes (`docscrawl status` counts, and
`docscrawl diff --show --json` diffs only those pages, each one paragraph out and one in), and
measures the store: a copy VACUUMed as it is ("with history") and a copy with every
``page_version`` row deleted, then VACUUMed ("without history"), and the bytes the
``page_version`` table and its indexes take (SQLite's dbstat).

    .venv/bin/python -m bench.history_cost                      # 2,000 pages, 4 re-crawls
    .venv/bin/python -m bench.history_cost --pages 500 --recrawls 2
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from bench import synthetic_site
from tests.support import BIN, clean_env, serve_directory

DOCSCRAWL = str(BIN / "docscrawl")
# As bench/throughput.py: docscrawl's polite AutoThrottle defaults would only make it slower.
SETTINGS = {
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "LOG_LEVEL": "WARNING",
    # A re-crawl of the synthetic site trips this trap rule (more than 500 numbered URLs found
    # from numbered pages) where the first crawl does not, and would stop short of the site.
    "DOCSCRAWL_TRAP_MAX_NUMBERED_SHAPE": "0",
}
CLIENT = "History Bench"
SLUG = "history-bench"
MIB = 1024 * 1024
# The paragraph under "Example": one paragraph of every page, rewritten when the page changes.
EXAMPLE_PARAGRAPH = re.compile(r'(<h2 id="example">Example</h2>\n<p>)(.*?)(</p>)', re.S)


@dataclass
class Measure:
    """The store after one crawl."""

    crawl: int
    changed: int
    versions: int
    without: int  # bytes, VACUUMed, page_version emptied
    with_history: int  # bytes, VACUUMed
    history_table: int  # bytes of page_version and its indexes (dbstat)
    markdown: int  # bytes of the versions' Markdown, uncompressed
    compressed: int  # bytes of the versions' compressed Markdown (the BLOBs)
    seconds: float


def docscrawl(db: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [DOCSCRAWL, "--db", str(db), *args], capture_output=True, text=True, env=clean_env()
    )
    if result.returncode != 0:
        raise RuntimeError(f"docscrawl {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def crawl(db: Path, url: str) -> float:
    started = time.monotonic()
    settings = [arg for key, value in SETTINGS.items() for arg in ("-s", f"{key}={value}")]
    docscrawl(db, "crawl", "--url", url, "--client", CLIENT, "--quiet", *settings)
    return time.monotonic() - started


def plant_changes(
    root: Path, pages: int, share: float, rng: random.Random, stamp: float
) -> list[str]:
    """Rewrite the Example paragraph of share of the pages, dated stamp; their URL paths."""
    count = max(1, round((pages - 1) * share))
    changed = []
    for number in sorted(rng.sample(range(1, pages), count)):
        path = root / synthetic_site.page_path(number).lstrip("/")
        html = path.read_text()
        words = [rng.choice(synthetic_site.WORDS) for _ in range(rng.randint(40, 70))]
        text = " ".join(words).capitalize() + "."
        html, replaced = EXAMPLE_PARAGRAPH.subn(rf"\g<1>{text}\g<3>", html, count=1)
        assert replaced == 1, path
        path.write_text(html)
        # http.server answers If-Modified-Since to the second: date each round later.
        os.utime(path, (stamp, stamp))
        changed.append(synthetic_site.page_path(number))
    return changed


def check_changes(db: Path, job_id: int, base: str, planted: list[str]) -> None:
    """The re-crawl found exactly the planted changes, one paragraph each."""
    status = json.loads(docscrawl(db, "status", "--job", str(job_id), "--json").stdout)
    changes = status["changes"]
    if changes["changed"] != len(planted) or changes["new"] or changes["removed"]:
        raise RuntimeError(
            f"job {job_id} found {changes} (not stored: {status.get('skipped')}, finish reason: "
            f"{status.get('finish_reason')}), but {len(planted)} pages were changed; --keep "
            "keeps the store and the crawl logs"
        )
    document = json.loads(
        docscrawl(db, "diff", "--job", str(job_id - 1), "--job", str(job_id), "--show", "--json")
        .stdout
    )  # fmt: skip
    expected = sorted(base + path for path in planted)
    if sorted(document["diffs"]) != expected:
        raise RuntimeError(f"job {job_id}: diff --show covers other pages than the planted ones")
    for url, text in document["diffs"].items():
        lines = [
            line
            for line in (text or "").splitlines()
            if line[:1] in "-+" and not line.startswith(("---", "+++"))
        ]
        if len(lines) != 2 or lines[0][0] != "-" or lines[1][0] != "+":
            raise RuntimeError(f"{url}: expected one paragraph out and one in, got {lines}")


def vacuumed_size(source: Path, workdir: Path, *, drop_history: bool) -> int:
    """The size of a VACUUMed copy of the store, with page_version emptied or not."""
    copy = workdir / ("without.db" if drop_history else "with.db")
    copy.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)  # a consistent copy, WAL included
    with sqlite3.connect(copy) as conn:
        if drop_history:
            conn.execute("DELETE FROM page_version")
        conn.commit()
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("VACUUM")
    size = copy.stat().st_size
    copy.unlink()
    return size


def measure(db: Path, workdir: Path, crawl_number: int, changed: int, seconds: float) -> Measure:
    with sqlite3.connect(db) as conn:
        versions = conn.execute("SELECT COUNT(*) FROM page_version").fetchone()[0]
        blobs = [row[0] for row in conn.execute("SELECT markdown FROM page_version")]
    markdown = sum(len(zlib.decompress(blob)) for blob in blobs)
    compressed = sum(len(blob) for blob in blobs)
    with_history = vacuumed_size(db, workdir, drop_history=False)
    without = vacuumed_size(db, workdir, drop_history=True)
    copy = workdir / "stat.db"
    with sqlite3.connect(db) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    with sqlite3.connect(copy) as conn:
        conn.execute("VACUUM")
        history_table = conn.execute(
            "SELECT SUM(pgsize) FROM dbstat WHERE name = 'page_version' "
            "OR name IN (SELECT name FROM sqlite_master WHERE tbl_name = 'page_version')"
        ).fetchone()[0]
    copy.unlink()
    return Measure(crawl_number, changed, versions, without, with_history, history_table,
                   markdown, compressed, seconds)  # fmt: skip


def report(rows: list[Measure], pages: int, share: float) -> str:
    lines = [
        f"{pages} pages, {share:.0%} of pages changed before each re-crawl (one paragraph each)",
        "",
        "| crawl | pages changed | versions | store without history | store with history "
        "| history (page_version + index) | history / store | growth of the store (with) "
        "| growth of history |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    previous: Measure | None = None
    for row in rows:
        share_of_store = (row.with_history - row.without) / row.with_history
        grow = (
            "-"
            if previous is None
            else f"{(row.with_history - previous.with_history) / 1024:,.0f} KiB"
        )
        grow_history = (
            "-"
            if previous is None
            else f"{(row.history_table - previous.history_table) / 1024:,.0f} KiB"
        )
        lines.append(
            f"| {row.crawl} | {row.changed} | {row.versions} | {row.without / MIB:.2f} MiB "
            f"| {row.with_history / MIB:.2f} MiB | {row.history_table / MIB:.2f} MiB "
            f"| {share_of_store:.1%} | {grow} | {grow_history} |"
        )
        previous = row
    last, first = rows[-1], rows[0]
    per_version = last.history_table / last.versions
    new_versions = last.versions - first.versions
    per_changed = (last.history_table - first.history_table) / new_versions if new_versions else 0
    lines += [
        "",
        f"- Bytes per version: {per_version:,.0f} on average (page_version + its index / rows); "
        f"{per_changed:,.0f} per version added by a re-crawl.",
        f"- Markdown of the versions: {last.markdown / last.versions:,.0f} bytes a version, "
        f"{last.compressed / last.versions:,.0f} compressed "
        f"({last.compressed / last.markdown:.0%}); the table and its index take "
        f"{last.history_table / last.markdown:.0%} of the uncompressed Markdown.",
        f"- Store with / without history after the last crawl: "
        f"{last.with_history / last.without:.2f}x "
        f"(+{(last.with_history - last.without) / MIB:.2f} MiB).",
        f"- Crawl times: {', '.join(f'{row.seconds:.1f} s' for row in rows)}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--recrawls", type=int, default=4)
    parser.add_argument("--change-share", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="docscrawl-history-"))
    rng = random.Random(args.seed)
    rows: list[Measure] = []
    try:
        root = workdir / "site"
        root.mkdir()
        db = workdir / "docscrawl.db"
        with serve_directory(root) as base:
            base = base.rstrip("/")
            synthetic_site.generate(root, base, args.pages, args.seed)
            generated = time.time()
            seconds = crawl(db, base + "/docs/")
            rows.append(measure(db, workdir, 1, 0, seconds))
            print(f"crawl 1: {rows[-1].versions} versions", file=sys.stderr)
            for number in range(2, args.recrawls + 2):
                stamp = generated + 1000 * number
                planted = plant_changes(root, args.pages, args.change_share, rng, stamp)
                seconds = crawl(db, base + "/docs/")
                check_changes(db, number, base, planted)
                rows.append(measure(db, workdir, number, len(planted), seconds))
                print(f"crawl {number}: {len(planted)} changed, exactly as planted",
                      file=sys.stderr)  # fmt: skip
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(report(rows, args.pages, args.change_share))
    return 0


if __name__ == "__main__":
    sys.exit(main())
