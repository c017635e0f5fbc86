"""Global options of the tool and where their defaults come from (env, scrapy.cfg)."""

from __future__ import annotations

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


def _deploy_section() -> dict[str, str]:
    from scrapyd_client.utils import get_config

    config = get_config()
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
        return [self.scrapyd_view().is_alive] if self._uses_scrapyd(candidates) else []

    def reconcile(self, candidates: list[Job] | None = None) -> list[jobs.Reconciled]:
        """Finish jobs whose process is gone (Scrapyd's view, the pid, the heartbeat)."""
        return jobs.reconcile(candidates, self.probes(candidates))

    def merge_scrapyd(self, job: Job, details: dict[str, Any]) -> dict[str, Any]:
        """Add what Scrapyd knows of a job run there (pid, times, log URL)."""
        if job.mode != "scrapyd":
            return details
        return self.scrapyd_view().merge(job, details)

    def cancel_hooks(self) -> dict[str, Any]:
        view = self.scrapyd_view()
        return {"probes": [view.is_alive], "stop_remote": view.stop}
