"""Rendering: the main content as Markdown, as plain text, and its headings, in one walk.

The conversion is done here in one pass over the lxml tree (it yields the Markdown, the plain
text and the headings at once) rather than with markdownify, which would re-parse every page with
BeautifulSoup and is an order of magnitude slower. The tree is only read: boilerplate inside the
main content (permalinks, tables of contents, edit links, hidden elements) is skipped as it is
walked, and a code block that needs cleaning is cleaned on a copy.
"""

from __future__ import annotations

import copy
import hashlib
import re

from lxml import etree

from docscrawl.extraction.page import RENDER, Block, ExtractedPage, FailureCounter, Heading
from docscrawl.extraction.parse import is_hidden, text_of, word_set
from docscrawl.extraction.resolve import Resolver


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


_HEADING_TAGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}

# Elements rendered as blocks of their own (everything else flows inline).
_BLOCK_TAGS = word_set(
    """address article aside blockquote body caption center dd details dialog dir div dl dt
    fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li
    listing main menu nav ol p plaintext pre section summary table tbody td tfoot th thead tr ul
    xmp"""
)
# Inline elements with a Markdown rendering; other inline elements are transparent.
_INLINE_FORMAT_TAGS = word_set("a b strong i em cite dfn var code tt kbd samp img br del s strike")
_CONTAINER_TAGS = _BLOCK_TAGS - word_set(
    "h1 h2 h3 h4 h5 h6 pre listing xmp plaintext table ul ol menu dir blockquote hr"
)
_CODE_TAGS = word_set("code tt kbd samp")
_PRE_TAGS = word_set("pre listing xmp plaintext")

# Never content.
_DROP_TAGS = word_set(
    """nav footer script style noscript form template svg iframe frame frameset object embed
    canvas audio video map button input select option textarea dialog head title meta link
    base"""
)
_DROP_ROLES = word_set(
    "navigation banner contentinfo search menu menubar toolbar dialog alertdialog"
)
_DROP_CLASSES = word_set(
    """sphinxsidebar sphinxsidebarwrapper related navheader navfooter footer headerlink
    header-anchor anchorjs-link anchor-link hash-link heading-anchor md-sidebar md-header
    md-footer md-tabs md-nav md-search md-source-file md-content__button md-dialog md-top
    md-clipboard breadcrumbs breadcrumb wy-breadcrumbs wy-nav-side wy-nav-top rst-versions
    rst-footer-buttons edit-this-page editthispage edit-page edit-link edit-on-github
    viewcode-link viewcode-back skip-link skip-to-content skiplink prev-next-area
    prev-next-footer related-pages sourcelink bd-sidebar bd-sidebar-primary bd-sidebar-secondary
    bd-header bd-footer bd-header-article toc-drawer sidebar-drawer mobile-header
    theme-toggle-container copybutton copy-button navbar pagination pager cookie-banner"""
)
# A table of contents is navigation when it is mostly links.
_TOC_CLASSES = word_set(
    """toc table-of-contents contents localtoc list-of-tables list-of-figures list-of-examples
    list-of-procedures"""
)
_TOC_IDS = word_set("toc TOC table-of-contents contents")
# <aside>s that hold content rather than page furniture (docutils >= 0.18 uses them).
_CONTENT_ASIDE_CLASSES = word_set(
    "footnote footnote-list citation citation-list topic admonition note tip warning"
)
# Elements whose id is the anchor of the heading that starts them.
_SECTION_CLASSES = word_set(
    """section sect1 sect2 sect3 sect4 sect5 simplesect chapter appendix preface part
    refsect1 refsect2 refsect3 refsection"""
)
_HEADERLINK_TEXTS = frozenset(("", "¶", "#", "§", "🔗", "⚓", "link"))
_NO_LANGUAGE = frozenset(("default", "none", "nohighlight", "no-highlight"))

