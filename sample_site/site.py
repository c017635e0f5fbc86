"""The whole sample site in memory: every path with its status, headers and body.

What a crawl should store (``expected_pages``): every 200 HTML page reachable by links from ``/``
(or from a sub-site's index, which links to all of that sub-site), counted once under its
canonical path, the directory form ``/x/`` for ``/x/index.html``; plus the sitemap-only orphans
when the crawler reads sitemaps, plus ``/private/`` when it ignores robots.txt. Never counted:
redirect sources, error pages, non-HTML files, ``index.html`` aliases and query-string variants
(the server ignores the query string).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import format_datetime
from urllib.parse import urlsplit, urlunsplit

from sample_site import assets, docbook, mkdocs, sphinx
from sample_site.model import BASE_DATE, PROJECT, Context, Doc, Writer

SUBSITES = ("sphinx", "mkdocs", "docbook")
HTML = "text/html; charset=utf-8"
ROBOTS_PATH = "/robots.txt"
SITEMAP_INDEX_PATH = "/sitemap.xml"
SITEMAP_PATHS = {name: f"/sitemaps/{name}.xml" for name in SUBSITES}
PRIVATE_PATHS = ("/private/secret.html",)
NOT_FOUND_PATHS = (
    "/sphinx/missing-page.html",
    "/mkdocs/guide/missing-page/",
    "/docbook/ch99s01.html",
)
SERVER_ERROR_PATHS = ("/sphinx/broken/server-error.html",)
# source -> (status, target path); the target is on this server.
REDIRECTS = {
    "/sphinx/old-tutorial.html": (301, "/sphinx/tutorial/part-1.html"),
    "/mkdocs/guide": (301, "/mkdocs/guide/"),
}
# source -> (status, target path) on another loopback address (127.0.0.2), same port.
OFFHOST_REDIRECTS = {"/sphinx/elsewhere.html": (302, "/sphinx/index.html")}
ASSETS = {
    "/sphinx/_downloads/manual.pdf": "application/pdf",
    "/sphinx/_images/diagram.png": "image/png",
    "/docbook/archive.zip": "application/zip",
    "/sphinx/_static/classic.css": "text/css; charset=utf-8",
    "/sphinx/_static/pygments.css": "text/css; charset=utf-8",
    "/mkdocs/assets/stylesheets/main.css": "text/css; charset=utf-8",
    "/docbook/docbook.css": "text/css; charset=utf-8",
}
ORPHAN_PATHS = {
    "sphinx": tuple(f"/sphinx/orphans/orphan-{i}.html" for i in range(1, 4)),
    "mkdocs": tuple(f"/mkdocs/orphans/orphan-{i}/" for i in range(1, 4)),
    "docbook": tuple(f"/docbook/orphans/orphan-{i}.html" for i in range(1, 4)),
}
SPECIAL_PATHS = {
    "robots": ROBOTS_PATH,
    "sitemap_index": SITEMAP_INDEX_PATH,
    **{f"sitemap_{name}": path for name, path in SITEMAP_PATHS.items()},
    "private": PRIVATE_PATHS[0],
    "not_found": NOT_FOUND_PATHS[0],
    "not_found_mkdocs": NOT_FOUND_PATHS[1],
    "not_found_docbook": NOT_FOUND_PATHS[2],
    "server_error": SERVER_ERROR_PATHS[0],
    "redirect": "/sphinx/old-tutorial.html",
    "redirect_target": "/sphinx/tutorial/part-1.html",
    "slash_redirect": "/mkdocs/guide",
    "offhost_redirect": "/sphinx/elsewhere.html",
    "pdf": "/sphinx/_downloads/manual.pdf",
    "png": "/sphinx/_images/diagram.png",
    "zip": "/docbook/archive.zip",
    "index_alias_sphinx": "/sphinx/index.html",
    "index_alias_mkdocs_guide": "/mkdocs/guide/index.html",
}
# Paths answered without the --delay, so that robots and sitemaps never slow a crawl's start.
UNDELAYED_PATHS = frozenset((ROBOTS_PATH, SITEMAP_INDEX_PATH, *SITEMAP_PATHS.values()))
RENDERERS: dict[str, Callable[[Doc, Context], str]] = {
    "sphinx": sphinx.render,
    "mkdocs": mkdocs.render,
    "docbook": docbook.render,
}


@dataclass(frozen=True)
class Page:
    """One response of the site: status, content type, body and validators."""

    status: int
    body: bytes
    content_type: str
    kind: str  # page | orphan | private | asset | robots | sitemap | error | redirect
    canonical: str = ""  # the path this content is stored under (the directory form)
    location: str = ""  # absolute URL, for redirects
    last_modified: dt.datetime | None = None
    title: str = ""
    subsite: str = ""
    etag: str = field(init=False, default="")

    def __post_init__(self) -> None:
        if self.status == 200:
            object.__setattr__(self, "etag", '"' + hashlib.sha1(self.body).hexdigest()[:20] + '"')

    def headers(self) -> list[tuple[str, str]]:
        """Response headers besides Date, Server and Content-Length."""
        headers = [("Content-Type", self.content_type)]
        if self.location:
            headers.append(("Location", self.location))
        if self.etag:
            headers.append(("ETag", self.etag))
        if self.last_modified is not None:
            headers.append(("Last-Modified", format_datetime(self.last_modified, usegmt=True)))
        return headers


class Site(dict[str, Page]):
    """Path (without query) to Page, plus the base URL and lookup rules of a static server."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url
        self.not_found = _error_page(404, "Not Found")

    def resolve(self, path: str) -> Page:
        """The page for a request path: exact match, slash redirect for directories, else 404."""
        page = self.get(path)
        if page is not None:
            return page
        if not path.endswith("/") and path + "/" in self:
            return _redirect(301, self.base_url.rstrip("/") + path + "/")
        return self.not_found


