"""The page's extraction audit: what of its visible content the main content kept.

"Found" counts what a reader sees as content anywhere on the page: headings, code blocks and
data tables outside the page's furniture (navigation, header, footer, sidebars, the elements the
renderer drops by their tag, role or class). "Kept" is what the rendered main content holds. A
page whose main region was chosen too small, or whose content was dropped as navigation, shows
found > kept or a low share of its visible words; ``docscrawl audit`` lists those pages.
"""

from __future__ import annotations

import re

from lxml import etree

from docscrawl.extraction.page import ExtractedPage, FailureCounter
from docscrawl.extraction.parse import is_hidden
from docscrawl.extraction.render import Renderer, is_layout_table
from docscrawl.extraction.resolve import Resolver

_NOT_TEXT = ("script", "style", "noscript", "template", "svg", "title")
_NOT_SHOWN_TEXT = etree.XPath("|".join(f".//{tag}//text()" for tag in _NOT_TEXT))
_LINK_TEXT = etree.XPath(".//a//text()")
_HIDDEN = etree.XPath("//body//@hidden|//body//@aria-hidden")
_MD_LINK_TEXT = re.compile(r"(?<!!)\[((?:[^\]\\]|\\.)*)\]\(").findall
_CANDIDATE_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "pre", "table")
_HAS_TEXT = etree.XPath("boolean(normalize-space(.))")
_ROWS = etree.XPath("count(./tr|./thead/tr|./tbody/tr|./tfoot/tr)")
_INNER_TABLE = etree.XPath("boolean(.//table)")


class _Furniture:
    """Whether an element lies inside page furniture, by the renderer's own rules (memoised)."""

    def __init__(self, failures: FailureCounter) -> None:
        self._renderer = Renderer(Resolver("", failures), keep_headers=True, failures=failures)
        self._known: dict[int, bool] = {}
        self._keep: list[etree._Element] = []  # keeps the proxies, and so their ids, alive

    def contains(self, el: etree._Element) -> bool:
        path = []
        node = el
        result = False
        while node is not None and node.tag != "body":
            known = self._known.get(id(node))
            if known is not None:
                result = known
                break
            path.append(node)
            tag = node.tag
            if tag.__class__ is str and tag not in _CONTENT_TAGS and self._renderer.excludes(node):
                result = True
                break
            node = node.getparent()
        for node in path:
            self._known[id(node)] = result
            self._keep.append(node)
        return result


# Elements judged by themselves (a permalink inside a heading is not the heading's furniture).
_CONTENT_TAGS = frozenset(
    ("h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "tbody", "thead", "tr", "td", "th")
)


def audit_page(page: ExtractedPage, root: etree._Element) -> None:
    """Fill ``page.audit``'s found counts and word counts (kept code and tables are counted by
    the renderer; kept headings are ``page.headings``)."""
    audit = page.audit
    audit.visible_words, audit.visible_link_words = _visible_words(root)
    audit.kept_words = words(page.text)
    audit.kept_link_words = markdown_link_words(page.markdown)
    audit.headings_kept = len(page.headings)
    furniture = _Furniture(FailureCounter("", {}))
    body = next(root.iter("body"), None)
    if body is None:
        return
    for el in body.iter(*_CANDIDATE_TAGS):
        tag = el.tag
        if furniture.contains(el) or not _HAS_TEXT(el):
            continue
        if tag == "pre":
            if _inside(el, "pre") or "lineno" in (el.get("class") or ""):
                continue
            parent = el.getparent()
            if parent is not None and "lineno" in (parent.get("class") or ""):
                continue
            audit.code_blocks_found += 1
        elif tag == "table":
            if "highlighttable" in (el.get("class") or "") or is_layout_table(el):
                continue
            if _INNER_TABLE(el) or _ROWS(el) < 2:
                continue
            audit.tables_found += 1
        else:
            audit.headings_found += 1
    # What the main content kept cannot exceed what was found (a heading inside a header the
    # renderer keeps is not "found" furniture-free, yet kept).
    audit.headings_found = max(audit.headings_found, audit.headings_kept)
    audit.code_blocks_found = max(audit.code_blocks_found, audit.code_blocks_kept)
    audit.tables_found = max(audit.tables_found, audit.tables_kept)


def _inside(el: etree._Element, tag: str) -> bool:
    return any(ancestor.tag == tag for ancestor in el.iterancestors())


def _words_in(el: etree._Element) -> int:
    return words(" ".join(el.itertext()))


def words(text: str) -> int:
    """Whitespace-separated tokens: the same count on the page and in the main text (a finer
    count, without punctuation tokens, would double the audit's cost for a rounding error)."""
    return len(text.split())


def markdown_link_words(markdown: str) -> int:
    """Words of link text in rendered Markdown ([text](url))."""
    return sum(words(text) for text in _MD_LINK_TEXT(markdown))


def _visible_words(root: etree._Element) -> tuple[int, int]:
    """Words of the body's text, and of its link text, without scripts, styles and hidden
    elements: all of it, less what is not shown. A few C-level XPath walks and one word count
    each; an XPath excluding hidden ancestors per text node costs several times the whole
    extraction, and counting link by link a third of it."""
    body = next(root.iter("body"), None)
    if body is None:
        return 0, 0
    total = _words_in(body) - words(" ".join(_NOT_SHOWN_TEXT(body)))
    hidden = {id(a.getparent()): a.getparent() for a in _HIDDEN(root)}
    for el in hidden.values():
        if is_hidden(el):
            total -= _words_in(el)
    links = words(" ".join(_LINK_TEXT(body)))
    return max(total, 0), max(links, 0)
