"""Turn one HTML documentation page into structured data.

Pure functions over an lxml tree: no Scrapy imports, no network, and the caller's tree is never
modified (the main content is rendered read-only, skipping the boilerplate as it is walked).

:func:`extract_page` takes an already parsed document (``response.selector.root`` in a Scrapy
callback); :func:`extract_html` parses markup first, the way parsel does, and then calls it.
Neither raises for a bad page: what cannot be extracted is left empty, and counted in
``ExtractedPage.failures`` by stage (the stages are named in page.py).

One module per stage, in the order a page goes through them:

- parse.py: markup into an lxml tree (the encoding guessed as Scrapy guesses it);
- resolve.py: the page's base URL, its links, and every href against that base;
- metadata.py: title, description, language, canonical URL;
- choose.py: the element that holds the main content;
- choose.py falls back to density.py for a theme no rule knows; overrides.py applies a site's
  DOCSCRAWL_MAIN_SELECTOR / DOCSCRAWL_DROP_SELECTORS;
- render.py: the main content as Markdown, plain text and headings;
- audit.py: how much of the page's visible content the main content kept;
- template.py: the site's template, learned over a crawl's pages (the crawl calls it);
- sections.py: a page's Markdown split at its headings (the store calls it);
- page.py: what they produce (ExtractedPage, Heading) and the failure counter they share.
"""

from __future__ import annotations

from lxml import etree

from docscrawl.extraction.audit import audit_page
from docscrawl.extraction.choose import choose_main
from docscrawl.extraction.metadata import content_language, fill_metadata, fill_title_from_content
from docscrawl.extraction.overrides import SiteOverrides, site_overrides
from docscrawl.extraction.page import (
    MAIN_CONTENT,
    METADATA,
    PARSE,
    RENDER,
    RESOLVE,
    STAGES,
    ExtractedPage,
    ExtractionAudit,
    FailureCounter,
    Heading,
)
from docscrawl.extraction.parse import as_html_tree, parse_markup
from docscrawl.extraction.render import render_content
from docscrawl.extraction.resolve import Resolver, document_base, page_links

__all__ = [
    "STAGES",
    "ExtractedPage",
    "ExtractionAudit",
    "Heading",
    "SiteOverrides",
    "extract_html",
    "extract_page",
    "site_overrides",
]

# Each stage below is guarded by a blind `except Exception` (BLE001): one odd page must never
# stop a crawl. FailureCounter.record counts it and logs it at DEBUG with the traceback.


def extract_page(
    root: etree._Element, base_url: str, overrides: SiteOverrides | None = None
) -> ExtractedPage:
    """Extract metadata, main content (Markdown and text), headings and links from a document.

    ``root`` is a parsed document (for example Scrapy's ``response.selector.root``); it is only
    read. ``base_url`` is the URL the document was fetched from; ``overrides`` are the site's
    selector overrides, if any. Never raises: whatever cannot be
    extracted is left empty, and counted in the page's ``failures``.
    """
    page = ExtractedPage()
    if root is None or not hasattr(root, "xpath"):
        return page
    base_url = base_url or ""
    failures = FailureCounter(base_url, page.failures)
    try:
        root = as_html_tree(root, base_url, failures)
    except Exception:  # noqa: BLE001
        failures.record(PARSE, "could not re-parse the document as HTML", exc_info=True)
        root = None
    if root is None:
        return page
    try:
        resolve = Resolver(document_base(root, base_url, failures), failures)
        page.links = page_links(root, resolve)
    except Exception:  # noqa: BLE001
        failures.record(RESOLVE, "could not extract the links", exc_info=True)
        resolve = Resolver(base_url, failures)

    try:
        fill_metadata(page, root, resolve)
    except Exception:  # noqa: BLE001
        failures.record(METADATA, "could not read the metadata", exc_info=True)

    _fill_content(page, root, resolve, failures, overrides)

    if page.title is None:
        try:
            fill_title_from_content(page, root)
        except Exception:  # noqa: BLE001
            failures.record(METADATA, "could not title the page by its heading", exc_info=True)
    return page


def _fill_content(
    page: ExtractedPage,
    root: etree._Element,
    resolve: Resolver,
    failures: FailureCounter,
    overrides: SiteOverrides | None,
) -> None:
    try:
        main, page.audit.rule = choose_main(root, overrides.main if overrides else None)
        if page.language is None:
            page.language = content_language(main)
    except Exception:  # noqa: BLE001
        failures.record(MAIN_CONTENT, "could not choose the main content", exc_info=True)
        return
    try:
        dropped = overrides.dropped(root) if overrides else []
        render_content(page, main, resolve, failures, frozenset(map(id, dropped)))
    except Exception:  # noqa: BLE001
        failures.record(RENDER, "could not render the main content", exc_info=True)
    try:
        audit_page(page, root)
    except Exception:  # noqa: BLE001
        failures.record(RENDER, "could not audit the page", exc_info=True)


def extract_html(
    html: str | bytes,
    base_url: str,
    encoding: str | None = None,
    overrides: SiteOverrides | None = None,
) -> ExtractedPage:
    """Parse ``html`` (text, or bytes in ``encoding`` / the declared one) and extract it."""
    failures: dict[str, int] = {}
    root = parse_markup(html, encoding, base_url, FailureCounter(base_url or "", failures))
    if root is None:
        return ExtractedPage(failures=failures)
    return extract_page(root, base_url, overrides)
