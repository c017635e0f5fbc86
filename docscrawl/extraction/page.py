"""What extraction gives back: the page's data, and a tally of what failed on the way.

Extraction never raises for a bad page: it keeps what it could extract. So that a crawl can
tell a page that had nothing from a page that broke, every failure is counted on the page by
stage (:data:`STAGES`) as well as logged at DEBUG.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# The package's logger: the stages' modules report their failures through FailureCounter.
logger = logging.getLogger("docscrawl.extraction")

EMPTY_HASH = hashlib.sha256(b"").hexdigest()

# The stages a failure is counted under (the keys of ExtractedPage.failures).
PARSE = "parse"  # the markup could not be turned into a tree
RESOLVE = "resolve"  # a URL (a link, <base>, an image, the canonical) could not be resolved
METADATA = "metadata"  # title, description, language or canonical URL could not be read
MAIN_CONTENT = "main_content"  # the main content could not be chosen
RENDER = "render"  # the main content, or part of it, could not be rendered as Markdown
STAGES = (PARSE, RESOLVE, METADATA, MAIN_CONTENT, RENDER)


@dataclass(slots=True)
class Heading:
    level: int
    text: str
    anchor: str | None  # the id a URL fragment can point at, e.g. "installation"


class Block(NamedTuple):
    """One rendered block of the main content: a paragraph, heading, list, code block, table."""

    kind: str  # "p", "h", "list", "code", "table", "quote", "hr"
    markdown: str
    text: str


@dataclass(slots=True)
class ExtractionAudit:
    """How much of the page the extraction kept, and which rule chose the main region.

    ``*_found`` count the whole page's visible markup, ``*_kept`` what the main content kept.
    Stored with the page (``Page.extraction_audit``) so that a user can find the pages whose
    extraction should be checked (``text_share`` low, or a heading or code block lost).
    """

    visible_words: int = 0  # words of the page's visible text (no script, style, hidden)
    kept_words: int = 0  # words of the main text
    visible_link_words: int = 0  # of those, words of link text
    kept_link_words: int = 0
    headings_found: int = 0
    headings_kept: int = 0
    code_blocks_found: int = 0  # <pre> blocks
    code_blocks_kept: int = 0
    tables_found: int = 0  # data tables (layout tables are not counted)
    tables_kept: int = 0
    rule: str = "none"  # e.g. "role=main", "main", "article", "class:rst-content", "density"

    @property
    def text_share(self) -> float:
        """The share of the page's visible words that the main text kept (1.0 for no text).

        Link text counts a third, on both sides: a page's navigation is links, so a sound page
        under a long menu still shows a high share, and an index page whose content is its
        links is not mistaken for a loss.
        """
        visible = _weighted(self.visible_words, self.visible_link_words)
        if visible <= 0:
            return 1.0
        kept = _weighted(self.kept_words, self.kept_link_words)
        return round(min(1.0, kept / visible), 4)

    def as_dict(self) -> dict[str, Any]:
        return {
            "text_share": self.text_share,
            "visible_words": self.visible_words,
            "kept_words": self.kept_words,
            "visible_link_words": self.visible_link_words,
            "kept_link_words": self.kept_link_words,
            "headings": [self.headings_found, self.headings_kept],
            "code_blocks": [self.code_blocks_found, self.code_blocks_kept],
            "tables": [self.tables_found, self.tables_kept],
            "rule": self.rule,
        }


def _weighted(words: int, link_words: int) -> float:
    link_words = min(link_words, words)
    return (words - link_words) + LINK_WEIGHT * link_words


LINK_WEIGHT = 0.3


@dataclass(slots=True)
class ExtractedPage:
    title: str | None = None
    description: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    headings: list[Heading] = field(default_factory=list)
    markdown: str = ""
    text: str = ""
    links: list[str] = field(default_factory=list)
    word_count: int = 0
    content_hash: str = EMPTY_HASH
    # What failed while extracting the page: stage -> how many times; empty when nothing did.
    failures: dict[str, int] = field(default_factory=dict)
    audit: ExtractionAudit = field(default_factory=ExtractionAudit)
    # The main content's blocks, in order (markdown and text are their joins); not stored.
    blocks: list[Block] = field(default_factory=list)

    def heading_records(self) -> list[dict[str, Any]]:
        """The headings as the store keeps them (Page.headings; what sections are split by)."""
        return [{"level": h.level, "text": h.text, "anchor": h.anchor} for h in self.headings]


class FailureCounter:
    """Counts a page's extraction failures by stage into ``counts`` and logs each at DEBUG."""

    __slots__ = ("counts", "url")

    def __init__(self, url: str, counts: dict[str, int]) -> None:
        self.url = url
        self.counts = counts

    def record(self, stage: str, reason: str, *args: Any, exc_info: bool = False) -> None:
        """One failure in ``stage``; ``reason`` (a %-format of ``args``) says what failed."""
        self.counts[stage] = self.counts.get(stage, 0) + 1
        logger.debug(
            "extraction %s failure for %s: " + reason, stage, self.url, *args, exc_info=exc_info
        )
