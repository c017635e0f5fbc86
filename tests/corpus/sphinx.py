"""Sphinx's themes: classic, Read the Docs, Furo, pydata-sphinx-theme, alabaster.

The content is what Sphinx 8's HTML5 writer emits (sphinx/writers/html5.py, docutils 0.21):
nested ``<section id>``, ``a.headerlink`` "¶" titled "Link to this heading", Pygments code in
``div.highlight-LANG.notranslate > div.highlight > pre`` starting with an empty ``<span>``,
``table.docutils`` with ``<p>`` in every cell, ``div.admonition``, ``aside.sidebar`` (the
``sidebar`` directive), ``div.toctree-wrapper`` for a toctree, and a header-less
``list-table`` for two examples side by side. The chrome follows each theme's templates
(sphinx/themes/basic/layout.html; sphinx_rtd_theme/layout.html, breadcrumbs.html, footer.html,
versions.html; furo/page.html; pydata_sphinx_theme/layout.html and components/; alabaster/
layout.html, about.html, navigation.html, relations.html).
"""

from __future__ import annotations

from tests.corpus.content import (
    Aside,
    BulletList,
    ChildPages,
    Code,
    Heading,
    Note,
    PageSpec,
    Style,
    Table,
    esc,
    pygments_line,
)
from tests.corpus.markup import (
    COPYRIGHT,
    PROJECT,
    VERSION,
    Markup,
    build,
    cookie_notice,
    cookieconsent,
    nav_items,
    prev_next,
    toc_entries,
)

DOCSTITLE = f"{PROJECT} {VERSION} documentation"


class SphinxMarkup(Markup):
    section = '<section id="{id}">\n{html}\n</section>'
    inline_code = '<code class="docutils literal notranslate"><span class="pre">{}</span></code>'

    def __init__(self, side_by_side: bool = False) -> None:
        self.style = Style(side_by_side=side_by_side)

    def heading(self, h: Heading) -> str:
        return (
            f'<h{h.level}>{esc(h.text)}<a class="headerlink" href="#{h.id}" '
            f'title="Link to this heading">\u00b6</a></h{h.level}>'
        )

    def bullets(self, b: BulletList) -> str:
        items = "".join(f"<li><p>{self.inline(item)}</p></li>\n" for item in b.items)
        return f'<ul class="simple">\n{items}</ul>'

    def code(self, c: Code) -> str:
        lines = "\n".join(pygments_line(line) for line in c.lines)
        return (
            f'<div class="highlight-{c.language} notranslate"><div class="highlight">'
            f"<pre><span></span>{lines}\n</pre></div>\n</div>"
        )

    def table(self, t: Table) -> str:
        head = "".join(f'<th class="head"><p>{esc(h)}</p></th>\n' for h in t.header)
        rows = "".join(
            f'<tr class="row-{"odd" if i % 2 else "even"}">'
            + "".join(f"<td><p>{self.inline((c,))}</p></td>\n" for c in row)
            + "</tr>\n"
            for i, row in enumerate(t.rows)
        )
        return (
            '<table class="docutils align-default">\n<thead>\n<tr class="row-odd">'
            f"{head}</tr>\n</thead>\n<tbody>\n{rows}</tbody>\n</table>"
        )

    def note(self, n: Note) -> str:
        label = self.style.note_labels[n.kind]
        return (
            f'<div class="admonition {n.kind}">\n<p class="admonition-title">{label}</p>\n'
            f"<p>{self.inline(n.parts)}</p>\n</div>"
        )

    def aside(self, a: Aside) -> str:
        return (
            f'<aside class="sidebar">\n<p class="sidebar-title">{esc(a.title)}</p>\n'
            f"<p>{self.inline(a.parts)}</p>\n{self.code(a.code)}\n</aside>"
        )

    def child_pages(self, c: ChildPages) -> str:
        def items(links, depth):
            out = []
            for link in links:
                sub = f"<ul>\n{items(link.children, depth + 1)}</ul>\n" if link.children else ""
                out.append(
                    f'<li class="toctree-l{depth}"><a class="reference internal" '
                    f'href="{link.href}.html">{esc(link.text)}</a>{sub}</li>\n'
                )
            return "".join(out)

        return f'<div class="toctree-wrapper compound">\n<ul>\n{items(c.links, 1)}</ul>\n</div>'

    def side_by_side(self, s) -> str:
        if not self.style.side_by_side:
            return super().side_by_side(s)
        # A list-table with :header-rows: 0, one example in each cell.
        return (
            '<table class="docutils align-default">\n<tbody>\n<tr class="row-odd">'
            f"<td>{self.code(s.left)}\n</td>\n<td>{self.code(s.right)}\n</td>\n</tr>\n"
            "</tbody>\n</table>"
        )


