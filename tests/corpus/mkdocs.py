"""MkDocs: the Material theme, and MkDocs' own readthedocs theme.

Content is Python-Markdown's: ``toc`` ids (Material adds ``a.headerlink`` "¶" titled
"Permanent link"), ``admonition`` divs, plain tables. Material's code is pymdownx.highlight with
``line_spans: __span`` and ``anchor_linenums`` (its documented setup): ``div.language-X.highlight
> pre > span + code`` with one ``span#__span-N-M`` per line, each opening with an empty anchor.
The readthedocs theme leaves highlighting to highlight.js: ``pre > code.language-X`` in the HTML.
Chrome: mkdocs-material src/templates/base.html and partials/ (header, tabs, nav, toc, path,
actions, source-file, feedback, footer, copyright, consent); the version selector is the DOM
mike's JavaScript renders into the header (.md-version). mkdocs/themes/readthedocs/base.html,
breadcrumbs.html, footer.html, versions.html.
"""

from __future__ import annotations

from tests.corpus.content import Aside, Code, Heading, PageSpec, Style, esc, pygments_line
from tests.corpus.markup import (
    COPYRIGHT,
    PROJECT,
    VERSION,
    Markup,
    build,
    cookieconsent,
    nav_items,
    prev_next,
    toc_entries,
)


class MaterialMarkup(Markup):
    style = Style(link_summaries=True, side_by_side=True)

    def __init__(self) -> None:
        self._blocks = 0

    def body(self, spec: PageSpec) -> str:
        self._blocks = 0
        return super().body(spec)

    def heading(self, h: Heading) -> str:
        return (
            f'<h{h.level} id="{h.id}">{esc(h.text)}<a class="headerlink" href="#{h.id}" '
            f'title="Permanent link">&para;</a></h{h.level}>'
        )

    def code(self, c: Code) -> str:
        n = self._blocks
        self._blocks += 1
        spans = "".join(
            f'<span id="__span-{n}-{i}"><a id="__codelineno-{n}-{i}" name="__codelineno-{n}-{i}" '
            f'href="#__codelineno-{n}-{i}"></a>{pygments_line(line)}\n</span>'
            for i, line in enumerate(c.lines, 1)
        )
        return (
            f'<div class="language-{c.language} highlight"><pre id="__code_{n}"><span></span>'
            f"<code>{spans}</code></pre></div>"
        )

    def aside(self, a: Aside) -> str:
        # An "inline end" admonition: Material's box beside the text.
        return (
            f'<div class="admonition info inline end">\n<p class="admonition-title">'
            f"{esc(a.title)}</p>\n<p>{self.inline(a.parts)}</p>\n{self.code(a.code)}\n</div>"
        )

    def child_link(self, link) -> str:
        return f'<a href="{link.href}/">{esc(link.text)}</a>:'


def _md_nav(spec: PageSpec) -> str:
    items = []
    for item in nav_items(spec, "/"):
        active = " md-nav__item--active" if item.current else ""
        cls = "md-nav__link md-nav__link--active" if item.current else "md-nav__link"
        items.append(
            f'<li class="md-nav__item{active}">\n<a href="../{item.href}" class="{cls}">\n'
            f'<span class="md-ellipsis">\n{esc(item.title)}\n</span>\n</a>\n</li>'
        )
    return (
        '<nav class="md-nav md-nav--primary md-nav--lifted" aria-label="Navigation" '
        'data-md-level="0">\n<label class="md-nav__title" for="__drawer">\n'
        f'<a href="../" title="{PROJECT}" class="md-nav__button md-logo" aria-label="{PROJECT}">'
        f"<svg></svg></a>\n{PROJECT}\n</label>\n"
        '<div class="md-nav__source">\n<a href="https://github.com/example/retryable" '
        'title="Go to repository" class="md-source" data-md-component="source">\n'
        '<div class="md-source__icon md-icon"><svg></svg></div>\n'
        '<div class="md-source__repository">\nexample/retryable\n</div>\n</a>\n</div>\n'
        '<ul class="md-nav__list" data-md-scrollfix>\n' + "\n".join(items) + "\n</ul>\n</nav>"
    )


