"""The dashboard: server-rendered pages over the same JobService as the API.

Pages work without JavaScript (plain links and POST forms, each with a CSRF token); the
vendored-free script in static/dashboard.js makes them live (Server-Sent Events, polling).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from control.server.auth import COOKIE, CSRF_FIELD, Auth

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """A page of the dashboard, with what every page needs (the CSRF token for its forms)."""
    auth: Auth = request.app.state.auth
    return templates.TemplateResponse(
        request,
        name,
        {"csrf_token": auth.csrf_token, "csrf_field": CSRF_FIELD, **context},
        status_code=status,
    )


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """An error as a page, with the sentence (a login form when the session is missing)."""
    if status == 401:
        return render(request, "login.html", {"message": message, "next": request.url.path}, 401)
    return render(request, "error.html", {"status": status, "message": message}, status)


def logged_in(request: Request) -> bool:
    return request.app.state.auth.has_session(request)


def install(app: FastAPI) -> None:
    """Add the dashboard's pages and static files to the app."""
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Any:
        form = await request.form()
        auth: Auth = request.app.state.auth
        target = str(form.get("next") or "/")
        if not target.startswith("/") or target.startswith("//"):
            target = "/"  # never redirect to another site
        if not auth.token_matches(str(form.get("token") or "")):
            return render(request, "login.html", {"message": "That token is wrong.",
                                                  "next": target}, 401)  # fmt: skip
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, auth.session_value, httponly=True, samesite="strict", path="/")
        return response

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    def jobs_page(request: Request) -> Any:
        if not logged_in(request):
            return error_page(request, 401, "Open the login link the server printed, or give "
                              "its token.")  # fmt: skip
        return render(request, "error.html", {"status": 200, "message": "The dashboard."})
