"""The Sphinx sub-site: markup of the "classic"/"alabaster" HTML builder output."""

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
from sample_site.text import NOUNS, VERBS, Writer, highlight, slugify

ROOT = "/sphinx/"
DOC_TITLE = f"{PROJECT} 1.0 documentation"
TOP_LEVEL = ("installation", "tutorial", "howto", "api", "faq", "glossary", "changelog", "license")

# Special links: which page carries which (the tests and SPECIAL_LINKS rely on these).
EXTRAS: dict[str, list[Extra]] = {
    "/sphinx/": [Extra("/sphinx/_downloads/manual.pdf", "manual.pdf", "download")],
    "/sphinx/installation.html": [
        Extra("/sphinx/_downloads/manual.pdf", "manual.pdf", "download"),
        Extra("/sphinx/_images/diagram.png", "Architecture overview", "image"),
    ],
    "/sphinx/tutorial/part-2.html": [
        Extra("/sphinx/_images/diagram.png", "The request flow", "image"),
    ],
    "/sphinx/tutorial/part-7.html": [Extra("/sphinx/missing-page.html", "the migration notes")],
    "/sphinx/howto/recipe-5.html": [Extra("/sphinx/elsewhere.html", "the hosted copy")],
    "/sphinx/api/module-12.html": [
        Extra("/sphinx/broken/server-error.html", "the generated API report")
    ],
    "/sphinx/faq.html": [
        Extra("/sphinx/missing-page.html", "the old upgrade guide"),
        Extra("/sphinx/old-tutorial.html", "the old tutorial"),
        Extra("/sphinx/elsewhere.html", "the mirror of this documentation"),
        Extra("/mkdocs/", "the user guide", root_relative=True),
        Extra("/docbook/", "the reference manual", root_relative=True),
    ],
    "/sphinx/changelog.html": [
        Extra("/sphinx/old-tutorial.html", "the tutorial of version 0.9"),
        Extra("/sphinx/missing-page.html", "the 0.x release notes"),
        Extra("/sphinx/broken/server-error.html", "the build status page"),
    ],
    "/sphinx/license.html": [Extra("/sphinx/", "the documentation home", root_relative=True)],
}


def layout() -> list[Doc]:
    """All Sphinx pages (120 linked, 3 orphans) with their outline and navigation."""
    root = Doc("sphinx", ROOT, DOC_TITLE, href_path=ROOT + "index.html", is_index=True)
    installation = _doc("installation.html", "Installation", "installation")
    tutorial = _index("tutorial", "Tutorial")
    parts = [
        _doc(f"tutorial/part-{i}.html", f"Part {i}: {_title(f'tutorial-{i}')}", "tutorial")
        for i in range(1, 21)
    ]
    howto = _index("howto", "How-to guides")
    recipes = [_doc(f"howto/recipe-{i}.html", _how_to(f"howto-{i}"), "howto") for i in range(1, 31)]
    api = _index("api", "API reference")
    names = random.Random("sphinx-api").sample(NOUNS, 60)
    modules = []
    for i, name in enumerate(names, 1):
        module = _doc(f"api/module-{i}.html", f"sampleproj.{name} — {name} helpers", "api")
        writer = Writer(f"{module.path}:functions")
        functions = sorted(
            {f"{writer.rng.choice(VERBS)[0]}_{name}"}
            | {writer.function_name() for _ in range(writer.rng.randint(1, 2))}
        )
        module.data["module"] = f"sampleproj.{name}"
        module.data["functions"] = functions
        modules.append(module)
    faq = _doc("faq.html", "Frequently asked questions", "faq")
    glossary = _doc("glossary.html", "Glossary", "glossary")
    changelog = _doc("changelog.html", "Changelog", "changelog")
    license_ = _doc("license.html", "License", "license")
    genindex = _doc("genindex.html", "Index", "genindex")
    genindex.is_index = True
    orphans = [
        _doc(f"orphans/orphan-{i}.html", f"Unlisted note {i}: {_title(f'orphan-{i}')}", "orphans")
        for i in range(1, 4)
    ]
    for orphan in orphans:
        orphan.kind = "orphan"
        orphan.up = root

    for section, children in ((tutorial, parts), (howto, recipes), (api, modules)):
        section.up = root
        section.children = children
        for child in children:
            child.up = section
    for doc in (installation, faq, glossary, changelog, license_, genindex):
        doc.up = root
    root.children = [installation, tutorial, howto, api, faq, glossary, changelog, license_]
    chain([root, installation, tutorial, *parts, howto, *recipes, api, *modules, faq])
    chain([faq, glossary, changelog, license_])

    docs = [root, *root.children[:2], *parts, howto, *recipes, api, *modules]
    docs += [faq, glossary, changelog, license_, genindex, *orphans]
    for doc in docs:
        doc.extras = EXTRAS.get(doc.path, [])
        if doc is genindex or doc is glossary:
            doc.headings = [Heading(1, doc.title, slugify(doc.title))]
        elif doc is faq:
            writer = doc.writer("outline")
            questions = [writer.question() for _ in range(writer.rng.randint(5, 7))]
            doc.headings = [Heading(1, doc.title, "frequently-asked-questions")] + [
                Heading(2, q, f"{slugify(q)}-{n}") for n, q in enumerate(questions)
            ]
        elif doc is changelog:
            doc.headings = [Heading(1, doc.title, "changelog")] + [
                Heading(2, f"Version 1.{minor}.0", f"version-1-{minor}-0")
                for minor in range(6, 0, -1)
            ]
        else:
            doc.headings = outline(doc, sections=(1, 2) if doc.is_index else (2, 3))
    return docs


