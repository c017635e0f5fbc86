"""The MkDocs sub-site: markup of the Material for MkDocs theme, with directory URLs."""

from __future__ import annotations

import html
import random

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
from sample_site.text import NOUNS, VERBS, Writer, highlight

ROOT = "/mkdocs/"
SITE_NAME = f"{PROJECT} Docs"
LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M12 8a3 3 0 0 0 3-3 3 3'
    " 0 0 0-3-3 3 3 0 0 0-3 3 3 3 0 0 0 3 3m0 3.54C9.64 9.35 6.5 8 3 8v11c3.5 0 6.64 1.35 9 3.54 "
    '2.36-2.19 5.5-3.54 9-3.54V8c-3.5 0-6.64 1.35-9 3.54Z"/></svg>'
)
EDIT_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M10 20H6V4h7v5h5v3.1l2-2'
    "V8l-6-6H6c-1.1 0-2 .9-2 2v16c0 1.1.9 2 2 2h4v-2m10.2-7c.1 0 .3.1.4.2l1.3 1.3c.2.2.2.6 0 .8"
    'l-1 1-2.1-2.1 1-1c.1-.1.2-.2.4-.2m0 3.9L14.1 23H12v-2.1l6.1-6.1 2.1 2.1Z"/></svg>'
)

EXTRAS: dict[str, list[Extra]] = {
    "/mkdocs/about/": [
        Extra("/mkdocs/guide/missing-page/", "the archived guide"),
        Extra("/mkdocs/guide", "the guide", root_relative=True),
        Extra("/mkdocs/guide/index.html", "the guide overview", root_relative=True),
    ],
    "/mkdocs/guide/page-9/": [Extra("/mkdocs/guide/missing-page/", "the previous version")],
    "/mkdocs/recipes/recipe-2/": [Extra("/mkdocs/guide/index.html", "the guide index")],
}


def layout() -> list[Doc]:
    """All MkDocs pages (100 linked, 3 orphans) with their outline and navigation."""
    home = Doc("mkdocs", ROOT, f"Welcome to {PROJECT}", is_index=True)
    started = _doc("getting-started/", "Getting started", "getting-started")
    guide = _doc("guide/", "User guide", "guide", is_index=True)
    pages = [
        _doc(f"guide/page-{i}/", Writer(f"mkdocs-guide-{i}").heading(), "guide")
        for i in range(1, 41)
    ]
    reference = _doc("reference/", "Reference", "reference", is_index=True)
    nouns = random.Random("mkdocs-reference").sample(NOUNS, 44)
    entries = [
        _doc(f"reference/entry-{i}/", f"{noun.capitalize()} reference", "reference")
        for i, noun in enumerate(nouns, 1)
    ]
    recipes_index = _doc("recipes/", "Recipes", "recipes", is_index=True)
    recipes = []
    for i in range(1, 11):
        writer = Writer(f"mkdocs-recipe-{i}")
        verb = writer.rng.choice(VERBS)[0]
        title = f"How to {verb} the {writer.noun_phrase()[0].split(' ', 1)[1]}"
        recipes.append(_doc(f"recipes/recipe-{i}/", title, "recipes"))
    about = _doc("about/", "About", "about")
    orphans = [
        _doc(f"orphans/orphan-{i}/", f"Draft {i}: {Writer(f'mkdocs-orphan-{i}').heading()}", "")
        for i in range(1, 4)
    ]
    home.children = [started, guide, reference, recipes_index, about]
    for section, children in ((guide, pages), (reference, entries), (recipes_index, recipes)):
        section.children = children
        for child in children:
            child.up = section
    for doc in (*home.children, *orphans):
        doc.up = home
    for orphan in orphans:
        orphan.kind = "orphan"
    chain([home, started, guide, *pages, reference, *entries, recipes_index, *recipes, about])
    docs = [home, started, guide, *pages, reference, *entries, recipes_index, *recipes, about]
    docs += orphans
    for doc in docs:
        doc.extras = EXTRAS.get(doc.path, [])
        doc.headings = outline(doc, sections=(1, 2) if doc.is_index else (2, 3), max_level=4)
    return docs