_HAS_H1 = etree.XPath("boolean(.//h1)")
_HAS_LINKS = etree.XPath("count(.//a[@href]) >= 3")
_HAS_HEADING_OR_CODE = etree.XPath("boolean(.//h1|.//h2|.//h3|.//pre|.//table)")
_HAS_HEADER_CELL = etree.XPath("boolean(.//th|.//thead)")
_HAS_TEXT_CONTENT = etree.XPath("boolean(normalize-space(.))")
_CELL_BLOCK = etree.XPath(f"boolean(.//pre|.//table|.//div[{_has_class('fragment')}])")
_HAS_BLOCK_CONTENT = etree.XPath(
    "boolean(.//td//pre|.//td//table|.//td//h1|.//td//h2|.//td//h3"
    f"|.//td//div[{_has_class('fragment')}])"
)
_LIST_TAGS = word_set("ul ol")
_GRID_COLUMNS = {"two-column-summary": 2, "three-column-summary": 3, "four-column-summary": 4}
# Class names with these stems are page furniture whatever the theme: feedback widgets, "last
# modified" lines, search results, page metadata bars.
_FURNITURE_CLASS = re.compile(
    r"(?:^|[-_])(?:feedback|lastmod|last-?modified|last-?updated|updated-?at|search-?results"
    r"|page-?meta|post-?meta|pagination|breadcrumbs?|page-?thumbs|helpful|byline|catlinks"
    r"|printfooter|noprint|edit-?section|version-?(?:select|switch|switcher|picker|menu)"
    r"|sr-only|visually-?hidden)(?:$|[-_])"
).search
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _furniture_class(name: str) -> bool:
    """A class name with a furniture stem, at a -, _ or camelCase boundary (rm-Pagination,
    PageThumbs, td-page-meta__lastmod, mw-editsection)."""
    return _FURNITURE_CLASS(_CAMEL.sub("-", name).lower()) is not None


_NAV_BLOCK_TAGS = word_set("div p ul ol table section center")
# A previous/next link: an arrow before or after it, or the word alone ("Next", "Previous:
# Install", "Up"), not a sentence that starts with it ("Next steps").
_ARROWS = "\u00ab\u2039\u2190<\u00bb\u203a\u2192>"
_PAGER_LINK = re.compile(
    rf"^[{_ARROWS}]|[{_ARROWS}]$|^(?:previous|prev|next|up|home|back to top|top)"
    r"(?:\s+(?:page|topic|chapter|section))?\s*(?::|$)",
    re.IGNORECASE,
).search
_PAGER_WORDS = frozenset(
    (
        "previous",
        "prev",
        "next",
        "\u00ab",
        "\u00bb",
        "\u2039",
        "\u203a",
        "\u2190",
        "\u2192",
        "|",
        "-",
        ":",
    )
)
_CRUMB_SEPARATORS = re.compile(r"[\u203a\u00bb>/|\u00b7\u2022\u2192]").search
_HAS_HEADING = etree.XPath("boolean(.//h1|.//h2|.//h3|.//h4|.//h5|.//h6)")
_FIRST_HEADING = etree.XPath("(.//h1|.//h2|.//h3|.//h4|.//h5|.//h6)[1]")
_CODE_CELL = etree.XPath(f"(.//td[{_has_class('code')}])[1]|(.//td)[last()]")

_LANG_CLASS = re.compile(
    r"(?:^|\s)(?:language|lang|highlight|source)-([A-Za-z0-9_+#.-]+)|brush:\s*([\w+#.-]+)"
)
_WRAPPER_LANG_CLASS = re.compile(r"(?:^|\s)(?:language|highlight)-([A-Za-z0-9_+#.-]+)()")
_NEEDS_ESCAPE = re.compile(r"[\\`*_\[\]<]").search
_MD_ESCAPE = re.compile(r"([\\`*\[\]]|(?<![^\W_])_|_(?![^\W_])|<(?=[A-Za-z/!?]))")
_BLOCK_START = re.compile(r"[#>+=|~]|-(?:\s|$|-)").match
_ORDERED_START = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
_EDIT_LINK = re.compile(
    r"^(?:edit|view|show|improve|suggest|report)\b.{0,30}\b(?:github|gitlab|bitbucket|source|"
    r"page|this page|an issue|on codeberg)$|^page source$|^\[?edit\]?$|^suggest edits?$",
    re.IGNORECASE,
)
_EDIT_HREF = re.compile(r"[?&](?:action|do)=edit\b").search
_PRE_JUNK = re.compile(
    r"<br|<button|<script|<style|<div|<p[ >]|aria-hidden"
    r'|class="[^"]*(?:lineno|copy|ln|sr-only|gutter)'
).search
# Line-number gutters and screen-reader labels inside a code block.
_GUTTER_CLASSES = frozenset(
    ("ln", "lnt", "lineno", "linenos", "line-number", "line-numbers", "gutter", "sr-only")
)
_LINE_BREAK = "\ue000"  # stands for <br> until whitespace is collapsed
_BREAKS = re.compile(" ?(?:\ue000 ?)+")
_NOT_A_WORD = re.compile(r"(?<!\S)[^\w\s]+(?!\S)").findall
_MAX_DEPTH = 120  # deeper subtrees are flattened to text rather than recursed into


def _escape(text: str) -> str:
    return _MD_ESCAPE.sub(r"\\\1", text) if _NEEDS_ESCAPE(text) else text


