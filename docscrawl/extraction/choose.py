"""Choosing the main content: the element of a page that holds its text, not its furniture.

Documentation generators mark it up in a few known ways (ARIA ``role=main``, ``<main>`` or
``<article>``, then the wrapper classes of Sphinx, Read the Docs, MkDocs Material, DocBook...);
the most specific one found wins. A theme no rule knows falls back to the region that holds
the page's text (density.py), and ``<body>`` when no region does. What to skip *inside* the main
content (permalinks, tables of contents, edit links) is decided while rendering it (render.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from docscrawl.extraction.density import densest_region

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


def _pick(found: list[etree._Element]) -> etree._Element | None:
    """The outermost of the candidates (their common ancestor if there are several)."""
    if not found:
        return None
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
    return found[0] if len(found) == 1 else _common_ancestor(found)


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
    main = _pick([a.getparent() for a in _ROLE_ATTRS(root) if a.strip().lower() == "main"])
    if main is not None:
        return main, "role=main"
    elements = _MAIN_ELEMENTS(root)
    if elements:
        articles = [el for el in elements if el.tag == "article"]
        material = [el for el in articles if "md-content__inner" in (el.get("class") or "")]
        mains = [el for el in elements if el.tag == "main"]
        candidates = (("md-content__inner", material), ("main", mains), ("article", articles))
        for rule, found in candidates:
            main = _pick(found)
            if main is not None:
                return main, rule
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
            main = _pick([a.getparent() for a in _ID_ATTRS(root) if a == "content"])
            if main is not None:
                return main, "id:content"
        main = _pick(found)
        if main is not None:
            return main, "class:" + _RANK_NAMES[rank]
    for body in root.iter("body"):
        region = densest_region(body)
        return region, "density" if region is not body else "body"
    return root, "none"
