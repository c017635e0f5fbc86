"""Environment variables: every one checked at start-up, before anything is written; a bad value
is a usage error (exit 2) that names the variable and says what it takes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import DOCSCRAWL, Cli, Store

SECONDS = "it takes a number of seconds greater than 0 and at most 604800 (a week)."


def run(cli: Cli, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [DOCSCRAWL, *args], env={**cli.env, **env}, cwd=cli.cwd, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("variable", ["DOCSCRAWL_SCRAPYD_TIMEOUT", "DOCSCRAWL_STALE_AFTER"])
@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan", "inf", "-inf", "1e400", "604801", " "])
def test_seconds_that_are_not_a_positive_number(cli: Cli, store: Store, variable, value) -> None:
    args = ["--db", str(store.path), "crawl", "--url", "http://127.0.0.1:9/", "--async"]
    proc = run(cli, args, {variable: value})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"Error: {variable}={value} is not valid: {SECONDS}\n"
    assert proc.stdout == ""
    assert not store.path.exists()  # refused before anything was recorded


@pytest.mark.parametrize("value", ["0.5", "30", "604800"])
def test_seconds_that_are_valid(cli: Cli, store: Store, value: str) -> None:
    env = {"DOCSCRAWL_SCRAPYD_TIMEOUT": value, "DOCSCRAWL_STALE_AFTER": value}
    proc = run(cli, ["--db", str(store.path), "list"], env)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("variable", "value", "shown", "takes"),
    [
        ("DOCSCRAWL_DB", "mysql://u:secret@127.0.0.1:1/x", "mysql://u:***@127.0.0.1:1/x",
         "a SQLite file path or a SQLite or PostgreSQL URL"),
        ("DOCSCRAWL_DB", "foo://bar", "foo://bar", "a SQLite file path"),
        ("SCRAPYD_URL", "ftp://127.0.0.1:6800", "ftp://127.0.0.1:6800",
         "one or more comma-separated Scrapyd URLs"),
        ("SCRAPYD_URL", ",", ",", "one or more comma-separated Scrapyd URLs"),
        ("SCRAPYD_USERNAME", "a:b", "a:b", "a user name without ':'"),
        ("SCRAPYD_PASSWORD", "top\nsecret", "***", "a password without control characters"),
    ],
)  # fmt: skip
def test_other_variables(cli: Cli, tmp_path: Path, variable, value, shown, takes) -> None:
    env = {"SCRAPYD_URL": "http://127.0.0.1:9", variable: value}
    proc = run(cli, ["crawl", "--url", "http://127.0.0.1:9/", "--async"], env)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"Error: {variable}={shown} is not valid: it takes {takes}")
    assert len(proc.stderr.splitlines()) == 1 and "secret" not in proc.stderr
    assert list(tmp_path.glob("*.db")) == []


def test_a_variable_an_option_overrides_is_not_used(cli: Cli, store: Store) -> None:
    env = {"DOCSCRAWL_DB": "foo://bar", "SCRAPYD_URL": ","}
    proc = run(cli, ["--db", str(store.path), "--scrapyd", "http://127.0.0.1:9", "list"], env)
    assert proc.returncode == 0, proc.stderr
