"""Template learning: what it removes and what it costs, on a 10-page and a 5,000-page site.

The synthetic documentation site (bench/synthetic_site.py) gets one template block inside its
main content on every page, a version notice, the kind of furniture no markup rule can know.
Each size is crawled with template learning off (the baseline) and on, interleaved for
--rounds rounds, by the real `docscrawl crawl --quiet` into a new SQLite store:

- pages stored, and pages whose stored text still holds the notice;
- pages stripped as they were extracted, and pages fixed by the closing pass (crawl stats);
- wall time of the crawl, and its ratio to the baseline in the same round.

    .venv/bin/python -m bench.template_learning                 # 10 and 5,000 pages, 2 rounds
    .venv/bin/python -m bench.template_learning --sizes 10,500 --rounds 1
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import synthetic_site
from tests.support import clean_env, free_port

NOTICE = "You are reading the documentation of Synthetic 2.0; the versions page lists the others."
DOCSCRAWL = str(Path(sys.executable).with_name("docscrawl"))
SIDES = {"learning off": ["-s", "DOCSCRAWL_TEMPLATE_LEARNING=false"], "learning on": []}


def add_notice(root: Path) -> int:
    """Put the notice after every page's h1, inside <article>."""
    pages = 0
    for path in root.rglob("*.html"):
        html = path.read_text()
        patched = html.replace("</h1>\n<p>", f'</h1>\n<p class="notice">{NOTICE}</p>\n<p>', 1)
        if patched != html:
            path.write_text(patched)
            pages += 1
    return pages


def crawl(url: str, store: Path, extra: list[str], timeout: float) -> dict[str, float]:
    started = time.monotonic()
    result = subprocess.run(
        [DOCSCRAWL, "--db", str(store), "crawl", "--url", url, "--quiet", *extra],
        env=clean_env(), capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    wall = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"the crawl failed: {result.stderr.strip()[-500:]}")
    with sqlite3.connect(store) as db:
        pages = db.execute("SELECT count(*) FROM page").fetchone()[0]
        leaking = db.execute(
            "SELECT count(*) FROM page WHERE instr(text, ?) > 0", (NOTICE[:40],)
        ).fetchone()[0]
        log = db.execute("SELECT log_url FROM job ORDER BY id DESC LIMIT 1").fetchone()[0]
    stats = Path(log).read_text() if log and Path(log).exists() else ""

    def stat(name: str) -> int:
        found = re.search(rf"'docscrawl/{name}': (\d+)", stats)
        return int(found.group(1)) if found else 0

    return {
        "pages": pages,
        "leaking": leaking,
        "stripped": stat("template_blocks_dropped"),
        "fixed": stat("template_pages_fixed"),
        "wall": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,5000", help="site sizes, comma-separated")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-template-") as work:
        workdir = Path(work)
        for size in sizes:
            port = free_port()
            site = synthetic_site.generate(
                workdir / f"site-{size}", f"http://127.0.0.1:{port}", size, 1
            )
            patched = add_notice(site.root)
            with synthetic_site.serve(site.root, "python", port, workdir) as server:
                url = server.url.rstrip("/") + "/docs/"
                results: dict[str, list[dict[str, float]]] = {side: [] for side in SIDES}
                for round_number in range(args.rounds):
                    for side, extra in SIDES.items():
                        # A directory each: the crawl's log (its stats) is kept beside the store.
                        home = workdir / f"{size}-{round_number}-{side.replace(' ', '-')}"
                        home.mkdir()
                        store = home / "docscrawl.db"
                        timeout = 60 + size / 10
                        results[side].append(crawl(url, store, extra, timeout))
            for side, runs in results.items():
                baseline = results["learning off"]
                pairs = zip(runs, baseline, strict=True)
                ratios = [run["wall"] / base["wall"] for run, base in pairs]
                last = runs[-1]
                rows.append(
                    f"| {size} ({patched} with the notice) | {side} | {last['pages']:.0f} | "
                    f"{last['leaking']:.0f} | {last['stripped']:.0f} | {last['fixed']:.0f} | "
                    f"{statistics.median(run['wall'] for run in runs):.1f} | "
                    f"{statistics.median(ratios):.2f}x |"
                )
    print("| site pages | side | stored | still holding the notice | stripped when extracted |"
          " fixed at close | wall s (median) | time / learning off |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