def _head(spec: PageSpec, css: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en" data-content_root="./">\n<head>\n'
        '<meta charset="utf-8" />\n<meta name="viewport" content="width=device-width, '
        f'initial-scale=1.0" />\n<title>{esc(spec.title)} &#8212; {DOCSTITLE}</title>\n'
        f'<link rel="stylesheet" type="text/css" href="_static/pygments.css" />\n'
        f'<link rel="stylesheet" type="text/css" href="_static/{css}" />\n'
        '<script src="_static/documentation_options.js"></script>\n'
        '<link rel="index" title="Index" href="genindex.html" />\n'
        '<link rel="search" title="Search" href="search.html" />\n</head>\n'
    )


def _globaltoc(spec: PageSpec) -> str:
    items = []
    for item in nav_items(spec):
        cls = ' class="toctree-l1 current"' if item.current else ' class="toctree-l1"'
        a_cls = "current reference internal" if item.current else "reference internal"
        href = "#" if item.current else item.href
        items.append(f'<li{cls}><a class="{a_cls}" href="{href}">{esc(item.title)}</a></li>')
    return '<ul class="current">\n' + "\n".join(items) + "\n</ul>"


def _localtoc(spec: PageSpec) -> str:
    subs = "".join(
        f'<li><a class="reference internal" href="#{h.id}">{esc(h.text)}</a></li>\n'
        for h in toc_entries(spec)
    )
    sub = f"<ul>\n{subs}</ul>\n" if subs else ""
    return (
        f'<ul>\n<li><a class="reference internal" href="#">{esc(spec.title)}</a>{sub}</li>\n</ul>'
    )


SEARCHBOX = (
    '<search id="searchbox" style="display: none" role="search">\n'
    '<h3 id="searchlabel">Quick search</h3>\n<div class="searchformwrapper">\n'
    '<form class="search" action="search.html" method="get">\n'
    '<input type="text" name="q" aria-labelledby="searchlabel" autocomplete="off" />\n'
    '<input type="submit" value="Go" />\n</form>\n</div>\n</search>\n'
    "<script>document.getElementById('searchbox').style.display = \"block\"</script>"
)
VERSIONS_CLASSIC = (
    '<div class="version-switch"><h3>Other versions</h3><ul>'
    '<li><a href="../2.0/">2.0</a></li><li><a href="../3.0/">3.0 (development)</a></li>'
    "</ul></div>"
)


def _relbar(spec: PageSpec) -> str:
    prev, nxt = prev_next(spec)
    rel = [
        '<li class="right" style="margin-right: 10px"><a href="genindex.html" '
        'title="General Index" accesskey="I">index</a></li>'
    ]
    if nxt:
        rel.append(
            f'<li class="right"><a href="{nxt.href}" title="{esc(nxt.title)}" '
            'accesskey="N">next</a> |</li>'
        )
    if prev:
        rel.append(
            f'<li class="right"><a href="{prev.href}" title="{esc(prev.title)}" '
            'accesskey="P">previous</a> |</li>'
        )
    return (
        '<div class="related" role="navigation" aria-label="Related">\n<h3>Navigation</h3>\n'
        "<ul>\n" + "\n".join(rel) + f'\n<li class="nav-item nav-item-0"><a href="index.html">'
        f"{DOCSTITLE}</a> &#187;</li>\n"
        f'<li class="nav-item nav-item-this"><a href="">{esc(spec.title)}</a></li>\n</ul>\n</div>'
    )


