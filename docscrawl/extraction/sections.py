"""A page's Markdown split at its headings: one record per section, for search and analysis.

A section runs from a heading line to the next heading line of any level; the content before
the first heading (if any) is a section of its own. Each carries the path of headings above it,
as docsearch-scraper's ``hierarchy`` does: ``lvl0`` is the page title, ``lvl1`` the h1 it is
under, ``lvl2`` the h2, and so on to ``lvl6``. A level the page skips (an h3 straight under an
h1) stays empty.

The sections' Markdown, concatenated in order, is exactly the page's Markdown. Their text is
the Markdown with its syntax taken out (the rendering render.py produces: ATX headings, fenced
code, lists, block quotes, pipe tables, links, emphasis, escapes).

Pure functions over strings: no Scrapy, no lxml, no store.

A recrawled page whose URL, title, Markdown and headings are the stored ones keeps its stored
sections (pipelines.py: they are not cut again). So a change to what these functions return
must come with a store migration step (models.MIGRATIONS) that calls models.resplit_sections;
tests/test_sections.py holds a digest of their output on a fixed corpus, which fails until
both are done.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from docscrawl.extraction.page import Heading

LEVELS = tuple(f"lvl{n}" for n in range(7))  # lvl0 (the page title) ... lvl6 (an h6)

_ATX = re.compile(r"^(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")  # "## Text", "#" alone is an empty h1
_CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")  # "## Text ##": the optional closing run
_FENCE_OPEN = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
_QUOTE = re.compile(r"^ {0,3}> ?")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_RULE = re.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_TABLE_DELIMITER = re.compile(r"^:?-+:?$")
_IMAGE = re.compile(r"!\[(?:\\.|[^\]\\])*\]\([^)\s]*\)")
_LINK = re.compile(r"\[((?:\\.|[^\]\\])*)\]\([^)\s]*\)")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^<>\s]*)>")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # a backslash before ASCII punctuation
_EMPHASIS = re.compile(r"\*+|~~")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_CODE_PLACEHOLDER = re.compile("\ue001(\\d+)\ue001")
_TICKS = re.compile(r"`+")
_TICKS_OR_ESCAPE = re.compile(r"\\.|`+")
_INLINE_SYNTAX = re.compile(r"[`\[!<\\*~]").search  # a line without these is its own text
# What a URL fragment may hold as it is (RFC 3986 pchar, "/" and "?"); the rest is %-encoded.
_FRAGMENT_SAFE = "!$&'()*+,;=:@/?-._~"


@dataclass(slots=True)
class Section:
    """One section of a page: where it sits, the headings above it, and its content."""

    position: int  # 0, 1, 2... in the page's order
    hierarchy: dict[str, str | None] = field(default_factory=dict)  # lvl0..lvl6
    anchor_url: str = ""  # the page URL, with #anchor when the heading has an id
    markdown: str = ""  # from the heading line up to the next heading line
    text: str = ""  # the Markdown without its syntax

    @property
    def level(self) -> int:
        """The heading level the section starts with (0: the content before any heading)."""
        return max((n for n, name in enumerate(LEVELS) if self.hierarchy.get(name)), default=0)


def split_sections(
    url: str,
    title: str | None,
    markdown: str,
    headings: Iterable[Heading | Mapping[str, Any]] = (),
) -> list[Section]:
    """The page's sections, in order; none for a page without Markdown.

    ``headings`` are the page's headings as extraction found them (Heading objects or their
    stored form ``{"level", "text", "anchor"}``); a heading line takes the anchor of the next
    one of its level and text, so two headings with one text keep their own anchors. A heading
    line with no match (or no anchor) points at the page itself.
    """
    if not markdown:
        return []
    known = [_heading_tuple(h) for h in headings]
    starts = _heading_lines(markdown)
    cuts = [offset for offset, _, _ in starts]
    if not cuts or cuts[0] != 0:
        cuts.insert(0, 0)
        starts.insert(0, (0, 0, ""))
    cuts.append(len(markdown))
    path: list[str | None] = [title or None] + [None] * 6
    sections: list[Section] = []
    next_known = 0
    for position, (offset, level, line_text) in enumerate(starts):
        anchor = None
        if level:
            text = _plain_inline(line_text)
            for index in range(next_known, len(known)):
                k_level, k_text, k_anchor = known[index]
                if k_level == level and k_text == _collapse(text):
                    anchor, text, next_known = k_anchor, k_text, index + 1
                    break
            path[level] = text or None
            for deeper in range(level + 1, 7):
                path[deeper] = None
        body = markdown[offset : cuts[position + 1]]
        sections.append(
            Section(
                position=position,
                hierarchy=dict(zip(LEVELS, path, strict=True)),
                anchor_url=_anchor_url(url, anchor),
                markdown=body,
                text=markdown_to_text(body),
            )
        )
    return sections


def _heading_tuple(heading: Heading | Mapping[str, Any]) -> tuple[int, str, str | None]:
    if isinstance(heading, Mapping):
        level, text, anchor = heading.get("level"), heading.get("text"), heading.get("anchor")
    else:
        level, text, anchor = heading.level, heading.text, heading.anchor
    return int(level or 0), _collapse(text or ""), anchor or None


def _heading_lines(markdown: str) -> list[tuple[int, int, str]]:
    """(offset, level, text) of every ATX heading line that starts a block, outside fences."""
    found: list[tuple[int, int, str]] = []
    fence: tuple[str, int] | None = None
    offset = 0
    previous_blank = True
    for line in markdown.split("\n"):
        if fence is not None:
            if _closes(line, fence):
                fence = None
        else:
            opened = _FENCE_OPEN.match(line)
            if opened and _opens_fence(opened):
                fence = (opened.group(2)[0], len(opened.group(2)))
            elif previous_blank:
                # Only at a block's start: render.py joins blocks with a blank line, and a
                # "#" inside a paragraph (after a <br>) is no heading of the page's.
                heading = _ATX.match(line)
                if heading:
                    text = _CLOSING_HASHES.sub("", heading.group(2) or "")
                    found.append((offset, len(heading.group(1)), text))
        previous_blank = not line.strip()
        offset += len(line) + 1
    return found


def _opens_fence(match: re.Match[str]) -> bool:
    # A backtick fence's info string holds no backtick (CommonMark); "```x```" is a code span.
    return not (match.group(2)[0] == "`" and "`" in match.group(3))


def _closes(line: str, fence: tuple[str, int]) -> bool:
    char, length = fence
    stripped = line.strip()
    return len(stripped) >= length and stripped == char * len(stripped)


def _anchor_url(url: str, anchor: str | None) -> str:
    base = url.split("#", 1)[0]
    return f"{base}#{quote(anchor, safe=_FRAGMENT_SAFE)}" if anchor else base


def markdown_to_text(markdown: str) -> str:
    """Plain text of Markdown as render.py writes it: block syntax and inline markup removed.

    Code keeps its lines as they are (runs of blank lines become one, as in a page's text);
    every other block loses its blank lines, so blocks are one per line as in ``Page.text``.
    """
    out: list[str] = []
    fence: tuple[str, int] | None = None
    fence_quotes = fence_indent = 0
    for raw in markdown.split("\n"):
        line, quotes = _unquote(raw, fence_quotes if fence is not None else None)
        if fence is not None:
            if _closes(line, fence):
                fence = None
                continue
            code = _dedent(line, fence_indent).rstrip()
            if code or (out and out[-1]):
                out.append(code)
            continue
        line = _strip_markers(line.rstrip())
        opened = _FENCE_OPEN.match(line)
        if opened and _opens_fence(opened):
            fence = (opened.group(2)[0], len(opened.group(2)))
            fence_quotes = quotes
            # Code lines are indented as far as their fence (a fence inside a list item).
            fence_indent = _unquote(raw, quotes)[0].index(opened.group(2))
            continue
        line = line.strip()
        if not line or _RULE.match(line):
            continue
        heading = _ATX.match(line)
        if heading:
            line = _CLOSING_HASHES.sub("", heading.group(2) or "")
        elif line.startswith("|") and line.endswith("|") and len(line) > 1:
            cells = [_plain_inline(cell) for cell in _table_cells(line)]
            if all(not cell or _TABLE_DELIMITER.match(cell) for cell in cells):
                continue  # the delimiter row, or the empty header of a table without one
            line = " | ".join(cell for cell in cells if cell)
            out.append(line)
            continue
        text = _plain_inline(line)
        if text:
            out.append(text)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def _unquote(line: str, depth: int | None) -> tuple[str, int]:
    """The line without its block-quote markers (all of them, or ``depth`` of them)."""
    quotes = 0
    while depth is None or quotes < depth:
        marker = _QUOTE.match(line)
        if not marker:
            break
        line = line[marker.end() :]
        quotes += 1
    return line, quotes


def _dedent(line: str, indent: int) -> str:
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, indent) :]


def _table_cells(row: str) -> list[str]:
    """A pipe-table row's cells; ``\\|`` is a pipe inside a cell."""
    cells: list[str] = []
    current: list[str] = []
    inner = row[1:-1] if row.endswith("|") and not row.endswith("\\|") else row[1:]
    index = 0
    while index < len(inner):
        char = inner[index]
        if char == "\\" and index + 1 < len(inner) and inner[index + 1] == "|":
            current.append("|")
            index += 2
            continue
        if char == "|":
            cells.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    cells.append("".join(current))
    # A cell's blocks are joined with <br>; a list in a cell keeps its markers.
    return [
        " ".join(_strip_markers(part.strip()) for part in _BR.split(cell) if part.strip())
        for cell in cells
    ]


def _strip_markers(line: str) -> str:
    """The line without its list markers ("- - item", "1. - item": every one of them)."""
    while True:
        marker = _LIST_MARKER.match(line)
        if not marker or _RULE.match(line):
            return line
        line = line[marker.end() :]


def _plain_inline(text: str) -> str:
    """One line of inline Markdown as text: code spans, links, images, emphasis, escapes."""
    if not _INLINE_SYNTAX(text):
        return _collapse(text)
    spans: list[str] = []

    def keep(code: str) -> str:
        spans.append(code)
        return f"\ue001{len(spans) - 1}\ue001"

    text = _code_spans(text, keep)
    text = _IMAGE.sub("", text)  # render.py keeps no alt text in a page's text either
    previous = None
    while previous != text:  # a link's text may hold another construct; innermost first
        previous = text
        text = _LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _BR.sub(" ", text)
    text = _unescape(text)
    text = _CODE_PLACEHOLDER.sub(lambda m: spans[int(m.group(1))], text)
    return _collapse(text)


def _unescape(text: str) -> str:
    # Escaped characters are text; unescaped * and ~~ are emphasis and strike-through.
    parts = _ESCAPE.split(text)
    for index in range(0, len(parts), 2):
        parts[index] = _EMPHASIS.sub("", parts[index])
    return "".join(parts)


def _code_spans(text: str, keep: Any) -> str:
    """Replace each code span (`x`, `` x `` with backticks inside) with keep(content)."""
    if "`" not in text:
        return text
    out: list[str] = []
    done = 0  # text[:done] is in out
    for opening in _TICKS_OR_ESCAPE.finditer(text):
        if opening.start() < done or opening.group()[0] == "\\":
            continue  # inside a span already replaced, or an escaped character
        ticks = len(opening.group())
        # Backslashes are literal inside a span: the closing run is the next of equal length.
        close = next(
            (run for run in _TICKS.finditer(text, opening.end()) if len(run.group()) == ticks),
            None,
        )
        if close is None:
            continue  # no closing run: the backticks are text
        content = text[opening.end() : close.start()]
        if len(content) > 1 and content[0] == " " and content[-1] == " " and content.strip():
            content = content[1:-1]
        out.append(text[done : opening.start()])
        out.append(keep(content))
        done = close.end()
    out.append(text[done:])
    return "".join(out)


def _collapse(text: str) -> str:
    return " ".join(text.split())
