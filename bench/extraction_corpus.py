"""Extraction on the generator corpus: docscrawl's extractor against trafilatura, same pages.

Every page of tests/corpus/ (16 documentation generators, 3 pages each, real chrome around the
same content) is extracted by each side and scored with tests/corpus/score.py: pages that leak
boilerplate, heading, code-block and table recall, 5th-percentile text recall and precision.
Then the corpus is extracted --rounds times more, the sides interleaved page by page (A B C,
A B C, ...) so that a slow drift of the machine hits every side alike, for ms/page.

Sides:
- docscrawl: ``docscrawl.extraction.extract_html(html, url)``; text, Markdown and headings as
  the crawler stores them.
- trafilatura: ``trafilatura.extract(html, url=url, output_format="markdown",
  include_tables=True, include_formatting=True, include_links=False, include_comments=False)``;
  the headings are its Markdown's ``#`` lines, the text its Markdown without the markup.
- trafilatura-recall: the same with ``favor_recall=True`` (its setting for keeping more).

    .venv/bin/python -m bench.extraction_corpus              # about a minute
    .venv/bin/python -m bench.extraction_corpus --rounds 5 --sides docscrawl,trafilatura

Exit 2 when trafilatura is not installed (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable

from tests.corpus.generators import corpus
from tests.corpus.score import (
    Extraction,
    GeneratorScore,
    docscrawl_extractor,
    markdown_headings,
    score_generator,
)

TARGETS = {"heading_recall": 0.99, "code_recall": 0.99, "table_recall": 0.98,
           "p5_text_recall": 0.95, "p5_text_precision": 0.95}  # fmt: skip
SIDES = ("docscrawl", "trafilatura", "trafilatura-recall")
_FENCE_LINE = re.compile(r"^\s*(?:`{3,}|~{3,}).*$", re.MULTILINE)
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}.*$", re.MULTILINE)
_MARKUP = re.compile(r"^\s*(?:#{1,6}\s+|[-*+]\s+|\d+\.\s+|>\s?)|\*\*|__|`|\|", re.MULTILINE)


def markdown_text(markdown: str) -> str:
    """Markdown as plain text: no fences, heading marks, list bullets, emphasis, table pipes."""
    text = _TABLE_RULE.sub("", _FENCE_LINE.sub("", markdown))
    text = _MARKUP.sub(" ", text)
    return re.sub(r"(?<!\w)[*_]|[*_](?!\w)", "", text)


def trafilatura_extractor(favor_recall: bool) -> Callable[[str, str], Extraction]:
    import trafilatura

    def extract(html: str, url: str) -> Extraction:
        markdown = trafilatura.extract(
            html, url=url, output_format="markdown", include_tables=True,
            include_formatting=True, include_links=False, include_comments=False,
            favor_recall=favor_recall,
        ) or ""  # fmt: skip
        return Extraction(markdown_text(markdown), markdown, markdown_headings(markdown))

    return extract


def extractors(sides: list[str]) -> dict[str, Callable[[str, str], Extraction]]:
    out = {}
    for side in sides:
        if side == "docscrawl":
            out[side] = docscrawl_extractor
        else:
            out[side] = trafilatura_extractor(favor_recall=side == "trafilatura-recall")
    return out


def failed_targets(score: GeneratorScore) -> list[str]:
    failed = ["boilerplate"] if score.boilerplate_pages else []
    names = {"heading_recall": "headings", "code_recall": "code", "table_recall": "tables",
             "p5_text_recall": "recall", "p5_text_precision": "precision"}  # fmt: skip
    return failed + [names[m] for m, t in TARGETS.items() if getattr(score, m) < t]


def timings(pages, sides: dict, rounds: int) -> dict[str, list[dict[str, float]]]:
    """Per side, per round: ms/page for each generator and for the whole corpus ("all")."""
    out: dict[str, list[dict[str, float]]] = {side: [] for side in sides}
    count = Counter(generator for generator, _ in pages)
    for _ in range(rounds):
        spent = {side: {} for side in sides}
        gc.collect()
        for generator, page in pages:
            for side, extract in sides.items():
                started = time.perf_counter()
                extract(page.html, page.url)
                elapsed = time.perf_counter() - started
                spent[side][generator] = spent[side].get(generator, 0.0) + elapsed
        for side in sides:
            per_gen = {g: 1000 * s / count[g] for g, s in spent[side].items()}
            per_gen["all"] = 1000 * sum(spent[side].values()) / len(pages)
            out[side].append(per_gen)
    return out


def report(scores: dict[str, dict[str, GeneratorScore]], times: dict) -> str:
    sides = list(scores)
    lines = [
        "| generator | side | pages leaking | headings | code | tables | P5 recall "
        f"| P5 precision | ms/page | time / {sides[0]} | targets missed |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for generator in scores[sides[0]]:
        for side in sides:
            s = scores[side][generator]
            ms = statistics.median(r[generator] for r in times[side])
            ratio = statistics.median(
                r[generator] / b[generator]
                for r, b in zip(times[side], times[sides[0]], strict=True)
            )
            missed = ", ".join(failed_targets(s)) or "none"
            lines.append(
                f"| {generator} | {side} | {s.boilerplate_pages}/{len(s.pages)} | "
                f"{s.heading_recall:.2f} | {s.code_recall:.2f} | {s.table_recall:.2f} | "
                f"{s.p5_text_recall:.2f} | {s.p5_text_precision:.2f} | {ms:.2f} | "
                f"{ratio:.2f}\u00d7 | {missed} |"
            )
    lines.append("")
    base = sides[0]
    for side in sides:
        per_round = [r["all"] for r in times[side]]
        met = sum(not failed_targets(s) for s in scores[side].values())
        leaks = sum(s.boilerplate_pages for s in scores[side].values())
        pages = sum(len(s.pages) for s in scores[side].values())
        line = (
            f"- **{side}**: {statistics.median(per_round):.2f} ms/page median "
            f"({min(per_round):.2f}\u2013{max(per_round):.2f} over {len(per_round)} rounds); "
            f"all targets met on {met}/{len(scores[side])} generators; "
            f"{leaks}/{pages} pages leak boilerplate"
        )
        if side != base:
            ratios = [r["all"] / b["all"] for r, b in zip(times[side], times[base], strict=True)]
            line += (
                f"; {side}/{base} time: median {statistics.median(ratios):.2f}\u00d7 "
                f"({min(ratios):.2f}\u2013{max(ratios):.2f})"
            )
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="timed rounds (default 20)")
    parser.add_argument("--sides", default=",".join(SIDES), help="comma separated, in order")
    parser.add_argument("--json", metavar="PATH", help="also write the scores and times as JSON")
    args = parser.parse_args(argv)
    sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    unknown = [s for s in sides if s not in SIDES]
    if unknown or not sides:
        parser.error(f"unknown side(s) {unknown}; choose from {', '.join(SIDES)}")
    if any(s.startswith("trafilatura") for s in sides):
        try:
            import trafilatura  # noqa: F401
        except ImportError:
            print("trafilatura is not installed: run `.venv/bin/pip install -e '.[bench]'` "
                  "(trafilatura>=2.0,<3) and try again.", file=sys.stderr)  # fmt: skip
            return 2
    pages_by_gen = corpus()
    run = extractors(sides)
    scores = {
        side: {g: score_generator(g, pages, extract) for g, pages in pages_by_gen.items()}
        for side, extract in run.items()
    }
    pages = [(g, p) for g, ps in pages_by_gen.items() for p in ps]
    timings(pages, run, 1)  # warm-up: imports, caches, lxml's parser
    times = timings(pages, run, args.rounds)
    print(report(scores, times))
    if args.json:
        data = {
            "scores": {
                side: {
                    g: {
                        "boilerplate_pages": s.boilerplate_pages,
                        **{m: getattr(s, m) for m in TARGETS},
                        "failed": failed_targets(s),
                    }
                    for g, s in per_gen.items()
                }
                for side, per_gen in scores.items()
            },
            "ms_per_page": times,
        }
        with open(args.json, "w") as out:
            json.dump(data, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
