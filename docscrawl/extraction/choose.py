"""Choosing the main content: the element of a page that holds its text, not its furniture.

Documentation generators mark it up in a few known ways (ARIA ``role=main``, ``<main>`` or
``<article>``, then the wrapper classes of Sphinx, Read the Docs, MkDocs Material, DocBook...);
the most specific one found wins, and ``<body>`` is the fallback. What to skip *inside* the main
content (permalinks, tables of contents, edit links) is decided while rendering it (render.py).
"""

from __future__ import annotations

import re

from lxml import etree

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
    main = _pick([a.getparent() for a in _ROLE_ATTRS(root) if a.strip().lower() == "main"])
    if main is not None:
        return main
    elements = _MAIN_ELEMENTS(root)
    if elements:
        articles = [el for el in elements if el.tag == "article"]
        material = [el for el in articles if "md-content__inner" in (el.get("class") or "")]
        for found in (material, [el for el in elements if el.tag == "main"], articles):
            main = _pick(found)
            if main is not None:
                return main
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
                return main
        main = _pick(found)
        if main is not None:
            return main
    for body in root.iter("body"):
        return body
    return root
