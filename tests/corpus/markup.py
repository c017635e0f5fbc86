"""What every generator module shares: the content walk, the site around a page, the pages.

A generator is a :class:`Markup` subclass (how it marks up content: headings, code, tables,
notes...) plus a ``layout`` function (the chrome it puts around the content). ``Markup.body``
walks a :class:`~tests.corpus.content.PageSpec` and nests sections the way the generator does.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import html as lxml_html

from tests.corpus.content import (
    NAV_EXTRA,
    PAGES,
    Aside,
    BulletList,
    ChildLink,
    ChildPages,
    Code,
    Heading,
    Note,
    PageSpec,
    Para,
    SideBySide,
    Style,
    Table,
    Truth,
    esc,
    render_inline,
    truth,
)

PROJECT = "Retryable"
VERSION = "2.1"
BASE = "https://docs.example.org/retryable/2.1/"
# The chrome's words that must never reach the main text (none occurs in any page's content).
COPYRIGHT = "Copyright 2026, Example Corp"
COOKIE_TEXT = "This website uses cookies to ensure you get the best experience on our website."
COOKIE_SHORT = "We use cookies to count visits"


@dataclass
class CorpusPage:
    generator: str
    boilerplate: list[str]  # what the generator's chrome may show (truth: what this page does)
    spec: PageSpec
    url: str
    html: str
    truth: Truth

    @property
    def name(self) -> str:
        return f"{self.generator}/{self.spec.slug}"


@dataclass(frozen=True)
class NavItem:
    title: str
    href: str
    current: bool


def flat_links(links):
    """Links and their children, depth first (a nested TOC as one list)."""
    for link in links:
        yield link
        yield from flat_links(link.children)


def nav_items(spec: PageSpec, suffix: str = ".html") -> list[NavItem]:
    """The site's global navigation: the guide's pages, then pages the corpus never renders."""
    items = [NavItem(p.title, p.slug + suffix, p.slug == spec.slug) for p in PAGES]
    items += [
        NavItem("Testing with fake servers", "testing" + suffix, False),
        NavItem("Upgrading from version 1", "upgrading" + suffix, False),
    ]
    items += [NavItem(t, t.lower().replace(" ", "-") + suffix, False) for t in NAV_EXTRA]
    return items


def prev_next(spec: PageSpec) -> tuple[NavItem | None, NavItem | None]:
    order = [PAGES[1], PAGES[0], PAGES[2]]  # index, configuration, backoff
    i = order.index(spec)
    prev = order[i - 1] if i > 0 else None
    nxt = order[i + 1] if i + 1 < len(order) else None
    as_item = lambda p: p and NavItem(p.title, p.slug + ".html", False)  # noqa: E731
    return as_item(prev), as_item(nxt)


def toc_entries(spec: PageSpec) -> list[Heading]:
    """The page's "on this page" entries: its h2 and h3 headings."""
    return [h for h in spec.headings if h.level > 1]


def cookieconsent() -> str:
    """The banner of Osano's cookieconsent 3, the commonest script on documentation sites."""
    return (
        '<div role="dialog" aria-live="polite" aria-label="cookieconsent" '
        'aria-describedby="cookieconsent:desc" class="cc-window cc-banner cc-type-info '
        'cc-theme-block cc-bottom cc-color-override--1234"><span id="cookieconsent:desc" '
        f'class="cc-message">{COOKIE_TEXT} <a aria-label="learn more about cookies" '
        'role="button" tabindex="0" class="cc-link" href="https://www.cookiesandyou.com" '
        'rel="noopener noreferrer nofollow" target="_blank">Learn more</a></span>'
        '<div class="cc-compliance"><a aria-label="dismiss cookie message" role="button" '
        'tabindex="0" class="cc-btn cc-dismiss">Got it!</a></div></div>'
    )


def cookie_notice() -> str:
    """A site's own cookie notice: a plain div with a paragraph and a button."""
    return (
        f'<div id="cookie-notice" class="cookie-notice"><p>{COOKIE_SHORT}. Read our '
        '<a href="/privacy.html">privacy statement</a>.</p>'
        '<button type="button" class="cookie-accept">Accept</button></div>'
    )


