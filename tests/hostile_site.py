"""A loopback HTTP server that misbehaves like real, messy or adversarial sites.

Each ``HostileSite`` serves one mode (see ``MODES``) from a daemon thread of the test process,
so end-to-end tests can point the crawler subprocess at ``site.url`` and read ``site.requests``
afterwards::

    with HostileSite("calendar") as site:
        crawl(site.url)
        assert site.count("/docs/calendar/") < 100
"""

from __future__ import annotations

import functools
import gzip
import random
import re
import socket
import struct
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

HTML = "text/html; charset=utf-8"
XML = "application/xml"
START = "/docs/"  # the start path of every mode
_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"

_VOCABULARY = """
    install configure deploy upgrade migrate backup restore monitor profile debug trace cache
    index query schema table column cluster node replica shard partition queue worker thread
    socket buffer stream packet header payload token session cookie proxy gateway router
    endpoint handler plugin module package library runtime compiler interpreter parser lexer
    grammar syntax operator variable function method class object instance interface protocol
    template widget layout theme style palette font icon button dialog window screen keyboard
    mouse printer scanner camera sensor battery signal channel filter encoder decoder codec
    archive snapshot volume mount kernel driver firmware bootloader daemon service scheduler
    timer clock calendar locale timezone currency invoice ledger account wallet budget report
""".split()  # noqa: SIM905 - a word list reads better as prose than as 108 quoted strings


def doc_page(title: str, path: str, links: list[str], extra_head: str = "") -> str:
    """A small documentation page whose main text is unique to (title, path)."""
    words = random.Random(title + path).sample(_VOCABULARY, 30)
    anchors = "".join(f'<li><a href="{escape(href)}">{escape(href)}</a></li>' for href in links)
    return (
        f"<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title>{extra_head}</head>\n"
        f'<body><nav><a href="/docs/">Documentation</a></nav>\n'
        f"<main><h1>{escape(title)}</h1>\n"
        f"<p>This page, {escape(path)}, explains {' '.join(words)}.</p>\n"
        f"<ul>{anchors}</ul></main></body></html>\n"
    )


@dataclass
class Reply:
    """One response: a body of bytes, or chunks with a declared ``length`` (None: undeclared)."""

    status: int = 200
    body: bytes | Iterator[bytes] = b""
    content_type: str = HTML
    headers: dict[str, str] = field(default_factory=dict)
    length: int | None = None


def page(title: str, path: str, links: list[str], extra_head: str = "") -> Reply:
    return Reply(body=doc_page(title, path, links, extra_head).encode())


def redirect(location: str) -> Reply:
    return Reply(302, headers={"Location": location})


def _number(pattern: str, path: str, low: int, high: int) -> int | None:
    """The number the pattern's one group captures, if in [low, high] and written canonically."""
    match = re.fullmatch(pattern, path)
    if match is None or str(int(match[1])) != match[1]:  # no "p01.html" alias of "p1.html"
        return None
    number = int(match[1])
    return number if low <= number <= high else None


def _home(site: HostileSite, path: str, links: list[str]) -> Reply | None:
    """The start page linking to links, and /docs/ok.html, an ordinary page."""
    if path == START:
        return page(f"{site.mode} documentation", path, links)
    if path == "/docs/ok.html":
        return page("An ordinary page", path, [START])
    return None


def _robots(sitemap: str) -> Reply:
    return Reply(
        body=f"User-agent: *\nAllow: /\nSitemap: {sitemap}\n".encode(), content_type="text/plain"
    )


# --- the modes: each answers (site, path, query) with a Reply, or None for 404 ---------------

Query = dict[str, str]


def _canonical_all(site: HostileSite, path: str, query: Query) -> Reply | None:
    # Every page claims to be /docs/, and /docs/ only leads to p1: a crawler that drops the
    # links of "duplicates" of /docs/ finds 2 of the 30 pages.
    canonical = '<link rel="canonical" href="/docs/">'
    if path == START:
        return page("Canonical home", path, ["/docs/p1.html"], canonical)
    if (i := _number(r"/docs/p(\d+)\.html", path, 1, 29)) is not None:
        links = [f"/docs/p{i + 1}.html"] if i < 29 else []
        return page(f"Chapter {i}", path, [*links, START], canonical)
    return None


