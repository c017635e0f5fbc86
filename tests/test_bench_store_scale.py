"""bench/store_scale.py on a tiny generated store: every command runs as a whole process on
SQLite and on PostgreSQL, and the table names each with its target."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["postgres"]

COMMANDS = [
    "list", "list --json", "status --job N", "diff --client-slug big", "dedupe",
    "export jsonl", "export markdown", "files: the disk's own rate", "dedupe --near",
]  # fmt: skip


def test_store_scale_times_the_commands_on_sqlite_and_postgres(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench import store_scale

    argv = ["--pages", "300", "--big-pages", "120", "--jobs", "12", "--clients", "3",
            "--runs", "1", "--keep", str(tmp_path / "store.db"), "--postgres", postgres_url,
            "--only", ",".join(COMMANDS)]  # fmt: skip
    assert store_scale.main(argv) == 0
    out = capsys.readouterr().out
    assert "3 clients, 12 jobs, 300 pages (120 of client `big`)" in out
    rows = {match[1]: match[2] for match in re.finditer(r"^\| `([^`]+)` \| (.*) \|$", out, re.M)}
    assert set(rows) == {"python -c pass", *COMMANDS}
    seconds = r"\d+\.\d{3} s, \d+ MiB"
    for name in ("list", "status --job N", "export jsonl", "dedupe --near"):
        after, after_pg, target = rows[name].split(" | ")
        assert re.fullmatch(seconds + "(, [\\d,]+ pages/s)?", after), (name, after)
        assert re.fullmatch(seconds + "(, [\\d,]+ pages/s)?", after_pg), (name, after_pg)
        assert target == store_scale.TARGETS[name]
    assert rows["export markdown"].endswith("pages/s | ≥ 10,000 pages/s")
    assert rows["dedupe"].split(" | ")[1] == "-"  # a store-changing command: SQLite copies only
