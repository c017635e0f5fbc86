"""The corpus's content, defined once: three pages of a small library's documentation.

Every generator renders these same specs in its own content markup (tests/corpus/*.py), so
the ground truth (headings, code blocks, tables, main text) follows from the spec, not from
any generator. A :class:`Style` says the few things a generator changes in what a reader sees:
the label of a note ("Note", "API Note:", "TIP"), whether child-page links carry a summary,
and whether two examples sit side by side in a layout table.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

# -- the spec ---------------------------------------------------------------------------------

# Inline content of a paragraph, a list item or a table cell: plain text, or (kind, text) with
# kind "code" (inline code), "em", or "link:<href>".
Inline = str | tuple[str, str]


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    id: str


@dataclass(frozen=True)
class Para:
    parts: tuple[Inline, ...]


@dataclass(frozen=True)
class BulletList:
    items: tuple[tuple[Inline, ...], ...]


@dataclass(frozen=True)
class Code:
    language: str
    text: str  # exact, several lines, indentation that matters

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[Inline, ...], ...]


@dataclass(frozen=True)
class Note:
    kind: str  # "note" or "warning"
    parts: tuple[Inline, ...]


@dataclass(frozen=True)
class Aside:
    """A box beside the text that belongs to the content: a title, a paragraph, an example."""

    title: str
    parts: tuple[Inline, ...]
    code: Code


@dataclass(frozen=True)
class ChildLink:
    text: str
    href: str
    summary: str
    children: tuple[ChildLink, ...] = ()


@dataclass(frozen=True)
class ChildPages:
    """A chapter's table of contents: its links to the child pages are the content."""

    links: tuple[ChildLink, ...]


@dataclass(frozen=True)
class SideBySide:
    """Two examples next to each other (a header-less layout table where a generator allows)."""

    left: Code
    right: Code


Block = Heading | Para | BulletList | Code | Table | Note | Aside | ChildPages | SideBySide


@dataclass(frozen=True)
class PageSpec:
    slug: str  # file name without extension
    kind: str  # "content", "index" or "aside"
    title: str
    title_id: str
    blocks: tuple[Block, ...]

    @property
    def headings(self) -> list[Heading]:
        return [Heading(1, self.title, self.title_id)] + [
            b for b in self.blocks if isinstance(b, Heading)
        ]


INSTALL_CODE = Code("bash", "python -m pip install retryable\npython -m retryable --version")
POLICY_CODE = Code(
    "python",
    """from retryable import RetryPolicy

policy = RetryPolicy(
    max_attempts=5,
    backoff=0.5,
)

def fetch(session, url):
    for attempt in policy.attempts():
        response = session.get(url, timeout=10)
        if response.status_code < 500:
            return response
    raise policy.exhausted(url)""",
)
CONFIG_CODE = Code(
    "ini",
    """[retryable]
max_attempts = 5
retry_on =
    502
    503""",
)
JITTER_CODE = Code(
    "python",
    """import random

def jittered(delay):
    return delay * random.uniform(0.5, 1.5)""",
)
EXPONENTIAL_CODE = Code(
    "python",
    """policy = RetryPolicy(
    backoff=0.5,
    strategy="exponential",
)""",
)
LINEAR_CODE = Code(
    "python",
    """policy = RetryPolicy(
    backoff=0.5,
    strategy="linear",
)""",
)
CAP_CODE = Code(
    "python",
    """policy = policy.replace(
    max_wait=30.0,
)""",
)