def _canonical_other(site: HostileSite, path: str, query: Query) -> Reply | None:
    # Each page's canonical names its neighbour, whose content is different.
    if path == START:
        return page("Canonical index", path, [f"/docs/a{i}.html" for i in range(1, 10)])
    if (i := _number(r"/docs/a(\d+)\.html", path, 1, 9)) is not None:
        target = f"/docs/a{i + 1}.html" if i < 9 else START
        return page(f"Article {i}", path, [START], f'<link rel="canonical" href="{target}">')
    return None


def _calendar(site: HostileSite, path: str, query: Query) -> Reply | None:
    # The classic crawler trap: previous/next month links, 119,988 months of unique pages.
    if path == START:
        return page("Events", path, ["/docs/calendar/2026/12/"])
    match = re.fullmatch(r"/docs/calendar/([1-9]\d{0,3})/(0[1-9]|1[0-2])/", path)
    if match is None:
        return None
    months = int(match[1]) * 12 + int(match[2]) - 1
    links = []
    for year, month in (divmod(months - 1, 12), divmod(months + 1, 12)):
        if 1 <= year <= 9999:
            links.append(f"/docs/calendar/{year}/{month + 1:02d}/")
    return page(f"Events of {match[1]}-{match[2]}", path, [*links, START])


def _paged(site: HostileSite, path: str, query: Query) -> Reply | None:
    # Endless pagination, and each page reachable under 27 orderings of the same content.
    if path == START:
        return page("Listing", path, ["/docs/list?page=1"])
    if path != "/docs/list" or (n := _number(r"(\d+)", query.get("page", ""), 1, 10**9)) is None:
        return None

    def variant(**changes: str | int) -> str:
        return "/docs/list?" + urlencode({**query, **changes})

    links = [variant(page=n + 1), variant(sort="asc"), variant(sort="desc")]
    links += [
        variant(view="grid"),
        variant(view="list"),
        variant(per_page=10),
        variant(per_page=50),
    ]
    return page(f"Results, page {n}", f"/docs/list?page={n}", links)


def _repeat(site: HostileSite, path: str, query: Query) -> Reply | None:
    # A relative "a/" on every page: /docs/a/a/a/... never ends.
    if re.fullmatch(r"/docs/(a/)*", path):
        return page(f"Section at depth {path.count('a/')}", path, ["a/", "../"])
    return None


def _soft_404_page() -> bytes:
    # Byte for byte the same everywhere, yet its relative "more/" link resolves one level
    # deeper from every URL it is served at, so new URLs keep appearing.
    links = ["missing-4821.html", "missing-9377.html", "more/missing-1604.html"]
    return doc_page("Page not found", "(the page you asked for)", links).encode()


def _soft404(site: HostileSite, path: str, query: Query) -> Reply | None:
    if path == START:
        return page("Soft 404 home", path, ["/docs/guide.html", "/docs/api.html", "/docs/faq/"])
    if path.startswith(START):
        return Reply(body=_soft_404_page())
    return None


def _sitemap_chain(site: HostileSite, path: str, query: Query) -> Reply | None:
    # Every sitemap index names two more: 2**N sitemaps at depth N.
    if path == "/robots.txt":
        return _robots(f"{site.base}/sitemaps/0.xml")
    if (n := _number(r"/sitemaps/(\d+)b?\.xml", path, 0, sys.maxsize)) is not None:
        entries = "".join(
            f"<sitemap><loc>{site.base}/sitemaps/{n + 1}{suffix}.xml</loc></sitemap>"
            for suffix in ("", "b")
        )
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{_SITEMAP_NS}">'
        return Reply(body=f"{body}{entries}</sitemapindex>\n".encode(), content_type=XML)
    if (i := _number(r"/docs/s(\d+)\.html", path, 1, 3)) is not None:
        return page(f"Sitemap chapter {i}", path, [START])
    return _home(site, path, ["/docs/s1.html", "/docs/s2.html", "/docs/s3.html"])


