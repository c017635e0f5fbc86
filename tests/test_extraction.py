"""Tests for docscrawl.extraction: one HTML documentation page in, structured data out."""

from __future__ import annotations

import copy
import hashlib

import pytest
from lxml import etree
from lxml import html as lxml_html

from docscrawl.extraction import ExtractedPage, Heading, extract_html, extract_page

# A Sphinx page as the alabaster theme renders it.
SPHINX_URL = "https://docs.example.org/en/latest/usage/install.html"
SPHINX_PAGE = """<!DOCTYPE html>
<html lang="en" data-content_root="../">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <meta name="description" content="How to install  Widget on every platform." />
    <title>Installation &#8212; Widget 2.1 documentation</title>
    <link rel="stylesheet" type="text/css" href="../_static/alabaster.css?v=12dfc556" />
    <link rel="canonical" href="https://docs.example.org/en/stable/usage/install.html" />
    <link rel="index" title="Index" href="../genindex.html" />
    <link rel="next" title="Configuration" href="config.html" />
    <script src="../_static/documentation_options.js?v=5929fcd5"></script>
  </head>
  <body>
    <div class="related" role="navigation" aria-label="Related">
      <h3>Navigation</h3>
      <ul>
        <li class="right"><a href="../genindex.html" title="General Index">index</a></li>
        <li class="right"><a href="config.html" title="Configuration">next</a> |</li>
        <li class="nav-item nav-item-0"><a href="../index.html">Widget 2.1 documentation</a></li>
      </ul>
    </div>
    <div class="document">
      <div class="documentwrapper">
        <div class="bodywrapper">
          <div class="body" role="main">
  <section id="installation">
<span id="install-label"></span><h1>Installation<a class="headerlink" href="#installation"
 title="Link to this heading">¶</a></h1>
<p>Widget runs on <em>CPython</em> 3.9 and later. Install it with <strong>pip</strong>,
the <a class="reference external" href="https://pip.pypa.io/en/stable/">Python package
installer</a>:</p>
<div class="highlight-console notranslate"><div class="highlight"><pre><span></span><span
 class="gp">$ </span>pip<span class="w"> </span>install<span class="w"> </span>widget
</pre></div>
</div>
<section id="from-source">
<h2>From source<a class="headerlink" href="#from-source" title="Link to this heading">¶</a></h2>
<p>Clone the repository and call <code class="docutils literal notranslate"><span
 class="pre">build_widget()</span></code>:</p>
<div class="highlight-python notranslate"><div class="highlight"><pre><span></span><span
 class="kn">from</span> <span class="nn">widget</span> <span class="kn">import</span> <span
 class="n">build_widget</span>

<span class="k">def</span> <span class="nf">main</span><span class="p">():</span>
    <span class="n">build_widget</span><span class="p">(</span><span class="n">fast</span><span
 class="o">=</span><span class="kc">True</span><span class="p">)</span>
</pre></div>
</div>
</section>
<section id="supported-platforms">
<h2>Supported platforms<a class="headerlink" href="#supported-platforms"
 title="Link to this heading">¶</a></h2>
<table class="docutils align-default">
<thead>
<tr class="row-odd"><th class="head"><p>Platform</p></th>
<th class="head"><p>Status</p></th>
</tr>
</thead>
<tbody>
<tr class="row-even"><td><p>Linux</p></td>
<td><p>Supported</p></td>
</tr>
<tr class="row-odd"><td><p>Windows | WSL</p></td>
<td><p>Experimental</p></td>
</tr>
</tbody>
</table>
<p>See <a class="reference internal" href="config.html#options"><span class="std std-ref">the
options</span></a> next.</p>
</section>
</section>
          </div>
        </div>
      </div>
      <div class="sphinxsidebar" role="navigation" aria-label="Main">
        <div class="sphinxsidebarwrapper">
<h1 class="logo"><a href="../index.html">Widget</a></h1>
<h3>Sidebar navigation</h3>
<ul class="current">
<li class="toctree-l1 current"><a class="current reference internal" href="#">Installation</a></li>
<li class="toctree-l1"><a class="reference internal" href="config.html">Configuration</a></li>
</ul>
<div id="searchbox" style="display: none" role="search">
  <h3 id="searchlabel">Quick search</h3>
    <form class="search" action="../search.html" method="get">
      <input type="text" name="q" aria-labelledby="searchlabel" />
      <input type="submit" value="Go" />
    </form>
</div>
<script>document.getElementById('searchbox').style.display = "block"</script>
        </div>
      </div>
      <div class="clearer"></div>
    </div>
    <div class="footer">
      &#169;2024, Widget Authors. Powered by <a href="https://www.sphinx-doc.org/">Sphinx</a>
      | <a href="../_sources/usage/install.rst.txt" rel="nofollow">Page source</a>
    </div>
  </body>
</html>
"""

