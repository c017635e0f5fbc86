"""Scoring an extraction against a corpus page's ground truth, and a generator's pages together.

An extraction is reduced to :class:`Extraction` (text, Markdown, heading texts) so that any
extractor can be scored the same way: docscrawl's (:func:`docscrawl_extractor`) or another one
(the benchmark scores trafilatura through the same function).

- boilerplate leak: a chrome string of the page found in the text or in the Markdown;
- heading recall: expected heading texts among the extraction's headings (whitespace
  normalised, permalink glyphs dropped);
- code recall: an expected block counts only if its whole text, line breaks and indentation
  kept, is inside one fenced block of the Markdown;
- table recall: a table counts only if every one of its cells is a cell of a Markdown table row;
- text recall and precision: bag-of-words overlap between the expected main text and the text.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tests.corpus.content import Truth

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff\u00ad"), None)
_GLYPHS = "\u00b6#\u00a7\U0001f517\u2693"
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])")
_WORD = re.compile(r"\w+")
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})")
_QUOTE = re.compile(r"^\s*> ?")


@dataclass
class Extraction:
    text: str
    markdown: str
    headings: list[str]


Extractor = Callable[[str, str], "Extraction | tuple[str, str, list[str]]"]


def normalise(text: str) -> str:
    return " ".join(text.translate(_INVISIBLE).split())


def unescape_markdown(text: str) -> str:
    return _MD_ESCAPE.sub(r"\1", text)


def heading_text(text: str) -> str:
    """A heading's text as a reader sees it: no permalink glyph, whitespace normalised."""
    return normalise(text).strip(_GLYPHS + " ").strip()


def fenced_blocks(markdown: str) -> list[str]:
    """The contents of the Markdown's fenced code blocks (also inside ``>`` quotes and list
    items), trailing spaces of lines dropped."""
    blocks, lines, i = [], markdown.split("\n"), 0
    while i < len(lines):
        depth, line = _unquote(lines[i], 99)
        m = _FENCE.match(line)
        if m is None:
            i += 1
            continue
        indent, fence = m.group(1), m.group(2)
        body, i = [], i + 1
        while i < len(lines):
            line = _unquote(lines[i], depth)[1]
            stripped = line.strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                break
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            i += 1
        blocks.append("\n".join(line.rstrip() for line in body))
        i += 1
    return blocks


def _unquote(line: str, most: int) -> tuple[int, str]:
    """The line without up to ``most`` blockquote markers, and how many it had."""
    depth = 0
    while depth < most:
        m = _QUOTE.match(line)
        if m is None:
            break
        line, depth = line[m.end() :], depth + 1
    return depth, line


def table_cells(markdown: str) -> set[str]:
    """Every cell of every Markdown table row (``| a | b |``), unescaped, code ticks dropped."""
    cells: set[str] = set()
    for line in markdown.split("\n"):
        line = line.strip()
        if len(line) < 2 or not (line.startswith("|") and line.endswith("|")):
            continue
        for cell in re.split(r"(?<!\\)\|", line[1:-1]):
            cells.add(normalise(unescape_markdown(cell.replace("\\|", "|")).replace("`", "")))
    return cells


def words(text: str) -> Counter:
    return Counter(_WORD.findall(text.translate(_INVISIBLE).lower()))


@dataclass
class PageScore:
    name: str
    leaked: list[str] = field(default_factory=list)
    heading_recall: float = 1.0
    lost_headings: list[str] = field(default_factory=list)
    code_recall: float = 1.0
    lost_code: list[str] = field(default_factory=list)  # the first line of each lost block
    table_recall: float | None = None  # None: the page has no table
    lost_cells: list[str] = field(default_factory=list)
    text_recall: float = 1.0
    text_precision: float = 1.0
    missing_words: list[str] = field(default_factory=list)  # the commonest lost words
    extra_words: list[str] = field(default_factory=list)  # the commonest words not expected


