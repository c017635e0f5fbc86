"""Who may use the server: one API token, as Jupyter's.

- API clients send it as ``Authorization: Bearer TOKEN`` (or ``?token=TOKEN``).
- A person opens the login link the server prints (``/?token=TOKEN``): the server sets a
  session cookie and redirects to the same page without the token in its URL.
- The cookie is HttpOnly and SameSite=Strict, and every form and every unsafe request made
  with it carries a CSRF token (a hidden field, or the ``X-CSRF-Token`` header), so another
  site cannot make a logged-in browser cancel a crawl.

Tokens are compared in constant time; the cookie and the CSRF token are HMACs of the token,
so they change when the token does and reveal nothing of it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket

from starlette.requests import Request

COOKIE = "docscrawl_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Auth:
    """The server's token, and the session and CSRF values derived from it."""

    def __init__(self, token: str):
        self.token = token
        self.session_value = self._derive("session")
        self.csrf_token = self._derive("csrf")

    @classmethod
    def generated(cls) -> Auth:
        return cls(secrets.token_urlsafe(24))

    def _derive(self, purpose: str) -> str:
        return hmac.new(
            self.token.encode(), f"docscrawl-{purpose}".encode(), hashlib.sha256
        ).hexdigest()

    def token_matches(self, candidate: str | None) -> bool:
        return bool(candidate) and hmac.compare_digest(candidate.encode(), self.token.encode())

    def bearer(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return request.query_params.get("token")

    def has_session(self, request: Request) -> bool:
        cookie = request.cookies.get(COOKIE)
        return bool(cookie) and hmac.compare_digest(cookie.encode(), self.session_value.encode())

    def csrf_ok(self, supplied: str | None) -> bool:
        return bool(supplied) and hmac.compare_digest(supplied.encode(), self.csrf_token.encode())

    def check_api(self, request: Request) -> str | None:
        """None when the API request may go on, else why not (a 401 sentence or a 403 one)."""
        supplied = self.bearer(request)
        if supplied is not None:
            return None if self.token_matches(supplied) else "The API token is wrong."
        if self.has_session(request):
            if request.method in SAFE_METHODS or self.csrf_ok(request.headers.get(CSRF_HEADER)):
                return None
            return "csrf"
        return (
            "No API token: send it as `Authorization: Bearer TOKEN` (DOCSCRAWL_API_TOKEN), or "
            "open the login link the server printed."
        )


def is_loopback(host: str) -> bool:
    """True for an address (or name) that only this machine can reach."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)