# An MkDocs Material page.
MKDOCS_URL = "https://tool.example.com/guide/configuration/"
MKDOCS_PAGE = """<!doctype html>
<html lang="de" class="no-js">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width,initial-scale=1">
    <meta property="og:description" content="Configure the tool with a YAML file.">
    <link rel="canonical" href="/guide/configuration/">
    <link rel="prev" href="../install/">
    <title>Configuration - Tool</title>
    <link rel="stylesheet" href="../../assets/stylesheets/main.8608ea7d.min.css">
  </head>
  <body dir="ltr" data-md-color-scheme="default">
    <input class="md-toggle" data-md-toggle="drawer" type="checkbox" id="__drawer">
    <a href="#configuration" class="md-skip">Skip to content</a>
    <header class="md-header md-header--shadow" data-md-component="header">
      <nav class="md-header__inner md-grid" aria-label="Header">
        <a href="../.." title="Tool" class="md-header__button md-logo">Tool home</a>
        <div class="md-header__title"><span class="md-ellipsis">Header title text</span></div>
      </nav>
    </header>
    <div class="md-container" data-md-component="container">
      <main class="md-main" data-md-component="main">
        <div class="md-main__inner md-grid">
          <div class="md-sidebar md-sidebar--primary" data-md-component="sidebar">
            <div class="md-sidebar__scrollwrap">
              <nav class="md-nav md-nav--primary" aria-label="Navigation">
                <ul class="md-nav__list">
                  <li class="md-nav__item"><a href="../.." class="md-nav__link">Home</a></li>
                  <li class="md-nav__item"><a href="../install/" class="md-nav__link">Install
                    guide</a></li>
                  <li class="md-nav__item"><a href="mailto:team@example.com">Mail us</a></li>
                </ul>
              </nav>
            </div>
          </div>
          <div class="md-sidebar md-sidebar--secondary" data-md-component="sidebar">
            <nav class="md-nav md-nav--secondary" aria-label="Table of contents">
              <label class="md-nav__title" for="__toc">Table of contents</label>
              <ul class="md-nav__list"><li class="md-nav__item">
                <a href="#file-format" class="md-nav__link">Secondary toc entry</a></li></ul>
            </nav>
          </div>
          <div class="md-content" data-md-component="content">
            <article class="md-content__inner md-typeset">
              <a href="https://github.com/example/tool/edit/main/docs/guide/configuration.md"
                 title="Edit this page" class="md-content__button md-icon">Edit this page</a>
              <h1 id="configuration">Configuration</h1>
              <p>The tool reads <code>tool.yml</code> from the project root.
                 Values marked <em>required</em> must be set.</p>
              <h2 id="file-format">File format<a class="headerlink" href="#file-format"
                 title="Permanent link">&para;</a></h2>
              <ol>
                <li>Create the file.</li>
                <li>Add a <strong>name</strong>:
                  <ul><li>letters only</li><li>at most 40 characters</li></ul>
                </li>
              </ol>
              <pre><code class="language-yaml">name: demo
plugins:
  - search
</code></pre>
              <div class="admonition note">
                <p class="admonition-title">Note</p>
                <p>Relative paths are resolved from the <a href="../paths/#rules">rules</a>.</p>
              </div>
              <h3 id="environment">Environment <small>(optional)</small></h3>
              <p>Set <code>TOOL_HOME</code> to override the location.</p>
              <aside class="md-source-file">
                <span class="md-source-file__fact">Last update: 2024-05-01</span>
              </aside>
            </article>
          </div>
        </div>
      </main>
      <footer class="md-footer">
        <nav class="md-footer__inner md-grid" aria-label="Footer">
          <a href="../install/" class="md-footer__link md-footer__link--prev">Previous: Install</a>
        </nav>
        <div class="md-copyright">Copyright footer notice</div>
      </footer>
    </div>
    <script src="../../assets/javascripts/bundle.js"></script>
  </body>
</html>
"""