def render_content(
    page: ExtractedPage,
    main: etree._Element,
    resolve: Resolver,
    failures: FailureCounter,
    dropped: frozenset[int] = frozenset(),
) -> None:
    """Fill the page's headings, Markdown, text, word count and content hash from ``main``.

    ``dropped`` holds the ids of elements never to render (``DOCSCRAWL_DROP_SELECTORS``); the
    caller keeps those elements alive while this runs.
    """
    renderer = Renderer(
        resolve,
        keep_headers=main.tag not in ("body", "html"),
        failures=failures,
        dropped=dropped,
        heading_ahead=bool(_HAS_HEADING(main)),
    )
    blocks: list = []
    try:
        renderer.container(main, blocks, 0)
    except RecursionError:  # pathological nesting: fall back to the bare text
        failures.record(RENDER, "nested too deeply: kept its text only")
        renderer.headings.clear()
        text = _collapse(" ".join(main.itertext()))
        blocks = [("p", _escape(text), text)] if text else []
    page.headings = renderer.headings
    page.audit.code_blocks_kept = sum(1 for b in blocks if b[0] == "code")
    page.audit.tables_kept = sum(1 for b in blocks if b[0] == "table")
    page.blocks = [Block(*b) for b in blocks]
    set_content(page, page.blocks)


def set_content(page: ExtractedPage, blocks: list[Block]) -> None:
    """The page's Markdown, text, word count and content hash, from its rendered blocks."""
    page.markdown = "\n\n".join(b.markdown for b in blocks)
    set_text(page, "\n".join(b.text for b in blocks if b.text))


def set_text(page: ExtractedPage, text: str) -> None:
    """The page's text with the word count and content hash that follow from it."""
    page.text = text
    # Words: whitespace-separated tokens, not counting those without a letter or digit ("|", "-").
    page.word_count = len(text.split()) - len(_NOT_A_WORD(text))
    normalised = " ".join(text.split())
    page.content_hash = hashlib.sha256(normalised.encode("utf-8", "replace")).hexdigest()


