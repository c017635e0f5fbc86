"""Crawl processes on this machine: are they alive, and stopping them by pid."""

from __future__ import annotations

import signal
import socket
import time

# Two readings of one process's start time can differ by rounding.
START_TIME_TOLERANCE = 1.0


def this_host() -> str:
    """The name this machine records as the node of the crawls it runs itself."""
    return socket.gethostname()


def is_alive(pid: int | None, started_at: float | None) -> bool:
    """True if the process pid is running and is the one that started at started_at.

    Comparing start times tells our crawl from an unrelated process that reused its pid.
    """
    if not pid:
        return False
    # Imported when a process is asked about: commands with no active job to check (`--help`,
    # `status` of a finished job) start without it.
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return started_at is None or abs(process.create_time() - started_at) <= START_TIME_TOLERANCE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def send_signal(pid: int, started_at: float | None, signum: int) -> bool:
    """Signal the process if it is still ours; False if it is already gone."""
    if not is_alive(pid, started_at):
        return False
    import psutil

    try:
        psutil.Process(pid).send_signal(signum)
    except psutil.NoSuchProcess:
        return False
    return True


def wait_gone(pid: int, started_at: float | None, timeout: float) -> bool:
    """Poll until the process has exited; False if it is still alive after timeout seconds."""
    deadline = time.monotonic() + timeout
    while is_alive(pid, started_at):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def kill(pid: int, started_at: float | None, timeout: float = 5.0) -> bool:
    """SIGKILL the process if it is ours and wait until it is gone."""
    if send_signal(pid, started_at, signal.SIGKILL):
        return wait_gone(pid, started_at, timeout)
    return True


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def is_local_node(node: str | None) -> bool:
    """True if node (a host name or a Scrapyd URL) is this machine."""
    if not node:
        return False
    from urllib.parse import urlsplit

    host = urlsplit(node).hostname if "://" in node else node
    return host in LOOPBACK_HOSTS or host == this_host()
