"""Progress arithmetic shared by the live progress line and the CLI (no Scrapy imports)."""

from __future__ import annotations


def estimate_total(
    pages: int, queued: int, sitemap_total: int | None, max_pages: int | None
) -> int | None:
    """Best guess of the crawl's final page count: the sitemap's size, or pages plus queue."""
    total = max(sitemap_total or 0, pages + queued)
    if max_pages:
        total = min(total, max_pages)
    return total or None


def format_duration(seconds: float) -> str:
    """12.3 -> '0:12', 3725 -> '1:02:05'."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
