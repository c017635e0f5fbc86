"""The DocBook sub-site: markup of DocBook XSL chunked HTML output."""

from __future__ import annotations

import html

from sample_site.model import (
    PROJECT,
    Context,
    Doc,
    Extra,
    Heading,
    Link,
    chain,
    outline,
    pick_links,
    rel,
    write_body,
)
from sample_site.text import NOUNS, Writer, slugify

ROOT = "/docbook/"
BOOK_TITLE = f"The {PROJECT} Manual"
SECTIONS_PER_CHAPTER = (6, 5, 7, 6, 6, 5, 7, 6, 6, 6)
SECTIONS_PER_APPENDIX = {"a": 3, "b": 2}

EXTRAS: dict[str, list[Extra]] = {
    "/docbook/": [Extra("/docbook/archive.zip", "archive.zip")],
    "/docbook/pr01.html": [Extra("/docbook/archive.zip", "a ZIP archive of this manual")],
    "/docbook/ch04s03.html": [Extra("/docbook/ch99s01.html", "Section 99.1, “Removed features”")],
    "/docbook/apa.html": [Extra("/docbook/ch99s01.html", "the removed features")],
}


def layout() -> list[Doc]:
    """All DocBook pages (80 linked, 3 orphans) with their outline and navigation."""
    book = Doc("docbook", ROOT, BOOK_TITLE, "book", href_path=ROOT + "index.html", is_index=True)
    preface = _doc("pr01.html", "Preface", "preface", "")
    reading = [book, preface]
    book.children = [preface]
    for c, count in enumerate(SECTIONS_PER_CHAPTER, 1):
        chapter = _doc(f"ch{c:02d}.html", _title(f"chapter-{c}"), "chapter", str(c))
        chapter.children = [
            _doc(f"ch{c:02d}s{s:02d}.html", _title(f"ch{c}s{s}"), "section", f"{c}.{s}")
            for s in range(1, count + 1)
        ]
        book.children.append(chapter)
        reading += [chapter, *chapter.children]
    for letter, count in SECTIONS_PER_APPENDIX.items():
        title = _title(f"appendix-{letter}")
        appendix = _doc(f"ap{letter}.html", title, "appendix", letter.upper())
        appendix.children = [
            _doc(
                f"ap{letter}s{s:02d}.html",
                _title(f"ap{letter}s{s}"),
                "section",
                f"{letter.upper()}.{s}",
            )
            for s in range(1, count + 1)
        ]
        book.children.append(appendix)
        reading += [appendix, *appendix.children]
    glossary = _doc("go01.html", "Glossary", "glossary", "")
    book.children.append(glossary)
    reading.append(glossary)
    chain(reading)
    for parent in book.children:
        parent.up = book
        for child in parent.children:
            child.up = parent
    orphans = [
        _doc(f"orphans/orphan-{i}.html", f"Working notes {i}", "section", "") for i in range(1, 4)
    ]
    for orphan in orphans:
        orphan.kind = "orphan"
        orphan.up = book
    for doc in reading + orphans:
        doc.extras = EXTRAS.get(doc.path, [])
        if doc.section == "section":
            doc.headings = outline(doc, sections=(1, 3))
        else:
            doc.headings = [Heading(1, doc.title, _anchor(doc))]
    return reading + orphans


def _doc(path: str, title: str, section: str, number: str) -> Doc:
    return Doc("docbook", ROOT + path, title, section, number=number)


def _title(seed: str) -> str:
    return Writer(f"docbook-{seed}").heading()


def _anchor(doc: Doc) -> str:
    name = doc.path.rsplit("/", 1)[-1].removesuffix(".html") or "book"
    return f"{name}-{slugify(doc.title)}"


def label(doc: Doc) -> str:
    """The numbered title as DocBook prints it in headings."""
    if doc.section == "chapter":
        return f"Chapter {doc.number}. {doc.title}"
    if doc.section == "appendix":
        return f"Appendix {doc.number}. {doc.title}"
    if doc.number:
        return f"{doc.number}. {doc.title}"
    return doc.title


