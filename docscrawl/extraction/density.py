"""The main content of a theme no rule knows: found by where the text is, not by class names.

When no generator rule fires (no ``role=main``, ``<main>``, ``<article>`` or known wrapper
class), the page is a wrapper around regions: a header, a sidebar, the content, a footer. Chrome
is short or made of links; content is long running text, code and tables. So, from ``<body>``
down, the walk enters the child holding most of the text (links weighted low, since navigation
is links) as long as that child holds nearly all of it. Where the text splits between regions,
it enters the region holding the page's heading if what is beside it is only navigation (link
dense) or small. It stops where neither holds, and that element is the main content.

One pass over the tree counts each element's text and link text (bottom up, no recursion, so
pathological nesting costs nothing extra); the walk down then only reads those counts.
"""

from __future__ import annotations

from lxml import etree

from docscrawl.extraction.parse import is_hidden, is_inside, word_set

# Regions the renderer never keeps, so their text does not count for or against a candidate.
_SKIPPED = word_set(
    """script style noscript template svg head title nav footer header aside form button select
    option textarea iframe object embed canvas audio video map dialog"""
)
# Elements that can be a main-content region (blocks and layout cells, not a paragraph).
_REGIONS = word_set("div section td tr tbody thead table center span font blockquote")
_TABLE_PARTS = word_set("table tbody thead tr")
_LINK_WEIGHT = 0.3  # a link's text counts a third: navigation is links, content mostly is not
_HOLDS_NEARLY_ALL = 0.75  # a child holding this share of the text is where the content is
# Text beside the heading's region is chrome (a header, a footer) when each piece is this small
# relative to the region and all of it together is at most _ALL_BESIDE of it.
_SMALL_BESIDE = 0.4
_ALL_BESIDE = 1.0
_LINK_DENSE = 0.5


class TextCounts:
    """Each element's text and link-text lengths (in characters, without whitespace)."""

    __slots__ = ("_keep", "links", "text")

    def __init__(self, top: etree._Element) -> None:
        self.text: dict[int, int] = {}
        self.links: dict[int, int] = {}
        self._keep = list(top.iter())  # the proxies stay alive, so their ids stay unique
        for el in reversed(self._keep):
            tag = el.tag
            if tag.__class__ is not str or tag in _SKIPPED or is_hidden(el):
                self.text[id(el)] = self.links[id(el)] = 0
                continue
            total = _chars(el.text)
            links = 0
            for child in el:
                key = id(child)
                total += self.text.get(key, 0) + _chars(child.tail)
                links += self.links.get(key, 0)
            if tag == "a":
                links = total  # everything inside a link, its children's tails too, is link text
            self.text[id(el)] = total
            self.links[id(el)] = links

    def weight(self, el: etree._Element) -> float:
        text = self.text.get(id(el), 0)
        links = self.links.get(id(el), 0)
        return (text - links) + _LINK_WEIGHT * links

    def link_density(self, el: etree._Element) -> float:
        text = self.text.get(id(el), 0)
        return self.links.get(id(el), 0) / text if text else 1.0


def densest_region(body: etree._Element, heading: etree._Element | None) -> etree._Element:
    """The element under ``body`` that holds its main content (``body`` itself if none does);
    ``heading`` is the page's own title (choose.page_heading), if it has one."""
    counts = TextCounts(body)
    if heading is not None and counts.text.get(id(heading), 0) == 0:
        heading = None  # inside something the renderer drops (a header, hidden): not a guide
    current = body
    while True:
        children = [
            child
            for child in current
            if child.tag.__class__ is str and child.tag in _REGIONS and counts.weight(child) > 0
        ]
        if not children:
            return _outside_table(current)
        total = counts.weight(current)
        best = max(children, key=counts.weight)
        holder = _holder(children, heading) if heading is not None else None
        if counts.weight(best) >= _HOLDS_NEARLY_ALL * total and holder in (None, best):
            if holder is None and heading is not None and is_inside(heading, current):
                return current  # the heading is not in a region of its own: keep it
            current = best
            continue
        if holder is not None and _only_chrome_beside(current, holder, counts):
            current = holder
            continue
        return _outside_table(current)


def _outside_table(el: etree._Element) -> etree._Element:
    """A table (or a row) whose text is split between its cells is content as a whole table."""
    while el.tag in _TABLE_PARTS and el.getparent() is not None:
        el = el.getparent()
    return el


def has_regions(body: etree._Element) -> bool:
    """Whether the body is laid out in regions (divs, tables...) rather than plain blocks."""
    return any(child.tag.__class__ is str and child.tag in _REGIONS for child in body)


def _holder(children: list[etree._Element], heading: etree._Element) -> etree._Element | None:
    for ancestor in heading.iterancestors():
        for child in children:
            if ancestor is child:
                return child
    return None


def _only_chrome_beside(
    current: etree._Element, holder: etree._Element, counts: TextCounts
) -> bool:
    """Whether everything in ``current`` beside ``holder`` is navigation or too small to matter."""
    held = counts.weight(holder)
    beside = 0.0
    for child in current:
        if child is holder or child.tag.__class__ is not str:
            continue
        weight = counts.weight(child)
        if weight <= 0 or counts.link_density(child) >= _LINK_DENSE:
            continue
        if weight > _SMALL_BESIDE * held:
            return False
        beside += weight
    return beside <= _ALL_BESIDE * held


def _chars(text: str | None) -> int:
    if not text:
        return 0
    return len(text) - text.count(" ") - text.count("\n") - text.count("\t")
