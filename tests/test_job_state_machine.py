"""Random interleavings of everything that happens to jobs, against one real store.

A hypothesis state machine schedules, starts, heartbeats, stores pages, cancels, forces,
crashes, reconciles and resumes jobs, in any order, through the real components: the job
lifecycle extension and the store pipeline of a (pretend) crawl process, and the CLI's job
service. After every step it checks the invariants:

- a job is in exactly one status, and the fields of that status agree with it;
- a finished job becomes active again only by ``resume``, and changes its outcome only by force;
- ``pages`` always equals the pages the job stored (its sightings), a page fetched twice or not.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from types import SimpleNamespace

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from scrapy.utils.test import get_crawler

from control import jobs
from control.exceptions import DocscrawlError
from docscrawl import job_state, models
from docscrawl.extensions.lifecycle import JobLifecycle
from docscrawl.items import PageItem
from docscrawl.models import ACTIVE_STATUSES, CANCELLING, FINISHED_STATUSES, STATUSES
from docscrawl.pipelines import PageStorePipeline

SITE = "http://127.0.0.1:9/docs/"
URLS = [f"{SITE}p{n}.html" for n in range(12)]  # few, so that jobs and fetches overlap


def page_item(url: str) -> PageItem:
    return PageItem(
        url=url,
        requested_url=url,
        final_url=url,
        canonical_url=None,
        status_code=200,
        title=url,
        description=None,
        language="en",
        headings=[],
        markdown=url,
        text=url,
        links=[],
        word_count=1,
        content_hash=url,
        etag=None,
        last_modified=None,
        fetched_at=models.utcnow(),
        depth=1,
        extraction_audit={},
    )


class JobsMachine(RuleBasedStateMachine):
    jobs = Bundle("jobs")

    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.mkdtemp(prefix="docscrawl-machine-")
        self.location = os.path.join(self.directory, "store.db")
        models.open_store(self.location)
        self.client = models.get_or_create_client("Machine")
        self.crawls: dict[int, tuple[JobLifecycle, PageStorePipeline]] = {}  # live processes
        self.stored: dict[int, set[str]] = {}  # URLs each job stored, by the model
        self.seen: dict[int, str] = {}  # each job's status after the previous step
        self.last: tuple[str, int | None] = ("", None)  # the previous step and its job

    def teardown(self) -> None:
        models.database.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def probe(self, job: models.Job) -> bool | None:
        """Liveness, as Scrapyd would tell it: whether the job's crawl process still runs."""
        if jobs.never_started(job):
            return None
        return job.id in self.crawls

    # --- a crawl process ---------------------------------------------------------------------

    @rule(target=jobs)
    def schedule(self) -> int:
        job = job_state.create(self.client, SITE, mode="scrapyd")
        self.stored[job.id] = set()
        self.last = ("schedule", job.id)
        return job.id

    @rule(job_id=jobs)
    def start(self, job_id: int) -> None:
        self.last = ("start", job_id)
        if job_id in self.crawls:
            return  # one process per job
        crawler = get_crawler(settings_dict={"DOCSCRAWL_DB": self.location})
        crawler.stats.open_spider()
        lifecycle = JobLifecycle(crawler, self.location, interval=3600)
        lifecycle.spider_opened(SimpleNamespace(job_id=job_id, _job=f"{job_id}-machine"))
        if lifecycle.closed:
            return  # it found the job finished and closes without crawling
        if lifecycle._heartbeat is not None:
            lifecycle._heartbeat.stop()  # the machine decides when heartbeats happen
        pipeline = PageStorePipeline(crawler, self.location, batch_size=100, interval=3600)
        pipeline.job_id, pipeline.client_id = job_id, self.client.id
        self.crawls[job_id] = (lifecycle, pipeline)

    @rule(job_id=jobs)
    def heartbeat(self, job_id: int) -> None:
        self.last = ("heartbeat", job_id)
        if job_id in self.crawls:
            self.crawls[job_id][0].heartbeat()

    @rule(job_id=jobs, urls=st.lists(st.sampled_from(URLS), min_size=1, max_size=4))
    def store_pages(self, job_id: int, urls: list[str]) -> None:
        """The crawl flushes a batch; a URL it already stored may come again (after a crash)."""
        self.last = ("store_pages", job_id)
        if job_id not in self.crawls:
            return
        pipeline = self.crawls[job_id][1]
        for url in urls:
            pipeline.process_item(page_item(url))
        pipeline.flush()
        self.stored[job_id].update(urls)

    @rule(job_id=jobs, reason=st.sampled_from(["finished", "max_pages", "shutdown", "broke"]))
    def crawl_closes(self, job_id: int, reason: str) -> None:
        self.last = ("crawl_closes", job_id)
        if job_id in self.crawls:
            lifecycle, _ = self.crawls.pop(job_id)
            lifecycle.spider_closed(SimpleNamespace(job_id=job_id), reason)

    @rule(job_id=jobs)
    def crash(self, job_id: int) -> None:
        """SIGKILL: the process is gone without recording anything."""
        self.last = ("crash", job_id)
        self.crawls.pop(job_id, None)

    # --- the CLI -----------------------------------------------------------------------------

    @rule(job_id=jobs)
    def cancel(self, job_id: int) -> None:
        self.last = ("cancel", job_id)
        with contextlib.suppress(DocscrawlError):  # already finished: refused with a sentence
            jobs.cancel_job(job_id, wait=0, probes=[self.probe])

    @rule(job_id=jobs)
    def force(self, job_id: int) -> None:
        """`cancel --force`: the process is killed, and the job marked cancelled."""
        self.last = ("force", job_id)
        self.crawls.pop(job_id, None)
        jobs.mark_cancelled(job_id, "marked cancelled with --force", force=True)

    @rule()
    def reconcile(self) -> None:
        self.last = ("reconcile", None)
        jobs.reconcile(probes=[self.probe])

    @rule(job_id=jobs)
    def resume(self, job_id: int) -> None:
        self.last = ("resume", job_id)
        with contextlib.suppress(DocscrawlError):  # completed or still active: refused
            jobs.begin_resume(job_id, mode="scrapyd", probes=[self.probe])

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def one_status_and_fields_that_agree(self) -> None:
        for job in models.Job.select():
            assert job.status in STATUSES
            if job.status in FINISHED_STATUSES:
                assert job.finished_at is not None and job.finish_reason, job.id
                assert job.queued == 0
            else:
                assert job.finished_at is None and job.finish_reason is None, job.id
            if job.status == CANCELLING:
                assert job.cancel_requested_at is not None

    @invariant()
    def a_finished_job_stays_finished(self) -> None:
        step, step_job = self.last
        for job in models.Job.select(models.Job.id, models.Job.status):
            before = self.seen.get(job.id)
            if before in FINISHED_STATUSES and job.status != before:
                if job.status in ACTIVE_STATUSES:
                    assert (step, step_job) == ("resume", job.id), (job.id, before, job.status)
                else:  # another outcome: only `cancel --force` may write one
                    assert (step, step_job) == ("force", job.id), (job.id, before, job.status)
            self.seen[job.id] = job.status

    @invariant()
    def pages_equal_the_pages_stored(self) -> None:
        JobPage = models.JobPage
        for job in models.Job.select(models.Job.id, models.Job.pages):
            sightings = (
                JobPage.select()
                .where((JobPage.job == job.id) & (JobPage.change != models.REMOVED))
                .count()
            )
            assert job.pages == sightings == len(self.stored[job.id]), job.id


TestJobsMachine = JobsMachine.TestCase
TestJobsMachine.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,  # the same interleavings on every run: a failure reproduces
)
