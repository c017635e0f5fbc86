"""No job stays active when nothing runs it: an interrupted or failed schedule, a job that never
reached a node, a pending job Scrapyd does not have. Real CLI, real sockets, real Scrapyd."""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Iterator

import pytest
from conftest import Cli, Store, wait_for


class HungNode:
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.accepted = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return  # closed
            self.connections.append(conn)
            self.accepted.set()

    def close(self) -> None:
        for conn in self.connections:
            conn.close()
        self.server.close()


@pytest.fixture
def hung_node() -> Iterator[HungNode]:
    node = HungNode()
    yield node
    node.close()


def age_job(store: Store, job_id: int, minutes: int = 10, **fields) -> None:
    """Make the job look as if created `minutes` ago, with `fields` set: the state a run cut
    short between its two first writes leaves, which no real run produces on demand."""
    sets = ", ".join(f"{name} = ?" for name in fields)
    store.rows(
        f"UPDATE job SET created_at = datetime('now', ?), heartbeat_at = NULL{', ' if sets else ''}"
        f"{sets} WHERE id = ?",
        f"-{minutes} minutes",
        *fields.values(),
        job_id,
    )


def unscheduled_job(cli: Cli, store: Store, status: str = "pending", minutes: int = 10) -> int:
    """A job recorded for Scrapyd that never reached a node (its scheduling was killed)."""
    assert cli("crawl", "--url", "http://127.0.0.1:9/", "--async").returncode == 1  # no Scrapyd
    age_job(
        store, 1, minutes, status=status, node=None, scrapyd_job_id=None, log_url=None,
        finished_at=None, finish_reason=None,
    )  # fmt: skip
    return 1


@pytest.mark.parametrize("when", ["row recorded", "request in flight"])
def test_ctrl_c_while_scheduling_on_a_hung_node(
    cli: Cli, store: Store, hung_node: HungNode, when: str
) -> None:
    proc = cli.start("--scrapyd", hung_node.url, "crawl", "--url", "http://127.0.0.1:9/", "--async")
    wait_for(lambda: store.job(1), timeout=30)
    if when == "request in flight":
        assert hung_node.accepted.wait(timeout=30)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and out == ""
    assert err.splitlines() == [
        f"Error: Job 1 cancelled: scheduling on {hung_node.url} was interrupted (Ctrl+C)."
    ]
    job = store.job(1)
    assert job["status"] == "cancelled"
    assert job["finish_reason"] == f"scheduling on {hung_node.url} was interrupted (Ctrl+C)"
    assert job["finished_at"]


def test_timeout_on_a_hung_node_fails_the_job(cli: Cli, store: Store, hung_node: HungNode) -> None:
    result = cli(
        "--scrapyd", hung_node.url, "crawl", "--url", "http://127.0.0.1:9/", "--async",
        env={"DOCSCRAWL_SCRAPYD_TIMEOUT": "0.5"},
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == f"Error: Scrapyd at {hung_node.url} did not answer in time.\n"
    assert store.status(1) == "failed"


@pytest.mark.parametrize(
    ("status", "becomes"), [("pending", "failed"), ("cancelling", "cancelled")]
)
def test_reconcile_ends_a_job_that_never_reached_a_node(
    cli: Cli, store: Store, status: str, becomes: str
) -> None:
    unscheduled_job(cli, store, status)
    result = cli("reconcile", env={"DOCSCRAWL_STALE_AFTER": "60"})
    assert result.returncode == 0, result.stderr
    reason = f"it never reached a Scrapyd node (its scheduling was cut short) while {status}"
    assert result.stdout == f"Job 1 is now {becomes}: {reason}.\n"
    assert store.status(1) == becomes
    assert store.job(1)["finish_reason"] == reason


def test_reconcile_leaves_a_job_being_scheduled_alone(cli: Cli, store: Store) -> None:
    unscheduled_job(cli, store, minutes=0)  # as if another terminal were scheduling it now
    result = cli("reconcile", env={"DOCSCRAWL_STALE_AFTER": "60"})
    assert result.stdout == "Every active job has a live process.\n"
    assert store.status(1) == "pending"


@pytest.mark.parametrize("everything", [False, True])
def test_cancel_of_a_job_that_never_reached_a_node(cli: Cli, store: Store, everything) -> None:
    unscheduled_job(cli, store, minutes=0)
    args = ["--all"] if everything else ["--job", "1"]
    result = cli("cancel", *args, "--wait", "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Job 1 cancelled before it started.\n"
    assert store.status(1) == "cancelled"
    assert store.job(1)["finish_reason"] == "cancelled before it started"


def test_reconcile_ends_a_pending_job_scrapyd_does_not_have(
    cli: Cli, store: Store, scrapyd_factory, slow_site
) -> None:
    """Removed from Scrapyd's queue behind our back (its web UI, another tool, a new Scrapyd):
    ended once the grace period is over, not before (a schedule may be on its way)."""
    import requests

    url, _ = slow_site
    scrapyd = scrapyd_factory(max_proc=1)
    run = lambda *args, **kw: cli("--scrapyd", scrapyd.url, *args, **kw)  # noqa: E731
    assert run("crawl", "--url", url, "--async").returncode == 0
    wait_for(lambda: store.status(1) == "running", timeout=90)
    assert run("crawl", "--url", url + "sphinx/", "--async").returncode == 0
    second = store.job(2)["scrapyd_job_id"]
    assert [job["id"] for job in scrapyd.list_jobs()["pending"]] == [second]
    cancelled = requests.post(
        f"{scrapyd.url}/cancel.json", data={"project": "docscrawl", "job": second}, timeout=10
    ).json()
    assert cancelled["prevstate"] == "pending"

    early = run("reconcile", env={"DOCSCRAWL_STALE_AFTER": "600"})
    assert early.stdout == "Every active job has a live process.\n", early.stdout
    assert store.status(2) == "pending"

    age_job(store, 2)
    late = run("reconcile", env={"DOCSCRAWL_STALE_AFTER": "600"})
    reason = f"it never started, and Scrapyd at {scrapyd.url} does not have it queued while pending"
    assert late.stdout == f"Job 2 is now failed: {reason}.\n", late.stderr
    assert store.status(2) == "failed" and store.status(1) == "running"
    assert run("cancel", "--job", "1").returncode == 0
