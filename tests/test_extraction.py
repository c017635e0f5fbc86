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