def _doc(path: str, title: str, section: str) -> Doc:
    return Doc("sphinx", ROOT + path, title, section=section)


def _index(section: str, title: str) -> Doc:
    path = f"{ROOT}{section}/"
    return Doc("sphinx", path, title, section, href_path=path + "index.html", is_index=True)


def _title(seed: str) -> str:
    return Writer(seed).heading()


def _how_to(seed: str) -> str:
    writer = Writer(seed)
    base, _, _ = writer.rng.choice(VERBS)
    return f"How to {base} the {writer.noun_phrase()[0].split(' ', 1)[1]}"


class SphinxStyle:
    """docutils/Sphinx HTML for the generic body parts."""

    def __init__(self, doc: Doc):
        self.doc = doc

    def literal(self, name: str) -> str:
        """Inline code."""
        return f'<code class="docutils literal notranslate"><span class="pre">{name}</span></code>'

    def anchor(self, link: Link) -> str:
        """An in-text reference."""
        href = html.escape(link.href)
        text = html.escape(link.text)
        if link.style == "download":
            return (
                f'<a class="reference download internal" download="" href="{href}">'
                f"{self.literal(text)}</a>"
            )
        if link.kind == "internal" and link.target is not None:
            if link.fragment:
                heading = next(h for h in link.target.headings if h.anchor == link.fragment)
                text = f'<span class="std std-ref">{html.escape(heading.title)}</span>'
            else:
                text = f'<span class="doc">{text}</span>'
            return f'<a class="reference internal" href="{href}">{text}</a>'
        return f'<a class="reference external" href="{href}">{text}</a>'

    def open_section(self, heading: Heading) -> str:
        """A section element with its heading and permalink."""
        level, anchor = heading.level, heading.anchor
        return (
            f'<section id="{anchor}">\n<h{level}>{html.escape(heading.title)}<a class="headerlink"'
            f' href="#{anchor}" title="Link to this heading">¶</a></h{level}>'
        )

    def close_section(self, level: int) -> str:
        """End of a section."""
        return "</section>"

    def paragraph(self, text: str) -> str:
        """A paragraph."""
        return f"<p>{text}</p>"

    def code(self, language: str, source: str) -> str:
        """A literal block highlighted by Pygments."""
        return (
            f'<div class="highlight-{language} notranslate"><div class="highlight"><pre><span>'
            f"</span>{highlight(language, source)}</pre></div>\n</div>"
        )

    def table(self, header: list[str], rows: list[list[str]]) -> str:
        """A docutils table."""
        head = "".join(f'<th class="head"><p>{cell}</p></th>' for cell in header)
        body = []
        for n, row in enumerate(rows):
            cells = [self.literal(row[0]), *(html.escape(cell) for cell in row[1:])]
            tds = "".join(f"<td><p>{cell}</p></td>" for cell in cells)
            body.append(f'<tr class="row-{"odd" if n % 2 else "even"}">{tds}</tr>')
        return (
            '<table class="docutils align-default">\n<thead>\n'
            f'<tr class="row-odd">{head}</tr>\n</thead>\n<tbody>\n'
            + "\n".join(body)
            + "\n</tbody>\n</table>"
        )

    def bullet_list(self, items: list[str]) -> str:
        """A bullet list."""
        return '<ul class="simple">\n' + "".join(f"<li><p>{i}</p></li>\n" for i in items) + "</ul>"

    def note(self, text: str) -> str:
        """A note admonition."""
        return (
            '<div class="admonition note">\n<p class="admonition-title">Note</p>\n'
            f"<p>{text}</p>\n</div>"
        )


