"""One command's session: the store it opened, the Scrapyd nodes it may talk to, and what those
nodes answered during the command (each node's listjobs is fetched at most once per command)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from control import config, jobs
from control.scrapyd import ScrapydTarget
from control.scrapyd_view import ScrapydView
from docscrawl import models
from docscrawl.models import Job


@dataclass
class CommandSession:
    """What every command shares: the store location and the Scrapyd nodes, read once."""

    db: str
    scrapyd_url: str | None = None
    _views: dict[str, ScrapydView] = field(default_factory=dict, repr=False)
    _nodes: list[ScrapydTarget] | None = field(default=None, repr=False)

    def nodes(self) -> list[ScrapydTarget]:
        """The configured nodes (scrapy.cfg is read once per command)."""
        if self._nodes is None:
            self._nodes = config.configured_nodes(self.scrapyd_url)
        return self._nodes

    def target_for(self, node_url: str) -> ScrapydTarget:
        """The configured node at this URL (for its credentials), or a bare target for it."""
        bare = config.bare_url(node_url)
        for node in self.nodes():
            if node.url == bare:
                return node
        return config.node_target(urlsplit(bare).netloc or bare, node_url, {})

    def view(self, node_url: str) -> ScrapydView:
        """Scrapyd's view of one node, fetched at most once per command."""
        if node_url not in self._views:
            self._views[node_url] = ScrapydView(self.target_for(node_url))
        return self._views[node_url]

    def unreachable_nodes(self) -> list[ScrapydView]:
        """The nodes this command could not reach, with the reason."""
        return [view for view in self._views.values() if view.unreachable is not None]

    def probes(self, candidates: Iterable[Job] | None = None) -> list[jobs.LivenessProbe]:
        """Scrapyd's liveness probe, when any of the candidates (else any active job) runs there.

        Only jobs run by Scrapyd make a command look for (and talk to) Scrapyd at all.
        """
        return [self.alive_on_scrapyd] if _uses_scrapyd(candidates) else []

    def alive_on_scrapyd(self, job: Job) -> bool | None:
        """Scrapyd's answer about a job it runs, asked on the job's own node; None otherwise."""
        if job.mode != "scrapyd" or not job.node:
            return None
        return self.view(job.node).is_alive(job)

    def stop_on_scrapyd(self, job: Job, kill: bool) -> tuple[bool, str | None]:
        """Cancel (or kill) a job through its Scrapyd node: whether Scrapyd took it, a sentence."""
        if job.mode != "scrapyd" or not job.node:
            return False, None
        return self.view(job.node).stop(job, kill)

    def reconcile(self, candidates: list[Job] | None = None) -> list[jobs.Reconciled]:
        """Finish jobs whose process is gone (Scrapyd's view, the pid, the heartbeat)."""
        return jobs.reconcile(candidates, self.probes(candidates))

    def merge_scrapyd(self, job: Job, details: dict[str, Any]) -> dict[str, Any]:
        """Add what the job's Scrapyd node knows of it (pid, times, log URL, reachability)."""
        if job.mode != "scrapyd" or not job.node:
            return details
        return self.view(job.node).merge(job, details)


def _uses_scrapyd(candidates: Iterable[Job] | None) -> bool:
    if candidates is None:
        return (
            Job.select()
            .where((Job.mode == "scrapyd") & (Job.status << models.ACTIVE_STATUSES))
            .exists()
        )
    return any(job.mode == "scrapyd" for job in candidates)