def _doc(path: str, title: str, section: str, is_index: bool = False) -> Doc:
    return Doc("mkdocs", ROOT + path, title, section, is_index=is_index)


class MkDocsStyle:
    """Python-Markdown/Material HTML for the generic body parts."""

    def literal(self, name: str) -> str:
        """Inline code."""
        return f"<code>{name}</code>"

    def anchor(self, link: Link) -> str:
        """An in-text link."""
        text = html.escape(link.text)
        if link.fragment and link.target is not None:
            heading = next(h for h in link.target.headings if h.anchor == link.fragment)
            text = html.escape(heading.title)
        return f'<a href="{html.escape(link.href)}">{text}</a>'

    def open_section(self, heading: Heading) -> str:
        """A heading with its permalink (Markdown sections are flat)."""
        level, anchor = heading.level, heading.anchor
        return (
            f'<h{level} id="{anchor}">{html.escape(heading.title)}<a class="headerlink" '
            f'href="#{anchor}" title="Permanent link">&para;</a></h{level}>'
        )

    def close_section(self, level: int) -> str:
        """Nothing: Markdown has no section elements."""
        return ""

    def paragraph(self, text: str) -> str:
        """A paragraph."""
        return f"<p>{text}</p>"

    def code(self, language: str, source: str) -> str:
        """A fenced code block highlighted by Pygments."""
        return (
            f'<div class="language-{language} highlight"><pre><span></span><code>'
            f"{highlight(language, source)}</code></pre></div>"
        )

    def table(self, header: list[str], rows: list[list[str]]) -> str:
        """A Markdown table in Material's scroll wrapper."""
        head = "\n".join(f"<th>{cell}</th>" for cell in header)
        body = "\n".join(
            "<tr>\n<td><code>"
            + row[0]
            + "</code></td>\n"
            + "\n".join(f"<td>{html.escape(cell)}</td>" for cell in row[1:])
            + "\n</tr>"
            for row in rows
        )
        return (
            '<div class="md-typeset__scrollwrap"><div class="md-typeset__table"><table>\n'
            f"<thead>\n<tr>\n{head}\n</tr>\n</thead>\n<tbody>\n{body}\n</tbody>\n</table></div>"
            "</div>"
        )

    def bullet_list(self, items: list[str]) -> str:
        """A bullet list."""
        return "<ul>\n" + "".join(f"<li>{item}</li>\n" for item in items) + "</ul>"

    def note(self, text: str) -> str:
        """A note admonition."""
        return (
            f'<div class="admonition note">\n<p class="admonition-title">Note</p>\n<p>{text}</p>\n'
            "</div>"
        )