def render(doc: Doc, ctx: Context) -> str:
    """The complete HTML of a Sphinx page."""
    style = SphinxStyle(doc)
    links = pick_links(doc, ctx)
    if doc.section == "genindex":
        body = _genindex(doc, ctx)
    else:
        after_intro = "".join(_figure(doc, e) for e in doc.extras if e.style == "image")
        if doc.data.get("functions"):
            after_intro += _api_functions(doc)
        if doc.section == "glossary":
            after_intro += _glossary(doc)
        if doc.is_index:
            after_intro += _toctree(doc)
        words = (300, 500) if doc.section in ("glossary", "genindex") else (300, 760)
        body = write_body(doc, style, links, after_intro, words)
    r = lambda path: rel(doc.path, path)  # noqa: E731
    description = html.escape(doc.writer("description").sentence())
    head_links = [f'<link rel="index" title="Index" href="{r("/sphinx/genindex.html")}" />']
    if doc.next:
        head_links.append(
            f'<link rel="next" title="{html.escape(doc.next.title)}" '
            f'href="{r(doc.next.href_path)}" />'
        )
    if doc.prev:
        head_links.append(
            f'<link rel="prev" title="{html.escape(doc.prev.title)}" '
            f'href="{r(doc.prev.href_path)}" />'
        )
    title = html.escape(doc.title)
    related = _related(doc)
    return f"""<!DOCTYPE html>

<html lang="en" data-content_root="{r(ROOT)}">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <meta name="description" content="{description}" />
    <title>{title} &#8212; {DOC_TITLE}</title>
    <link rel="stylesheet" type="text/css" href="{r("/sphinx/_static/pygments.css")}?v=4f649999" />
    <link rel="stylesheet" type="text/css" href="{r("/sphinx/_static/classic.css")}?v=514cf933" />
    <link rel="canonical" href="{ctx.absolute(doc.path)}" />
    {chr(10).join(head_links)}
  </head><body>
{related}
  <div class="document">
    <div class="documentwrapper">
      <div class="bodywrapper">
        <div class="body" role="main">

{body}

            <div class="clearer"></div>
          </div>
        </div>
      </div>
{_sidebar(doc, ctx)}
      <div class="clearer"></div>
    </div>
{related}
    <div class="footer" role="contentinfo">
    &#169; Copyright 2024, {PROJECT} Authors.
      Created using <a href="https://example.com/sphinx-doc/">Sphinx</a> 7.2.6.
    </div>
  </body>
</html>
"""


