"""Server-rendered JavaScript generators: Docusaurus 3 (classic theme) and VitePress 1.

Docusaurus (packages/docusaurus-theme-classic/src/theme/): a front-matter title becomes
``<header><h1>`` inside ``div.theme-doc-markdown``; headings carry ``a.hash-link`` holding a
zero-width space; code is prism-react-renderer's ``pre.prism-code > code > span.token-line``,
every line ending in ``<br>`` and no newline character (CodeBlock/Line), beside a copy button;
admonitions are ``div.theme-admonition``; a category's index is a grid of ``a.card`` with an
``h2`` title. Breadcrumbs, the mobile "On this page" button and the doc footer (edit link, last
updated) are inside ``<article>``, the desktop TOC and the pager inside ``<main>``.

VitePress (src/client/theme-default/components/VPDoc.vue, VPDocFooter.vue, VPDocAsideOutline
.vue; src/node/markdown/plugins/preWrapper.ts): ``div.language-X > button.copy + span.lang +
pre.shiki > code > span.line``, ``a.header-anchor`` with a zero-width space, GitHub-style alerts
as ``div.note.custom-block``, and ``<details class="details custom-block">`` for a box.
"""

from __future__ import annotations

from tests.corpus.content import (
    Aside,
    ChildPages,
    Code,
    Heading,
    Note,
    PageSpec,
    Style,
    Table,
    esc,
    tokens,
)
from tests.corpus.markup import (
    PROJECT,
    VERSION,
    Markup,
    build,
    cookieconsent,
    nav_items,
    prev_next,
    toc_entries,
)

ZWSP = "\u200b"
_PRISM = {
    "kw": "keyword",
    "str": "string",
    "num": "number",
    "op": "operator",
    "punct": "punctuation",
    "name": "plain",
    "ws": "plain",
    "other": "plain",
}
_PRISM_COLOR = {
    "keyword": "#00009f",
    "string": "#e3116c",
    "number": "#36acaa",
    "operator": "#393A34",
    "punctuation": "#393A34",
    "plain": "#393A34",
}


def _prism_line(line: str) -> str:
    if not line:
        return '<span class="token plain" style="display:inline-block"></span>'
    out, run, kind = [], "", None
    for k, t in tokens(line):
        cls = _PRISM[k]
        if cls == kind == "plain":
            run += t
            continue
        if run:
            out.append((kind, run))
        run, kind = t, cls
    out.append((kind, run))
    return "".join(
        f'<span class="token {c}" style="color:{_PRISM_COLOR[c]}">{esc(t, quote=False)}</span>'
        if c != "plain"
        else f'<span class="token plain">{esc(t, quote=False)}</span>'
        for c, t in out
    )


COPY_BUTTON = (
    '<div class="buttonGroup__atx"><button type="button" aria-label="Copy code to clipboard" '
    'title="Copy" class="clean-btn"><span class="copyButtonIcons_eSgA" aria-hidden="true">'
    '<svg viewBox="0 0 24 24" class="copyButtonIcon_y97N"><path fill="currentColor" '
    'd="M19,21H8V7H19M19,5H8A2,2 0 0,0 6,7V21"></path></svg><svg viewBox="0 0 24 24" '
    'class="copyButtonSuccessIcon_LjdS"><path fill="currentColor" d="M21,7L9,19L3.6,13.6">'
    "</path></svg></span></button></div>"
)