class Renderer:
    """One walk over the main content producing Markdown blocks, text blocks and headings."""

    __slots__ = ("_dropped", "_failures", "_heading_ahead", "_keep_headers", "_resolve", "headings")

    def __init__(
        self,
        resolve: Resolver,
        keep_headers: bool,
        failures: FailureCounter,
        dropped: frozenset[int] = frozenset(),
        heading_ahead: bool = False,
    ) -> None:
        self._resolve = resolve
        self._keep_headers = keep_headers
        self._failures = failures
        self._dropped = dropped
        self._heading_ahead = heading_ahead  # the main content has a heading somewhere
        self.headings: list[Heading] = []

    # -- what to skip ---------------------------------------------------------------------

    def excludes(self, el: etree._Element) -> bool:
        """Whether the renderer skips this element (and all it holds) as page furniture."""
        return self._excluded(el, el.tag)

    def _excluded(self, el: etree._Element, tag: str) -> bool:
        if tag in _DROP_TAGS:
            return True
        if self._dropped and id(el) in self._dropped:
            return True
        if tag == "header":
            return not (self._keep_headers and _HAS_HEADING(el))
        if tag == "aside" and self._furniture_aside(el):
            return True
        attributes = el.items()
        if not attributes:
            # An "on this page" list: every link a #fragment of this page.
            return tag in _LIST_TAGS and _anchor_list(el)
        toc = False
        for name, value in attributes:
            if name == "class":
                classes = value.split()
                if not _DROP_CLASSES.isdisjoint(classes):
                    return True
                if any(_furniture_class(c) for c in classes):
                    return True
                toc = toc or not _TOC_CLASSES.isdisjoint(classes)
            elif name == "role":
                if value in _DROP_ROLES:
                    return True
                toc = toc or value == "doc-toc"
            elif name in ("hidden", "aria-hidden", "style"):
                if is_hidden(el):
                    return True
            elif name == "id":
                toc = toc or value in _TOC_IDS
            elif name == "href" and tag == "a" and self._junk_link(el, value):
                return True
        if toc:  # navigation when it links into this page; a list of other pages is content
            return _in_page_links(el) and not _HAS_H1(el)
        return tag in _LIST_TAGS and _anchor_list(el)

    @staticmethod
    def _furniture_aside(el: etree._Element) -> bool:
        """An <aside> beside the content (a sidebar of links, a page outline), not in it."""
        classes = (el.get("class") or "").split()
        if not _CONTENT_ASIDE_CLASSES.isdisjoint(classes):
            return False
        role = el.get("role") or ""
        if role.startswith("doc-") and role != "doc-toc":
            return False
        if role in _DROP_ROLES or role == "doc-toc" or not _DROP_CLASSES.isdisjoint(classes):
            return True
        # A content aside (a sidebar box of text, a side example) has text of its own.
        return _mostly_links(el)

    @staticmethod
    def _junk_link(a: etree._Element, href: str) -> bool:
        text = " ".join(text_of(a).split()) if len(a) else (a.text or "").strip()
        if href.startswith("#") and text in _HEADERLINK_TEXTS and a.find(".//img") is None:
            return True  # a permalink next to a heading
        if _EDIT_HREF(href) and len(text) < 50:
            return True  # a wiki's edit link (MediaWiki ?action=edit, DokuWiki ?do=edit)
        return len(text) < 50 and _EDIT_LINK.match(text) is not None

    def _is_page_nav(self, el: etree._Element) -> bool:
        """Breadcrumbs or a menu before the first heading, or a previous/next bar."""
        if (
            not self.headings
            and self._heading_ahead
            and _HAS_LINKS(el)
            and _link_share(el) >= 0.6
            and not _HAS_HEADING_OR_CODE(el)
        ):
            return True  # a sidebar, a mega menu, breadcrumbs: links ahead of the title
        text = _short_text(el, 200)
        if text is None:
            return False
        links = [" ".join(text_of(a).split()) for a in el.iter("a")]
        links = [link for link in links if link]
        if not links:
            return False
        linked = sum(len(link) for link in links)
        bare = "".join(text.split())
        if not bare or linked < 0.6 * len(bare.replace(" ", "")):
            return False
        if all(_PAGER_LINK(link) for link in links):
            return True
        if el.tag == "div" and self.headings and len(links) <= 2 and _is_pager_bar(el, text):
            return True
        return not self.headings and len(links) >= 2 and _CRUMB_SEPARATORS(text) is not None

    # -- blocks ---------------------------------------------------------------------------

    def container(self, el: etree._Element, out: list, depth: int) -> None:
        """Render the content of ``el`` as a sequence of blocks appended to ``out``."""
        if not len(el):  # text only: the commonest case, a plain <p> or <li>
            text = el.text
            if text and not text.isspace():
                text = " ".join(text.split())
                out.append(("p", _paragraph(_escape(text)), text))
            return
        md: list[str] = []
        tx: list[str] = []
        if depth > _MAX_DEPTH:
            _append_text(el, md, tx)
        else:
            self._flow(el, out, md, tx, depth)
        _flush(out, md, tx)

    def _flow(self, el, out: list, md: list[str], tx: list[str], depth: int) -> None:
        text = el.text
        if text and (md or not text.isspace()):  # whitespace starting a paragraph goes anyway
            md.append(_escape(text))
            tx.append(text)
        for child in el:
            tag = child.tag
            if tag.__class__ is str and not self._excluded(child, tag):
                if tag in _BLOCK_TAGS:
                    if depth < 3 and tag in _NAV_BLOCK_TAGS and self._is_page_nav(child):
                        pass  # breadcrumbs or previous/next links around the content
                    else:
                        if md:
                            _flush(out, md, tx)
                        self._block(child, tag, out, depth + 1)
                elif tag in _INLINE_FORMAT_TAGS and not _has_block_child(child):
                    self._inline(child, tag, md, tx)
                elif depth > _MAX_DEPTH:
                    _append_text(child, md, tx)
                else:
                    self._flow(child, out, md, tx, depth + 1)  # transparent (span, font, ...)
            tail = child.tail
            if tail and (md or not tail.isspace()):
                md.append(_escape(tail))
                tx.append(tail)

    def _block(self, el, tag: str, out: list, depth: int) -> None:
        if tag == "div" and self._div_block(el, out, depth):
            return
        if tag in _CONTAINER_TAGS:
            self.container(el, out, depth)
            return
        level = _HEADING_TAGS.get(tag)
        if level is not None:
            self._heading(el, level, out)
        elif tag in _PRE_TAGS:
            self._code(el, out)
        elif tag == "table":
            if "highlighttable" in (el.get("class") or ""):
                cells = _CODE_CELL(el)  # Pygments line numbers sit in the first cell
                if cells:
                    self.container(cells[0], out, depth)
            elif is_layout_table(el):
                for cell in _layout_cells(el):  # side by side on screen, one after the other here
                    if not self._excluded(cell, cell.tag):
                        self.container(cell, out, depth)
            else:
                self._table(el, out, depth)
        elif tag in ("ul", "ol", "menu", "dir"):
            self._list(el, tag == "ol", out, depth)
        elif tag == "blockquote":
            inner: list = []
            self.container(el, inner, depth)
            if inner:
                body = _join_blocks(inner)
                quoted = "\n".join(f"> {line}" if line else ">" for line in body.split("\n"))
                out.append(("quote", quoted, "\n".join(b[2] for b in inner if b[2])))
        elif tag == "hr":
            out.append(("hr", "---", ""))
        else:
            self.container(el, out, depth)

    def _div_block(self, el, out: list, depth: int) -> bool:
        """Blocks some generators write as divs: whether ``el`` was one (and is rendered)."""
        cls = el.get("class")
        if not cls:
            return False
        classes = cls.split()
        if "fragment" in classes:  # Doxygen: div.fragment > div.line
            self._line_code(el, out)
            return True
        if "headertitle" in classes:  # Doxygen: the page title, div.headertitle > div.title
            self._heading(el, 1, out)
            return True
        for name in classes:
            columns = _GRID_COLUMNS.get(name)
            if columns:  # Javadoc: div.summary-table.three-column-summary
                self._grid_table(el, columns, out, depth)
                return True
        return False

    def _heading(self, el, level: int, out: list) -> None:
        md: list[str] = []
        tx: list[str] = []
        self._inline_children(el, md, tx)
        text = " ".join("".join(tx).replace(_LINE_BREAK, " ").split()).rstrip("¶").rstrip()
        if not text:
            return
        mdtext = " ".join("".join(md).replace(_LINE_BREAK, " ").split()).rstrip("¶").rstrip()
        self.headings.append(Heading(level, text, _anchor(el)))
        out.append(("h", "#" * level + " " + mdtext, text))

    def _code(self, el, out: list) -> None:
        code = _code_text(el).replace("\r\n", "\n").replace("\r", "\n")
        _emit_code([line.rstrip() for line in code.split("\n")], _code_language(el), out)

    def _list(self, el, ordered: bool, out: list, depth: int) -> None:
        number = 1
        if ordered:
            try:
                number = int(el.get("start") or 1)
            except ValueError:
                self._failures.record(RENDER, "<ol start=%r> is not a number", el.get("start"))
                number = 1
        items_md: list[str] = []
        items_tx: list[str] = []
        indent = 2  # the width of the last item's marker
        for child in el:
            tag = child.tag
            if tag.__class__ is not str or self._excluded(child, tag):
                continue
            inner: list = []
            if tag == "li":
                self.container(child, inner, depth)
            elif tag in _BLOCK_TAGS:  # a stray block (often a nested <ul>) directly in the list
                self._block(child, tag, inner, depth)
            else:
                self.container(child, inner, depth)
            if not inner:
                continue
            if tag != "li" and items_md and inner[0][0] == "list":
                items_md[-1] += "\n" + _indent(_join_blocks(inner), " " * indent)
                items_tx.extend(b[2] for b in inner if b[2])
                continue
            marker = f"{number}. " if ordered else "- "
            indent = len(marker)
            number += 1
            body = _join_blocks(inner)
            items_md.append(marker + _indent(body, " " * len(marker), first=False))
            items_tx.extend(b[2] for b in inner if b[2])
        if items_md:
            out.append(("list", "\n".join(items_md), "\n".join(items_tx)))

    def _table(self, el, out: list, depth: int) -> None:
        for child in el:
            if child.tag == "caption" and not self._excluded(child, "caption"):
                self.container(child, out, depth)
        rows: list[list[tuple[str, str]]] = []
        header = False
        spans: dict[int, int] = {}  # column -> rows still covered by a rowspan from above
        for tr in _rows(el):
            if self._excluded(tr, "tr"):
                continue
            row: list[tuple[str, str]] = []
            all_th = True
            col = 0
            for cell in tr:
                tag = cell.tag
                if tag not in ("td", "th") or self._excluded(cell, tag):
                    continue
                while spans.get(col):
                    spans[col] -= 1
                    row.append(("", ""))
                    col += 1
                all_th = all_th and tag == "th"
                colspan = self._span(cell, "colspan")
                rowspan = self._span(cell, "rowspan")
                row.append(self._cell(cell, depth))
                row.extend([("", "")] * (colspan - 1))
                if rowspan > 1:
                    for c in range(col, col + colspan):
                        spans[c] = rowspan - 1
                col += colspan
            while spans and any(v for c, v in spans.items() if c >= col):
                if spans.get(col):
                    spans[col] -= 1
                row.append(("", ""))
                col += 1
            if not row:
                continue
            if not rows:
                header = all_th or tr.getparent().tag == "thead"
            rows.append(row)
        _emit_table(rows, header, out)

    def _grid_table(self, el, columns: int, out: list, depth: int) -> None:
        """A table laid out with divs (Javadoc's member summaries): every ``columns`` cells a row,
        the ``table-header`` cells the header."""
        cells = [c for c in el if c.tag.__class__ is str and not self._excluded(c, c.tag)]
        header = bool(cells) and "table-header" in (cells[0].get("class") or "")
        rendered = [self._cell(cell, depth) for cell in cells]
        rows = [rendered[i : i + columns] for i in range(0, len(rendered), columns)]
        _emit_table(rows, header, out)

    def _line_code(self, el, out: list) -> None:
        """A code block written as one element per line (Doxygen's div.fragment > div.line)."""
        lines = [
            text_of(line).replace("\xa0", " ").rstrip()
            for line in el
            if line.tag.__class__ is str and "line" in (line.get("class") or "").split()
        ]
        _emit_code(lines, "", out)

    def _span(self, cell, name: str) -> int:
        """The cell's colspan or rowspan (``name``): 1 to 100, 1 if it is not a number."""
        value = cell.get(name)
        if value is None:
            return 1
        try:
            return max(1, min(int(value or 1), 100))
        except ValueError:
            self._failures.record(RENDER, "<%s %s=%r> is not a number", cell.tag, name, value)
            return 1

    def _cell(self, cell, depth: int) -> tuple[str, str]:
        if len(cell) == 0:
            text = " ".join((cell.text or "").split())
            return _escape(text).replace("|", "\\|"), text
        inner: list = []
        self.container(cell, inner, depth)
        md_parts = []
        for kind, md, _ in inner:
            if kind == "code":
                code = " ".join(md.split("\n")[1:-1]).strip()
                md_parts.append(_code_span(" ".join(code.split())))
            else:
                md_parts.extend(line.strip() for line in md.split("\n") if line.strip())
        md = "<br>".join(md_parts).replace("|", "\\|")
        text = " ".join(" ".join(b[2].split()) for b in inner if b[2])
        return md, text

    # -- inline ---------------------------------------------------------------------------

    def _inline_children(self, el, md: list[str], tx: list[str]) -> None:
        text = el.text
        if text:
            md.append(_escape(text))
            tx.append(text)
        for child in el:
            tag = child.tag
            if tag.__class__ is str and not self._excluded(child, tag):
                self._inline(child, tag, md, tx)
            tail = child.tail
            if tail:
                md.append(_escape(tail))
                tx.append(tail)

    def _inline(self, el, tag: str, md: list[str], tx: list[str]) -> None:
        if tag in _CODE_TAGS:
            code = " ".join(text_of(el).split())
            if code:
                md.append(_code_span(code))
                tx.append(code)
            return
        if tag == "br":
            md.append(_LINE_BREAK)
            tx.append(_LINE_BREAK)
            return
        if tag == "img":
            src = el.get("src")
            url = self._resolve(src) if src and not src.startswith("data:") else None
            if url:
                alt = " ".join((el.get("alt") or "").split())
                md.append(f"![{_escape(alt)}]({_url(url)})")
            return
        inner_md: list[str] = []
        inner_tx: list[str] = []
        if tag in _BLOCK_TAGS or tag in _PRE_TAGS:
            md.append(" ")
            tx.append(" ")
        self._inline_children(el, inner_md, inner_tx)
        content = "".join(inner_md)
        tx.extend(inner_tx)
        core = content.strip()
        if not core:
            if content:
                md.append(" ")
            return
        lead = " " if content[0].isspace() else ""
        trail = " " if content[-1].isspace() else ""
        if tag == "a":
            href = el.get("href")
            url = self._resolve(href) if href else None
            if url:
                core = f"[{core}]({_url(url)})"
        elif tag in ("b", "strong"):
            core = f"**{core}**"
        elif tag in ("i", "em", "cite", "dfn", "var"):
            core = f"*{core}*"
        elif tag in ("del", "s", "strike"):
            core = f"~~{core}~~"
        md.append(lead + core + trail)
        if tag in _BLOCK_TAGS:
            md.append(" ")
            tx.append(" ")


