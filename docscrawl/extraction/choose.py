"""Choosing the main content: the element of a page that holds its text, not its furniture.

Documentation generators mark it up in a few known ways (ARIA ``role=main``, ``<main>`` or
``<article>``, then the wrapper classes of Sphinx, Read the Docs, MkDocs Material, DocBook...);
the most specific one found wins. A theme no rule knows falls back to the region that holds
the page's text (density.py), and ``<body>`` when no region does. What to skip *inside* the main
content (permalinks, tables of contents, edit links) is decided while rendering it (render.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from lxml import etree

from docscrawl.extraction.density import densest_region, has_regions
from docscrawl.extraction.parse import is_inside, text_of

_DOCBOOK_DIVS = (
    "book chapter section article refentry part appendix preface sect1 reference glossary "
    "bibliography colophon set"
)

# Where the main content is, most specific first (libxml2 is slow at predicates such as
# //*[@role='main'] but fast at returning attributes, so candidates are found through those).
_ROLE_ATTRS = etree.XPath("//@role")
_MAIN_ELEMENTS = etree.XPath("//main|//article")
_CLASS_ATTRS = etree.XPath("//div/@class|//section/@class|//td/@class")
_ID_ATTRS = etree.XPath("//@id")
_RANK_BODY, _RANK_DOCUMENT, _RANK_RST, _RANK_MD, _RANK_DOCBOOK, _RANK_CONTENT = range(6)
_CLASS_RANKS = {
    "body": _RANK_BODY,
    "document": _RANK_DOCUMENT,
    "rst-content": _RANK_RST,
    "md-content": _RANK_MD,
    **dict.fromkeys(_DOCBOOK_DIVS.split(), _RANK_DOCBOOK),
    "content": _RANK_CONTENT,
}
_RANK_NAMES = {
    _RANK_BODY: "body",
    _RANK_DOCUMENT: "document",
    _RANK_RST: "rst-content",
    _RANK_MD: "md-content",
    _RANK_DOCBOOK: "docbook",
    _RANK_CONTENT: "content",
}
_RANKED_CLASS = re.compile(
    r"(?:^|\s)(?:" + "|".join(map(re.escape, _CLASS_RANKS)) + r")(?:\s|$)"
).search
_HAS_TEXT = etree.XPath("boolean(normalize-space(.))")
_FURNITURE_TAGS = frozenset(("nav", "footer", "aside"))
_CONTENT_TAGS = frozenset(("main", "article"))
_FURNITURE_ROLES = frozenset(("navigation", "banner", "contentinfo", "complementary", "search"))


def _common_ancestor(nodes: list[etree._Element]) -> etree._Element:
    chain = [nodes[0], *nodes[0].iterancestors()]
    depth_of = {id(el): i for i, el in enumerate(chain)}
    best = 0
    for node in nodes[1:]:
        for el in (node, *node.iterancestors()):
            i = depth_of.get(id(el))
            if i is not None:
                best = max(best, i)
                break
        else:
            return chain[-1]
    return chain[best]


def _pick(
    found: list[etree._Element], heading: etree._Element | None = None
) -> etree._Element | None:
    """The outermost of the candidates: the one holding the page's heading if there are several
    and one does (cards marked <article> beside the content), else their common ancestor."""
    if not found:
        return None
    if len(found) > 1 and heading is not None:
        # Nested candidates (a <main> inside a <main>, role=main on a wrapper): the innermost
        # one holding the page's heading, not the outer one holding the sidebar beside it.
        holding = [el for el in found if is_inside(heading, el) and _HAS_TEXT(el)]
        if holding:
            return max(holding, key=lambda el: sum(1 for _ in el.iterancestors()))
    if len(found) > 1:
        members = {id(el) for el in found}  # the proxies stay alive in found, so ids are stable
        outermost = []
        for el in found:
            parent = el.getparent()
            while parent is not None and id(parent) not in members:
                parent = parent.getparent()
            if parent is None:
                outermost.append(el)
        found = outermost
    found = [el for el in found if _HAS_TEXT(el)]
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    if heading is not None:
        for el in found:
            if el is heading or is_inside(heading, el):
                return el
    return _common_ancestor(found)


def main_content(root: etree._Element) -> etree._Element:
    """The element that holds the page's main content (``<body>``, or the root, if none does)."""
    return choose_main(root)[0]


