"""The closing pass of template learning: pages stored before their site's template was known.

When a crawl closes, every page it stored with a block that turned out to be template (see
docscrawl/extraction/template.py) is rewritten in the store without it, in one transaction:
Markdown, text, word count, content hash, sections and version (docscrawl.history), and the
hash this job saw it with (a page recorded ``changed`` only because of the template becomes
``unchanged`` again). Runs after the pipeline's last flush (the spider's ``closed``), so every
page the crawl stored is there.
"""

from __future__ import annotations

import logging

import peewee

from docscrawl import history, models
from docscrawl.extraction.page import Block
from docscrawl.extraction.template import remove_from

logger = logging.getLogger(__name__)

_CHUNK = 200  # pages read and rewritten at a time


def fix_up_pages(job_id: int, fixes: dict[str, list[Block]]) -> int:
    """Remove the template blocks from this job's stored pages; how many pages changed."""
    if not fixes or models.database.obj is None:
        return 0
    Page, JobPage = models.Page, models.JobPage
    changed = 0
    keys = list(fixes)
    try:
        with models.write_transaction():
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                query = Page.select(
                    Page.id, Page.url, Page.markdown, Page.text, Page.title, Page.headings,
                    Page.content_hash,
                ).where((Page.job == job_id) & (Page.url << chunk))  # fmt: skip
                resplit, versions = [], []
                for page_id, url, markdown, text, title, headings, stored_hash in query.tuples():
                    fixed = remove_from(markdown, text, fixes[url])
                    new_markdown = fixed.markdown
                    if new_markdown == markdown and fixed.text == text:
                        continue
                    Page.update(
                        markdown=new_markdown,
                        text=fixed.text,
                        word_count=fixed.word_count,
                        content_hash=fixed.content_hash,
                    ).where(Page.id == page_id).execute()
                    sighting = (JobPage.job == job_id) & (JobPage.page == page_id)
                    JobPage.update(content_hash=fixed.content_hash).where(sighting).execute()
                    if _same_as_before(job_id, page_id, fixed.content_hash):
                        # "Changed" only by the template it was stored with: not a change.
                        JobPage.update(change=models.UNCHANGED).where(
                            sighting & (JobPage.change == models.CHANGED)
                        ).execute()
                    resplit.append((page_id, url, title, new_markdown, headings))
                    # So does the page's history: the text with the template was never its own.
                    if fixed.content_hash != stored_hash:
                        history.forget_version(page_id, stored_hash, job_id)
                    versions.append((page_id, fixed.content_hash, new_markdown, job_id))
                    changed += 1
                models.write_sections(resplit)  # the sections follow the Markdown
                history.record_versions(versions)
    except peewee.PeeweeException:
        # The pages stay as they were stored, template and all: nothing is lost.
        logger.exception("Could not remove the learned template from %d pages", len(keys))
        return 0
    return changed


def _same_as_before(job_id: int, page_id: int, content_hash: str) -> bool:
    """Whether the last earlier job that saw this page saw it with this text."""
    JobPage = models.JobPage
    previous = (
        JobPage.select(JobPage.content_hash)
        .where(
            (JobPage.page == page_id) & (JobPage.job < job_id) & (JobPage.change != models.REMOVED)
        )
        .order_by(JobPage.job.desc())
        .first()
    )
    return previous is not None and previous.content_hash == content_hash
