"""`docscrawl audit` and the *Extraction flagged* count of `status`: a job's pages whose stored
extraction audit says to check them, on a real crawl of the sample site."""

from __future__ import annotations

import json
import subprocess

import peewee
import pytest
from conftest import DOCSCRAWL, Cli, Store, crawl_job_id

from docscrawl import models
from docscrawl.extraction.page import ExtractionAudit

AUDIT_KEYS = set(ExtractionAudit().as_dict())


def audit(share: float, headings=(3, 3), code=(1, 1), tables=(0, 0), rule="main") -> str:
    """A stored audit (ExtractionAudit.as_dict()'s shape), as JSON."""
    return json.dumps(
        {
            "text_share": share,
            "visible_words": 1000,
            "kept_words": int(share * 1000),
            "headings": list(headings),
            "code_blocks": list(code),
            "tables": list(tables),
            "rule": rule,
        }
    )


@pytest.fixture
def crawled(cli: Cli, store: Store, site: str) -> dict[str, str]:
    """The sample site's Sphinx part crawled; six pages given audits that flag four of them.

    Returns the URLs by role. The extractor fills the audit in; the values are set here so
    that the test does not depend on what it finds on the sample pages.
    """
    result = cli("crawl", "--url", site + "sphinx/", "--quiet")
    assert result.returncode == 0, result.stderr
    assert crawl_job_id(result.stdout.splitlines()[0]) == 1
    stored = [row[0] for row in store.rows("SELECT extraction_audit FROM page")]
    assert stored and all(set(json.loads(value)) == AUDIT_KEYS for value in stored)
    urls = [row[0] for row in store.rows("SELECT url FROM page ORDER BY url")]
    assert len(urls) >= 7
    roles = {
        "low": urls[0],  # text share 0.15
        "lower": urls[1],  # text share 0.1 and a table lost: the worst
        "headings": urls[2],  # fine share, lost 2 of 5 headings
        "code": urls[3],  # fine share, lost 1 of 2 code blocks
        "borderline": urls[4],  # 0.2: not below the default threshold
        "empty": urls[5],  # {}: stored before the audit existed, never flagged
    }
    audits = {
        "low": audit(0.15, rule="density"),
        "lower": audit(0.1, tables=(2, 1)),
        "headings": audit(0.9, headings=(5, 3)),
        "code": audit(0.8, code=(2, 1)),
        "borderline": audit(0.2),
        "empty": "{}",
    }
    fine = audit(1.0)
    store.rows("UPDATE page SET extraction_audit = ?", fine)
    for role, value in audits.items():
        store.rows("UPDATE page SET extraction_audit = ? WHERE url = ?", value, roles[role])
    # The pipeline derives these columns from the audit when it writes a page; do it here too.
    for page_id, value in store.rows("SELECT id, extraction_audit FROM page"):
        derived = models.audit_columns(json.loads(value))
        store.rows("UPDATE page SET audit_share = ?, audit_lost = ? WHERE id = ?",
                   derived["audit_share"], derived["audit_lost"], page_id)  # fmt: skip
    return roles


def test_audit_lists_the_flagged_pages_worst_first(cli: Cli, crawled: dict[str, str]) -> None:
    result = cli("audit", "--job", "1")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["URL", "Share", "Headings", "Code", "Tables", "Rule", "Why"]
    assert [row.split()[0] for row in rows] == [
        crawled["lower"], crawled["low"], crawled["code"], crawled["headings"],
    ]  # fmt: skip
    assert rows[0].split()[1:6] == ["0.10", "3/3", "1/1", "2/1", "main"]
    assert rows[0].endswith("text share 0.1 < 0.2; lost 1 of 2 tables")
    assert rows[1].split()[5] == "density"
    assert rows[2].endswith("lost 1 of 2 code blocks")
    assert rows[3].endswith("lost 2 of 5 headings")
    assert result.stderr.startswith("Job 1: 4 pages flagged (text share below 0.2")


def test_audit_json_below_and_limit(cli: Cli, crawled: dict[str, str]) -> None:
    pages = cli("audit", "--job", "1", "--json").json()
    assert [page["url"] for page in pages][:2] == [crawled["lower"], crawled["low"]]
    assert pages[0] == {
        "url": crawled["lower"],
        "text_share": 0.1,
        "headings_found": 3,
        "headings_kept": 3,
        "code_blocks_found": 1,
        "code_blocks_kept": 1,
        "tables_found": 2,
        "tables_kept": 1,
        "rule": "main",
        "reasons": ["low_text_share", "lost_tables"],
    }
    assert pages[3]["reasons"] == ["lost_headings"]
    # --below moves the text-share threshold; a loss flags a page whatever its share.
    above = cli("audit", "--job", "1", "--below", "0.15", "--json").json()
    assert [page["url"] for page in above] == [
        crawled["lower"], crawled["code"], crawled["headings"],
    ]  # fmt: skip
    assert above[0]["reasons"] == ["low_text_share", "lost_tables"]
    everything = cli("audit", "--job", "1", "--below", "1", "--json").json()
    assert crawled["borderline"] in [page["url"] for page in everything]
    assert crawled["empty"] not in [page["url"] for page in everything]
    limited = cli("audit", "--job", "1", "--limit", "2", "--json").json()
    assert [page["url"] for page in limited] == [crawled["lower"], crawled["low"]]