def _md_toc(spec: PageSpec) -> str:
    items = "".join(
        f'<li class="md-nav__item">\n<a href="#{h.id}" class="md-nav__link">\n'
        f'<span class="md-ellipsis">\n{esc(h.text)}\n</span>\n</a>\n</li>\n'
        for h in toc_entries(spec)
    )
    return (
        '<nav class="md-nav md-nav--secondary" aria-label="Table of contents">\n'
        '<label class="md-nav__title" for="__toc">\n<span class="md-nav__icon md-icon"></span>\n'
        "Table of contents\n</label>\n"
        f'<ul class="md-nav__list" data-md-component="toc" data-md-scrollfix>\n{items}</ul>\n'
        "</nav>"
    )


MATERIAL_CONSENT = (
    "We use cookies to recognize your repeated visits and preferences, as well as to measure "
    "the effectiveness of our documentation"
)


def material_layout(spec: PageSpec, body: str) -> str:
    prev, nxt = prev_next(spec)
    links = []
    if prev:
        links.append(
            f'<a href="../{prev.href[:-5]}/" class="md-footer__link md-footer__link--'
            f'prev" aria-label="Previous: {esc(prev.title)}">\n<div class="md-footer__'
            'button md-icon"><svg></svg></div>\n<div class="md-footer__title">\n'
            '<span class="md-footer__direction">\nPrevious\n</span>\n'
            f'<div class="md-ellipsis">\n{esc(prev.title)}\n</div>\n</div>\n</a>'
        )
    if nxt:
        links.append(
            f'<a href="../{nxt.href[:-5]}/" class="md-footer__link md-footer__link--'
            f'next" aria-label="Next: {esc(nxt.title)}">\n<div class="md-footer__title">'
            '\n<span class="md-footer__direction">\nNext\n</span>\n'
            f'<div class="md-ellipsis">\n{esc(nxt.title)}\n</div>\n</div>\n'
            '<div class="md-footer__button md-icon"><svg></svg></div>\n</a>'
        )
    tabs = "".join(
        f'<li class="md-tabs__item"><a href="../{i.href}" class="md-tabs__link">'
        f"{esc(i.title)}</a></li>\n"
        for i in nav_items(spec, "/")[:3]
    )
    return (
        '<!doctype html>\n<html lang="en" class="no-js">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(spec.title)} - {PROJECT}</title>\n"
        '<meta name="generator" content="mkdocs-1.6.1, mkdocs-material-9.6.14">\n'
        '<link rel="stylesheet" href="../assets/stylesheets/main.css">\n</head>\n'
        '<body dir="ltr" data-md-color-scheme="default" data-md-color-primary="indigo" '
        'data-md-color-accent="indigo">\n'
        '<input class="md-toggle" data-md-toggle="drawer" type="checkbox" id="__drawer" '
        'autocomplete="off">\n<input class="md-toggle" data-md-toggle="search" type="checkbox" '
        'id="__search" autocomplete="off">\n<label class="md-overlay" for="__drawer"></label>\n'
        '<div data-md-component="skip">\n<a href="#' + spec.title_id + '" class="md-skip">\n'
        'Skip to content\n</a>\n</div>\n<div data-md-component="announce">\n</div>\n'
        '<div data-md-color-scheme="default" data-md-component="outdated" hidden>\n</div>\n'
        '<header class="md-header md-header--shadow md-header--lifted" data-md-component="header">'
        '\n<nav class="md-header__inner md-grid" aria-label="Header">\n'
        f'<a href="../" title="{PROJECT}" class="md-header__button md-logo" '
        f'aria-label="{PROJECT}" data-md-component="logo"><svg></svg></a>\n'
        '<label class="md-header__button md-icon" for="__drawer"><svg></svg></label>\n'
        '<div class="md-header__title" data-md-component="header-title">\n'
        '<div class="md-header__ellipsis">\n<div class="md-header__topic">\n'
        f'<span class="md-ellipsis">\n{PROJECT}\n</span>\n'
        '<div class="md-version"><button class="md-version__current" '
        f'aria-label="Select version">{VERSION} (stable)</button><ul class="md-version__list">'
        '<li class="md-version__item"><a href="../../2.1/" class="md-version__link">'
        f"{VERSION} (stable)</a></li>"
        '<li class="md-version__item"><a href="../../3.0/" class="md-version__link">3.0 '
        "(preview)</a></li></ul></div>\n</div>\n"
        '<div class="md-header__topic" data-md-component="header-topic">\n'
        f'<span class="md-ellipsis">\n{esc(spec.title)}\n</span>\n</div>\n</div>\n</div>\n'
        '<label class="md-header__button md-icon" for="__search"><svg></svg></label>\n'
        '<div class="md-search" data-md-component="search" role="dialog">\n'
        '<label class="md-search__overlay" for="__search"></label>\n'
        '<div class="md-search__inner" role="search">\n<form class="md-search__form" '
        'name="search">\n<input type="text" class="md-search__input" name="query" '
        'aria-label="Search" placeholder="Search" autocapitalize="off" autocomplete="off" '
        'autocorrect="off" spellcheck="false" data-md-component="search-query" required>\n'
        '</form>\n<div class="md-search__output">\n<div class="md-search__scrollwrap" '
        'tabindex="0" data-md-scrollfix>\n<div class="md-search-result" '
        'data-md-component="search-result">\n<div class="md-search-result__meta">\n'
        "Initializing search\n</div>\n"
        '<ol class="md-search-result__list" role="presentation"></ol>\n</div>\n</div>\n</div>\n'
        '</div>\n</div>\n<div class="md-header__source">\n'
        '<a href="https://github.com/example/retryable" title="Go to repository" '
        'class="md-source" data-md-component="source">\n<div class="md-source__icon md-icon">'
        '<svg></svg></div>\n<div class="md-source__repository">\nexample/retryable\n</div>\n'
        "</a>\n</div>\n</nav>\n"
        '<nav class="md-tabs" aria-label="Tabs" data-md-component="tabs">\n'
        f'<div class="md-grid">\n<ul class="md-tabs__list">\n{tabs}</ul>\n</div>\n</nav>\n'
        "</header>\n"
        '<div class="md-container" data-md-component="container">\n'
        '<main class="md-main" data-md-component="main">\n'
        '<div class="md-main__inner md-grid">\n'
        '<div class="md-sidebar md-sidebar--primary" data-md-component="sidebar" '
        'data-md-type="navigation">\n<div class="md-sidebar__scrollwrap">\n'
        f'<div class="md-sidebar__inner">\n{_md_nav(spec)}\n</div>\n</div>\n</div>\n'
        '<div class="md-sidebar md-sidebar--secondary" data-md-component="sidebar" '
        'data-md-type="toc">\n<div class="md-sidebar__scrollwrap">\n'
        f'<div class="md-sidebar__inner">\n{_md_toc(spec)}\n</div>\n</div>\n</div>\n'
        '<div class="md-content" data-md-component="content">\n'
        '<nav class="md-path" aria-label="Navigation">\n<ol class="md-path__list">\n'
        '<li class="md-path__item">\n<a href="../" class="md-path__link">\n'
        '<span class="md-ellipsis">\nDocumentation home\n</span>\n</a>\n</li>\n</ol>\n</nav>\n'
        '<article class="md-content__inner md-typeset">\n'
        '<a href="https://github.com/example/retryable/edit/main/docs/'
        f'{spec.slug}.md" title="Edit this page" class="md-content__button md-icon" '
        'rel="edit"><svg></svg></a>\n'
        f"{body}\n"
        '<aside class="md-source-file">\n<span class="md-source-file__fact">\n'
        '<span class="md-icon" title="Last update"><svg></svg></span>\n'
        '<span class="git-revision-date-localized-plugin git-revision-date-localized-plugin-date"'
        ' title="November 28, 2026 09:12:44">November 28, 2026</span>\n</span>\n</aside>\n'
        '<form class="md-feedback" name="feedback" hidden>\n<fieldset>\n'
        '<legend class="md-feedback__title">\nWas this page helpful?\n</legend>\n'
        '<div class="md-feedback__inner">\n<div class="md-feedback__list">\n'
        '<button class="md-feedback__icon md-icon" type="submit" title="This page was helpful" '
        'data-md-value="1"><svg></svg></button>\n</div>\n</div>\n</fieldset>\n</form>\n'
        "</article>\n</div>\n</div>\n"
        '<button type="button" class="md-top md-icon" data-md-component="top" hidden>\n'
        "<svg></svg>\nBack to top\n</button>\n</main>\n"
        '<footer class="md-footer">\n<nav class="md-footer__inner md-grid" aria-label="Footer">\n'
        + "\n".join(links)
        + "\n</nav>\n"
        '<div class="md-footer-meta md-typeset">\n<div class="md-footer-meta__inner md-grid">\n'
        f'<div class="md-copyright">\n<div class="md-copyright__highlight">\n{COPYRIGHT}\n'
        "</div>\nMade with\n"
        '<a href="https://squidfunk.github.io/mkdocs-material/" target="_blank" rel="noopener">\n'
        "Material for MkDocs\n</a>\n</div>\n</div>\n</div>\n</footer>\n</div>\n"
        '<div class="md-dialog" data-md-component="dialog">\n'
        '<div class="md-dialog__inner md-typeset"></div>\n</div>\n'
        '<div class="md-consent" data-md-component="consent" id="__consent" hidden>\n'
        '<div class="md-consent__overlay"></div>\n<aside class="md-consent__inner">\n'
        '<form class="md-consent__form md-grid md-typeset" name="consent">\n'
        f"<h4>Cookie consent</h4>\n<p>{MATERIAL_CONSENT} and whether users find what they're "
        "searching for.</p>\n"
        '<input class="md-toggle" type="checkbox" id="__settings">\n'
        '<div class="md-consent__settings">\n<ul class="task-list">\n'
        '<li class="task-list-item">\n<label class="task-list-control">\n'
        '<input type="checkbox" name="analytics" checked>\n'
        '<span class="task-list-indicator"></span>\nGoogle Analytics\n</label>\n</li>\n</ul>\n'
        '</div>\n<div class="md-consent__controls">\n'
        '<button class="md-button md-button--primary">Accept</button>\n'
        '<label class="md-button" for="__settings">Manage settings</label>\n</div>\n</form>\n'
        "</aside>\n</div>\n"
        '<script id="__config" type="application/json">{"base": "..", "features": '
        '["navigation.footer", "content.action.edit"], "version": {"provider": "mike"}}'
        "</script>\n"
        '<script src="../assets/javascripts/bundle.js"></script>\n</body>\n</html>\n'
    )