def score_page(name: str, truth: Truth, got: Extraction) -> PageScore:
    score = PageScore(name)
    text, markdown = normalise(got.text), normalise(unescape_markdown(got.markdown))
    score.leaked = [
        b for b in truth.boilerplate if normalise(b) in text or normalise(b) in markdown
    ]

    found = {heading_text(h) for h in got.headings}
    score.lost_headings = [h for h in truth.headings if heading_text(h) not in found]
    score.heading_recall = _share(len(truth.headings), len(score.lost_headings))

    blocks = fenced_blocks(got.markdown)
    for code in truth.code_blocks:
        wanted = "\n".join(line.rstrip() for line in code.split("\n"))
        if not any(wanted in block for block in blocks):
            score.lost_code.append(code.split("\n")[0])
    score.code_recall = _share(len(truth.code_blocks), len(score.lost_code))

    if truth.tables:
        cells = table_cells(got.markdown)
        kept = 0
        for table in truth.tables:
            lost = [c for c in table if normalise(c) not in cells]
            score.lost_cells += lost
            kept += not lost
        score.table_recall = kept / len(truth.tables)

    expected, actual = words(truth.text), words(got.text)
    overlap = sum((expected & actual).values())
    score.text_recall = overlap / max(1, sum(expected.values()))
    score.text_precision = overlap / sum(actual.values()) if actual else 0.0
    score.missing_words = [w for w, _ in (expected - actual).most_common(8)]
    score.extra_words = [w for w, _ in (actual - expected).most_common(8)]
    return score


def _share(expected: int, lost: int) -> float:
    return 1.0 if expected == 0 else (expected - lost) / expected


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (with fewer than 20 values the 5th is the smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class GeneratorScore:
    generator: str
    pages: list[PageScore]

    @property
    def boilerplate_pages(self) -> int:
        return sum(1 for p in self.pages if p.leaked)

    @property
    def heading_recall(self) -> float:
        return _mean(p.heading_recall for p in self.pages)

    @property
    def code_recall(self) -> float:
        return _mean(p.code_recall for p in self.pages)

    @property
    def table_recall(self) -> float:
        return _mean(p.table_recall for p in self.pages if p.table_recall is not None)

    @property
    def p5_text_recall(self) -> float:
        return percentile([p.text_recall for p in self.pages], 5)

    @property
    def p5_text_precision(self) -> float:
        return percentile([p.text_precision for p in self.pages], 5)


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 1.0


def score_generator(generator: str, pages, extractor: Extractor) -> GeneratorScore:
    """Score ``extractor`` on a generator's corpus pages (tests.corpus.markup.CorpusPage).

    ``extractor(html, url)`` returns an :class:`Extraction` or a (text, markdown, headings)
    tuple, the headings a list of their texts.
    """
    scores = []
    for page in pages:
        got = extractor(page.html, page.url)
        if not isinstance(got, Extraction):
            got = Extraction(*got)
        scores.append(score_page(page.name, page.truth, got))
    return GeneratorScore(generator, scores)


def docscrawl_extractor(html: str, url: str) -> Extraction:
    from docscrawl.extraction import extract_html

    page = extract_html(html, url)
    return Extraction(page.text, page.markdown, [h.text for h in page.headings])


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def markdown_headings(markdown: str) -> list[str]:
    """The ATX headings of Markdown outside fenced blocks (for extractors without headings)."""
    out, fence = [], None
    for line in markdown.split("\n"):
        m = _FENCE.match(line)
        if m:
            mark = m.group(2)[0] * 3
            fence = None if fence == mark else (fence or mark)
            continue
        if fence is None:
            h = _MD_HEADING.match(line.strip())
            if h:
                out.append(unescape_markdown(h.group(2)))
    return out


def problems(score: PageScore) -> list[str]:
    """What an extraction of the page got wrong, one readable line each."""
    out = []
    if score.leaked:
        out.append(f"{score.name}: boilerplate leaked: {score.leaked}")
    if score.lost_headings:
        out.append(f"{score.name}: headings lost: {score.lost_headings}")
    if score.lost_code:
        out.append(f"{score.name}: code blocks lost (first line): {score.lost_code}")
    if score.lost_cells:
        out.append(f"{score.name}: table cells not in a Markdown table: {score.lost_cells}")
    if score.text_recall < 0.95:
        out.append(
            f"{score.name}: text recall {score.text_recall:.2f}, missing e.g. {score.missing_words}"
        )
    if score.text_precision < 0.95:
        out.append(
            f"{score.name}: text precision {score.text_precision:.2f}, extra e.g. "
            f"{score.extra_words}"
        )
    return out