def choose_main(
    root: etree._Element, selector: Callable[[etree._Element], list] | None = None
) -> tuple[etree._Element, str]:
    """The main content's element, and the rule that chose it (kept in the page's audit).

    ``selector`` (a compiled ``DOCSCRAWL_MAIN_SELECTOR``) wins when it matches; then the
    generators' markup, most specific first; then, for a theme no rule knows, the region where
    the page's text is (density.py).
    """
    if selector is not None:
        main = _pick(selector(root))
        if main is not None:
            return main, "selector"
    heading = page_heading(root)
    for main, rule in _known_candidates(root, heading):
        if heading is None or main is heading or is_inside(heading, main):
            return main, rule
        # The markup names a region without the page's title: a sidebar marked role=main or
        # class=content, cards marked <article>. The next rule, or the text itself, decides.
    for body in root.iter("body"):
        region = densest_region(body, heading)
        if region is not body:
            return region, "density"
        # "body": regions the text could not be told apart in; "page": a plain page with no
        # regions at all (h1, paragraphs, lists straight in <body>), all of it content.
        return body, "body" if has_regions(body) else "page"
    return root, "none"


def _known_candidates(
    root: etree._Element, heading: etree._Element | None
) -> Iterator[tuple[etree._Element, str]]:
    """The regions the generators' markup names as main content, most specific first."""
    main = _pick([a.getparent() for a in _ROLE_ATTRS(root) if a.strip().lower() == "main"], heading)
    if main is not None:
        yield main, "role=main"
    elements = _MAIN_ELEMENTS(root)
    if elements:
        articles = [el for el in elements if el.tag == "article"]
        material = [el for el in articles if "md-content__inner" in (el.get("class") or "")]
        mains = [el for el in elements if el.tag == "main"]
        candidates = (("md-content__inner", material), ("main", mains), ("article", articles))
        for rule, found in candidates:
            main = _pick(found, heading)
            if main is not None:
                yield main, rule
    ranked: list[list[etree._Element]] = [[] for _ in range(_RANK_CONTENT + 1)]
    for value in _CLASS_ATTRS(root):
        if _RANKED_CLASS(value) is None:
            continue
        ranks = {_CLASS_RANKS.get(name) for name in value.split()}
        ranks.discard(None)
        if ranks:
            el = value.getparent()
            for rank in ranks:
                if rank == _RANK_CONTENT or el.tag == "div":
                    ranked[rank].append(el)
    for rank, found in enumerate(ranked):
        if rank == _RANK_CONTENT:  # #content before .content
            main = _pick([a.getparent() for a in _ID_ATTRS(root) if a == "content"], heading)
            if main is not None:
                yield main, "id:content"
        main = _pick(found, heading)
        if main is not None:
            yield main, "class:" + _RANK_NAMES[rank]


def page_heading(root: etree._Element) -> etree._Element | None:
    """The page's own <h1>: one that starts the <title> ("Install - Acme Docs"), else one the
    title holds, else the first; never one in the page's furniture or a logo link. Doxygen's
    ``div.headertitle`` is its <h1>."""
    title_element = next(root.iter("title"), None)
    title = " ".join(text_of(title_element).split()).casefold() if title_element is not None else ""
    starts: etree._Element | None = None
    within: etree._Element | None = None
    first: etree._Element | None = None
    for h1 in root.iter("h1", "div"):
        if h1.tag == "div" and "headertitle" not in (h1.get("class") or ""):
            continue
        text = " ".join(text_of(h1).split()).strip("¶#§ ").casefold()
        if not text or _in_furniture(h1) or _is_logo(h1, text):
            continue
        if title.startswith(text) and starts is None:
            starts = h1
        elif text in title and within is None:
            within = h1
        if first is None:
            first = h1
    for found in (starts, within):
        if found is not None:
            return found
    return first


def _in_furniture(el: etree._Element) -> bool:
    for ancestor in el.iterancestors():
        tag = ancestor.tag
        if tag in _FURNITURE_TAGS or (ancestor.get("role") or "") in _FURNITURE_ROLES:
            return True
        if tag == "header" and not any(a.tag in _CONTENT_TAGS for a in ancestor.iterancestors()):
            return True
    return False


def _is_logo(h1: etree._Element, text: str) -> bool:
    """A site name in an <h1>: its text is one link to a page (a permalink is "#...")."""
    for link in h1.iter("a"):
        href = link.get("href") or ""
        if href and not href.startswith("#"):
            return len(" ".join(text_of(link).split())) >= len(text) * 0.8
    return False
