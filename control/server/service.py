"""What the API and the dashboard do: the CLI's commands as typed calls over the job service.

Every call runs in a worker thread (FastAPI runs plain ``def`` endpoints in its thread pool),
with its own CommandSession: a request's Scrapyd answers are fetched at most once, as a
command's are. Errors are control.exceptions' sentences; the app maps them to status codes.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from control import changes, config, jobs, ledger, nodes, scheduling, validation
from control.exceptions import (
    DocscrawlError,
    InvalidRequest,
    ScrapydUnavailable,
    UnknownJob,
)
from control.export import page_record, pages_where
from control.scrapyd import request_timeout
from control.server.local_crawls import LocalCrawls
from control.session import CommandSession
from docscrawl import models
from docscrawl.models import Job, Page

MODES = ("scrapyd", "local")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# A log tail reads at most this much of the end of the file (or of Scrapyd's log).
LOG_TAIL_BYTES = 256 * 1024


@dataclass(frozen=True)
class CrawlRequest:
    """A crawl to start, checked as `docscrawl crawl` checks its options."""

    url: str
    client: str | None = None
    max_pages: int | None = None
    max_depth: int | None = None
    settings: dict[str, str] = field(default_factory=dict)
    mode: str | None = None  # None: Scrapyd when a node is reachable, else a local crawl

    def checked(self) -> CrawlRequest:
        url = validation.validate_url(self.url)
        validation.validate_limits(self.max_pages, self.max_depth)
        if self.mode is not None and self.mode not in MODES:
            raise InvalidRequest(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}.")
        settings = {}
        for key, value in (self.settings or {}).items():
            if not isinstance(value, str | int | float | bool) or not str(key).strip():
                raise InvalidRequest(f"The setting {key!r} must be a name with a plain value.")
            settings[str(key).strip()] = (
                str(value).lower() if isinstance(value, bool) else str(value)
            )
        validation.validate_settings(settings)
        client = (self.client or "").strip() or urlsplit(url).hostname or "default"
        validation.validate_client_name(client)
        return CrawlRequest(url, client, self.max_pages, self.max_depth, settings, self.mode)


class JobService:
    """The server's job operations, over one store and the configured Scrapyd nodes."""

    def __init__(self, location: str, scrapyd_url: str | None, local: LocalCrawls):
        self.location = location
        self.scrapyd_url = scrapyd_url
        self.local = local

    def session(self) -> CommandSession:
        """A fresh session: one request's view of Scrapyd."""
        return CommandSession(db=self.location, scrapyd_url=self.scrapyd_url)

    # --- reading ---------------------------------------------------------------------------------

    def list_jobs(
        self,
        status: str | None = None,
        client: str | None = None,
        limit: int = DEFAULT_LIMIT,
        before: int | None = None,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """A page of `list --json` objects, newest first, and the `before` of the next page."""
        if status is not None and status not in models.STATUSES:
            raise InvalidRequest(
                f"status must be one of {', '.join(models.STATUSES)}, not {status!r}."
            )
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}.")
        if before is not None and before < 1:
            raise InvalidRequest("before must be a job id (a whole number of at least 1).")
        found = jobs.list_jobs(status, client, limit=limit + 1, before=before)
        more = len(found) > limit
        found = found[:limit]
        return [jobs.job_summary(job) for job in found], (found[-1].id if more else None)

    def job(self, job_id: int, *, scrapyd: bool = True) -> dict[str, Any]:
        """The `status --json` object (with Scrapyd's view of it, unless told not to ask)."""
        job = jobs.get_job(job_id)
        details = jobs.job_details(job)
        return self.session().merge_scrapyd(job, details) if scrapyd else details

    def samples(self, job_id: int) -> list[dict[str, Any]]:
        """The job's progress over time: [{at, pages, errors, queued}], oldest first."""
        jobs.get_job(job_id)
        Sample = models.JobSample
        query = (
            Sample.select(Sample.at, Sample.pages, Sample.errors, Sample.queued)
            .where(Sample.job == job_id)
            .order_by(Sample.at)
            .dicts()
        )
        return [{**row, "at": jobs.iso(row["at"])} for row in query]

    def errors(self, job_id: int, kind: str | None = None, limit: int = MAX_LIMIT) -> list[dict]:
        """The job's ledger: the URLs it did not store and why (`skipped --json`)."""
        if kind is not None and kind not in models.KINDS:
            raise InvalidRequest(f"kind must be one of {', '.join(models.KINDS)}, not {kind!r}.")
        return [entry.as_dict() for entry in ledger.unstored_urls(job_id, kind, None, limit)]

    def log_tail(self, job_id: int, lines: int = 100) -> list[str]:
        """The last lines of the job's Scrapy log: its file, or Scrapyd's log of it."""
        if not 1 <= lines <= 10_000:
            raise InvalidRequest("tail must be a whole number from 1 to 10000.")
        job = jobs.get_job(job_id)
        where = job.log_url
        if job.mode == "scrapyd" and job.scrapyd_job_id and job.node:
            where = where or self.session().target_for(job.node).url
        if not where:
            return []
        if where.startswith(("http://", "https://")):
            text = self._remote_log(job, where)
        else:
            text = _file_tail(where)
        return list(deque(text.splitlines(), maxlen=lines))

    def _remote_log(self, job: Job, url: str) -> str:
        target = self.session().target_for(job.node or url)
        tail = bytearray()
        try:
            # Read to the end, keeping the last part: Scrapyd (twisted's static files) answers
            # a suffix range longer than the file with an error, so no Range header.
            with requests.get(url, auth=target.auth, timeout=request_timeout(), stream=True) as r:
                if r.status_code == 404:
                    return ""  # not written yet, or rotated away by Scrapyd (jobs_to_keep)
                if r.status_code >= 400:
                    raise ScrapydUnavailable(
                        f"Scrapyd at {target.url} answered HTTP {r.status_code} for the log of "
                        f"job {job.id}."
                    )
                for chunk in r.iter_content(64 * 1024):
                    tail += chunk
                    del tail[:-LOG_TAIL_BYTES]
        except requests.RequestException as exc:
            raise ScrapydUnavailable(
                f"The log of job {job.id} on {target.url} cannot be read ({type(exc).__name__})."
            ) from exc
        return bytes(tail).decode("utf-8", "replace")

    def pages(
        self,
        *,
        job_id: int | None = None,
        client: str | None = None,
        limit: int = DEFAULT_LIMIT,
        after: int | None = None,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """A page of a job's (or a client's) pages by id, and the `after` of the next page."""
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}.")
        where, _ = pages_where(client_slug=client, job_id=job_id)
        query = Page.select(
            Page.id, Page.url, Page.title, Page.status_code, Page.word_count, Page.fetched_at,
            Page.job, Page.extraction_audit,
        ).where(where)  # fmt: skip
        if after is not None:
            query = query.where(Page.id > after)
        rows = list(query.order_by(Page.id).limit(limit + 1).dicts())
        more = len(rows) > limit
        rows = rows[:limit]
        found = [
            {
                "id": row["id"],
                "url": row["url"],
                "title": row["title"],
                "status_code": row["status_code"],
                "word_count": row["word_count"],
                "fetched_at": jobs.iso(row["fetched_at"]),
                "job_id": row["job"],
                "text_share": (row["extraction_audit"] or {}).get("text_share"),
            }
            for row in rows
        ]
        return found, (rows[-1]["id"] if more else None)

    def page(self, page_id: int) -> dict[str, Any]:
        """One page: every field the export writes, Markdown included."""
        row = Page.select().where(Page.id == page_id).dicts().first()
        if row is None:
            raise UnknownJob(f"There is no page {page_id}.")
        client = models.Client.get_by_id(row["client"])
        return {"id": page_id, **page_record(row, client.slug)}

    def diff(self, old: int | None, new: int | None, client: str | None) -> dict[str, Any]:
        """`diff --json`: two jobs, or a client's last two completed crawls."""
        if client and (old or new):
            raise InvalidRequest("Give old and new job ids, or a client, not both.")
        if client:
            old, new = changes.last_two_completed(client)
        elif not (old and new):
            raise InvalidRequest("Give the old and new job ids (old=&new=), or a client.")
        return changes.diff_jobs(old, new).as_dict()

    def nodes(self) -> list[dict[str, Any]]:
        """`nodes --json`: each configured Scrapyd node, reachable or not, and its load."""
        return [nodes.node_status(node).as_dict() for node in self.session().nodes()]

    def clients(self) -> list[str]:
        """Every client's slug, in order (the dashboard's filters)."""
        query = models.Client.select(models.Client.slug).order_by(models.Client.slug)
        return [slug for (slug,) in query.tuples()]

    # --- acting ----------------------------------------------------------------------------------

    def create(self, request: CrawlRequest) -> dict[str, Any]:
        """Start a crawl on Scrapyd or as a local process; the new job's `status` object."""
        request = request.checked()
        session = self.session()
        mode = request.mode or self._default_mode(session)
        if mode == "scrapyd":
            target = nodes.pick_node(session.nodes())
            job, _ = scheduling.schedule_crawl(
                target,
                self.location,
                url=request.url,
                client_name=request.client or "default",
                max_pages=request.max_pages,
                max_depth=request.max_depth,
                settings=request.settings,
            )
        else:
            job = jobs.create_job(
                request.url,
                request.client or "default",
                mode="local",
                max_pages=request.max_pages,
                max_depth=request.max_depth,
                settings=request.settings,
            )
            self._start_local(job.id, resume=False)
        return jobs.job_details(jobs.get_job(job.id))

    def _default_mode(self, session: CommandSession) -> str:
        """Scrapyd when a configured node is reachable with the project deployed, else local."""
        for node in session.nodes():
            status = nodes.node_status(node)
            if status.reachable and status.deployed:
                return "scrapyd"
        return "local"

    def _start_local(self, job_id: int, *, resume: bool) -> None:
        try:
            self.local.start(job_id, resume=resume)
        except OSError as exc:
            jobs.mark_cancelled(job_id, "never started")  # not left pending forever
            raise DocscrawlError(
                f"The crawl process of job {job_id} could not be started ({exc.strerror})."
            ) from exc

    def cancel(self, job_id: int, *, force: bool = False, wait: float = 30.0) -> dict[str, Any]:
        """`cancel --job N [--force]`: the result sentence and the job as it is now."""
        session = self.session()
        result = jobs.cancel_job(
            job_id,
            force=force,
            wait=wait,
            probes=[session.alive_on_scrapyd],
            stop_remote=session.stop_on_scrapyd,
        )
        return {"message": result.message, "job": jobs.job_details(jobs.get_job(job_id))}

    def cancel_all(self, *, force: bool = False, wait: float = 30.0) -> list[dict[str, Any]]:
        """`cancel --all [--force]`: one result per active job."""
        session = self.session()
        results = jobs.cancel_all(
            force=force,
            wait=wait,
            probes=[session.alive_on_scrapyd],
            stop_remote=session.stop_on_scrapyd,
        )
        return [
            {"job_id": r.job_id, "status": r.status, "message": r.message, "failed": r.failed}
            for r in results
        ]

    def resume(self, job_id: int) -> dict[str, Any]:
        """`resume`: on Scrapyd again for a Scrapyd job, else as a local crawl process."""
        session = self.session()
        previous = jobs.get_job(job_id)
        if previous.mode == "scrapyd":
            target = (
                session.target_for(previous.node)
                if previous.node
                else nodes.pick_node(session.nodes())
            )
            job = jobs.begin_resume(job_id, mode="scrapyd", probes=session.probes())
            scheduling.schedule_resume(target, self.location, job)
        else:
            job = jobs.begin_resume(job_id, mode="local", probes=session.probes())
            self._start_local(job.id, resume=True)
        return jobs.job_details(jobs.get_job(job_id))

    def reconcile(self) -> list[jobs.Reconciled]:
        """Finish the jobs whose process is gone (the server does it every few seconds)."""
        return self.session().reconcile()

    def versions_seen(self, job_id: int, urls: list[str]) -> dict[str, tuple[int, str | None]]:
        """url -> (page id, the text hash this job saw it with), for those of urls it saw
        (the dashboard links a changed URL to its page's diff between two jobs' versions)."""
        from control.history import versions_seen

        return versions_seen(job_id, urls)

    def schedule_run_of(self, job_id: int) -> dict[str, Any] | None:
        """The schedule run that started this job (`run_as_dict`), or None for other crawls."""
        from control import schedules

        run = models.ScheduleRun.select().where(models.ScheduleRun.job == job_id).first()
        return None if run is None else schedules.run_as_dict(run)


