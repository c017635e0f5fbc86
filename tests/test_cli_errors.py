"""Bad input: one sentence on stderr, exit 1 or 2, no traceback, the store untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Cli, Store


def assert_clean_error(result, code: int) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.strip(), "an error must say what went wrong"
    message = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(message) == 1, result.stderr


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/docs/", "/docs/index.html", "127.0.0.1:8000/docs", "http://", "docs"]
)
def test_url_that_is_not_absolute_http_is_a_usage_error(cli: Cli, store: Store, url: str):
    result = cli("crawl", "--url", url)
    assert_clean_error(result, 2)
    assert "http" in result.stderr
    assert not store.path.exists()  # refused before anything was recorded


def test_unknown_job(cli: Cli, store: Store, site: str) -> None:
    for command in (["status", "--job", "42"], ["cancel", "--job", "42"]):
        result = cli(*command)
        assert_clean_error(result, 1)
        assert "There is no job 42" in result.stderr


@pytest.mark.parametrize("job", ["abc", "1.5", "-3", "0"])
def test_job_id_must_be_a_positive_integer(cli: Cli, job: str) -> None:
    assert_clean_error(cli("status", "--job", job), 2)
    assert_clean_error(cli("cancel", f"--job={job}"), 2)


def test_both_job_option_forms_work(cli: Cli, site: str) -> None:
    assert cli("crawl", "--url", site + "sphinx/", "--max-pages", "2", "--quiet").returncode == 0
    assert cli("status", "--job=1").returncode == 0
    assert cli("status", "--job", "1").returncode == 0


def test_db_that_is_not_a_database(cli: Cli, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n" * 50)
    before = notes.read_bytes()
    result = Cli(Store(notes), tmp_path, cli.env)("list")
    assert_clean_error(result, 1)
    assert "not a docscrawl store" in result.stderr
    assert notes.read_bytes() == before


def test_db_in_a_missing_directory(cli: Cli, tmp_path: Path) -> None:
    result = Cli(Store(tmp_path / "missing" / "s.db"), tmp_path, cli.env)("list")
    assert_clean_error(result, 1)
    assert "does not exist" in result.stderr
    assert not (tmp_path / "missing").exists()


def test_db_from_the_environment(cli: Cli, tmp_path: Path, site: str) -> None:
    import subprocess

    from conftest import DOCSCRAWL

    env = {**cli.env, "DOCSCRAWL_DB": str(tmp_path / "env.db")}
    proc = subprocess.run(
        [DOCSCRAWL, "list", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "[]"
    assert (tmp_path / "env.db").exists()


def test_cancel_of_a_finished_job_needs_force(cli: Cli, store: Store, site: str) -> None:
    assert cli("crawl", "--url", site + "sphinx/", "--max-pages", "3", "--quiet").returncode == 0
    result = cli("cancel", "--job", "1")
    assert_clean_error(result, 1)
    assert "Job 1 is already completed" in result.stderr
    assert store.status(1) == "completed"


def test_cancel_needs_a_job_or_all(cli: Cli) -> None:
    assert_clean_error(cli("cancel"), 2)
    assert_clean_error(cli("cancel", "--job", "1", "--all"), 2)


@pytest.mark.parametrize("setting", ["NOEQUALS", "=value"])
def test_malformed_setting_is_a_usage_error(cli: Cli, store: Store, setting: str) -> None:
    assert_clean_error(cli("crawl", "--url", "http://127.0.0.1:9/", "-s", setting), 2)


def test_unknown_status_filter_is_a_usage_error(cli: Cli) -> None:
    assert_clean_error(cli("list", "--status", "exploded"), 2)


def test_dedupe_of_an_unknown_client(cli: Cli) -> None:
    result = cli("dedupe", "--client-slug", "nobody")
    assert_clean_error(result, 1)
    assert "no client 'nobody'" in result.stderr


def test_read_only_store(tmp_path: Path, site: str) -> None:
    """As another user (root writes read-only files anyway): a clean refusal, nothing lost."""
    import os
    import shutil
    import subprocess
    import tempfile

    from conftest import DOCSCRAWL, clean_env

    setpriv = shutil.which("setpriv")
    if os.geteuid() == 0 and not setpriv:
        pytest.skip("needs setpriv to drop root privileges")
    shared = Path(tempfile.mkdtemp(prefix="docscrawl-ro-"))
    try:
        shared.chmod(0o777)
        db = shared / "s.db"
        made = Cli(Store(db), tmp_path, clean_env())
        assert (
            made("crawl", "--url", site + "sphinx/", "--max-pages", "2", "--quiet").returncode == 0
        )
        db.chmod(0o444)
        before = db.read_bytes()
        prefix = (
            [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
            if os.geteuid() == 0
            else []
        )
        proc = subprocess.run(
            [*prefix, DOCSCRAWL, "--db", str(db), "crawl", "--url", site, "--quiet"],
            env=clean_env(), cwd=shared, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 1
        assert (
            proc.stderr.strip()
            == f"Error: The store {db} is read-only; docscrawl needs to write to it."
        )
        assert db.read_bytes() == before
    finally:
        shutil.rmtree(shared, ignore_errors=True)


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("CONCURRENT_REQUESTS=abc", "takes a whole number"),
        ("ROBOTSTXT_OBEY=maybe", "true or false"),
        ("EXTENSIONS=[1]", "Scrapy cannot read it"),
        # -s replaces the whole dict, as with `scrapy crawl -s`: docscrawl's own must stay.
        (
            'EXTENSIONS={"scrapy.extensions.telnet.TelnetConsole": null}',
            "leaves out docscrawl.extensions.JobLifecycle",
        ),
        ("ITEM_PIPELINES={}", "leaves out docscrawl.pipelines.PageStorePipeline"),
    ],
)
def test_setting_of_the_wrong_type_is_a_usage_error(cli: Cli, store: Store, setting, says):
    result = cli("crawl", "--url", "http://127.0.0.1:9/", "-s", setting)
    assert_clean_error(result, 2)
    assert says in result.stderr
    assert not store.path.exists()


def test_setting_scrapy_rejects_later_fails_the_job_cleanly(cli: Cli, store: Store) -> None:
    result = cli("crawl", "--url", "http://127.0.0.1:9/", "-s", "LOG_LEVEL=LOUD")
    assert_clean_error(result, 1)
    assert store.status(1) == "failed"
    assert "could not run: Unknown level" in store.job(1)["finish_reason"]


@pytest.mark.parametrize(
    "args",
    [
        ["status", "--job", "99999999999999999999999"],
        ["crawl", "--url", "http://[::1"],
        ["crawl", "--url", "http://127.0.0.1:99999/"],
        ["crawl", "--url", "http://127.0.0.1:9/", "-s", "CONCURRENT_REQUESTS=1.5"],
        ["crawl", "--url", "http://127.0.0.1:9/", "-s", "DOCSCRAWL_DB=/tmp/elsewhere.db"],
    ],
)
def test_more_usage_errors(cli: Cli, store: Store, args: list[str]) -> None:
    assert_clean_error(cli(*args), 2)
    assert not store.path.exists()


@pytest.mark.parametrize(
    ("global_args", "says"),
    [
        (["--db", "foo://bar"], "neither a file path nor a database URL"),
        (["--scrapyd", "http://[::1"], "is not a Scrapyd URL"),
    ],
)
def test_bad_global_options(cli: Cli, tmp_path: Path, global_args: list[str], says: str):
    import subprocess

    from conftest import DOCSCRAWL

    proc = subprocess.run(
        [DOCSCRAWL, *global_args, "crawl", "--url", "http://127.0.0.1:9/", "--async"],
        env=cli.env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert says in proc.stderr


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("DELETE FROM store_meta", "it records no schema version"),
        ("UPDATE store_meta SET value = 'abc'", "its schema version 'abc' is not a number"),
    ],
)
def test_damaged_schema_version(cli: Cli, store: Store, sql: str, says: str) -> None:
    assert cli("list").returncode == 0
    store.rows(sql)
    before = store.rows("SELECT * FROM store_meta")
    for command in (["list"], ["crawl", "--url", "http://127.0.0.1:9/", "--quiet"]):
        result = cli(*command)
        assert_clean_error(result, 1)
        assert result.stderr.startswith(f"Error: The store {store.path} cannot be used: {says}")
    assert store.rows("SELECT * FROM store_meta") == before
    assert store.value("SELECT COUNT(*) FROM job") == 0


def test_store_url_of_an_engine_docscrawl_does_not_support(cli: Cli, tmp_path: Path) -> None:
    import subprocess

    from conftest import DOCSCRAWL

    proc = subprocess.run(
        [DOCSCRAWL, "--db", "mysql://u:pw@127.0.0.1:1/x", "list"],
        env=cli.env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert_clean_error(proc, 1)
    assert proc.stderr == (
        "Error: The store mysql://u:***@127.0.0.1:1/x cannot be used: MySQL driver not "
        "installed, and docscrawl supports only SQLite (a file path or sqlite:///PATH) and "
        "PostgreSQL (postgresql://).\n"
    )


def test_store_made_read_only_during_a_crawl(slow_site) -> None:
    """The crawl keeps the connection it opened and stores every page; what the CLI does after
    it only reads, so its exit code is the job's recorded outcome (completed: 0)."""
    import os
    import shutil
    import subprocess
    import tempfile

    from conftest import DOCSCRAWL, clean_env, wait_for

    url, _ = slow_site
    setpriv = shutil.which("setpriv")
    if os.geteuid() == 0 and not setpriv:
        pytest.skip("needs setpriv to drop root privileges (root writes read-only files)")
    prefix = (
        [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    )
    shared = Path(tempfile.mkdtemp(prefix="docscrawl-ro-"))
    try:
        shared.chmod(0o777)
        store = Store(shared / "s.db")
        proc = subprocess.Popen(
            [*prefix, DOCSCRAWL, "--db", str(store.path), "crawl", "--url", url, "--quiet",
             "--max-pages", "30"],
            env=clean_env(), cwd=shared, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            wait_for(lambda: (store.job(1).get("pages") or 0) >= 1, timeout=60)
            # The crawl's connections stay writable; one opened now is read-only (the WAL's
            # -shm too: then even the BEGIN IMMEDIATE of a write transaction fails).
            for path in shared.glob("s.db*"):
                path.chmod(0o444)
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        job = store.job(1)
        assert job["status"] == "completed", (job, err)
        assert job["pages"] == 30 == store.value("SELECT COUNT(*) FROM page WHERE job_id = 1")
        assert proc.returncode == 0, err
        assert "Traceback" not in err
        assert out.splitlines()[-1].startswith("Job 1 completed: 30 pages")
    finally:
        shutil.rmtree(shared, ignore_errors=True)
