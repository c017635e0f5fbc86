"""The throwaway JOBDIR that keeps a crawl's scheduler queue on disk, and its clean-up.

A crawl removes its queue directory when its engine stops. A crawl that never gets there (killed
with SIGKILL, out of memory, a crash, a settings error before the engine starts) would leave it
in the temp directory for good: one per such crawl, on a node that runs crawls for a year. So
each crawl holds an exclusive lock on a file in its directory while it runs, and each new crawl
first removes the directories whose lock nobody holds: their crawl is gone. Only directories
with that lock file, made by this module, are ever removed.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile

logger = logging.getLogger(__name__)

PREFIX = "docscrawl-queue-"
LOCK = "docscrawl-queue.lock"
MAKING = ".docscrawl-queue-new-"

# The lock of this process's queue directory: open (so held) until the process ends.
_held: dict[str, int] = {}


def make_queue_dir() -> str:
    """A new queue directory for this crawl, locked; abandoned ones are removed first."""
    remove_abandoned()
    # Made and locked under a name a sweep does not look at, then renamed into place: no sweep
    # ever sees it unlocked (it would remove it, or hold the lock as this crawl takes it).
    making = tempfile.mkdtemp(prefix=MAKING)
    fd = os.open(os.path.join(making, LOCK), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    path = os.path.join(os.path.dirname(making), PREFIX + os.path.basename(making)[len(MAKING) :])
    os.rename(making, path)
    _held[path] = fd
    return path


def remove_queue_dir(path: str) -> None:
    """This crawl's queue directory, removed as its engine stops."""
    shutil.rmtree(path, ignore_errors=True)
    fd = _held.pop(path, None)
    if fd is not None:
        os.close(fd)


def remove_abandoned(parent: str | None = None) -> int:
    """Remove the queue directories in parent (the temp directory) whose crawl is gone: their
    lock file is there and no process holds it. Returns how many were removed."""
    parent = parent or tempfile.gettempdir()
    removed = 0
    try:
        names = [name for name in os.listdir(parent) if name.startswith(PREFIX)]
    except OSError:
        return 0
    for name in names:
        path = os.path.join(parent, name)
        if path in _held:
            continue
        try:
            # O_NOFOLLOW: a link planted with our prefix is not followed into someone's files.
            fd = os.open(os.path.join(path, LOCK), os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue  # no lock file: not ours (or not ours to judge)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # its crawl is running
        finally:
            os.close(fd)
        try:
            if os.path.islink(path) or os.stat(path).st_uid != os.getuid():
                continue
        except OSError:
            continue  # another crawl's sweep removed it first
        shutil.rmtree(path, ignore_errors=True)
        removed += 1
    if removed:
        logger.info("Removed %d queue directories left by crawls that did not end", removed)
    return removed
