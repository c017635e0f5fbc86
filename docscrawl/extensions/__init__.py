"""Scrapy extensions, enabled in settings.EXTENSIONS.

- ``JobLifecycle`` (lifecycle.py): the job's row in the store follows the crawl process.
- ``FastCancel`` (fast_cancel.py): a cancel stops the crawl at once; the only module that
  touches Scrapy's engine internals.
- ``ProgressReporter`` (progress.py): the live progress line of a foreground crawl.
"""

from docscrawl.exceptions import CancelledBeforeDownload
from docscrawl.extensions.fast_cancel import FastCancel, queued_requests
from docscrawl.extensions.lifecycle import JobLifecycle
from docscrawl.extensions.progress import ProgressReporter

__all__ = [
    "CancelledBeforeDownload",
    "FastCancel",
    "JobLifecycle",
    "ProgressReporter",
    "queued_requests",
]
