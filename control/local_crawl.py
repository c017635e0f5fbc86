"""A crawl process started by `docscrawl serve` for one job (mode "local").

``python -m control.local_crawl --db LOCATION --job N [--resume]`` runs the job's crawl in this
process, exactly as a foreground `docscrawl crawl` does, without the progress line: the job
records its own start, heartbeats and outcome in the store, and Scrapy's log goes to the job's
log file. The server that started it watches the process and records an end the crawl could
not record itself (a crash before the spider closed).
"""

from __future__ import annotations

import argparse

from docscrawl import models
from docscrawl.runner import run_foreground_crawl


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m control.local_crawl")
    parser.add_argument("--db", required=True)
    parser.add_argument("--job", type=int, required=True)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    models.open_store(args.db)
    job = models.Job.get_by_id(args.job)
    run_foreground_crawl(
        job.id,
        args.db,
        job.url,
        max_pages=job.max_pages,
        max_depth=job.max_depth,
        overrides=job.settings,
        progress=False,
        resume=args.resume,
    )


if __name__ == "__main__":
    main()
