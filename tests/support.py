"""Processes the tests start and wait for: a real Scrapyd on a free port, scrapyd-deploy, a
static site served from a directory.

The benchmarks (bench/) reuse these helpers: they run from the repository root and import
this module as ``tests.support``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import requests

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def wait_for(condition: Callable[[], object], timeout: float = 30.0, interval: float = 0.05):
    """Poll condition until it returns something truthy; raise AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {condition}")
        time.sleep(interval)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env() -> dict[str, str]:
    """This environment without docscrawl's and Scrapyd's variables."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("DOCSCRAWL_", "SCRAPYD_"))}


@dataclass
class ScrapydServer:
    """A Scrapyd process started by us, in its own working directory."""

    url: str
    workdir: Path
    process: subprocess.Popen
    port: int
    orphans: list[psutil.Process] = field(default_factory=list)

    def crawl_processes(self) -> list[psutil.Process]:
        """The crawl processes this Scrapyd started and that are still alive."""
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def stop(self, sig: int = signal.SIGTERM) -> None:
        # Its crawls outlive it; remember them so that stop_with_crawls can still end them.
        self.orphans.extend(self.crawl_processes())
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def stop_with_crawls(self) -> None:
        """Stop Scrapyd and every crawl it started, also those orphaned by an earlier stop."""
        self.stop()
        for crawl in self.orphans:
            with contextlib.suppress(psutil.NoSuchProcess):
                crawl.kill()

    def list_jobs(self, project: str = "docscrawl") -> dict:
        return requests.get(
            f"{self.url}/listjobs.json", params={"project": project}, timeout=10
        ).json()


def write_scrapyd_conf(
    workdir: Path, port: int, max_proc: int, auth: tuple | None, host: str = "127.0.0.1"
) -> None:
    lines = [
        "[scrapyd]",
        f"bind_address = {host}",
        f"http_port = {port}",
        "jobstorage = scrapyd.jobstorage.SqliteJobStorage",
        "eggs_dir = eggs",
        "logs_dir = logs",
        "dbs_dir = dbs",
        "items_dir =",
        f"max_proc = {max_proc}",
        "poll_interval = 0.2",
    ]
    if auth:
        lines += [f"username = {auth[0]}", f"password = {auth[1]}"]
    (workdir / "scrapyd.conf").write_text("\n".join(lines) + "\n")


def start_scrapyd(
    workdir: Path, port: int, host: str = "127.0.0.1", env: dict[str, str] | None = None
) -> ScrapydServer:
    """Start Scrapyd in workdir (with its scrapyd.conf) and wait until it answers."""
    with open(workdir / "scrapyd.out", "ab") as out:
        process = subprocess.Popen(
            [str(BIN / "scrapyd"), "--pidfile="],
            cwd=workdir,
            env={**clean_env(), **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://{host}:{port}"
    server = ScrapydServer(url, workdir, process, port)

    def answering() -> bool:
        if process.poll() is not None:
            raise AssertionError((workdir / "scrapyd.out").read_text())
        try:
            return requests.get(f"{url}/daemonstatus.json", timeout=2).status_code in (200, 401)
        except requests.RequestException:
            return False

    wait_for(answering, timeout=30, interval=0.1)
    return server


def deploy(
    url: str, tmp: Path, auth: tuple | None = None, project_dir: Path = PROJECT_ROOT,
    project: str = "docscrawl",
) -> None:  # fmt: skip
    """Deploy a project's egg with plain `scrapyd-deploy` to a target named `bench`.

    The target is declared in a scrapy.cfg under XDG_CONFIG_HOME, which scrapyd-deploy reads
    besides the project's own scrapy.cfg, so the project's [deploy] section is left alone.
    """
    xdg = tmp / "xdg"
    xdg.mkdir(exist_ok=True)
    cfg = f"[deploy:bench]\nurl = {url}/\nproject = {project}\n"
    if auth:
        cfg += f"username = {auth[0]}\npassword = {auth[1]}\n"
    (xdg / "scrapy.cfg").write_text(cfg)
    proc = subprocess.run(
        [str(BIN / "scrapyd-deploy"), "bench"],
        cwd=project_dir,
        env={**os.environ, "XDG_CONFIG_HOME": str(xdg)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0 or '"status": "ok"' not in proc.stdout:
        raise AssertionError(f"scrapyd-deploy failed: {proc.stdout}{proc.stderr}")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass


@contextlib.contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """Serve a directory on 127.0.0.1 (a free port, in a thread); yield its base URL; stop it."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- docscrawl serve -----------------------------------------------------------------------------


@dataclass
class DocscrawlServer:
    """A `docscrawl serve` process started by a test: its base URL, token and output."""

    url: str
    token: str
    process: subprocess.Popen
    output: Path
    crawl_pids: list[int] = field(default_factory=list)

    @property
    def login_link(self) -> str:
        return f"{self.url}/?token={self.token}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        """One API request with the token."""
        kwargs.setdefault("timeout", 30)
        return requests.request(method, self.url + path, headers=self.headers(), **kwargs)

    def log(self) -> str:
        return self.output.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20) -> int:
        """Stop the server (Ctrl+C by default) and wait for it; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode

    def stop_crawls(self, store_path: Path) -> None:
        """Kill the local crawl processes this server started that still run (by the pids the
        store records for its jobs): a test leaves nothing behind."""
        import sqlite3

        with contextlib.closing(sqlite3.connect(store_path)) as db:
            rows = db.execute(
                "SELECT pid, process_started_at FROM job WHERE mode = 'local' AND pid IS NOT NULL"
            ).fetchall()
        for pid, started in rows:
            with contextlib.suppress(psutil.NoSuchProcess):
                process = psutil.Process(pid)
                if started is None or abs(process.create_time() - started) < 1:
                    process.kill()


def start_server(
    store: Path,
    workdir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    token: str | None = "test-token-0123456789abcdef",
    timeout: float = 30,
) -> DocscrawlServer:
    """Start `docscrawl --db STORE serve --port 0 ARGS` and wait for its login link."""
    output = workdir / f"serve-{time.monotonic_ns()}.out"
    environment = {**clean_env(), "SCRAPYD_URL": "http://127.0.0.1:9", **(env or {})}
    if token is not None:
        environment["DOCSCRAWL_API_TOKEN"] = token
    with open(output, "wb") as out:
        process = subprocess.Popen(
            [str(BIN / "docscrawl"), "--db", str(store), "serve", "--port", "0", *args],
            cwd=workdir,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def login_link() -> str | None:
        if process.poll() is not None:
            raise AssertionError(f"docscrawl serve exited: {output.read_text()}")
        for line in output.read_text(errors="replace").splitlines():
            if line.startswith("Log in: "):
                return line.removeprefix("Log in: ").strip()
        return None

    link = wait_for(login_link, timeout=timeout, interval=0.05)
    base, _, found_token = link.partition("/?token=")
    server = DocscrawlServer(base, found_token, process, output)

    def answering() -> bool:
        try:
            return requests.get(base + "/api/openapi.json", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_for(answering, timeout=timeout, interval=0.05)
    return server
