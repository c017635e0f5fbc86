"""Stopping foreground crawls: Ctrl+C (once, twice), `cancel` from another terminal, --force,
and SIGKILL followed by reconciliation. Real processes, real signals, a real slow site."""

from __future__ import annotations

import signal
import subprocess

import psutil
import pytest
from conftest import Cli, Store, wait_for


def start_crawl(cli: Cli, store: Store, url: str) -> subprocess.Popen:
    """Start a foreground crawl and wait until it has stored some pages."""
    proc = cli.start("crawl", "--url", url, "--client", "Slow")
    wait_for(lambda: store.path.exists() and (store.job(1).get("pages") or 0) >= 5, timeout=60)
    assert proc.poll() is None, "the crawl ended before it could be interrupted"
    return proc


def stored_for(store: Store, job_id: int) -> int:
    return store.value("SELECT COUNT(*) FROM page WHERE job_id = ?", job_id)


def test_ctrl_c_ends_cancelled_with_partial_data(cli: Cli, store: Store, slow_site) -> None:
    url, _ = slow_site
    proc = start_crawl(cli, store, url)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    job = store.job(1)
    assert job["status"] == "cancelled"
    assert job["finish_reason"] == "shutdown"
    assert job["pages"] == stored_for(store, 1) >= 5
    assert job["pages"] < 300  # it really stopped early
    assert "Job 1 cancelled" in out
    assert "Traceback" not in err


def test_ctrl_c_twice_still_ends_cancelled(cli: Cli, store: Store, slow_site) -> None:
    url, _ = slow_site
    proc = start_crawl(cli, store, url)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    job = store.job(1)
    assert job["status"] == "cancelled"
    assert job["pages"] == stored_for(store, 1) >= 5


def test_cancel_from_another_terminal(cli: Cli, store: Store, slow_site) -> None:
    url, _ = slow_site
    proc = start_crawl(cli, store, url)
    result = cli("cancel", "--job", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Job 1 cancelled:")
    proc.communicate(timeout=30)
    assert proc.returncode == 130
    job = store.job(1)
    assert (job["status"], job["pages"]) == ("cancelled", stored_for(store, 1))
    assert job["cancel_requested_at"] is not None


def test_force_cancel_of_a_running_crawl(cli: Cli, store: Store, slow_site) -> None:
    url, _ = slow_site
    proc = start_crawl(cli, store, url)
    result = cli("cancel", "--job", "1", "--force")
    assert result.returncode == 0, result.stderr
    proc.communicate(timeout=30)
    assert store.status(1) == "cancelled"
    assert not psutil.pid_exists(proc.pid) or psutil.Process(proc.pid).status() == "zombie"


def test_force_cancel_of_a_completed_job(cli: Cli, store: Store, site: str) -> None:
    assert cli("crawl", "--url", site + "sphinx/", "--max-pages", "3", "--quiet").returncode == 0
    result = cli("cancel", "--job", "1", "--force")
    assert result.returncode == 0
    assert result.stdout.strip() == "Job 1 marked cancelled (was completed)."
    job = store.job(1)
    assert job["status"] == "cancelled" and "--force" in job["finish_reason"]
    assert stored_for(store, 1) == 3  # data kept


def test_sigkill_is_reconciled_and_keeps_flushed_pages(cli: Cli, store: Store, slow_site):
    url, _ = slow_site
    proc = start_crawl(cli, store, url)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert store.status(1) == "running"  # nothing ran in the killed process
    result = cli("list")
    assert result.returncode == 0
    assert f"Job 1 is now failed: its process {proc.pid} is gone" in result.stderr
    job = store.job(1)
    assert job["status"] == "failed"
    assert job["pages"] == stored_for(store, 1) >= 5  # everything up to the last flush


def test_explicit_reconcile(cli: Cli, store: Store, slow_site) -> None:
    url, _ = slow_site
    proc = start_crawl(cli, store, url)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    result = cli("reconcile")
    assert result.returncode == 0
    assert result.stdout.startswith("Job 1 is now failed")
    assert cli("reconcile").stdout.strip() == "Every active job has a live process."


@pytest.mark.parametrize("forced", [False, True])
def test_cancel_all(cli: Cli, store: Store, slow_site, forced: bool) -> None:
    url, _ = slow_site
    first = start_crawl(cli, store, url)
    second = cli.start("crawl", "--url", url + "sphinx/", "--client", "Other")
    wait_for(lambda: store.job(2).get("status") == "running", timeout=60)
    result = cli("cancel", "--all", *(["--force"] if forced else []))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split()[1] for line in lines] == ["1", "2"]
    assert all("cancelled" in line for line in lines)
    for proc in (first, second):
        proc.communicate(timeout=30)
    assert store.status(1) == store.status(2) == "cancelled"
    assert cli("cancel", "--all").stdout.strip() == "No pending or running jobs."
