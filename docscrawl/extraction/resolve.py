"""Resolving URLs: a page's hrefs (links, images, the canonical) against its base URL.

The base is the page's URL, or its ``<base href>`` when that is an http(s) URL. Each distinct
href is resolved once per page (the resolver remembers it, for the links, the rendered Markdown
and the canonical URL alike), so an href that cannot be resolved is counted once.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml import etree

from docscrawl.extraction.page import RESOLVE, FailureCounter

_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "vbscript:", "about:", "blob:")
_BASE_HREF = etree.XPath("(//base[@href])[1]/@href")
_HREFS = etree.XPath("//a/@href|//area/@href")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:").match


def document_base(root: etree._Element, base_url: str, failures: FailureCounter) -> str:
    """The URL the page's hrefs are relative to: its http(s) ``<base href>``, else ``base_url``."""
    hrefs = _BASE_HREF(root)
    if hrefs and hrefs[0].strip():
        try:
            joined = urljoin(base_url, hrefs[0].strip())
        except ValueError:
            failures.record(RESOLVE, "cannot resolve <base href=%r>", hrefs[0].strip())
            return base_url
        if joined.lower().startswith(("http://", "https://")):
            return joined
    return base_url


class Resolver:
    """Resolves hrefs against the document base, remembering each one.

    The common shapes of reference (``#frag``, ``?q``, ``/path``, ``page.html``, an absolute
    http(s) URL) are joined by string concatenation, which gives what ``urljoin`` gives; anything
    with dot segments or another shape goes through ``urljoin``.
    """

    __slots__ = ("_directory", "_document", "_failures", "_origin", "_path", "base", "cache")

    def __init__(self, base: str, failures: FailureCounter) -> None:
        self.base = base
        self.cache: dict[str, str | None] = {}
        self._failures = failures
        self._origin = None
        try:
            parts = urlsplit(base)
        except ValueError:  # not a failure yet: each href is joined by urljoin, and counted there
            return
        if parts.scheme in ("http", "https") and parts.netloc and parts.path and "\\" not in base:
            path = parts.path
            self._origin = f"{parts.scheme}://{parts.netloc}"
            self._path = self._origin + path
            self._directory = path[: path.rfind("/") + 1]
            self._document = self._path + (f"?{parts.query}" if parts.query else "")

    def __call__(self, href: str) -> str | None:
        try:
            return self.cache[href]
        except KeyError:
            pass
        url = href.strip()
        if "\n" in url or "\t" in url or "\r" in url:
            url = url.replace("\n", "").replace("\t", "").replace("\r", "")
        resolved = None if url[:11].lower().startswith(_SKIP_SCHEMES) else self._join(url)
        self.cache[href] = resolved
        return resolved

    def _join(self, url: str) -> str | None:
        origin = self._origin
        if origin is not None and "\\" not in url:
            first = url[:1]
            if not first:
                return self._document
            if first in "#?":
                if len(url) > 1:
                    return (self._document if first == "#" else self._path) + url
            elif first == "/":
                if url[1:2] != "/" and "/." not in url:
                    return origin + url
            elif first == ".":  # ./page, ../page, ../../dir/
                ups = 0
                rest = url
                while rest[:1] == ".":
                    if rest.startswith("../"):
                        ups += 1
                        rest = rest[3:]
                    elif rest.startswith("./"):
                        rest = rest[2:]
                    else:
                        break
                if rest[:1] != "." and "/." not in rest:
                    directory = self._directory
                    for _ in range(ups):
                        directory = directory[: directory.rstrip("/").rfind("/") + 1] or "/"
                    return origin + directory + rest
            elif _SCHEME(url) is None:
                if "/." not in url:
                    return origin + self._directory + url
            elif (
                url.startswith(("http://", "https://")) and url.find("/", 8) > 0 and "/." not in url
            ):
                return url
        try:
            return urljoin(self.base, url) or None
        except ValueError as exc:
            self._failures.record(RESOLVE, "cannot resolve %r against %s (%s)", url, self.base, exc)
            return None


def page_links(root: etree._Element, resolve: Resolver) -> list[str]:
    """The page's distinct http(s) links (<a> and <area>), resolved, without fragments."""
    seen: set[str] = set()
    links: list[str] = []
    done: set[str] = set()
    for href in _HREFS(root):
        if href in done:
            continue
        done.add(href)
        url = resolve(href)
        if not url:
            continue
        url = url.partition("#")[0]
        if url not in seen and url[:8].lower().startswith(("http://", "https://")):
            seen.add(url)
            links.append(url)
    return links