MATERIAL_BOILERPLATE = [
    "Skip to content",
    "Initializing search",
    "example/retryable",
    "3.0 (preview)",
    "Table of contents",
    "Documentation home",
    "November 28, 2026",
    "Was this page helpful?",
    "Made with",
    "Material for MkDocs",
    COPYRIGHT,
    "Cookie consent",
    MATERIAL_CONSENT,
    "Manage settings",
    "Changelog",
    "Contributing guide",
    "Security policy",
]


# -- MkDocs' readthedocs theme ----------------------------------------------------------------


class MkdocsRtdMarkup(Markup):
    style = Style()

    def aside(self, a: Aside) -> str:
        return (
            f'<div class="admonition tip">\n<p class="admonition-title">{esc(a.title)}</p>\n'
            f"<p>{self.inline(a.parts)}</p>\n{self.code(a.code)}\n</div>"
        )

    def child_link(self, link) -> str:
        return f'<a href="{link.href}/">{esc(link.text)}</a>'


def mkdocs_rtd_layout(spec: PageSpec, body: str) -> str:
    prev, nxt = prev_next(spec)
    nav = []
    for item in nav_items(spec, "/"):
        if item.current:
            local = "".join(
                f'<li class="toctree-l2"><a class="reference internal" href="#{h.id}">'
                f"{esc(h.text)}</a>\n</li>\n"
                for h in toc_entries(spec)
            )
            nav.append(
                f'<li class="toctree-l1 current"><a class="reference internal current" href="./">'
                f'{esc(item.title)}</a>\n<ul class="current">\n{local}</ul>\n</li>'
            )
        else:
            nav.append(
                f'<li class="toctree-l1"><a class="reference internal" href="../{item.href}">'
                f"{esc(item.title)}</a>\n</li>"
            )
    buttons = []
    versions = []
    if prev:
        buttons.append(
            f'<a href="../{prev.href[:-5]}/" class="btn btn-neutral float-left" '
            f'title="{esc(prev.title)}"><span class="icon icon-circle-arrow-left">'
            "</span> Previous</a>"
        )
        versions.append(
            f'<span><a href="../{prev.href[:-5]}/" style="color: #fcfcfc">&laquo; '
            "Previous</a></span>"
        )
    if nxt:
        buttons.append(
            f'<a href="../{nxt.href[:-5]}/" class="btn btn-neutral float-right" '
            f'title="{esc(nxt.title)}">Next <span class="icon icon-circle-arrow-right">'
            "</span></a>"
        )
        versions.append(
            f'<span><a href="../{nxt.href[:-5]}/" style="color: #fcfcfc">Next &raquo;</a></span>'
        )
    return (
        '<!DOCTYPE html>\n<html class="writer-html5" lang="en" >\n<head>\n<meta charset="utf-8" />'
        f"\n<title>{esc(spec.title)} - {PROJECT}</title>\n"
        '<link rel="stylesheet" href="../css/theme.css" />\n</head>\n\n'
        '<body class="wy-body-for-nav" role="document">\n\n<div class="wy-grid-for-nav">\n'
        '<nav data-toggle="wy-nav-shift" class="wy-nav-side stickynav">\n'
        '<div class="wy-side-scroll">\n<div class="wy-side-nav-search">\n'
        f'<a href="../" class="icon icon-home"> {PROJECT}\n</a>\n'
        f'<div class="version">\n{VERSION}\n</div>\n'
        '<div role="search">\n<form id ="rtd-search-form" class="wy-form" '
        'action="../search.html" method="get">\n<input type="text" name="q" '
        'placeholder="Search docs" aria-label="Search docs" title="Type search term here" />\n'
        "</form>\n</div>\n</div>\n"
        '<div class="wy-menu wy-menu-vertical" data-spy="affix" role="navigation" '
        'aria-label="Navigation menu">\n<ul class="current">\n' + "\n".join(nav) + "\n</ul>\n"
        "</div>\n</div>\n</nav>\n\n"
        '<section data-toggle="wy-nav-shift" class="wy-nav-content-wrap">\n'
        '<nav class="wy-nav-top" role="navigation" aria-label="Mobile navigation menu">\n'
        f'<i data-toggle="wy-nav-top" class="fa fa-bars"></i>\n<a href="../">{PROJECT}</a>\n'
        '</nav>\n<div class="wy-nav-content">\n<div class="rst-content">'
        '<div role="navigation" aria-label="breadcrumbs navigation">\n'
        '<ul class="wy-breadcrumbs">\n<li><a href="../" class="icon icon-home" '
        f'aria-label="Docs"></a></li>\n<li class="breadcrumb-item active">{esc(spec.title)}</li>'
        '\n<li class="wy-breadcrumbs-aside">\n<a href="https://github.com/example/retryable/'
        f'edit/main/docs/{spec.slug}.md" class="icon icon-github"> Edit on GitHub</a>\n</li>\n'
        "</ul>\n<hr/>\n</div>\n"
        '<div role="main" class="document" itemscope="itemscope" '
        'itemtype="http://schema.org/Article">\n<div class="section" itemprop="articleBody">\n'
        f"{body}\n</div>\n</div><footer>"
        '<div class="rst-footer-buttons" role="navigation" aria-label="Footer Navigation">\n'
        + "\n".join(buttons)
        + '\n</div>\n\n<hr/>\n\n<div role="contentinfo">\n<!-- Copyright etc -->\n'
        f"<p>{COPYRIGHT}</p>\n</div>\n\n"
        'Built with <a href="https://www.mkdocs.org/">MkDocs</a> using a <a href="https://'
        'github.com/readthedocs/sphinx_rtd_theme">theme</a> provided by <a href="https://'
        'readthedocs.org">Read the Docs</a>.\n</footer>\n\n</div>\n</div>\n\n</section>\n\n'
        "</div>\n\n"
        '<div class="rst-versions" role="note" aria-label="Versions">\n'
        '<span class="rst-current-version" data-toggle="rst-current-version">\n<span>\n'
        '<a href="https://github.com/example/retryable" class="fa fa-github" '
        'style="color: #fcfcfc"> GitHub</a>\n</span>\n' + "\n".join(versions) + "\n</span>\n"
        f"</div>\n{cookieconsent()}\n"
        '<script src="../js/jquery-3.6.0.min.js"></script>\n</body>\n</html>\n'
    )


MKDOCS_RTD_BOILERPLATE = [
    "Edit on GitHub",
    "Built with",
    "provided by",
    "Read the Docs",
    COPYRIGHT,
    "GitHub",
    "uses cookies",
    "Changelog",
    "Contributing guide",
    "Security policy",
]


def mkdocs_material():
    return build("mkdocs-material", MaterialMarkup(), material_layout, MATERIAL_BOILERPLATE)


def mkdocs_rtd():
    return build("mkdocs-rtd", MkdocsRtdMarkup(), mkdocs_rtd_layout, MKDOCS_RTD_BOILERPLATE)