def _big_sitemap(site: HostileSite, path: str, query: Query) -> Reply | None:
    # Far past the protocol's 50,000 URLs per sitemap: a crawler must cap what it takes.
    if path == "/robots.txt":
        return _robots(f"{site.base}/sitemap.xml")
    if path == "/sitemap.xml":
        return Reply(body=site.big_sitemap(), content_type=XML)
    if (i := _number(r"/docs/page-(\d+)\.html", path, 0, site.big_sitemap_urls - 1)) is not None:
        return page(f"Sitemap page {i}", path, [START])
    return _home(site, path, [f"/docs/page-{i}.html" for i in range(5)])


def _redirect_loop(site: HostileSite, path: str, query: Query) -> Reply | None:
    if path == "/docs/loop-a.html":
        return redirect("/docs/loop-b.html")
    if path == "/docs/loop-b.html":
        return redirect("/docs/loop-a.html")
    return _home(site, path, ["/docs/loop-a.html", "/docs/ok.html"])


def _redirect_chain(site: HostileSite, path: str, query: Query) -> Reply | None:
    # 30 hops, more than most clients follow (Scrapy's REDIRECT_MAX_TIMES is 20).
    if (n := _number(r"/docs/hop/(\d+)", path, 0, 30)) is not None:
        return redirect(f"/docs/hop/{n + 1}") if n < 30 else page("After 30 hops", path, [START])
    return _home(site, path, ["/docs/hop/0", "/docs/ok.html"])


def _redirect_offport(site: HostileSite, path: str, query: Query) -> Reply | None:
    # Out of the crawl's scope twice: another origin, and this origin outside /docs/.
    if path == "/docs/off.html":
        return redirect(f"{site.other_base}/docs/landing.html")
    if path == "/docs/out.html":
        return redirect(f"{site.base}/elsewhere/landing.html")
    if path == "/elsewhere/landing.html":
        return page("Outside the docs", path, [START])
    return _home(site, path, ["/docs/off.html", "/docs/out.html", "/docs/ok.html"])


def _plain(site: HostileSite, path: str, query: Query) -> Reply | None:
    if path == START:
        return page("Plain documentation", path, [f"/docs/p{i}.html" for i in range(1, 5)])
    if (i := _number(r"/docs/p(\d+)\.html", path, 1, 4)) is not None:
        return page(f"Plain chapter {i}", path, [START])
    if path in ("/docs/landing.html", "/elsewhere/landing.html"):
        return page("Landing", path, [START])
    return None


@functools.cache
def _gzip_bomb_body() -> bytes:
    """~100 KB of gzip that inflates to 100 MiB of spaces (built without a 100 MiB buffer)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip framing
    block = b" " * (1 << 20)
    return b"".join([*(packer.compress(block) for _ in range(100)), packer.flush()])


def _gzip_bomb(site: HostileSite, path: str, query: Query) -> Reply | None:
    if path == "/docs/bomb.html":
        return Reply(body=_gzip_bomb_body(), headers={"Content-Encoding": "gzip"})
    return _home(site, path, ["/docs/bomb.html", "/docs/ok.html"])


HUGE_SIZE = 40 << 20


def _huge_html(size: int) -> Iterator[bytes]:
    """Exactly size bytes of HTML, in chunks of about 64 KiB."""
    head = b"<html lang=en><head><title>Huge</title></head><body><main><h1>Huge</h1>\n"
    tail = b"</main></body></html>\n"
    chunk = (b"<p>" + b"a very long page " * 59 + b"</p>\n") * 64
    yield head
    left = size - len(head) - len(tail)
    while left > 0:
        piece = chunk[:left]
        left -= len(piece)
        yield piece
    yield tail


def _huge(site: HostileSite, path: str, query: Query) -> Reply | None:
    if path == "/docs/huge.html":
        return Reply(body=_huge_html(HUGE_SIZE), length=HUGE_SIZE)
    if path == "/docs/liar.html":  # no Content-Length: the size shows only by reading it all
        return Reply(body=_huge_html(HUGE_SIZE), length=None)
    return _home(site, path, ["/docs/huge.html", "/docs/liar.html", "/docs/ok.html"])


@functools.cache
def _png_body() -> bytes:
    """A valid 1x1 PNG carrying 20 KB of random bytes in a private ancillary chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1x1, 8-bit greyscale
    pixels = zlib.compress(b"\x00\x00")  # filter byte, one pixel
    junk = random.Random(0).randbytes(20_000)
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        (chunk(b"IHDR", header), chunk(b"IDAT", pixels), chunk(b"juNk", junk), chunk(b"IEND", b""))
    )