class DocusaurusMarkup(Markup):
    style = Style(
        note_labels={"note": "note", "warning": "warning"}, link_summaries=True, side_by_side=True
    )

    def title(self, spec: PageSpec) -> str:
        return f"<header><h1>{esc(spec.title)}</h1></header>"

    def heading(self, h: Heading) -> str:
        return (
            f'<h{h.level} class="anchor anchorWithStickyNavbar_LWe7" id="{h.id}">{esc(h.text)}'
            f'<a href="#{h.id}" class="hash-link" aria-label="Direct link to {esc(h.text)}" '
            f'title="Direct link to {esc(h.text)}">{ZWSP}</a></h{h.level}>'
        )

    def code(self, c: Code) -> str:
        lines = "".join(
            f'<span class="token-line" style="color:#393A34">{_prism_line(line)}<br></span>'
            for line in c.lines
        )
        return (
            f'<div class="language-{c.language} codeBlockContainer_Ckt0 theme-code-block" '
            'style="--prism-color:#393A34;--prism-background-color:#f6f8fa">'
            '<div class="codeBlockContent_biex"><pre tabindex="0" class="prism-code '
            f'language-{c.language} codeBlock_bY9V thin-scrollbar" style="color:#393A34;'
            f'background-color:#f6f8fa"><code class="codeBlockLines_e6Vv">{lines}</code></pre>'
            f"{COPY_BUTTON}</div></div>"
        )

    def _admonition(self, kind: str, alert: str, title: str, inner: str) -> str:
        return (
            f'<div class="theme-admonition theme-admonition-{kind} admonition_xJq3 alert '
            f'alert--{alert}"><div class="admonitionHeading_Gvgb"><span class="admonitionIcon_'
            f'Rf37"><svg viewBox="0 0 14 16"><path fill-rule="evenodd" d="M6.3 5.69a.942.942 0 '
            f'0 1-.28-.7c0-.28.09-.52.28-.7"></path></svg></span>{title}</div>'
            f'<div class="admonitionContent_BuS1">{inner}</div></div>'
        )

    def note(self, n: Note) -> str:
        alert = "secondary" if n.kind == "note" else "warning"
        label = self.style.note_labels[n.kind]
        return self._admonition(n.kind, alert, label, f"<p>{self.inline(n.parts)}</p>")

    def aside(self, a: Aside) -> str:
        # :::tip[Why jitter helps]
        inner = f"<p>{self.inline(a.parts)}</p>{self.code(a.code)}"
        return self._admonition("tip", "success", esc(a.title), inner)

    def child_pages(self, c: ChildPages) -> str:
        def flat(links):
            for link in links:
                yield link
                yield from flat(link.children)

        cards = "".join(
            '<article class="col col--6 margin-bottom--lg"><a class="card padding--lg '
            f'cardContainer_fWXF" href="/docs/{link.href}"><h2 class="text--truncate '
            f'cardTitle_rnsV" title="{esc(link.text)}">\U0001f4c4\ufe0f {esc(link.text)}</h2>'
            + (
                f'<p class="text--truncate cardDescription_PWke" title="{esc(link.summary)}">'
                f"{esc(link.summary)}</p>"
                if link.summary
                else ""
            )
            + "</a></article>"
            for link in flat(c.links)
        )
        return f'<section class="row">{cards}</section>'

    def table(self, t: Table) -> str:
        return super().table(t).replace("\n", "")


