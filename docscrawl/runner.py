"""Run one crawl in this process (a foreground crawl), the way ``scrapy crawl`` would."""

from __future__ import annotations

import functools
import os
from typing import Any

from scrapy.settings import BaseSettings, Settings

from docscrawl import job_state, models


def project_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """The project's settings with command-line overrides on top, as ``scrapy crawl -s`` does."""
    settings = Settings()
    settings.setmodule("docscrawl.settings", priority="project")
    if overrides:
        settings.setdict(overrides, priority="cmdline")
    return settings


# Settings with int defaults that Scrapy reads as floats (DOWNLOAD_DELAY = 0, timeouts).
FRACTIONAL_SUFFIXES = ("_DELAY", "_TIMEOUT", "_INTERVAL")
# Settings that must be at least 1 (0 would make the crawl wait forever or never write) or above
# 0; every other number must not be negative.
AT_LEAST_ONE = {
    "CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "CONCURRENT_ITEMS",
    "DOCSCRAWL_BATCH_SIZE",
    "DOCSCRAWL_SECTION_BATCH_SIZE",
    "DOCSCRAWL_TEMPLATE_MIN_PAGES",
}
ABOVE_ZERO = {
    "DOWNLOAD_TIMEOUT",
    "DOCSCRAWL_FLUSH_INTERVAL",
    "DOCSCRAWL_HEARTBEAT_INTERVAL",
    "DOCSCRAWL_PROGRESS_INTERVAL",
    "AUTOTHROTTLE_TARGET_CONCURRENCY",
    "AUTOTHROTTLE_MAX_DELAY",
}
# Shares of a whole: above 0, at most 1.
SHARES = {"DOCSCRAWL_TEMPLATE_SHARE"}
# Shares that may be 0 too.
FROM_ZERO_SHARES = {"DOCSCRAWL_EXTRACTION_POOL_THRESHOLD"}
# Upper bounds.
AT_MOST = {
    "DOCSCRAWL_EXTRACTION_PROCESSES": 64,  # docscrawl.extraction_pool.MAX_PROCESSES
    "DOCSCRAWL_QUEUE_MEMORY_REQUESTS": 1_000_000,  # docscrawl.request_queue.MAX_MEMORY_REQUESTS
    "DOCSCRAWL_SECTION_BATCH_SIZE": 100_000,  # pages whose sections wait in memory
}
# Read by the CLI from the environment, not crawl settings (control/environment.py).
ENVIRONMENT_ONLY = {
    "DOCSCRAWL_AUDIT_MIN_TEXT_SHARE",
    "DOCSCRAWL_STALE_AFTER",
    "DOCSCRAWL_SCRAPYD_TIMEOUT",
}
# Set by docscrawl itself, never by a user.
INTERNAL = {"DOCSCRAWL_DB", "DOCSCRAWL_TEMPORARY_JOBDIR"}
# Component dicts docscrawl's own components are in (settings.py).
COMPONENT_SETTINGS = {
    "DOWNLOADER_MIDDLEWARES",
    "EXTENSIONS",
    "ITEM_PIPELINES",
    "SPIDER_MIDDLEWARES",
}


def check_settings(overrides: dict[str, str]) -> None:
    """Raise ValueError, in a sentence, for a -s value Scrapy could not use.

    Values arrive as strings; Scrapy converts them when a component reads them, which would
    fail deep inside the crawl (or, for a concurrency of 0, wait forever). Check them against
    the type of the setting's default and its range instead. A ``DOCSCRAWL_`` name that is not
    a docscrawl setting is a typo: it would silently change nothing.
    """
    defaults = project_settings()
    for key, value in overrides.items():
        try:
            project_settings({key: value})
        except (TypeError, ValueError, AttributeError):  # EXTENSIONS=[1]: not a dict's items
            raise ValueError(f"{key}={value} is not valid: Scrapy cannot read it") from None
    settings = project_settings(overrides)
    from docscrawl.extraction import site_overrides

    site_overrides(settings)  # a selector that is not CSS fails here, in a sentence
    for key, value in overrides.items():
        if key in ENVIRONMENT_ONLY:
            raise ValueError(
                f"{key} is an environment variable of the CLI, not a setting: set it in the "
                "environment (see the README's Settings)"
            )
        if key.startswith("DOCSCRAWL_") and (key not in defaults or key in INTERNAL):
            raise ValueError(f"{key} is not a docscrawl setting (see docscrawl/settings.py)")
        default = defaults.get(key)
        try:
            number: float | None = None
            if isinstance(default, bool):
                settings.getbool(key)
            elif isinstance(default, float) or key.endswith(FRACTIONAL_SUFFIXES):
                number = float(value)  # an int default such as DOWNLOAD_DELAY = 0 may take 0.5
                if number != number or number in (float("inf"), float("-inf")):
                    raise ValueError
            elif isinstance(default, int):
                number = int(value)
            elif isinstance(default, dict | BaseSettings):
                given = settings.getdict(key)
            elif isinstance(default, list | tuple):
                settings.getlist(key)
        except (TypeError, ValueError):
            kind = {bool: "true or false", int: "a whole number", float: "a number"}.get(
                type(default), f"a {type(default).__name__}"
            )
            raise ValueError(f"{key}={value} is not valid: {key} takes {kind}") from None
        if key in COMPONENT_SETTINGS:
            _keeps_docscrawls_components(key, defaults.getdict(key), given)
        if number is None:
            continue
        if key in AT_LEAST_ONE and number < 1:
            raise ValueError(f"{key}={value} is not valid: {key} must be at least 1")
        if key in ABOVE_ZERO and number <= 0:
            raise ValueError(f"{key}={value} is not valid: {key} must be greater than 0")
        if number < 0:
            raise ValueError(f"{key}={value} is not valid: {key} must not be negative")
        if key in SHARES and not 0 < number <= 1:
            raise ValueError(f"{key}={value} is not valid: {key} must be above 0 and at most 1")
        if key in AT_MOST and number > AT_MOST[key]:
            raise ValueError(f"{key}={value} is not valid: {key} must be at most {AT_MOST[key]}")
        if key in FROM_ZERO_SHARES and number > 1:
            raise ValueError(f"{key}={value} is not valid: {key} must be from 0 to 1")


