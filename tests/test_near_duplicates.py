"""Near-duplicates from stored fingerprints: the same pairs as comparing every page's simhash,
fingerprints written with each page, kept right when the text changes, and backfilled by the
schema step that adds them (on SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import random
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import peewee
import pytest
from scrapy.utils.test import get_crawler

from control.dedupe import NearDuplicate, near_duplicates
from docscrawl import backfill, fingerprints, models
from docscrawl.items import PageItem
from docscrawl.pipelines import PageStorePipeline

pytest_plugins = ["postgres"]

# --- the reference: today's algorithm before stored fingerprints (kept here as it was) ---------

WORD = re.compile(r"\w+")


def reference_simhash(text: str) -> int:
    words = WORD.findall(text.lower())
    shingles = [" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))]
    weights = [0] * 64
    for shingle in shingles:
        value = int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if value >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if weights[bit] > 0)


def reference_near_duplicates(pages: list[tuple[str, str]], distance: int = 3) -> list[tuple]:
    """(first, second, distance) from (url, text) pairs: bands over every page's simhash."""
    hashes = [(url, reference_simhash(text)) for url, text in pages]
    bands = distance + 1
    width = 64 // bands
    buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, (_, value) in enumerate(hashes):
        for band in range(bands):
            buckets[(band, (value >> (band * width)) & ((1 << width) - 1))].append(index)
    pairs: dict[tuple[int, int], int] = {}
    for members in buckets.values():
        for a_pos, a in enumerate(members):
            for b in members[a_pos + 1 :]:
                key = (min(a, b), max(a, b))
                if key not in pairs:
                    bits = (hashes[a][1] ^ hashes[b][1]).bit_count()
                    if 0 < bits <= distance or (bits == 0 and hashes[a][0] != hashes[b][0]):
                        pairs[key] = bits
    found = [(*sorted((hashes[a][0], hashes[b][0])), bits) for (a, b), bits in pairs.items()]
    return sorted(found, key=lambda pair: (pair[2], pair[0], pair[1]))


# --- a corpus with planted near-duplicates ----------------------------------------------------

VOCABULARY = [f"w{n}" for n in range(400)] + ["déjà", "naïve", "straße", "ko_ko", "x86"]


def planted_corpus(seed: int = 16, originals: int = 60) -> tuple[dict[str, str], set[tuple]]:
    """url -> text for long documents and small edits of some of them, and the planted pairs."""
    rng = random.Random(seed)
    texts: dict[str, str] = {}
    planted: set[tuple[str, str]] = set()
    for n in range(originals):
        words = rng.choices(VOCABULARY, k=rng.randint(300, 900))
        url = f"http://h/doc-{n:03d}.html"
        texts[url] = " ".join(words).capitalize() + "."
        if n % 2:
            continue
        for variant in range(rng.randint(1, 3)):
            edited = list(words)
            for _ in range(rng.randint(1, 4)):  # a word replaced, inserted or deleted
                at = rng.randrange(len(edited))
                action = rng.choice(("replace", "insert", "delete"))
                if action == "replace":
                    edited[at] = rng.choice(VOCABULARY)
                elif action == "insert":
                    edited.insert(at, rng.choice(VOCABULARY))
                else:
                    del edited[at]
            copy = f"http://h/v{variant}/doc-{n:03d}.html"
            texts[copy] = " ".join(edited).capitalize() + "."
            planted.add(tuple(sorted((url, copy))))
    return texts, planted


# --- stores on both engines --------------------------------------------------------------------


# store_location (tests/postgres.py): a new, empty store on each engine.


@pytest.fixture
def opened(store_location: str) -> Iterator[peewee.Database]:
    db = models.open_store(store_location)
    yield db
    db.close()


def add_page(client: models.Client, url: str, text: str, **fields) -> models.Page:
    """A page stored without the pipeline (as a test or an older docscrawl would): no simhash."""
    return models.Page.create(
        client=client, url=url, requested_url=url, final_url=url, status_code=200,
        text=text, word_count=len(text.split()), content_hash=hashlib.sha256(text.encode())
        .hexdigest(), **fields,
    )  # fmt: skip


def stored_simhashes() -> dict[str, int | None]:
    return dict(models.Page.select(models.Page.url, models.Page.simhash).tuples())


# --- the fingerprint --------------------------------------------------------------------------


def test_simhash_is_the_reference_simhash() -> None:
    texts, _ = planted_corpus(originals=10)
    samples = [*texts.values(), "", "one", "two words", "Three words here", "Ünïcode — ß ẞ 東京"]
    samples += ["  \n\t ", "a-b_c d.e", "x " * 5000]
    for text in samples:
        assert fingerprints.simhash(text) == reference_simhash(text), text[:40]


