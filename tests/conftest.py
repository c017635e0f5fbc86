"""Shared fixtures: the sample docs site on loopback, a store under tmp_path, the real CLI,
and a real Scrapyd."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import support
from support import (  # noqa: F401 - re-exported for the test modules
    BIN,
    PROJECT_ROOT,
    ScrapydServer,
    deploy,
    free_port,
    start_scrapyd,
    wait_for,
    write_scrapyd_conf,
)

from sample_site.testing import serve

pytest_plugins = ["postgres"]  # the PostgreSQL server fixtures (tests/postgres.py)

DOCSCRAWL = str(BIN / "docscrawl")


@pytest.fixture(scope="session")
def site() -> Iterator[str]:
    """The bundled sample documentation site, served on 127.0.0.1."""
    with serve() as url:
        yield url


@pytest.fixture
def slow_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The sample site answering every page after 0.2 s, with an access log."""
    log = tmp_path / "access.log"
    with serve(delay=0.2, access_log=str(log)) as url:
        yield url, log


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


class Store:
    """The SQLite store of one test, read directly with sqlite3 (what a user's analysis does)."""

    def __init__(self, path: Path):
        self.path = path

    def rows(self, sql: str, *params) -> list[tuple]:
        with sqlite3.connect(self.path, timeout=30) as conn:
            return conn.execute(sql, params).fetchall()

    def value(self, sql: str, *params):
        rows = self.rows(sql, *params)
        return rows[0][0] if rows else None

    def job(self, job_id: int) -> dict:
        """The job's row; {} while the store or the job does not exist yet."""
        if not self.path.exists():
            return {}
        with sqlite3.connect(self.path, timeout=30) as conn:
            conn.row_factory = sqlite3.Row
            try:
                row = conn.execute("SELECT * FROM job WHERE id = ?", (job_id,)).fetchone()
            except sqlite3.OperationalError:  # the CLI is still creating the schema
                return {}
            return dict(row) if row else {}

    def status(self, job_id: int) -> str | None:
        return self.job(job_id).get("status")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "docscrawl.db")


class Cli:
    """The real `docscrawl` entry point, run as a subprocess against the test's store."""

    def __init__(self, store: Store, cwd: Path, env: dict[str, str]):
        self.store = store
        self.cwd = cwd
        self.env = env
        self.started: list[subprocess.Popen] = []

    def args(self, *args: str) -> list[str]:
        return [DOCSCRAWL, "--db", str(self.store.path), *args]

    def __call__(self, *args: str, timeout: float = 120, env: dict | None = None) -> Result:
        proc = subprocess.run(
            self.args(*args),
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def start(self, *args: str) -> subprocess.Popen:
        """Start a command in the background (e.g. a foreground crawl to interrupt).

        With SIGINT as a terminal gives it, whatever the test run inherited: a runner started
        in the background of a shell without job control ignores it, and a child would too."""
        proc = subprocess.Popen(
            self.args(*args),
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_default_sigint,
        )
        self.started.append(proc)
        return proc

    def stop_started(self) -> None:
        """Every process a test starts, the test stops."""
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=10)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def clean_env() -> dict[str, str]:
    env = support.clean_env()
    env["SCRAPYD_URL"] = "http://127.0.0.1:9"  # nothing listens there: no accidental Scrapyd
    return env


@pytest.fixture
def cli(store: Store, tmp_path: Path) -> Iterator[Cli]:
    runner = Cli(store, tmp_path, clean_env())
    yield runner
    runner.stop_started()


def crawl_job_id(first_line: str) -> int:
    """The job id from the first line a crawl prints ("Job 5: ..." / "Job 5 scheduled ...")."""
    word = first_line.split()[1].rstrip(":")
    return int(word)


# --- Scrapyd -------------------------------------------------------------------------------------


@pytest.fixture
def scrapyd_factory(tmp_path: Path) -> Iterator[Callable[..., ScrapydServer]]:
    servers: list[ScrapydServer] = []

    def make(
        max_proc: int = 4,
        auth: tuple | None = None,
        port: int | None = None,
        workdir: Path | None = None,
        do_deploy: bool = True,
        host: str = "127.0.0.1",
        env: dict[str, str] | None = None,
    ) -> ScrapydServer:
        port = port or free_port()
        workdir = workdir or tmp_path / f"scrapyd-{port}"
        workdir.mkdir(exist_ok=True)
        write_scrapyd_conf(workdir, port, max_proc, auth, host)
        server = start_scrapyd(workdir, port, host, env)
        servers.append(server)
        if do_deploy:
            deploy(server.url, tmp_path, auth)
        return server

    yield make
    for server in servers:
        server.stop_with_crawls()
    for server in servers:
        shutil.rmtree(server.workdir / "eggs", ignore_errors=True)


@pytest.fixture
def scrapyd(scrapyd_factory) -> ScrapydServer:
    return scrapyd_factory()


# --- docscrawl serve -----------------------------------------------------------------------------


@pytest.fixture
def server_factory(
    store: Store, tmp_path: Path
) -> Iterator[Callable[..., support.DocscrawlServer]]:
    """Start `docscrawl serve` on a free port against the test's store; every one started is
    stopped (Ctrl+C) at the end, with the local crawls it started."""
    started: list[support.DocscrawlServer] = []

    def make(*args: str, **kwargs) -> support.DocscrawlServer:
        server = support.start_server(store.path, tmp_path, *args, **kwargs)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
    for server in started:
        server.stop_crawls(store.path)


@pytest.fixture
def server(server_factory) -> support.DocscrawlServer:
    return server_factory()
