"""Several Scrapyd nodes: listing, spreading crawls, routing to a job's node, a node going down.

Two real Scrapyd processes act as two nodes. One binds 127.0.0.2 (still this machine's loopback)
so that docscrawl treats it as another machine: no pid checks there, only Scrapyd and heartbeats.
"""

from __future__ import annotations

import os
import signal

import pytest
from conftest import Cli, Store, free_port, wait_for


def nodes_arg(*servers) -> str:
    return ",".join(server.url for server in servers)


def test_nodes_lists_reachability_load_and_deployment(cli: Cli, scrapyd_factory) -> None:
    deployed = scrapyd_factory(max_proc=2)
    bare = scrapyd_factory(do_deploy=False)
    down = f"http://127.0.0.1:{free_port()}"
    result = cli("--scrapyd", f"{deployed.url},{bare.url},{down}", "nodes", "--json")
    assert result.returncode == 0, result.stderr
    listed = {node["url"]: node for node in result.json()}
    assert listed[deployed.url]["reachable"] and listed[deployed.url]["deployed"]
    assert listed[deployed.url]["version"] and listed[deployed.url]["running"] == 0
    assert listed[bare.url]["reachable"] and listed[bare.url]["deployed"] is False
    assert listed[down]["reachable"] is False and "cannot be reached" in listed[down]["error"]
    table = cli("--scrapyd", f"{deployed.url},{bare.url},{down}", "nodes")
    assert table.stdout.splitlines()[0].split() == [
        "Node", "URL", "Reachable", "Running", "Pending", "Max", "Deployed"]  # fmt: skip


def test_nodes_from_scrapy_cfg_with_max_proc(cli: Cli, scrapyd_factory, tmp_path) -> None:
    alpha, beta = scrapyd_factory(), scrapyd_factory()
    (tmp_path / "scrapy.cfg").write_text(
        f"[deploy:alpha]\nurl = {alpha.url}/\nproject = docscrawl\nmax_proc = 3\n"
        f"[deploy:beta]\nurl = {beta.url}/\nproject = docscrawl\n"
    )
    env = {**cli.env}
    env.pop("SCRAPYD_URL")
    cli.env = env
    listed = cli("nodes", "--json").json()
    assert [(n["name"], n["max_proc"]) for n in listed] == [("alpha", 3), ("beta", None)]


def test_crawls_spread_and_commands_route_to_the_job_node(
    cli: Cli, store: Store, scrapyd_factory, slow_site
) -> None:
    url, _ = slow_site
    a, b = scrapyd_factory(max_proc=1), scrapyd_factory(max_proc=1, host="127.0.0.2")
    run = lambda *args: cli("--scrapyd", nodes_arg(a, b), *args)  # noqa: E731
    for prefix in ("sphinx/", "mkdocs/"):
        assert run("crawl", "--url", url + prefix, "--async").returncode == 0
    assert {store.job(1)["node"], store.job(2)["node"]} == {a.url, b.url}
    wait_for(lambda: store.status(1) == store.status(2) == "running", timeout=60)
    first_node = store.job(1)["node"]
    other = b if first_node == a.url else a
    # Pinning by name (host:port) or URL.
    pinned = run("crawl", "--url", url + "docbook/", "--async", "--node", other.url)
    assert pinned.returncode == 0 and store.job(3)["node"] == other.url
    assert run("crawl", "--url", url, "--async", "--node", "nowhere").returncode == 1

    details = run("status", "--job", "1", "--json").json()
    assert details["node"] == first_node and details["scrapyd_state"] == "running"
    assert details["log_url"].startswith(first_node + "/logs/")
    assert run("cancel", "--job", "1").returncode == 0
    assert store.status(1) == "cancelled"
    assert store.status(2) == "running"  # the other node's crawl goes on
    assert run("cancel", "--all").returncode == 0


def test_a_node_that_goes_down(cli: Cli, store: Store, scrapyd_factory, slow_site) -> None:
    url, _ = slow_site
    up, remote = scrapyd_factory(), scrapyd_factory(host="127.0.0.2")
    run = lambda *args, **kw: cli("--scrapyd", nodes_arg(up, remote), *args, **kw)  # noqa: E731
    assert run("crawl", "--url", url, "--async", "--node", remote.url).returncode == 0
    wait_for(lambda: (store.job(1).get("pages") or 0) >= 3, timeout=60)
    crawl_pid = store.job(1)["pid"]
    # The node goes down: its Scrapyd and its crawl die without a word.
    remote.stop(signal.SIGKILL)
    os.kill(crawl_pid, signal.SIGKILL)

    status = run("status", "--job", "1", "--json")
    assert status.returncode == 0
    assert status.json()["status"] == "running"  # not failed on the first timeout
    assert status.json()["node_reachable"] is False
    assert f"node 127.0.0.2:{remote.port} ({remote.url}) cannot be reached" in status.stderr
    assert "cannot be reached" in run("list").stderr

    # Scheduling skips the node that is down.
    assert run("crawl", "--url", url + "docbook/", "--async", "--max-pages", "3").returncode == 0
    assert store.job(2)["node"] == up.url
    wait_for(lambda: store.status(2) == "completed", timeout=60)

    # Cancelling explains; --force marks.
    refused = run("cancel", "--job", "1")
    assert refused.returncode == 1
    assert "cannot be reached" in refused.stderr and "--force" in refused.stderr
    forced = run("cancel", "--job", "1", "--force")
    assert forced.returncode == 0, forced.stderr
    assert store.status(1) == "cancelled"


def test_reconciliation_waits_for_the_grace_period(
    cli: Cli, store: Store, scrapyd_factory, slow_site
) -> None:
    url, _ = slow_site
    remote = scrapyd_factory(host="127.0.0.2")
    run = lambda *args, **kw: cli("--scrapyd", remote.url, *args, **kw)  # noqa: E731
    assert run("crawl", "--url", url, "--async").returncode == 0
    wait_for(lambda: (store.job(1).get("pages") or 0) >= 3, timeout=60)
    crawl_pid = store.job(1)["pid"]
    remote.stop(signal.SIGKILL)
    os.kill(crawl_pid, signal.SIGKILL)
    grace = {"DOCSCRAWL_STALE_AFTER": "3"}
    assert "Job 1 is now" not in run("reconcile", env=grace).stdout  # too early to tell
    assert store.status(1) == "running"
    wait_for(lambda: run("reconcile", env=grace).stdout.startswith("Job 1 is now failed"), 30, 0.5)
    assert "no heartbeat since" in store.job(1)["finish_reason"]


@pytest.mark.parametrize("pinned", [False, True])
def test_no_usable_node(cli: Cli, store: Store, scrapyd_factory, pinned: bool) -> None:
    bare = scrapyd_factory(do_deploy=False)
    down = f"http://127.0.0.1:{free_port()}"
    args = ["--node", bare.url] if pinned else []
    result = cli("--scrapyd", f"{bare.url},{down}", "crawl", "--url", "http://127.0.0.1:9/",
                 "--async", *args)  # fmt: skip
    assert result.returncode == 1
    assert "scrapyd-deploy" in result.stderr
