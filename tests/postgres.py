"""A throwaway PostgreSQL server for the tests: one per session, one database per test.

Use it as a pytest plugin (``pytest_plugins = ["postgres"]``). Without the server binaries the
tests that need it skip with the reason; with ``DOCSCRAWL_TEST_POSTGRES=require`` (what CI sets)
they fail instead, so a CI machine cannot silently skip them.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

ENV_VAR = "DOCSCRAWL_TEST_POSTGRES"
ROLE = "docscrawl"  # the password-protected role every test URL uses
SUPERUSER = "postgres"  # trusted on 127.0.0.1 only, for creating and dropping databases
SERVER_OPTIONS = [
    "listen_addresses=127.0.0.1",
    # Durability is worthless for a throwaway server and costs seconds per test.
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=200",
]
HBA = """\
# Written by tests/postgres.py: the superuser is trusted, docscrawl must give its password.
local all all trust
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
"""


def required() -> bool:
    """Whether the environment says PostgreSQL tests must run (CI)."""
    return os.environ.get(ENV_VAR, "").strip().lower() in ("require", "required", "1", "yes")


def find_bindir() -> Path | None:
    """The directory of the newest installed initdb/pg_ctl, or None."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.split("/")[-3]))

    if found:
        return Path(max(found, key=version)).parent
    initdb = shutil.which("initdb")  # a PATH install (Homebrew, a Docker image)
    return Path(initdb).parent if initdb else None


def unavailable_reason() -> str | None:
    """Why a PostgreSQL server cannot be started here, or None if it can."""
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "the psycopg2 driver is not installed (pip install psycopg2-binary)"
    bindir = find_bindir()
    if bindir is None or not (bindir / "pg_ctl").exists():
        return "the PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SUPERUSER)
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
        if not (shutil.which("runuser") or shutil.which("setpriv")):
            return "running as root and neither runuser nor setpriv is available"
    return None


