"""Never destroy what is not ours: export targets and store locations that are not our files."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from conftest import Cli, Store
from test_cli_errors import assert_clean_error

from docscrawl import models

URL = "http://127.0.0.1:8000/docs/guide.html"


@pytest.fixture
def exportable(store: Store) -> Store:
    """A store with one client (acme) and one page, written in-process, then closed."""
    db = models.open_store(str(store.path))
    client = models.Client.create(name="Acme", slug="acme")
    job = models.Job.create(client=client, url=URL, status=models.COMPLETED)
    models.Page.create(
        client=client, job=job, url=URL, requested_url=URL, final_url=URL, status_code=200,
        title="Guide", markdown="# Guide\n", content_hash="h1",
    )  # fmt: skip
    db.close()
    return store


def export(cli: Cli, fmt: str, out: Path | str):
    return cli("export", "--client-slug", "acme", "--format", fmt, "--out", str(out))


def _char_device(path: Path) -> None:
    """A private null device (same major/minor as /dev/null), so a bug cannot touch /dev."""
    null = os.stat("/dev/null").st_rdev
    os.mknod(path, 0o666 | stat.S_IFCHR, null)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_to_a_fifo_streams_into_it(cli: Cli, exportable: Store, tmp_path: Path, fmt):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as stream:
            received.append(stream.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    result = export(cli, fmt, fifo)
    reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert URL.encode() in received[0]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pipe")] == []


@needs_root
def test_export_to_a_character_device_writes_to_it(cli: Cli, exportable: Store, tmp_path: Path):
    device = tmp_path / "null"
    _char_device(device)
    result = export(cli, "jsonl", device)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(os.lstat(device).st_mode), "the device became a regular file"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".null")] == []


def test_export_to_dev_null(cli: Cli, exportable: Store) -> None:
    before = os.stat("/dev/null")
    result = export(cli, "csv", "/dev/null")
    assert result.returncode == 0, result.stderr
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_through_a_symlink_keeps_the_link(cli: Cli, exportable: Store, tmp_path, fmt):
    real = tmp_path / "real" / "pages.out"
    real.parent.mkdir()
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "link.out"
    link.symlink_to(real)
    result = export(cli, fmt, link)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert URL in real.read_text()
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(p.name for p in real.parent.iterdir()) == ["pages.out"]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_to_a_directory_is_refused(cli: Cli, exportable: Store, tmp_path: Path, fmt):
    target = tmp_path / "somedir"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    assert_clean_error(export(cli, fmt, target), 1)
    assert (target / "keep.txt").read_text() == "mine"


@needs_root
def test_export_to_a_block_device_or_socket_is_refused(cli: Cli, exportable: Store, tmp_path):
    import socket

    sock_path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    try:
        result = export(cli, "jsonl", sock_path)
        assert_clean_error(result, 1)
        assert "not a regular file" in result.stderr
        assert stat.S_ISSOCK(os.lstat(sock_path).st_mode)
    finally:
        server.close()


def test_markdown_over_an_unrelated_directory_keeps_its_files(
    cli: Cli, exportable: Store, tmp_path: Path
) -> None:
    out = tmp_path / "notes"
    (out / "127.0.0.1_8000" / "docs").mkdir(parents=True)
    (out / "README.txt").write_text("not ours")
    (out / "127.0.0.1_8000" / "docs" / "other.md").write_text("not ours either")
    result = export(cli, "markdown", out)
    assert result.returncode == 0, result.stderr
    assert (out / "README.txt").read_text() == "not ours"
    assert (out / "127.0.0.1_8000" / "docs" / "other.md").read_text() == "not ours either"
    assert "# Guide" in (out / "127.0.0.1_8000" / "docs" / "guide.md").read_text()


def test_markdown_refuses_a_symlinked_page_file(cli: Cli, exportable: Store, tmp_path: Path):
    outside = tmp_path / "outside.md"
    outside.write_text("precious")
    out = tmp_path / "md"
    (out / "127.0.0.1_8000" / "docs").mkdir(parents=True)
    page = out / "127.0.0.1_8000" / "docs" / "guide.md"
    page.symlink_to(outside)
    result = export(cli, "markdown", out)
    assert_clean_error(result, 1)
    assert "symbolic link" in result.stderr
    assert page.is_symlink() and outside.read_text() == "precious"


@needs_root
def test_markdown_refuses_a_device_in_the_tree(cli: Cli, exportable: Store, tmp_path: Path):
    out = tmp_path / "md"
    (out / "127.0.0.1_8000" / "docs").mkdir(parents=True)
    page = out / "127.0.0.1_8000" / "docs" / "guide.md"
    _char_device(page)
    result = export(cli, "markdown", out)
    assert_clean_error(result, 1)
    assert stat.S_ISCHR(os.lstat(page).st_mode)


@needs_root
def test_markdown_refuses_a_device_as_the_directory(cli: Cli, exportable: Store, tmp_path):
    device = tmp_path / "null"
    _char_device(device)
    assert_clean_error(export(cli, "markdown", device), 1)
    assert stat.S_ISCHR(os.lstat(device).st_mode)


# --- the store location ---------------------------------------------------------------------


def _no_siblings(path: Path, before: set[str]) -> None:
    after = {p.name for p in path.parent.iterdir()}
    assert after == before, after - before


@needs_root
def test_db_on_a_character_device_is_refused(cli: Cli, tmp_path: Path) -> None:
    device = tmp_path / "null"
    _char_device(device)
    before = {p.name for p in tmp_path.iterdir()}
    result = Cli(Store(device), tmp_path, cli.env)("list")
    assert_clean_error(result, 1)
    assert "not a regular file" in result.stderr
    assert "rollback" not in result.stderr
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    _no_siblings(device, before)


def test_db_on_a_fifo_or_a_directory_is_refused(cli: Cli, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    directory = tmp_path / "dir"
    directory.mkdir()
    before = {p.name for p in tmp_path.iterdir()}
    for location in (fifo, directory):
        result = Cli(Store(location), tmp_path, cli.env)("list", timeout=30)
        assert_clean_error(result, 1)
        assert "not a regular file" in result.stderr or "directory" in result.stderr
    assert list(directory.iterdir()) == []
    _no_siblings(fifo, before)


def test_db_dev_null_is_refused_and_left_alone(cli: Cli, tmp_path: Path) -> None:
    existed = {
        name for name in ("null-journal", "null-wal", "null-shm") if Path("/dev", name).exists()
    }
    result = Cli(Store(Path("/dev/null")), tmp_path, cli.env)("list")
    assert_clean_error(result, 1)
    assert "/dev/null is not a regular file" in result.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    for name in ("null-journal", "null-wal", "null-shm"):
        assert name in existed or not Path("/dev", name).exists()
