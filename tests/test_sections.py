"""A page's Markdown split at its headings (docscrawl.extraction.sections)."""

from __future__ import annotations

import pytest

from docscrawl.extraction import extract_html
from docscrawl.extraction.page import Heading
from docscrawl.extraction.sections import LEVELS, markdown_to_text, split_sections

URL = "https://docs.example.com/guide/install.html"


def path(**levels: str) -> dict[str, str | None]:
    return {name: levels.get(name) for name in LEVELS}


def test_a_page_splits_at_every_heading_with_its_path_and_anchor() -> None:
    markdown = (
        "# Install\n\nGet the *package*.\n\n## From PyPI\n\n```sh\npip install widget\n```"
        "\n\n## From source\n\nClone it.\n\n### On Windows\n\nUse WSL.\n\n## Check\n\nRun it."
    )
    headings = [
        Heading(1, "Install", "install"),
        Heading(2, "From PyPI", "from-pypi"),
        Heading(2, "From source", "from-source"),
        Heading(3, "On Windows", None),
        Heading(2, "Check", "check"),
    ]
    sections = split_sections(URL, "Install - Widget", markdown, headings)
    assert [(s.position, s.hierarchy, s.anchor_url) for s in sections] == [
        (0, path(lvl0="Install - Widget", lvl1="Install"), URL + "#install"),
        (1, path(lvl0="Install - Widget", lvl1="Install", lvl2="From PyPI"), URL + "#from-pypi"),
        (
            2,
            path(lvl0="Install - Widget", lvl1="Install", lvl2="From source"),
            URL + "#from-source",
        ),
        (
            3,
            path(lvl0="Install - Widget", lvl1="Install", lvl2="From source", lvl3="On Windows"),
            URL,  # no id on the heading: the page itself
        ),
        (4, path(lvl0="Install - Widget", lvl1="Install", lvl2="Check"), URL + "#check"),
    ]
    assert sections[1].markdown == "## From PyPI\n\n```sh\npip install widget\n```\n\n"
    assert sections[1].text == "From PyPI\npip install widget"
    assert sections[0].text == "Install\nGet the package."
    assert "".join(s.markdown for s in sections) == markdown


def test_headings_inside_code_fences_are_code() -> None:
    markdown = (
        "# Config\n\n```ini\n# a comment, not a heading\n[main]\n```\n\n"
        "````md\n```\n## still code\n```\n````\n\n~~~\n# tilde fence\n~~~\n\n## Next\n\nText."
    )
    sections = split_sections(URL, "T", markdown, [Heading(1, "Config", "config")])
    assert [s.hierarchy["lvl1"] for s in sections] == ["Config", "Config"]
    assert [s.hierarchy["lvl2"] for s in sections] == [None, "Next"]
    assert "# a comment, not a heading" in sections[0].text
    assert "## still code" in sections[0].text
    assert "".join(s.markdown for s in sections) == markdown


def test_a_skipped_level_stays_empty_and_a_new_heading_clears_deeper_ones() -> None:
    markdown = "# A\n\n### A.c\n\ntext\n\n##### A.c.e\n\n## B\n\nx\n\n# C"
    sections = split_sections(URL, "Title", markdown, [])
    assert [s.hierarchy for s in sections] == [
        path(lvl0="Title", lvl1="A"),
        path(lvl0="Title", lvl1="A", lvl3="A.c"),
        path(lvl0="Title", lvl1="A", lvl3="A.c", lvl5="A.c.e"),
        path(lvl0="Title", lvl1="A", lvl2="B"),
        path(lvl0="Title", lvl1="C"),
    ]
    assert [s.level for s in sections] == [1, 3, 5, 2, 1]


def test_a_page_without_headings_is_one_section_and_an_empty_page_none() -> None:
    (section,) = split_sections(URL, "Notes", "Just a paragraph.\n\n- and\n- a list", [])
    assert section.hierarchy == path(lvl0="Notes")
    assert (section.anchor_url, section.position) == (URL, 0)
    assert section.text == "Just a paragraph.\nand\na list"
    assert split_sections(URL, "Empty", "", []) == []


def test_content_before_the_first_heading_has_only_the_title() -> None:
    sections = split_sections(URL, None, "Intro.\n\n## Usage\n\nUse it.", [])
    assert [s.hierarchy for s in sections] == [path(), path(lvl2="Usage")]
    assert sections[0].markdown == "Intro.\n\n"


def test_duplicate_heading_texts_keep_their_own_anchors() -> None:
    markdown = "# API\n\n## get\n\n### Example\n\na\n\n## put\n\n### Example\n\nb"
    headings = [
        {"level": 1, "text": "API", "anchor": "api"},
        {"level": 2, "text": "get", "anchor": "get"},
        {"level": 3, "text": "Example", "anchor": "example"},
        {"level": 2, "text": "put", "anchor": "put"},
        {"level": 3, "text": "Example", "anchor": "example-1"},
    ]
    sections = split_sections(URL, "API", markdown, headings)
    examples = [s for s in sections if s.hierarchy["lvl3"] == "Example"]
    assert [(s.hierarchy["lvl2"], s.anchor_url) for s in examples] == [
        ("get", URL + "#example"),
        ("put", URL + "#example-1"),
    ]


def test_a_heading_found_inside_a_list_does_not_shift_the_anchors() -> None:
    # render.py records headings wherever they are; only top-level ones start a section.
    markdown = "# Top\n\n- ## In a list\n\n## Below\n\ntext"
    headings = [Heading(1, "Top", "top"), Heading(2, "In a list", "in"), Heading(2, "Below", "b")]
    sections = split_sections(URL, "T", markdown, headings)
    assert [s.anchor_url for s in sections] == [URL + "#top", URL + "#b"]