def build_site(base_url: str) -> Site:
    """Render every path of the sample site for a server reachable at base_url."""
    base_url = base_url.rstrip("/") + "/"
    docs = _layout()
    ctx = Context(base_url, {doc.path: doc for doc in docs})
    site = Site(base_url)
    for doc in docs:
        body = RENDERERS[doc.subsite](doc, ctx).encode()
        page = Page(
            200, body, HTML, doc.kind, doc.path, "", _midnight(doc.lastmod), doc.title, doc.subsite
        )
        site[doc.path] = page
        if doc.path.endswith("/"):
            site[doc.path + "index.html"] = page
    site["/"] = site["/index.html"] = Page(
        200, _root_page().encode(), HTML, "page", "/", "", _midnight(BASE_DATE), "Sample sites"
    )
    for path in PRIVATE_PATHS:
        site[path] = Page(
            200,
            _private_page().encode(),
            HTML,
            "private",
            path,
            "",
            _midnight(BASE_DATE),
            "Internal notes",
        )
    for path in NOT_FOUND_PATHS:
        site[path] = site.not_found
    for path in SERVER_ERROR_PATHS:
        site[path] = _error_page(500, "Internal Server Error")
    for path, (status, target) in REDIRECTS.items():
        site[path] = _redirect(status, ctx.absolute(target))
    for path, (status, target) in OFFHOST_REDIRECTS.items():
        site[path] = _redirect(status, offhost_url(base_url, target))
    for path, content_type in ASSETS.items():
        site[path] = Page(200, _asset(path), content_type, "asset", path, "", _midnight(BASE_DATE))
    robots = f"User-agent: *\nDisallow: /private/\n\nSitemap: {base_url}sitemap.xml\n"
    site[ROBOTS_PATH] = Page(
        200,
        robots.encode(),
        "text/plain; charset=utf-8",
        "robots",
        ROBOTS_PATH,
        "",
        _midnight(BASE_DATE),
    )
    newest: list[dt.date] = []
    entries = []
    for name, path in SITEMAP_PATHS.items():
        urls = sorted((d.path, d.lastmod) for d in docs if d.subsite == name)
        lastmod = max(date for _, date in urls)
        newest.append(lastmod)
        body = _urlset(ctx, urls)
        site[path] = Page(200, body, "application/xml", "sitemap", path, "", _midnight(lastmod))
        entries.append(
            f"  <sitemap>\n    <loc>{ctx.absolute(path)}</loc>\n"
            f"    <lastmod>{lastmod.isoformat()}</lastmod>\n  </sitemap>\n"
        )
    index = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "".join(entries)
        + "</sitemapindex>\n"
    )
    site[SITEMAP_INDEX_PATH] = Page(
        200,
        index.encode(),
        "application/xml",
        "sitemap",
        SITEMAP_INDEX_PATH,
        "",
        _midnight(max(newest)),
    )
    return site


def expected_pages(
    prefix: str = "/", *, sitemaps: bool = True, obey_robots: bool = True
) -> set[str]:
    """The paths a crawl under prefix should store; the exact rule is in the module docstring."""
    kinds = {"page"}
    if sitemaps:
        kinds.add("orphan")
    if not obey_robots:
        kinds.add("private")
    paths = {doc.path for doc in _layout() if doc.kind in kinds} | {"/"}
    if not obey_robots:
        paths.update(PRIVATE_PATHS)
    return {path for path in paths if path.startswith(prefix)}


