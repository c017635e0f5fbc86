"""Per-site selector overrides: fix a theme the rules get wrong without a code change.

``DOCSCRAWL_MAIN_SELECTOR`` names the main content (it wins over every rule when it matches a
page; a page it does not match falls back to the rules), ``DOCSCRAWL_DROP_SELECTORS`` what never
to keep inside it. Both are CSS, as in Scrapy's ``response.css()`` (cssselect, HTML flavour).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector


def compile_selector(setting: str, text: str) -> CSSSelector:
    """The compiled selector, or ValueError in a sentence naming the setting."""
    try:
        return CSSSelector(text, translator="html")
    except SelectorError as exc:
        raise ValueError(f"{setting}={text!r} is not a CSS selector ({exc})") from None


@dataclass(frozen=True)
class SiteOverrides:
    """The compiled overrides for one crawl (empty when neither setting is set)."""

    main: CSSSelector | None = None
    drop: CSSSelector | None = None

    @classmethod
    def from_settings(cls, main_selector: str, drop_selectors: Iterable[str]) -> SiteOverrides:
        main = main_selector.strip()
        drop = ", ".join(part.strip() for part in drop_selectors if part.strip())
        return cls(
            main=compile_selector("DOCSCRAWL_MAIN_SELECTOR", main) if main else None,
            drop=compile_selector("DOCSCRAWL_DROP_SELECTORS", drop) if drop else None,
        )

    def dropped(self, root: etree._Element) -> list[etree._Element]:
        """The elements of this page never to keep (the caller keeps the list alive)."""
        return self.drop(root) if self.drop is not None else []


def site_overrides(settings: Any) -> SiteOverrides:
    """The overrides a crawl's Scrapy settings ask for (ValueError for a bad selector)."""
    drop = settings.get("DOCSCRAWL_DROP_SELECTORS") or ""
    return SiteOverrides.from_settings(
        settings.get("DOCSCRAWL_MAIN_SELECTOR") or "", [drop] if isinstance(drop, str) else drop
    )
