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


# The largest id or count SQLite and PostgreSQL store as an integer.
MAX_INTEGER = 2**63 - 1


def validate_settings(settings: dict[str, str]) -> dict[str, str]:
    """Scrapy settings for a crawl (`crawl -s KEY=VALUE`), or InvalidRequest in a sentence."""
    if "DOCSCRAWL_DB" in settings:
        raise InvalidRequest("give the store with --db, not -s DOCSCRAWL_DB")
    if settings:
        from docscrawl.runner import check_settings

        try:
            check_settings(settings)
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from exc
    return settings


def validate_client_name(name: str) -> str:
    """A client name as given (its slug is derived), or InvalidRequest: it is shown and used
    everywhere, so it has a letter or digit and no control characters."""
    import re

    if re.search(r"[\x00-\x1f\x7f]", name):
        raise InvalidRequest("The client name must not contain control characters.")
    if not re.search(r"[^\W_]", name):
        raise InvalidRequest(f"The client name {name!r} needs a letter or a digit.")
    return name


def validate_limits(max_pages: int | None, max_depth: int | None) -> None:
    """--max-pages (at least 1) and --max-depth (at least 0), or InvalidRequest."""
    for name, value, least in (("max_pages", max_pages, 1), ("max_depth", max_depth, 0)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidRequest(f"{name} must be a whole number, not {value!r}.")
        if not least <= value <= MAX_INTEGER:
            raise InvalidRequest(f"{name} must be a whole number of at least {least}.")