def _relations(spec: PageSpec) -> str:
    prev, nxt = prev_next(spec)
    out = []
    if prev:
        out.append(
            f'<div>\n<h4>Previous topic</h4>\n<p class="topless"><a href="{prev.href}" '
            f'title="previous chapter">{esc(prev.title)}</a></p>\n</div>'
        )
    if nxt:
        out.append(
            f'<div>\n<h4>Next topic</h4>\n<p class="topless"><a href="{nxt.href}" '
            f'title="next chapter">{esc(nxt.title)}</a></p>\n</div>'
        )
    return "\n".join(out)


def _sourcelink(spec: PageSpec) -> str:
    return (
        '<div role="note" aria-label="source link">\n<h3>This Page</h3>\n'
        f'<ul class="this-page-menu">\n<li><a href="_sources/{spec.slug}.rst.txt" '
        'rel="nofollow">Show Source</a></li>\n</ul>\n</div>'
    )


# -- classic ----------------------------------------------------------------------------------


def classic_layout(spec: PageSpec, body: str) -> str:
    sidebar = (
        '<div class="sphinxsidebar" role="navigation" aria-label="Main">\n'
        '<div class="sphinxsidebarwrapper">\n'
        f'<div>\n<h3><a href="index.html">Table of Contents</a></h3>\n{_localtoc(spec)}\n</div>\n'
        f"{_relations(spec)}\n{_sourcelink(spec)}\n{VERSIONS_CLASSIC}\n{SEARCHBOX}\n</div>\n"
        '<div id="sidebarbutton" title="Collapse sidebar"><span>\u00ab</span></div>\n</div>'
    )
    return (
        _head(spec, "classic.css") + "<body>\n" + _relbar(spec) + '\n<div class="document">\n'
        '<div class="documentwrapper">\n<div class="bodywrapper">\n'
        f'<div class="body" role="main">\n{body}\n<div class="clearer"></div>\n</div>\n'
        f'</div>\n</div>\n{sidebar}\n<div class="clearer"></div>\n</div>\n'
        + _relbar(spec)
        + '\n<div class="footer" role="contentinfo">\n'
        f"&#169; {COPYRIGHT}.\nCreated using "
        '<a href="https://www.sphinx-doc.org/">Sphinx</a> 8.1.3.\n</div>\n'
        f"{cookieconsent()}\n</body>\n</html>\n"
    )


CLASSIC_BOILERPLATE = [
    "Quick search",
    "Show Source",
    "Previous topic",
    "Other versions",
    "3.0 (development)",
    "Created using",
    COPYRIGHT,
    "Table of Contents",
    DOCSTITLE,
    "uses cookies",
]

# -- Read the Docs ----------------------------------------------------------------------------


def _rtd_versions() -> str:
    """The flyout Read the Docs injected (sphinx_rtd_theme/versions.html, 1.x)."""
    return (
        '<div class="rst-versions" data-toggle="rst-versions" role="note" aria-label="Versions">\n'
        '<span class="rst-current-version" data-toggle="rst-current-version">\n'
        f'<span class="fa fa-book"> Read the Docs</span>\nv: {VERSION}\n'
        '<span class="fa fa-caret-down"></span>\n</span>\n<div class="rst-other-versions">\n'
        '<dl>\n<dt>Versions</dt>\n<dd><a href="/en/latest/">latest</a></dd>\n'
        '<dd><a href="/en/2.0/">2.0</a></dd>\n</dl>\n<dl>\n<dt>Downloads</dt>\n'
        '<dd><a href="/_/downloads/en/latest/pdf/">PDF</a></dd>\n</dl>\n<dl>\n'
        "<dt>On Read the Docs</dt>\n<dd>\n"
        '<a href="//readthedocs.org/projects/retryable/?fromdocs=retryable">Project Home</a>\n'
        "</dd>\n</dl>\n</div>\n</div>"
    )


def _rtd_buttons(spec: PageSpec, where: str) -> str:
    prev, nxt = prev_next(spec)
    out = [f'<div class="rst-footer-buttons" role="navigation" aria-label="{where}">']
    if prev:
        out.append(
            f'<a href="{prev.href}" class="btn btn-neutral float-left" '
            f'title="{esc(prev.title)}" accesskey="p" rel="prev"><span class="fa '
            'fa-arrow-circle-left" aria-hidden="true"></span> Previous</a>'
        )
    if nxt:
        out.append(
            f'<a href="{nxt.href}" class="btn btn-neutral float-right" '
            f'title="{esc(nxt.title)}" accesskey="n" rel="next">Next <span class="fa '
            'fa-arrow-circle-right" aria-hidden="true"></span></a>'
        )
    return "\n".join(out) + "\n</div>"