def docusaurus_layout(spec: PageSpec, body: str) -> str:
    prev, nxt = prev_next(spec)
    current = ' menu__link--active" aria-current="page'
    side = "".join(
        '<li class="theme-doc-sidebar-item-link theme-doc-sidebar-item-link-level-1 '
        f'menu__list-item"><a class="menu__link{current if i.current else ""}" '
        f'href="/docs/{i.href[:-5]}">{esc(i.title)}</a></li>'
        for i in nav_items(spec)
    )
    toc = "".join(
        f'<li><a href="#{h.id}" class="table-of-contents__link toc-highlight">{esc(h.text)}</a>'
        "</li>"
        for h in toc_entries(spec)
    )
    pager = []
    if prev:
        pager.append(
            '<a class="pagination-nav__link pagination-nav__link--prev" '
            f'href="/docs/{prev.href[:-5]}"><div class="pagination-nav__sublabel">'
            f'Previous</div><div class="pagination-nav__label">{esc(prev.title)}</div>'
            "</a>"
        )
    if nxt:
        pager.append(
            '<a class="pagination-nav__link pagination-nav__link--next" '
            f'href="/docs/{nxt.href[:-5]}"><div class="pagination-nav__sublabel">Next'
            f'</div><div class="pagination-nav__label">{esc(nxt.title)}</div></a>'
        )
    return (
        '<!doctype html>\n<html lang="en" dir="ltr" class="docs-wrapper plugin-docs '
        'plugin-id-default docs-version-current docs-doc-page" data-has-hydrated="false">\n'
        '<head>\n<meta charset="UTF-8">\n<meta name="generator" content="Docusaurus v3.8.1">\n'
        f'<title data-rh="true">{esc(spec.title)} | {PROJECT}</title>\n'
        '<link rel="stylesheet" href="/assets/css/styles.css">\n</head>\n<body class="navigation-'
        'with-keyboard">\n<script>(function(){var t="light";document.documentElement.'
        'setAttribute("data-theme",t)})()</script><div id="__docusaurus"><div role="region" '
        'aria-label="Skip to main content"><a class="skipToContent_fXgn" href="#__docusaurus_'
        'skipToContent_fallback">Skip to main content</a></div><nav aria-label="Main" '
        'class="theme-layout-navbar navbar navbar--fixed-top"><div class="navbar__inner">'
        '<div class="theme-layout-navbar-left navbar__items"><button aria-label="Toggle '
        'navigation bar" aria-expanded="false" class="navbar__toggle clean-btn" type="button">'
        '<svg width="30" height="30" viewBox="0 0 30 30" aria-hidden="true"><path '
        'stroke="currentColor" d="M4 7h22M4 15h22M4 23h22"></path></svg></button><a '
        'class="navbar__brand" href="/"><div class="navbar__logo"><img src="/img/logo.svg" '
        f'alt="{PROJECT} logo" class="themedComponent_mlkZ themedComponent--light_NVdE"></div>'
        f'<b class="navbar__title text--truncate">{PROJECT}</b></a><a aria-current="page" '
        'class="navbar__item navbar__link navbar__link--active" href="/docs/">Guide</a><a '
        'class="navbar__item navbar__link" href="/blog">Blog</a></div><div class="theme-layout-'
        'navbar-right navbar__items navbar__items--right"><div class="navbar__item dropdown '
        'dropdown--hoverable dropdown--right"><a href="#" aria-haspopup="true" aria-expanded="'
        f'false" role="button" class="navbar__link">{VERSION}</a><ul class="dropdown__menu"><li>'
        '<a class="dropdown__link" href="/docs/next/">Next (unreleased)</a></li><li><a aria-'
        f'current="page" class="dropdown__link dropdown__link--active" href="/docs/">{VERSION}'
        '</a></li><li><a class="dropdown__link" href="/docs/2.0/">2.0</a></li></ul></div><a '
        'href="https://github.com/example/retryable" target="_blank" rel="noopener noreferrer" '
        'class="navbar__item navbar__link">GitHub repository<svg width="13.5" height="13.5" '
        'aria-hidden="true" class="iconExternalLink_nPIU"><use href="#theme-svg-external-link">'
        '</use></svg></a><div class="navbarSearchContainer_Bca1"><button type="button" '
        'class="DocSearch DocSearch-Button" aria-label="Search (Ctrl+K)"><span '
        'class="DocSearch-Button-Container"><span class="DocSearch-Button-Placeholder">Search'
        '</span></span></button></div></div></div><div role="presentation" class="navbar-'
        'sidebar__backdrop"></div></nav><div id="__docusaurus_skipToContent_fallback" '
        'class="theme-layout-main main-wrapper mainWrapper_z2l0"><div class="docsWrapper_hBAB">'
        '<button aria-label="Scroll back to top" class="clean-btn theme-back-to-top-button '
        'backToTopButton_sjWU" type="button"></button><div class="docRoot_UBD9"><aside '
        'class="theme-doc-sidebar-container docSidebarContainer_YfHR"><div '
        'class="sidebarViewport_aRkj"><div class="sidebar_njMd"><nav aria-label="Docs sidebar" '
        'class="menu thin-scrollbar menu_SIkG"><ul class="theme-doc-sidebar-menu menu__list">'
        f"{side}</ul></nav></div></div></aside>"
        '<main class="docMainContainer_TBSr"><div class="container padding-top--md '
        'padding-bottom--lg"><div class="row"><div class="col docItemCol_VOVn"><div '
        'class="docItemContainer_Djhp"><article><nav class="theme-doc-breadcrumbs '
        'breadcrumbsContainer_Z_bl" aria-label="Breadcrumbs"><ul class="breadcrumbs"><li '
        'class="breadcrumbs__item"><a aria-label="Home page" class="breadcrumbs__link" '
        'href="/"><svg viewBox="0 0 24 24" class="breadcrumbHomeIcon_YNFT"><path d="M10 19v-5h4'
        'v5c0 .55.45 1 1 1h3" fill="currentColor"></path></svg></a></li><li class="breadcrumbs'
        '__item"><span class="breadcrumbs__link">Guide</span></li><li class="breadcrumbs__item '
        f'breadcrumbs__item--active"><span class="breadcrumbs__link">{esc(spec.title)}</span>'
        '</li></ul></nav><div class="tocCollapsible_ETCw theme-doc-toc-mobile tocMobile_ITEo">'
        '<button type="button" class="clean-btn tocCollapsibleButton_TO0P">On this page</button>'
        f'</div><div class="theme-doc-markdown markdown">{body}</div>'
        '<footer class="theme-doc-footer docusaurus-mt-lg"><div class="row margin-top--sm '
        'theme-doc-footer-edit-meta-row"><div class="col"><a href="https://github.com/example/'
        f'retryable/edit/main/website/docs/{spec.slug}.md" target="_blank" rel="noopener '
        'noreferrer" class="theme-edit-this-page"><svg fill="currentColor" height="20" '
        'width="20" viewBox="0 0 40 40" class="iconEdit_Z9Sw" aria-hidden="true"><g><path '
        'd="m34.5 11.7l-3 3.1-6.3-6.3 3.1-3q0.5-0.5 1.2-0.5t1.1 0.5l3.9 3.9"></path></g></svg>'
        'Edit this page</a></div><div class="col lastUpdated_JAkA"><span class="theme-last-'
        'updated">Last updated<!-- --> on <b><time datetime="2026-11-28T09:12:44.000Z" '
        'itemprop="dateModified">Nov 28, 2026</time></b></span></div></div></footer></article>'
        '<nav class="pagination-nav docusaurus-mt-lg" aria-label="Docs pages">'
        + "".join(pager)
        + '</nav></div></div><div class="col col--3"><div class="tableOfContents_bqdL '
        'thin-scrollbar theme-doc-toc-desktop"><ul class="table-of-contents table-of-contents__'
        f'left-border">{toc}</ul></div></div></div></div></main></div></div></div>'
        '<footer class="theme-layout-footer footer footer--dark"><div class="container '
        'container-fluid"><div class="row footer__links"><div class="theme-layout-footer-column '
        'col footer__col"><div class="footer__title">Community</div><ul class="footer__items '
        'clean-list"><li class="footer__item"><a href="https://stackoverflow.com/questions/'
        'tagged/retryable" target="_blank" rel="noopener noreferrer" class="footer__link-item">'
        'Stack Overflow</a></li><li class="footer__item"><a href="https://discord.gg/example"'
        ' target="_blank" rel="noopener noreferrer" class="footer__link-item">Discord server</a>'
        '</li></ul></div></div><div class="footer__bottom text--center"><div class="footer__'
        f'copyright">Copyright \u00a9 2026 Example Corp. Built with Docusaurus.</div></div></div>'
        f"</footer></div>{cookieconsent()}\n</body>\n</html>\n"
    )


