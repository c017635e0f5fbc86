"""Learning a site's template during a crawl: blocks that repeat on most pages are boilerplate.

A crawl sees hundreds of pages of one template. Whatever of the template survives the main
content rules (a "this manual is for version 3" box, a navigation list of a theme no rule knows,
a footer inside the content region) comes back, word for word, on most pages; real content does
not. So the crawl counts, for each short block of main content (a paragraph, a list, a table,
a quote; never a heading or a code block; only near the start or the end of the content, and of
four words or more), on how many pages it appears. Once the crawl has seen
``min_pages`` pages, a block found on at least ``share`` of them is boilerplate:

- pages extracted from then on are stored without it (``strip``);
- pages stored before it was known are fixed in the store when the crawl closes, in one pass
  (``pages_to_fix`` says which, ``remove_from`` does the rewrite).

Why both, and not only a post-pass: on a large site nearly every page is stored clean the first
time (the template is known after ``min_pages``), so the closing pass touches a few dozen pages,
not thousands; on a small site (ten pages) the closing pass is what removes it at all.

Memory is bounded: only blocks up to ``max_block_chars`` are counted (template blocks are
short), at most ``max_tracked`` distinct ones, each as a 64-bit hash; every ``PRUNE_EVERY`` pages
the blocks seen on one page only are forgotten (a template block repeats long before it reaches
its share), and the Markdown and text of a block are kept only once it repeated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from docscrawl.extraction.audit import markdown_link_words, words
from docscrawl.extraction.page import Block, ExtractedPage
from docscrawl.extraction.render import set_content, set_text

# Blocks that can be template: not headings (they structure the page, and the sections) and
# not code (the same example on many pages is still an example).
_LEARNED_KINDS = frozenset(("p", "list", "table", "quote"))
PRUNE_EVERY = 500  # pages between two forgettings of the blocks seen once
EDGE_BLOCKS = 4  # blocks at each end of a page's content that can be template
MIN_WORDS = 4  # shorter blocks are labels and titles, which repeat because they are structure


def fingerprint(block: Block) -> int:
    normalised = " ".join(block.text.split()).casefold()
    return int.from_bytes(hashlib.blake2b(normalised.encode(), digest_size=8).digest(), "big")


@dataclass
class TemplateLearner:
    min_pages: int = 10
    share: float = 0.8
    max_block_chars: int = 400
    max_tracked: int = 200_000
    pages: int = 0
    counts: dict[int, int] = field(default_factory=dict)
    # The Markdown and text of every block seen at least twice (a candidate).
    repeated: dict[int, Block] = field(default_factory=dict)
    # Per stored page key: the candidate fingerprints it was stored with (for the closing pass).
    stored_with: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def _candidates(self, page: ExtractedPage) -> dict[int, Block]:
        """The page's blocks that can be template: at the edges of its content (the first and
        last few, where a theme puts notices and footers; the middle of a page is its own),
        short, and sentences rather than labels ("Parameters:", "Returns", "Note")."""
        blocks = page.blocks
        edges = blocks[:EDGE_BLOCKS] + blocks[max(EDGE_BLOCKS, len(blocks) - EDGE_BLOCKS) :]
        found: dict[int, Block] = {}
        for block in edges:
            if (
                block.kind in _LEARNED_KINDS
                and len(block.text) <= self.max_block_chars
                and len(block.text.split()) >= MIN_WORDS
            ):
                found.setdefault(fingerprint(block), block)
        return found

    def is_boilerplate(self, key: int) -> bool:
        return self.pages >= self.min_pages and self.counts.get(key, 0) >= self.share * self.pages

    def learn_and_strip(self, page_key: str, page: ExtractedPage) -> int:
        """Count this page's blocks, then drop the known boilerplate from it; how many dropped."""
        candidates = self._candidates(page)
        self.pages += 1
        counts = self.counts
        for key, block in candidates.items():
            count = counts.get(key)
            if count is None:
                if len(counts) >= self.max_tracked:
                    continue
                count = 0
            counts[key] = count + 1
            if count == 1:
                self.repeated[key] = block
        drop = {block for key, block in candidates.items() if self.is_boilerplate(key)}
        if drop:
            page.blocks = [block for block in page.blocks if block not in drop]
            set_content(page, page.blocks)
            audit = page.audit
            audit.kept_words = words(page.text)
            audit.kept_link_words = markdown_link_words(page.markdown)
            audit.tables_kept = sum(1 for block in page.blocks if block.kind == "table")
        remaining = tuple(key for key, block in candidates.items() if block not in drop)
        if remaining:
            self.stored_with[page_key] = remaining
        if self.pages % PRUNE_EVERY == 0:
            self._prune()
        return len(drop)

    def _prune(self) -> None:
        """Forget blocks seen on one page only: what the site repeats shows up twice long before
        it is on a share of the pages, and unique content is most of what is counted."""
        counts = {key: count for key, count in self.counts.items() if count > 1}
        self.counts = counts
        self.stored_with = {
            page_key: kept
            for page_key, keys in self.stored_with.items()
            if (kept := tuple(key for key in keys if key in counts))
        }

    def boilerplate(self) -> dict[int, Block]:
        """The blocks known to be template now."""
        return {key: block for key, block in self.repeated.items() if self.is_boilerplate(key)}

    def pages_to_fix(self) -> dict[str, list[Block]]:
        """Pages stored before a block of theirs was known to be template, and those blocks."""
        known = self.boilerplate()
        if not known:
            return {}
        fixes: dict[str, list[Block]] = {}
        for page_key, keys in self.stored_with.items():
            blocks = [known[key] for key in keys if key in known]
            if blocks:
                fixes[page_key] = blocks
        return fixes


def remove_from(markdown: str, text: str, blocks: Iterable[Block]) -> ExtractedPage:
    """A stored page's Markdown and text without the given whole blocks.

    Returns a page holding the new Markdown, text, word count and content hash.
    Blocks are matched whole (between blank lines in the Markdown, between lines in the text),
    so a sentence that merely contains a template block's words is left alone.
    """
    padded_md = f"\n\n{markdown}\n\n"
    padded_text = f"\n{text}\n"
    for block in blocks:
        padded_md = _replace_all(padded_md, f"\n\n{block.markdown}\n\n", "\n\n")
        if block.text:
            padded_text = _replace_all(padded_text, f"\n{block.text}\n", "\n")
    page = ExtractedPage()
    page.markdown = padded_md.strip("\n")
    set_text(page, padded_text.strip("\n"))
    return page


def _replace_all(text: str, old: str, new: str) -> str:
    # Again until nothing changes: "\n\nA\n\nA\n\n" has two blocks sharing one separator.
    while old in text:
        text = text.replace(old, new)
    return text
