"""What a URL given to docscrawl must look like: start URLs and Scrapyd node URLs."""

from __future__ import annotations

from urllib.parse import urlsplit

from control.exceptions import InvalidRequest
from docscrawl.redact import has_credentials, mask_credentials


def is_http_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host and a valid port, if any."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def validate_url(url: str) -> str:
    """The start URL if it is an absolute http(s) URL without credentials, else InvalidRequest."""
    # It is shown and stored everywhere (list, status, the crawl log): no user:password@ in it.
    if has_credentials(url):
        raise InvalidRequest(
            "the start URL must not carry credentials; give it without the user:password@ part."
        )
    if not is_http_url(url):
        raise InvalidRequest(
            f"{mask_credentials(url)!r} is not an absolute http(s) URL, "
            "e.g. https://docs.example.com/."
        )
    return url
