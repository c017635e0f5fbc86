"""URL identity and crawl scope: one normalised string per page."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

DEFAULT_PORTS = {"http": 80, "https": 443}
# Query parameters that identify a visit, not a page.
TRACKING_PARAMETERS = {
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id",
    "gclid", "fbclid", "msclkid", "dclid", "yclid", "mc_cid", "mc_eid", "_ga", "_gl", "ref_src",
}  # fmt: skip
INDEX_FILES = ("index.html", "index.htm")


@lru_cache(maxsize=1)
def skipped_extensions() -> frozenset[str]:
    """Scrapy's IGNORED_EXTENSIONS, dotted. Read on first use: importing Scrapy costs every CLI
    command that only reads the store (job_state imports this module) ~0.3 s of start-up."""
    from scrapy.linkextractors import IGNORED_EXTENSIONS

    return frozenset("." + ext for ext in IGNORED_EXTENSIONS)


@lru_cache(maxsize=4096)
def normalize_url(url: str) -> str:
    """The identity of the page at url (cached: every page repeats the same nav links).

    Drops the fragment and tracking parameters, sorts the query, lower-cases scheme and host,
    drops a default port, resolves ``.``/``..`` and folds ``dir/index.html`` into ``dir/``.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = parts.path or "/"
    if "." in path:
        trailing = path.endswith("/")
        path = posixpath.normpath(path)
        path = "/" if path in (".", "//") else path.replace("//", "/")
        if trailing and not path.endswith("/"):
            path += "/"
    name = path.rsplit("/", 1)[-1]
    if name in INDEX_FILES:
        path = path[: -len(name)]
    query = parts.query
    if query:
        query = urlsplit(
            url_query_cleaner("?" + query, TRACKING_PARAMETERS, remove=True, keep_fragments=False)
        ).query
    return canonicalize_url(urlunsplit((scheme, netloc, path, query, "")))


def has_skipped_extension(url: str) -> bool:
    """True for links to files that are not pages (PDF, images, archives...)."""
    path = urlsplit(url).path.lower()
    dot = path.rfind(".")
    return dot > path.rfind("/") and path[dot:] in skipped_extensions()


class CrawlScope:
    """Which URLs belong to a crawl: the start URL's host, under its path prefix."""

    def __init__(self, start_url: str):
        parts = urlsplit(normalize_url(start_url))
        self.scheme = parts.scheme
        self.host = parts.hostname or ""
        self.netloc = parts.netloc
        path = parts.path or "/"
        last = path.rsplit("/", 1)[-1]
        if path.endswith("/"):
            self.prefix = path
        elif "." in last:
            self.prefix = path[: path.rfind("/") + 1]  # /docs/intro.html -> /docs/
        else:
            self.prefix = path + "/"  # /docs -> /docs/ (and /docs itself)
        self.exact = self.prefix.rstrip("/")

    def __str__(self) -> str:
        """The scope as a URL prefix: "http://host:port/docs/"."""
        return f"{self.scheme}://{self.netloc}{self.prefix}"

    def contains(self, normalized_url: str) -> bool:
        """True if the (already normalised) URL is on the host and under the prefix."""
        parts = urlsplit(normalized_url)
        if parts.scheme not in ("http", "https") or parts.netloc != self.netloc:
            return False
        return parts.path.startswith(self.prefix) or parts.path == self.exact


class UrlKeySet:
    """A set of normalised URLs that keeps only their 64-bit hashes.

    A big crawl remembers every URL it has seen; strings cost about 130 bytes each, hashes about
    40. Two URLs of one crawl sharing a 64-bit hash is vanishingly unlikely (about 3e-8 for a
    million URLs), and the cost would be one page skipped.
    """

    __slots__ = ("_hashes",)

    def __init__(self) -> None:
        self._hashes: set[int] = set()

    def add(self, key: str) -> None:
        self._hashes.add(hash(key))

    def update(self, keys: Iterable[str]) -> None:
        self._hashes.update(hash(key) for key in keys)

    def __contains__(self, key: object) -> bool:
        return hash(key) in self._hashes

    def __len__(self) -> int:
        return len(self._hashes)
