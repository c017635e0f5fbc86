"""Parsing: markup (text, or bytes in some encoding) into the lxml tree the other stages read.

Parsed the way parsel parses a Scrapy response, so that :func:`docscrawl.extraction.extract_html`
and a spider's ``response.selector.root`` give the same tree, and the same page.
"""

from __future__ import annotations

import re
import threading

from lxml import etree
from lxml import html as lxml_html
from w3lib.encoding import html_to_unicode

from docscrawl.extraction.page import PARSE, FailureCounter

_parsers = threading.local()  # lxml parsers must not be shared between threads


def _parser() -> etree.HTMLParser:
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        # The same parser parsel builds for Scrapy's response.selector.
        parser = _parsers.parser = lxml_html.HTMLParser(
            recover=True, encoding="utf-8", huge_tree=True
        )
    return parser


def _guess_encoding(body: bytes) -> str | None:
    for encoding in ("ascii", "utf-8", "cp1252"):
        try:
            body.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def parse_markup(
    markup: str | bytes, encoding: str | None, base_url: str, failures: FailureCounter
) -> etree._Element | None:
    """The document's root element; None when there is no document (or it could not be parsed)."""
    if isinstance(markup, (bytes, bytearray, memoryview)):
        content_type = f"text/html; charset={encoding}" if encoding else None
        # BOM, then the given encoding, then <meta charset>, then a guess (as Scrapy's
        # TextResponse does), then UTF-8 with replacement characters; never raises.
        _, text = html_to_unicode(content_type, bytes(markup), auto_detect_fun=_guess_encoding)
    elif isinstance(markup, str):
        text = markup
    else:
        return None
    text = text.strip().replace("\x00", "")
    if not text:
        return None
    try:
        return etree.fromstring(
            text.encode("utf-8", "replace"), parser=_parser(), base_url=base_url or None
        )
    except (etree.LxmlError, ValueError):
        failures.record(PARSE, "could not parse the markup", exc_info=True)
        return None


def as_html_tree(
    root: etree._Element, base_url: str, failures: FailureCounter
) -> etree._Element | None:
    """``root`` as an HTML tree: XHTML parsed as XML (namespaced tags) is parsed again as HTML."""
    tag = root.getroottree().getroot().tag
    if tag.__class__ is str and tag[:1] == "{":
        return parse_markup(etree.tostring(root, encoding="unicode"), None, base_url, failures)
    return root


def text_of(el: etree._Element) -> str:
    """All the text inside ``el`` (serialised by libxml2: far faster than itertext)."""
    return etree.tostring(el, method="text", encoding="unicode", with_tail=False)


def word_set(names: str) -> frozenset[str]:
    """A set of tag, role or class names written as one whitespace-separated string."""
    return frozenset(names.split())


def is_inside(node: etree._Element, el: etree._Element) -> bool:
    """Whether ``node`` is a descendant of ``el``."""
    return any(ancestor is el for ancestor in node.iterancestors())


_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.IGNORECASE).search


def is_hidden(el: etree._Element) -> bool:
    """Hidden from readers: ``hidden``, ``aria-hidden=true`` or ``display: none``; an inactive
    tab panel (``role=tabpanel hidden``: the npm or conda variant of a step) is content."""
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return el.get("role") != "tabpanel"
    style = el.get("style")
    return bool(style) and "none" in style and _DISPLAY_NONE(style) is not None