DOCUSAURUS_BOILERPLATE = [
    "Skip to main content",
    "GitHub repository",
    "Next (unreleased)",
    "On this page",
    "Edit this page",
    "Last updated",
    "Nov 28, 2026",
    "Stack Overflow",
    "Discord server",
    "Built with Docusaurus",
    "Changelog",
    "Contributing guide",
    "Security policy",
    "uses cookies",
]

# -- VitePress --------------------------------------------------------------------------------

_SHIKI = {
    "kw": "--shiki-light:#D73A49;--shiki-dark:#F97583",
    "str": "--shiki-light:#032F62;--shiki-dark:#9ECBFF",
    "num": "--shiki-light:#005CC5;--shiki-dark:#79B8FF",
}
_SHIKI_PLAIN = "--shiki-light:#24292E;--shiki-dark:#E1E4E8"


def _shiki_line(line: str) -> str:
    spans, run = [], ""
    for kind, text in tokens(line):
        style = _SHIKI.get(kind)
        if style is None:
            run += text
            continue
        if run:
            spans.append((_SHIKI_PLAIN, run))
            run = ""
        spans.append((style, text))
    if run:
        spans.append((_SHIKI_PLAIN, run))
    inner = "".join(f'<span style="{s}">{esc(t, quote=False)}</span>' for s, t in spans)
    return f'<span class="line">{inner}</span>'


class VitePressMarkup(Markup):
    style = Style(note_labels={"note": "NOTE", "warning": "WARNING"})

    def heading(self, h: Heading) -> str:
        return (
            f'<h{h.level} id="{h.id}" tabindex="-1">{esc(h.text)} <a class="header-anchor" '
            f'href="#{h.id}" aria-label="Permalink to &quot;{esc(h.text)}&quot;">{ZWSP}</a>'
            f"</h{h.level}>"
        )

    def code(self, c: Code) -> str:
        lines = "\n".join(_shiki_line(line) for line in c.lines)
        return (
            f'<div class="language-{c.language} vp-adaptive-theme"><button title="Copy Code" '
            f'class="copy"></button><span class="lang">{c.language}</span><pre class="shiki '
            'shiki-themes github-light github-dark vp-code" tabindex="0"><code>'
            f"{lines}</code></pre></div>"
        )

    def table(self, t: Table) -> str:
        return super().table(t).replace("<table>", '<table tabindex="0">')

    def note(self, n: Note) -> str:
        label = self.style.note_labels[n.kind]
        return (
            f'<div class="{"note" if n.kind == "note" else "warning"} custom-block github-alert">'
            f'<p class="custom-block-title">{label}</p>\n<p>{self.inline(n.parts)}</p>\n</div>'
        )

    def aside(self, a: Aside) -> str:
        return (
            f'<details class="details custom-block"><summary>{esc(a.title)}</summary>\n'
            f"<p>{self.inline(a.parts)}</p>\n{self.code(a.code)}</details>"
        )

    def child_link(self, link) -> str:
        return f'<a href="/guide/{link.href}">{esc(link.text)}</a>'


