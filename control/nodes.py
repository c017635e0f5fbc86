"""The Scrapyd nodes: how loaded each is, and where the next crawl goes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from control.exceptions import DocscrawlError, InvalidRequest, ScrapydUnavailable
from control.scrapyd import ScrapydNode, ScrapydTarget


@dataclass
class NodeStatus:
    """One node as `docscrawl nodes` shows it."""

    name: str
    url: str
    reachable: bool
    running: int | None = None
    pending: int | None = None
    max_proc: int | None = None
    deployed: bool | None = None
    version: str | None = None
    error: str | None = None

    @property
    def load(self) -> float:
        """Busy share of the node (running + pending over max_proc, or the plain count)."""
        busy = (self.running or 0) + (self.pending or 0)
        return busy / self.max_proc if self.max_proc else float(busy)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def node_status(target: ScrapydTarget) -> NodeStatus:
    """Ask one node for its load and whether the project is deployed there."""
    node = ScrapydNode(target)
    status = NodeStatus(target.name, node.url, reachable=False, max_proc=target.max_proc)
    try:
        daemon = node.daemon_status()
        versions = node.list_versions()
    except DocscrawlError as exc:
        status.error = str(exc)
        return status
    status.reachable = True
    status.running = int(daemon.get("running", 0))
    status.pending = int(daemon.get("pending", 0))
    status.deployed = bool(versions)
    status.version = versions[-1] if versions else None
    return status


def pick_node(nodes: list[ScrapydTarget], pinned: str | None = None) -> ScrapydTarget:
    """The least-loaded reachable node that has the project deployed (or the pinned one)."""
    if pinned:
        chosen = [n for n in nodes if pinned in (n.name, n.url, n.url.rstrip("/"))]
        if not chosen:
            names = ", ".join(n.name for n in nodes)
            raise InvalidRequest(f"There is no node {pinned!r}; the nodes are: {names}.")
        return chosen[0]
    if len(nodes) == 1:
        return nodes[0]  # nothing to choose: let the schedule itself report what is wrong
    statuses = [(node_status(node), node) for node in nodes]
    usable = [(s, n) for s, n in statuses if s.reachable and s.deployed]
    if not usable:
        reasons = "; ".join(f"{s.name}: {s.error or 'project not deployed'}" for s, _ in statuses)
        raise ScrapydUnavailable(
            f"No Scrapyd node can take the crawl ({reasons}); deploy with `scrapyd-deploy -a`."
        )
    return min(usable, key=lambda pair: (pair[0].load, nodes.index(pair[1])))[1]
