"""Book-style generators: mdBook, GitBook (the open-source toolchain), Antora, Hugo Docsy.

- mdBook (crates/mdbook-html/front-end/templates/index.hbs): headings wrap their text in
  ``a.header``; code is ``pre > code.language-X`` (highlight.js runs in the browser); tables sit
  in ``div.table-wrapper``; the chapter list in the sidebar is filled in by toc.js (the page has
  a ``<noscript>`` iframe); the menu bar has an ``h1.menu-title``; a keyboard-help popup, the
  theme list and the search box are in the page.
- GitBook (gitbook 3 and theme-default): ``section.normal.markdown-section`` inside
  ``div.page-wrapper[role=main]``, which also holds the search results' ``h1`` "No results
  matching"; server-side highlight.js spans in ``pre > code.lang-X``; the edit-link and
  version-select plugins' markup.
- Antora (antora-ui-default src/layouts, partials; Asciidoctor's HTML): ``article.doc`` with
  ``div.sect1 > h2 > a.anchor`` + ``div.sectionbody``, ``div.listingblock`` code, admonitions as a
  ``<table>`` (``div.admonitionblock``), ``table.tableblock``, ``div.sidebarblock``; the toolbar
  (breadcrumbs, page versions, edit link) and ``aside.toc.sidebar`` inside ``main.article``.
- Docsy (theme/layouts/docs/baseof.html, _td-content.html, _partials/): ``main[role=main]``
  holds breadcrumbs and ``div.td-content``, which holds the feedback widget (an ``h2``) and the
  last-modified line; Chroma code; the alert shortcode (``h4.alert-heading``), pageinfo, and the
  section index (``div.entry > h5 > a`` + summary).
"""

from __future__ import annotations

from tests.corpus.content import (
    Aside,
    ChildPages,
    Code,
    Heading,
    Note,
    PageSpec,
    Para,
    Style,
    Table,
    esc,
    pygments_line,
    tokens,
)
from tests.corpus.markup import (
    COPYRIGHT,
    PROJECT,
    VERSION,
    Markup,
    build,
    cookie_notice,
    cookieconsent,
    flat_links,
    nav_items,
    prev_next,
    toc_entries,
)

# -- mdBook -----------------------------------------------------------------------------------

BOOK_TITLE = "The Retryable Book"


class MdBookMarkup(Markup):
    def heading(self, h: Heading) -> str:
        return (
            f'<h{h.level} id="{h.id}"><a class="header" href="#{h.id}">{esc(h.text)}</a>'
            f"</h{h.level}>"
        )

    def table(self, t: Table) -> str:
        return f'<div class="table-wrapper">{super().table(t)}</div>'

    def note(self, n: Note) -> str:
        label = self.style.note_labels[n.kind]
        return (
            f"<blockquote>\n<p><strong>{label}:</strong> {self.inline(n.parts)}</p>\n</blockquote>"
        )

    def aside(self, a: Aside) -> str:
        return (
            f"<blockquote>\n<p><strong>{esc(a.title)}</strong></p>\n<p>{self.inline(a.parts)}</p>"
            f"\n{self.code(a.code)}\n</blockquote>"
        )


