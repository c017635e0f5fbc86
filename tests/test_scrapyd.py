"""Async crawls through a real Scrapyd on a free port, with the real egg deployed by
`scrapyd-deploy`, driven through the real `docscrawl` entry point."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest
import requests
from conftest import BIN, Cli, ScrapydServer, Store, free_port, start_scrapyd, wait_for

import sample_site

SCHEDULED = re.compile(r"^Job (\d+) scheduled on Scrapyd as (\1-[0-9a-f]{12}) \((.+)\)\.$")


def crawl_async(cli: Cli, scrapyd: ScrapydServer, url: str, *args: str) -> tuple[int, str]:
    result = cli("--scrapyd", scrapyd.url, "crawl", "--url", url, "--async", *args)
    assert result.returncode == 0, result.stderr
    match = SCHEDULED.match(result.stdout.strip())
    assert match, result.stdout
    assert match.group(3) == scrapyd.url
    return int(match.group(1)), match.group(2)


def scrapyd_cli(cli: Cli, scrapyd: ScrapydServer):
    return lambda *args, **kw: cli("--scrapyd", scrapyd.url, *args, **kw)


def stored_for(store: Store, job_id: int) -> int:
    return store.value("SELECT COUNT(*) FROM page WHERE job_id = ?", job_id)


def test_schedule_runs_to_completion(cli: Cli, store: Store, scrapyd, site: str) -> None:
    job_id, scrapyd_id = crawl_async(cli, scrapyd, site + "sphinx/", "--client", "Sphinx")
    assert store.status(job_id) in ("pending", "running", "completed")
    wait_for(lambda: store.status(job_id) == "completed", timeout=90)
    expected = sample_site.expected_pages("/sphinx/")
    assert store.job(job_id)["pages"] == stored_for(store, job_id) == len(expected)

    details = scrapyd_cli(cli, scrapyd)("status", "--job", str(job_id), "--json").json()
    assert details["scrapyd_job_id"] == scrapyd_id
    assert details["node"] == scrapyd.url
    assert details["pid"] and details["started_at"] and details["finished_at"]
    assert details["log_url"] == f"{scrapyd.url}/logs/docscrawl/docs/{scrapyd_id}.log"
    log = requests.get(details["log_url"], timeout=10)
    assert log.status_code == 200 and "Spider closed (finished)" in log.text
    # The web UI's job list shows our id in Scrapyd's.
    # (The outcome is in the store before the process exits; Scrapyd notices the exit after.)
    wait_for(lambda: scrapyd.list_jobs()["finished"], timeout=30)
    assert [job["id"] for job in scrapyd.list_jobs()["finished"]] == [scrapyd_id]
    listed = scrapyd_cli(cli, scrapyd)("list", "--json").json()
    assert listed[0]["status"] == "completed" and listed[0]["pages"] == len(expected)


def test_cancel_pending_then_running(cli: Cli, store: Store, scrapyd_factory, slow_site):
    url, _ = slow_site
    scrapyd = scrapyd_factory(max_proc=1)
    run = scrapyd_cli(cli, scrapyd)
    first, _ = crawl_async(cli, scrapyd, url)
    wait_for(lambda: (store.job(first).get("pages") or 0) >= 5, timeout=90)
    second, second_scrapyd_id = crawl_async(cli, scrapyd, url + "mkdocs/")
    assert store.status(second) == "pending"
    assert [j["id"] for j in scrapyd.list_jobs()["pending"]] == [second_scrapyd_id]

    result = run("cancel", "--job", str(second))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Job {second} removed from Scrapyd's queue and cancelled."
    assert store.status(second) == "cancelled"
    assert scrapyd.list_jobs()["pending"] == []

    result = run("cancel", "--job", str(first))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Job {first} cancelled:")
    job = store.job(first)
    assert job["status"] == "cancelled" and job["finish_reason"] == "shutdown"
    assert job["pages"] == stored_for(store, first) >= 5
    wait_for(lambda: not scrapyd.list_jobs()["running"], timeout=30)
    assert stored_for(store, second) == 0  # it never ran


def test_force_on_running_and_finished(cli: Cli, store: Store, scrapyd, slow_site) -> None:
    url, _ = slow_site
    run = scrapyd_cli(cli, scrapyd)
    job_id, _ = crawl_async(cli, scrapyd, url)
    wait_for(lambda: store.status(job_id) == "running", timeout=90)
    pid = store.job(job_id)["pid"]
    result = run("cancel", "--job", str(job_id), "--force")
    assert result.returncode == 0, result.stderr
    assert store.status(job_id) == "cancelled"
    wait_for(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie", 30)

    refused = run("cancel", "--job", str(job_id))
    assert refused.returncode == 1 and f"Job {job_id} is already cancelled" in refused.stderr
    forced = run("cancel", "--job", str(job_id), "--force")
    assert forced.returncode == 0 and "marked cancelled" in forced.stdout


def test_cancel_all(cli: Cli, store: Store, scrapyd_factory, slow_site) -> None:
    url, _ = slow_site
    scrapyd = scrapyd_factory(max_proc=2)
    ids = [crawl_async(cli, scrapyd, url + prefix)[0] for prefix in ("", "sphinx/", "docbook/")]
    wait_for(lambda: store.status(ids[0]) == store.status(ids[1]) == "running", timeout=90)
    result = scrapyd_cli(cli, scrapyd)("cancel", "--all")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    # The pending job goes first, so that it cannot start in a slot a cancel frees.
    assert [int(line.split()[1]) for line in lines] == [ids[2], ids[0], ids[1]]
    assert "removed from Scrapyd's queue" in lines[0]
    assert [store.status(i) for i in ids] == ["cancelled"] * 3
    wait_for(lambda: not scrapyd.list_jobs()["running"], timeout=30)


def test_sigkilled_crawl_is_reconciled(cli: Cli, store: Store, scrapyd, slow_site) -> None:
    url, _ = slow_site
    job_id, _ = crawl_async(cli, scrapyd, url)
    wait_for(lambda: (store.job(job_id).get("pages") or 0) >= 5, timeout=90)
    pid = store.job(job_id)["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not scrapyd.list_jobs()["running"], timeout=30)
    result = scrapyd_cli(cli, scrapyd)("status", "--job", str(job_id), "--json")
    assert result.returncode == 0
    assert f"Job {job_id} is now failed" in result.stderr
    job = store.job(job_id)
    assert job["status"] == "failed" and "gone" in job["finish_reason"]
    assert job["pages"] == stored_for(store, job_id) >= 5


def test_scrapyd_restart_orphans_a_crawl_that_can_still_be_cancelled(
    cli: Cli, store: Store, scrapyd_factory, slow_site
) -> None:
    url, _ = slow_site
    scrapyd = scrapyd_factory()
    run = scrapyd_cli(cli, scrapyd)
    job_id, _ = crawl_async(cli, scrapyd, url)
    wait_for(lambda: (store.job(job_id).get("pages") or 0) >= 5, timeout=90)
    crawl = psutil.Process(store.job(job_id)["pid"])
    scrapyd.stop()
    restarted = start_scrapyd(scrapyd.workdir, scrapyd.port)
    try:
        assert restarted.list_jobs()["running"] == []  # Scrapyd forgot it
        assert crawl.is_running()
        listed = run("list", "--json").json()
        assert listed[0]["status"] == "running"  # still alive: not wrongly failed
        result = run("cancel", "--job", str(job_id))
        assert result.returncode == 0, result.stderr
        assert store.status(job_id) == "cancelled"
        wait_for(lambda: not crawl.is_running() or crawl.status() == "zombie", timeout=30)
        assert store.job(job_id)["pages"] == stored_for(store, job_id)
    finally:
        restarted.stop_with_crawls()


def test_concurrent_crawls_share_one_store(cli: Cli, store: Store, scrapyd, site: str) -> None:
    prefixes = ["sphinx/", "mkdocs/", "docbook/", ""]
    ids = [
        crawl_async(cli, scrapyd, site + prefix, "--client", f"c{n}")[0]
        for n, prefix in enumerate(prefixes)
    ]
    run = scrapyd_cli(cli, scrapyd)
    while not all(store.status(i) == "completed" for i in ids):  # read while they write
        listed = run("list", "--json")
        assert listed.returncode == 0, listed.stderr
        assert "locked" not in listed.stderr
        assert not any(store.status(i) == "failed" for i in ids)
    for job_id, prefix in zip(ids, prefixes, strict=True):
        expected = sample_site.expected_pages("/" + prefix)
        assert store.job(job_id)["pages"] == stored_for(store, job_id) == len(expected)
    wait_for(lambda: len(scrapyd.list_jobs()["finished"]) == len(ids), timeout=30)
    for job in scrapyd.list_jobs()["finished"]:
        log = requests.get(f"{scrapyd.url}/logs/docscrawl/docs/{job['id']}.log", timeout=10).text
        assert "database is locked" not in log and "Traceback" not in log


# --- faults --------------------------------------------------------------------------------------


def assert_failed_schedule(cli: Cli, store: Store, scrapyd_url: str, expect: str) -> str:
    result = cli("--scrapyd", scrapyd_url, "crawl", "--url", "http://127.0.0.1:9/", "--async")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert expect in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    job = store.job(1)
    assert job["status"] == "failed" and job["finish_reason"].startswith("could not be scheduled")
    return result.stderr


def test_unreachable_scrapyd(cli: Cli, store: Store) -> None:
    assert_failed_schedule(cli, store, f"http://127.0.0.1:{free_port()}", "cannot be reached")


def test_project_not_deployed(cli: Cli, store: Store, scrapyd_factory) -> None:
    scrapyd = scrapyd_factory(do_deploy=False)
    assert_failed_schedule(cli, store, scrapyd.url, "run `scrapyd-deploy`")


def test_unknown_spider(cli: Cli, store: Store, scrapyd_factory, tmp_path: Path) -> None:
    scrapyd = scrapyd_factory(do_deploy=False)
    other = tmp_path / "other"
    (other / "other" / "spiders").mkdir(parents=True)
    (other / "other" / "__init__.py").write_text("")
    (other / "other" / "settings.py").write_text("SPIDER_MODULES = ['other.spiders']\n")
    (other / "other" / "spiders" / "__init__.py").write_text("")
    (other / "setup.py").write_text(
        "from setuptools import setup\nsetup(name='other', packages=['other', 'other.spiders'],"
        " entry_points={'scrapy': ['settings = other.settings']})\n"
    )
    (other / "scrapy.cfg").write_text(
        f"[settings]\ndefault = other.settings\n[deploy]\nurl = {scrapyd.url}/\n"
        "project = docscrawl\n"
    )
    deployed = subprocess.run(
        [str(BIN / "scrapyd-deploy")], cwd=other, capture_output=True, text=True, timeout=120
    )
    assert '"status": "ok"' in deployed.stdout, deployed.stdout + deployed.stderr
    assert_failed_schedule(cli, store, scrapyd.url, "does not know the spider 'docs'")


def test_auth_with_a_wrong_password(cli: Cli, store: Store, scrapyd_factory, site: str):
    scrapyd = scrapyd_factory(auth=("crawler", "right-secret"))
    wrong = {"SCRAPYD_USERNAME": "crawler", "SCRAPYD_PASSWORD": "wrong-secret"}
    result = cli("--scrapyd", scrapyd.url, "crawl", "--url", site, "--async", env=wrong)
    assert result.returncode == 1
    assert "refused the credentials (HTTP 401)" in result.stderr
    assert "secret" not in result.stderr + result.stdout
    right = {"SCRAPYD_USERNAME": "crawler", "SCRAPYD_PASSWORD": "right-secret"}
    result = cli(
        "--scrapyd", scrapyd.url, "crawl", "--url", site + "docbook/", "--async", env=right
    )
    assert result.returncode == 0, result.stderr
    wait_for(lambda: store.status(2) == "completed", timeout=90)
    assert "secret" not in cli("--scrapyd", scrapyd.url, "status", "--job", "2", env=right).stdout


class _FaultyScrapyd(BaseHTTPRequestHandler):
    """Answers the way a broken node or a wrong URL does (a real Scrapyd cannot, on demand)."""

    mode = "500"

    def do_POST(self) -> None:
        if self.mode == "hang":
            time.sleep(5)
            return
        body = b"<html>Internal error</html>" if self.mode == "html" else b"oops"
        self.send_response(500 if self.mode == "500" else 200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.mark.parametrize(
    ("mode", "expect"),
    [("500", "failed with HTTP 500"), ("html", "not its JSON API"), ("hang", "did not answer")],
)
def test_broken_scrapyd_answers(cli: Cli, store: Store, mode: str, expect: str) -> None:
    handler = type("Handler", (_FaultyScrapyd,), {"mode": mode})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        cli.env["DOCSCRAWL_SCRAPYD_TIMEOUT"] = "1"
        assert_failed_schedule(cli, store, url, expect)
    finally:
        server.shutdown()
        server.server_close()


def test_auth_from_scrapy_cfg_with_env_expansion(
    cli: Cli, store: Store, scrapyd_factory, site: str, tmp_path: Path
) -> None:
    scrapyd = scrapyd_factory(auth=("crawler", "cfg-secret"))
    (tmp_path / "scrapy.cfg").write_text(
        f"[deploy]\nurl = {scrapyd.url}/\nproject = docscrawl\n"
        "username = crawler\npassword = ${CRAWLER_PASSWORD}\n"
    )
    cli.env.pop("SCRAPYD_URL")
    cli.env["CRAWLER_PASSWORD"] = "cfg-secret"
    result = cli("crawl", "--url", site + "docbook/", "--async", "--max-pages", "3")
    assert result.returncode == 0, result.stderr
    wait_for(lambda: store.status(1) == "completed", timeout=90)
    cli.env["CRAWLER_PASSWORD"] = "wrong"
    refused = cli("status", "--job", "1")
    assert "cfg-secret" not in refused.stdout + refused.stderr
    assert cli("crawl", "--url", site, "--async").returncode == 1


def test_cancel_of_a_pending_job_while_scrapyd_is_down(
    cli: Cli, store: Store, scrapyd_factory, slow_site
) -> None:
    """No pid to fall back on: the cancel says Scrapyd is unreachable (exit 1), and --all
    reports that job and goes on with the others."""
    url, _ = slow_site
    scrapyd = scrapyd_factory(max_proc=1)
    run = lambda *args: cli("--scrapyd", scrapyd.url, *args)  # noqa: E731
    assert run("crawl", "--url", url, "--async").returncode == 0
    wait_for(lambda: store.status(1) == "running", timeout=60)
    assert run("crawl", "--url", url + "sphinx/", "--async").returncode == 0
    assert store.status(2) == "pending"
    scrapyd.stop()  # the running crawl survives (an orphan); the pending one never starts
    refused = run("cancel", "--job", "2")
    assert refused.returncode == 1
    assert "cannot be reached" in refused.stderr and "Traceback" not in refused.stderr
    everything = run("cancel", "--all")
    assert everything.returncode == 1
    assert "Job 1 cancelled" in everything.stdout  # stopped by its pid
    assert (
        "Job 2:" in everything.stderr and "1 of 2 jobs could not be cancelled" in everything.stderr
    )
    assert store.status(1) == "cancelled"