def _png_as_html(site: HostileSite, path: str, query: Query) -> Reply | None:
    if path == "/docs/image.html":
        return Reply(body=_png_body())  # Content-Type text/html, on purpose
    return _home(site, path, ["/docs/image.html", "/docs/ok.html"])


def _long_url(site: HostileSite, path: str, query: Query) -> Reply | None:
    # Any /docs/xxx...x.html answers, however long (the server reads request lines < 64 KiB).
    if re.fullmatch(r"/docs/x+\.html", path):
        return page(f"A name of {len(path)} characters", path, ["/docs/ok.html"])
    return _home(site, path, ["/docs/ok.html"])


def _slow(site: HostileSite, path: str, query: Query) -> Reply | None:
    if path == START:
        reply = page("Slow documentation", path, [f"/docs/p{i}.html" for i in range(1, 21)])
    elif (i := _number(r"/docs/p(\d+)\.html", path, 1, 20)) is not None:
        reply = page(f"Slow chapter {i}", path, [START])
    else:
        return None
    time.sleep(site.delay)
    return reply


def _session_ids(site: HostileSite, path: str, query: Query) -> Reply | None:
    # Every page links to five pages under a session id minted for that response.
    if path == START:
        return redirect(f"/docs/s-{uuid.uuid4()}/intro")
    if re.fullmatch(r"/docs/s-[0-9a-f-]{36}/(intro|p\d)", path):
        session = uuid.uuid4()
        return page(f"Session page {path}", path, [f"/docs/s-{session}/p{n}" for n in range(5)])
    return None


def _robots_sitemaps(site: HostileSite, path: str, query: Query) -> Reply | None:
    # robots.txt names a sitemap on another port first; the real one, gzipped, lists 5 pages
    # that no page links to.
    if path == "/robots.txt":
        body = (
            f"User-agent: *\nSitemap: {site.base.rsplit(':', 1)[0]}:9/sitemap.xml\n"
            f"Sitemap: {site.base}/docs/sitemap.xml.gz\n"
        )
        return Reply(body=body.encode(), content_type="text/plain")
    if path == "/docs/sitemap.xml.gz":
        entries = "".join(f"<url><loc>{site.base}/docs/o{i}.html</loc></url>" for i in range(5))
        xml = f'<?xml version="1.0"?><urlset xmlns="{_SITEMAP_NS}">{entries}</urlset>'
        return Reply(body=gzip.compress(xml.encode()), content_type="application/x-gzip")
    if (i := _number(r"/docs/o(\d+)\.html", path, 0, 4)) is not None:
        return page(f"Orphan {i}", path, [START])
    return _home(site, path, [])


def _stubs(site: HostileSite, path: str, query: Query) -> Reply | None:
    # API reference: 40 class pages with the same one-line main text, each with its own title
    # and its own method page.
    if path == START:
        return page("API reference", path, [f"/docs/cls{i}.html" for i in range(40)])
    if (i := _number(r"/docs/cls(\d+)\.html", path, 0, 39)) is not None:
        body = (
            f"<!doctype html><html><head><title>Class{i}</title></head><body><main>"
            f"<p>Deprecated. See the methods below.</p><a href='m{i}.html'>m</a></main></body>"
            "</html>"
        )
        return Reply(body=body.encode())
    if (i := _number(r"/docs/m(\d+)\.html", path, 0, 39)) is not None:
        return page(f"Method {i}", path, [START])
    return None


def _redirect_to_met(site: HostileSite, path: str, query: Query) -> Reply | None:
    # /docs/a (depth 1) links to /docs/target (depth 2); /docs/r (depth 1) redirects there late.
    if path == "/docs/r":
        time.sleep(1.0)
        return redirect("/docs/target")
    if path == "/docs/a":
        return page("A", path, ["/docs/target"])
    if path == "/docs/target":
        return page("Target", path, [START])
    return _home(site, path, ["/docs/a", "/docs/r"])