def mdbook_layout(spec: PageSpec, body: str) -> str:
    prev, nxt = prev_next(spec)

    def arrows(cls: str) -> str:
        out = ""
        if prev:
            out += (
                f'<a rel="prev" href="{prev.href}" class="{cls} previous" title="Previous '
                'chapter" aria-label="Previous chapter" aria-keyshortcuts="Left"><span '
                'class="fa-svg"><svg viewBox="0 0 320 512"><path d="M41.4 233.4"/></svg>'
                "</span></a>\n"
            )
        if nxt:
            out += (
                f'<a rel="next prefetch" href="{nxt.href}" class="{cls} next" title="Next '
                'chapter" aria-label="Next chapter" aria-keyshortcuts="Right"><span '
                'class="fa-svg"><svg viewBox="0 0 320 512"><path d="M278.6 233.4"/></svg>'
                "</span></a>\n"
            )
        return out

    themes = "".join(
        f'<li role="none"><button role="menuitem" class="theme" id="mdbook-theme-{t.lower()}">'
        f"{t}</button></li>\n"
        for t in ("Auto", "Light", "Rust", "Coal", "Navy", "Ayu")
    )
    return (
        '<!DOCTYPE HTML>\n<html lang="en" class="light sidebar-visible" dir="ltr">\n<head>\n'
        f'<meta charset="UTF-8">\n<title>{esc(spec.title)} - {BOOK_TITLE}</title>\n'
        '<link rel="stylesheet" href="css/general.css">\n</head>\n<body>\n'
        '<div id="mdbook-help-container">\n<div id="mdbook-help-popup">\n'
        '<h2 class="mdbook-help-title">Keyboard shortcuts</h2>\n<div>\n'
        "<p>Press <kbd>\u2190</kbd> or <kbd>\u2192</kbd> to navigate between chapters</p>\n"
        "<p>Press <kbd>S</kbd> or <kbd>/</kbd> to search in the book</p>\n"
        "<p>Press <kbd>?</kbd> to show this help</p>\n"
        "<p>Press <kbd>Esc</kbd> to hide this help</p>\n</div>\n</div>\n</div>\n"
        '<div id="mdbook-body-container">\n'
        '<script>const path_to_root = "";</script>\n'
        '<input type="checkbox" id="mdbook-sidebar-toggle-anchor" class="hidden">\n'
        '<nav id="mdbook-sidebar" class="sidebar" aria-label="Table of contents">\n'
        "<!-- populated by js -->\n"
        '<mdbook-sidebar-scrollbox class="sidebar-scrollbox"></mdbook-sidebar-scrollbox>\n'
        '<noscript>\n<iframe class="sidebar-iframe-outer" src="toc.html"></iframe>\n</noscript>\n'
        '<div id="mdbook-sidebar-resize-handle" class="sidebar-resize-handle">\n'
        '<div class="sidebar-resize-indicator"></div>\n</div>\n</nav>\n'
        '<div id="mdbook-page-wrapper" class="page-wrapper">\n<div class="page">\n'
        '<div id="mdbook-menu-bar-hover-placeholder"></div>\n'
        '<div id="mdbook-menu-bar" class="menu-bar sticky">\n<div class="left-buttons">\n'
        '<label id="mdbook-sidebar-toggle" class="icon-button" for="mdbook-sidebar-toggle-anchor"'
        ' title="Toggle Table of Contents" aria-label="Toggle Table of Contents" '
        'aria-controls="mdbook-sidebar"><span class="fa-svg"><svg></svg></span></label>\n'
        '<button id="mdbook-theme-toggle" class="icon-button" type="button" title="Change theme"'
        ' aria-label="Change theme" aria-haspopup="true" aria-expanded="false" '
        'aria-controls="mdbook-theme-list"><span class="fa-svg"><svg></svg></span></button>\n'
        '<ul id="mdbook-theme-list" class="theme-popup" aria-label="Themes" role="menu">\n'
        f"{themes}</ul>\n"
        '<button id="mdbook-search-toggle" class="icon-button" type="button" title="Search (`/`)"'
        ' aria-label="Toggle Searchbar" aria-expanded="false" aria-keyshortcuts="/ s" '
        'aria-controls="mdbook-searchbar"><span class="fa-svg"><svg></svg></span></button>\n'
        f'</div>\n<h1 class="menu-title">{BOOK_TITLE}</h1>\n<div class="right-buttons">\n'
        '<a href="print.html" title="Print this book" aria-label="Print this book"><span '
        'class="fa-svg" id="print-button"><svg></svg></span></a>\n'
        '<a href="https://github.com/example/retryable" title="Git repository" aria-label="Git '
        'repository"><span class="fa-svg"><svg></svg></span></a>\n'
        f'<a href="https://github.com/example/retryable/edit/main/book/src/{spec.slug}.md" '
        'title="Suggest an edit" aria-label="Suggest an edit" rel="edit"><span class="fa-svg" '
        'id="git-edit-button"><svg></svg></span></a>\n</div>\n</div>\n'
        '<div id="mdbook-search-wrapper" class="hidden">\n<form id="mdbook-searchbar-outer" '
        'class="searchbar-outer">\n<div class="search-wrapper">\n<input type="search" '
        'id="mdbook-searchbar" name="searchbar" placeholder="Search this book ..." '
        'aria-controls="mdbook-searchresults-outer" aria-describedby="searchresults-header">\n'
        '</div>\n</form>\n<div id="mdbook-searchresults-outer" class="searchresults-outer '
        'hidden">\n<div id="mdbook-searchresults-header" class="searchresults-header"></div>\n'
        '<ul id="mdbook-searchresults">\n</ul>\n</div>\n</div>\n'
        '<div id="mdbook-content" class="content">\n<main>\n'
        f"{body}\n</main>\n"
        '<nav class="nav-wrapper" aria-label="Page navigation">\n'
        + arrows("mobile-nav-chapters")
        + '<div style="clear: both"></div>\n</nav>\n</div>\n</div>\n'
        '<nav class="nav-wide-wrapper" aria-label="Page navigation">\n'
        + arrows("nav-chapters")
        + "</nav>\n</div>\n"
        f'<footer id="site-footer"><p>{COPYRIGHT}. Book version {VERSION}, built with '
        "mdBook.</p></footer>\n"
        f'{cookie_notice()}\n</div>\n<script src="toc.js"></script>\n</body>\n</html>\n'
    )


