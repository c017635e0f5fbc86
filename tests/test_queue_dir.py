"""The throwaway queue directory (JOBDIR) of a crawl: removed when the crawl ends, and, when a
crawl was killed before it could remove it, by the next crawl; never one that is not ours."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from conftest import Cli, Store, clean_env
from support import wait_for

from docscrawl import queue_dir

HOLD = (
    "import sys, time\n"
    "from docscrawl import queue_dir\n"
    "print(queue_dir.make_queue_dir(), flush=True)\n"
    "time.sleep(120)\n"
)


def queue_dirs(parent: Path) -> list[Path]:
    return sorted(parent.glob(queue_dir.PREFIX + "*"))


def hold_one(tmp: Path) -> tuple[subprocess.Popen, Path]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD],
        env={**clean_env(), "TMPDIR": str(tmp)},
        stdout=subprocess.PIPE,
        text=True,
    )
    return proc, Path(proc.stdout.readline().strip())


def test_a_killed_crawls_directory_is_removed_a_live_ones_and_others_are_kept(
    tmp_path: Path,
) -> None:
    killed, killed_dir = hold_one(tmp_path)
    live, live_dir = hold_one(tmp_path)
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
        (killed_dir / "requests.queue").mkdir()  # what Scrapy keeps there
        # Not ours: a folder with our prefix but no lock file, and a link with our prefix to a
        # folder that has one.
        stranger = tmp_path / f"{queue_dir.PREFIX}someone-else"
        stranger.mkdir()
        (stranger / "keep.txt").write_text("mine")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        (elsewhere / queue_dir.LOCK).write_text("")
        (tmp_path / f"{queue_dir.PREFIX}link").symlink_to(elsewhere)

        assert queue_dir.remove_abandoned(str(tmp_path)) == 1
        assert not killed_dir.exists()
        assert live_dir.is_dir()  # its crawl holds the lock
        assert (stranger / "keep.txt").read_text() == "mine"
        assert (elsewhere / queue_dir.LOCK).exists()
    finally:
        live.kill()
        live.wait(timeout=10)
    # Once its process is gone, the live one is abandoned too.
    assert queue_dir.remove_abandoned(str(tmp_path)) == 1
    assert not live_dir.exists()


def test_a_crawl_removes_its_own_and_a_killed_crawls_directory(
    cli: Cli, store: Store, slow_site: tuple[str, Path], site: str, tmp_path: Path
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    cli.env["TMPDIR"] = str(tmp)
    url, _log = slow_site
    proc = cli.start("crawl", "--url", url, "--quiet")
    wait_for(lambda: store.job(1).get("pages", 0) >= 2, timeout=60)
    assert len(queue_dirs(tmp)) == 1
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert len(queue_dirs(tmp)) == 1  # killed: it could not remove its own

    result = cli("crawl", "--url", site + "mkdocs/", "--max-pages", "3", "--quiet")
    assert result.returncode == 0, result.stderr
    assert queue_dirs(tmp) == []  # the killed crawl's, and its own when it ended


def test_the_lock_is_released_when_the_crawl_removes_its_directory(
    tmp_path: Path, monkeypatch
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where mkdtemp makes them
    path = queue_dir.make_queue_dir()
    assert Path(path).parent == tmp_path and path in queue_dir._held
    assert queue_dir.remove_abandoned(str(tmp_path)) == 0  # held: never swept
    queue_dir.remove_queue_dir(path)
    assert not Path(path).exists() and path not in queue_dir._held


def test_a_directory_another_crawls_sweep_removed_first_is_skipped(
    tmp_path: Path, monkeypatch
) -> None:
    """Crawls starting together sweep the same abandoned directory: the one that comes second
    finds it gone, and starts anyway."""
    import shutil

    abandoned = tmp_path / f"{queue_dir.PREFIX}dead"
    abandoned.mkdir()
    (abandoned / queue_dir.LOCK).write_text("")
    islink = os.path.islink

    def removed_meanwhile(path: str) -> bool:
        shutil.rmtree(path, ignore_errors=True)  # the other crawl's sweep, just before ours
        return islink(path)

    monkeypatch.setattr(queue_dir.os.path, "islink", removed_meanwhile)
    assert queue_dir.remove_abandoned(str(tmp_path)) == 0
    assert not abandoned.exists()