def rtd_layout(spec: PageSpec, body: str) -> str:
    toctree = (
        '<p class="caption" role="heading"><span class="caption-text">Contents:</span></p>\n'
        + _globaltoc(spec)
    )
    breadcrumbs = (
        '<div role="navigation" aria-label="Page navigation">\n<ul class="wy-breadcrumbs">\n'
        '<li><a href="index.html" class="icon icon-home" aria-label="Home"></a></li>\n'
        f'<li class="breadcrumb-item active">{esc(spec.title)}</li>\n'
        '<li class="wy-breadcrumbs-aside">\n<a href="https://github.com/example/retryable/'
        f'blob/main/docs/{spec.slug}.rst" class="fa fa-github"> Edit on GitHub</a>\n</li>\n'
        "</ul>\n<hr/>\n</div>"
    )
    footer = (
        f'<footer>{_rtd_buttons(spec, "Footer")}\n<hr/>\n<div role="contentinfo">\n'
        f"<p>&#169; {COPYRIGHT}.</p>\n</div>\nBuilt with "
        '<a href="https://www.sphinx-doc.org/">Sphinx</a> using a\n<a href="https://github.com/'
        'readthedocs/sphinx_rtd_theme">theme</a>\nprovided by <a href="https://readthedocs.org">'
        "Read the Docs</a>.\n</footer>"
    )
    return (
        _head(spec, "css/theme.css") + '<body class="wy-body-for-nav">\n'
        '<div class="wy-grid-for-nav">\n<nav data-toggle="wy-nav-shift" class="wy-nav-side">\n'
        '<div class="wy-side-scroll">\n<div class="wy-side-nav-search">\n'
        f'<a href="index.html" class="icon icon-home"> {PROJECT}</a>\n'
        f'<div class="version">\n{VERSION}\n</div>\n'
        '<div role="search">\n<form id="rtd-search-form" class="wy-form" action="search.html" '
        'method="get">\n<input type="text" name="q" placeholder="Search docs" '
        'aria-label="Search docs" />\n</form>\n</div>\n</div>\n'
        '<div class="wy-menu wy-menu-vertical" data-spy="affix" role="navigation" '
        f'aria-label="Navigation menu">\n{toctree}\n</div>\n</div>\n</nav>\n'
        '<section data-toggle="wy-nav-shift" class="wy-nav-content-wrap">\n'
        '<nav class="wy-nav-top" aria-label="Mobile navigation menu">\n'
        f'<i data-toggle="wy-nav-top" class="fa fa-bars"></i>\n<a href="index.html">{PROJECT}</a>'
        '\n</nav>\n<div class="wy-nav-content">\n<div class="rst-content">\n'
        f"{breadcrumbs}\n"
        '<div role="main" class="document" itemscope="itemscope" '
        'itemtype="http://schema.org/Article">\n<div itemprop="articleBody">\n'
        f"{body}\n</div>\n</div>\n{footer}\n</div>\n</div>\n</section>\n</div>\n"
        f"{_rtd_versions()}\n{cookieconsent()}\n</body>\n</html>\n"
    )


RTD_BOILERPLATE = [
    "Edit on GitHub",
    "Built with",
    "provided by",
    "On Read the Docs",
    "Project Home",
    "Downloads",
    "Contents:",
    COPYRIGHT,
    "Changelog",
    "Contributing guide",
    "uses cookies",
]

# -- Furo -------------------------------------------------------------------------------------