MDBOOK_BOILERPLATE = [
    "Keyboard shortcuts",
    "to navigate between chapters",
    "to search in the book",
    "Coal",
    "Navy",
    "Ayu",
    BOOK_TITLE,
    "built with mdBook",
    COPYRIGHT,
    "We use cookies",
]

# -- GitBook ----------------------------------------------------------------------------------

_HLJS = {"kw": "hljs-keyword", "str": "hljs-string", "num": "hljs-number"}


def _hljs_line(line: str) -> str:
    return "".join(
        f'<span class="{_HLJS[k]}">{esc(t, quote=False)}</span>' if k in _HLJS else esc(t)
        for k, t in tokens(line)
    )


class GitBookMarkup(Markup):
    def code(self, c: Code) -> str:
        lines = "\n".join(_hljs_line(line) for line in c.lines)
        return f'<pre><code class="lang-{c.language}">{lines}\n</code></pre>'

    def note(self, n: Note) -> str:
        label = self.style.note_labels[n.kind]
        return (
            f"<blockquote>\n<p><strong>{label}</strong> {self.inline(n.parts)}</p>\n</blockquote>"
        )

    aside = MdBookMarkup.aside

    def child_link(self, link) -> str:
        return f'<a href="{link.href}.html">{esc(link.text)}</a>'


def gitbook_layout(spec: PageSpec, body: str) -> str:
    prev, nxt = prev_next(spec)
    summary = "".join(
        f'<li class="chapter {"active" if i.current else ""}" data-level="1.{n}" '
        f'data-path="{i.href}">\n<a href="{i.href}">\n{esc(i.title)}\n</a>\n</li>\n'
        for n, i in enumerate(nav_items(spec), 1)
    )
    arrows = ""
    if prev:
        arrows += (
            f'<a href="{prev.href}" class="navigation navigation-prev " aria-label="'
            f'Previous page: {esc(prev.title)}">\n<i class="fa fa-angle-left"></i>\n</a>\n'
        )
    if nxt:
        arrows += (
            f'<a href="{nxt.href}" class="navigation navigation-next " aria-label="'
            f'Next page: {esc(nxt.title)}">\n<i class="fa fa-angle-right"></i>\n</a>\n'
        )
    return (
        '<!DOCTYPE HTML>\n<html lang="en" >\n<head>\n<meta charset="UTF-8">\n'
        f"<title>{esc(spec.title)} \u00b7 {PROJECT} handbook</title>\n"
        '<meta name="generator" content="GitBook 3.2.3">\n'
        '<link rel="stylesheet" href="gitbook/style.css">\n</head>\n<body>\n'
        '<div class="book">\n<div class="book-summary">\n'
        '<div id="book-search-input" role="search">\n<input type="text" placeholder="Type to '
        'search" />\n</div>\n<div class="versions-select"><label>Handbook release</label>'
        f"<select><option selected>{VERSION}</option><option>2.0</option></select></div>\n"
        '<nav role="navigation">\n<ul class="summary">\n'
        f'{summary}<li class="divider"></li>\n<li>\n<a href="https://www.gitbook.com" '
        'target="blank" class="gitbook-link">\nPublished with GitBook\n</a>\n</li>\n</ul>\n'
        "</nav>\n</div>\n"
        '<div class="book-body">\n<div class="body-inner">\n'
        '<div class="book-header" role="navigation">\n'
        '<a class="btn pull-left js-toolbar-action" aria-label="" href="#"><i class="fa '
        'fa-align-justify"></i></a>'
        '<a href="https://github.com/example/retryable/edit/main/handbook/'
        f'{spec.slug}.md" target="_blank" class="btn pull-left edit-link"><i class="fa fa-edit">'
        "</i> Edit This Page</a>\n"
        f'<h1>\n<i class="fa fa-circle-o-notch fa-spin"></i>\n<a href="." >{PROJECT} handbook</a>'
        "\n</h1>\n</div>\n"
        '<div class="page-wrapper" tabindex="-1" role="main">\n<div class="page-inner">\n'
        '<div id="book-search-results">\n<div class="search-noresults">\n'
        f'<section class="normal markdown-section">\n{body}\n</section>\n</div>\n'
        '<div class="search-results">\n<div class="has-results">\n'
        "<h1 class=\"search-results-title\"><span class='search-results-count'></span> results "
        "matching \"<span class='search-query'></span>\"</h1>\n"
        '<ul class="search-results-list"></ul>\n</div>\n<div class="no-results">\n'
        '<h1 class="search-results-title">No results matching "<span class=\'search-query\'>'
        '</span>"</h1>\n</div>\n</div>\n</div>\n</div>\n</div>\n</div>\n'
        f"{arrows}</div>\n"
        f'<div class="page-footer"><span class="copyright">{COPYRIGHT}</span></div>\n'
        "<script>var gitbook = gitbook || []; gitbook.push(function() "
        '{ gitbook.page.hasChanged({"page":{"title":"' + spec.title + '"}}); });</script>\n'
        f"</div>\n{cookie_notice()}\n</body>\n</html>\n"
    )


