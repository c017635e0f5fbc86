"""The ASGI application: FastAPI, its start-up and shutdown, login, and errors as sentences.

FastAPI (on Starlette, served by uvicorn) because the API's OpenAPI document and its request
checks come from the same typed signatures, and Starlette gives the dashboard Jinja2
templates, static files and streaming responses (Server-Sent Events). Plain ``def`` endpoints
run in the thread pool, so a slow operation (a cancel waiting for the crawl to exit, a
Scrapyd that hangs until its timeout) never blocks the other requests.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import peewee
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from control import exceptions as errors
from control.server.auth import COOKIE, Auth
from control.server.background import BackgroundLoop
from control.server.local_crawls import LocalCrawls
from control.server.scheduler import Scheduler
from control.server.service import JobService
from docscrawl import models

logger = logging.getLogger(__name__)

# How often the server finishes jobs whose process is gone (as `docscrawl reconcile` would).
RECONCILE_INTERVAL = 5.0
# How often a job's event stream reads the job.
STREAM_INTERVAL = 1.0


@dataclass
class ServerSettings:
    """What `docscrawl serve` was started with."""

    location: str
    scrapyd_url: str | None
    auth: Auth
    webhooks: list[str] = field(default_factory=list)
    webhook_key: bytes | None = None
    reconcile_interval: float = RECONCILE_INTERVAL
    stream_interval: float = STREAM_INTERVAL


class ApiError(Exception):
    """An API answer other than success: its HTTP status and one sentence."""

    def __init__(self, status_code: int, message: str):
        super().__init__(message)
        self.status_code = status_code
        self.message = message


# The service's errors, by the status code that tells them apart.
STATUS_OF: list[tuple[type[Exception], int]] = [
    (errors.UnknownJob, 404),
    (errors.JobAlreadyFinished, 409),
    (errors.JobInWrongState, 409),
    (errors.InvalidEnvironment, 400),
    (errors.InvalidRequest, 400),
    (errors.ScrapydUnavailable, 502),
    (errors.ScrapydRefused, 502),
    (errors.StoreUnavailable, 503),
]


def status_of(exc: Exception) -> int:
    for kind, status in STATUS_OF:
        if isinstance(exc, kind):
            return status
    return 500


class Reconciler(BackgroundLoop):
    """Finishes jobs whose process is gone, every few seconds, in a thread of its own."""

    name = "reconcile"

    def __init__(self, service: JobService, interval: float):
        self.service = service
        self.interval = interval
        super().__init__()

    def wait(self) -> float:
        return self.interval

    def tick(self) -> None:
        for note in self.service.reconcile():
            logger.warning("Job %s is now %s: %s.", note.job_id, note.status, note.reason)


def create_app(settings: ServerSettings) -> FastAPI:
    """The server's application, over the store at settings.location."""
    from control.server import api, dashboard

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        models.open_store(settings.location)
        reconciler = Reconciler(app.state.service, settings.reconcile_interval)
        reconciler.start()
        scheduler = Scheduler(app.state.service)
        scheduler.start()
        dispatcher = _start_webhooks(settings)
        try:
            yield
        finally:
            app.state.stopping.set()
            scheduler.stop()
            reconciler.stop()
            if dispatcher is not None:
                dispatcher.stop()

    app = FastAPI(
        title="docscrawl",
        summary="Crawl documentation sites and keep every page in a store you can analyse.",
        version=_version(),
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI loads from a CDN; /api/docs is rendered here instead
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.auth = settings.auth
    app.state.service = JobService(
        settings.location, settings.scrapyd_url, LocalCrawls(settings.location)
    )
    app.state.stopping = threading.Event()
    _install_errors(app)
    _install_login(app)
    app.include_router(api.router)
    dashboard.install(app)
    return app


def _start_webhooks(settings: ServerSettings) -> Any:
    from control.server.webhooks import WebhookDispatcher

    if settings.webhook_key is None:
        return None
    dispatcher = WebhookDispatcher(settings.webhooks, settings.webhook_key)
    dispatcher.start()
    return dispatcher


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("docscrawl")
    except PackageNotFoundError:
        return "0"


def is_api(request: Request) -> bool:
    return request.url.path == "/api" or request.url.path.startswith("/api/")


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Any:
        return error_response(exc.status_code, exc.message)

    @app.exception_handler(errors.DocscrawlError)
    async def service_error(request: Request, exc: errors.DocscrawlError) -> Any:
        return error_response(status_of(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Any:
        return error_response(400, validation_sentence(exc))

    @app.exception_handler(peewee.DatabaseError)
    @app.exception_handler(sqlite3.DatabaseError)
    async def store_error(request: Request, exc: Exception) -> Any:
        where = models.describe_location(app.state.settings.location)
        reason = models.describe_location(models.first_line(exc))
        if "readonly" in reason:
            message = f"The store {where} is read-only; docscrawl needs to write to it."
        else:
            message = f"The store {where} cannot be used ({reason})."
        if is_api(request):
            return error_response(503, message)
        from control.server.dashboard import error_page

        return error_page(request, 503, message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        if exc.status_code == 404:
            message = f"There is no such page: {request.method} {request.url.path}."
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}."
        else:
            message = str(exc.detail)
        if is_api(request):
            return error_response(exc.status_code, message)
        from control.server.dashboard import error_page

        return error_page(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Any:
        logger.exception("%s %s failed", request.method, request.url.path)
        message = "The server failed to answer; its log says why."
        if is_api(request):
            return error_response(500, message)
        from control.server.dashboard import error_page

        return error_page(request, 500, message)


def validation_sentence(exc: RequestValidationError) -> str:
    """The first problem pydantic found, as one sentence naming the field."""
    problems = exc.errors()
    if not problems:
        return "The request is not valid."
    first = problems[0]
    where = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    name = ".".join(where)
    message = str(first.get("msg", "is not valid")).rstrip(".")
    if first.get("type") == "missing":
        return f"The request needs {name}." if name else "The request needs a JSON body."
    if first.get("type") == "json_invalid":
        return "The request body is not valid JSON."
    if first.get("type") in ("model_attributes_type", "dict_type") and not name:
        return "The request body must be a JSON object."
    if first.get("type") == "extra_forbidden":
        return f"{name} is not a field this endpoint takes."
    return f"{name}: {message[0].lower() + message[1:]}." if name else f"{message}."


def _install_login(app: FastAPI) -> None:
    """The login link: ``?token=`` on a page sets the session cookie and redirects."""

    @app.middleware("http")
    async def login_by_link(request: Request, call_next: Any) -> Any:
        token = request.query_params.get("token")
        if token is not None and not is_api(request) and request.method == "GET":
            auth: Auth = request.app.state.auth
            if not auth.token_matches(token):
                from control.server.dashboard import error_page

                return error_page(request, 401, "The token in the link is wrong.")
            from control.server.dashboard import local_path

            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            # //host/?token=... must not send the browser to another site.
            target = local_path(request.url.path) + (f"?{urlencode(rest)}" if rest else "")
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(
                COOKIE, auth.session_value, httponly=True, samesite="strict", path="/"
            )
            return response
        return await call_next(request)
