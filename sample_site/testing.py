"""Run the sample site in a subprocess for tests and demos, and always stop it."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)


class ServerURL(str):
    """The base URL of a running sample site, carrying the pid of its process."""

    pid: int

    def __new__(cls, url: str, pid: int) -> ServerURL:
        """A str equal to url, with .pid set."""
        instance = super().__new__(cls, url)
        instance.pid = pid
        return instance


@contextmanager
def serve(
    delay: float = 0.0,
    access_log: str | os.PathLike[str] | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    quiet: bool = True,
    startup_timeout: float = 15.0,
) -> Iterator[ServerURL]:
    """Start ``python -m sample_site`` and yield its base URL (``http://127.0.0.1:PORT/``)."""
    command = [sys.executable, "-m", "sample_site", "--host", host, "--port", str(port)]
    command += ["--delay", str(delay)]
    if access_log is not None:
        command += ["--access-log", os.fspath(access_log)]
    if quiet:
        command.append("--quiet")
    env = dict(os.environ)
    # The child must import this very package whatever its working directory is.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (PACKAGE_PARENT, env.get("PYTHONPATH"))))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
    try:
        url = _read_url(process, startup_timeout)
        yield ServerURL(url, process.pid)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the process, wait, then SIGKILL it if it is still there."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _read_url(process: subprocess.Popen[bytes], timeout: float) -> str:
    assert process.stdout is not None
    lines: queue.Queue[bytes] = queue.Queue()
    # readline() cannot time out, so a daemon thread reads; it ends when the pipe closes.
    reader = threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True)
    reader.start()
    try:
        line = lines.get(timeout=timeout).decode().strip()
    except queue.Empty:
        raise RuntimeError(f"sample_site did not print its URL within {timeout} s") from None
    if not line.startswith("http://"):
        raise RuntimeError(f"sample_site exited with code {process.wait()} before serving")
    return line