def _related(doc: Doc) -> str:
    r = lambda path: rel(doc.path, path)  # noqa: E731
    items = [
        '<li class="right" style="margin-right: 10px">\n          '
        f'<a href="{r("/sphinx/genindex.html")}" title="General Index" accesskey="I">index</a></li>'
    ]
    if doc.next:
        items.append(
            f'<li class="right" >\n          <a href="{r(doc.next.href_path)}" title='
            f'"{html.escape(doc.next.title)}" accesskey="N">next</a> |</li>'
        )
    if doc.prev:
        items.append(
            f'<li class="right" >\n          <a href="{r(doc.prev.href_path)}" title='
            f'"{html.escape(doc.prev.title)}" accesskey="P">previous</a> |</li>'
        )
    items.append(
        f'<li class="nav-item nav-item-0"><a href="{r(ROOT + "index.html")}">'
        f"{DOC_TITLE}</a> &#187;</li>"
    )
    if doc.up is not None and doc.up.path != ROOT:
        items.append(
            f'<li class="nav-item nav-item-1"><a href="{r(doc.up.href_path)}" '
            f'accesskey="U">{html.escape(doc.up.title)}</a> &#187;</li>'
        )
    if doc.path != ROOT:
        items.append(
            f'<li class="nav-item nav-item-this"><a href="">{html.escape(doc.title)}</a></li>'
        )
    lis = "\n        ".join(items)
    return f"""    <div class="related" role="navigation" aria-label="Related">
      <h3>Navigation</h3>
      <ul>
        {lis}
      </ul>
    </div>"""


def _sidebar(doc: Doc, ctx: Context) -> str:
    r = lambda path: rel(doc.path, path)  # noqa: E731
    current_top = doc
    while current_top.up is not None and current_top.up.path != ROOT:
        current_top = current_top.up
    items = []
    for entry in ctx.docs[ROOT].children:
        is_current = entry is current_top
        sub = ""
        if is_current and entry.children:
            index = entry.children.index(doc) if doc in entry.children else 0
            window = entry.children[max(0, index - 2) : index + 3]
            sub = (
                '<ul class="current">\n'
                + "".join(
                    f'<li class="toctree-l2{" current" if child is doc else ""}">'
                    f"{_toc_link(doc, child)}</li>\n"
                    for child in window
                )
                + "</ul>\n"
            )
        css = "toctree-l1 current" if is_current else "toctree-l1"
        items.append(f'<li class="{css}">{_toc_link(doc, entry)}{sub}</li>')
    toc = "\n".join(items)
    return f"""      <div class="sphinxsidebar" role="navigation" aria-label="Main">
        <div class="sphinxsidebarwrapper">
  <div>
    <h3><a href="{r(ROOT + "index.html")}">Table of Contents</a></h3>
    <ul class="current">
{toc}
    </ul>
  </div>
<div id="searchbox" style="display: none" role="search">
  <h3 id="searchlabel">Quick search</h3>
    <div class="searchformwrapper">
    <form class="search" action="{r("/sphinx/search.html")}" method="get">
      <input type="text" name="q" aria-labelledby="searchlabel" autocomplete="off" />
      <input type="submit" value="Go" />
    </form>
    </div>
</div>
<script>document.getElementById('searchbox').style.display = "block"</script>
        </div>
      </div>"""


def _toc_link(doc: Doc, entry: Doc) -> str:
    if entry is doc:
        return f'<a class="current reference internal" href="#">{html.escape(entry.title)}</a>'
    href = rel(doc.path, entry.href_path)
    return f'<a class="reference internal" href="{href}">{html.escape(entry.title)}</a>'


def _toctree(doc: Doc) -> str:
    items = "".join(
        f'<li class="toctree-l1"><a class="reference internal" '
        f'href="{rel(doc.path, child.href_path)}">{html.escape(child.title)}</a></li>\n'
        for child in doc.children
    )
    extra = ""
    if doc.path == ROOT:
        extra = (
            '<section id="indices-and-tables">\n<h2>Indices and tables<a class="headerlink" '
            'href="#indices-and-tables" title="Link to this heading">¶</a></h2>\n'
            '<ul class="simple">\n<li><p><a class="reference internal" href="genindex.html">'
            '<span class="std std-ref">Index</span></a></p></li>\n'
            '<li><p><a class="reference internal" href="glossary.html">'
            '<span class="doc">Glossary</span></a></p></li>\n</ul>\n</section>\n'
        )
    return (
        '<div class="toctree-wrapper compound">\n'
        f'<p class="caption" role="heading"><span class="caption-text">Contents</span></p>\n'
        f"<ul>\n{items}</ul>\n</div>\n{extra}"
    )


