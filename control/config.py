"""Global options of the tool and where their defaults come from (env, scrapy.cfg).

Scrapyd nodes are declared the way scrapyd-deploy already reads them: `[deploy]` and
`[deploy:NAME]` sections of scrapy.cfg (`scrapyd-deploy -a` deploys to all of them), or
`--scrapyd` / SCRAPYD_URL with one or more comma-separated URLs.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from control import environment, jobs
from control.exceptions import InvalidRequest
from control.scrapyd import DEFAULT_URL, ScrapydTarget
from docscrawl import redact
from docscrawl.models import Job


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


def _deploy_targets() -> dict[str, dict[str, str]]:
    """scrapy.cfg's deploy targets by name, as scrapyd-deploy builds them ([deploy] is default)."""
    config = configparser.ConfigParser(interpolation=_EnvInterpolation())
    config.read(scrapy_cfg_sources())
    base = dict(config.items("deploy")) if config.has_section("deploy") else {}
    targets = {"default": base} if "url" in base else {}
    for section in config.sections():
        if section.startswith("deploy:"):
            targets[section[len("deploy:") :]] = {**base, **dict(config.items(section))}
    return targets


def _target(name: str, url: str, settings: dict[str, str]) -> ScrapydTarget:
    username = environment.scrapyd_username() or settings.get("username") or None
    password = environment.scrapyd_password() or settings.get("password") or None
    max_proc = settings.get("max_proc")
    return ScrapydTarget(
        url=url.rstrip("/"),
        username=username,
        password=password,
        project=settings.get("project") or "docscrawl",
        name=name,
        max_proc=int(max_proc) if max_proc else None,
    )


def _node(name: str, url: str, settings: dict[str, str]) -> ScrapydTarget:
    """The target at url; credentials in the URL (user:password@) log in to it and are taken
    out of it, so that the URL can be shown and stored."""
    bare, username, password = redact.split_credentials(url)
    target = _target(name, bare, settings)
    if username is None and password is None:
        return target
    return replace(target, username=username, password=password)


def _bare(url: str) -> str:
    return redact.split_credentials(url.strip())[0].rstrip("/")


def configured_nodes(urls: str | None) -> list[ScrapydTarget]:
    """The Scrapyd nodes: --scrapyd / SCRAPYD_URL, else scrapy.cfg's targets, else the default.

    Credentials come from the node URL (http://user:password@host:port), from scrapy.cfg (with
    ${ENV} expansion, as scrapyd-deploy reads them) or from SCRAPYD_USERNAME / SCRAPYD_PASSWORD.
    """
    targets = _deploy_targets()
    by_url = {_bare(t["url"]): (name, t) for name, t in targets.items() if t.get("url")}
    for url in [*(urls or "").split(","), *(t["url"] for t in targets.values() if t.get("url"))]:
        _check_node_url(url.strip())
    if urls:
        nodes = []
        for url in (part.strip().rstrip("/") for part in urls.split(",")):
            if url:
                name, settings = by_url.get(_bare(url), (urlsplit(_bare(url)).netloc or url, {}))
                nodes.append(_node(name, url, settings))
        return _unique(nodes)
    nodes = [_node(name, t["url"], t) for name, t in targets.items() if t.get("url")]
    return _unique(nodes) or [_target("default", DEFAULT_URL, {})]


def _check_node_url(url: str) -> None:
    if url and not jobs.is_http_url(redact.split_credentials(url)[0]):
        raise InvalidRequest(
            f"{redact.mask_credentials(url)!r} is not a Scrapyd URL such as http://127.0.0.1:6800."
        )


def _unique(nodes: list[ScrapydTarget]) -> list[ScrapydTarget]:
    seen: set[str] = set()
    return [node for node in nodes if not (node.url in seen or seen.add(node.url))]


def resolve_scrapyd_target(urls: str | None) -> ScrapydTarget:
    """The first configured node (what single-node commands talk to)."""
    return configured_nodes(urls)[0]


@dataclass
class Config:
    """What every command shares: the store location and the Scrapyd nodes."""

    db: str
    scrapyd_url: str | None = None
    _views: dict[str, Any] = field(default_factory=dict, repr=False)
    _nodes: list[ScrapydTarget] | None = field(default=None, repr=False)

    def nodes(self) -> list[ScrapydTarget]:
        """The configured nodes (scrapy.cfg is read once per command)."""
        if self._nodes is None:
            self._nodes = configured_nodes(self.scrapyd_url)
        return self._nodes

    def target_for(self, node_url: str) -> ScrapydTarget:
        """The configured node at this URL (for its credentials), or a bare target for it."""
        bare = _bare(node_url)
        for node in self.nodes():
            if node.url == bare:
                return node
        return _node(urlsplit(bare).netloc or bare, node_url, {})

    def view(self, node_url: str) -> Any:
        """Scrapyd's view of one node, fetched at most once per command."""
        if node_url not in self._views:
            from control.scheduling import ScrapydView

            self._views[node_url] = ScrapydView(self.target_for(node_url))
        return self._views[node_url]

    def unreachable_nodes(self) -> list[Any]:
        """The nodes this command could not reach, with the reason."""
        return [view for view in self._views.values() if view.unreachable is not None]

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
        # Only jobs run by Scrapyd make us look for (and talk to) Scrapyd at all, and each job
        # is asked about on its own node.
        if job.mode != "scrapyd" or not job.node:
            return None
        return self.view(job.node).is_alive(job)

    def _scrapyd_stop(self, job: Job, kill: bool) -> tuple[bool, str | None]:
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

    def cancel_hooks(self) -> dict[str, Any]:
        return {"probes": [self._scrapyd_alive], "stop_remote": self._scrapyd_stop}
