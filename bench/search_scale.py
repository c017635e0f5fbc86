"""Full-text search on a big store: the schema-13 migration's time and query times.

Generates a store of --pages pages with --sections sections each (about 80 words a section,
drawn Zipf-like from a 20,000-word vocabulary, so common words match most sections and rare
ones few), written as schema 11 (no search index) straight into SQLite or PostgreSQL with plain
SQL. Then opens it with this docscrawl (the migration indexes every section; its time is
reported) and times `control.search.search` in-process (median of --repeats after one warm-up)
for a rare word, a common word, a two-word phrase, a planted exact title, and the common word
filtered by client and by job; and one `docscrawl search` as a whole process.

    .venv/bin/python -m bench.search_scale                          # 20,000 pages x 5, SQLite
    .venv/bin/python -m bench.search_scale --pages 200000 --sections 5
    .venv/bin/python -m bench.search_scale --db postgresql://user@127.0.0.1/db --pages 20000
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from control import search
from docscrawl import models, search_index

VOCABULARY = 20_000
WORDS_PER_SECTION = 80
CLIENTS = 20


def words(rng: random.Random) -> list[str]:
    # Zipf-like: word k is drawn about 1/k as often as word 1.
    return [f"w{int(VOCABULARY ** rng.random())}" for _ in range(WORDS_PER_SECTION)]


def generate(location: str, pages: int, sections: int, seed: int = 7) -> None:
    """A schema-11 store: clients, one job per client, pages, sections; no search index."""
    rng = random.Random(seed)
    db = models.open_store(location)
    search_index.drop_index(db)
    p = db.param
    with models.write_transaction():
        clients = [models.get_or_create_client(f"Client {n}").id for n in range(CLIENTS)]
        jobs = [
            models.Job.create(client=c, url="http://h/", status="completed").id for c in clients
        ]
        page_rows, section_rows = [], []
        next_section = 1
        for page_id in range(1, pages + 1):
            client = clients[page_id % CLIENTS]
            # A few pages carry a planted title (the exact-title query) and a planted phrase.
            title = "Planted Title" if page_id % 50_000 == 1 else f"Page {page_id} w{page_id % 997}"
            url = f"http://h{client}/p{page_id}.html"
            page_rows.append((page_id, client, jobs[page_id % CLIENTS], url, url, url, 200, title,
                              "[]", "", "", "[]", 0, f"hash{page_id}", models.utcnow(), 1,
                              "{}"))  # fmt: skip
            for position in range(sections):
                text = " ".join(words(rng))
                if page_id % 10_000 == 7 and position == 2:
                    text += " zebra quokka"
                section_rows.append((next_section, page_id, position, title, f"Part {position}",
                                     f"{url}#s{position}", text, text))  # fmt: skip
                next_section += 1
            if len(section_rows) >= 20_000 or page_id == pages:
                _insert(db, p, page_rows, section_rows)
                page_rows, section_rows = [], []
        db.execute_sql("UPDATE store_meta SET value = '11' WHERE key = 'schema_version'")
    if isinstance(db, models.peewee.PostgresqlDatabase):
        for table in ("page", "page_section"):
            db.execute_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    db.close()


def _insert(db, p, page_rows, section_rows) -> None:
    page_sql = (
        "INSERT INTO page (id, client_id, job_id, url, requested_url, final_url, status_code, "
        "title, headings, markdown, text, links, word_count, content_hash, fetched_at, depth, "
        f"extraction_audit) VALUES ({', '.join([p] * 17)})"
    )
    section_sql = (
        "INSERT INTO page_section (id, page_id, position, lvl0, lvl1, anchor_url, markdown, "
        f"text) VALUES ({', '.join([p] * 8)})"
    )
    cursor = db.cursor()
    cursor.executemany(page_sql, page_rows)
    cursor.executemany(section_sql, section_rows)
    cursor.executemany(
        f"INSERT INTO job_page (job_id, page_id, change, content_hash) VALUES ({p}, {p}, {p}, {p})",
        [(row[2], row[0], "new", row[13]) for row in page_rows],
    )


# (query, filters): a rare word, a common one (in most sections), a two-word phrase (5% of
# sections), a planted phrase, a planted exact title, the common word filtered. Job 1 is the
# first client's only job.
OPTION = {"client_slug": "client-slug", "job_id": "job"}  # search()'s argument: the CLI's
QUERIES = [
    ("w19000", {}),
    ("w2", {}),
    ('"w3 w4"', {}),
    ("w5 w7", {}),
    ('"zebra quokka"', {}),
    ("Planted Title", {}),
    ("w2", {"client_slug": "client-3"}),
    ("w2", {"job_id": 1}),
]


def timed(repeats: int, fn) -> tuple[float, object]:
    result = fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20_000)
    parser.add_argument("--sections", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--db", help="A new store: a PostgreSQL URL or a SQLite path (default: a temp file)."
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        location = args.db or str(Path(tmp) / "search.db")
        start = time.perf_counter()
        generate(location, args.pages, args.sections)
        generated = time.perf_counter() - start
        start = time.perf_counter()
        models.open_store(location)
        migrated = time.perf_counter() - start
        total = models.PageSection.select().count()
        engine = "PostgreSQL" if "://" in location else "SQLite"
        print(f"store: {args.pages:,} pages, {total:,} sections ({engine}); "
              f"generated in {generated:.1f} s")  # fmt: skip
        print(f"migration to schema 13 (index every section): {migrated:.1f} s")
        print("| query | matching sections | median s | first result |")
        print("|---|---|---|---|")
        for query, filters in QUERIES:
            seconds, hits = timed(args.repeats, lambda q=query, f=filters: search.search(q, **f))
            first = hits[0].title if hits else "-"
            shown = " ".join([f"`{query}`", *(f"--{OPTION[k]} {v}" for k, v in filters.items())])
            print(f"| {shown} | {matching(query):,} | {seconds:.3f} | {first} |")
        models.database.close()
        command = [str(Path(sys.executable).parent / "docscrawl"), "--db", location, "search",
                   "w19000", "--json"]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        print(f"`docscrawl search w19000 --json` as a whole process: "
              f"{time.perf_counter() - start:.2f} s")  # fmt: skip


def matching(query: str) -> int:
    """How many sections match query."""
    db = models.database.obj
    terms = search.parse_query(query)
    if search_index.is_sqlite(db):
        return db.execute_sql(
            f"SELECT count(*) FROM {search_index.FTS_TABLE} WHERE {search_index.FTS_TABLE} MATCH ?",
            (search._fts5_query(terms),),
        ).fetchone()[0]
    return db.execute_sql(
        f"SELECT count(*) FROM page_section WHERE {search_index.PG_COLUMN} @@ "
        "websearch_to_tsquery('simple', %s)",
        (search._websearch_query(terms),),
    ).fetchone()[0]


if __name__ == "__main__":
    main()