def _emit_code(lines: list[str], language: str, out: list) -> None:
    """A fenced code block of these lines (blank ones at either end dropped), fenced with more
    backticks than the code holds; in the plain text, runs of blank lines become one."""
    while lines and not lines[0]:
        del lines[0]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        return
    code = "\n".join(lines)
    fence = "```"
    while fence in code:
        fence += "`"
    text_lines: list[str] = []
    for line in lines:
        if line or (text_lines and text_lines[-1]):
            text_lines.append(line)
    out.append(("code", f"{fence}{language}\n{code}\n{fence}", "\n".join(text_lines)))


def _emit_table(rows: list[list[tuple[str, str]]], header: bool, out: list) -> None:
    if not rows:
        return
    width = max(len(r) for r in rows)
    md_rows = [[c[0] for c in r] + [""] * (width - len(r)) for r in rows]
    if not header:
        md_rows.insert(0, [""] * width)
    lines = ["| " + " | ".join(md_rows[0]) + " |", "|" + "---|" * width]
    lines.extend("| " + " | ".join(r) + " |" for r in md_rows[1:])
    text = "\n".join(" | ".join(c[1] for c in r if c[1]) for r in rows)
    out.append(("table", "\n".join(lines), _strip_blank_lines(text)))


def is_layout_table(table: etree._Element) -> bool:
    """A table used to lay blocks out (code side by side), not to hold data: no header row,
    and a cell holding a code block or a table of its own."""
    if _HAS_HEADER_CELL(table) or not _HAS_BLOCK_CONTENT(table):
        return False
    # A data table with a code column is still a table: every cell with text must hold a block.
    cells = [cell for cell in _layout_cells(table) if _HAS_TEXT_CONTENT(cell)]
    return all(_CELL_BLOCK(cell) for cell in cells)


