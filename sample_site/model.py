"""What the three themes share: page outlines, in-text links and the generic body writer."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import posixpath
import zlib
from dataclasses import dataclass, field
from typing import Protocol

from sample_site.text import NOUNS, Writer, slugify

BASE_DATE = dt.date(2024, 1, 1)
PROJECT = "Sampleproj"


@dataclass
class Heading:
    """One heading of a page: level 1 is the page title."""

    level: int
    title: str
    anchor: str


@dataclass
class Extra:
    """A special link a page must carry (to an error, a redirect, a download...)."""

    target: str
    text: str
    style: str = "link"  # link | download | image
    root_relative: bool = False


@dataclass(eq=False)
class Doc:
    """A content page of a sub-site before rendering."""

    subsite: str
    path: str  # canonical: the directory form for index pages
    title: str
    section: str = ""
    href_path: str = ""  # the form the generator links to (``/x/index.html`` or ``/x/``)
    kind: str = "page"  # page | orphan
    is_index: bool = False  # a table-of-contents page that lists many children
    headings: list[Heading] = field(default_factory=list)
    prev: Doc | None = None
    next: Doc | None = None
    up: Doc | None = None
    children: list[Doc] = field(default_factory=list)
    extras: list[Extra] = field(default_factory=list)
    number: str = ""  # DocBook numbering ("3", "3.2", "A.1")
    data: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.href_path:
            self.href_path = self.path

    @property
    def lastmod(self) -> dt.date:
        """A fixed, per-page modification date."""
        return BASE_DATE + dt.timedelta(days=zlib.crc32(self.path.encode()) % 180)

    def writer(self, purpose: str) -> Writer:
        """A Writer seeded by this page and a purpose, independent of rendering order."""
        return Writer(f"{self.path}:{purpose}")


@dataclass
class Link:
    """An in-text link as written in the page."""

    href: str
    text: str
    kind: str  # internal | cross | external | special
    target: Doc | None = None
    fragment: str = ""
    style: str = "link"


@dataclass
class Context:
    """Everything rendering needs beyond the page itself."""

    base_url: str  # ends with "/"
    docs: dict[str, Doc]  # canonical path -> doc, all sub-sites

    def absolute(self, path: str) -> str:
        """The absolute URL of a root-relative path on this server."""
        return self.base_url.rstrip("/") + path

    def normal_docs(self, subsite: str) -> list[Doc]:
        """The linked (non-orphan) pages of a sub-site, in reading order."""
        return [d for d in self.docs.values() if d.subsite == subsite and d.kind == "page"]


class BodyStyle(Protocol):
    """How a theme marks up the generic parts of a page body."""

    def literal(self, name: str) -> str: ...
    def anchor(self, link: Link) -> str: ...
    def open_section(self, heading: Heading) -> str: ...
    def close_section(self, level: int) -> str: ...
    def paragraph(self, text: str) -> str: ...
    def code(self, language: str, source: str) -> str: ...
    def table(self, header: list[str], rows: list[list[str]]) -> str: ...
    def bullet_list(self, items: list[str]) -> str: ...
    def note(self, text: str) -> str: ...


def rel(src: str, dst: str) -> str:
    """The relative URL a static site generator writes in page src for the path dst."""
    base = src[: src.rfind("/") + 1].rstrip("/") or "/"
    head, _, tail = dst.rpartition("/")
    relative = posixpath.relpath(head or "/", base)
    if relative == ".":
        return tail or "./"
    return f"{relative}/{tail}"


def outline(doc: Doc, sections: tuple[int, int] = (2, 3), max_level: int = 3) -> list[Heading]:
    """A title heading plus a few deterministic sub-headings with unique anchors."""
    writer = doc.writer("outline")
    rng = writer.rng
    titles = [(1, doc.title)]
    for _ in range(rng.randint(*sections)):
        titles.append((2, writer.heading()))
        for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
            titles.append((3, writer.heading()))
            if max_level >= 4 and rng.random() < 0.3:
                titles.append((4, writer.heading()))
    headings: list[Heading] = []
    seen: set[str] = set()
    for level, title in titles:
        anchor = slugify(title)
        while anchor in seen:
            anchor += "-1"
        seen.add(anchor)
        headings.append(Heading(level, title, anchor))
    return headings


def pick_links(doc: Doc, ctx: Context, internal: tuple[int, int] = (2, 4)) -> list[Link]:
    """The in-text links of a page: siblings in several URL forms, other sites, example.com."""
    rng = doc.writer("links").rng
    own = [d for d in ctx.normal_docs(doc.subsite) if d is not doc]
    links: list[Link] = []
    for target in rng.sample(own, rng.randint(*internal)):
        form = rng.random()
        href = rel(doc.path, target.href_path)
        fragment = ""
        if form < 0.2 and len(target.headings) > 1:
            fragment = rng.choice(target.headings[1:]).anchor
            href += "#" + fragment
        elif form < 0.32:
            href += "?utm_source=x"
        elif form < 0.42:
            href = target.href_path
        elif form < 0.48:
            href = ctx.absolute(target.href_path)
        links.append(Link(href, target.title, "internal", target, fragment))
    if rng.random() < 0.3:
        other = rng.choice([s for s in ("sphinx", "mkdocs", "docbook") if s != doc.subsite])
        target = rng.choice(ctx.normal_docs(other))
        links.append(Link(target.href_path, target.title, "cross", target))
    for _ in range(rng.randint(1, 2)):
        noun, other_noun = rng.choice(NOUNS), rng.choice(NOUNS)
        href = f"https://example.com/{noun}/{other_noun}.html"
        links.append(Link(href, f"the {noun} {other_noun} notes", "external"))
    for extra in doc.extras:
        if extra.style == "image":
            continue
        href = extra.target if extra.root_relative else rel(doc.path, extra.target)
        links.append(Link(href, extra.text, "special", ctx.docs.get(extra.target), "", extra.style))
    rng.shuffle(links)
    return links


def write_body(
    doc: Doc,
    style: BodyStyle,
    links: list[Link],
    after_intro: str = "",
    words: tuple[int, int] = (300, 760),
) -> str:
    """The prose of a page, one section per heading, with the links spread over paragraphs."""
    writer = doc.writer("body")
    rng = writer.rng
    target = rng.randint(*words)
    headings = doc.headings
    per_heading = max(1, math.ceil(target / 70 / len(headings)))
    plan = [per_heading + (1 if i == 0 else 0) for i in range(len(headings))]
    slots: dict[int, list[str]] = {}
    for link in links:
        slots.setdefault(rng.randrange(sum(plan)), []).append(style.anchor(link))
    out: list[str] = []
    open_levels: list[int] = []
    written = 0
    paragraph_index = 0
    for heading, paragraphs in zip(headings, plan, strict=True):
        while open_levels and open_levels[-1] >= heading.level:
            out.append(style.close_section(open_levels.pop()))
        out.append(style.open_section(heading))
        open_levels.append(heading.level)
        for n in range(paragraphs):
            anchors = slots.get(paragraph_index, [])
            paragraph_index += 1
            if written >= target and not anchors and n > 0:
                continue
            text, count = writer.paragraph(style.literal, anchors)
            written += count
            out.append(style.paragraph(text))
            if after_intro and heading.level == 1 and n == 0:
                out.append(after_intro)
        roll = rng.random()
        if heading.level == 1 or written >= target:
            pass
        elif roll < 0.45:
            language, source = writer.code()
            written += len(source.split())
            out.append(style.code(language, source))
        elif roll < 0.62:
            header, rows = writer.table()
            written += sum(len(" ".join(row).split()) for row in rows)
            out.append(style.table(header, rows))
        elif roll < 0.8:
            items = writer.list_items()
            written += sum(len(item.split()) for item in items)
            out.append(style.bullet_list(items))
        if heading.level > 1 and rng.random() < 0.12:
            out.append(style.note(writer.paragraph(style.literal, sentences=(1, 2))[0]))
    while open_levels:
        out.append(style.close_section(open_levels.pop()))
    return "\n".join(out)


def chain(docs: list[Doc]) -> None:
    """Link pages in reading order through prev/next."""
    for before, after in itertools.pairwise(docs):
        before.next = after
        after.prev = before
