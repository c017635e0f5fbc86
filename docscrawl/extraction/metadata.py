"""Reading metadata: a page's title, description, language and canonical URL.

From the ``<head>`` first (``<title>``, ``<meta>``, ``<link rel=canonical>``, ``<html lang>``);
what the head lacks is taken from the content: the language the main content is marked up in,
the first ``<h1>`` as the title.
"""

from __future__ import annotations

from lxml import etree

from docscrawl.extraction.page import ExtractedPage
from docscrawl.extraction.parse import text_of
from docscrawl.extraction.resolve import Resolver

_TITLE = etree.XPath("(//title[not(ancestor::svg)])[1]")
_META = etree.XPath("//meta[@content]")
_CANONICAL = etree.XPath("//link[@href][@rel]")


def clean(value: str | None) -> str | None:
    """``value`` with its whitespace collapsed; None if that leaves nothing."""
    if not value:
        return None
    value = " ".join(value.split())
    return value or None


def _meta(root: etree._Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for meta in _META(root):
        key = meta.get("name") or meta.get("property") or meta.get("http-equiv")
        if key:
            key = key.strip().lower()
            if key not in found:
                content = clean(meta.get("content"))
                if content:
                    found[key] = content
    return found


def fill_metadata(page: ExtractedPage, root: etree._Element, resolve: Resolver) -> None:
    """Fill the page's title, description, language and canonical URL from the document."""
    for title in _TITLE(root):
        page.title = clean(text_of(title))
    meta = _meta(root)
    page.description = meta.get("description") or meta.get("og:description")
    doc = root.getroottree().getroot()
    language = clean(doc.get("lang") or doc.get("{http://www.w3.org/XML/1998/namespace}lang"))
    language = language or clean(doc.get("xml:lang")) or meta.get("content-language")
    if not language and meta.get("og:locale"):
        language = meta["og:locale"].replace("_", "-")
    page.language = language
    for link in _CANONICAL(root):
        if "canonical" in link.get("rel", "").lower().split():
            href = link.get("href", "").strip()
            if href:
                canonical = resolve(href)
                if canonical and canonical.lower().startswith(("http://", "https://")):
                    page.canonical_url = canonical
                break


def content_language(main: etree._Element) -> str | None:
    """The language the main content, or the nearest element around it, is marked up in."""
    for el in (main, *main.iterancestors()):
        lang = clean(el.get("lang"))
        if lang:
            return lang
    return None


def fill_title_from_content(page: ExtractedPage, root: etree._Element) -> None:
    """A page without a <title> is titled by its first level-1 heading."""
    page.title = next((h.text for h in page.headings if h.level == 1), None)
    if page.title is None:
        for h1 in root.iter("h1"):
            page.title = clean(text_of(h1).replace("¶", ""))
            break
