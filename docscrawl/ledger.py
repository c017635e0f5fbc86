"""Why a request ended without a stored page: a fetch failure turned into a ledger entry."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import TimeoutError as TwistedTimeoutError
from twisted.python.failure import Failure

from docscrawl import models


class UrlRefused(IgnoreRequest):
    """A request the crawl refuses to send (a redirect out of scope, a loop, a trap)."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


# Scrapy's IgnoreRequest messages, by the middleware that raises them.
IGNORED_MESSAGES = (
    ("robots.txt", models.ROBOTS),  # RobotsTxtMiddleware: "Forbidden by robots.txt"
    ("max redirections", models.REDIRECT_LIMIT),  # RedirectMiddleware
    ("DOWNLOAD_MAXSIZE", models.TOO_LARGE),  # HttpCompressionMiddleware: a decompression bomb
    ("offsite", models.OUT_OF_SCOPE),  # OffsiteMiddleware
)


def classify_failure(failure: Failure) -> tuple[str, str, int | None]:
    """(kind, reason in words, HTTP status) for a request that failed or was ignored."""
    if failure.check(UrlRefused):
        return failure.value.kind, failure.value.reason, None
    if failure.check(HttpError):
        status = failure.value.response.status
        return models.HTTP_STATUS, f"HTTP {status}", status
    message = failure.getErrorMessage().strip()
    if failure.check(IgnoreRequest):
        for fragment, kind in IGNORED_MESSAGES:
            if fragment in message:
                if kind == models.REDIRECT_LIMIT:
                    message = "more redirects than REDIRECT_MAX_TIMES"
                return kind, message, None
        return models.NETWORK, f"ignored: {message}", None
    if failure.check(DownloadCancelledError):
        # Scrapy cancels a download that grows past DOWNLOAD_MAXSIZE, often with no message.
        return models.TOO_LARGE, message or "larger than DOWNLOAD_MAXSIZE", None
    if failure.check(DownloadTimeoutError, TwistedTimeoutError):
        return models.TIMEOUT, message or "timed out (DOWNLOAD_TIMEOUT)", None
    if failure.check(CannotResolveHostError):
        return models.NETWORK, message or "the host name does not resolve", None
    name = type(failure.value).__name__
    return models.NETWORK, f"{name}: {message}" if message else name, None
