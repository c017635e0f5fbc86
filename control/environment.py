"""The environment variables docscrawl reads: each checked in one place, read through one accessor.

The CLI checks them all at start-up (`check`), before anything is written, so a bad value is a
usage error naming the variable, never a traceback in the middle of a command.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable

from control.exceptions import InvalidEnvironment
from docscrawl.redact import mask_credentials

SCRAPYD_TIMEOUT = "DOCSCRAWL_SCRAPYD_TIMEOUT"
STALE_AFTER = "DOCSCRAWL_STALE_AFTER"
AUDIT_MIN_TEXT_SHARE = "DOCSCRAWL_AUDIT_MIN_TEXT_SHARE"
DB = "DOCSCRAWL_DB"
SCRAPYD_URL = "SCRAPYD_URL"
SCRAPYD_USERNAME = "SCRAPYD_USERNAME"
SCRAPYD_PASSWORD = "SCRAPYD_PASSWORD"

# A bound, so that a typo such as 1e99 is refused here rather than overflowing a timer later.
MAX_SECONDS = 7 * 24 * 3600
SECONDS = f"a number of seconds greater than 0 and at most {MAX_SECONDS} (a week)"
SHARE = "a share of a page's words greater than 0 and at most 1, such as 0.5"
# The peewee URL schemes of the engines docscrawl supports (playhouse.db_url's names).
STORE_URL = re.compile(r"^(sqlite|sqliteext|postgres|postgresql|postgresext|postgresqlext"
                       r"|cockroachdb)(\+pool)?://", re.IGNORECASE)  # fmt: skip
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def _value(name: str) -> str | None:
    # An empty variable counts as unset, as click treats the ones it reads (DOCSCRAWL_DB).
    return os.environ.get(name) or None


def _invalid(name: str, value: str, takes: str) -> InvalidEnvironment:
    # A URL (SCRAPYD_URL, DOCSCRAWL_DB) may carry a password too: never show one.
    shown = mask_credentials(value) if name != SCRAPYD_PASSWORD else "***"
    return InvalidEnvironment(f"{name}={shown} is not valid: it takes {takes}.")


def _seconds(name: str) -> float | None:
    value = _value(name)
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise _invalid(name, value, SECONDS) from None
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_SECONDS:
        raise _invalid(name, value, SECONDS)
    return seconds


def scrapyd_timeout() -> float | None:
    """DOCSCRAWL_SCRAPYD_TIMEOUT: the read timeout of requests to Scrapyd, in seconds."""
    return _seconds(SCRAPYD_TIMEOUT)


def stale_after() -> float | None:
    """DOCSCRAWL_STALE_AFTER: the grace period before a silent job is declared gone, seconds."""
    return _seconds(STALE_AFTER)


def audit_min_text_share() -> float | None:
    """DOCSCRAWL_AUDIT_MIN_TEXT_SHARE: below this text share a page's extraction is flagged."""
    value = _value(AUDIT_MIN_TEXT_SHARE)
    if value is None:
        return None
    try:
        share = float(value)
    except ValueError:
        raise _invalid(AUDIT_MIN_TEXT_SHARE, value, SHARE) from None
    if not math.isfinite(share) or not 0 < share <= 1:
        raise _invalid(AUDIT_MIN_TEXT_SHARE, value, SHARE)
    return share


def scrapyd_username() -> str | None:
    """SCRAPYD_USERNAME: the user for Scrapyd's HTTP basic auth (no ':', per RFC 7617)."""
    value = _value(SCRAPYD_USERNAME)
    if value is not None and (":" in value or CONTROL_CHARACTERS.search(value)):
        raise _invalid(SCRAPYD_USERNAME, value, "a user name without ':' or control characters")
    return value


def scrapyd_password() -> str | None:
    """SCRAPYD_PASSWORD: the password for Scrapyd's HTTP basic auth."""
    value = _value(SCRAPYD_PASSWORD)
    if value is not None and CONTROL_CHARACTERS.search(value):
        raise _invalid(SCRAPYD_PASSWORD, value, "a password without control characters")
    return value


def _check_db() -> None:
    value = _value(DB)
    if value is None:
        return
    if CONTROL_CHARACTERS.search(value) or ("://" in value and not STORE_URL.match(value)):
        from docscrawl.models import describe_location

        raise _invalid(
            DB,
            describe_location(value),
            "a SQLite file path or a SQLite or PostgreSQL URL (sqlite:///PATH, "
            "postgresql://USER@HOST/NAME)",
        )


def _check_scrapyd_url() -> None:
    value = _value(SCRAPYD_URL)
    if value is None:
        return
    from control.validation import is_http_url

    urls = [part.strip() for part in value.split(",") if part.strip()]
    if not urls or not all(is_http_url(url) for url in urls):
        raise _invalid(
            SCRAPYD_URL, value, "one or more comma-separated Scrapyd URLs such as "
            "http://127.0.0.1:6800",
        )  # fmt: skip


CHECKS: dict[str, Callable[[], object]] = {
    SCRAPYD_TIMEOUT: scrapyd_timeout,
    STALE_AFTER: stale_after,
    AUDIT_MIN_TEXT_SHARE: audit_min_text_share,
    DB: _check_db,
    SCRAPYD_URL: _check_scrapyd_url,
    SCRAPYD_USERNAME: scrapyd_username,
    SCRAPYD_PASSWORD: scrapyd_password,
}


def check(ignore: Iterable[str] = ()) -> None:
    """Raise InvalidEnvironment for the first variable set to a value docscrawl cannot use.

    ignore: variables a command-line option overrides (--db for DOCSCRAWL_DB).
    """
    skipped = set(ignore)
    for name, read in CHECKS.items():
        if name not in skipped:
            read()
