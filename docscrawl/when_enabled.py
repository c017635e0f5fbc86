"""Scrapy's components that docscrawl turns off, imported only when a crawl turns them on.

Scrapy imports every component in its ``*_BASE`` lists before it asks each one whether it is
enabled, even one disabled with ``None``: disabling a component by its path imports it too, to
normalise the path. Three of them cost a polite crawl process memory for nothing, since they
only read a setting and decline: Scrapy's CookiesMiddleware (tldextract, requests, filelock),
the RemoteControl extension (aiohttp's web server) and the TelnetConsole (Twisted's conch).

docscrawl/settings.py puts a stand-in here in each one's place, at its order. The stand-in
checks the same setting; when a crawl turns it on (``-s COOKIES_ENABLED=True``), it builds
Scrapy's own component, which does the work as always. A crawl's DOWNLOADER_MIDDLEWARES or
EXTENSIONS that names Scrapy's component itself wins, as it would in plain Scrapy: ``None``
disables it (the stand-in declines), an order moves it (Scrapy's builds it there, the stand-in
declines).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy.utils.python import global_object_name

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class _WhenEnabled:
    component: str  # Scrapy's component, by import path
    setting: str  # the boolean setting it checks itself
    components: str  # the setting a crawl lists its own components of this kind in

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        if not crawler.settings.getbool(cls.setting) or cls._named_by_the_crawl(crawler):
            raise NotConfigured
        return build_from_crawler(load_object(cls.component), crawler)

    @classmethod
    def _named_by_the_crawl(cls, crawler: Crawler) -> bool:
        # Keys are import paths or the classes themselves (Scrapy takes both).
        return any(
            (key if isinstance(key, str) else global_object_name(key)) == cls.component
            for key in crawler.settings.getdict(cls.components)
        )


class CookiesMiddleware(_WhenEnabled):
    component = "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"
    setting = "COOKIES_ENABLED"
    components = "DOWNLOADER_MIDDLEWARES"


class RemoteControl(_WhenEnabled):
    component = "scrapy.extensions.remote_control.RemoteControl"
    setting = "REMOTE_CONTROL_ENABLED"
    components = "EXTENSIONS"


class TelnetConsole(_WhenEnabled):
    component = "scrapy.extensions.telnet.TelnetConsole"
    setting = "TELNETCONSOLE_ENABLED"
    components = "EXTENSIONS"


_ALL = (CookiesMiddleware, RemoteControl, TelnetConsole)
STAND_INS = {stand_in.component: f"{__name__}.{stand_in.__name__}" for stand_in in _ALL}
STAND_INS_BY_SETTING = {stand_in.setting: stand_in.component for stand_in in _ALL}


def without_idle_imports(components: dict[str, int | None]) -> dict[str, int | None]:
    """A Scrapy ``*_BASE`` dict with the stand-ins in place of the components they stand for."""
    return {STAND_INS.get(path, path): order for path, order in components.items()}