def _layout_cells(table: etree._Element) -> list[etree._Element]:
    return [cell for tr in _rows(table) for cell in tr if cell.tag in ("td", "th")]


def _short_text(el: etree._Element, limit: int) -> str | None:
    """The element's text if it is at most ``limit`` characters, else None (read no further)."""
    parts = []
    size = 0
    for piece in el.itertext():
        size += len(piece)
        if size > limit:
            return None
        parts.append(piece)
    return "".join(parts)


def _in_page_links(el: etree._Element) -> bool:
    """Whether most of the element's links point into this page (#fragment)."""
    hrefs = [a.get("href") or "" for a in el.iter("a")]
    hrefs = [href for href in hrefs if href]
    if not hrefs:
        return _mostly_links(el)  # a table of contents of bare text: drop it only if it is empty
    return sum(href.startswith("#") for href in hrefs) * 2 > len(hrefs)


def _anchor_list(el: etree._Element) -> bool:
    hrefs = [a.get("href") or "" for a in el.iter("a")]
    return (
        len(hrefs) >= 3
        and all(href.startswith("#") and len(href) > 1 for href in hrefs)
        and (_mostly_links(el))
    )


def _rows(table: etree._Element) -> list[etree._Element]:
    rows = []
    for child in table:
        tag = child.tag
        if tag == "tr":
            rows.append(child)
        elif tag in ("thead", "tbody", "tfoot"):
            rows.extend(tr for tr in child if tr.tag == "tr")
    return rows


