"""Spider-trap rules: URL shapes and page contents that mean a site generates pages forever.

Each rule is a bound that a documentation site does not reach (see the defaults in settings.py)
and that a trap (an endless calendar, ever-longer queries, relative links that nest forever, a
soft-404 site answering 200 for any URL) reaches quickly. A URL that trips one is not fetched,
or a page is not stored, and the ledger says which rule it was.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

from scrapy.settings import BaseSettings

NUMBER = re.compile(r"\d+")
TOKEN = re.compile(r"[A-Za-z0-9]+")
DIGIT = re.compile(r"\d")
# URLs refused by the numbered rules that are remembered, so that an index listing one later
# can take the refusal back (about 100 bytes each, more when the ledger's URL is not the key).
MAX_REFUSED_REMEMBERED = 100_000


class TrapRules:
    """The trap rules of one crawl, with the counters the counting rules keep.

    A bound of 0 turns its rule off.
    """

    def __init__(
        self,
        max_url_length: int = 2048,
        max_path_segments: int = 24,
        max_segment_repeats: int = 3,
        max_query_params: int = 12,
        max_query_variants: int = 100,
        max_numbered_chain: int = 100,
        max_numbered_shape: int = 500,
        max_same_content: int = 20,
    ):
        self.max_url_length = max_url_length
        self.max_path_segments = max_path_segments
        self.max_segment_repeats = max_segment_repeats
        self.max_query_params = max_query_params
        self.max_query_variants = max_query_variants
        self.max_numbered_chain = max_numbered_chain
        self.max_numbered_shape = max_numbered_shape
        self._numbered_shapes: Counter[int] = Counter()
        self.max_same_content = max_same_content
        # Counters keyed by hash: a big crawl sees a million URLs.
        self._query_variants: Counter[int] = Counter()
        # URLs the numbered rules refused when found through a chain (by hash, to the URL the
        # ledger has): an index, a table of contents or a sitemap that lists one later says it
        # is a page after all. Bounded: past the bound a refusal is final.
        self._refused_numbered: dict[int, str | None] = {}  # None: the URL is the key
        self._same_content: Counter[int] = Counter()

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> TrapRules:
        return cls(
            max_url_length=settings.getint("DOCSCRAWL_TRAP_MAX_URL_LENGTH"),
            max_path_segments=settings.getint("DOCSCRAWL_TRAP_MAX_PATH_SEGMENTS"),
            max_segment_repeats=settings.getint("DOCSCRAWL_TRAP_MAX_SEGMENT_REPEATS"),
            max_query_params=settings.getint("DOCSCRAWL_TRAP_MAX_QUERY_PARAMS"),
            max_query_variants=settings.getint("DOCSCRAWL_TRAP_MAX_QUERY_VARIANTS"),
            max_numbered_chain=settings.getint("DOCSCRAWL_TRAP_MAX_NUMBERED_CHAIN"),
            max_numbered_shape=settings.getint("DOCSCRAWL_TRAP_MAX_NUMBERED_SHAPE"),
            max_same_content=settings.getint("DOCSCRAWL_TRAP_MAX_SAME_CONTENT"),
        )

    def check_url(self, key: str, numbered_chain: int = 0, url: str | None = None) -> str | None:
        """The rule a new (normalised) URL trips, in words, or None; counts it if it passes.

        ``numbered_chain`` is how many pages of the URL's numbered shape led to it, each found
        on the one before (see ``numbered_chain``). Call once per distinct URL the crawl would
        fetch: the counting rules count calls. ``url`` is the URL as the ledger records it
        (default: key), remembered when a numbered rule refuses it (see listed_after_all).
        """
        if self.max_url_length and len(key) > self.max_url_length:
            return (
                f"URL longer than {self.max_url_length} characters (DOCSCRAWL_TRAP_MAX_URL_LENGTH)"
            )
        parts = urlsplit(key)
        segments = [segment for segment in parts.path.split("/") if segment]
        if self.max_path_segments and len(segments) > self.max_path_segments:
            return (
                f"path deeper than {self.max_path_segments} segments "
                "(DOCSCRAWL_TRAP_MAX_PATH_SEGMENTS)"
            )
        if self.max_segment_repeats and segments:
            segment, repeats = Counter(segments).most_common(1)[0]
            if repeats > self.max_segment_repeats:
                return (
                    f"path segment {segment!r} repeated {repeats} times "
                    "(DOCSCRAWL_TRAP_MAX_SEGMENT_REPEATS)"
                )
        if parts.query:
            params = parts.query.count("&") + 1
            if self.max_query_params and params > self.max_query_params:
                return (
                    f"{params} query parameters, more than {self.max_query_params} "
                    "(DOCSCRAWL_TRAP_MAX_QUERY_PARAMS)"
                )
            # Facets multiply (?page=2&sort=asc&view=grid...); one parameter alone is a wiki's
            # ?id=page or a pager, which the numbered chain bounds.
            if self.max_query_variants and params > 1:
                path = hash(parts.path)
                if self._query_variants[path] >= self.max_query_variants:
                    return (
                        f"more than {self.max_query_variants} multi-parameter query strings for "
                        f"{parts.path} "
                        "(DOCSCRAWL_TRAP_MAX_QUERY_VARIANTS)"
                    )
                self._query_variants[path] += 1
        if self.max_numbered_chain and numbered_chain > self.max_numbered_chain:
            self._remember_refused(key, url)
            return (
                f"{numbered_chain} pages like {NUMBER.sub('N', parts.path)} in a row, each "
                f"found only on one before it with new numbers, more than "
                f"{self.max_numbered_chain} (DOCSCRAWL_TRAP_MAX_NUMBERED_CHAIN)"
            )
        if self.max_numbered_shape and numbered_chain > 0:
            # A chain bounds how deep minted numbers go, not how wide: five links per page
            # under fresh session ids grow a tree. Count the URLs of one shape found that way.
            shape = hash(TOKEN.sub(_blank_numbered, f"{parts.path}?{parts.query}"))
            if self._numbered_shapes[shape] >= self.max_numbered_shape:
                self._remember_refused(key, url)
                return (
                    f"more than {self.max_numbered_shape} URLs like "
                    f"{TOKEN.sub(_blank_numbered, parts.path)}, each found on a page with other "
                    "numbers (DOCSCRAWL_TRAP_MAX_NUMBERED_SHAPE)"
                )
            self._numbered_shapes[shape] += 1
        return None

    def _remember_refused(self, key: str, url: str | None) -> None:
        if len(self._refused_numbered) < MAX_REFUSED_REMEMBERED:
            self._refused_numbered[hash(key)] = None if url in (None, key) else url

    def has_refusals(self) -> bool:
        """Whether any refusal could be taken back (a cheap check before listed_after_all)."""
        return bool(self._refused_numbered)

    def listed_after_all(self, key: str) -> str | None:
        """The URL (as the ledger has it) of key, if the numbered rules refused it through a
        chain, else None; once: it is then forgotten. Found again at chain 0 (listed by an
        index, a table of contents or a sitemap, which a trap's minted URLs never are), it is a
        page to fetch: the order pages come back in must not decide that a big numbered manual
        (ch01s02.html...) is a trap."""
        digest = hash(key)
        if digest not in self._refused_numbered:
            return None
        return self._refused_numbered.pop(digest) or key

    def check_content(self, title: str | None, content_hash: str) -> str | None:
        """The rule a fetched page trips (a site answering any URL with one page), or None.

        Title and main text together: stub pages (``Deprecated. See below.``) share a main
        text, but each has its own title.
        """
        if not self.max_same_content:
            return None
        same = hash((title, content_hash))
        self._same_content[same] += 1
        if self._same_content[same] > self.max_same_content:
            return (
                f"the same title and main text as {self.max_same_content} pages already stored, "
                "as a site that answers any URL with one page does "
                "(DOCSCRAWL_TRAP_MAX_SAME_CONTENT)"
            )
        return None


def _blank_numbered(token: re.Match[str]) -> str:
    return "N" if DIGIT.search(token[0]) else token[0]


def numbered_tokens(key: str) -> frozenset[str]:
    """The URL's tokens that carry a digit: numbers, dates, versions, session and hex ids."""
    parts = urlsplit(key)  # the path and query: a host such as 127.0.0.1:8000 is no page number
    return frozenset(
        token for token in TOKEN.findall(f"{parts.path}?{parts.query}") if DIGIT.search(token)
    )


def numbered_chain(page_key: str, page_chain: int, link_key: str) -> int:
    """The numbered chain of a link first found on a page.

    An endless calendar, pager or session-id site mints a new number or id on each page, and
    each new URL is reachable only from a page that has one too: the chain grows by one per
    such page (``/cal/2026/12/`` -> ``/cal/2026/11/``; ``/s-8f3a.../intro`` ->
    ``/s-91bc.../p1``) and carries over links that keep the page's numbers
    (``/cal/2026/12/`` -> ``/cal/2026/12/week/``). Numbered pages that an index, a table of
    contents or a sitemap lists (PEP 1 to PEP 8000, chapter-1 to chapter-90) start at 0,
    however many there are, because their index has no number of its own.
    """
    page_tokens = numbered_tokens(page_key)
    if not page_tokens:
        return 0
    link_tokens = numbered_tokens(link_key)
    if not link_tokens:
        return 0
    return page_chain + 1 if link_tokens - page_tokens else page_chain


class SoftNotFound:
    """The page a site answers with 200 for a URL that does not exist (a soft 404).

    At the start the crawl asks for a URL under its prefix that cannot exist. If the site
    answers it with a page, that page is the site's "not found" page; a page later fetched with
    the same title and the same main text (once each page's own URL is blanked out of it, since
    such pages often echo the missing path) is one too, and is not stored.
    """

    def __init__(self) -> None:
        self.signature: tuple[int, int] | None = None

    @staticmethod
    def probe_path(prefix: str) -> str:
        """A path under prefix that no site has."""
        import secrets

        return f"{prefix}docscrawl-missing-{secrets.token_hex(6)}"

    @staticmethod
    def _shape(url: str, text: str) -> int:
        from urllib.parse import unquote

        parts = urlsplit(url)
        for echoed in sorted({url, unquote(url), parts.path, unquote(parts.path)}, key=len)[::-1]:
            if echoed and echoed != "/":
                text = text.replace(echoed, "\x00")
        name = parts.path.rstrip("/").rsplit("/", 1)[-1]
        if name:
            text = text.replace(unquote(name), "\x00")
        return hash(" ".join(text.split()))

    def learn(self, url: str, title: str | None, text: str) -> None:
        self.signature = (self._shape(url, title or ""), self._shape(url, text))

    def matches(self, url: str, title: str | None, text: str) -> bool:
        if self.signature is None or self._shape(url, title or "") != self.signature[0]:
            return False
        return self._shape(url, text) == self.signature[1]
