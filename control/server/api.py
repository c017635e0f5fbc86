"""The JSON API under /api: the CLI's twin, one endpoint per command.

Each endpoint is a thin call into JobService (control/server/service.py). Errors are
``{"error": "one sentence"}`` with the status code that says what went wrong (app.py maps
them); the OpenAPI document is at /api/openapi.json and a page of it at /api/docs.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import peewee
from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from control import jobs
from control.server.app import ApiError
from control.server.auth import Auth
from control.server.service import DEFAULT_LIMIT, MAX_LIMIT, CrawlRequest, JobService, progress_of
from docscrawl import models

MAX_ID = 2**63 - 1


def require_token(request: Request) -> None:
    """Every endpoint but the OpenAPI document needs the token (or the dashboard's session)."""
    auth: Auth = request.app.state.auth
    problem = auth.check_api(request)
    if problem == "csrf":
        raise ApiError(403, "The request has no valid CSRF token (X-CSRF-Token header).")
    if problem is not None:
        raise ApiError(401, problem)


router = APIRouter(prefix="/api", tags=["jobs"])
protected = APIRouter(dependencies=[Depends(require_token)])

JobId = Annotated[int, Path(ge=1, le=MAX_ID, description="Our job id (as `docscrawl list`).")]


def service_of(request: Request) -> JobService:
    return request.app.state.service


Service = Annotated[JobService, Depends(service_of)]


class CrawlBody(BaseModel):
    """`docscrawl crawl`'s options."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(description="Start URL; the crawl stays on its host and under its path.")
    client: str | None = Field(None, description="Client name (default: the URL's host).")
    # Strict: JSON true is not a page count of 1.
    max_pages: int | None = Field(
        None, strict=True, description="Stop after this many pages (at least 1)."
    )
    max_depth: int | None = Field(
        None, strict=True, description="Follow links this deep (at least 0)."
    )
    settings: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Scrapy settings, as `crawl -s KEY=VALUE`."
    )
    mode: Literal["scrapyd", "local"] | None = Field(
        None,
        description='"scrapyd", the default when a node is reachable, or "local": a crawl '
        "process the server starts, watches and reaps.",
    )


class CancelBody(BaseModel):
    """`docscrawl cancel`'s options."""

    model_config = ConfigDict(extra="forbid")
    force: bool = Field(False, description="Mark cancelled whatever the state; kill if needed.")
    wait: float = Field(30.0, ge=0, le=3600, description="Seconds to wait for the crawl to stop.")


def _next_link(request: Request, **params: Any) -> str:
    query = {k: v for k, v in request.query_params.items() if k not in params}
    query.update({k: v for k, v in params.items() if v is not None})
    return f"{request.url.path}?{urlencode(query)}"


@protected.get("/jobs", summary="List jobs, newest first (`list --json`)")
def list_jobs(
    request: Request,
    response: Response,
    service: Service,
    status: Annotated[Literal[models.STATUSES] | None, Query()] = None,  # type: ignore[valid-type]
    client: Annotated[str | None, Query(description="A client's slug.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Jobs older than this id.")
    ] = None,
) -> dict[str, Any]:
    found, next_before = service.list_jobs(status, client, limit, before)
    next_url = _next_link(request, before=next_before) if next_before else None
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return {"jobs": found, "next": next_url}


@protected.post("/jobs", status_code=201, summary="Start a crawl (`crawl [--async]`)")
def create_job(body: CrawlBody, response: Response, service: Service) -> dict[str, Any]:
    job = service.create(CrawlRequest(**body.model_dump()))
    response.headers["Location"] = f"/api/jobs/{job['id']}"
    return job


@protected.post("/jobs/cancel-all", summary="Cancel every active job (`cancel --all`)")
def cancel_all(
    service: Service, body: Annotated[CancelBody | None, Body()] = None
) -> dict[str, Any]:
    body = body or CancelBody()
    results = service.cancel_all(force=body.force, wait=body.wait)
    return {"results": results, "failed": [r["job_id"] for r in results if r["failed"]]}


@protected.get("/jobs/{job_id}", summary="One job (`status --json`)")
def get_job(job_id: JobId, service: Service) -> dict[str, Any]:
    return service.job(job_id)


def _cancel(service: JobService, job_id: int, body: CancelBody | None) -> dict[str, Any]:
    body = body or CancelBody()
    return service.cancel(job_id, force=body.force, wait=body.wait)


@protected.post("/jobs/{job_id}/cancel", summary="Cancel a job (`cancel --job N [--force]`)")
def cancel_job(
    job_id: JobId, service: Service, body: Annotated[CancelBody | None, Body()] = None
) -> dict[str, Any]:
    return _cancel(service, job_id, body)


@protected.post(
    "/crawler/cancel/{job_id}/",
    summary="Cancel a job (the admin site's old endpoint)",
    description="The same as POST /api/jobs/{job_id}/cancel.",
)
def cancel_job_legacy(
    job_id: JobId, service: Service, body: Annotated[CancelBody | None, Body()] = None
) -> dict[str, Any]:
    return _cancel(service, job_id, body)


@protected.post("/jobs/{job_id}/resume", summary="Resume a cancelled or failed job (`resume`)")
def resume_job(job_id: JobId, service: Service) -> dict[str, Any]:
    return service.resume(job_id)


@protected.get("/jobs/{job_id}/samples", summary="A job's progress over time (its heartbeats)")
def job_samples(job_id: JobId, service: Service) -> list[dict[str, Any]]:
    return service.samples(job_id)


@protected.get("/jobs/{job_id}/log", summary="The end of a job's Scrapy log")
def job_log(
    job_id: JobId,
    service: Service,
    tail: Annotated[int, Query(ge=1, le=10_000, description="How many lines.")] = 100,
) -> dict[str, Any]:
    lines = service.log_tail(job_id, tail)
    return {"job_id": job_id, "lines": lines}


@protected.get("/jobs/{job_id}/errors", summary="The URLs a job did not store, and why")
def job_errors(
    job_id: JobId,
    service: Service,
    kind: Annotated[str | None, Query(description="Only this reason (`skipped --reason`).")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = MAX_LIMIT,
) -> dict[str, Any]:
    entries = service.errors(job_id, kind, limit)
    return {"job_id": job_id, "skipped": jobs.get_job(job_id).skipped or {}, "errors": entries}


@protected.get("/jobs/{job_id}/pages", summary="The pages a job saw, by page id")
def job_pages(
    request: Request,
    response: Response,
    job_id: JobId,
    service: Service,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID, description="Pages after this id.")] = None,
) -> dict[str, Any]:
    found, next_after = service.pages(job_id=job_id, limit=limit, after=after)
    next_url = _next_link(request, after=next_after) if next_after else None
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return {"pages": found, "next": next_url}