CONTENT_PAGE = PageSpec(
    slug="configuration",
    kind="content",
    title="Configuring retries",
    title_id="configuring-retries",
    blocks=(
        Para(
            (
                "Retryable reads its settings from a ",
                ("code", "RetryPolicy"),
                " object. Every option has a default that suits most HTTP clients, so a "
                "policy only names what it changes.",
            )
        ),
        Heading(2, "Installing the package", "installing-the-package"),
        Para(("Install it with pip into the environment that runs your client:",)),
        INSTALL_CODE,
        Heading(2, "Defining a policy", "defining-a-policy"),
        Para(
            (
                "A policy is built once and shared by every request. The loop below tries a "
                "request until the server stops answering with an error:",
            )
        ),
        POLICY_CODE,
        Heading(3, "Policy options", "policy-options"),
        Table(
            ("Option", "Default", "Meaning"),
            (
                (("code", "max_attempts"), "3", "How many times a request is tried"),
                (("code", "backoff"), "0.5", "Seconds before the first retry, doubled each time"),
                (("code", "retry_on"), "502, 503, 504", "Status codes that are retried"),
            ),
        ),
        Note(
            "note",
            (
                "A policy is immutable: derive a new one with ",
                ("code", "policy.replace(backoff=1.0)"),
                " instead of changing it in place.",
            ),
        ),
        Heading(2, "Reading settings from a file", "reading-settings-from-a-file"),
        Para(
            (
                "Long-running services keep their policy in an INI file. Indented lines "
                "continue the value above them:",
            )
        ),
        CONFIG_CODE,
        Heading(2, "Logging retries", "logging-retries"),
        BulletList(
            (
                ("Each retry is logged at ", ("code", "INFO"), " with the attempt number."),
                ("The final failure is logged at ", ("code", "WARNING"), "."),
                ("Set the logger to ", ("em", "debug"), " to see the wait before each attempt."),
            )
        ),
    ),
)

INDEX_PAGE = PageSpec(
    slug="index",
    kind="index",
    title="User guide",
    title_id="user-guide",
    blocks=(
        Para(
            (
                "The guide walks through Retryable from the first request to tuning it for "
                "production. Read the chapters in order:",
            )
        ),
        ChildPages(
            (
                ChildLink("Installation", "install", "Get the package and check the version."),
                ChildLink(
                    "Configuring retries",
                    "configuration",
                    "Build a policy and choose its options.",
                    (
                        ChildLink("Policy options", "configuration#policy-options", ""),
                        ChildLink("Logging retries", "configuration#logging-retries", ""),
                    ),
                ),
                ChildLink("Backoff strategies", "backoff", "How long to wait between tries."),
                ChildLink("Testing with fake servers", "testing", "Make failures on demand."),
                ChildLink("Upgrading from version 1", "upgrading", "What was renamed."),
            )
        ),
        Heading(2, "Conventions", "conventions"),
        Para(
            (
                "Examples assume Python 3.11 and a ",
                ("code", "requests"),
                " session named ",
                ("code", "session"),
                ".",
            )
        ),
    ),
)

ASIDE_PAGE = PageSpec(
    slug="backoff",
    kind="aside",
    title="Backoff strategies",
    title_id="backoff-strategies",
    blocks=(
        Para(
            (
                "Between two attempts a policy waits. How long it waits decides whether a "
                "struggling server recovers or drowns in retries.",
            )
        ),
        Aside(
            "Why jitter helps",
            (
                "When many clients fail at once, identical waits make them retry in lockstep. "
                "Jitter spreads the retries out over time:",
            ),
            JITTER_CODE,
        ),
        Heading(2, "Exponential backoff", "exponential-backoff"),
        Para(
            (
                "Each wait doubles the one before it, starting from ",
                ("code", "backoff"),
                " seconds.",
            )
        ),
        Heading(2, "Comparing strategies", "comparing-strategies"),
        Para(("The two policies below differ only in how the wait grows:",)),
        SideBySide(EXPONENTIAL_CODE, LINEAR_CODE),
        Heading(2, "Capping the wait", "capping-the-wait"),
        Para(("Without a cap the wait grows without bound. Set a ceiling:",)),
        CAP_CODE,
        Note(
            "warning",
            ("A cap below the server's own rate-limit window makes every retry fail again.",),
        ),
    ),
)

PAGES: tuple[PageSpec, ...] = (CONTENT_PAGE, INDEX_PAGE, ASIDE_PAGE)

# Every page's site: the global navigation lists the guide's pages and a few the corpus never
# renders. Those extra labels are boilerplate on every page (no page's content names them).
NAV_EXTRA = ("Changelog", "Contributing guide", "Security policy")


@dataclass(frozen=True)
class Style:
    """What a generator changes in what a reader sees of the content."""

    note_labels: dict[str, str] = field(
        default_factory=lambda: {"note": "Note", "warning": "Warning"}
    )
    link_summaries: bool = False  # child-page links are followed by their summary
    side_by_side: bool = False  # SideBySide as a header-less layout table (else one after other)