def render(doc: Doc, ctx: Context) -> str:
    """The complete HTML of a Material for MkDocs page."""
    r = lambda path: rel(doc.path, path)  # noqa: E731
    after_intro = ""
    if doc.children:
        after_intro = (
            "<ul>\n"
            + "".join(
                f'<li><a href="{r(child.href_path)}">{html.escape(child.title)}</a></li>\n'
                for child in doc.children
            )
            + "</ul>"
        )
    body = write_body(doc, MkDocsStyle(), pick_links(doc, ctx), after_intro)
    head_links = []
    if doc.prev:
        head_links.append(f'<link rel="prev" href="{r(doc.prev.href_path)}">')
    if doc.next:
        head_links.append(f'<link rel="next" href="{r(doc.next.href_path)}">')
    source = "index" if doc.path == ROOT else doc.path[len(ROOT) :].rstrip("/")
    title = html.escape(doc.title)
    full_title = SITE_NAME if doc.path == ROOT else f"{title} - {SITE_NAME}"
    return f"""<!doctype html>
<html lang="en" class="no-js">
  <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width,initial-scale=1">
        <meta name="description" content="{html.escape(doc.writer("description").sentence())}">
        <link rel="canonical" href="{ctx.absolute(doc.path)}">
        {"".join(head_links)}
      <meta name="generator" content="mkdocs-1.6.0, mkdocs-material-9.5.27">
    <title>{full_title}</title>
      <link rel="stylesheet" href="{r("/mkdocs/assets/stylesheets/main.css")}">
  </head>
  <body dir="ltr" data-md-color-scheme="default" data-md-color-primary="indigo">
    <input class="md-toggle" data-md-toggle="drawer" type="checkbox" id="__drawer" autocomplete="off">
    <input class="md-toggle" data-md-toggle="search" type="checkbox" id="__search" autocomplete="off">
    <label class="md-overlay" for="__drawer"></label>
    <div data-md-component="skip">
        <a href="#{doc.headings[0].anchor}" class="md-skip">Skip to content</a>
    </div>
    <div data-md-component="announce"></div>
<header class="md-header md-header--shadow" data-md-component="header">
  <nav class="md-header__inner md-grid" aria-label="Header">
    <a href="{r(ROOT)}" title="{SITE_NAME}" class="md-header__button md-logo" aria-label="{SITE_NAME}" data-md-component="logo">{LOGO}</a>
    <div class="md-header__title" data-md-component="header-title">
      <div class="md-header__ellipsis">
        <div class="md-header__topic"><span class="md-ellipsis">{SITE_NAME}</span></div>
        <div class="md-header__topic" data-md-component="header-topic"><span class="md-ellipsis">{title}</span></div>
      </div>
    </div>
    <div class="md-search" data-md-component="search" role="dialog">
      <form class="md-search__form" name="search"><input type="text" class="md-search__input" name="query" aria-label="Search" placeholder="Search" autocomplete="off"></form>
    </div>
    <div class="md-header__source">
      <a href="https://example.com/sampleproj/sampleproj" title="Go to repository" class="md-source" data-md-component="source"><div class="md-source__repository">sampleproj/sampleproj</div></a>
    </div>
  </nav>
</header>
<div class="md-container" data-md-component="container">
  <main class="md-main" data-md-component="main">
    <div class="md-main__inner md-grid">
      <div class="md-sidebar md-sidebar--primary" data-md-component="sidebar" data-md-type="navigation">
        <div class="md-sidebar__scrollwrap">
          <div class="md-sidebar__inner">
{_primary_nav(doc, ctx)}
          </div>
        </div>
      </div>
      <div class="md-sidebar md-sidebar--secondary" data-md-component="sidebar" data-md-type="toc">
        <div class="md-sidebar__scrollwrap">
          <div class="md-sidebar__inner">
{_toc(doc)}
          </div>
        </div>
      </div>
      <div class="md-content" data-md-component="content">
        <article class="md-content__inner md-typeset">
          <a href="https://example.com/sampleproj/edit/main/docs/{source}.md" title="Edit this page" class="md-content__button md-icon">{EDIT_ICON}</a>
{body}
        </article>
      </div>
    </div>
  </main>
{_footer(doc)}
</div>
<div class="md-dialog" data-md-component="dialog"><div class="md-dialog__inner md-typeset"></div></div>
<script id="__config" type="application/json">{{"base": "{r(ROOT).rstrip("/") or "."}", "features": ["navigation.indexes"], "translations": {{"clipboard.copy": "Copy to clipboard"}}}}</script>
  </body>
</html>
"""  # noqa: E501


def _nav_link(doc: Doc, entry: Doc, label: str = "") -> str:
    text = html.escape(label or entry.title)
    if entry is doc:
        return (
            f'<a href="./" class="md-nav__link md-nav__link--active"><span class="md-ellipsis">'
            f"{text}</span></a>"
        )
    return (
        f'<a href="{rel(doc.path, entry.href_path)}" class="md-nav__link">'
        f'<span class="md-ellipsis">{text}</span></a>'
    )