MODES: dict[str, Callable[[HostileSite, str, Query], Reply | None]] = {
    "session-ids": _session_ids,
    "robots-sitemaps": _robots_sitemaps,
    "stubs": _stubs,
    "redirect-to-met": _redirect_to_met,
    "canonical-all": _canonical_all,
    "canonical-other": _canonical_other,
    "calendar": _calendar,
    "paged": _paged,
    "repeat": _repeat,
    "soft404": _soft404,
    "sitemap-chain": _sitemap_chain,
    "big-sitemap": _big_sitemap,
    "redirect-loop": _redirect_loop,
    "redirect-chain": _redirect_chain,
    "redirect-offport": _redirect_offport,
    "plain": _plain,
    "gzip-bomb": _gzip_bomb,
    "huge": _huge,
    "png-as-html": _png_as_html,
    "long-url": _long_url,
    "slow": _slow,
}

NOT_FOUND = b"<!doctype html>\n<html lang=en><head><title>Not found</title></head></html>\n"


# --- the server -----------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle keep-alive connection must not hold a thread forever
    server: _Server

    def do_GET(self) -> None:
        site = self.server.site
        site._record(self.path)
        url = urlsplit(self.path)
        reply = MODES[site.mode](site, url.path, dict(parse_qsl(url.query)))
        self._send(reply or Reply(404, NOT_FOUND))

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if isinstance(reply.body, bytes):
            chunks: Iterator[bytes] = iter([reply.body])
            self.send_header("Content-Length", str(len(reply.body)))
        elif reply.length is not None:
            chunks = reply.body
            self.send_header("Content-Length", str(reply.length))
        else:
            chunks = reply.body
            self.send_header("Connection", "close")  # the end of the body is the close
        self.end_headers()
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
        except ConnectionError:  # the client stopped reading a huge body: its right
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass  # site.requests is the log


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: HostileSite

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (socket.getfqdn), a DNS query we skip.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client hanging up is normal
            super().handle_error(request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


class HostileSite:
    """One mode of MODES served on loopback from a daemon thread, as a context manager."""

    def __init__(
        self,
        mode: str,
        host: str = "127.0.0.1",
        *,
        delay: float = 0.5,
        big_sitemap_urls: int = 200_000,
        other_base: str | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
        if mode == "redirect-offport" and other_base is None:
            raise ValueError("mode 'redirect-offport' needs other_base, the other server's base")
        self.mode = mode
        self.host = host
        self.delay = delay
        self.big_sitemap_urls = big_sitemap_urls
        self.other_base = other_base
        self._requests: list[str] = []
        self._lock = threading.Lock()
        self._sitemap: bytes | None = None
        self._sitemap_lock = threading.Lock()  # not self._lock: requests go on while it builds
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> HostileSite:
        server_class = _Server6 if ":" in self.host else _Server
        self._server = server_class((self.host, 0), _Handler)
        self._server.site = self
        self.port: int = self._server.server_address[1]
        netloc = f"[{self.host}]" if ":" in self.host else self.host
        self.base = f"http://{netloc}:{self.port}"
        self.url = self.base + START
        # A short poll interval so that leaving the block takes milliseconds, not 0.5 s.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def requests(self) -> list[str]:
        """The request targets (path and query) served so far, in order."""
        with self._lock:
            return list(self._requests)

    def count(self, prefix: str = "/") -> int:
        """How many requests had a target starting with prefix."""
        with self._lock:
            return sum(target.startswith(prefix) for target in self._requests)

    def big_sitemap(self) -> bytes:
        """The big-sitemap mode's urlset, built on first use."""
        with self._sitemap_lock:
            if self._sitemap is None:
                urls = "".join(
                    f"<url><loc>{self.base}/docs/page-{i}.html</loc></url>\n"
                    for i in range(self.big_sitemap_urls)
                )
                head = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{_SITEMAP_NS}">\n'
                self._sitemap = f"{head}{urls}</urlset>\n".encode()
            return self._sitemap

    def _record(self, target: str) -> None:
        with self._lock:
            self._requests.append(target)