def furo_layout(spec: PageSpec, body: str) -> str:
    prev, nxt = prev_next(spec)
    related = []
    if nxt:
        related.append(
            f'<a class="next-page" href="{nxt.href}">\n<div class="page-info">\n'
            '<div class="context">\n<span>Next</span>\n</div>\n'
            f'<div class="title">{esc(nxt.title)}</div>\n</div>\n'
            '<svg class="furo-related-icon"><use href="#svg-arrow-right"></use></svg>'
            "\n</a>"
        )
    if prev:
        related.append(
            f'<a class="prev-page" href="{prev.href}">\n'
            '<svg class="furo-related-icon"><use href="#svg-arrow-right"></use></svg>'
            '\n<div class="page-info">\n<div class="context">\n<span>Previous</span>'
            f'\n</div>\n<div class="title">{esc(prev.title)}</div>\n'
            "</div>\n</a>"
        )
    tree = _globaltoc(spec)
    return (
        _head(spec, "styles/furo.css") + "<body>\n"
        '<svg xmlns="http://www.w3.org/2000/svg" style="display: none;"><symbol id="svg-toc" '
        'viewBox="0 0 24 24"><title>Contents</title><path d="M4 6h16"/></symbol></svg>\n'
        '<input type="checkbox" class="sidebar-toggle" name="__navigation" id="__navigation">\n'
        '<input type="checkbox" class="sidebar-toggle" name="__toc" id="__toc">\n'
        '<label class="overlay sidebar-overlay" for="__navigation"></label>\n'
        '<label class="overlay toc-overlay" for="__toc"></label>\n'
        '<a class="skip-to-content muted-link" href="#furo-main-content">Skip to content</a>\n'
        '<div class="page">\n<header class="mobile-header">\n<div class="header-left">\n'
        '<label class="nav-overlay-icon" for="__navigation"><span class="icon"><svg><use '
        'href="#svg-menu"></use></svg></span></label>\n</div>\n<div class="header-center">\n'
        f'<a href="index.html"><div class="brand">{DOCSTITLE}</div></a>\n</div>\n</header>\n'
        '<aside class="sidebar-drawer">\n<div class="sidebar-container">\n'
        '<div class="sidebar-sticky"><a class="sidebar-brand" href="index.html">\n'
        f'<span class="sidebar-brand-text">{DOCSTITLE}</span>\n</a>'
        '<form class="sidebar-search-container" method="get" action="search.html" '
        'role="search">\n<input class="sidebar-search" placeholder="Search" name="q" '
        'aria-label="Search">\n</form>\n<div id="searchbox"></div>'
        '<div class="sidebar-scroll"><div class="sidebar-tree">\n'
        f'<p class="caption" role="heading"><span class="caption-text">Guide</span></p>\n{tree}\n'
        "</div>\n</div>\n"
        + _rtd_versions().replace('aria-label="Versions"', 'aria-label="versions"')
        + "\n</div>\n</div>\n</aside>\n"
        '<div class="main">\n<div class="content">\n<div class="article-container">\n'
        '<a href="#" class="back-to-top muted-link">\n<svg viewBox="0 0 24 24"><path '
        'd="M13 20h-2V8"></path></svg>\n<span>Back to top</span>\n</a>\n'
        '<div class="content-icon-container">\n<div class="view-this-page">\n'
        f'<a class="muted-link" href="_sources/{spec.slug}.rst.txt" title="View this page">\n'
        '<svg><use href="#svg-eye"></use></svg>\n<span class="visually-hidden">View this page'
        '</span>\n</a>\n</div>\n<div class="edit-this-page">\n<a class="muted-link" href="https'
        f'://github.com/example/retryable/edit/main/docs/{spec.slug}.rst" rel="edit" '
        'title="Edit this page">\n<svg><use href="#svg-pencil"></use></svg>\n'
        '<span class="visually-hidden">Edit this page</span>\n</a>\n</div>\n'
        '<div class="theme-toggle-container theme-toggle-content">\n<button class="theme-toggle"'
        ' aria-label="Toggle Light / Dark / Auto color theme">\n<svg class="theme-icon-when-auto'
        '-light"><use href="#svg-sun-with-moon"></use></svg>\n</button>\n</div>\n'
        '<label class="toc-overlay-icon toc-content-icon" for="__toc">\n<span class="icon">'
        '<svg><use href="#svg-toc"></use></svg></span>\n</label>\n</div>\n'
        f'<article role="main" id="furo-main-content">\n{body}\n</article>\n</div>\n'
        '<footer>\n<div class="related-pages">\n' + "\n".join(related) + "\n</div>\n"
        '<div class="bottom-of-page">\n<div class="left-details">\n'
        f'<div class="copyright">\n{COPYRIGHT}\n</div>\nMade with '
        '<a href="https://www.sphinx-doc.org/">Sphinx</a> and '
        '<a class="muted-link" href="https://pradyunsg.me">@pradyunsg</a>\'s\n'
        '<a href="https://github.com/pradyunsg/furo">Furo</a>\n</div>\n'
        '<div class="right-details">\n</div>\n</div>\n</footer>\n</div>\n'
        '<aside class="toc-drawer">\n<div class="toc-sticky toc-scroll">\n'
        '<div class="toc-title-container">\n<span class="toc-title">\nOn this page\n</span>\n'
        f'</div>\n<div class="toc-tree-container">\n<div class="toc-tree">\n{_localtoc(spec)}\n'
        "</div>\n</div>\n</div>\n</aside>\n</div>\n</div>\n"
        f"{cookieconsent()}\n</body>\n</html>\n"
    )


