"""Main content on a theme no rule knows: the density fallback, the table-of-contents rule,
content asides, layout tables, selector overrides, and the site template learned in a crawl."""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import support
from conftest import Cli, Store

from docscrawl.extraction import SiteOverrides, extract_html
from docscrawl.extraction.page import Block, ExtractedPage
from docscrawl.extraction.render import set_content
from docscrawl.extraction.template import TemplateLearner, remove_from

# A grid theme: no <main>, <article>, role=main or known class; header, sidebar and footer divs.
GRID = """<html><head><title>{title} - Acme Docs</title></head><body><div id="page">
<div id="hd"><a href="index.html">Acme Docs</a> <span>The Acme manual</span>
  <div class="navlinks"><a href="prev.html">previous</a> | <a href="index.html">up</a> |
  <a href="next.html">next</a></div></div>
<div id="sidebar"><div class="box"><b>About</b> This manual covers Acme 3.2.</div>
  <ul><li><a href="a.html">Getting started</a></li><li><a href="b.html">Reference</a></li>
  <li><a href="c.html">Troubleshooting</a></li></ul></div>
<div id="{content_id}">{body}</div>
<div id="ft">&copy; 2026 Acme Corp. <a href="prev.html">&laquo; Previous</a>
  <a href="next.html">Next &raquo;</a></div>
</div></body></html>"""
CHROME = ("Acme Docs", "The Acme manual", "previous", "This manual covers", "Troubleshooting",
          "2026 Acme Corp", "Next")  # fmt: skip


def grid(title: str, body: str, content_id: str = "contents") -> str:
    return GRID.format(title=title, body=body, content_id=content_id)


def test_a_grid_theme_keeps_the_content_and_drops_every_piece_of_chrome() -> None:
    body = (
        "<h1>Installing Acme</h1><p>Acme installs from the package index with one command.</p>"
        "<pre>pip install acme\nacme --version</pre><h2 id='check'>Checking</h2>"
        "<p>Run the self test; it prints the version and where its configuration is read.</p>"
    )
    page = extract_html(grid("Installing", body, content_id="main-col"), "http://h/docs/i.html")
    assert page.audit.rule == "density"
    assert [h.text for h in page.headings] == ["Installing Acme", "Checking"]
    assert "```\npip install acme\nacme --version\n```" in page.markdown
    for chrome in CHROME:
        assert chrome not in page.text, chrome
    assert page.audit.text_share > 0.5 and page.audit.headings_found == 2


def test_a_contents_page_that_is_mostly_links_keeps_its_list_and_its_h1() -> None:
    items = "".join(f"<li><a href='p{i}.html'>Chapter {i}: part {i}</a></li>" for i in range(30))
    page = extract_html(grid("Contents", f"<h1>Contents</h1><ul>{items}</ul>"), "http://h/c.html")
    assert page.headings[0].text == "Contents"
    assert page.text.count("Chapter ") == 30
    assert "Acme Corp" not in page.text and "Troubleshooting" not in page.text


def test_a_chapter_table_of_contents_is_content_but_an_on_this_page_list_is_not() -> None:
    chapter = (
        "<html><body><div class='chapter'><div class='titlepage'><h2>Chapter 2. Setup</h2></div>"
        "<div class='toc'><p><b>Table of Contents</b></p><dl>"
        "<dt><a href='ch02s01.html'>2.1. Requirements</a></dt>"
        "<dt><a href='ch02s02.html'>2.2. Building from source</a></dt></dl></div></div>"
        "</body></html>"
    )
    page = extract_html(chapter, "http://h/ch02.html")
    assert "2.1. Requirements" in page.text and "2.2. Building from source" in page.text
    in_page = (
        "<html><body><main><h1>Guide</h1><div class='toc'><ul><li><a href='#a'>Alpha</a></li>"
        "<li><a href='#b'>Beta</a></li></ul></div><ul><li><a href='#a'>Alpha</a></li>"
        "<li><a href='#b'>Beta</a></li><li><a href='#c'>Gamma</a></li></ul>"
        "<h2 id='a'>Alpha part</h2><p>Text.</p></main></body></html>"
    )
    page = extract_html(in_page, "http://h/guide.html")
    assert "Alpha" not in page.text.replace("Alpha part", "") and "Gamma" not in page.text