def _primary_nav(doc: Doc, ctx: Context) -> str:
    home = ctx.docs[ROOT]
    items = [f'<li class="md-nav__item">{_nav_link(doc, home, "Home")}</li>']
    for n, entry in enumerate(home.children, 2):
        active = doc is entry or doc.up is entry
        if not entry.children:
            css = "md-nav__item md-nav__item--active" if active else "md-nav__item"
            items.append(f'<li class="{css}">{_nav_link(doc, entry)}</li>')
            continue
        css = "md-nav__item md-nav__item--nested" + (" md-nav__item--active" if active else "")
        sub = ""
        if active:
            index = entry.children.index(doc) if doc in entry.children else 0
            window = entry.children[max(0, index - 2) : index + 3]
            sub = (
                f'<nav class="md-nav" data-md-level="1" aria-labelledby="__nav_{n}_label" '
                'aria-expanded="true">\n<ul class="md-nav__list">\n'
                + "".join(f'<li class="md-nav__item">{_nav_link(doc, c)}</li>\n' for c in window)
                + "</ul>\n</nav>"
            )
        items.append(
            f'<li class="{css}">\n<input class="md-nav__toggle md-toggle" type="checkbox" '
            f'id="__nav_{n}"{" checked" if active else ""}>\n<div class="md-nav__link '
            f'md-nav__container">{_nav_link(doc, entry)}</div>\n{sub}</li>'
        )
    lis = "\n".join(items)
    return f"""<nav class="md-nav md-nav--primary" aria-label="Navigation" data-md-level="0">
  <label class="md-nav__title" for="__drawer">{SITE_NAME}</label>
  <ul class="md-nav__list" data-md-scrollfix>
{lis}
  </ul>
</nav>"""


def _toc(doc: Doc) -> str:
    items: list[str] = []
    for heading in doc.headings:
        if heading.level not in (2, 3):
            continue
        link = (
            f'<a href="#{heading.anchor}" class="md-nav__link"><span class="md-ellipsis">'
            f"{html.escape(heading.title)}</span></a>"
        )
        css = "md-nav__item" if heading.level == 2 else "md-nav__item md-nav__item--nested-toc"
        items.append(f'<li class="{css}">{link}</li>')
    lis = "\n".join(items)
    return f"""<nav class="md-nav md-nav--secondary" aria-label="Table of contents">
  <label class="md-nav__title" for="__toc">Table of contents</label>
  <ul class="md-nav__list" data-md-component="toc" data-md-scrollfix>
{lis}
  </ul>
</nav>"""


def _footer(doc: Doc) -> str:
    links = []
    for other, direction in ((doc.prev, "prev"), (doc.next, "next")):
        if other is None:
            continue
        label = "Previous" if direction == "prev" else "Next"
        links.append(
            f'<a href="{rel(doc.path, other.href_path)}" class="md-footer__link '
            f'md-footer__link--{direction}" aria-label="{label}: {html.escape(other.title)}">\n'
            f'<div class="md-footer__title"><span class="md-footer__direction">{label}</span>'
            f'<div class="md-ellipsis">{html.escape(other.title)}</div></div>\n</a>'
        )
    nav = "\n".join(links)
    return f"""<footer class="md-footer">
  <nav class="md-footer__inner md-grid" aria-label="Footer">
{nav}
  </nav>
  <div class="md-footer-meta md-typeset">
    <div class="md-footer-meta__inner md-grid">
      <div class="md-copyright">
        <div class="md-copyright__highlight">Copyright &copy; 2024 {PROJECT} Authors</div>
        Made with <a href="https://example.com/mkdocs-material/" target="_blank" rel="noopener">Material for MkDocs</a>
      </div>
    </div>
  </div>
</footer>"""  # noqa: E501