def _has_block_child(el: etree._Element) -> bool:
    return len(el) > 0 and any(child.tag in _BLOCK_TAGS for child in el)


def _append_text(el: etree._Element, md: list[str], tx: list[str]) -> None:
    text = " ".join(el.itertext())
    md.append(_escape(text))
    tx.append(text)


def _flush(out: list, md: list[str], tx: list[str]) -> None:
    if not md:
        return
    mdtext = _collapse("".join(md))
    if mdtext:
        out.append(("p", _paragraph(mdtext).replace("\n", "  \n"), _collapse("".join(tx))))
    md.clear()
    tx.clear()


def _paragraph(md: str) -> str:
    """Escape what would make a paragraph's first characters a heading, quote, list..."""
    if _BLOCK_START(md):
        return "\\" + md
    if _ORDERED_START.match(md):
        return _ORDERED_START.sub(r"\1\\\2", md, count=1)
    return md


def _collapse(text: str) -> str:
    text = " ".join(text.split())
    if _LINE_BREAK in text:
        text = _BREAKS.sub(_LINE_BREAK, text).strip(" " + _LINE_BREAK)
        return text.replace(_LINE_BREAK, "\n")
    return text


def _join_blocks(blocks: list) -> str:
    parts: list[str] = []
    previous = None
    for kind, md, _ in blocks:
        if parts:
            parts.append("\n" if "list" in (kind, previous) and "p" in (kind, previous) else "\n\n")
        parts.append(md)
        previous = kind
    return "".join(parts)


def _indent(text: str, prefix: str, first: bool = True) -> str:
    lines = text.split("\n")
    start = 0 if first else 1
    for i in range(start, len(lines)):
        if lines[i]:
            lines[i] = prefix + lines[i]
    return "\n".join(lines)


def _strip_blank_lines(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if line.strip())


def _code_span(code: str) -> str:
    if "`" not in code:
        return f"`{code}`"
    ticks = "``"
    while ticks in code:
        ticks += "`"
    return f"{ticks} {code} {ticks}"