def skip_or_fail(reason: str) -> None:
    """Skip the test for reason, or fail it when PostgreSQL is required."""
    if required():
        pytest.fail(f"PostgreSQL is required ({ENV_VAR}=require) but {reason}.", pytrace=False)
    pytest.skip(f"needs a PostgreSQL server: {reason} (set {ENV_VAR}=require to fail instead)")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _traversable_tmpdir() -> str:
    """The temporary directory if the postgres user can reach into it, else /tmp."""
    base = Path(tempfile.gettempdir()).resolve()
    if all(os.stat(part).st_mode & 0o001 for part in [base, *base.parents]):
        return str(base)
    return "/tmp"


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run command as the postgres user when we are root."""
    if os.geteuid() != 0:
        return command
    if shutil.which("runuser"):
        return ["runuser", "-u", SUPERUSER, "--", *command]
    return ["setpriv", f"--reuid={SUPERUSER}", f"--regid={SUPERUSER}", "--init-groups", *command]


@dataclass
class PostgresServer:
    """A PostgreSQL server we started, in a temporary data directory, on 127.0.0.1:port."""

    bindir: Path
    datadir: Path
    port: int = 0
    password: str = field(default_factory=lambda: secrets.token_hex(16))
    _names: Iterator[int] = field(default_factory=itertools.count)

    @classmethod
    def start(cls) -> PostgresServer:
        """Create a cluster in a fresh temporary directory and start it on a free port."""
        bindir = find_bindir()
        assert bindir is not None
        # Not under pytest's tmp_path: that is 0700 root-owned, and the server runs as postgres.
        datadir = Path(tempfile.mkdtemp(prefix="docscrawl-pg-", dir=_traversable_tmpdir()))
        os.chmod(datadir, 0o700)
        if os.geteuid() == 0:
            user = pwd.getpwnam(SUPERUSER)
            os.chown(datadir, user.pw_uid, user.pw_gid)
        server = cls(bindir, datadir)
        try:
            server._run("initdb", "-D", str(datadir), "-U", SUPERUSER, "-A", "trust",
                        "-E", "UTF8", "--no-locale", "--no-sync")  # fmt: skip
            (datadir / "pg_hba.conf").write_text(HBA)
            server._start_on_free_port()
            with server.admin() as conn, conn.cursor() as cur:
                cur.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD %s", (server.password,))
        except BaseException:
            server.stop()
            raise
        return server

    def _run(self, program: str, *args: str, timeout: float = 120) -> str:
        proc = subprocess.run(
            _as_server_user([str(self.bindir / program), *args]),
            cwd=self.datadir.parent,  # a directory the postgres user can enter
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{program} failed ({proc.returncode}): {proc.stdout}{proc.stderr}")
        return proc.stdout

    def _start_on_free_port(self, attempts: int = 3) -> None:
        for attempt in range(attempts):
            # Another process may take the port between free_port() and the server's bind.
            self.port = free_port()
            options = [
                *SERVER_OPTIONS,
                f"port={self.port}",
                f"unix_socket_directories='{self.datadir}'",
            ]
            try:
                self._run(
                    "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.datadir),
                    "-l", str(self.datadir / "server.log"),
                    "-o", " ".join(f"-c {option}" for option in options),
                )  # fmt: skip
                return
            except RuntimeError:
                if attempt == attempts - 1:
                    raise RuntimeError(f"PostgreSQL did not start:\n{self.log_tail()}") from None

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's log, for error messages."""
        try:
            return "\n".join((self.datadir / "server.log").read_text().splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def pid(self) -> int | None:
        """The postmaster's pid, from its pid file."""
        try:
            return int((self.datadir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """Stop the server (fast shutdown, then SIGKILL) and delete its data directory."""
        pid = self.pid()
        if pid is not None:
            try:
                self._run("pg_ctl", "stop", "-m", "fast", "-w", "-t", "30", "-D", str(self.datadir))
            except (RuntimeError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                with contextlib.suppress(psutil.NoSuchProcess, psutil.TimeoutExpired):
                    psutil.Process(pid).wait(timeout=10)  # gone before its directory goes
        shutil.rmtree(self.datadir, ignore_errors=True)

    def url(self, dbname: str, *, user: str = ROLE, password: str | None = None) -> str:
        """The peewee/psycopg2 URL of a database on this server."""
        secret = self.password if password is None else password
        return f"postgresql://{user}:{secret}@127.0.0.1:{self.port}/{dbname}"

    @contextlib.contextmanager
    def admin(self, dbname: str = "postgres") -> Iterator[Any]:
        """An autocommit superuser connection (CREATE/DROP DATABASE cannot run in a transaction)."""
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=dbname)
        conn.autocommit = True
        try:
            yield conn
        finally:
            conn.close()

    def create_database(self) -> str:
        """A new empty database owned by the docscrawl role; returns its name."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        with self.admin() as conn, conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}" OWNER {ROLE}')
        return name

    def drop_database(self, name: str) -> None:
        """Drop a test's database, disconnecting whatever still uses it (a leftover crawl)."""
        with self.admin() as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')


def qmark_to_pyformat(sql: str) -> str:
    """SQLite-style ``?`` placeholders as psycopg2's ``%s``; a literal ``%`` becomes ``%%``."""
    out, quote = [], None
    for char in sql:
        if quote:
            if char == quote:
                quote = None
        elif char in ("'", '"'):
            quote = char
        elif char == "?":
            out.append("%s")
            continue
        out.append("%%" if char == "%" else char)
    return "".join(out)


class PostgresStore:
    """A PostgreSQL store read directly with psycopg2, like conftest's ``Store`` for SQLite.

    ``path`` is the URL, so conftest's ``Cli(store, ...)`` passes it as ``--db``.
    """

    def __init__(self, url: str):
        self.url = url

    @property
    def path(self) -> str:
        return self.url

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        import psycopg2

        conn = psycopg2.connect(self.url)
        conn.autocommit = True
        try:
            yield conn
        finally:
            conn.close()

    def rows(self, sql: str, *params: Any) -> list[tuple]:
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(qmark_to_pyformat(sql), params)
            return cur.fetchall() if cur.description else []

    def value(self, sql: str, *params: Any) -> Any:
        rows = self.rows(sql, *params)
        return rows[0][0] if rows else None

    def job(self, job_id: int) -> dict:
        """The job's row; {} while the schema or the job does not exist yet."""
        import psycopg2
        import psycopg2.extras

        factory = psycopg2.extras.RealDictCursor
        with self.connect() as conn, conn.cursor(cursor_factory=factory) as cur:
            try:
                cur.execute("SELECT * FROM job WHERE id = %s", (job_id,))
            except psycopg2.errors.UndefinedTable:  # the CLI is still creating the schema
                return {}
            row = cur.fetchone()
        return dict(row) if row else {}

    def status(self, job_id: int) -> str | None:
        return self.job(job_id).get("status")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session; skips (or fails, if required) without one."""
    reason = unavailable_reason()
    if reason is not None:
        skip_or_fail(reason)
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh database for this test: ``postgresql://docscrawl:<password>@127.0.0.1:PORT/db``."""
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


ENGINES = ["sqlite", "postgresql"]


@pytest.fixture(params=ENGINES)
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty store on each engine: a SQLite path, or this test's PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "docscrawl.db")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def postgres_store(postgres_url: str) -> PostgresStore:
    """This test's PostgreSQL database, as a store to read with SQL."""
    return PostgresStore(postgres_url)
