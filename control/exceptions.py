"""Errors the docscrawl tool reports to its user, one sentence each."""

from __future__ import annotations


class DocscrawlError(Exception):
    """Base class: an operation failed; the message says what happened and what to do."""


class StoreUnavailable(DocscrawlError):
    """The store cannot be opened or written."""


class UnknownJob(DocscrawlError):
    """No job has this id."""


class JobAlreadyFinished(DocscrawlError):
    """The job has already ended and the operation needs --force."""


class InvalidRequest(DocscrawlError):
    """The request cannot be carried out as asked (bad URL, bad setting)."""


class JobInWrongState(InvalidRequest):
    """The job's status does not allow the operation (resume a running or completed job)."""


class ScrapydUnavailable(DocscrawlError):
    """Scrapyd cannot be reached, timed out, or answered something that is not its API."""


class ScrapydRefused(DocscrawlError):
    """Scrapyd answered with an error (auth, unknown project or spider, bad request)."""


class InvalidEnvironment(DocscrawlError):
    """An environment variable is set to a value docscrawl cannot use (a usage error)."""


class Interrupted(DocscrawlError):
    """The user stopped the command (Ctrl+C); what it had started was ended, not left active."""
