"""The Twisted reactor Scrapy runs on, for components that schedule calls or shutdown triggers."""

from __future__ import annotations

from typing import Any


def installed_reactor() -> Any:
    # Imported late: importing twisted.internet.reactor installs the default reactor, and
    # Scrapy must be the one to choose and install it.
    from twisted.internet import reactor

    return reactor