def _figure(doc: Doc, extra: Extra) -> str:
    src = rel(doc.path, extra.target)
    caption = html.escape(extra.text)
    return (
        f'<figure class="align-default" id="id1">\n<a class="reference internal image-reference" '
        f'href="{src}"><img alt="{caption}" src="{src}" style="width: 400px;" /></a>\n'
        f'<figcaption>\n<p><span class="caption-text">{caption}</span></p>\n</figcaption>\n'
        "</figure>"
    )


def _api_functions(doc: Doc) -> str:
    module = str(doc.data["module"])
    functions = doc.data["functions"]
    assert isinstance(functions, list)
    writer = doc.writer("api")
    style = SphinxStyle(doc)
    out = [f'<span class="target" id="module-{module}"></span>\n']
    for name in functions:
        params = sorted({writer.identifier() for _ in range(writer.rng.randint(1, 3))})
        signature = ", ".join(
            f'<em class="sig-param"><span class="n"><span class="pre">{p}</span></span></em>'
            for p in params
        )
        text = writer.paragraph(style.literal, sentences=(2, 4))[0]
        out.append(
            f'<dl class="py function">\n<dt class="sig sig-object py" id="{module}.{name}">\n'
            f'<span class="sig-prename descclassname"><span class="pre">{module}.</span></span>'
            f'<span class="sig-name descname"><span class="pre">{name}</span></span>'
            f'<span class="sig-paren">(</span>{signature}<span class="sig-paren">)</span>'
            f'<a class="headerlink" href="#{module}.{name}" title="Link to this definition">¶</a>'
            f"</dt>\n<dd><p>{text}</p>\n</dd></dl>\n"
        )
    return "".join(out)


def _glossary(doc: Doc) -> str:
    writer = doc.writer("glossary")
    style = SphinxStyle(doc)
    terms = sorted(writer.rng.sample(NOUNS, 22))
    entries = "".join(
        f'<dt id="term-{term}">{term}<a class="headerlink" href="#term-{term}" '
        f'title="Link to this term">¶</a></dt><dd><p>'
        f"{writer.paragraph(style.literal, sentences=(1, 2))[0]}</p>\n</dd>\n"
        for term in terms
    )
    return f'<dl class="simple glossary">\n{entries}</dl>\n'


def _genindex(doc: Doc, ctx: Context) -> str:
    entries: list[tuple[str, str, str]] = []
    for module in ctx.normal_docs("sphinx"):
        functions = module.data.get("functions")
        if not isinstance(functions, list):
            continue
        name = str(module.data["module"])
        href = rel(doc.path, module.href_path)
        for function in functions:
            entries.append((function, f"{href}#{name}.{function}", f"in module {name}"))
        entries.append((name, f"{href}#module-{name}", "module"))
    entries.sort()
    letters = sorted({name[0].upper() for name, _, _ in entries})
    jump = " | ".join(f'<a href="#{letter}"><strong>{letter}</strong></a>' for letter in letters)
    sections = []
    for letter in letters:
        rows = "".join(
            f'<li><a href="{href}">{name}()</a> ({where})</li>\n'
            if where != "module"
            else f'<li><a href="{href}">{name}</a> (module)</li>\n'
            for name, href, where in entries
            if name[0].upper() == letter
        )
        sections.append(
            f'<h2 id="{letter}">{letter}</h2>\n<table style="width: 100%" class="indextable '
            f'genindextable"><tr>\n  <td style="width: 33%; vertical-align: top;"><ul>\n{rows}'
            "</ul></td>\n</tr></table>"
        )
    return (
        f'<h1 id="index">Index</h1>\n\n<div class="genindex-jumpbox">\n {jump}\n</div>\n'
        + "\n".join(sections)
    )