def _keeps_docscrawls_components(key: str, own: dict, given: dict) -> None:
    """A -s component dict replaces docscrawl's own, as `scrapy crawl -s` does: refuse one
    that leaves out a docscrawl component (the pipeline, the job's lifecycle, the cancel...),
    which would lose pages or leave the job's state wrong."""
    missing = [path for path in own if path.startswith("docscrawl.") and path not in given]
    if missing:
        keep = ", ".join(f'"{path}": {own[path]}' for path in missing)
        raise ValueError(
            f"{key} replaces docscrawl's own {key} and leaves out {', '.join(missing)}: "
            f"add yours to them (with {keep})"
        )


def run_foreground_crawl(
    job_id: int,
    location: str,
    url: str,
    *,
    max_pages: int | None = None,
    max_depth: int | None = None,
    overrides: dict[str, Any] | None = None,
    progress: bool = True,
    resume: bool = False,
) -> None:
    """Crawl in this process until the crawl ends; the outcome is recorded in the store.

    Ctrl+C (SIGINT) or SIGTERM starts a fast cancel; a second one forces the stop. Either way the
    job ends ``cancelled`` with what was stored.
    """
    from scrapy.crawler import CrawlerProcess

    from docscrawl.spiders.docs import DocsSpider

    settings = project_settings()
    settings.set("DOCSCRAWL_DB", models.resolve_location(location), priority="cmdline")
    settings.set("DOCSCRAWL_PROGRESS", progress, priority="cmdline")
    # The progress line is what a person watches; Scrapy's log goes to a file beside the store.
    log_file = foreground_log_path(location, job_id)
    os.makedirs(os.path.dirname(log_file), exist_ok=True)
    settings.set("LOG_FILE", log_file, priority="cmdline")
    models.open_store(location)
    job_state.assign(job_id, log_url=log_file)
    if overrides:
        settings.setdict(overrides, priority="cmdline")
    failures: list[str] = []
    try:
        process = CrawlerProcess(settings)
        crawl = process.crawl(
            DocsSpider,
            url=url,
            job_id=job_id,
            max_pages=max_pages,
            max_depth=max_depth,
            resume="1" if resume else None,
        )
        crawl.addErrback(lambda failure: failures.append(failure.getErrorMessage()))
        process.start()
    except KeyboardInterrupt:  # Ctrl+C before the crawl took over the signal
        _settle_job(job_id, location, interrupted=True)
        return
    except Exception as exc:  # noqa: BLE001 - Scrapy's set-up raises whatever it raises
        failures.append(str(exc).strip() or type(exc).__name__)
    _settle_job(job_id, location, failures[0] if failures else None)


def foreground_log_path(location: str, job_id: int) -> str:
    """Where a foreground crawl writes Scrapy's log: logs/<job id>.log beside a SQLite store."""
    location = models.resolve_location(location)
    base = os.path.dirname(location) if "://" not in location else os.getcwd()
    return os.path.join(base, "logs", f"job-{job_id}.log")


def _settle_job(
    job_id: int, location: str, failure: str | None = None, interrupted: bool = False
) -> None:
    """Make sure the job does not stay active once its (this) process is done with it.

    A crawl that recorded its outcome needs no write here: the check reads first, so a store
    that became read-only (or locked) after the crawl cannot turn its success into a failure.
    """
    models.open_store(location)
    if models.Job.get_by_id(job_id).status not in models.ACTIVE_STATUSES:
        return
    if interrupted:
        outcome: Any = job_state.Outcome(models.CANCELLED, "interrupted before the crawl started")
    else:
        failed = (
            f"the crawl could not run: {models.first_line(failure)}"
            if failure
            else "crawl stopped before the spider closed"
        )
        outcome = functools.partial(job_state.stop_outcome, failed=failed, cancelled="shutdown")
    job_state.finish(job_id, outcome)