def _url(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _code_text(pre: etree._Element) -> str:
    """The text of a <pre>, without line numbers and copy buttons, with <br> as a newline."""
    markup = etree.tostring(pre, encoding="unicode", with_tail=False)
    if _PRE_JUNK(markup):
        pre = copy.deepcopy(pre)  # the caller's tree is never modified
        for el in list(pre.iter()):
            if el is pre or el.tag.__class__ is not str:
                continue
            classes = (el.get("class") or "").split()
            if el.tag == "br":
                el.tail = "\n" + (el.tail or "")
            elif (
                el.tag in ("button", "script", "style")
                or el.get("aria-hidden") == "true"
                or not _GUTTER_CLASSES.isdisjoint(classes)
                or any("lineno" in c or "copy" in c for c in classes)
            ):
                _drop(el)
        # One element per line (Expressive Code's div.ec-line): a block ends its line.
        lines = [el for el in pre.iter("div", "p") if el is not pre and el.find(".//div") is None]
        for el in lines[:-1]:
            if not (el.tail or "").startswith("\n") and not text_of(el).endswith("\n"):
                el.tail = "\n" + (el.tail or "")
    return text_of(pre)


def _drop(el: etree._Element) -> None:
    """Remove an element but keep its tail (lxml.html's drop_tree, for any lxml element)."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _code_language(pre: etree._Element) -> str:
    """The language a code block is marked up as (on <code>, <pre> or a wrapper round it)."""
    for child in pre:
        if child.tag == "code":
            lang = _element_language(child, _LANG_CLASS)
            if lang:
                return lang
            break
    lang = _element_language(pre, _LANG_CLASS)
    el = pre.getparent()
    # Up through wrappers only: div.highlight-x > div.highlight > pre, or with line numbers
    # div.highlight-x > table > tr > td > div > pre; not into a section full of other things.
    for _ in range(6):
        if lang or el is None or (len(el) > 3 and el.tag not in ("table", "tbody", "tr")):
            break
        lang = _element_language(el, _WRAPPER_LANG_CLASS)
        el = el.getparent()
    return lang


def _element_language(el: etree._Element, pattern: re.Pattern[str]) -> str:
    for attr in ("data-lang", "data-language"):
        value = el.get(attr)
        if value and value.strip().lower() not in _NO_LANGUAGE:
            return value.strip()
    cls = el.get("class")
    if cls:
        for match in pattern.finditer(cls):
            lang = match.group(1) or match.group(2)
            if lang.lower() not in _NO_LANGUAGE:
                return lang
        if "sourceCode" in cls:  # pandoc: class="sourceCode python"
            for name in cls.split():
                if name != "sourceCode":
                    return name
    return ""


def _is_pager_bar(el: etree._Element, text: str) -> bool:
    """Previous/next links to other pages, with nothing beside them but "Previous" and "Next"
    (Nextra's arrows are SVGs, DocFX writes the words outside the links)."""
    anchors = [a for a in el.iter("a") if (a.get("href") or "#")[:1] not in ("#", "")]
    if not anchors or len(anchors) > 2:
        return False
    if any((a.get("rel") or "") in ("prev", "next") for a in anchors):
        return True
    bare = text
    for a in anchors:
        bare = bare.replace(text_of(a), " ")
    return len(anchors) == 2 and all(word.casefold() in _PAGER_WORDS for word in bare.split())


def _link_share(el: etree._Element) -> float:
    total = len("".join(text_of(el).split()))
    if not total:
        return 1.0
    return sum(len("".join(text_of(a).split())) for a in el.iter("a")) / total


def _mostly_links(el: etree._Element) -> bool:
    return _link_share(el) >= 0.5


def _is_section(el: etree._Element) -> bool:
    if el.tag == "section":
        return True
    cls = el.get("class")
    return bool(cls) and not _SECTION_CLASSES.isdisjoint(cls.split())


def _empty_target(el: etree._Element) -> str | None:
    if el.tag == "a" and len(el) == 0 and not (el.text or "").strip():
        return el.get("id") or el.get("name") or None
    return None


def _anchor(h: etree._Element) -> str | None:
    """The fragment that points at a heading."""
    anchor = h.get("id")
    if anchor:
        return anchor
    for el in h.iterdescendants():
        if el.tag == "a":
            href = el.get("href") or ""
            if len(href) > 1 and href[0] == "#" and "headerlink" in (el.get("class") or ""):
                return href[1:]
        if el.tag.__class__ is str:
            target = el.get("id") or (el.get("name") if el.tag == "a" else None)
            if target:
                return target
    for el in h.iterdescendants("a"):
        href = el.get("href") or ""
        if len(href) > 1 and href[0] == "#" and not text_of(el).strip("¶#§ \n"):
            return href[1:]
    node = h
    for _ in range(6):  # DocBook: h2 inside div.titlepage > div > div inside div.section
        previous = node.getprevious()
        if previous is not None:
            target = _empty_target(previous)
            if target:
                return target
        parent = node.getparent()
        if parent is None:
            return None
        if _is_section(parent):
            anchor = parent.get("id")
            if anchor:
                first = _FIRST_HEADING(parent)
                if first and first[0] is h:
                    return anchor
            return None
        node = parent
    return None