def progress_of(job: Job) -> dict[str, Any]:
    """A job's live counters (the SSE `progress` event): pages, rate, errors, queued, ETA.

    From the job's row alone: it is read every second for every stream.
    """
    seconds = jobs.duration_seconds(job)
    rate = job.pages / seconds if seconds else None
    total = job.estimated_total or job.max_pages
    eta = None
    if total and rate and job.status in models.ACTIVE_STATUSES:
        eta = round(max(0, total - job.pages) / rate, 1)
    return {
        "id": job.id,
        "status": job.status,
        "pages": job.pages,
        "errors": job.errors,
        "queued": job.queued,
        "rate": None if rate is None else round(rate, 2),
        "estimated_total": total,
        "eta_seconds": eta,
        "duration": None if seconds is None else round(seconds, 2),
        "finish_reason": job.finish_reason,
        "heartbeat_at": jobs.iso(job.heartbeat_at),
    }


def _file_tail(path: str) -> str:
    try:
        with open(path, "rb") as log:
            log.seek(0, os.SEEK_END)
            size = log.tell()
            log.seek(max(0, size - LOG_TAIL_BYTES))
            data = log.read()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise DocscrawlError(f"The log {path} cannot be read ({exc.strerror}).") from exc
    if size > LOG_TAIL_BYTES:
        data = data.partition(b"\n")[2]  # the first line read is cut
    return data.decode("utf-8", "replace")


def configured_nodes(scrapyd_url: str | None) -> list:
    """The Scrapyd nodes the server would use (read once at start-up to validate them)."""
    return config.configured_nodes(scrapyd_url)
