"""A Scrapyd node: one method per endpoint we use, every request through one error handler."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from control import environment
from control.exceptions import ScrapydRefused, ScrapydUnavailable
from docscrawl.redact import mask_credentials

PROJECT = "docscrawl"
SPIDER = "docs"
DEFAULT_URL = "http://127.0.0.1:6800"
# Every request has a timeout: a hung node must not hang the CLI. DOCSCRAWL_SCRAPYD_TIMEOUT
# (seconds) overrides the read timeout.
CONNECT_TIMEOUT = 3.05
READ_TIMEOUT = 10.0


def request_timeout() -> tuple[float, float]:
    """(connect, read) timeouts for every request to Scrapyd."""
    read = environment.scrapyd_timeout() or READ_TIMEOUT
    return (min(CONNECT_TIMEOUT, read), read)


logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class ScrapydTarget:
    """Where a Scrapyd node is and how to log in; the password is never shown."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    project: str = PROJECT
    name: str = "default"
    max_proc: int | None = None  # declared in scrapy.cfg; Scrapyd's API does not tell it

    @property
    def auth(self) -> tuple[str, str] | None:
        return (self.username, self.password or "") if self.username else None


class ScrapydNode:
    """A Scrapyd node's HTTP API, through python-scrapyd-api, with errors as sentences."""

    def __init__(self, target: ScrapydTarget, timeout: tuple[float, float] | None = None):
        self.target = target
        self.url = target.url.rstrip("/")
        # requests and python-scrapyd-api cost ~70 ms of start-up: only a Scrapyd call needs them.
        from scrapyd_api import ScrapydAPI

        self.api = ScrapydAPI(self.url, auth=target.auth, timeout=timeout or request_timeout())

    def schedule(self, jobid: str, spider_args: dict[str, Any], settings: dict[str, Any]) -> str:
        """Queue the docs spider; returns Scrapyd's job id (ours, as given in jobid)."""
        args = {key: value for key, value in spider_args.items() if value is not None}
        return self._call(
            lambda: self.api.schedule(
                self.target.project, SPIDER, settings=settings, jobid=jobid, **args
            )
        )

    def cancel(self, jobid: str, signal: str | None = None) -> str | None:
        """Cancel a pending or running job; returns its previous state ('pending', 'running')."""
        return self._call(lambda: self.api.cancel(self.target.project, jobid, signal=signal))

    def list_jobs(self) -> dict[str, list[dict[str, Any]]]:
        """Pending, running and finished jobs of the project."""
        return self._call(lambda: self.api.list_jobs(self.target.project))

    def list_spiders(self) -> list[str]:
        return self._call(lambda: self.api.list_spiders(self.target.project))

    def daemon_status(self) -> dict[str, Any]:
        """Running, pending and finished counts of the whole node (daemonstatus.json)."""
        return self._call(
            lambda: self.api.client.get(f"{self.url}/daemonstatus.json", timeout=self.api.timeout)
        )

    def list_versions(self) -> list[str]:
        """Deployed versions of the project, oldest first; [] if it is not deployed."""
        try:
            return self._call(lambda: self.api.list_versions(self.target.project))
        except ScrapydRefused as exc:
            if "not deployed" in str(exc):
                return []
            raise

    def log_url(self, jobid: str) -> str:
        """The absolute URL of a job's log, the one the Scrapyd web UI links to."""
        return f"{self.url}/logs/{self.target.project}/{SPIDER}/{jobid}.log"

    def _call(self, request: Callable[[], T]) -> T:
        import requests
        from scrapyd_api.exceptions import ScrapydResponseError

        try:
            return request()
        except requests.Timeout as exc:
            raise ScrapydUnavailable(f"Scrapyd at {self.url} did not answer in time.") from exc
        except requests.RequestException as exc:
            raise ScrapydUnavailable(
                f"Scrapyd at {self.url} cannot be reached; start it (see the README) or "
                "point --scrapyd / SCRAPYD_URL at it."
            ) from exc
        except ScrapydResponseError as exc:
            raise self._explain(str(exc)) from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise ScrapydUnavailable(
                f"Scrapyd at {self.url} answered something that is not its JSON API."
            ) from exc

    def _explain(self, message: str) -> Exception:
        if message.startswith("Scrapyd returned a 401"):
            return ScrapydRefused(
                f"Scrapyd at {self.url} refused the credentials (HTTP 401); set username and "
                "password in scrapy.cfg [deploy] or SCRAPYD_USERNAME / SCRAPYD_PASSWORD."
            )
        if message.startswith("Scrapyd returned an invalid JSON"):
            return ScrapydUnavailable(
                f"Scrapyd at {self.url} answered something that is not its JSON API."
            )
        if message.startswith("Scrapyd returned a "):
            code = message.split()[3]
            return ScrapydUnavailable(f"Scrapyd at {self.url} failed with HTTP {code}.")
        lowered = message.lower()
        if "project" in lowered and "not found" in lowered:
            return ScrapydRefused(
                f"The project {self.target.project} is not deployed on Scrapyd at {self.url}; "
                "run `scrapyd-deploy` from the project root."
            )
        if "spider" in lowered and "not found" in lowered:
            return ScrapydRefused(
                f"Scrapyd at {self.url} does not know the spider {SPIDER!r}; redeploy with "
                "`scrapyd-deploy`."
            )
        # Scrapyd's own message may quote what it was sent (a URL with credentials in it).
        message = mask_credentials(message).rstrip(".")
        return ScrapydRefused(f"Scrapyd at {self.url} refused the request: {message}.")
