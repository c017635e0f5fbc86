"""Where the Scrapyd nodes come from: --scrapyd / SCRAPYD_URL, else scrapy.cfg, else the default.

Scrapyd nodes are declared the way scrapyd-deploy already reads them: `[deploy]` and
`[deploy:NAME]` sections of scrapy.cfg (`scrapyd-deploy -a` deploys to all of them), or
`--scrapyd` / SCRAPYD_URL with one or more comma-separated URLs.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import replace
from urllib.parse import urlsplit

from control import environment
from control.exceptions import InvalidRequest
from control.scrapyd import DEFAULT_URL, ScrapydTarget
from control.validation import is_http_url
from docscrawl import redact


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


def node_target(name: str, url: str, settings: dict[str, str]) -> ScrapydTarget:
    """The target at url; credentials in the URL (user:password@) log in to it and are taken
    out of it, so that the URL can be shown and stored."""
    bare, username, password = redact.split_credentials(url)
    target = _target(name, bare, settings)
    if username is None and password is None:
        return target
    return replace(target, username=username, password=password)


def bare_url(url: str) -> str:
    return redact.split_credentials(url.strip())[0].rstrip("/")


def configured_nodes(urls: str | None) -> list[ScrapydTarget]:
    """The Scrapyd nodes: --scrapyd / SCRAPYD_URL, else scrapy.cfg's targets, else the default.

    Credentials come from the node URL (http://user:password@host:port), from scrapy.cfg (with
    ${ENV} expansion, as scrapyd-deploy reads them) or from SCRAPYD_USERNAME / SCRAPYD_PASSWORD.
    """
    targets = _deploy_targets()
    by_url = {bare_url(t["url"]): (name, t) for name, t in targets.items() if t.get("url")}
    for url in [*(urls or "").split(","), *(t["url"] for t in targets.values() if t.get("url"))]:
        _check_node_url(url.strip())
    if urls:
        nodes = []
        for url in (part.strip().rstrip("/") for part in urls.split(",")):
            if url:
                name, settings = by_url.get(
                    bare_url(url), (urlsplit(bare_url(url)).netloc or url, {})
                )
                nodes.append(node_target(name, url, settings))
        return _unique(nodes)
    nodes = [node_target(name, t["url"], t) for name, t in targets.items() if t.get("url")]
    return _unique(nodes) or [_target("default", DEFAULT_URL, {})]


def _check_node_url(url: str) -> None:
    if url and not is_http_url(redact.split_credentials(url)[0]):
        raise InvalidRequest(
            f"{redact.mask_credentials(url)!r} is not a Scrapyd URL such as http://127.0.0.1:6800."
        )


def _unique(nodes: list[ScrapydTarget]) -> list[ScrapydTarget]:
    seen: set[str] = set()
    return [node for node in nodes if not (node.url in seen or seen.add(node.url))]