def test_an_aside_with_content_is_kept_and_a_layout_table_keeps_its_code_blocks() -> None:
    body = (
        "<main><h1>Examples</h1><aside class='sidebar'><p>On Windows use the launcher:</p>"
        "<pre>py -m pip install acme</pre></aside><aside><a href='x.html'>Related</a></aside>"
        "<table><tr><td><pre>def a():\n    return 1</pre></td>"
        "<td><pre>def b():\n    return 2</pre></td></tr></table></main>"
    )
    page = extract_html(f"<html><body>{body}</body></html>", "http://h/e.html")
    assert "```\npy -m pip install acme\n```" in page.markdown
    assert "```\ndef a():\n    return 1\n```" in page.markdown
    assert "```\ndef b():\n    return 2\n```" in page.markdown
    assert "Related" not in page.text
    assert page.audit.code_blocks_found == page.audit.code_blocks_kept == 3


def test_selector_overrides_choose_the_main_content_and_drop_inside_it() -> None:
    html = grid("Page", "<h1>Title</h1><p class='ad'>Buy now</p><p>Body text here.</p>")
    overrides = SiteOverrides.from_settings("#sidebar", [])
    page = extract_html(html, "http://h/p.html", overrides=overrides)
    assert page.audit.rule == "selector" and "This manual covers" in page.text
    overrides = SiteOverrides.from_settings("", ["p.ad", "#nothing"])
    page = extract_html(html, "http://h/p.html", overrides=overrides)
    assert "Buy now" not in page.text and "Body text here." in page.text
    with pytest.raises(ValueError, match="DOCSCRAWL_MAIN_SELECTOR='div\\[\\[' is not a CSS"):
        SiteOverrides.from_settings("div[[", [])


# -- template learning ----------------------------------------------------------------------------


def learned_page(*texts: str) -> ExtractedPage:
    page = ExtractedPage()
    page.blocks = [Block("h", "# T", "T"), *(Block("p", text, text) for text in texts)]
    set_content(page, page.blocks)
    return page


def test_a_block_on_most_pages_is_dropped_from_later_pages_and_listed_for_earlier_ones() -> None:
    learner = TemplateLearner(min_pages=4, share=0.6)
    stored = {}
    for n in range(8):
        page = learned_page(f"Unique text {n}.", "Version 3.2 of the manual.")
        learner.learn_and_strip(f"p{n}", page)
        stored[f"p{n}"] = page
    assert "Version 3.2" in stored["p2"].text  # before min_pages: not known yet
    assert "Version 3.2" not in stored["p5"].text and "Unique text 5." in stored["p5"].text
    fixes = learner.pages_to_fix()
    assert set(fixes) == {"p0", "p1", "p2"}
    fixed = remove_from(stored["p0"].markdown, stored["p0"].text, fixes["p0"])
    assert fixed.markdown == "# T\n\nUnique text 0." and fixed.text == "T\nUnique text 0."
    assert fixed.word_count == 4


def test_content_that_repeats_on_a_few_pages_and_code_are_kept() -> None:
    learner = TemplateLearner(min_pages=4, share=0.6)
    for n in range(10):
        page = learned_page(f"Unique {n}.", *(["Shared by three pages only."] if n < 3 else []))
        page.blocks.append(Block("code", "```\npip install x\n```", "pip install x"))
        set_content(page, page.blocks)
        learner.learn_and_strip(f"p{n}", page)
        assert "pip install x" in page.text
    assert learner.pages_to_fix() == {}
    small = TemplateLearner(min_pages=10, share=0.6)
    for n in range(5):  # a site smaller than min_pages: nothing is learned
        small.learn_and_strip(f"p{n}", learned_page("This sentence is on every page."))
    assert small.pages_to_fix() == {}


