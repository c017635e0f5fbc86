"""`docscrawl resume`: continue a cancelled, killed or orphaned job from the store, repeatedly,
until it has exactly what one uninterrupted crawl stores, fetching no stored page again."""

from __future__ import annotations

import random
import signal
import subprocess
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import Cli, Store, wait_for

import sample_site
from sample_site.testing import serve


@pytest.fixture
def resumable_site(tmp_path: Path):
    log = tmp_path / "access.log"
    with serve(delay=0.05, access_log=str(log)) as url:
        yield url, log


def fetches(log: Path, offset: int = 0) -> Counter:
    """Page paths the server answered 200 for, from a byte offset of its access log on."""
    counter: Counter = Counter()
    with open(log, "rb") as lines:
        lines.seek(offset)
        for line in lines.read().decode().splitlines():
            _method, path, status = line.split()
            if status == "200" and not path.startswith(("/robots.txt", "/sitemap")):
                counter[path.split("?")[0]] += 1
    return counter


def stored_paths(store: Store) -> set[str]:
    return {urlsplit(url).path for (url,) in store.rows("SELECT url FROM page")}


def requested_paths(store: Store) -> set[str]:
    return {urlsplit(url).path for (url,) in store.rows("SELECT requested_url FROM page")}


def sections_match_markdown(store: Store) -> bool:
    """Every stored page's sections, in order, are its Markdown (none missing, none stale)."""
    joined: dict[int, str] = {}
    for page_id, markdown in store.rows(
        "SELECT page_id, markdown FROM page_section ORDER BY page_id, position"
    ):
        joined[page_id] = joined.get(page_id, "") + markdown
    pages = store.rows("SELECT id, markdown FROM page")
    return bool(pages) and all(joined.get(page_id, "") == (md or "") for page_id, md in pages)


def interrupt(proc: subprocess.Popen, store: Store, how: str, at_least: int) -> None:
    wait_for(
        lambda: store.job(1).get("status") == "running" and store.job(1)["pages"] >= at_least,
        timeout=90,
    )
    proc.send_signal(signal.SIGINT if how == "cancel" else signal.SIGKILL)
    proc.communicate(timeout=30)


def run_interrupted(cli: Cli, store: Store, url: str, log: Path, how: str) -> list[tuple]:
    """Crawl, interrupt, resume, interrupt ... three times, then resume to the end.

    Returns, for each interruption, where the access log stood and what was stored by then.
    """
    rng = random.Random(7)
    proc = cli.start("crawl", "--url", url, "--client", "R", "--quiet")
    snapshots = []
    target = 0
    for _round in range(3):
        target += rng.randint(20, 50)
        interrupt(proc, store, how, target)
        if how == "kill":
            assert cli("reconcile").returncode == 0
            assert store.status(1) == "failed"
        else:
            assert store.status(1) == "cancelled"
        snapshots.append((log.stat().st_size, requested_paths(store)))
        proc = cli.start("resume", "--job", "1", "--quiet")
    proc.communicate(timeout=120)
    assert proc.returncode == 0
    return snapshots


@pytest.mark.parametrize("how", ["cancel", "kill"])
def test_interrupted_and_resumed_equals_uninterrupted(cli: Cli, store: Store, resumable_site, how):
    url, log = resumable_site
    snapshots = run_interrupted(cli, store, url, log, how)
    job = store.job(1)
    assert job["status"] == "completed" and job["resumes"] == 3
    expected = sample_site.expected_pages("/")
    assert stored_paths(store) == expected  # no page missing, none duplicated
    assert job["pages"] == len(expected)  # the count continued across resumes
    # And their sections: a SIGKILL loses the section batch waiting in memory (the pages it
    # stored are not fetched again), the resume writes it from the store.
    assert sections_match_markdown(store)
    for offset, stored in snapshots:
        # A page stored before an interruption is never fetched again after it.
        assert not set(fetches(log, offset)) & stored
    twice = {path for path, count in fetches(log).items() if count > 1}
    # Only downloads in flight at an interruption (or, after a SIGKILL, processed but not yet
    # flushed: at most about a second of pages) are fetched twice.
    print(f"pages fetched twice across 3 {how} + resume cycles: {len(twice)}")
    assert len(twice) <= (3 if how == "cancel" else 3 * 100)


def test_resume_through_scrapyd(cli: Cli, store: Store, scrapyd, resumable_site) -> None:
    url, log = resumable_site
    run = lambda *args: cli("--scrapyd", scrapyd.url, *args)  # noqa: E731
    assert run("crawl", "--url", url, "--client", "R", "--async").returncode == 0
    wait_for(lambda: (store.job(1).get("pages") or 0) >= 30, timeout=90)
    assert run("cancel", "--job", "1").returncode == 0
    stored_before = requested_paths(store)
    result = run("resume", "--job", "1", "--async")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Job 1 resumed on Scrapyd as 1-")
    wait_for(lambda: store.status(1) == "completed", timeout=120)
    assert stored_paths(store) == sample_site.expected_pages("/")
    twice = {path for path, count in fetches(log).items() if count > 1}
    assert not twice & stored_before
    status = run("status", "--job", "1").stdout
    assert "Resumed:" in status and "1 times" in status


def test_resume_of_an_orphan_of_a_scrapyd_restart(
    cli: Cli, store: Store, scrapyd_factory, resumable_site
) -> None:
    from conftest import start_scrapyd

    url, _ = resumable_site
    scrapyd = scrapyd_factory()
    run = lambda *args: cli("--scrapyd", scrapyd.url, *args)  # noqa: E731
    assert run("crawl", "--url", url, "--client", "R", "--async").returncode == 0
    wait_for(lambda: (store.job(1).get("pages") or 0) >= 20, timeout=90)
    import psutil

    crawl = psutil.Process(store.job(1)["pid"])
    scrapyd.stop()
    crawl.kill()  # the orphan dies too (say, the machine's OOM killer)
    restarted = start_scrapyd(scrapyd.workdir, scrapyd.port)
    try:
        assert run("reconcile").returncode == 0
        assert store.status(1) == "failed"
        assert run("resume", "--job", "1", "--async").returncode == 0
        wait_for(lambda: store.status(1) == "completed", timeout=120)
        assert stored_paths(store) == sample_site.expected_pages("/")
    finally:
        restarted.stop_with_crawls()


def test_refusals(cli: Cli, store: Store, site: str, resumable_site) -> None:
    assert cli("crawl", "--url", site + "sphinx/", "--max-pages", "3", "--quiet").returncode == 0
    done = cli("resume", "--job", "1")
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: Job 1 is completed; there is nothing left to resume."
    assert cli("resume", "--job", "7").returncode == 1
    assert cli("resume", "--job", "x").returncode == 2

    url, _ = resumable_site
    proc = cli.start("crawl", "--url", url, "--client", "R2", "--quiet")
    interrupt_at = 5
    wait_for(lambda: (store.job(2).get("pages") or 0) >= interrupt_at, timeout=60)
    running = cli("resume", "--job", "2")
    assert running.returncode == 1 and "Job 2 is running" in running.stderr
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    # Two resumes at once: exactly one wins.
    first, second = (
        cli.start("resume", "--job", "2", "--quiet"),
        cli.start("resume", "--job", "2", "--quiet"),
    )
    outcomes = sorted(p.wait(timeout=120) for p in (first, second))
    errors = first.stderr.read() + second.stderr.read()
    assert outcomes == [0, 1], errors
    assert "Job 2 is" in errors or "already being resumed" in errors
    assert store.job(2)["resumes"] == 1