# A page of a chunked DocBook XSL manual (XHTML served as HTML).
DOCBOOK_URL = "https://manual.example.net/book/ch02s03.html"
DOCBOOK_PAGE = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
 "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<title>2.3. Storage backends</title>
<link rel="stylesheet" type="text/css" href="docbook.css" />
<meta name="generator" content="DocBook XSL Stylesheets Vsnapshot" />
<link rel="home" href="index.html" title="The Example Manual" />
<link rel="up" href="ch02.html" title="Chapter 2. Configuration" />
</head><body>
<div class="navheader"><table width="100%" summary="Navigation header">
<tr><th colspan="3" align="center">2.3. Storage backends</th></tr>
<tr><td width="20%" align="left"><a accesskey="p" href="ch02s02.html">Prev</a> </td>
<th width="60%" align="center">Chapter 2. Configuration</th>
<td width="20%" align="right"> <a accesskey="n" href="ch03.html">Next</a></td></tr>
</table><hr /></div>
<div class="section" lang="en-GB"><div class="titlepage"><div><div>
<h2 class="title" style="clear: both"><a id="storage"></a>2.3. Storage backends</h2>
</div></div></div>
<p>The server stores data through a <span class="emphasis"><em>backend</em></span>.
Select one with the <code class="option">--backend</code> option; see
<a class="xref" href="ch04.html#tuning" title="4.1. Tuning">Section 4.1, "Tuning"</a>.</p>
<pre class="programlisting">server --backend=disk \\
       --path=/var/lib/example</pre>