GITBOOK_BOILERPLATE = [
    "Handbook release",
    "Published with GitBook",
    "Edit This Page",
    f"{PROJECT} handbook",
    "results matching",
    "No results matching",
    COPYRIGHT,
    "Changelog",
    "Contributing guide",
    "Security policy",
    "We use cookies",
]

# -- Antora -----------------------------------------------------------------------------------


class AntoraMarkup(Markup):
    style = Style(side_by_side=False)

    def body(self, spec: PageSpec) -> str:
        # Asciidoctor: the h1, a preamble, then div.sect1 > h2 + div.sectionbody (sect2 inside).
        html = [f'<h1 class="page">{esc(spec.title)}</h1>']
        blocks = list(spec.blocks)
        i = 0
        preamble = []
        while i < len(blocks) and not isinstance(blocks[i], Heading):
            preamble.append(self.block(blocks[i]))
            i += 1
        if preamble:
            html.append(
                '<div id="preamble">\n<div class="sectionbody">\n'
                + "\n".join(preamble)
                + "\n</div>\n</div>"
            )
        open_levels: list[int] = []
        for b in blocks[i:]:
            if isinstance(b, Heading):
                while open_levels and open_levels[-1] >= b.level:
                    html.append("</div>\n</div>" if open_levels.pop() == 2 else "</div>")
                n = b.level - 1
                link = f'<a class="anchor" href="#{b.id}"></a>'
                if b.level == 2:
                    html.append(
                        f'<div class="sect1">\n<h2 id="{b.id}">{link}{esc(b.text)}</h2>\n'
                        '<div class="sectionbody">'
                    )
                else:
                    html.append(
                        f'<div class="sect{n}">\n<h{b.level} id="{b.id}">{link}'
                        f"{esc(b.text)}</h{b.level}>"
                    )
                open_levels.append(b.level)
            else:
                html.append(self.block(b))
        while open_levels:
            html.append("</div>\n</div>" if open_levels.pop() == 2 else "</div>")
        return "\n".join(html)

    def para(self, p) -> str:
        return f'<div class="paragraph">\n<p>{self.inline(p.parts)}</p>\n</div>'

    def bullets(self, b) -> str:
        items = "".join(f"<li>\n<p>{self.inline(item)}</p>\n</li>\n" for item in b.items)
        return f'<div class="ulist">\n<ul>\n{items}</ul>\n</div>'

    def code(self, c: Code) -> str:
        return (
            '<div class="listingblock">\n<div class="content">\n<pre class="highlightjs '
            f'highlight"><code class="language-{c.language} hljs" data-lang="{c.language}">'
            f"{esc(c.text, quote=False)}</code></pre>\n</div>\n</div>"
        )

    def table(self, t: Table) -> str:
        cols = "".join('<col style="width: 33.3333%;">\n' for _ in t.header)
        head = "".join(
            f'<th class="tableblock halign-left valign-top">{esc(h)}</th>\n' for h in t.header
        )
        rows = "".join(
            "<tr>\n"
            + "".join(
                '<td class="tableblock halign-left valign-top"><p class="tableblock">'
                f"{self.inline((c,))}</p></td>\n"
                for c in row
            )
            + "</tr>\n"
            for row in t.rows
        )
        return (
            '<table class="tableblock frame-all grid-all stretch">\n'
            f"<colgroup>\n{cols}</colgroup>\n<thead>\n<tr>\n{head}</tr>\n</thead>\n"
            f"<tbody>\n{rows}</tbody>\n</table>"
        )

    def note(self, n: Note) -> str:
        label = self.style.note_labels[n.kind]
        return (
            f'<div class="admonitionblock {n.kind}">\n<table>\n<tr>\n<td class="icon">\n'
            f'<i class="fa icon-{n.kind}" title="{label}"></i>\n<div class="title">{label}</div>'
            f'\n</td>\n<td class="content">\n{self.inline(n.parts)}\n</td>\n</tr>\n</table>\n'
            "</div>"
        )

    def aside(self, a: Aside) -> str:
        return (
            f'<div class="sidebarblock">\n<div class="content">\n<div class="title">'
            f"{esc(a.title)}</div>\n{self.para(Para(a.parts))}\n"
            f"{self.code(a.code)}\n</div>\n</div>"
        )

    def child_pages(self, c: ChildPages) -> str:
        def items(links) -> str:
            out = []
            for link in links:
                sub = f'<div class="ulist">\n<ul>\n{items(link.children)}</ul>\n</div>\n'
                out.append(
                    f'<li>\n<p><a href="{link.href}.html" class="xref page">{esc(link.text)}'
                    f"</a></p>\n{sub if link.children else ''}</li>\n"
                )
            return "".join(out)

        return f'<div class="ulist">\n<ul>\n{items(c.links)}</ul>\n</div>'


