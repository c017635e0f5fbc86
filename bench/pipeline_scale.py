"""A crawl never slows because the store is big: the pipeline's time per 1,000 pages.

Feeds realistic pages (bench/store_scale.py's PageMaker: 5-10 KB of Markdown and text, headings,
links) through docscrawl's PageStorePipeline in its batches (DOCSCRAWL_BATCH_SIZE), in a new
process per run, into an empty store and into a big one (bench/store_scale.py's, e.g. 300,000
pages), and times the pipeline alone (the pages are made before the clock starts). Two kinds of
crawl: ``new`` (a new client's pages) and ``recrawl`` (client ``big`` crawled again: existing
pages, every text changed). Sides, interleaved run by run so that the machine's drifts hit all
alike:

- ``after``: the working tree;
- ``after-no-fp``: the working tree with the simhash fingerprint not computed (its cost);
- ``before``: older code (``--before DIR``, a ``git worktree`` of it), on its own copy of the
  big store (``--before-store``, the store before the newer code migrated it).

    .venv/bin/python -m bench.pipeline_scale --big /tmp/big-after.db \
        --before /tmp/before --before-store /tmp/big.db --pages 2000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tests.support import BIN, PROJECT_ROOT, clean_env

PYTHON = str(BIN / "python")
BATCH_SIZE = 25  # docscrawl's default DOCSCRAWL_BATCH_SIZE
CHANGED = 0.02  # of a recrawl's pages, with a new text (bench/store_scale.py's store: 2%)


def child(args: argparse.Namespace) -> None:
    """One run: open the store, make the pages, time the pipeline; print JSON on stdout."""
    from scrapy.utils.test import get_crawler

    from bench.store_scale import PageMaker
    from docscrawl import models
    from docscrawl.pipelines import PageStorePipeline

    if args.no_fingerprint:
        from docscrawl import fingerprints

        fingerprints.fingerprint = lambda text: None  # type: ignore[assignment]
    location = str(args.store)
    models.open_store(location)
    rng = random.Random(args.seed)
    maker = PageMaker(rng)
    if args.mode == "recrawl":
        client, items = _recrawl_items(args, maker, rng)
    else:
        client = models.get_or_create_client(f"pipeline-{args.seed}-{os.getpid()}")
        base = f"https://docs.{client.slug}.example"
        items = [_item(maker.page(base, number, 200_000)) for number in range(args.pages)]
    job = models.Job.create(client=client, url="https://docs.example/docs/", status="running")
    crawler = get_crawler(settings_dict={"DOCSCRAWL_DB": location})
    crawler.stats.open_spider()
    crawler.spider = SimpleNamespace(job_id=job.id)
    from docscrawl import settings as defaults

    try:  # docscrawl's default section batch; older code wrote sections with every batch
        pipeline = PageStorePipeline(
            crawler, location, BATCH_SIZE, 3600.0,
            section_batch_size=defaults.DOCSCRAWL_SECTION_BATCH_SIZE,
        )  # fmt: skip
    except (TypeError, AttributeError):
        pipeline = PageStorePipeline(crawler, location, BATCH_SIZE, 3600.0)
    pipeline.open_spider()
    profiler = None
    cpu = time.process_time()
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    for item in items:
        pipeline.process_item(item)
    pipeline.flush()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    pipeline._timer.stop()
    stored = models.JobPage.select().where(models.JobPage.job == job.id).count()
    print(json.dumps({"seconds": seconds, "cpu": cpu, "pages": stored}))


def _item(page: dict) -> Any:
    """A PageItem of a PageMaker page (or a stored page's row as one)."""
    from docscrawl import models
    from docscrawl.items import PageItem

    def parsed(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    return PageItem(
        url=page["url"], requested_url=page["url"], final_url=page["url"], canonical_url=None,
        status_code=200, title=page["title"], description="A page of the benchmark.",
        language="en", headings=parsed(page["headings"]), markdown=page["markdown"],
        text=page["text"], links=parsed(page["links"]), word_count=page["word_count"],
        content_hash=page["hash"], etag=None, last_modified=None, fetched_at=models.utcnow(),
        depth=3, extraction_audit=parsed(page["audit"]),
    )  # fmt: skip


def _recrawl_items(args: argparse.Namespace, maker: Any, rng: random.Random) -> tuple[Any, list]:
    """Client big's pages crawled again: as stored, but CHANGED of them with a new text.

    A store without enough of them (the empty one) first gets --pages of them (untimed), so
    that both stores recrawl pages they hold and differ only in what else they hold.
    """
    from peewee import fn

    from bench.store_scale import BIG
    from docscrawl import models

    Page = models.Page
    base = f"https://docs.{BIG}.example"
    client = models.get_or_create_client(BIG)
    total = Page.select().where(Page.client == client).count()
    # As the pipeline would have stored the pages (the newer code keeps a fingerprint).
    derived = getattr(models, "derived_columns", None)

    def fingerprint(text: str) -> dict[str, Any]:
        return {} if derived is None else {"simhash": derived({"text": text})["simhash"]}

    if total < args.pages:
        with models.write_transaction():
            for number in range(args.pages):
                page = maker.page(base, number, 200_000)
                Page.insert(
                    client=client, url=page["url"], requested_url=page["url"],
                    final_url=page["url"], status_code=200, title=page["title"],
                    headings=json.loads(page["headings"]), markdown=page["markdown"],
                    text=page["text"], links=json.loads(page["links"]),
                    word_count=page["word_count"], content_hash=page["hash"],
                    extraction_audit=json.loads(page["audit"]),
                    **fingerprint(page["text"]),
                ).execute()  # fmt: skip
        total = args.pages
    # Pages of the client picked at random by id (its ids are a range in the generated store).
    low, high = (
        Page.select(fn.MIN(Page.id), fn.MAX(Page.id))
        .where(Page.client == client)
        .scalar(as_tuple=True)
    )
    picked = rng.sample(range(low, high + 1), min(high - low + 1, args.pages * 2))
    urls = []
    for start in range(0, len(picked), 500):
        query = Page.select(Page.url).where(
            (Page.client == client) & (Page.id << picked[start : start + 500])
        )
        urls += [url for (url,) in query.tuples()]
    urls = urls[: args.pages]
    columns = (Page.url, Page.title, Page.headings, Page.markdown, Page.text, Page.links,
               Page.word_count, Page.content_hash, Page.extraction_audit)  # fmt: skip
    stored = {}
    for start in range(0, len(urls), 500):
        query = Page.select(*columns).where(
            (Page.client == client) & (Page.url << urls[start : start + 500])
        )
        for row in query.dicts():
            row["hash"], row["audit"] = row.pop("content_hash"), row.pop("extraction_audit")
            stored[row["url"]] = row
    items = []
    for url in urls:
        page = stored[url]
        if rng.random() < CHANGED:
            page = {**maker.page(base, rng.randrange(200_000), 200_000), "url": url}
        items.append(_item(page))
    return client, items


def run_child(side: str, env: dict[str, str], store: Path, mode: str, pages: int, seed: int,
              profile: bool = False) -> dict:  # fmt: skip
    argv = [PYTHON, __file__, "--child", "--store", str(store), "--mode", mode,
            "--pages", str(pages), "--seed", str(seed)]  # fmt: skip
    if side == "after-no-fp":
        argv.append("--no-fingerprint")
    if profile:
        argv.append("--profile")
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"{side} {mode} exited {proc.returncode}: {proc.stderr[-1500:]}")
    if profile:
        print(proc.stderr, file=sys.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=Path, help="a big store (bench/store_scale.py --keep)")
    parser.add_argument("--before", type=Path, help="a checkout of older code")
    parser.add_argument("--before-store", type=Path, help="the big store for the older code")
    parser.add_argument("--pages", type=int, default=2000, help="pages a run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--modes", default="new,recrawl")
    parser.add_argument("--sides", default="before,after,after-no-fp")
    parser.add_argument("--profile", action="store_true", help="one profiled run a cell")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--no-fingerprint", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return 0

    env = {**clean_env(), "PYTHONPATH": str(PROJECT_ROOT)}
    envs = {"after": env, "after-no-fp": env}
    if args.before:
        envs["before"] = {
            **env,
            "PYTHONPATH": os.pathsep.join([str(args.before), str(PROJECT_ROOT)]),
        }
    sides = [side for side in args.sides.split(",") if side in envs]
    stores = {"empty": None, **({"big": args.big} if args.big else {})}
    modes = args.modes.split(",")
    results: dict[tuple[str, str, str], list[float]] = {}
    cpus: dict[tuple[str, str, str], list[float]] = {}
    work = Path(tempfile.mkdtemp(prefix="pipeline-scale-"))
    seed = 0
    for attempt in range(args.runs + (0 if args.profile else 1)):
        for mode in modes:
            for kind, big in stores.items():
                for side in sides:
                    seed += 1
                    if big is None:
                        store = work / f"empty-{seed}.db"
                    else:
                        store = args.before_store if side == "before" else big
                    outcome = run_child(side, envs[side], store, mode,
                                        args.pages, seed, args.profile)  # fmt: skip
                    if big is None:
                        for path in work.glob(f"empty-{seed}.db*"):
                            path.unlink()
                    per_thousand = outcome["seconds"] / outcome["pages"] * 1000
                    cpu = outcome["cpu"] / outcome["pages"] * 1000
                    print(f"  {side:<12} {mode:<8} {kind:<6} {per_thousand:.3f} s/1,000 pages "
                          f"(CPU {cpu:.3f} s)",
                          file=sys.stderr)  # fmt: skip
                    if attempt or args.profile:  # the first round warms the caches
                        results.setdefault((mode, kind, side), []).append(per_thousand)
                        cpus.setdefault((mode, kind, side), []).append(cpu)
    print(f"\nSeconds per 1,000 pages through the pipeline, wall and CPU (median of "
          f"{args.runs} runs; {args.pages:,} pages a run, batches of {BATCH_SIZE}):\n")  # fmt: skip
    print("| crawl | store | " + " | ".join(sides) + " |")
    print("|---|---|" + "---|" * len(sides))
    for mode in modes:
        for kind in stores:
            cells = []
            for side in sides:
                values = results.get((mode, kind, side))
                if not values:
                    cells.append("-")
                    continue
                wall = statistics.median(values)
                cpu = statistics.median(cpus[(mode, kind, side)])
                cells.append(f"{wall:.2f} s, CPU {cpu:.2f} s ({1000 / wall:,.0f} pages/s)")
            print(f"| {mode} | {kind} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
