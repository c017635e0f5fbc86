"""Global options of the tool and where their defaults come from (env, scrapy.cfg)."""

from __future__ import annotations

import configparser
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from control import jobs
from control.scrapyd import DEFAULT_URL, ScrapydTarget
from docscrawl.models import Job


def resolve_scrapyd_target(url: str | None) -> ScrapydTarget:
    """--scrapyd / SCRAPYD_URL, else scrapy.cfg's [deploy] url, else the local default.

    Credentials come from scrapy.cfg's [deploy] section as scrapyd-deploy reads it (with
    ${ENV} expansion), or from SCRAPYD_USERNAME / SCRAPYD_PASSWORD.
    """
    deploy = _deploy_section()
    url = url or deploy.get("url") or DEFAULT_URL
    username = os.environ.get("SCRAPYD_USERNAME") or deploy.get("username") or None
    password = os.environ.get("SCRAPYD_PASSWORD") or deploy.get("password") or None
    return ScrapydTarget(
        url=url.rstrip("/"),
        username=username,
        password=password,
        project=deploy.get("project") or "docscrawl",
    )


class _EnvInterpolation(configparser.BasicInterpolation):
    """Expand ${ENV} in values, as scrapyd-deploy does."""

    def before_get(self, parser, section, option, value, defaults):  # type: ignore[override]
        return os.path.expandvars(super().before_get(parser, section, option, value, defaults))


def scrapy_cfg_sources() -> list[str]:
    """The scrapy.cfg files Scrapy and scrapyd-deploy read, weakest first.

    The same list as scrapy.utils.conf.get_sources(); read here because importing Scrapy (and
    scrapyd-client) would add a quarter of a second to every command, `cancel` included.
    """
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    sources = [
        "/etc/scrapy.cfg",
        r"c:\scrapy\scrapy.cfg",
        os.path.join(xdg, "scrapy.cfg"),
        os.path.expanduser("~/.scrapy.cfg"),
    ]
    directory = os.path.abspath(".")
    while True:
        candidate = os.path.join(directory, "scrapy.cfg")
        if os.path.exists(candidate):
            sources.append(candidate)
            break
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return sources


def _deploy_section() -> dict[str, str]:
    config = configparser.ConfigParser(interpolation=_EnvInterpolation())
    config.read(scrapy_cfg_sources())
    return dict(config.items("deploy")) if config.has_section("deploy") else {}


@dataclass
class Config:
    """What every command shares: the store location and the Scrapyd node."""

    db: str
    scrapyd_url: str | None = None
    _scrapyd: Any = field(default=None, repr=False)

    def scrapyd_view(self) -> Any:
        """Scrapyd's view of our jobs, fetched at most once per command."""
        if self._scrapyd is None:
            from control.scheduling import ScrapydView

            self._scrapyd = ScrapydView(resolve_scrapyd_target(self.scrapyd_url))
        return self._scrapyd

    def _uses_scrapyd(self, candidates: Iterable[Job] | None) -> bool:
        if candidates is None:
            return (
                Job.select()
                .where((Job.mode == "scrapyd") & (Job.status << jobs.models.ACTIVE_STATUSES))
                .exists()
            )
        return any(job.mode == "scrapyd" for job in candidates)

    def probes(self, candidates: Iterable[Job] | None = None) -> list[Any]:
        return [self._scrapyd_alive] if self._uses_scrapyd(candidates) else []

    def _scrapyd_alive(self, job: Job) -> bool | None:
        # Only jobs run by Scrapyd make us look for (and talk to) Scrapyd at all.
        return self.scrapyd_view().is_alive(job) if job.mode == "scrapyd" else None

    def _scrapyd_stop(self, job: Job, kill: bool) -> tuple[bool, str | None]:
        return self.scrapyd_view().stop(job, kill) if job.mode == "scrapyd" else (False, None)

    def reconcile(self, candidates: list[Job] | None = None) -> list[jobs.Reconciled]:
        """Finish jobs whose process is gone (Scrapyd's view, the pid, the heartbeat)."""
        return jobs.reconcile(candidates, self.probes(candidates))

    def merge_scrapyd(self, job: Job, details: dict[str, Any]) -> dict[str, Any]:
        """Add what Scrapyd knows of a job run there (pid, times, log URL)."""
        if job.mode != "scrapyd":
            return details
        return self.scrapyd_view().merge(job, details)

    def cancel_hooks(self) -> dict[str, Any]:
        return {"probes": [self._scrapyd_alive], "stop_remote": self._scrapyd_stop}