def sitemap_pages(subsite: str) -> set[str]:
    """The paths listed in one sub-site's sitemap (its normal pages and its orphans)."""
    return {doc.path for doc in _layout() if doc.subsite == subsite}


def special_links() -> dict[str, tuple[str, ...]]:
    """For each special link target, the pages whose body links to it."""
    found: dict[str, list[str]] = {}
    for module in (sphinx, mkdocs, docbook):
        for page, extras in module.EXTRAS.items():
            for extra in extras:
                found.setdefault(extra.target, []).append(page)
    return {target: tuple(sorted(pages)) for target, pages in sorted(found.items())}


def offhost_url(base_url: str, path: str) -> str:
    """The URL of path on another loopback address with the same port."""
    parts = urlsplit(base_url)
    host = "127.0.0.3" if parts.hostname == "127.0.0.2" else "127.0.0.2"
    return urlunsplit((parts.scheme, f"{host}:{parts.port}", path, "", ""))


@functools.cache
def _layout() -> tuple[Doc, ...]:
    return tuple(sphinx.layout() + mkdocs.layout() + docbook.layout())


def _midnight(date: dt.date) -> dt.datetime:
    return dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC)


def _redirect(status: int, location: str) -> Page:
    body = (
        f"<!DOCTYPE html>\n<html><head><title>Moved</title></head><body><p>Moved to "
        f'<a href="{html.escape(location)}">{html.escape(location)}</a>.</p></body></html>\n'
    )
    return Page(status, body.encode(), HTML, "redirect", "", location)


def _error_page(status: int, reason: str) -> Page:
    body = (
        f'<!DOCTYPE html>\n<html lang="en"><head><title>{status} {reason}</title></head>\n'
        f"<body><center><h1>{status} {reason}</h1></center><hr><center>sample_site</center>"
        "</body></html>\n"
    )
    return Page(status, body.encode(), HTML, "error")


def _urlset(ctx: Context, urls: list[tuple[str, dt.date]]) -> bytes:
    entries = "".join(
        f"  <url>\n    <loc>{ctx.absolute(path)}</loc>\n    <lastmod>{date.isoformat()}"
        "</lastmod>\n  </url>\n"
        for path, date in urls
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{entries}</urlset>\n"
    ).encode()


def _asset(path: str) -> bytes:
    if path.endswith(".pdf"):
        return assets.pdf(f"{PROJECT} Manual")
    if path.endswith(".png"):
        return assets.png()
    if path.endswith(".zip"):
        return assets.zip_archive({
            "manual/README.txt": f"{docbook.BOOK_TITLE}\n\nOpen index.html to read the manual.\n",
            "manual/LICENSE.txt": "Copyright 2024 Sampleproj Authors. All rights reserved.\n",
        })  # fmt: skip
    return {
        "/sphinx/_static/classic.css": assets.SPHINX_CSS,
        "/sphinx/_static/pygments.css": assets.PYGMENTS_CSS,
        "/mkdocs/assets/stylesheets/main.css": assets.MKDOCS_CSS,
        "/docbook/docbook.css": assets.DOCBOOK_CSS,
    }[path].encode()


def _paragraphs(seed: str, count: int) -> str:
    writer = Writer(seed)
    return "\n".join(
        f"<p>{writer.paragraph(lambda name: f'<code>{name}</code>')[0]}</p>" for _ in range(count)
    )


def _root_page() -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sample documentation sites</title>
<meta name="description" content="Three documentation sites for testing docscrawl.">
</head>
<body>
<h1>Sample documentation sites</h1>
{_paragraphs("root", 2)}
<ul>
<li><a href="/sphinx/">{sphinx.DOC_TITLE}</a> (Sphinx, classic theme)</li>
<li><a href="/mkdocs/">{mkdocs.SITE_NAME}</a> (MkDocs, Material theme)</li>
<li><a href="/docbook/">{docbook.BOOK_TITLE}</a> (DocBook XSL, chunked)</li>
<li><a href="/private/secret.html">Internal notes</a> (disallowed by robots.txt)</li>
</ul>
<p>Questions go to <a href="mailto:docs@example.com">docs@example.com</a>.</p>
</body>
</html>
"""


def _private_page() -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Internal notes</title>
</head>
<body>
<h1>Internal notes</h1>
{_paragraphs("private", 3)}
<p><a href="/">Back to the sample sites</a></p>
</body>
</html>
"""