def antora_layout(spec: PageSpec, body: str) -> str:
    prev, nxt = prev_next(spec)
    nav = "".join(
        f'<li class="nav-item{" is-current-page" if i.current else ""}" data-depth="1">\n'
        f'<a class="nav-link" href="{i.href}">{esc(i.title)}</a>\n</li>\n'
        for i in nav_items(spec)
    )
    pagination = '<nav class="pagination">\n'
    if prev:
        pagination += f'<span class="prev"><a href="{prev.href}">{esc(prev.title)}</a></span>\n'
    if nxt:
        pagination += f'<span class="next"><a href="{nxt.href}">{esc(nxt.title)}</a></span>\n'
    pagination += "</nav>"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(spec.title)} :: {PROJECT} Guide</title>\n"
        '<meta name="generator" content="Antora 3.1.10">\n'
        '<link rel="stylesheet" href="../../_/css/site.css">\n</head>\n<body class="article">\n'
        '<header class="header">\n<nav class="navbar">\n<div class="navbar-brand">\n'
        '<a class="navbar-item" href="../..">Example Corp documentation</a>\n'
        '<button class="navbar-burger" aria-controls="topbar-nav" aria-expanded="false" '
        'aria-label="Toggle main menu">\n<span></span>\n<span></span>\n<span></span>\n</button>\n'
        '</div>\n<div id="topbar-nav" class="navbar-menu">\n<div class="navbar-end">\n'
        '<a class="navbar-item" href="#">Home</a>\n'
        '<div class="navbar-item has-dropdown is-hoverable">\n<a class="navbar-link" href="#">'
        'Products</a>\n<div class="navbar-dropdown">\n<a class="navbar-item" href="#">Retry '
        'Proxy</a>\n</div>\n</div>\n<div class="navbar-item">\n<span class="control">\n'
        '<a class="button is-primary" href="#">Download</a>\n</span>\n</div>\n</div>\n</div>\n'
        "</nav>\n</header>\n"
        '<div class="body">\n<div class="nav-container" data-component="retryable" '
        f'data-version="{VERSION}">\n<aside class="nav">\n<div class="panels">\n'
        '<div class="nav-panel-menu is-active" data-panel="menu">\n<nav class="nav-menu">\n'
        '<button class="nav-menu-toggle" aria-label="Toggle expand/collapse all" '
        f'style="display: none"></button>\n<h3 class="title"><a href="index.html">{PROJECT} '
        'Guide</a></h3>\n<ul class="nav-list">\n<li class="nav-item" data-depth="0">\n'
        f'<ul class="nav-list">\n{nav}</ul>\n</li>\n</ul>\n</nav>\n</div>\n'
        '<div class="nav-panel-explore" data-panel="explore">\n<div class="context">\n'
        f'<span class="title">{PROJECT} Guide</span>\n<span class="version">{VERSION}</span>\n'
        '</div>\n<ul class="components">\n<li class="component is-current">\n'
        f'<a class="title" href="index.html">{PROJECT} Guide</a>\n<ul class="versions">\n'
        f'<li class="version is-current is-latest">\n<a href="index.html">{VERSION}</a>\n</li>\n'
        '<li class="version">\n<a href="../2.0/index.html">2.0</a>\n</li>\n</ul>\n</li>\n'
        '<li class="component">\n<a class="title" href="../../proxy/index.html">Retry Proxy '
        "Manual</a>\n</li>\n</ul>\n</div>\n</div>\n</aside>\n</div>\n"
        '<main class="article">\n<div class="toolbar" role="navigation">\n'
        '<button class="nav-toggle"></button>\n<a href="index.html" class="home-link"></a>\n'
        '<nav class="breadcrumbs" aria-label="breadcrumbs">\n<ul>\n'
        f'<li><a href="index.html">{PROJECT} Guide</a></li>\n'
        f'<li><a href="{spec.slug}.html">{esc(spec.title)}</a></li>\n</ul>\n</nav>\n'
        '<div class="page-versions">\n<button class="version-menu-toggle" title="Show other '
        f'versions of page">{VERSION}</button>\n<div class="version-menu">\n'
        f'<a class="version is-current" href="{spec.slug}.html">{VERSION}</a>\n'
        f'<a class="version" href="../2.0/{spec.slug}.html">2.0</a>\n</div>\n</div>\n'
        '<div class="edit-this-page"><a href="https://github.com/example/retryable/edit/main/'
        f'docs/modules/ROOT/pages/{spec.slug}.adoc">Edit this Page</a></div>\n</div>\n'
        '<div class="content">\n<aside class="toc sidebar" data-title="Contents" '
        'data-levels="2">\n<div class="toc-menu"></div>\n</aside>\n'
        f'<article class="doc">\n{body}\n{pagination}\n</article>\n</div>\n</main>\n</div>\n'
        '<footer class="footer">\n<p>This page was built using the Antora default UI.</p>\n'
        "<p>The source code for this UI is licensed under the terms of the MPL-2.0 license.</p>\n"
        f"<p>{COPYRIGHT}</p>\n</footer>\n{cookieconsent()}\n"
        '<script id="site-script" src="../../_/js/site.js" data-ui-root-path="../../_"></script>'
        "\n</body>\n</html>\n"
    )


