"""The dashboard: server-rendered pages over the same JobService as the API.

Pages work without JavaScript (plain links, GET filters, POST forms each with a CSRF token);
static/dashboard.js makes them live: a job's counters from its Server-Sent Events, its chart
from /api/jobs/{id}/samples, its log from /api/jobs/{id}/log, and the other pages (the jobs,
a schedule's runs, the nodes) by fetching themselves again and swapping the regions marked
``data-live``. No chart library, no CDN.

Besides the jobs: the schedules (control/schedules.py) with their forms, a scheduled crawl's
change report on its job page (control/change_reports.py), and a page's versions with the
diff of two (control/history.py), always escaped: crawled text is never HTML.

A route reads the request, calls the service in the thread pool (a cancel may wait for its
crawl), and hands the result to one template; a docscrawl error is the error page with the
API's status code and the service's sentence.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import math
import zoneinfo
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from control import history, jobs, schedules
from control.exceptions import DocscrawlError, InvalidRequest, UnknownJob
from control.server.app import status_of
from control.server.auth import COOKIE, CSRF_FIELD, Auth
from control.server.service import MODES, CrawlRequest, JobService, progress_of
from docscrawl import history as page_versions
from docscrawl import models

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

JOBS_PER_PAGE = 50
PAGES_PER_PAGE = 50
ERRORS_SHOWN = 100
RUNS_SHOWN = 50
LOG_LINES = 100
MAX_ID = 2**63 - 1
NOTHING = "\N{EN DASH}"  # what a counter shows before it has a value
# Crawled Markdown is never trusted as HTML: raw HTML in it is shown as text.
markdown = MarkdownIt("commonmark", {"html": False})
# Defence in depth for pages that show crawled text: no script but ours runs, nothing is
# loaded from elsewhere but a page's images, and no other site may frame the forms.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: http: https:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
# The chart's geometry (dashboard.js reads it from the <svg>'s data attributes).
CHART = {"width": 640, "height": 180, "left": 44, "right": 12, "top": 12, "bottom": 24}


class PageError(Exception):
    """A dashboard request refused with a status and one sentence (a missing CSRF token)."""

    def __init__(self, status_code: int, message: str):
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """A page of the dashboard, with what every page needs (the CSRF token for its forms)."""
    auth: Auth = request.app.state.auth
    return templates.TemplateResponse(
        request,
        name,
        {
            "csrf_token": auth.csrf_token,
            "csrf_field": CSRF_FIELD,
            "here": here(request),
            "notice": request.query_params.get("notice"),
            **context,
        },
        status_code=status,
        headers=PAGE_HEADERS,
    )


def error_page(
    request: Request, status: int, message: str, back: str | None = None
) -> HTMLResponse:
    """An error as a page, with the sentence (a login form when the session is missing)."""
    if status == 401:
        # Back to this page once logged in; a form's POST cannot be replayed, its page can.
        target = here(request) if request.method == "GET" else "/"
        return render(request, "login.html", {"message": message, "next": target}, 401)
    context = {"status": status, "message": message, "back": back}
    return render(request, "error.html", context, status)


def logged_in(request: Request) -> bool:
    return request.app.state.auth.has_session(request)


def here(request: Request) -> str:
    """This page's local URL, without the login token and the notice (a form's `next`)."""
    rest = [(k, v) for k, v in request.query_params.multi_items() if k not in ("token", "notice")]
    return request.url.path + (f"?{urlencode(rest)}" if rest else "")


def local_path(value: object, default: str = "/") -> str:
    """value if it is a path on this server, else default: a redirect never leaves the site."""
    text = str(value or "")
    parts = urlsplit(text)
    if (
        not text.startswith("/")
        or text.startswith("//")
        or parts.scheme
        or parts.netloc
        or any(ch in text for ch in "\r\n\t\\")  # browsers read /\host as //host
    ):
        return default
    return text


def with_notice(target: str, notice: str) -> RedirectResponse:
    """A 303 to a local path with a one-sentence notice for its banner."""
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "notice"]
    query.append(("notice", notice))
    return RedirectResponse(f"{parts.path}?{urlencode(query)}", status_code=303)


def dashboard_page(handler: Callable[..., Awaitable[Response]]) -> Callable[..., Any]:
    """A dashboard route: the session is required (else the login page, 401), and a
    docscrawl error is the error page with the API's status code and the sentence."""

    @functools.wraps(handler)
    async def route(request: Request) -> Response:
        if not logged_in(request):
            return error_page(
                request, 401, "Open the login link the server printed, or give its token."
            )
        try:
            return await handler(request)
        except PageError as exc:
            return error_page(request, exc.status_code, exc.message, back_of(request))
        except DocscrawlError as exc:
            return error_page(request, status_of(exc), str(exc), back_of(request))

    return route