class Markup:
    """Content markup; subclasses override the blocks their generator renders differently."""

    style = Style()
    inline_code = "<code>{}</code>"
    # A section wrapper (format with id and the section's html), or None for a flat page.
    section: str | None = None

    def inline(self, parts) -> str:
        return render_inline(parts, self.inline_code)

    # -- blocks --------------------------------------------------------------------------

    def heading(self, h: Heading) -> str:
        return f'<h{h.level} id="{h.id}">{esc(h.text)}</h{h.level}>'

    def para(self, p: Para) -> str:
        return f"<p>{self.inline(p.parts)}</p>"

    def bullets(self, b: BulletList) -> str:
        items = "".join(f"<li>{self.inline(item)}</li>\n" for item in b.items)
        return f"<ul>\n{items}</ul>"

    def code(self, c: Code) -> str:
        return f'<pre><code class="language-{c.language}">{esc(c.text, quote=False)}</code></pre>'

    def table(self, t: Table) -> str:
        head = "".join(f"<th>{esc(h)}</th>" for h in t.header)
        rows = "".join(
            "<tr>" + "".join(f"<td>{self.inline((c,))}</td>" for c in row) + "</tr>\n"
            for row in t.rows
        )
        return f"<table>\n<thead>\n<tr>{head}</tr>\n</thead>\n<tbody>\n{rows}</tbody>\n</table>"

    def note(self, n: Note) -> str:
        label = self.style.note_labels[n.kind]
        return f'<div class="admonition {n.kind}"><p class="admonition-title">{label}</p>' + (
            f"<p>{self.inline(n.parts)}</p></div>"
        )

    def aside(self, a: Aside) -> str:
        return (
            f'<aside class="sidebar"><p class="sidebar-title">{esc(a.title)}</p>'
            f"<p>{self.inline(a.parts)}</p>{self.code(a.code)}</aside>"
        )

    def child_link(self, link: ChildLink) -> str:
        return f'<a href="{link.href}.html">{esc(link.text)}</a>'

    def child_pages(self, c: ChildPages) -> str:
        return self._link_list(c.links)

    def _link_list(self, links) -> str:
        items = []
        for link in links:
            sub = self._link_list(link.children) if link.children else ""
            summary = f" {esc(link.summary)}" if self.style.link_summaries and link.summary else ""
            items.append(f"<li>{self.child_link(link)}{summary}{sub}</li>")
        return "<ul>" + "\n".join(items) + "</ul>"

    def side_by_side(self, s: SideBySide) -> str:
        if not self.style.side_by_side:
            return self.code(s.left) + "\n" + self.code(s.right)
        return (
            '<table class="side-by-side" style="width:100%">\n<tr>\n'
            f'<td style="width:50%">{self.code(s.left)}</td>\n'
            f'<td style="width:50%">{self.code(s.right)}</td>\n</tr>\n</table>'
        )

    # -- the page ------------------------------------------------------------------------

    def block(self, b) -> str:
        for kind, method in (
            (Heading, self.heading),
            (Para, self.para),
            (BulletList, self.bullets),
            (Code, self.code),
            (Table, self.table),
            (Note, self.note),
            (Aside, self.aside),
            (ChildPages, self.child_pages),
            (SideBySide, self.side_by_side),
        ):
            if isinstance(b, kind):
                return method(b)
        raise TypeError(b)

    def title(self, spec: PageSpec) -> str:
        return self.heading(Heading(1, spec.title, spec.title_id))

    def extra_content(self, spec: PageSpec) -> str:
        """Text the generator adds to the content that the spec does not hold (a signature)."""
        return ""

    def body(self, spec: PageSpec) -> str:
        """The page's content: the title and the blocks, nested in sections if it does."""
        items = [Heading(1, spec.title, spec.title_id), *spec.blocks]
        if self.section is None:
            return self.title(spec) + "\n" + "\n".join(self.block(b) for b in spec.blocks)
        return self._nest(items, 0, spec)[0]

    def _nest(self, items: list, i: int, spec: PageSpec) -> tuple[str, int]:
        """The section starting at items[i] (a heading), and the index after it."""
        head = items[i]
        parts = [self.title(spec) if i == 0 else self.heading(head)]
        i += 1
        while i < len(items):
            b = items[i]
            if isinstance(b, Heading):
                if b.level <= head.level:
                    break
                inner, i = self._nest(items, i, spec)
                parts.append(inner)
            else:
                parts.append(self.block(b))
                i += 1
        return self.wrap_section(head, "\n".join(parts)), i

    def wrap_section(self, h: Heading, inner: str) -> str:
        return self.section.format(id=h.id, level=h.level, html=inner)


def build(
    generator: str,
    markup: Markup,
    layout,
    boilerplate: list[str],
    specs: tuple[PageSpec, ...] = PAGES,
    suffix: str = ".html",
) -> list[CorpusPage]:
    """The generator's pages: ``layout(spec, body_html)`` puts the chrome around the content.

    A page's boilerplate is the strings of ``boilerplate`` its chrome shows (an index page has
    no "Previous topic").
    """
    pages = []
    for spec in specs:
        html = layout(spec, markup.body(spec))
        url = f"{BASE}{generator}/{spec.slug}{suffix}"
        shown = visible_text(html)
        strings = [b for b in boilerplate if b in shown]
        page_truth = truth(spec, markup.style, strings)
        if markup.extra_content(spec):
            page_truth.text += "\n" + markup.extra_content(spec)
        pages.append(CorpusPage(generator, boilerplate, spec, url, html, page_truth))
    return pages


def visible_text(html: str) -> str:
    """The page's text without scripts and styles, whitespace normalised."""
    root = lxml_html.fromstring(html)
    for el in list(root.iter("script", "style", "title")):
        el.drop_tree()
    return " ".join(root.text_content().split())