FURO_BOILERPLATE = [
    "Skip to content",
    "Back to top",
    "Edit this page",
    "View this page",
    "Made with",
    "@pradyunsg",
    "On this page",
    "On Read the Docs",
    COPYRIGHT,
    "Changelog",
    "Security policy",
    "uses cookies",
]

# -- pydata-sphinx-theme ----------------------------------------------------------------------


def pydata_layout(spec: PageSpec, body: str) -> str:
    prev, nxt = prev_next(spec)
    pn = []
    if prev:
        pn.append(
            f'<a class="left-prev" href="{prev.href}" title="previous page">\n'
            '<i class="fa-solid fa-angle-left"></i>\n<div class="prev-next-info">\n'
            '<p class="prev-next-subtitle">previous</p>\n'
            f'<p class="prev-next-title">{esc(prev.title)}</p>\n</div>\n</a>'
        )
    if nxt:
        pn.append(
            f'<a class="right-next" href="{nxt.href}" title="next page">\n'
            '<div class="prev-next-info">\n<p class="prev-next-subtitle">next</p>\n'
            f'<p class="prev-next-title">{esc(nxt.title)}</p>\n</div>\n'
            '<i class="fa-solid fa-angle-right"></i>\n</a>'
        )
    navbar = "".join(
        f'<li class="nav-item pst-header-nav-item{" current active" if i.current else ""}">'
        f'<a class="nav-link nav-internal" href="{i.href}">{esc(i.title)}</a></li>\n'
        for i in nav_items(spec)
    )
    page_toc = "".join(
        f'<li class="toc-h{h.level} nav-item toc-entry"><a class="reference internal nav-link" '
        f'href="#{h.id}">{esc(h.text)}</a></li>\n'
        for h in toc_entries(spec)
    )
    version_switcher = (
        '<div class="version-switcher__container dropdown pst-js-only">\n'
        '<button id="pst-version-switcher-button-2" type="button" class="version-switcher__button'
        ' btn btn-sm dropdown-toggle" data-bs-toggle="dropdown" aria-haspopup="listbox" '
        'aria-controls="pst-version-switcher-list-2" aria-label="Version switcher list">\n'
        "Choose version  <!-- this text may get changed later by javascript -->\n"
        '<span class="caret"></span>\n</button>\n<div id="pst-version-switcher-list-2" '
        'class="version-switcher__menu dropdown-menu list-group-flush py-0" role="listbox" '
        'aria-labelledby="pst-version-switcher-button-2">\n</div>\n</div>'
    )
    return (
        _head(spec, "styles/pydata-sphinx-theme.css")
        + '<body data-bs-spy="scroll" data-bs-target=".bd-toc-nav" data-offset="180" '
        'data-bs-root-margin="0px 0px -60%" data-default-mode="">\n'
        '<div id="pst-skip-link" class="skip-link d-print-none"><a href="#main-content">'
        'Skip to main content</a></div>\n<div id="pst-scroll-pixel-helper"></div>\n'
        '<button type="button" class="btn rounded-pill" id="pst-back-to-top">\n'
        '<i class="fa-solid fa-arrow-up"></i>Back to top</button>\n'
        '<dialog id="pst-search-dialog">\n<form class="bd-search d-flex align-items-center" '
        'action="search.html" method="get">\n<input type="search" class="form-control" name="q" '
        'placeholder="Search the docs ..." aria-label="Search the docs ..."/>\n</form></dialog>\n'
        '<header id="pst-header" class="bd-header navbar navbar-expand-lg bd-navbar '
        'd-print-none">\n<div class="bd-header__inner bd-page-width">\n'
        '<div class="navbar-header-items__start">\n<div class="navbar-item">\n'
        '<a class="navbar-brand logo" href="index.html">\n'
        f'<p class="title logo__title">{DOCSTITLE}</p>\n</a></div>\n</div>\n'
        '<div class="col-lg-9 navbar-header-items">\n<div class="me-auto navbar-header-items'
        '__center">\n<div class="navbar-item">\n<nav>\n<ul class="bd-navbar-elements '
        f'navbar-nav">\n{navbar}</ul>\n</nav></div>\n</div>\n'
        '<div class="navbar-header-items__end">\n<div class="navbar-item">\n'
        f"{version_switcher}</div>\n</div>\n</div>\n</div>\n</header>\n"
        '<div class="bd-container">\n<div class="bd-container__inner bd-page-width">\n'
        '<dialog id="pst-primary-sidebar-modal"></dialog>\n'
        '<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar">\n'
        '<div class="sidebar-primary-items__start sidebar-primary__section">\n'
        '<div class="sidebar-primary-item">\n<nav class="bd-docs-nav bd-links" '
        'aria-label="Section Navigation">\n<p class="bd-links__title" role="heading" '
        'aria-level="1">Section Navigation</p>\n<div class="bd-toc-item navbar-nav">'
        f"{_globaltoc(spec)}</div>\n</nav></div>\n</div>\n</div>\n"
        '<main id="main-content" class="bd-main" role="main">\n<div class="bd-content">\n'
        '<div class="bd-article-container">\n<div class="bd-header-article d-print-none">\n'
        '<div class="header-article-items header-article__inner">\n'
        '<div class="header-article-items__start">\n<div class="header-article-item">\n'
        '<nav aria-label="Breadcrumb" class="d-print-none">\n<ul class="bd-breadcrumbs">\n'
        '<li class="breadcrumb-item breadcrumb-home">\n<a href="index.html" class="nav-link" '
        'aria-label="Home">\n<i class="fa-solid fa-home"></i>\n</a>\n</li>\n'
        '<li class="breadcrumb-item active" aria-current="page"><span class="ellipsis">'
        f"{esc(spec.title)}</span></li>\n</ul>\n</nav>\n</div>\n</div>\n</div>\n</div>\n"
        '<div id="searchbox"></div>\n<article class="bd-article">\n'
        f"{body}\n</article>\n"
        '<footer class="prev-next-footer d-print-none">\n<div class="prev-next-area">\n'
        + "\n".join(pn)
        + "\n</div>\n</footer>\n</div>\n"
        '<dialog id="pst-secondary-sidebar-modal"></dialog>\n'
        '<div id="pst-secondary-sidebar" class="bd-sidebar-secondary bd-toc">'
        '<div class="sidebar-secondary-items sidebar-secondary__inner">\n'
        '<div class="sidebar-secondary-item">\n<div id="pst-page-navigation-heading-2" '
        'class="page-toc tocsection onthispage">\n<i class="fa-solid fa-list"></i> On this page'
        '\n</div>\n<nav id="pst-page-toc-nav" class="page-toc" aria-labelledby="pst-page-'
        'navigation-heading-2">\n<ul class="visible nav section-nav flex-column">\n'
        f"{page_toc}</ul>\n</nav></div>\n"
        '<div class="sidebar-secondary-item">\n<div class="tocsection editthispage">\n'
        f'<a href="https://github.com/example/retryable/edit/main/docs/{spec.slug}.rst">\n'
        '<i class="fa-solid fa-pencil"></i>\nEdit on GitHub\n</a>\n</div>\n</div>\n'
        '<div class="sidebar-secondary-item">\n<div class="tocsection sourcelink">\n'
        f'<a href="_sources/{spec.slug}.rst.txt">\n<i class="fa-solid fa-file-lines"></i> '
        "Show Source\n</a>\n</div>\n</div>\n</div></div>\n</div>\n"
        '<footer class="bd-footer-content">\n</footer>\n</main>\n</div>\n</div>\n'
        '<footer class="bd-footer">\n<div class="bd-footer__inner bd-page-width">\n'
        '<div class="footer-items__start">\n<div class="footer-item">\n'
        f'<p class="copyright">\n&#169; {COPYRIGHT}.\n<br/>\n</p>\n</div>\n'
        '<div class="footer-item">\n<p class="sphinx-version">\nCreated using '
        '<a href="https://www.sphinx-doc.org/">Sphinx</a> 8.1.3.\n<br/>\n</p>\n</div>\n</div>\n'
        '<div class="footer-items__end">\n<div class="footer-item">\n<p class="theme-version">\n'
        "<!-- # L10n: Setting the PST URL as an argument as this does not need to be localized "
        '-->\nBuilt with the <a href="https://pydata-sphinx-theme.readthedocs.io/en/stable/'
        'index.html">PyData Sphinx Theme</a> 0.16.1.\n</p></div>\n</div>\n</div>\n</footer>\n'
        f"{cookie_notice()}\n</body>\n</html>\n"
    )