def back_of(request: Request) -> str | None:
    """Where a form's error page links back to: the form's `next`, once it is read."""
    return getattr(request.state, "back", None)


def service_of(request: Request) -> JobService:
    return request.app.state.service


async def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A service call, in the thread pool: it reads the store, and a cancel may wait."""
    return await run_in_threadpool(function, *args, **kwargs)


async def checked_form(request: Request) -> Mapping[str, str]:
    """The POSTed form, once its CSRF token is checked (403 without it)."""
    form = await request.form()
    request.state.back = local_path(form.get("next"))  # where the error page links back to
    auth: Auth = request.app.state.auth
    if not auth.csrf_ok(str(form.get(CSRF_FIELD) or "")):
        raise PageError(
            403, "The form has no valid CSRF token; reload the page and submit it again."
        )
    return {key: str(value) for key, value in form.items()}


# --- parsing ------------------------------------------------------------------------------------


def whole_number(name: str, value: str | None, minimum: int = 0) -> int | None:
    """An optional whole-number field or query parameter; None when empty."""
    text = (value or "").strip()
    if not text:
        return None
    if not text.isdigit() or not minimum <= int(text) <= MAX_ID:
        raise InvalidRequest(f"{name} must be a whole number of at least {minimum}, not {text!r}.")
    return int(text)


def path_id(request: Request, what: str = "job") -> int:
    value = request.path_params["item_id"]
    if not 1 <= value <= MAX_ID:
        raise UnknownJob(f"There is no {what} {value}.")
    return value


# --- what the templates show --------------------------------------------------------------------


def chart(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """The pages-over-time chart of a job's samples: the SVG's polyline and its labels.

    dashboard.js draws the same from /api/jobs/{id}/samples (keep the two alike).
    """
    times = [_parse_iso(s["at"]) for s in samples]
    points = [(t, s["pages"]) for t, s in zip(times, samples, strict=True) if t is not None]
    width, height = CHART["width"], CHART["height"]
    inner_w = width - CHART["left"] - CHART["right"]
    inner_h = height - CHART["top"] - CHART["bottom"]
    top = nice_ceiling(max((p for _, p in points), default=0))
    span = (points[-1][0] - points[0][0]).total_seconds() if len(points) > 1 else 0.0
    drawn = []
    for moment, pages in points:
        share = (moment - points[0][0]).total_seconds() / span if span else 0.0
        x = CHART["left"] + share * inner_w
        y = CHART["top"] + (1 - pages / top) * inner_h
        drawn.append(f"{x:.1f},{y:.1f}")
    return {
        **CHART,
        "points": " ".join(drawn),
        "y_max": top,
        "span": duration_text(span),
        "count": len(points),
        "bottom_y": CHART["top"] + inner_h,
        "right_x": CHART["left"] + inner_w,
    }


def nice_ceiling(value: float) -> int:
    """The chart's top: 1, 2 or 5 times a power of ten, at least value (and at least 10)."""
    if value <= 10:
        return 10
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return int(step * power)
    return int(10 * power)  # pragma: no cover - the loop always returns


def _parse_iso(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.removesuffix("Z"))


def duration_text(seconds: float | None) -> str:
    """1 h 02 m, 3 m 05 s, 42 s, or a dash (dashboard.js's durationText says the same)."""
    if seconds is None:
        return NOTHING
    whole = round(seconds)
    if whole >= 3600:
        return f"{whole // 3600} h {whole % 3600 // 60:02d} m"
    if whole >= 60:
        return f"{whole // 60} m {whole % 60:02d} s"
    return f"{whole} s"