def vitepress_layout(spec: PageSpec, body: str) -> str:
    prev, nxt = prev_next(spec)
    items = "".join(
        f'<div class="VPSidebarItem level-1 is-link{" is-active has-active" if i.current else ""}">'
        '<div class="item"><div class="indicator"></div><a class="VPLink link link" '
        f'href="/guide/{i.href[:-5]}"><p class="text">{esc(i.title)}</p></a></div></div>'
        for i in nav_items(spec)
    )
    outline = "".join(
        f'<li><a class="outline-link" href="#{h.id}" title="{esc(h.text)}">{esc(h.text)}</a></li>'
        for h in toc_entries(spec)
    )
    pager = ""
    for item, cls, desc in ((prev, "prev", "Previous page"), (nxt, "next", "Next page")):
        pager += '<div class="pager">'
        if item:
            pager += (
                f'<a class="VPLink link pager-link {cls}" href="/guide/{item.href[:-5]}">'
                f'<span class="desc">{desc}</span><span class="title">'
                f"{esc(item.title)}</span></a>"
            )
        pager += "</div>"
    return (
        '<!DOCTYPE html>\n<html lang="en-US" dir="ltr">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(spec.title)} | {PROJECT}</title>\n"
        '<meta name="generator" content="VitePress v1.6.3">\n</head>\n<body>\n'
        '<div id="app"><div class="Layout" data-v-5d98c3a5><!--[--><!--]--><!--[--><span '
        'tabindex="-1" data-v-0b0ada53></span><a href="#VPContent" class="VPSkipLink '
        'visually-hidden" data-v-0b0ada53>Skip to content</a><!--]--><!----><header '
        'class="VPNav" data-v-5d98c3a5 data-v-ae24b3ad><div class="VPNavBar has-sidebar top">'
        '<div class="wrapper"><div class="container"><div class="title"><div class="VPNavBarTitle'
        f' has-sidebar"><a class="title" href="/"><!--[--><!--]--><span>{PROJECT}</span>'
        '<!--[--><!--]--></a></div></div><div class="content"><div class="content-body"><div '
        'class="VPNavBarSearch search"><div id="local-search"><button type="button" '
        'class="DocSearch DocSearch-Button" aria-label="Search"><span class="DocSearch-Button-'
        'Container"><span class="vp-icon DocSearch-Search-Icon"></span><span class="DocSearch-'
        'Button-Placeholder">Search</span></span><span class="DocSearch-Button-Keys"><kbd '
        'class="DocSearch-Button-Key"></kbd><kbd class="DocSearch-Button-Key">K</kbd></span>'
        '</button></div></div><nav aria-labelledby="main-nav-aria-label" class="VPNavBarMenu '
        'menu"><span id="main-nav-aria-label" class="visually-hidden">Main Navigation</span>'
        '<!--[--><a class="VPLink link VPNavBarMenuLink active" href="/guide/" tabindex="0">'
        '<!--[--><span>Guide</span><!--]--></a><div class="VPFlyout VPNavBarMenuGroup"><button '
        'type="button" class="button" aria-haspopup="true" aria-expanded="false"><span '
        f'class="text"><!----><span>v{VERSION}</span><span class="vpi-chevron-down text-icon">'
        '</span></span></button><div class="menu"><div class="VPMenu"><div class="items"><!--[-->'
        '<div class="VPMenuLink"><a class="VPLink link" href="https://v2-0.retryable.example">'
        '<!--[--><span>v2.0 documentation</span><!--]--></a></div><div class="VPMenuLink"><a '
        'class="VPLink link" href="/changelog"><!--[--><span>Release notes</span><!--]--></a>'
        "</div><!--]--></div></div></div></div><!--]--></nav></div></div></div></div></div>"
        '<div class="divider"><div class="divider-line"></div></div></div><!----></header>'
        '<div class="VPLocalNav has-sidebar empty"><div class="container"><button class="menu" '
        'aria-expanded="false" aria-controls="VPSidebarNav"><span class="vpi-align-left '
        'menu-icon"></span><span class="menu-text">Menu</span></button><div class="VPLocalNav'
        'OutlineDropdown" style="--vp-vh:0px;"><button>Return to top</button><!----></div></div>'
        '</div><aside class="VPSidebar"><div class="curtain"></div><nav class="nav" '
        'id="VPSidebarNav" aria-labelledby="sidebar-aria-label" tabindex="-1"><span '
        'class="visually-hidden" id="sidebar-aria-label"> Sidebar Navigation </span>'
        "<!--[--><!--]-->"
        '<!--[--><div class="no-transition group"><section class="VPSidebarItem level-0 '
        'collapsible has-active"><div class="item" role="button" tabindex="0"><div '
        'class="indicator"></div><h2 class="text">Retryable handbook</h2><div class="caret" '
        'role="button" aria-label="toggle section" tabindex="0"><span class="vpi-chevron-right '
        f'caret-icon"></span></div></div><div class="items">{items}</div></section></div><!--]-->'
        '<!--[--><!--]--></nav></aside><div class="VPContent has-sidebar" id="VPContent"><div '
        'class="VPDoc has-sidebar has-aside"><!--[--><!--]--><div class="container"><div '
        'class="aside"><div class="aside-curtain"></div><div class="aside-container"><div '
        'class="aside-content"><div class="VPDocAside"><!--[--><!--]--><!--[--><!--]--><nav '
        'aria-labelledby="doc-outline-aria-label" class="VPDocAsideOutline has-outline"><div '
        'class="content"><div class="outline-marker"></div><div aria-level="2" '
        'class="outline-title" id="doc-outline-aria-label" role="heading">On this page</div><ul '
        f'class="VPDocOutlineItem root">{outline}</ul></div></nav><!--[--><!--]--><div '
        'class="spacer"></div><!--[--><!--]--><!----><!--[--><!--]--><!--[--><!--]--></div></div>'
        '</div></div><div class="content"><div class="content-container"><!--[--><!--]--><main '
        f'class="main"><div style="position:relative;" class="vp-doc _guide_{spec.slug}"><div>'
        f"{body}</div></div></main>"
        '<footer class="VPDocFooter"><!--[--><!--]--><div class="edit-info"><div '
        'class="edit-link"><a class="VPLink link vp-external-link-icon no-icon edit-link-button" '
        f'href="https://github.com/example/retryable/edit/main/docs/guide/{spec.slug}.md" '
        'target="_blank" rel="noreferrer"><!--[--><span class="vpi-square-pen edit-link-icon">'
        '</span> Edit this page on GitHub<!--]--></a></div><div class="last-updated"><p '
        'class="VPLastUpdated">Last updated: <time datetime="2026-11-28T09:12:44.000Z">'
        '11/28/26, 9:12 AM</time></p></div></div><nav class="prev-next" aria-labelledby="doc-'
        'footer-aria-label"><span class="visually-hidden" id="doc-footer-aria-label">Pager</span>'
        f"{pager}</nav></footer><!--[--><!--]--></div></div></div><!--[--><!--]--></div></div>"
        '<footer class="VPFooter has-sidebar"><div class="container"><p class="message">Released '
        'under the MIT License.</p><p class="copyright">Copyright \u00a9 2026 Example Corp</p>'
        f"</div></footer><!--[--><!--]--></div></div>\n{cookieconsent()}\n</body>\n</html>\n"
    )


VITEPRESS_BOILERPLATE = [
    "Skip to content",
    "Main Navigation",
    "v2.0 documentation",
    "Release notes",
    "Return to top",
    "Retryable handbook",
    "On this page",
    "Edit this page on GitHub",
    "Last updated",
    "Previous page",
    "Next page",
    "Released under the MIT License",
    "Copyright \u00a9 2026 Example Corp",
    "Changelog",
    "Contributing guide",
    "uses cookies",
]


def docusaurus():
    return build("docusaurus", DocusaurusMarkup(), docusaurus_layout, DOCUSAURUS_BOILERPLATE)


def vitepress():
    return build("vitepress", VitePressMarkup(), vitepress_layout, VITEPRESS_BOILERPLATE)