def test_status_counts_the_flagged_pages(cli: Cli, crawled: dict[str, str]) -> None:
    details = cli("status", "--job", "1", "--json").json()
    assert details["extraction_flagged"] == 4
    text = cli("status", "--job", "1").stdout
    assert "Extraction flagged: 4 pages (`docscrawl audit --job 1` lists them)" in text
    # The threshold is DOCSCRAWL_AUDIT_MIN_TEXT_SHARE, for status and audit alike.
    env = {"DOCSCRAWL_AUDIT_MIN_TEXT_SHARE": "0.6"}
    assert cli("status", "--job", "1", "--json", env=env).json()["extraction_flagged"] == 5
    assert len(cli("audit", "--job", "1", "--json", env=env).json()) == 5
    assert len(cli("audit", "--job", "1", "--json", "--below", "0.15", env=env).json()) == 3


def test_a_job_without_flagged_pages(cli: Cli, store: Store, site: str) -> None:
    assert cli("crawl", "--url", site + "mkdocs/", "--max-pages", "3", "--quiet").returncode == 0
    store.rows("UPDATE page SET extraction_audit = ?", audit(1.0))
    assert cli("status", "--job", "1", "--json").json()["extraction_flagged"] == 0
    assert "Extraction flagged" not in cli("status", "--job", "1").stdout
    result = cli("audit", "--job", "1")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr.startswith("Job 1: 0 pages flagged")
    assert cli("audit", "--job", "1", "--json").json() == []


def one_error_line(result) -> str:
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_an_unknown_job_is_one_sentence_and_exit_1(cli: Cli) -> None:
    result = cli("audit", "--job", "42")
    assert result.returncode == 1
    assert result.stderr == "Error: There is no job 42; `docscrawl list` shows the jobs.\n"
    assert result.stdout == ""


@pytest.mark.parametrize("below", ["0", "-0.1", "1.01", "abc", "nan"])
def test_below_outside_0_to_1_is_a_usage_error(cli: Cli, below: str) -> None:
    result = cli("audit", "--job", "1", "--below", below)
    assert result.returncode == 2
    assert "--below" in one_error_line(result)


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "nan", "inf"])
def test_a_bad_min_text_share_is_a_usage_error_before_anything(
    cli: Cli, store: Store, value: str
) -> None:
    env = {**cli.env, "DOCSCRAWL_AUDIT_MIN_TEXT_SHARE": value}
    for command in (["audit", "--job", "1"], ["status", "--job", "1"]):
        proc = subprocess.run(
            [DOCSCRAWL, "--db", str(store.path), *command],
            env=env, cwd=cli.cwd, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 2
        assert proc.stderr == (
            f"Error: DOCSCRAWL_AUDIT_MIN_TEXT_SHARE={value} is not valid: it takes a share of a "
            "page's words greater than 0 and at most 1, such as 0.5.\n"
        )
        assert proc.stdout == ""
    assert not store.path.exists()  # refused before the store was touched


@pytest.mark.parametrize("value", ["1", "0.25", "1e-3"])
def test_a_valid_min_text_share(cli: Cli, value: str) -> None:
    result = cli("list", env={"DOCSCRAWL_AUDIT_MIN_TEXT_SHARE": value})
    assert result.returncode == 0, result.stderr


def test_the_flagged_count_reads_the_audit_index_not_a_big_jobs_rows(store: Store) -> None:
    """One big job among many small ones, with the planner's statistics (ANALYZE): counting its
    flagged pages reads ranges of the covering audit index, never each of its page rows (the
    index on job_id alone looks selective to the planner: it reads a whole big job's rows)."""
    from control import audit as audit_service

    db = models.open_store(str(store.path))
    try:
        client = models.get_or_create_client("Planned")
        small = [models.Job.create(client=client, url="http://h/", status="completed").id
                 for _ in range(60)]  # fmt: skip
        big = models.Job.create(client=client, url="http://h/", status="completed").id
        rows = []
        for n in range(1800):
            job = big if n < 1200 else small[n % len(small)]
            share = 0.1 if n % 100 == 0 else 0.9  # 12 of the big job's pages are flagged
            rows.append({"client": client, "job": job, "url": f"http://h/{n}",
                         "requested_url": f"http://h/{n}", "final_url": f"http://h/{n}",
                         "status_code": 200, "content_hash": str(n), "text": "x" * 2000,
                         **models.audit_columns(json.loads(audit(share)))})  # fmt: skip
        models.Page.insert_many(rows).execute()
        db.execute_sql("ANALYZE")
        db.close()
        db = models.open_store(str(store.path))
        queries = audit_service._flagged_queries(big, audit_service.min_text_share(None))

        def plan(query) -> str:
            sql, params = query.sql()
            return " / ".join(r[3] for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))

        # `status` counts (the index alone); `audit` lists (the index, then each flagged row).
        counts = [plan(query.select_from(peewee.fn.COUNT(peewee.SQL("1")))) for query in queries]
        assert all("COVERING INDEX page_audit_lost_audit_share_job_id" in p for p in counts), counts
        lists = [plan(query) for query in queries]
        assert all(p.startswith("SEARCH t1 USING INDEX page_audit_lost") for p in lists), lists
        assert audit_service.flagged_count(big) == 12
    finally:
        db.close()
