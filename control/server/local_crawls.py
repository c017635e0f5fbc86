"""Crawl processes the server starts for jobs in mode "local", watches, and reaps.

Each is ``python -m control.local_crawl`` in its own session (a Ctrl+C of the server does not
reach it), writing to the job's log file. The crawl records its own start, progress and end; a
watcher thread waits for the process and records an end the crawl could not (it crashed before
the spider closed). Crawls outlive the server that started them: they end on their own, and the
next server or `docscrawl reconcile` sees the end of one that dies meanwhile.
"""

from __future__ import annotations

import functools
import logging
import os
import subprocess
import sys
import threading

import psutil

from control import processes
from docscrawl import job_state, models
from docscrawl.runner import foreground_log_path

logger = logging.getLogger(__name__)


class LocalCrawls:
    """The local crawl processes of one server."""

    def __init__(self, location: str):
        self.location = location
        self._running: dict[int, subprocess.Popen] = {}
        self._lock = threading.Lock()

    def start(self, job_id: int, *, resume: bool = False) -> int:
        """Start the crawl process of a pending job; its pid."""
        log_file = foreground_log_path(self.location, job_id)
        os.makedirs(os.path.dirname(log_file), exist_ok=True)
        command = [sys.executable, "-m", "control.local_crawl", "--db", self.location,
                   "--job", str(job_id)] + (["--resume"] if resume else [])  # fmt: skip
        with open(log_file, "ab") as log:
            # What Python prints before Scrapy's logging takes over goes to the job's log too.
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=os.getcwd(),
            )
        started_at = psutil.Process(process.pid).create_time()
        job_state.assign(
            job_id,
            log_url=log_file,
            process={
                "pid": process.pid,
                "process_started_at": started_at,
                "node": processes.this_host(),
            },
        )
        with self._lock:
            self._running[job_id] = process
        threading.Thread(
            target=self._reap, args=(job_id, process), name=f"reap-job-{job_id}", daemon=True
        ).start()
        return process.pid

    def running(self) -> dict[int, int]:
        """Job id -> pid of the crawl processes this server started that still run."""
        with self._lock:
            return {job_id: p.pid for job_id, p in self._running.items() if p.poll() is None}

    def _reap(self, job_id: int, process: subprocess.Popen) -> None:
        code = process.wait()
        with self._lock:
            if self._running.get(job_id) is process:
                del self._running[job_id]
        try:
            job = models.Job.get_or_none(models.Job.id == job_id)
            if job is None or job.status not in models.ACTIVE_STATUSES:
                return
            if job.pid != process.pid:
                return  # resumed meanwhile: the job belongs to a newer process now
            how = f"with code {code}" if code >= 0 else f"on signal {-code}"
            job_state.finish(
                job_id,
                functools.partial(
                    job_state.stop_outcome,
                    failed=f"its crawl process exited {how} before recording its end",
                    cancelled="shutdown",
                ),
            )
        except Exception:  # a reaper must not die silently (reconcile would still find it)
            logger.exception("Job %s: could not record the end of its crawl process", job_id)
