"""A deterministic sample of three documentation sites (Sphinx, MkDocs, DocBook) and its server.

``build_site(base_url)`` renders every path in memory; ``python -m sample_site`` serves it on
loopback; ``serve()`` runs that server in a subprocess for tests; ``expected_pages()`` says what a
crawl should store.
"""

from __future__ import annotations

from sample_site.site import (
    ASSETS,
    NOT_FOUND_PATHS,
    OFFHOST_REDIRECTS,
    ORPHAN_PATHS,
    PRIVATE_PATHS,
    REDIRECTS,
    ROBOTS_PATH,
    SERVER_ERROR_PATHS,
    SITEMAP_INDEX_PATH,
    SITEMAP_PATHS,
    SPECIAL_PATHS,
    SUBSITES,
    UNDELAYED_PATHS,
    Page,
    Site,
    build_site,
    expected_pages,
    offhost_url,
    sitemap_pages,
    special_links,
)
from sample_site.testing import ServerURL, serve

__all__ = [
    "ASSETS",
    "NOT_FOUND_PATHS",
    "OFFHOST_REDIRECTS",
    "ORPHAN_PATHS",
    "PRIVATE_PATHS",
    "REDIRECTS",
    "ROBOTS_PATH",
    "SERVER_ERROR_PATHS",
    "SITEMAP_INDEX_PATH",
    "SITEMAP_PATHS",
    "SPECIAL_PATHS",
    "SUBSITES",
    "UNDELAYED_PATHS",
    "Page",
    "ServerURL",
    "Site",
    "build_site",
    "expected_pages",
    "offhost_url",
    "serve",
    "sitemap_pages",
    "special_links",
]