@protected.get("/clients/{client}/pages", summary="A client's pages, by page id")
def client_pages(
    request: Request,
    response: Response,
    client: str,
    service: Service,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
) -> dict[str, Any]:
    found, next_after = service.pages(client=client, limit=limit, after=after)
    next_url = _next_link(request, after=next_after) if next_after else None
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return {"pages": found, "next": next_url}


@protected.get("/pages/{page_id}", summary="One page: every field, Markdown included")
def get_page(page_id: Annotated[int, Path(ge=1, le=MAX_ID)], service: Service) -> dict[str, Any]:
    return service.page(page_id)


@protected.get("/diff", summary="What changed between two crawls (`diff --json`)")
def diff(
    service: Service,
    old: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    new: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    client: Annotated[str | None, Query(description="Its last two completed crawls.")] = None,
) -> dict[str, Any]:
    return service.diff(old, new, client)


@protected.get("/nodes", summary="The Scrapyd nodes (`nodes --json`)")
def list_nodes(service: Service) -> list[dict[str, Any]]:
    return service.nodes()


@protected.get(
    "/jobs/{job_id}/events",
    summary="A job's live counters and status changes, as Server-Sent Events",
    description="Events: `status` (on each change), `progress` (pages, rate, errors, queued, "
    "ETA; every second), `end` (the job has ended; the stream closes), and `error` when the "
    "store cannot be read a moment (the stream goes on).",
    response_class=StreamingResponse,
)
async def job_events(job_id: JobId, request: Request) -> StreamingResponse:
    job = await run_in_threadpool(jobs.get_job, job_id)  # 404 before the stream starts
    settings = request.app.state.settings
    stopping = request.app.state.stopping

    async def stream() -> AsyncIterator[str]:
        yield "retry: 3000\n\n"
        last_status = None
        sequence = 0
        current = job
        while True:
            progress = progress_of(current)
            if progress["status"] != last_status:
                sequence += 1
                yield _event("status", progress, sequence)
                last_status = progress["status"]
            sequence += 1
            yield _event("progress", progress, sequence)
            if current.status in models.FINISHED_STATUSES:
                yield _event("end", progress, sequence + 1)
                return
            for _ in range(max(1, int(settings.stream_interval / 0.25))):
                if stopping.is_set() or await request.is_disconnected():
                    return
                await asyncio.sleep(min(0.25, settings.stream_interval))
            try:
                current = await run_in_threadpool(jobs.get_job, job_id)
            except (peewee.DatabaseError, sqlite3.DatabaseError) as exc:
                # The store is locked or gone a moment: say so, and read it again next tick.
                sequence += 1
                yield _event(
                    "error", {"error": models.describe_location(models.first_line(exc))}, sequence
                )

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _event(name: str, data: dict[str, Any], sequence: int) -> str:
    return f"id: {sequence}\nevent: {name}\ndata: {json.dumps(data)}\n\n"


