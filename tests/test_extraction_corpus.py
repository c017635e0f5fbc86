"""docscrawl's extractor on the generator corpus (tests/corpus/): the targets, per generator.

Each generator's pages carry their real chrome (navigation, version switcher, "on this page",
breadcrumbs, previous/next, edit link, cookie banner, footer) and the same content in its own
markup. The targets: no page leaks boilerplate, heading recall >= 0.99, code-block recall
>= 0.99, table recall >= 0.98, 5th-percentile text recall and precision >= 0.95. A failure
names the page and what leaked or was lost.
"""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from tests.corpus.content import PAGES, Style, truth
from tests.corpus.generators import GENERATORS, corpus
from tests.corpus.markup import visible_text
from tests.corpus.score import (
    Extraction,
    docscrawl_extractor,
    fenced_blocks,
    problems,
    score_generator,
    score_page,
    table_cells,
)

CORPUS = corpus()
TARGETS = {
    "heading_recall": 0.99,
    "code_recall": 0.99,
    "table_recall": 0.98,
    "p5_text_recall": 0.95,
    "p5_text_precision": 0.95,
}


@pytest.mark.parametrize("generator", sorted(GENERATORS))
def test_generator_meets_the_targets(generator: str) -> None:
    score = score_generator(generator, CORPUS[generator], docscrawl_extractor)
    failed = [
        f"{metric} {getattr(score, metric):.3f} < {target}"
        for metric, target in TARGETS.items()
        if getattr(score, metric) < target
    ]
    if score.boilerplate_pages:
        failed.insert(0, f"{score.boilerplate_pages} page(s) with boilerplate")
    details = [line for page in score.pages for line in problems(page)]
    assert not failed, f"{generator}: " + "; ".join(failed) + "\n" + "\n".join(details)


# -- the corpus itself ------------------------------------------------------------------------


@pytest.mark.parametrize("generator", sorted(GENERATORS))
def test_corpus_pages_are_well_formed(generator: str) -> None:
    """Three pages (content, index, aside); every boilerplate string is in some page's chrome
    and in none of the content; every expected heading is in the page."""
    pages = CORPUS[generator]
    assert [p.spec.kind for p in pages] == ["content", "index", "aside"]
    shown = {b for page in pages for b in page.truth.boilerplate}
    assert set(pages[0].boilerplate) == shown, set(pages[0].boilerplate) - shown
    for page in pages:
        visible = visible_text(page.html)
        expected = " ".join(page.truth.text.split())
        assert len(page.truth.boilerplate) >= 5, page.truth.boilerplate
        for string in page.truth.boilerplate:
            assert string not in expected, f"{page.name}: {string!r} is also content"
        for heading in page.truth.headings:
            assert heading in visible, f"{page.name}: heading {heading!r} not in the page"


def test_two_generators_put_examples_side_by_side_in_a_layout_table() -> None:
    sides = [name for name, pages in CORPUS.items() if _has_layout_table(pages[2].html)]
    assert len(sides) >= 2, sides


def _has_layout_table(html: str) -> bool:
    root = lxml_html.fromstring(html)
    return any(
        len(t.xpath(".//pre|.//div[contains(@class, 'fragment')]")) == 2 and not t.xpath(".//th")
        for t in root.iter("table")
    )


# -- the scorer can fail ----------------------------------------------------------------------

TRUTH = truth(PAGES[0], Style(), ["Built with Sphinx", "Edit this page"])


def _perfect() -> Extraction:
    code = "\n\n".join(f"```\n{c}\n```" for c in TRUTH.code_blocks)
    table = "| " + " | ".join(TRUTH.tables[0][:3]) + " |\n|---|---|---|\n"
    cells = TRUTH.tables[0][3:]
    for i in range(0, len(cells), 3):
        table += "| " + " | ".join(f"`{c}`" if i % 3 == 0 else c for c in cells[i : i + 3]) + " |\n"
    markdown = "\n\n".join([f"# {TRUTH.headings[0]}", code, table])
    return Extraction(TRUTH.text, markdown, [h + "\u00b6" for h in TRUTH.headings])


def test_a_perfect_extraction_scores_one() -> None:
    score = score_page("perfect", TRUTH, _perfect())
    assert problems(score) == []
    assert (score.heading_recall, score.code_recall, score.table_recall) == (1.0, 1.0, 1.0)
    assert (score.text_recall, score.text_precision) == (1.0, 1.0)


def test_an_extraction_with_the_footer_leaks() -> None:
    got = _perfect()
    got.text += "\n\u00a9 2026 Example Corp. Built with Sphinx 8.1."
    score = score_page("footer", TRUTH, got)
    assert score.leaked == ["Built with Sphinx"]
    assert score.text_precision < 1.0


def test_an_extraction_missing_a_code_block_scores_below_one() -> None:
    got = _perfect()
    first = TRUTH.code_blocks[1].split("\n")
    got.markdown = got.markdown.replace(TRUTH.code_blocks[1], "\n".join(first[:3]))
    score = score_page("no code", TRUTH, got)
    assert score.code_recall < 1.0
    assert score.lost_code == [first[0]]


def test_code_loses_its_indentation_or_line_breaks_and_does_not_count() -> None:
    code = TRUTH.code_blocks[1]
    flat = "\n".join(line.strip() for line in code.split("\n"))
    for broken in (flat, " ".join(code.split("\n"))):
        got = _perfect()
        got.markdown = got.markdown.replace(code, broken)
        assert score_page("flat", TRUTH, got).code_recall < 1.0


def test_a_table_flattened_to_text_does_not_count() -> None:
    got = _perfect()
    got.markdown = "\n".join(
        line.strip("|").replace("|", " ") if line.startswith("|") else line
        for line in got.markdown.split("\n")
    )
    assert score_page("no table", TRUTH, got).table_recall == 0.0


def test_any_extractor_returning_a_tuple_can_be_scored() -> None:
    page = CORPUS["mkdocs-rtd"][0]
    truth_md = _perfect().markdown
    score = score_generator("t", [page], lambda html, url: (page.truth.text, truth_md, []))
    assert score.pages[0].heading_recall == 0.0
    assert score.pages[0].text_recall == 1.0


def test_markdown_helpers() -> None:
    md = "text\n\n  ```python\n  def f():\n      return 1\n  ```\n\n| `a` | b \\| c |\n|---|---|"
    assert fenced_blocks(md) == ["def f():\n    return 1"]
    quoted = "> **Box**\n>\n> ```python\n> def f():\n>     return 1\n>\n> ```"
    assert fenced_blocks(quoted) == ["def f():\n    return 1\n"]
    assert {"a", "b | c"} <= table_cells(md)