PYDATA_BOILERPLATE = [
    "Skip to main content",
    "Back to top",
    "Choose version",
    "Section Navigation",
    "On this page",
    "Edit on GitHub",
    "Show Source",
    "Created using",
    "PyData Sphinx Theme",
    COPYRIGHT,
    "Changelog",
    "Contributing guide",
    "We use cookies",
]

# -- alabaster --------------------------------------------------------------------------------


def alabaster_layout(spec: PageSpec, body: str) -> str:
    prev, nxt = prev_next(spec)
    rel = []
    if prev:
        rel.append(
            f'<li>Previous: <a href="{prev.href}" title="previous chapter">'
            f"{esc(prev.title)}</a></li>"
        )
    if nxt:
        rel.append(f'<li>Next: <a href="{nxt.href}" title="next chapter">{esc(nxt.title)}</a></li>')
    sidebar = (
        '<div class="sphinxsidebar" role="navigation" aria-label="Main">\n'
        '<div class="sphinxsidebarwrapper">\n'
        f'<h1 class="logo"><a href="index.html">{PROJECT}</a></h1>\n\n'
        '<p class="blurb">Patient HTTP retries for impatient services.</p>\n'
        f"<h3>Navigation</h3>\n{_globaltoc(spec)}\n"
        '<div class="relations">\n<h3>Related Topics</h3>\n<ul>\n<li><a href="index.html">'
        "Documentation overview</a><ul>\n" + "\n".join(rel) + "\n</ul></li>\n</ul>\n</div>\n"
        f"{SEARCHBOX}\n</div>\n</div>"
    )
    return (
        _head(spec, "alabaster.css") + "<body>\n"
        '<div class="document">\n<div class="documentwrapper">\n<div class="bodywrapper">\n'
        f'<div class="body" role="main">\n{body}\n</div>\n</div>\n</div>\n{sidebar}\n'
        '<div class="clearer"></div>\n</div>\n<div class="footer">\n'
        f"&#169;{COPYRIGHT}.\n|\nPowered by "
        '<a href="https://www.sphinx-doc.org/">Sphinx 8.1.3</a>\n&amp; '
        '<a href="https://alabaster.readthedocs.io">Alabaster 1.0.0</a>\n|\n'
        f'<a href="_sources/{spec.slug}.rst.txt" rel="nofollow">Page source</a>\n</div>\n'
        f"{cookieconsent()}\n</body>\n</html>\n"
    )


ALABASTER_BOILERPLATE = [
    "Patient HTTP retries for impatient services",
    "Related Topics",
    "Documentation overview",
    "Quick search",
    "Powered by",
    "Page source",
    COPYRIGHT,
    "Changelog",
    "Contributing guide",
    "uses cookies",
]


def sphinx_classic():
    return build(
        "sphinx-classic", SphinxMarkup(side_by_side=True), classic_layout, CLASSIC_BOILERPLATE
    )


def sphinx_rtd():
    return build("sphinx-rtd", SphinxMarkup(), rtd_layout, RTD_BOILERPLATE)


def furo():
    return build("furo", SphinxMarkup(), furo_layout, FURO_BOILERPLATE)


def pydata():
    return build("pydata-sphinx-theme", SphinxMarkup(), pydata_layout, PYDATA_BOILERPLATE)


def alabaster():
    return build(
        "alabaster", SphinxMarkup(side_by_side=True), alabaster_layout, ALABASTER_BOILERPLATE
    )