class DocBookStyle:
    """DocBook XSL HTML for the generic body parts."""

    def __init__(self, doc: Doc):
        self.doc = doc
        self.counters = [0, 0, 0, 0]
        self.tables = 0

    def literal(self, name: str) -> str:
        """Inline code."""
        return f'<code class="literal">{name}</code>'

    def anchor(self, link: Link) -> str:
        """A cross-reference (xref) or an external link (ulink)."""
        href = html.escape(link.href)
        target = link.target
        if link.kind == "internal" and target is not None:
            title = html.escape(label(target))
            if link.fragment:
                heading = next(h for h in target.headings if h.anchor == link.fragment)
                text = f"the section called “{html.escape(heading.title)}”"
            elif target.section == "section" and target.number:
                text = f"Section {target.number}, “{html.escape(target.title)}”"
            elif target.section in ("chapter", "appendix"):
                text = f"{target.section.capitalize()} {target.number}, <em>" + (
                    f"{html.escape(target.title)}</em>"
                )
            else:
                text = html.escape(target.title)
            return f'<a class="xref" href="{href}" title="{title}">{text}</a>'
        return f'<a class="ulink" href="{href}" target="_top">{html.escape(link.text)}</a>'

    def open_section(self, heading: Heading) -> str:
        """A division with its DocBook title page."""
        doc = self.doc
        if heading.level == 1:
            css = "book" if doc.section == "book" else doc.section
            text = label(doc)
        else:
            css = "section"
            self.counters[heading.level - 1] += 1
            for deeper in range(heading.level, len(self.counters)):
                self.counters[deeper] = 0
            numbers = ".".join(str(n) for n in self.counters[1 : heading.level])
            text = f"{doc.number}.{numbers}. {heading.title}" if doc.number else heading.title
        tag = (
            heading.level
            if doc.section in ("book", "chapter", "appendix", "preface", "glossary")
            else heading.level + 1
        )
        style = ' style="clear: both"' if tag == 2 else ""
        return (
            f'<div class="{css}"><div class="titlepage"><div><div><h{tag} class="title"{style}>'
            f'<a id="{heading.anchor}"></a>{html.escape(text)}</h{tag}></div></div></div>'
        )

    def close_section(self, level: int) -> str:
        """End of a division."""
        return "</div>"

    def paragraph(self, text: str) -> str:
        """A paragraph."""
        return f"<p>{text}</p>"

    def code(self, language: str, source: str) -> str:
        """A program listing or a screen."""
        css = "programlisting" if language == "python" else "screen"
        return f'<pre class="{css}">{html.escape(source, quote=False)}</pre>'

    def table(self, header: list[str], rows: list[list[str]]) -> str:
        """A formal table with its title."""
        self.tables += 1
        chapter = self.doc.number.split(".")[0] or "1"
        number = f"{chapter}.{self.tables}"
        caption = f"{header[0]}s of this component"
        cols = "".join(f'<col class="c{n}">' for n in range(1, len(header) + 1))
        head = "".join(f"<th>{cell}</th>" for cell in header)
        body = "".join(
            f"<tr><td>{self.literal(row[0])}</td>"
            + "".join(f"<td>{html.escape(cell)}</td>" for cell in row[1:])
            + "</tr>"
            for row in rows
        )
        return (
            f'<div class="table"><a id="table-{number.replace(".", "-")}"></a><p class="title">'
            f'<b>Table {number}. {caption}</b></p><table summary="{caption}" border="1">'
            f"<colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
            '</table></div><br class="table-break">'
        )

    def bullet_list(self, items: list[str]) -> str:
        """An itemized list."""
        lis = "".join(f'<li class="listitem"><p>{item}</p></li>' for item in items)
        return (
            '<div class="itemizedlist"><ul class="itemizedlist" style="list-style-type: disc; ">'
            f"{lis}</ul></div>"
        )

    def note(self, text: str) -> str:
        """A note admonition."""
        return (
            '<div class="note" style="margin-left: 0.5in; margin-right: 0.5in;"><h3 class="title">'
            f"Note</h3><p>{text}</p></div>"
        )