def test_heading_markup_is_text_in_the_path_and_anchors_are_encoded() -> None:
    markdown = "# The `run()` *call* [here](https://x/)\n\ntext\n\n## A \\*star\\*"
    headings = [Heading(1, "The run() call here", "the run"), Heading(2, "A *star*", "ü")]
    sections = split_sections(URL + "#old", "T", markdown, headings)
    assert sections[0].hierarchy["lvl1"] == "The run() call here"
    assert sections[0].anchor_url == URL + "#the%20run"
    assert sections[1].hierarchy["lvl2"] == "A *star*"
    assert sections[1].anchor_url == URL + "#%C3%BC"


@pytest.mark.parametrize(
    ("markdown", "text"),
    [
        ("A **bold** and *em* and ~~gone~~ word", "A bold and em and gone word"),
        ("snake_case and \\_private and 1\\. first", "snake_case and _private and 1. first"),
        ("`` a`b `` and `x`", "a`b and x"),
        ("[![logo](https://x/l.png) Home](https://x/) <https://x/y>", "Home https://x/y"),
        ("> quoted\n>\n> > deeper", "quoted\ndeeper"),
        ("| a | b |\n|---|---|\n| c \\| d | e<br>f |", "a | b\nc | d | e f"),
        ("|  |\n|---|\n| only |", "only"),
        ("- item\n  ```py\n  def f():\n      pass\n  ```", "item\ndef f():\n    pass"),
        ("line one  \nline two\n\n---\n\nafter", "line one\nline two\nafter"),
        ("\\# not a heading", "# not a heading"),
    ],
)
def test_markdown_to_text(markdown: str, text: str) -> None:
    assert markdown_to_text(markdown) == text


def test_sections_of_a_real_page_cover_its_markdown_and_its_text() -> None:
    html = """<html><head><title>Guide</title></head><body><main>
      <h1 id="guide">Guide</h1><p>Intro with <code>code</code> and <a href="x.html">a link</a>.</p>
      <h2 id="setup">Setup</h2><pre># not a heading\nmake</pre>
      <table><tr><th>Key</th><th>Value</th></tr><tr><td>a</td><td>1</td></tr></table>
      <h3 id="more">More</h3><ul><li>one</li><li>two <em>three</em></li></ul>
      <h2 id="setup-1">Setup</h2><blockquote><p>Again.</p></blockquote>
    </main></body></html>"""
    page = extract_html(html, URL)
    sections = split_sections(URL, page.title, page.markdown, page.headings)
    assert "".join(s.markdown for s in sections) == page.markdown
    assert " ".join(s.text for s in sections).split() == page.text.split()
    assert [s.anchor_url.rsplit("#", 1)[1] for s in sections] == [
        "guide",
        "setup",
        "more",
        "setup-1",
    ]


# A fixed corpus with every construct the splitter and markdown_to_text know. The digest of
# their output on it changes when they do: the stored sections of unchanged pages would then be
# the older splitter's, since a recrawl keeps them (pipelines.py).
SPLITTER_CORPUS = [
    (
        "https://docs.example/guide/",
        "Guide - Widget",
        "Preface with a [link](../x/) and `code`.\n\n# Install\n\nGet the *package* "
        "**now** ~~or not~~.\n\n## From PyPI\n\n```sh\n# not a heading\npip install w\n```\n\n"
        "### Deep ###\n\n> quoted\n> > twice\n\n- one\n- two\n  1. nested\n\n#### Skip\n\n"
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n***\n\n## Same\n\nx \\* y <br> z\n\n## Same\n\n"
        "![img](i.png) <https://a.example/>\n\n~~~\nfence\n~~~\n\n#\n\n###### Six é ü\n\nend\n",
        [
            {"level": 1, "text": "Install", "anchor": "install"},
            {"level": 2, "text": "From PyPI", "anchor": "from-pypi"},
            {"level": 3, "text": "Deep", "anchor": None},
            {"level": 4, "text": "Skip", "anchor": "skip me/?"},
            {"level": 2, "text": "Same", "anchor": "same"},
            {"level": 2, "text": "Same", "anchor": "same-1"},
            {"level": 6, "text": "Six é ü", "anchor": "six-é-ü"},
        ],
    ),
    ("https://docs.example/empty", None, "", []),
    ("https://docs.example/flat", "", "Just text,\nno headings.\n", []),
]
# sha256 of the splitter's output on SPLITTER_CORPUS. When a change to sections.py changes it:
# add a migration step that calls models.resplit_sections (so that stored pages are cut again),
# then put the new digest here.
SPLITTER_DIGEST = "0a067ba0b5193b62e9ffafdde99fa90ac3d898832b53b1af779b7f461a5fad05"


def test_a_change_to_the_splitter_comes_with_a_migration_that_cuts_stored_pages_again() -> None:
    import dataclasses
    import hashlib
    import json

    output = [
        [dataclasses.asdict(s) for s in split_sections(url, title, markdown, headings)]
        for url, title, markdown, headings in SPLITTER_CORPUS
    ]
    digest = hashlib.sha256(json.dumps(output, sort_keys=True).encode()).hexdigest()
    assert digest == SPLITTER_DIGEST, (
        "The splitter's output changed: stored pages keep their sections on an unchanged "
        "recrawl, so add a migration step calling models.resplit_sections, then update "
        f"SPLITTER_DIGEST to {digest!r}."
    )