# -- the ground truth -------------------------------------------------------------------------


@dataclass
class Truth:
    headings: list[str]
    code_blocks: list[str]
    tables: list[list[str]]  # each table's cell texts, header first
    text: str
    boilerplate: list[str]


def inline_text(parts: tuple[Inline, ...]) -> str:
    return "".join(p if isinstance(p, str) else p[1] for p in parts)


def _links_text(links: tuple[ChildLink, ...], style: Style) -> list[str]:
    out = []
    for link in links:
        out.append(link.text)
        if style.link_summaries and link.summary:
            out.append(link.summary)
        out.extend(_links_text(link.children, style))
    return out


def truth(spec: PageSpec, style: Style, boilerplate: list[str]) -> Truth:
    """What a reader calls the page's content, as the spec and the generator's style make it."""
    text: list[str] = [spec.title]
    codes: list[str] = []
    tables: list[list[str]] = []
    headings = [spec.title]
    for block in spec.blocks:
        if isinstance(block, Heading):
            headings.append(block.text)
            text.append(block.text)
        elif isinstance(block, Para):
            text.append(inline_text(block.parts))
        elif isinstance(block, BulletList):
            text.extend(inline_text(item) for item in block.items)
        elif isinstance(block, Code):
            codes.append(block.text)
            text.append(block.text)
        elif isinstance(block, SideBySide):
            codes.extend((block.left.text, block.right.text))
            text.extend((block.left.text, block.right.text))
        elif isinstance(block, Table):
            cells = list(block.header) + [cell_text(c) for row in block.rows for c in row]
            tables.append(cells)
            text.extend(cells)
        elif isinstance(block, Note):
            text.append(style.note_labels[block.kind])
            text.append(inline_text(block.parts))
        elif isinstance(block, Aside):
            text.extend((block.title, inline_text(block.parts), block.code.text))
            codes.append(block.code.text)
        elif isinstance(block, ChildPages):
            text.extend(_links_text(block.links, style))
    return Truth(headings, codes, tables, "\n".join(text), list(boilerplate))


def cell_text(cell: Inline) -> str:
    return cell if isinstance(cell, str) else cell[1]


# -- helpers the generators share -------------------------------------------------------------

esc = html.escape


def render_inline(parts: tuple[Inline, ...], code: str = "<code>{}</code>") -> str:
    """Inline parts as HTML; ``code`` is the generator's inline-code template."""
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(esc(part, quote=False))
        else:
            kind, text = part
            if kind == "code":
                out.append(code.format(esc(text, quote=False)))
            elif kind == "em":
                out.append(f"<em>{esc(text, quote=False)}</em>")
            else:
                href = kind.split(":", 1)[1]
                out.append(f'<a href="{esc(href)}">{esc(text, quote=False)}</a>')
    return "".join(out)


_TOKEN = re.compile(
    r"(?P<ws>[ \t]+)|(?P<str>\"[^\"]*\"|'[^']*')|(?P<num>\d+(?:\.\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*/<>=%]+)|(?P<punct>[()\[\]{}:,.])|(?P<other>.)"
)
_KEYWORDS = frozenset(("from", "import", "def", "for", "in", "if", "return", "raise", "while"))


def tokens(line: str) -> list[tuple[str, str]]:
    """A line of code as (kind, text) tokens: ws, kw, str, num, name, op, punct, other."""
    out = []
    for m in _TOKEN.finditer(line):
        kind = m.lastgroup
        if kind == "name" and m.group() in _KEYWORDS:
            kind = "kw"
        out.append((kind, m.group()))
    return out


# Pygments' short classes (Sphinx, MkDocs Material, Hugo's Chroma use the same names).
PYGMENTS = {
    "ws": "w",
    "kw": "k",
    "str": "s2",
    "num": "mf",
    "name": "n",
    "op": "o",
    "punct": "p",
    "other": "err",
}


def pygments_line(line: str, classes: dict[str, str] = PYGMENTS) -> str:
    return "".join(
        f'<span class="{classes[k]}">{esc(t, quote=False)}</span>' for k, t in tokens(line)
    )