def time_text(value: str | None) -> str:
    """An ISO time as the dashboard shows it: 2026-12-03 09:29:28 (UTC)."""
    return value.removesuffix("Z").replace("T", " ") if value else NOTHING


def zone_time_text(value: str | None, zone: str) -> str:
    """An ISO time (UTC) in a schedule's time zone: 2026-12-07 03:00 CET; "" for UTC."""
    if not value or zone == "UTC":
        return ""
    try:
        moment = _parse_iso(value).replace(tzinfo=dt.UTC).astimezone(zoneinfo.ZoneInfo(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return ""
    return moment.strftime("%Y-%m-%d %H:%M %Z")


def lateness_text(seconds: float | None) -> str:
    """How late a run fired: 0.2 s, 3 m 05 s, or a dash."""
    if seconds is None:
        return NOTHING
    return f"{seconds:.1f} s" if seconds < 60 else duration_text(seconds)


def rate_text(rate: float | None) -> str:
    return NOTHING if rate is None else f"{rate:.1f}/s"


def percent(progress: Mapping[str, Any]) -> float | None:
    total = progress.get("estimated_total")
    if not total:
        return None
    return min(100.0, 100.0 * progress["pages"] / total)


def render_markdown(text: str) -> Markup:
    # Safe to mark: markdown-it escapes every character of the input it does not turn into
    # its own tags (html=False), and refuses javascript: and data: link targets.
    return Markup(markdown.render(text or ""))


def is_web_link(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("http://", "https://"))


templates.env.filters.update(
    duration=duration_text, time=time_text, rate=rate_text, percent=percent,
    in_zone=zone_time_text, lateness=lateness_text,
)  # fmt: skip
templates.env.globals.update(
    is_web_link=is_web_link, STATUSES=models.STATUSES, MODES=MODES, ACTIVE=models.ACTIVE_STATUSES,
    OVERLAP_POLICIES=schedules.OVERLAP_POLICIES, MISSED_POLICIES=schedules.MISSED_POLICIES,
)  # fmt: skip


# --- the pages ----------------------------------------------------------------------------------


def jobs_view(service: JobService, query: Mapping[str, str]) -> dict[str, Any]:
    """The jobs page's data: a page of jobs under the filters, with live counters."""
    status = query.get("status") or None
    client = query.get("client") or None
    before = whole_number("before", query.get("before"), 1)
    limit = whole_number("limit", query.get("limit"), 1)
    found, next_before = service.list_jobs(status, client, limit or JOBS_PER_PAGE, before)
    progress = {
        job["id"]: progress_of(jobs.get_job(job["id"]))
        for job in found
        if job["status"] in models.ACTIVE_STATUSES
    }
    filters = {"status": status or "", "client": client or ""}
    kept = {k: v for k, v in {**filters, "limit": limit}.items() if v}
    return {
        "jobs": found,
        "progress": progress,
        "filters": filters,
        "clients": service.clients(),
        "next_page": f"/?{urlencode({**kept, 'before': next_before})}" if next_before else None,
        "first_page": f"/?{urlencode(kept)}" if before else None,
        "active": sum(1 for job in found if job["status"] in models.ACTIVE_STATUSES),
    }


def job_view(service: JobService, job_id: int) -> dict[str, Any]:
    """The job page's data: counters, chart, changes, ledger and log tail."""
    job = service.job(job_id)
    previous = jobs.list_jobs(models.COMPLETED, job["client"], limit=1, before=job_id)
    try:
        log, log_error = service.log_tail(job_id, LOG_LINES), None
    except DocscrawlError as exc:  # Scrapyd is away: the rest of the page still helps
        log, log_error = [], str(exc)
    node = job.get("node") or ""
    return {
        "job": job,
        "progress": progress_of(jobs.get_job(job_id)),
        "chart": chart(service.samples(job_id)),
        "previous": previous[0].id if previous else None,
        "errors": service.errors(job_id, limit=ERRORS_SHOWN),
        "errors_limit": ERRORS_SHOWN,
        "log": log,
        "log_error": log_error,
        "log_lines": LOG_LINES,
        "scrapyd_jobs": f"{node.rstrip('/')}/jobs" if job["mode"] == "scrapyd" and node else None,
        **report_view(service, job_id, job["status"]),
    }


def report_view(service: JobService, job_id: int, status: str) -> dict[str, Any]:
    """The job's change report (scheduled crawls have one), with a diff link per page."""
    report = models.change_report(job_id)
    run = service.schedule_run_of(job_id)
    # A completed scheduled crawl's report is written by the scheduler a moment later.
    pending = report is None and run is not None and status == models.COMPLETED
    context = {"report": report, "report_links": {}, "schedule_run": run,
               "report_pending": pending}  # fmt: skip
    if report is None or report.get("previous_job_id") is None:
        return context
    urls = [c["url"] for c in report["changed"]] + [i["url"] for i in report["ignored"]]
    context["report_links"] = diff_links(service, report["previous_job_id"], job_id, urls)
    return context


def diff_links(service: JobService, old: int, new: int, urls: list[str]) -> dict[str, str]:
    """url -> its page's diff between the versions jobs old and new saw."""
    before, after = service.versions_seen(old, urls), service.versions_seen(new, urls)
    links = {}
    for url in urls:
        if url not in after:
            continue
        page_id, new_hash = after[url]
        old_hash = before.get(url, (None, None))[1]
        chosen = {"old": old_hash, "new": new_hash} if old_hash and new_hash else {}
        links[url] = f"/pages/{page_id}/history" + (f"?{urlencode(chosen)}" if chosen else "")
    return links


def pages_view(service: JobService, query: Mapping[str, str]) -> dict[str, Any]:
    """The pages page's data: a page of a job's or a client's pages, or what to choose from."""
    job_id = whole_number("job", query.get("job"), 1)
    client = (query.get("client") or "").strip() or None
    after = whole_number("after", query.get("after"), 0)
    limit = whole_number("limit", query.get("limit"), 1)
    if job_id and client:
        raise InvalidRequest("Give a job or a client, not both.")
    if not job_id and not client:
        recent, _ = service.list_jobs(limit=10)
        return {"pages": None, "clients": service.clients(), "recent": recent}
    found, next_after = service.pages(
        job_id=job_id, client=client, limit=limit or PAGES_PER_PAGE, after=after
    )
    scope = {"job": job_id} if job_id else {"client": client}
    if limit:
        scope["limit"] = limit
    return {
        "pages": found,
        "scope": scope,
        "job": service.job(job_id, scrapyd=False) if job_id else None,
        "client": client,
        "next_page": f"/pages?{urlencode({**scope, 'after': next_after})}" if next_after else None,
        "first_page": f"/pages?{urlencode(scope)}" if after else None,
    }


def diff_view(service: JobService, query: Mapping[str, str]) -> dict[str, Any]:
    old = whole_number("old", query.get("old"), 1)
    new = whole_number("new", query.get("new"), 1)
    client = (query.get("client") or "").strip() or None
    asked = {"old": old or "", "new": new or "", "client": client or ""}
    if not (old or new or client):
        return {"diff": None, "asked": asked, "clients": service.clients()}
    found = service.diff(old, new, client)
    links = diff_links(service, found["old_job"], found["new_job"], found["changed"])
    return {"diff": found, "links": links, "asked": asked, "clients": service.clients()}


def page_history_view(service: JobService, page_id: int, query: Mapping[str, str]) -> dict:
    """A page's versions, newest first, and the unified diff of two (default: the latest two)."""
    page = service.page(page_id)
    found = history.page_history(page["url"], page["client"]).versions
    newest = found[0] if found else None
    new = pick_version(page_id, found, query.get("new"), newest)
    old = pick_version(page_id, found, query.get("old"), next_version(found, new))
    lines: list[tuple[str, str]] = []
    if old is not None and new is not None:
        before = page_versions.version_markdown(page_id, old.content_hash) or ""
        after = page_versions.version_markdown(page_id, new.content_hash) or ""
        lines = diff_lines(before, after, version_label(old), version_label(new))
    return {"page": page, "versions": found, "old": old, "new": new, "lines": lines,
            "added": sum(kind == "add" for kind, _ in lines),
            "removed": sum(kind == "del" for kind, _ in lines)}  # fmt: skip


def version_label(version: history.VersionSummary) -> str:
    """A version in a diff's header: its short hash and the job that first stored it."""
    job = f" (job {version.job_id})" if version.job_id else ""
    return version.short_hash + job


def pick_version(
    page_id: int, found: list[history.VersionSummary], asked: str | None, default: Any
) -> history.VersionSummary | None:
    """The version whose hash starts with asked (the short hash will do), else default."""
    text = (asked or "").strip().lower()
    if not text:
        return default
    matches = [v for v in found if v.content_hash.startswith(text)]
    if len(matches) != 1:
        why = "no" if not matches else "more than one"
        raise InvalidRequest(
            f"Page {page_id} has {why} stored version {text!r}; /pages/{page_id}/history "
            "lists its versions."
        )
    return matches[0]


def next_version(
    found: list[history.VersionSummary], version: history.VersionSummary | None
) -> history.VersionSummary | None:
    """The version stored before this one (the list is newest first)."""
    if version is None:
        return None
    position = found.index(version)
    return found[position + 1] if position + 1 < len(found) else None


def diff_lines(before: str, after: str, old_name: str, new_name: str) -> list[tuple[str, str]]:
    """The unified diff as (kind, text) lines: head, hunk, add, del or same.

    The text is crawled text: the template escapes it (never Markup).
    """
    found = []
    diff = difflib.unified_diff(
        before.splitlines(), after.splitlines(), old_name, new_name, lineterm=""
    )
    for line in diff:
        if line.startswith(("---", "+++")) and len(found) < 2:
            kind = "head"
        elif line.startswith("@@"):
            kind = "hunk"
        else:
            kind = {"+": "add", "-": "del"}.get(line[:1], "same")
        found.append((kind, line))
    return found


def schedules_view(service: JobService) -> dict[str, Any]:
    """The schedules page's data: every schedule with its counts and last run."""
    found = [schedules.schedule_as_dict(s) for s in schedules.list_schedules()]
    paused = sum(1 for s in found if s["paused"])
    return {"schedules": found, "paused": paused, "clients": service.clients()}


def schedule_view(schedule_id: int) -> dict[str, Any]:
    """One schedule, its next five due times and its runs, newest first."""
    schedule = schedules.schedule_as_dict(schedules.get(schedule_id), upcoming=5)
    found = [schedules.run_as_dict(run) for run in schedules.runs(schedule_id, RUNS_SHOWN)]
    return {"schedule": schedule, "runs": found, "runs_limit": RUNS_SHOWN}


def schedule_request(form: Mapping[str, str]) -> schedules.ScheduleRequest:
    """The add-schedule form as the schedules' request (mode "auto": the server chooses)."""
    mode = form.get("mode") or "auto"
    return schedules.ScheduleRequest(
        client_slug=(form.get("client_slug") or "").strip(),
        url=(form.get("url") or "").strip(),
        cron=form.get("cron") or "",
        timezone=(form.get("timezone") or "").strip() or "UTC",
        max_pages=whole_number("max pages", form.get("max_pages"), 1),
        max_depth=whole_number("max depth", form.get("max_depth"), 0),
        mode=None if mode == "auto" else mode,
        overlap=form.get("overlap") or "skip",
        missed=form.get("missed") or "catch-up",
    )


# The add-schedule form's defaults.
SCHEDULE_FORM = {"timezone": "UTC", "mode": "auto", "overlap": "skip", "missed": "catch-up"}


def crawl_request(form: Mapping[str, str]) -> CrawlRequest:
    """The start-crawl form as the service's request (mode "auto": the service chooses)."""
    mode = form.get("mode") or "auto"
    return CrawlRequest(
        url=(form.get("url") or "").strip(),
        client=(form.get("client") or "").strip() or None,
        max_pages=whole_number("max pages", form.get("max_pages"), 1),
        max_depth=whole_number("max depth", form.get("max_depth"), 0),
        mode=None if mode == "auto" else mode,
    )


def cancel_all_notice(results: list[dict[str, Any]]) -> str:
    if not results:
        return "No job was active; nothing to cancel."
    failed = [r for r in results if r["failed"]]
    ids = ", ".join(str(r["job_id"]) for r in results)
    text = f"Cancelling {len(results)} job{'s' if len(results) != 1 else ''} ({ids})."
    if failed:
        text += " " + " ".join(r["message"] for r in failed)
    return text


def install(app: FastAPI) -> None:
    """Add the dashboard's pages, its forms and its static files to the app."""
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Any:
        form = await request.form()
        auth: Auth = request.app.state.auth
        target = local_path(form.get("next"))
        if not auth.token_matches(str(form.get("token") or "")):
            return render(request, "login.html", {"message": "That token is wrong.",
                                                  "next": target}, 401)  # fmt: skip
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, auth.session_value, httponly=True, samesite="strict", path="/")
        return response

    def page(path: str, method: str = "GET") -> Callable[[Callable[..., Any]], Any]:
        def register(handler: Callable[..., Awaitable[Response]]) -> Any:
            app.add_api_route(
                path,
                dashboard_page(handler),
                methods=[method],
                include_in_schema=False,
                response_class=HTMLResponse,
            )
            return handler

        return register

    @page("/")
    async def jobs_page(request: Request) -> Response:
        context = await call(jobs_view, service_of(request), request.query_params)
        return render(request, "jobs.html", {**context, "form": {"mode": "auto"}})

    @page("/jobs", "POST")
    async def start_crawl(request: Request) -> Response:
        form = await checked_form(request)
        back = local_path(form.get("next"))
        service = service_of(request)
        try:
            job = await call(service.create, crawl_request(form))
        except DocscrawlError as exc:
            # The jobs page again, with what was typed and the sentence.
            query = dict(parse_qsl(urlsplit(back).query))
            context = await call(jobs_view, service, query)
            context.update(form=form, form_error=str(exc), here=back)
            return render(request, "jobs.html", context, status_of(exc))
        return with_notice(f"/jobs/{job['id']}", f"Job {job['id']} started ({job['mode']}).")

    @page("/jobs/cancel-all", "POST")
    async def cancel_all(request: Request) -> Response:
        form = await checked_form(request)
        back = local_path(form.get("next"))
        force = form.get("force") == "1"
        if form.get("confirmed") != "1":
            return confirm(request, "/jobs/cancel-all", form, "Cancel every active job?")
        service = service_of(request)
        results = await call(service.cancel_all, **({"force": True} if force else {"wait": 0}))
        return with_notice(back, cancel_all_notice(results))

    @page("/jobs/{item_id:int}/cancel", "POST")
    async def cancel_job(request: Request) -> Response:
        job_id = path_id(request)
        form = await checked_form(request)
        back = local_path(form.get("next"), f"/jobs/{job_id}")
        force = form.get("force") == "1"
        if force and form.get("confirmed") != "1":
            question = f"Force-cancel job {job_id}? Its crawl is killed if it does not stop."
            return confirm(request, f"/jobs/{job_id}/cancel", form, question)
        service = service_of(request)
        # A plain cancel answers at once; the page then shows the job move to cancelled.
        result = await call(service.cancel, job_id, **({"force": True} if force else {"wait": 0}))
        return with_notice(back, result["message"])

    @page("/jobs/{item_id:int}/resume", "POST")
    async def resume_job(request: Request) -> Response:
        job_id = path_id(request)
        form = await checked_form(request)
        back = local_path(form.get("next"), f"/jobs/{job_id}")
        job = await call(service_of(request).resume, job_id)
        return with_notice(back, f"Job {job_id} resumed ({job['status']}).")

    @page("/jobs/{item_id:int}")
    async def job_page(request: Request) -> Response:
        context = await call(job_view, service_of(request), path_id(request))
        return render(request, "job.html", context)

    @page("/pages")
    async def pages_page(request: Request) -> Response:
        context = await call(pages_view, service_of(request), request.query_params)
        return render(request, "pages.html", context)

    @page("/pages/{item_id:int}")
    async def page_page(request: Request) -> Response:
        found = await call(service_of(request).page, path_id(request, "page"))
        html = render_markdown(found.get("markdown") or "")
        return render(request, "page.html", {"page": found, "html": html})

    @page("/pages/{item_id:int}/history")
    async def page_history_page(request: Request) -> Response:
        page_id = path_id(request, "page")
        context = await call(page_history_view, service_of(request), page_id, request.query_params)
        return render(request, "history.html", context)

    @page("/schedules")
    async def schedules_page(request: Request) -> Response:
        context = await call(schedules_view, service_of(request))
        return render(request, "schedules.html", {**context, "form": SCHEDULE_FORM})

    @page("/schedules", "POST")
    async def add_schedule(request: Request) -> Response:
        form = await checked_form(request)
        try:
            added = await call(schedules.add, schedule_request(form))
        except DocscrawlError as exc:
            # The schedules page again, with what was typed and the sentence.
            context = await call(schedules_view, service_of(request))
            context.update(form=form, form_error=str(exc), here="/schedules")
            return render(request, "schedules.html", context, status_of(exc))
        return with_notice(f"/schedules/{added.id}", f"Schedule {added.id} added.")

    @page("/schedules/{item_id:int}")
    async def schedule_page(request: Request) -> Response:
        context = await call(schedule_view, path_id(request, "schedule"))
        return render(request, "schedule.html", context)

    @page("/schedules/{item_id:int}/pause", "POST")
    async def pause_schedule(request: Request) -> Response:
        schedule_id = path_id(request, "schedule")
        form = await checked_form(request)
        await call(schedules.set_paused, schedule_id, True)
        back = local_path(form.get("next"), f"/schedules/{schedule_id}")
        return with_notice(back, f"Schedule {schedule_id} paused.")

    @page("/schedules/{item_id:int}/resume", "POST")
    async def resume_schedule(request: Request) -> Response:
        schedule_id = path_id(request, "schedule")
        form = await checked_form(request)
        resumed = await call(schedules.set_paused, schedule_id, False)
        back = local_path(form.get("next"), f"/schedules/{schedule_id}")
        due = time_text(jobs.iso(resumed.next_run_at))
        return with_notice(back, f"Schedule {schedule_id} resumed; its next run is due {due} UTC.")

    @page("/schedules/{item_id:int}/run-now", "POST")
    async def run_schedule_now(request: Request) -> Response:
        schedule_id = path_id(request, "schedule")
        form = await checked_form(request)
        await call(schedules.request_run, schedule_id)
        back = local_path(form.get("next"), f"/schedules/{schedule_id}")
        return with_notice(back, f"Schedule {schedule_id}: a run is requested; the server fires "
                           "it within a second.")  # fmt: skip

    @page("/schedules/{item_id:int}/remove", "POST")
    async def remove_schedule(request: Request) -> Response:
        schedule_id = path_id(request, "schedule")
        form = await checked_form(request)
        if form.get("confirmed") != "1":
            question = f"Remove schedule {schedule_id}? Its runs go with it; its jobs are kept."
            return confirm(request, f"/schedules/{schedule_id}/remove", form, question)
        await call(schedules.remove, schedule_id)
        back = local_path(form.get("next"), "/schedules")
        if urlsplit(back).path == f"/schedules/{schedule_id}":
            back = "/schedules"  # its page is gone
        return with_notice(back, f"Schedule {schedule_id} removed; its jobs are kept.")

    @page("/diff")
    async def diff_page(request: Request) -> Response:
        context = await call(diff_view, service_of(request), request.query_params)
        return render(request, "diff.html", context)

    @page("/nodes")
    async def nodes_page(request: Request) -> Response:
        found = await call(service_of(request).nodes)
        return render(request, "nodes.html", {"nodes": found})


def confirm(request: Request, action: str, form: Mapping[str, str], question: str) -> Response:
    """The question a dangerous form asks before it acts (dashboard.js asks it in a dialog)."""
    fields = {k: v for k, v in form.items() if k not in (CSRF_FIELD, "confirmed")}
    context = {"action": action, "fields": fields, "question": question,
               "back": local_path(form.get("next"))}  # fmt: skip
    return render(request, "confirm.html", context)