ANTORA_BOILERPLATE = [
    "Example Corp documentation",
    "Products",
    "Download",
    "Retry Proxy Manual",
    f"{PROJECT} Guide",
    "Edit this Page",
    "built using the Antora default UI",
    "MPL-2.0 license",
    COPYRIGHT,
    "Changelog",
    "Contributing guide",
    "uses cookies",
]

# -- Hugo Docsy -------------------------------------------------------------------------------


class DocsyMarkup(Markup):
    style = Style(link_summaries=True)

    def title(self, spec: PageSpec) -> str:
        return f"<h1>{esc(spec.title)}</h1>"

    def heading(self, h: Heading) -> str:
        return (
            f'<h{h.level} id="{h.id}">{esc(h.text)}<a class="td-heading-self-link" '
            f'href="#{h.id}" aria-label="Heading self-link"></a></h{h.level}>'
        )

    def code(self, c: Code) -> str:
        lines = "".join(
            f'<span class="line"><span class="cl">{pygments_line(line)}\n</span></span>'
            for line in c.lines
        )
        return (
            '<div class="highlight"><pre tabindex="0" class="chroma"><code '
            f'class="language-{c.language}" data-lang="{c.language}">{lines}</code></pre></div>'
        )

    def note(self, n: Note) -> str:
        label = self.style.note_labels[n.kind]
        color = "info" if n.kind == "note" else "warning"
        return (
            f'<div class="alert alert-{color}" role="alert"><h4 class="alert-heading">{label}'
            f"</h4>\n\n<p>{self.inline(n.parts)}</p>\n</div>"
        )

    def aside(self, a: Aside) -> str:
        return (
            f'<div class="pageinfo pageinfo-primary">\n<p><strong>{esc(a.title)}</strong></p>\n'
            f"<p>{self.inline(a.parts)}</p>\n{self.code(a.code)}\n</div>"
        )

    def child_pages(self, c: ChildPages) -> str:
        entries = "".join(
            f'<div class="entry">\n<h5>\n<a href="/docs/{link.href}/">{esc(link.text)}</a>\n'
            f"</h5>\n<p>{esc(link.summary)}</p>\n</div>\n"
            for link in flat_links(c.links)
        )
        return f'<div class="section-index">\n<hr class="panel-line">\n{entries}</div>'