def render(doc: Doc, ctx: Context) -> str:
    """The complete HTML of a DocBook XSL chunk."""
    after_intro = ""
    if doc.children:
        after_intro = _toc(doc, deep=doc.section == "book")
    if doc.section == "glossary":
        after_intro += _glossary(doc)
    body = write_body(doc, DocBookStyle(doc), pick_links(doc, ctx, internal=(7, 10)), after_intro)
    r = lambda path: rel(doc.path, path)  # noqa: E731
    head_links = [f'<link rel="home" href="{r(ROOT + "index.html")}" title="{BOOK_TITLE}">']
    for relation, other in (("up", doc.up), ("prev", doc.prev), ("next", doc.next)):
        if other is not None:
            head_links.append(
                f'<link rel="{relation}" href="{r(other.href_path)}" '
                f'title="{html.escape(label(other))}">'
            )
    links = "".join(head_links)
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">
<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<title>{html.escape(label(doc))}</title><link rel="stylesheet" type="text/css" href="{r("/docbook/docbook.css")}"><meta name="generator" content="DocBook XSL Stylesheets V1.79.2">{links}</head>
<body bgcolor="white" text="black" link="#0000FF" vlink="#840084" alink="#0000FF">
{_navheader(doc)}
{body}
{_navfooter(doc)}
</body></html>
"""  # noqa: E501


def _nav(doc: Doc, other: Doc | None, key: str, text: str) -> str:
    if other is None:
        return "&nbsp;"
    return f'<a accesskey="{key}" href="{rel(doc.path, other.href_path)}">{text}</a>'


def _navheader(doc: Doc) -> str:
    up_title = html.escape(label(doc.up)) if doc.up is not None and doc.up.path != ROOT else ""
    return (
        '<div class="navheader"><table width="100%" summary="Navigation header"><tr>'
        f'<th colspan="3" align="center">{html.escape(label(doc))}</th></tr><tr>'
        f'<td width="20%" align="left">{_nav(doc, doc.prev, "p", "Prev")}&nbsp;</td>'
        f'<th width="60%" align="center">{up_title or "&nbsp;"}</th>'
        f'<td width="20%" align="right">&nbsp;{_nav(doc, doc.next, "n", "Next")}</td>'
        "</tr></table><hr></div>"
    )


def _navfooter(doc: Doc) -> str:
    prev_title = html.escape(label(doc.prev)) if doc.prev else "&nbsp;"
    next_title = html.escape(label(doc.next)) if doc.next else "&nbsp;"
    home = "&nbsp;"
    if doc.path != ROOT:
        home = f'<a accesskey="h" href="{rel(doc.path, ROOT + "index.html")}">Home</a>'
    up = _nav(doc, doc.up, "u", "Up") if doc.up is not None and doc.up.path != ROOT else "&nbsp;"
    return (
        '<div class="navfooter"><hr><table width="100%" summary="Navigation footer"><tr>'
        f'<td width="40%" align="left">{_nav(doc, doc.prev, "p", "Prev")}&nbsp;</td>'
        f'<td width="20%" align="center">{up}</td>'
        f'<td width="40%" align="right">&nbsp;{_nav(doc, doc.next, "n", "Next")}</td></tr><tr>'
        f'<td width="40%" align="left" valign="top">{prev_title}&nbsp;</td>'
        f'<td width="20%" align="center">{home}</td>'
        f'<td width="40%" align="right" valign="top">&nbsp;{next_title}</td>'
        "</tr></table></div>"
    )


def _toc(doc: Doc, deep: bool) -> str:
    entries = []
    for child in doc.children:
        text = f"{child.number}. {child.title}" if child.section == "chapter" else label(child)
        entry = (
            f'<dt><span class="{child.section}"><a href="{rel(doc.path, child.href_path)}">'
            f"{html.escape(text)}</a></span></dt>"
        )
        if deep and child.children:
            entry += (
                "<dd><dl>"
                + "".join(
                    f'<dt><span class="section"><a href="{rel(doc.path, grandchild.href_path)}">'
                    f"{html.escape(label(grandchild))}</a></span></dt>"
                    for grandchild in child.children
                )
                + "</dl></dd>"
            )
        entries.append(entry)
    return (
        '<div class="toc"><p><b>Table of Contents</b></p><dl class="toc">'
        + "".join(entries)
        + "</dl></div>"
    )


def _glossary(doc: Doc) -> str:
    writer = doc.writer("glossary")
    literal = DocBookStyle(doc).literal
    terms = sorted(writer.rng.sample(NOUNS, 18))
    entries = "".join(
        f'<dt><span class="glossterm"><a id="gloss-{term}"></a>{term}</span></dt>'
        f'<dd class="glossdef"><p>{writer.paragraph(literal, sentences=(1, 2))[0]}</p></dd>'
        for term in terms
    )
    return f'<div class="glossdiv"><dl>{entries}</dl></div>'