@router.get("/docs", include_in_schema=False, response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """A page of the OpenAPI document: every endpoint, its parameters and body."""
    from control.server.dashboard import render

    return render(request, "api_docs.html", {"spec": request.app.openapi()})


# --- schedules -----------------------------------------------------------------------------------

schedules_api = APIRouter(prefix="/schedules", tags=["schedules"],
                          dependencies=[Depends(require_token)])  # fmt: skip
ScheduleId = Annotated[int, Path(ge=1, le=MAX_ID, description="The schedule's id.")]


class ScheduleBody(BaseModel):
    """`docscrawl schedule add`'s options."""

    model_config = ConfigDict(extra="forbid")
    client_slug: str = Field(description="The client (created if new).")
    url: str = Field(description="Start URL of each crawl.")
    cron: str = Field(description="Five cron fields (or six, seconds last), e.g. '0 3 * * 1'.")
    timezone: str = Field("UTC", description="The cron's IANA time zone.")
    settings: dict[str, str | int | float | bool] = Field(default_factory=dict)
    max_pages: int | None = Field(None, strict=True)
    max_depth: int | None = Field(None, strict=True)
    mode: Literal["scrapyd", "local"] | None = None
    overlap: Literal["skip", "queue"] = "skip"
    missed: Literal["catch-up", "record"] = "catch-up"


@schedules_api.get("", summary="List the schedules (`schedule list --json`)")
def list_schedules() -> list[dict[str, Any]]:
    from control import schedules

    return [schedules.schedule_as_dict(s) for s in schedules.list_schedules()]


@schedules_api.post("", status_code=201, summary="Add a schedule (`schedule add`)")
def add_schedule(body: ScheduleBody, response: Response) -> dict[str, Any]:
    from control import schedules

    values = body.model_dump()
    values["settings"] = {k: str(v).lower() if isinstance(v, bool) else str(v)
                          for k, v in values["settings"].items()}  # fmt: skip
    added = schedules.add(schedules.ScheduleRequest(**values))
    response.headers["Location"] = f"/api/schedules/{added.id}"
    return schedules.schedule_as_dict(added, upcoming=5)


@schedules_api.get("/{schedule_id}", summary="One schedule, its next five runs")
def get_schedule(schedule_id: ScheduleId) -> dict[str, Any]:
    from control import schedules

    return schedules.schedule_as_dict(schedules.get(schedule_id), upcoming=5)


@schedules_api.get("/{schedule_id}/runs", summary="A schedule's runs, newest first")
def schedule_runs(
    schedule_id: ScheduleId, limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20
) -> list[dict[str, Any]]:
    from control import schedules

    return [schedules.run_as_dict(run) for run in schedules.runs(schedule_id, limit)]


@schedules_api.post("/{schedule_id}/pause", summary="Pause a schedule")
def pause_schedule(schedule_id: ScheduleId) -> dict[str, Any]:
    from control import schedules

    return schedules.schedule_as_dict(schedules.set_paused(schedule_id, True))


@schedules_api.post("/{schedule_id}/resume", summary="Resume a paused schedule")
def resume_schedule(schedule_id: ScheduleId) -> dict[str, Any]:
    from control import schedules

    return schedules.schedule_as_dict(schedules.set_paused(schedule_id, False))


@schedules_api.post("/{schedule_id}/run-now", status_code=202, summary="Fire a run now")
def run_schedule_now(schedule_id: ScheduleId) -> dict[str, Any]:
    from control import schedules

    return schedules.run_as_dict(schedules.request_run(schedule_id))


@schedules_api.delete("/{schedule_id}", summary="Remove a schedule (its jobs are kept)")
def remove_schedule(schedule_id: ScheduleId) -> dict[str, Any]:
    from control import schedules

    schedules.remove(schedule_id)
    return {"removed": schedule_id}


@protected.get("/jobs/{job_id}/changes", summary="A job's change report, if one was written")
def job_changes(job_id: JobId) -> dict[str, Any]:
    jobs.get_job(job_id)
    report = models.change_report(job_id)
    if report is None:
        raise ApiError(404, f"Job {job_id} has no change report (scheduled crawls get one).")
    return report


@protected.get("/search", summary="Full-text search: pages best first, with a snippet")
def search_pages(
    q: Annotated[str, Query(min_length=1, description='Words and "quoted phrases".')],
    client: Annotated[str | None, Query(description="Only this client's pages (slug).")] = None,
    job: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this job's.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> list[dict[str, Any]]:
    from control import search

    return [hit.as_dict() for hit in search.search(q, client_slug=client, job_id=job, limit=limit)]


# Included last: an APIRouter copies the routes it has when it is included.
router.include_router(protected)
router.include_router(schedules_api)
