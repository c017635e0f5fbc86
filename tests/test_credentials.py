"""Credentials are never shown: in store locations, Scrapyd node URLs and start URLs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli, Store, wait_for
from test_cli_errors import assert_clean_error

from docscrawl import models, redact

NASTY = [
    # (location, the password in it, what describe_location shows)
    ("postgresql://u:p/ss@w@127.0.0.1:1/db", "p/ss@w", "postgresql://u:***@127.0.0.1:1/db"),
    ("postgresql://u:a@b@127.0.0.1:1/db", "a@b", "postgresql://u:***@127.0.0.1:1/db"),
    ("postgresql://u:q?x#y@127.0.0.1:1/db", "q?x#y", "postgresql://u:***@127.0.0.1:1/db"),
    ("postgresql://u:s3cr%2Ft@h:5432/db", "s3cr%2Ft", "postgresql://u:***@h:5432/db"),
    ("postgresql://u@h/db?sslmode=disable&password=zz9", "zz9",
     "postgresql://u@h/db?sslmode=disable&password=***"),
    ("postgresql://u:x@[::1@h/db", "x@[::1", "postgresql://u:***@h/db"),
    ("postgresql://[u:x@h/db", "x", "postgresql://***@h/db"),
]  # fmt: skip


@pytest.mark.parametrize(("location", "password", "shown"), NASTY)
def test_describe_location_masks_any_password(location: str, password: str, shown: str):
    assert models.describe_location(location) == shown
    assert password not in models.without_password(location)
    assert password not in models.describe_location(f"connecting to {location} failed")


def test_without_password_keeps_the_rest() -> None:
    assert models.without_password("postgresql://u:p/ss@w@127.0.0.1:1/db") == (
        "postgresql://u@127.0.0.1:1/db"
    )
    assert models.without_password("postgresql://u:a@b@h/db?password=x&sslmode=require") == (
        "postgresql://u@h/db?sslmode=require"
    )
    assert models.without_password("/tmp/a@b.db") == "/tmp/a@b.db"


def test_split_credentials() -> None:
    url = "http://crawler:Zq9%40x@127.0.0.1:6800"
    assert redact.split_credentials(url) == ("http://127.0.0.1:6800", "crawler", "Zq9@x")
    assert redact.split_credentials("http://127.0.0.1:6800/a@b") == (
        "http://127.0.0.1:6800/a@b",
        None,
        None,
    )


@pytest.mark.parametrize(
    ("location", "password"),
    [
        ("postgresql://u:p/ss@w@127.0.0.1:1/db", "p/ss@w"),
        ("postgresql://u:a@b@127.0.0.1:1/db", "a@b"),
        ("postgresql://u:Pw9secret@127.0.0.1:1/db", "Pw9secret"),
    ],
)
def test_db_url_with_a_nasty_password_at_a_closed_port(
    cli: Cli, tmp_path: Path, location: str, password: str
) -> None:
    result = Cli(Store(tmp_path / "unused.db"), tmp_path, cli.env)(
        "--db", location, "list", timeout=60
    )
    assert_clean_error(result, 1)
    assert password not in result.stdout + result.stderr


def test_db_that_is_a_libpq_dsn_is_refused(cli: Cli, tmp_path: Path) -> None:
    before = {p.name for p in tmp_path.iterdir()}
    dsn = "host=127.0.0.1 port=1 dbname=docs user=app password=Hunter2x"
    for result in (cli("--db", dsn, "list"), _without_db(cli, tmp_path, dsn)):
        assert_clean_error(result, 1)
        assert "postgresql://user@host/db" in result.stderr
        assert "Hunter2x" not in result.stdout + result.stderr
    assert {p.name for p in tmp_path.iterdir()} == before


def _without_db(cli: Cli, tmp_path: Path, dsn: str):
    import subprocess

    from conftest import DOCSCRAWL, Result

    proc = subprocess.run(
        [DOCSCRAWL, "list"], env={**cli.env, "DOCSCRAWL_DB": dsn}, cwd=tmp_path,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.parametrize(
    "url",
    [
        "http://bob:Pw9secret@127.0.0.1:8000/docs/",
        "http://bob:p/Pw9secret@127.0.0.1:8000/docs/",
        "https://bob@127.0.0.1/docs/",
    ],
)
def test_start_url_with_credentials_is_a_usage_error(cli: Cli, store: Store, url: str):
    result = cli("crawl", "--url", url)
    assert_clean_error(result, 2)
    assert "the start URL must not carry credentials" in result.stderr
    assert "Pw9secret" not in result.stdout + result.stderr
    assert not store.path.exists()


def test_scrapyd_url_with_credentials(cli: Cli, store: Store, scrapyd_factory, site: str):
    """Credentials in SCRAPYD_URL log in to Scrapyd and are shown or stored nowhere."""
    scrapyd = scrapyd_factory(auth=("crawler", "Zq9@x"))
    secret = "Zq9"
    node = scrapyd.url.replace("://", "://crawler:Zq9%40x@")
    cli.env["SCRAPYD_URL"] = node
    seen: list[str] = []

    def run(*args: str):
        result = cli(*args)
        seen.append(result.stdout + result.stderr)
        return result

    crawl = run("crawl", "--url", site + "docbook/", "--async", "--max-pages", "3")
    assert crawl.returncode == 0, crawl.stderr
    assert f"({scrapyd.url})" in crawl.stdout
    wait_for(lambda: store.status(1) == "completed", timeout=90)
    assert run("list").returncode == 0
    assert run("list", "--json").returncode == 0
    status = run("status", "--job", "1", "--json")
    assert status.returncode == 0, status.stderr
    details = json.loads(status.stdout)
    assert details["node"] == scrapyd.url
    assert details["log_url"].startswith(scrapyd.url + "/logs/")
    nodes = run("nodes")
    assert nodes.returncode == 0 and "yes" in nodes.stdout, nodes.stdout + nodes.stderr
    assert run("nodes", "--json").returncode == 0
    for output in seen:
        assert secret not in output and "%40" not in output, output
    row = store.job(1)
    assert row["node"] == scrapyd.url
    assert "@" not in row["node"] + row["log_url"]
    assert secret not in json.dumps(row, default=str)
    # A wrong password in the URL: refused, and neither password shown.
    cli.env["SCRAPYD_URL"] = scrapyd.url.replace("://", "://crawler:Wr0ngpw@")
    refused = run("crawl", "--url", site, "--async")
    assert refused.returncode == 1
    assert "refused the credentials" in refused.stderr
    assert "Wr0ngpw" not in refused.stdout + refused.stderr


def test_bad_scrapyd_url_with_credentials_is_not_echoed(cli: Cli) -> None:
    for url in ("http://admin:Pw9secret@[::1", "http://admin:Pw9/secret@127.0.0.1:x/"):
        result = cli("--scrapyd", url, "crawl", "--url", "http://127.0.0.1:9/", "--async")
        assert result.returncode in (1, 2) and "Traceback" not in result.stderr
        assert "Pw9" not in result.stdout + result.stderr


def test_bad_scrapyd_url_with_credentials_in_the_environment_is_not_echoed(cli: Cli) -> None:
    for url in ("http://admin:Pw9secret@[::1", "http://admin:Pw9/secret@127.0.0.1:x/"):
        result = cli("list", env={"SCRAPYD_URL": url})
        assert_clean_error(result, 2)
        assert "SCRAPYD_URL" in result.stderr
        assert "Pw9" not in result.stdout + result.stderr