def docsy_layout(spec: PageSpec, body: str) -> str:
    side = "".join(
        f'<li class="td-sidebar-nav__section-title td-sidebar-nav__section without-child" '
        f'id="m-docs{i.href[:-5]}-li">\n<a href="/docs/{i.href[:-5]}/" class="align-left ps-0 '
        f'td-sidebar-link td-sidebar-link__page{" active" if i.current else ""}" '
        f'id="m-docs{i.href[:-5]}"><span class="">{esc(i.title)}</span></a></li>\n'
        for i in nav_items(spec)
    )
    toc = "".join(f'<li><a href="#{h.id}">{esc(h.text)}</a></li>\n' for h in toc_entries(spec))
    repo = "https://github.com/example/retryable"
    return (
        '<!doctype html>\n<html itemscope itemtype="http://schema.org/WebPage" lang="en" '
        'class="no-js">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="generator" content="Hugo 0.147.0">\n<title>{esc(spec.title)} | {PROJECT}'
        '</title>\n</head>\n<body class="td-page">\n<header>\n'
        '<nav class="td-navbar js-navbar-scroll" data-bs-theme="dark">\n'
        '<div class="container-fluid flex-column flex-md-row">\n<a class="navbar-brand" href="/">'
        f'<span class="navbar-brand__logo navbar-logo"></span><span class="navbar-brand__name">'
        f"{PROJECT}</span></a>\n"
        '<div class="td-navbar-nav-scroll ms-md-auto" id="main_navbar">\n<ul class="navbar-nav">'
        '\n<li class="nav-item"><a class="nav-link active" href="/docs/"><span>Documentation'
        '</span></a></li>\n<li class="nav-item"><a class="nav-link" href="/community/"><span>'
        "Community</span></a></li>\n"
        '<li class="nav-item dropdown d-none d-lg-block">\n<div class="td-version-menu dropdown">'
        '\n<a class="nav-link dropdown-toggle td-version-menu__title" href="#" role="button" '
        'data-bs-toggle="dropdown" aria-haspopup="true" aria-expanded="false">\n'
        '<span class="td-version-menu__title-text">Releases</span>\n</a>\n'
        '<ul class="dropdown-menu">\n'
        f'<li><a class="dropdown-item active" href="https://docs.example.org/">v{VERSION}</a></li>'
        '\n<li><a class="dropdown-item" href="https://v2-0.docs.example.org/">v2.0</a></li>\n'
        "</ul>\n</div>\n</li>\n</ul>\n</div>\n"
        '<div class="d-none d-lg-block">\n<div class="td-search td-search--offline">\n'
        '<div class="td-search__icon"></div>\n<input type="search" class="td-search__input '
        'form-control" placeholder="Search this site\u2026" aria-label="Search this site\u2026" '
        'autocomplete="off">\n</div>\n</div>\n</div>\n</nav>\n</header>\n'
        '<div class="container-fluid td-outer">\n<div class="td-main" data-bs-spy="scroll" '
        'data-bs-target=".td-toc">\n<div class="row flex-xl-nowrap">\n'
        '<aside class="col-12 col-md-3 col-xl-2 td-sidebar d-print-none">\n'
        '<div id="td-sidebar-menu" class="td-sidebar__inner">\n'
        '<nav class="td-sidebar-nav collapse" id="td-section-nav">\n'
        '<ul class="td-sidebar-nav__section pe-md-3 ul-0">\n<li class="td-sidebar-nav__section-'
        'title td-sidebar-nav__section with-child active-path" id="m-docs-li">\n<a href="/docs/" '
        'class="align-left ps-0 td-sidebar-link td-sidebar-link__section tree-root" '
        'id="m-docs"><span class="">Documentation</span></a>\n'
        f'<ul class="ul-1">\n{side}</ul>\n</li>\n</ul>\n</nav>\n</div>\n</aside>\n'
        '<aside class="td-sidebar-toc">\n<div class="td-page-meta ms-2 pb-1 pt-2 mb-0">\n'
        f'<a href="{repo}/tree/main/content/en/docs/{spec.slug}.md" class="td-page-meta--view '
        'td-page-meta__view" target="_blank" rel="noopener"><i class="fa-solid fa-file-lines '
        'fa-fw"></i> View page source</a>\n'
        f'<a href="{repo}/edit/main/content/en/docs/{spec.slug}.md" class="td-page-meta--edit '
        'td-page-meta__edit" target="_blank" rel="noopener"><i class="fa-solid fa-pen-to-square'
        ' fa-fw"></i> Edit this page</a>\n'
        f'<a href="{repo}/issues/new?title={esc(spec.title)}" class="td-page-meta--issue '
        'td-page-meta__issue" target="_blank" rel="noopener"><i class="fa-solid fa-list-check '
        'fa-fw"></i> Create documentation issue</a>\n'
        '<a id="print" href="/docs/_print/"><i class="fa-solid fa-print fa-fw"></i> Print '
        "entire section</a>\n</div>\n"
        '<div class="td-toc" data-proofer-ignore>\n<div class="td-toc-title">\n'
        '<span class="td-toc-title__text">On this page</span>\n'
        '<a class="td-toc-title__link" title="Top of page" href="#"></a>\n</div>\n'
        f'<nav id="TableOfContents">\n<ul>\n{toc}</ul>\n</nav>\n</div>\n</aside>\n'
        '<main class="col-12 col-md-9 col-xl-8 ps-md-5" role="main">\n'
        '<nav aria-label="breadcrumb" class="td-breadcrumbs">\n<ol class="td-breadcrumbs__list">'
        '\n<li class="td-breadcrumbs__item"><a href="/docs/">Documentation</a></li>\n'
        '<li class="td-breadcrumbs__item active" aria-current="page">'
        f"{esc(spec.title)}</li>\n</ol>\n</nav>\n"
        f'<div class="td-content">\n{body}\n'
        '<div class="d-print-none">\n<h2 class="feedback--title">Feedback</h2>\n'
        '<p class="feedback--question">Was this page helpful?</p>\n'
        '<button class="btn btn-primary mb-4 feedback--answer feedback--answer-yes">Yes</button>'
        '\n<button class="btn btn-primary mb-4 feedback--answer feedback--answer-no">No</button>'
        '\n<p class="feedback--response feedback--response-yes">\nGlad to hear it! Please '
        f'<a href="{repo}/issues/new">tell us how we can improve</a>.\n</p>\n'
        '<p class="feedback--response feedback--response-no">\nSorry to hear that. Please '
        f'<a href="{repo}/issues/new">tell us how we can improve</a>.\n</p>\n</div>\n<br />\n'
        '<div class="td-page-meta__lastmod">\nLast modified November 28, 2026: <a '
        f'data-proofer-ignore href="{repo}/commit/4f2c9e1">Tune the default wait (4f2c9e1)</a>'
        "\n</div>\n</div>\n</main>\n</div>\n</div>\n"
        '<footer class="td-footer row d-print-none">\n<div class="container-fluid">\n'
        '<div class="row mx-md-2">\n<div class="td-footer__left col-6 col-sm-4 order-sm-1">\n'
        '<ul class="td-footer__links-list">\n<li class="td-footer__links-item" '
        'data-bs-toggle="tooltip" title="User mailing list" aria-label="User mailing list">\n'
        '<a target="_blank" rel="noopener" href="https://example.org/mail" aria-label="User '
        'mailing list">\n<i class="fa fa-envelope"></i>\n</a>\n</li>\n</ul>\n</div>\n'
        '<div class="td-footer__center col-12 col-sm-4 py-2 order-sm-2">\n'
        '<span class="td-footer__copyright">&copy;\n2026\n<span class="td-footer__authors">'
        'Example Corp</span></span><span class="td-footer__all_rights_reserved">All Rights '
        'Reserved</span><span class="ms-2"><a href="/privacy/" target="_blank" rel="noopener">'
        "Privacy Policy</a></span>\n</div>\n</div>\n</div>\n</footer>\n</div>\n"
        f"{cookie_notice()}\n</body>\n</html>\n"
    )


DOCSY_BOILERPLATE = [
    "Community",
    "Releases",
    "View page source",
    "Edit this page",
    "Create documentation issue",
    "Print entire section",
    "On this page",
    "Feedback",
    "Was this page helpful?",
    "Glad to hear it",
    "Last modified November 28, 2026",
    "All Rights Reserved",
    "Privacy Policy",
    "Changelog",
    "Contributing guide",
    "We use cookies",
]


def mdbook():
    return build("mdbook", MdBookMarkup(), mdbook_layout, MDBOOK_BOILERPLATE)


def gitbook():
    return build("gitbook", GitBookMarkup(), gitbook_layout, GITBOOK_BOILERPLATE)


def antora():
    return build("antora", AntoraMarkup(), antora_layout, ANTORA_BOILERPLATE)


def docsy():
    return build("hugo-docsy", DocsyMarkup(), docsy_layout, DOCSY_BOILERPLATE)