def test_labels_and_the_middle_of_a_page_are_never_learned_as_template() -> None:
    """An API reference repeats "Parameters:" and a shared warning on every page: structure
    and content, not the theme's."""
    learner = TemplateLearner(min_pages=3, share=0.6)
    pages = []
    for n in range(10):
        page = learned_page(
            f"Function {n} does thing {n}.", "Parameters:", f"x{n} - the input.",
            *(f"Detail {n}.{i} of the function." for i in range(4)),
            "Warning: this call blocks until the pool is ready.",  # in the middle, every page
            *(f"More about {n}.{i} here." for i in range(4)),
        )  # fmt: skip
        learner.learn_and_strip(f"p{n}", page)
        pages.append(page)
    assert all("Parameters:" in p.text and "Warning: this call blocks" in p.text for p in pages)
    assert learner.pages_to_fix() == {}


@pytest.fixture
def template_site(tmp_path: Path) -> Iterator[str]:
    """Twelve pages of one unseen theme whose content region holds a version notice."""
    docs = tmp_path / "www" / "docs"
    docs.mkdir(parents=True)
    links = "".join(f"<a href='p{n}.html'>Page {n}</a> " for n in range(12))
    for n in range(12):
        body = (
            f"<h1>Topic {n}</h1><p class='notice'>You are reading the manual of Acme 3.2; "
            f"other versions are listed on the versions page.</p>"
            f"<p>Paragraph {n} explains topic {n} in some detail, with words of its own.</p>"
            f"<p>Links: {links}</p>"
        )
        (docs / ("index.html" if n == 0 else f"p{n}.html")).write_text(grid(f"Topic {n}", body))
    with support.serve_directory(tmp_path / "www") as url:
        yield url + "docs/"


def test_a_crawl_learns_the_template_and_fixes_the_pages_stored_before(
    cli: Cli, store: Store, template_site: str
) -> None:
    result = cli("crawl", "--url", template_site, "--quiet", "-s", "DOCSCRAWL_TEMPLATE_MIN_PAGES=5")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(store.path) as db:
        rows = db.execute("SELECT url, text, markdown, word_count FROM page").fetchall()
    assert len(rows) == 12
    for url, text, markdown, word_count in rows:
        assert "You are reading the manual" not in text + markdown, url  # early pages too
        assert "explains topic" in text and word_count == len(text.split()) - text.count("|")
    # A re-crawl (every page fetched again) finds nothing changed: the pages it stored before it
    # knew the template are compared without it.
    again = cli("crawl", "--url", template_site, "--quiet", "-s", "DOCSCRAWL_TEMPLATE_MIN_PAGES=5",
                "-s", "DOCSCRAWL_CONDITIONAL_REQUESTS=false")  # fmt: skip
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(store.path) as db:
        query = "SELECT change, count(*) FROM job_page WHERE job_id = 2 GROUP BY 1"
        changes = dict(db.execute(query))
        versions = db.execute(
            "SELECT v.content_hash = p.content_hash, v.markdown, p.markdown FROM page_version v "
            "JOIN page p ON p.id = v.page_id"
        ).fetchall()
    assert changes == {"unchanged": 12}
    # The content history holds each page's fixed text only: the template was never its own.
    assert len(versions) == 12
    assert all(same and zlib.decompress(blob).decode() == text for same, blob, text in versions)


def test_bad_template_and_selector_settings_are_refused_before_the_crawl(
    cli: Cli, store: Store, template_site: str
) -> None:
    for setting in ("DOCSCRAWL_TEMPLATE_SHARE=1.5", "DOCSCRAWL_TEMPLATE_MIN_PAGES=0",
                    "DOCSCRAWL_MAIN_SELECTOR=div[[", "DOCSCRAWL_DROP_SELECTORS=..bad",
                    "DOCSCRAWL_AUDIT_MIN_TEXT_SHARE=0.3"):  # fmt: skip
        result = cli("crawl", "--url", template_site, "-s", setting)
        assert result.returncode == 2, (setting, result.stderr)
        assert "Traceback" not in result.stderr and setting.split("=")[0] in result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, result.stderr  # click's usage lines, then one sentence
    if store.path.exists():
        with sqlite3.connect(store.path) as db:
            assert db.execute("SELECT count(*) FROM job").fetchone() == (0,)