def test_stored_value_is_signed_64_bits_and_round_trips() -> None:
    for value in (0, 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1):
        stored = fingerprints.to_stored(value)
        assert -(1 << 63) <= stored < 1 << 63
        assert fingerprints.from_stored(stored) == value


def test_extreme_fingerprints_round_trip_through_the_store(opened: peewee.Database) -> None:
    client = models.get_or_create_client("Bits")
    for n, value in enumerate((-(1 << 63), -1, 0, (1 << 63) - 1)):
        page = add_page(client, f"http://h/{n}", "some text")
        models.Page.update(simhash=value).where(models.Page.id == page.id).execute()
        assert models.Page.get_by_id(page.id).simhash == value


# --- near-duplicates --------------------------------------------------------------------------


def test_planted_near_duplicates_match_the_reference(opened: peewee.Database) -> None:
    texts, planted = planted_corpus()
    client = models.get_or_create_client("Planted")
    for url, text in texts.items():
        add_page(client, url, text)
    expected = reference_near_duplicates(list(texts.items()))
    found = near_duplicates(client.id)
    assert all(isinstance(pair, NearDuplicate) for pair in found)
    assert [(p.first, p.second, p.distance) for p in found] == expected
    # Recall on the planted pairs: at least the reference's (here, the very same pairs).
    reference_recall = planted & {(first, second) for first, second, _ in expected}
    recall = planted & {(p.first, p.second) for p in found}
    assert recall >= reference_recall and len(recall) >= len(planted) // 2
    # The first run stored every page's fingerprint; the next reads no text and agrees.
    assert None not in stored_simhashes().values()
    assert near_duplicates(client.id) == found


def test_excluded_and_empty_pages_and_other_clients_are_left_out(opened: peewee.Database) -> None:
    text = " ".join(f"word{n}" for n in range(400))
    mine, theirs = models.get_or_create_client("Mine"), models.get_or_create_client("Theirs")
    first = add_page(mine, "http://h/a", text)
    add_page(mine, "http://h/b", text + " plus one more sentence at the end")
    add_page(mine, "http://h/empty-1", "")
    add_page(mine, "http://h/empty-2", "")
    add_page(theirs, "http://h/a", text)
    assert [(p.first, p.second) for p in near_duplicates(mine.id)] == [("http://h/a", "http://h/b")]
    assert near_duplicates(mine.id, exclude={first.id}) == []
    assert near_duplicates(theirs.id) == []


def test_an_update_of_the_text_clears_a_stale_fingerprint(opened: peewee.Database) -> None:
    client = models.get_or_create_client("Stale")
    base = " ".join(f"word{n}" for n in range(400))
    other = " ".join(f"other{n}" for n in range(400))
    near = base + " plus one more sentence at the end"
    add_page(client, "http://h/a", base)
    page = add_page(client, "http://h/b", other)
    assert near_duplicates(client.id) == []  # fingerprints computed and stored
    # A writer that knows nothing of fingerprints (as template_fixup) changes the text.
    models.Page.update(text=near).where(models.Page.id == page.id).execute()
    assert stored_simhashes()["http://h/b"] is None
    assert [(p.first, p.second) for p in near_duplicates(client.id)] == [
        ("http://h/a", "http://h/b")
    ]
    assert stored_simhashes()["http://h/b"] == fingerprints.fingerprint(near)
    # An update that leaves the text as it was keeps the fingerprint.
    models.Page.update(text=near, title="T").where(models.Page.id == page.id).execute()
    assert stored_simhashes()["http://h/b"] is not None


# --- the pipeline writes them -----------------------------------------------------------------


def item(url: str, text: str) -> PageItem:
    return PageItem(
        url=url, requested_url=url, final_url=url, canonical_url=None, status_code=200,
        title="T", description=None, language="en", headings=[], markdown=text, text=text,
        links=[], word_count=len(text.split()),
        content_hash=hashlib.sha256(text.encode()).hexdigest(), etag=None, last_modified=None,
        fetched_at=models.utcnow(), depth=0, extraction_audit={},
    )  # fmt: skip


@pytest.fixture
def pipeline(opened: peewee.Database, store_location: str) -> Iterator[PageStorePipeline]:
    client = models.get_or_create_client("Crawled")
    job = models.Job.create(client=client, url="http://h/")
    crawler = get_crawler(settings_dict={"DOCSCRAWL_DB": store_location})
    crawler.stats.open_spider()
    crawler.spider = SimpleNamespace(job_id=job.id)
    pipe = PageStorePipeline(crawler, store_location, 100, 60.0)
    pipe.open_spider()
    yield pipe
    if pipe._timer is not None and pipe._timer.running:
        pipe._timer.stop()