<div class="table"><a id="backends"></a><p class="title"><b>Table 2.1. Backends</b></p>
<div class="table-contents"><table class="table" summary="Backends" border="1">
<colgroup><col /><col /></colgroup>
<thead><tr><th>Name</th><th>Persistent</th></tr></thead>
<tbody><tr><td>memory</td><td>no</td></tr><tr><td>disk</td><td>yes</td></tr></tbody>
</table></div></div><br class="table-break" />
<div class="section"><div class="titlepage"><div><div>
<h3 class="title"><a name="disk-backend"></a>2.3.1. The disk backend</h3>
</div></div></div>
<p>Files are written to <code class="filename">/var/lib/example</code>.</p>
</div>
</div>
<div class="navfooter"><hr /><table width="100%" summary="Navigation footer">
<tr><td width="40%" align="left"><a accesskey="p" href="ch02s02.html">Prev</a> </td>
<td width="20%" align="center"><a accesskey="u" href="ch02.html">Up</a></td>
<td width="40%" align="right"> <a accesskey="n" href="ch03.html">Next</a></td></tr>
<tr><td width="40%" align="left" valign="top">2.2. Logging </td>
<td width="20%" align="center"><a accesskey="h" href="index.html">Home</a></td>
<td width="40%" align="right" valign="top"> Chapter 3. Operations</td></tr>
</table></div>
</body></html>
"""


@pytest.fixture(scope="module")
def sphinx() -> ExtractedPage:
    return extract_html(SPHINX_PAGE, SPHINX_URL)


@pytest.fixture(scope="module")
def mkdocs() -> ExtractedPage:
    return extract_html(MKDOCS_PAGE.encode("utf-8"), MKDOCS_URL)


@pytest.fixture(scope="module")
def docbook() -> ExtractedPage:
    return extract_html(DOCBOOK_PAGE.encode("utf-8"), DOCBOOK_URL)


def words(text: str) -> int:
    return sum(1 for word in text.split() if any(ch.isalnum() for ch in word))


def sha256_of_normalised(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


# -- Sphinx ------------------------------------------------------------------------------------


def test_sphinx_metadata(sphinx: ExtractedPage) -> None:
    assert sphinx.title == "Installation \u2014 Widget 2.1 documentation"
    assert sphinx.description == "How to install Widget on every platform."
    assert sphinx.language == "en"
    assert sphinx.canonical_url == "https://docs.example.org/en/stable/usage/install.html"


def test_sphinx_headings_have_section_anchors(sphinx: ExtractedPage) -> None:
    assert sphinx.headings == [
        Heading(1, "Installation", "installation"),
        Heading(2, "From source", "from-source"),
        Heading(2, "Supported platforms", "supported-platforms"),
    ]


def test_sphinx_boilerplate_is_dropped(sphinx: ExtractedPage) -> None:
    for output in (sphinx.text, sphinx.markdown):
        for boilerplate in (
            "Navigation",  # div.related
            "Widget 2.1 documentation",
            "Sidebar navigation",  # div.sphinxsidebar
            "Quick search",
            "searchbox",
            "Widget Authors",  # div.footer
            "Page source",
            "\u00b6",  # headerlinks
        ):
            assert boilerplate not in output


def test_sphinx_markdown(sphinx: ExtractedPage) -> None:
    md = sphinx.markdown
    assert md.startswith("# Installation\n\nWidget runs on *CPython* 3.9 and later.")
    assert (
        "Install it with **pip**, the [Python package installer](https://pip.pypa.io/en/stable/):"
        in md
    )
    assert "```console\n$ pip install widget\n```" in md
    assert "## From source\n\nClone the repository and call `build_widget()`:" in md
    assert (
        "```python\nfrom widget import build_widget\n\n"
        "def main():\n    build_widget(fast=True)\n```"
    ) in md
    assert (
        "| Platform | Status |\n|---|---|\n"
        "| Linux | Supported |\n| Windows \\| WSL | Experimental |"
    ) in md
    assert (
        "See [the options](https://docs.example.org/en/latest/usage/config.html#options) next."
        in md
    )


def test_sphinx_text(sphinx: ExtractedPage) -> None:
    lines = sphinx.text.split("\n")
    assert lines[:3] == [
        "Installation",
        "Widget runs on CPython 3.9 and later. Install it with pip, the Python package installer:",
        "$ pip install widget",
    ]
    assert "    build_widget(fast=True)" in lines  # code keeps its lines and indentation
    assert "Platform | Status" in lines
    assert "Windows | WSL | Experimental" in lines
    assert lines[-1] == "See the options next."
    assert sphinx.word_count == words(sphinx.text) == 47
    assert sphinx.content_hash == sha256_of_normalised(sphinx.text)


def test_sphinx_links_cover_the_whole_document(sphinx: ExtractedPage) -> None:
    assert sphinx.links == [
        "https://docs.example.org/en/latest/genindex.html",  # div.related (navigation)
        "https://docs.example.org/en/latest/usage/config.html",  # also config.html#options
        "https://docs.example.org/en/latest/index.html",
        "https://docs.example.org/en/latest/usage/install.html",  # the #fragment links
        "https://pip.pypa.io/en/stable/",
        "https://www.sphinx-doc.org/",  # footer
        "https://docs.example.org/en/latest/_sources/usage/install.rst.txt",
    ]


# -- MkDocs Material ---------------------------------------------------------------------------


def test_mkdocs_metadata(mkdocs: ExtractedPage) -> None:
    assert mkdocs.title == "Configuration - Tool"
    assert mkdocs.description == "Configure the tool with a YAML file."  # og:description
    assert mkdocs.language == "de"
    assert mkdocs.canonical_url == "https://tool.example.com/guide/configuration/"  # was relative


def test_mkdocs_headings(mkdocs: ExtractedPage) -> None:
    assert mkdocs.headings == [
        Heading(1, "Configuration", "configuration"),
        Heading(2, "File format", "file-format"),
        Heading(3, "Environment (optional)", "environment"),
    ]


def test_mkdocs_boilerplate_is_dropped(mkdocs: ExtractedPage) -> None:
    for output in (mkdocs.text, mkdocs.markdown):
        for boilerplate in (
            "Skip to content",
            "Tool home",  # header.md-header
            "Header title text",
            "Install guide",  # nav.md-nav (primary)
            "Mail us",
            "Table of contents",  # nav.md-nav (secondary)
            "Secondary toc entry",
            "Edit this page",  # a.md-content__button
            "Last update",  # aside.md-source-file
            "Previous: Install",  # footer.md-footer
            "Copyright footer notice",
            "\u00b6",
        ):
            assert boilerplate not in output


def test_mkdocs_markdown(mkdocs: ExtractedPage) -> None:
    md = mkdocs.markdown
    assert md.startswith(
        "# Configuration\n\nThe tool reads `tool.yml` from the project root. "
        "Values marked *required* must be set.\n\n## File format\n\n"
    )
    assert (
        "1. Create the file.\n2. Add a **name**:\n   - letters only\n   - at most 40 characters"
    ) in md
    assert "```yaml\nname: demo\nplugins:\n  - search\n```" in md
    assert "[rules](https://tool.example.com/guide/paths/#rules)" in md
    assert md.endswith("### Environment (optional)\n\nSet `TOOL_HOME` to override the location.")


def test_mkdocs_text(mkdocs: ExtractedPage) -> None:
    assert mkdocs.text.split("\n") == [
        "Configuration",
        "The tool reads tool.yml from the project root. Values marked required must be set.",
        "File format",
        "Create the file.",
        "Add a name:",
        "letters only",
        "at most 40 characters",
        "name: demo",
        "plugins:",
        "  - search",
        "Note",
        "Relative paths are resolved from the rules.",
        "Environment (optional)",
        "Set TOOL_HOME to override the location.",
    ]
    assert mkdocs.word_count == words(mkdocs.text) == 49


def test_mkdocs_links(mkdocs: ExtractedPage) -> None:
    assert mkdocs.links == [
        "https://tool.example.com/guide/configuration/",  # skip link and headerlink: fragments
        "https://tool.example.com/",
        "https://tool.example.com/guide/install/",  # nav, then footer: de-duplicated
        "https://github.com/example/tool/edit/main/docs/guide/configuration.md",
        "https://tool.example.com/guide/paths/",
    ]  # no mailto:


# -- DocBook -----------------------------------------------------------------------------------


def test_docbook_metadata(docbook: ExtractedPage) -> None:
    assert docbook.title == "2.3. Storage backends"
    assert docbook.description is None
    assert docbook.language == "en-GB"  # no html@lang: the content's own lang
    assert docbook.canonical_url is None


def test_docbook_headings_take_the_anchor_before_the_title(docbook: ExtractedPage) -> None:
    assert docbook.headings == [
        Heading(2, "2.3. Storage backends", "storage"),  # <a id>
        Heading(3, "2.3.1. The disk backend", "disk-backend"),  # <a name>
    ]


def test_docbook_navigation_is_dropped(docbook: ExtractedPage) -> None:
    for output in (docbook.text, docbook.markdown):
        for boilerplate in ("Prev", "Chapter 2. Configuration", "2.2. Logging", "Operations"):
            assert boilerplate not in output
    assert docbook.text.split("\n")[0] == "2.3. Storage backends"


def test_docbook_markdown(docbook: ExtractedPage) -> None:
    md = docbook.markdown
    assert md.startswith(
        "## 2.3. Storage backends\n\nThe server stores data through a *backend*. Select one "
        "with the `--backend` option; see "
        '[Section 4.1, "Tuning"](https://manual.example.net/book/ch04.html#tuning).\n\n'
    )
    assert "```\nserver --backend=disk \\\n       --path=/var/lib/example\n```" in md
    assert (
        "**Table 2.1. Backends**\n\n"
        "| Name | Persistent |\n|---|---|\n| memory | no |\n| disk | yes |"
    ) in md
    assert md.endswith("### 2.3.1. The disk backend\n\nFiles are written to `/var/lib/example`.")


def test_docbook_text_and_links(docbook: ExtractedPage) -> None:
    assert "server --backend=disk \\\n       --path=/var/lib/example" in docbook.text
    assert "memory | no\ndisk | yes" in docbook.text
    assert docbook.word_count == words(docbook.text)
    assert docbook.links == [
        "https://manual.example.net/book/ch02s02.html",
        "https://manual.example.net/book/ch03.html",
        "https://manual.example.net/book/ch04.html",
        "https://manual.example.net/book/ch02.html",
        "https://manual.example.net/book/index.html",
    ]


def test_xml_declaration_in_a_str_is_fine(docbook: ExtractedPage) -> None:
    assert extract_html(DOCBOOK_PAGE, DOCBOOK_URL) == docbook


# -- extract_page on a tree parsed elsewhere ---------------------------------------------------


@pytest.mark.parametrize(
    ("page", "url"),
    [(SPHINX_PAGE, SPHINX_URL), (MKDOCS_PAGE, MKDOCS_URL), (DOCBOOK_PAGE, DOCBOOK_URL)],
)
def test_extract_page_reads_the_tree_without_changing_it(page: str, url: str) -> None:
    parsel = pytest.importorskip("parsel")
    # What Scrapy's response.selector holds for an HtmlResponse.
    root = parsel.Selector(text=page, type="html", base_url=url).root
    before = etree.tostring(root)
    assert extract_page(root, url) == extract_html(page, url)
    assert etree.tostring(root) == before
    assert extract_page(root, url) == extract_html(page, url)  # and again, the same


def test_extract_page_copes_with_xhtml_parsed_as_xml() -> None:
    parsel = pytest.importorskip("parsel")
    root = parsel.Selector(text=DOCBOOK_PAGE, type="xml").root  # namespaced XHTML elements
    assert root.tag == "{http://www.w3.org/1999/xhtml}html"
    assert extract_page(root, DOCBOOK_URL) == extract_html(DOCBOOK_PAGE, DOCBOOK_URL)


def test_extract_page_accepts_plain_lxml_trees() -> None:
    root = etree.fromstring(SPHINX_PAGE.encode(), etree.HTMLParser())
    page = extract_page(root, SPHINX_URL)
    assert page.headings == extract_html(SPHINX_PAGE, SPHINX_URL).headings
    assert page.text == extract_html(SPHINX_PAGE, SPHINX_URL).text


def test_extract_page_never_changes_a_tree_with_line_numbers_and_copy_buttons() -> None:
    html = (
        '<main><div class="highlight-python"><table class="highlighttable"><tr>'
        '<td class="linenos"><div class="linenodiv"><pre>1\n2</pre></div></td>'
        '<td class="code"><div class="highlight"><pre><span></span>a = 1\nb = 2\n</pre></div>'
        '</td></tr></table></div><pre><code class="language-js"><span class="linenos">1</span>'
        'let x;<br><span class="linenos">2</span>x = 1;<button class="md-clipboard">Copy'
        "</button></code></pre></main>"
    )
    root = lxml_html.document_fromstring(html)
    before = etree.tostring(root)
    page = extract_page(root, "https://example.org/")
    assert etree.tostring(root) == before
    assert page.markdown == "```python\na = 1\nb = 2\n```\n\n```js\nlet x;\nx = 1;\n```"
    assert page.text == "a = 1\nb = 2\nlet x;\nx = 1;"


# -- details -----------------------------------------------------------------------------------


def test_links_honour_base_href_and_skip_other_schemes() -> None:
    html = """<html><head><base href="/v2/docs/"></head><body>
      <a href="intro.html#top">a</a> <a href="../api/">b</a> <a href=" intro.html ">c</a>
      <a href="HTTPS://Other.example/x?q=1#f">d</a> <a href="//cdn.example/lib">e</a>
      <a href="javascript:void(0)">f</a> <a href="mailto:x@example.org">g</a>
      <a href="tel:+1555">h</a> <a href="data:text/plain,hi">i</a> <a href="ftp://f.example/">j</a>
      <a>no href</a> <area href="map.html"></body></html>"""
    page = extract_html(html, "https://site.example/v1/index.html")
    assert page.links == [
        "https://site.example/v2/docs/intro.html",
        "https://site.example/v2/api/",
        "https://Other.example/x?q=1",
        "https://cdn.example/lib",
        "https://site.example/v2/docs/map.html",
    ]


def test_metadata_fallbacks() -> None:
    page = extract_html(
        """<html><head>
        <meta http-equiv="Content-Language" content="fr">
        <meta property="og:description" content="From Open Graph">
        <link rel="Canonical alternate" href="../canon/">
        </head><body><h1>The <em>first</em> heading<a class="headerlink" href="#x">#</a></h1>
        <h1>Second</h1></body></html>""",
        "https://example.org/a/b/",
    )
    assert page.title == "The first heading"  # no <title>: the first h1
    assert page.language == "fr"
    assert page.description == "From Open Graph"
    assert page.canonical_url == "https://example.org/a/canon/"
    og = extract_html(
        '<head><meta property="og:locale" content="pt_BR"></head><p>x</p>', "https://e.org/"
    )
    assert og.language == "pt-BR"
    assert og.title is None and og.description is None and og.canonical_url is None


def test_inline_markdown_is_escaped_and_formatted() -> None:
    page = extract_html(
        "<main><p>2 * 3 = 6, snake_case stays, __init__ and [x] are escaped; "
        "<code>a_b*c</code>, <code>a`b</code>, <a href='x.html'><code>f()</code></a>, "
        "<a href='#'><img src='i.png' alt='Logo'></a>, <s>old</s>, line<br>break.</p>"
        "<p>1. not a list</p><p># not a heading</p></main>",
        "https://example.org/d/page.html",
    )
    assert page.markdown == (
        "2 \\* 3 = 6, snake_case stays, \\_\\_init\\_\\_ and \\[x\\] are escaped; `a_b*c`, "
        "`` a`b ``, [`f()`](https://example.org/d/x.html), "
        "[![Logo](https://example.org/d/i.png)](https://example.org/d/page.html), ~~old~~, line  \n"
        "break.\n\n1\\. not a list\n\n\\# not a heading"
    )
    assert page.text == (
        "2 * 3 = 6, snake_case stays, __init__ and [x] are escaped; a_b*c, a`b, f(), , old, line\n"
        "break.\n1. not a list\n# not a heading"
    )


def test_lists_tables_and_quotes() -> None:
    page = extract_html(
        """<article>
        <ul><li>one<ul><li>nested</li></ul></li><li><p>para</p><p>two</p></li></ul>
        <ol start="3"><li>three</li><li>four</li></ol>
        <blockquote><p>quoted</p><p>again</p></blockquote>
        <table><tr><td colspan="2">wide</td></tr><tr><td rowspan="2">r</td><td>a</td></tr>
        <tr><td>b</td></tr></table>
        </article>""",
        "https://example.org/",
    )
    assert page.markdown == (
        "- one\n  - nested\n- para\n\n  two\n\n"
        "3. three\n4. four\n\n"
        "> quoted\n>\n> again\n\n"
        "|  |  |\n|---|---|\n| wide |  |\n| r | a |\n|  | b |"
    )
    assert page.text == "one\nnested\npara\ntwo\nthree\nfour\nquoted\nagain\nwide\nr | a\nb"


@pytest.mark.parametrize(
    ("markup", "fence"),
    [
        (
            '<div class="highlight-c notranslate"><div class="highlight"><pre>x</pre></div></div>',
            "c",
        ),
        ('<div class="highlight-default"><div class="highlight"><pre>x</pre></div></div>', ""),
        ('<pre><code class="language-rust">x</code></pre>', "rust"),
        ('<pre class="lang-sql">x</pre>', "sql"),
        ('<pre class="brush: js">x</pre>', "js"),
        (
            '<pre class="sourceCode haskell"><code class="sourceCode haskell">x</code></pre>',
            "haskell",
        ),
        (
            '<div class="highlight"><pre class="chroma"><code data-lang="go">x</code></pre></div>',
            "go",
        ),
        ('<pre class="programlisting">x</pre>', ""),
        ('<div class="lang-en"><pre>x</pre></div>', ""),  # a locale wrapper, not a language
    ],
)
def test_code_block_language(markup: str, fence: str) -> None:
    page = extract_html(f"<main><p>before</p>{markup}</main>", "https://example.org/")
    assert page.markdown == f"before\n\n```{fence}\nx\n```"


def test_navigation_tocs_hidden_and_edit_links_are_dropped() -> None:
    page = extract_html(
        """<body><div id="content">
        <div class="toc"><p>Contents</p><ul><li><a href="#a">Alpha part</a></li>
        <li><a href="#b">Beta part</a></li></ul></div>
        <h2 id="a">Alpha</h2><p>Kept text.</p>
        <p hidden>hidden</p><p style="display: none">invisible</p><p aria-hidden="true">aria</p>
        <p><a href="https://github.com/o/r/edit/main/x.md">Edit on GitHub</a></p>
        <div class="toctree-wrapper"><ul><li><a href="other.html">Other page</a></li></ul></div>
        </div><div class="sidebar">outside the content</div></body>""",
        "https://example.org/",
    )
    assert page.text == "Alpha\nKept text.\nOther page"
    assert page.headings == [Heading(2, "Alpha", "a")]
    assert "https://github.com/o/r/edit/main/x.md" in page.links


def test_article_header_with_the_title_is_kept_but_page_header_is_not() -> None:
    page = extract_html(
        """<body><header><p>Site banner</p></header><article><header><h1>Post</h1></header>
        <p>Body.</p><footer>Article footer</footer></article></body>""",
        "https://example.org/",
    )
    assert page.text == "Post\nBody."
    assert page.headings == [Heading(1, "Post", None)]


def test_content_hash_follows_the_text_only() -> None:
    first = extract_html("<main><p>Same   words\n here.</p></main>", "https://a.example/")
    second = extract_html(
        "<html><body><main><div><p>Same words <b>here</b>.</p></div></main></body></html>",
        "https://b.example/other/",
    )
    third = extract_html("<main><p>Other words here.</p></main>", "https://a.example/")
    assert first.text == second.text == "Same words here."
    assert first.content_hash == second.content_hash == sha256_of_normalised("Same words here.")
    assert third.content_hash != first.content_hash
    assert extract_html(SPHINX_PAGE, SPHINX_URL).content_hash == (
        extract_html(SPHINX_PAGE.encode(), SPHINX_URL).content_hash
    )


# -- robustness --------------------------------------------------------------------------------

EMPTY_HASH = hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize(
    "markup",
    [
        "",
        b"",
        "   \n\t ",
        b"\xef\xbb\xbf",  # a BOM and nothing else
        "<!-- only a comment -->",
        "<html></html>",
        "<html><head><title>   </title></head></html>",
        "<?xml version='1.0'?>",
    ],
)
def test_empty_documents_give_empty_fields(markup: str | bytes) -> None:
    page = extract_html(markup, "https://example.org/")
    assert page == ExtractedPage(
        title=None,
        description=None,
        language=None,
        canonical_url=None,
        headings=[],
        markdown="",
        text="",
        links=[],
        word_count=0,
        content_hash=EMPTY_HASH,
    )


def test_document_without_body() -> None:
    page = extract_html("<html><head><title>Only a title</title></head></html>", "https://e.org/")
    assert (page.title, page.text, page.markdown, page.links) == ("Only a title", "", "", [])


def test_broken_markup() -> None:
    page = extract_html(
        "<div><h2>Broken <b>heading</h2><p>unclosed <i>italic <table><tr><td>cell<td>two"
        "</div></i></p><a href='/x'>link",
        "https://example.org/a/",
    )
    assert page.headings == [Heading(2, "Broken heading", None)]
    assert "unclosed italic" in page.text
    assert "cell | two" in page.text
    assert page.links == ["https://example.org/x"]


@pytest.mark.parametrize(
    ("markup", "encoding", "expected"),
    [
        ('<meta charset="iso-8859-1"><p>d\xe9j\xe0 vu</p>'.encode("latin-1"), None, "déjà vu"),
        (
            "<p>\u201cquoted\u201d \u2013 caf\xe9</p>".encode("cp1252"),
            None,
            "\u201cquoted\u201d \u2013 café",
        ),
        ("<p>caf\xe9</p>".encode("latin-1"), "latin-1", "café"),
        ("<p>caf\xe9</p>".encode("utf-16"), None, "café"),  # BOM
        ("<p>caf\xe9</p>".encode(), "no-such-encoding", "café"),
        (b"<p>bad \xff\xfe bytes \x81</p>", None, "bad \ufffd\ufffd bytes \ufffd"),
    ],
)
def test_encodings(markup: bytes, encoding: str | None, expected: str) -> None:
    assert extract_html(markup, "https://example.org/", encoding=encoding).text == expected


@pytest.mark.parametrize(
    "markup",
    [
        "<p>nul\x00byte</p>",
        "<p>lone \ud800 surrogate</p>",
        "<body>" + " \n\t" * 200_000 + "<p>two" + "\u00a0 " * 50_000 + "words</p>" + "\n" * 100_000,
        "<div>" * 3000 + "deep text" + "</div>" * 3000,
        "<p>" + "<b>" * 1500 + "deep bold" + "</b>" * 1500 + "</p>",
        "<ul><li>" * 400 + "deep item",
        "<table><tr><td>" * 200 + "deep cell",
        "<html><body><main></main><p>text outside an empty main</p></body></html>",
        "<a href='http://[::1'>bad url</a><a href='https://ok.example/'>ok</a>",
    ],
)
def test_hostile_input_never_raises(markup: str) -> None:
    page = extract_html(markup, "https://example.org/")
    assert isinstance(page, ExtractedPage)
    assert page.content_hash == sha256_of_normalised(page.text)
    assert page.word_count == words(page.text)
    assert "  " not in page.text and "\n\n" not in page.text


def test_whitespace_is_normalised() -> None:
    page = extract_html(
        "<body>" + " \n\t" * 1000 + "<p>two" + "\u00a0 " * 100 + "words</p>" + "\n" * 1000,
        "https://example.org/",
    )
    assert (page.text, page.markdown, page.word_count) == ("two words", "two words", 2)


def test_strange_arguments() -> None:
    assert extract_page(None, "https://example.org/") == ExtractedPage()  # type: ignore[arg-type]
    page = extract_html("<a href='/x'>x</a><a href='https://e.org/y'>y</a>", "")
    assert page.links == ["https://e.org/y"]  # nothing to resolve relative links against
    assert extract_html(bytearray(b"<p>ok</p>"), "https://e.org/").text == "ok"  # type: ignore
    copy.deepcopy(extract_html(SPHINX_PAGE, SPHINX_URL))  # plain data