def test_a_main_selector_that_matches_nothing_is_counted_and_said_once(
    cli: Cli, store: Store, template_site: str
) -> None:
    result = cli(
        "crawl", "--url", template_site, "--quiet", "-s", "DOCSCRAWL_MAIN_SELECTOR=div.nope"
    )
    assert result.returncode == 0, result.stderr
    log = Path(store.job(1)["log_url"]).read_text()
    assert log.count("DOCSCRAWL_MAIN_SELECTOR matches nothing on") == 1
    assert "'docscrawl/main_selector_missed': 12" in log
    with sqlite3.connect(store.path) as db:  # the rules chose instead: the content is there
        texts = [row[0] for row in db.execute("SELECT text FROM page")]
    assert len(texts) == 12 and all("explains topic" in text for text in texts)


# -- markup the hostile review found (unseen themes) --------------------------------------------


def test_a_sidebar_marked_as_content_loses_to_the_region_holding_the_title() -> None:
    sidebar = "".join(f"<li><a href='t{i}.html'>Topic number {i}</a></li>" for i in range(30))
    html = (
        "<html><head><title>Pools [Wiki]</title></head><body>"
        f"<div id='aside'><div class='content'><ul>{sidebar}</ul></div></div>"
        "<div id='page-content'><div class='pad'><h1>Pools</h1><p>A pool keeps connections "
        "open so that each request reuses one instead of paying the handshake again.</p>"
        "<h2>Options</h2><p>Set the size to the number of workers that share it.</p></div></div>"
        "</body></html>"
    )
    page = extract_html(html, "http://h/pools.html")
    assert [h.text for h in page.headings] == ["Pools", "Options"]
    assert "Topic number" not in page.text
    role_main = html.replace("<div id='aside'>", "<div id='aside' role='main'>")
    assert "Topic number" not in extract_html(role_main, "http://h/pools.html").text


def test_code_written_one_element_per_line_keeps_its_lines_and_drops_its_gutter() -> None:
    lines = ["def f(x):", "    y = x + 1", "", "    return y"]
    code = "".join(
        f"<div class='ec-line'><div class='gutter' aria-hidden='true'>{n}</div>"
        f"<div class='code'>{line or chr(10)}</div></div>"
        for n, line in enumerate(lines, 1)
    )
    html = f"<main><h1>T</h1><pre><code>{code}</code></pre></main>"
    page = extract_html(html, "http://h/")
    assert "```\n" + "\n".join(lines) + "\n```" in page.markdown


def test_a_data_table_with_a_code_column_stays_a_table_and_a_pager_bar_is_dropped() -> None:
    html = (
        "<main><h1>T</h1><table><tr><td>retries</td><td><pre>retries = 3</pre></td></tr>"
        "<tr><td>backoff</td><td><pre>backoff = 0.5</pre></td></tr></table>"
        "<div class='foot'><span>Previous</span><a href='a.html'>Installing</a>"
        "<span>Next</span><a href='b.html'>Configuring</a></div></main>"
    )
    page = extract_html(html, "http://h/")
    assert "| retries | `retries = 3` |" in page.markdown
    assert "Installing" not in page.text and "Configuring" not in page.text


def test_a_plain_page_is_all_content_and_not_taken_for_a_theme_without_regions() -> None:
    plain = "<html><body><h1>Sites</h1><p>Three sites for testing.</p><ul><li>a</li></ul></body>"
    assert extract_html(plain, "http://h/").audit.rule == "page"
    regions = (
        "<html><body><div><p>Left words here and there.</p></div>"
        "<div><p>Right words here and there.</p></div></body></html>"
    )
    assert extract_html(regions, "http://h/").audit.rule == "body"


def test_of_nested_mains_the_innermost_holding_the_title_is_the_content() -> None:
    html = (
        "<html><head><title>Pools</title></head><body><main><div class='side'>"
        + "".join(
            f"<p><a href='t{i}.html'>Topic number {i}</a> and a few words</p>" for i in range(9)
        )
        + "</div><main><h1>Pools</h1><p>A pool keeps connections open for every request.</p>"
        "</main><p>Copyright 2024 Acme Corp.</p></main></body></html>"
    )
    page = extract_html(html, "http://h/pools.html")
    assert page.text == "Pools\nA pool keeps connections open for every request."