def test_the_pipeline_stores_each_pages_fingerprint(pipeline: PageStorePipeline) -> None:
    base = "alpha beta gamma " * 200  # three shingles, 200 times: a word more moves no bit
    texts = {"http://h/a": base, "http://h/b": "something else entirely, and short"}
    for url, text in texts.items():
        pipeline.process_item(item(url, text))
    pipeline.flush()
    assert stored_simhashes() == {url: fingerprints.fingerprint(t) for url, t in texts.items()}
    # A recrawl with a small change: the text changes, its simhash does not (the trigger
    # clears a fingerprint an update left as it was; the pipeline sets it again).
    edited = base.replace("beta", "delta", 1)
    assert fingerprints.simhash(edited) == fingerprints.simhash(base)
    # ... and one with a new simhash.
    changed = "a completely different text about other things " * 20
    pipeline.process_item(item("http://h/a", edited))
    pipeline.process_item(item("http://h/b", changed))
    pipeline.flush()
    assert stored_simhashes() == {
        "http://h/a": fingerprints.fingerprint(edited),
        "http://h/b": fingerprints.fingerprint(changed),
    }


# --- the schema step --------------------------------------------------------------------------


def test_a_version_14_store_gets_every_pages_fingerprint(
    store_location: str, opened: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts, _ = planted_corpus(originals=8)
    client = models.get_or_create_client("Fourteen")
    job = models.Job.create(client=client, url="http://h/", status="completed")
    for url, text in texts.items():
        page = add_page(client, url, text, job=job, title=url[-12:])
        models.JobPage.create(job=job, page=page, change=models.NEW, content_hash="x")
    add_page(client, "http://h/empty.html", "")
    before = list(
        models.Page.select(*[f for f in models.Page._meta.sorted_fields if f.name != "simhash"])
        .order_by(models.Page.id)
        .tuples()
    )
    # Back to version 14: no simhash column, index or trigger.
    fingerprints.drop_from_store(opened)
    opened.execute_sql("UPDATE store_meta SET value = '14' WHERE key = 'schema_version'")
    monkeypatch.setattr(fingerprints, "CHUNK", 4)  # several id ranges
    monkeypatch.setattr(fingerprints, "PROGRESS_EVERY", 5)
    progress: list[tuple[int, int]] = []

    def report(task: str, done: int, total: int, _unit: str) -> None:
        if task.startswith("Fingerprinting"):
            progress.append((done, total))

    monkeypatch.setattr(backfill, "progress_reporter", report)

    models.database.close()
    db = models.open_store(store_location)
    assert models.schema_version() == models.SCHEMA_VERSION == max(models.MIGRATIONS)
    after = list(
        models.Page.select(*[f for f in models.Page._meta.sorted_fields if f.name != "simhash"])
        .order_by(models.Page.id)
        .tuples()
    )
    assert after == before  # every row and value kept
    assert models.JobPage.select().count() == len(texts)
    simhashes = stored_simhashes()
    assert simhashes == {
        url: fingerprints.fingerprint(texts.get(url, "")) for url in [*texts, "http://h/empty.html"]
    }
    total = len(texts) + 1
    assert progress[-1] == (total, total) and len(progress) > 1
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    # The index and the trigger came with it.
    indexes = {index.name for index in db.get_indexes("page")}
    assert fingerprints.INDEX in indexes
    models.Page.update(text="new").where(models.Page.url == "http://h/empty.html").execute()
    assert stored_simhashes()["http://h/empty.html"] is None
    db.close()


def test_the_fingerprint_query_reads_the_index_alone(tmp_path: Path) -> None:
    db = models.open_store(str(tmp_path / "s.db"))
    plan = db.execute_sql(
        "EXPLAIN QUERY PLAN SELECT id, simhash FROM page "
        "WHERE client_id = ? AND word_count > ? AND simhash IS NOT NULL",
        (1, 0),
    ).fetchall()
    assert any(f"COVERING INDEX {fingerprints.INDEX}" in row[-1] for row in plan), plan
    db.close()


def test_a_recrawl_reuses_the_fingerprint_of_an_unchanged_text(
    pipeline: PageStorePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "alpha beta gamma " * 200
    pipeline.process_item(item("http://h/a", text))
    pipeline.flush()
    computed: list[str] = []
    original = fingerprints.fingerprint
    monkeypatch.setattr(fingerprints, "fingerprint", lambda t: computed.append(t) or original(t))
    # The same text (its hash: spaces normalised) with other spacing: nothing computed, and the
    # trigger's clearing of the fingerprint (the stored text differs) is undone.
    again = item("http://h/a", text.replace(" ", "  "))
    again["content_hash"] = item("http://h/a", text)["content_hash"]
    pipeline.process_item(again)
    pipeline.flush()
    assert computed == []
    assert stored_simhashes() == {"http://h/a": original(text)}
