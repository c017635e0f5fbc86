"""Export: JSON Lines, CSV and a Markdown tree from a real SQLite store."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from control import export
from control.exceptions import InvalidRequest, UnknownJob
from control.export import COLUMNS, export_pages, markdown_path
from docscrawl import models
from docscrawl.models import SECTION_LEVELS as LEVELS

HOST = "http://127.0.0.1:8000"
FETCHED = dt.datetime(2024, 5, 1, 12, 30, 45, 123456)
FETCHED_ISO = "2024-05-01T12:30:45Z"
TRICKY_TITLE = 'Guide: "quoted" & it\'s: café \u2028 done'
TRICKY_MARKDOWN = (
    '# Guide\n\nHello, world, with commas\nand "quotes", too.\n\n| a, b |\n---\nend\u2028'
)


def page_values(url: str, **overrides) -> dict:
    values = {
        "url": url,
        "requested_url": url,
        "final_url": url,
        "canonical_url": url,
        "status_code": 200,
        "title": f"Title of {url}",
        "description": "A page.",
        "language": "en",
        "headings": [{"level": 1, "text": "Top", "anchor": "top"}],
        "markdown": f"# {url}\n",
        "text": url,
        "links": [f"{HOST}/docs/"],
        "word_count": 3,
        "content_hash": "h-" + url,
        "etag": '"abc"',
        "last_modified": "Wed, 01 May 2024 12:00:00 GMT",
        "fetched_at": FETCHED,
        "depth": 1,
        "extraction_audit": {"text_share": 0.75, "headings": [1, 1], "rule": "main"},
    }
    values.update(overrides)
    return values


@pytest.fixture
def store(tmp_path: Path) -> Iterator[dict]:
    """Two clients, three jobs and their pages; returns what each export should contain."""
    models.open_store(str(tmp_path / "store.db"))
    acme = models.Client.create(name="Acme Docs", slug="acme-docs")
    other = models.Client.create(name="Other", slug="other")
    first = models.Job.create(client=acme, url=f"{HOST}/docs/", status=models.COMPLETED)
    second = models.Job.create(client=acme, url=f"{HOST}/docs/", status=models.COMPLETED)
    third = models.Job.create(client=other, url="https://other.example/", status=models.COMPLETED)
    acme_pages = [
        (
            second,
            page_values(
                f"{HOST}/docs/guide/",
                title=TRICKY_TITLE,
                markdown=TRICKY_MARKDOWN,
                description="Commas, and\nnewlines",
                canonical_url=None,
                etag=None,
                last_modified=None,
                depth=0,
            ),
        ),
        (second, page_values(f"{HOST}/docs/a.html", title=None, headings=[], links=[])),
        (first, page_values(f"{HOST}/docs/search?q=foo&page=2")),
        (second, page_values(f"{HOST}/docs/../../../etc/passwd")),
        (first, page_values(f"{HOST}/docs/%2e%2e/%2E%2E/x.html")),
        # Maps to the same file as /docs/guide/, so it must get its own name.
        (second, page_values(f"{HOST}/docs/guide/index.html")),
    ]
    other_pages = [(third, page_values("https://other.example/docs/"))]
    expected: dict[str, dict] = {}
    for client, pages in (("acme-docs", acme_pages), ("other", other_pages)):
        owner = acme if client == "acme-docs" else other
        for job, values in pages:
            models.Page.create(client=owner, job=job, **values)
            record = {"client": client, "job_id": job.id, **values, "fetched_at": FETCHED_ISO}
            expected[values["url"]] = record
    yield {
        "expected": expected,
        "jobs": {"first": first.id, "second": second.id, "third": third.id},
        "tmp": tmp_path,
    }
    models.database.close()


def expected_for(store: dict, *, client: str | None = None, job: int | None = None) -> dict:
    return {
        url: record
        for url, record in store["expected"].items()
        if (client is None or record["client"] == client)
        and (job is None or record["job_id"] == job)
    }


def read_jsonl(text: str) -> dict[str, dict]:
    # splitlines() also splits on U+2028, so this checks that the export escapes it.
    records = [json.loads(line) for line in text.splitlines()]
    return {record["url"]: record for record in records}


def test_jsonl_round_trips_every_field_of_the_clients_pages(store: dict) -> None:
    out = store["tmp"] / "acme.jsonl"
    result = export_pages(client_slug="acme-docs", fmt="jsonl", out=str(out))
    wanted = expected_for(store, client="acme-docs")
    assert result.format == "jsonl"
    assert result.out == str(out)
    assert result.pages == len(wanted) == 6
    assert result.client == "acme-docs"
    assert result.files == (str(out),)
    text = out.read_text(encoding="utf-8")
    assert text.endswith("\n")
    got = read_jsonl(text)
    assert got == wanted
    for record in got.values():
        assert list(record) == list(COLUMNS)
    assert got[f"{HOST}/docs/guide/"]["title"] == TRICKY_TITLE
    assert not list(store["tmp"].glob(".acme.jsonl.*"))


def test_jsonl_of_a_job_has_only_the_pages_it_last_saw(store: dict) -> None:
    job = store["jobs"]["first"]
    out = store["tmp"] / "job.jsonl"
    result = export_pages(job_id=job, fmt="jsonl", out=str(out))
    got = read_jsonl(out.read_text(encoding="utf-8"))
    assert got == expected_for(store, job=job)
    assert result.pages == 2
    assert result.job_id == job
    assert result.client == "acme-docs"


def test_jsonl_to_stdout(store: dict, capsys: pytest.CaptureFixture[str]) -> None:
    result = export_pages(client_slug="other", fmt="jsonl", out="-")
    captured = capsys.readouterr()
    assert read_jsonl(captured.out) == expected_for(store, client="other")
    assert result.out == "-"
    assert result.files == ()
    assert result.pages == 1


def parse_csv(text: str) -> dict[str, dict]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return {row["url"]: row for row in reader}


def as_csv_cells(record: dict) -> dict[str, str]:
    cells = {}
    for name, value in record.items():
        if name in ("headings", "links", "extraction_audit"):
            cells[name] = json.dumps(value, ensure_ascii=False)
        else:
            cells[name] = "" if value is None else str(value)
    return cells


def test_csv_parses_back_into_the_same_values(store: dict) -> None:
    out = store["tmp"] / "acme.csv"
    result = export_pages(client_slug="acme-docs", fmt="csv", out=str(out))
    wanted = expected_for(store, client="acme-docs")
    assert result.pages == len(wanted)
    rows = parse_csv(out.read_text(encoding="utf-8"))
    assert rows == {url: as_csv_cells(record) for url, record in wanted.items()}
    guide = rows[f"{HOST}/docs/guide/"]
    assert guide["markdown"] == TRICKY_MARKDOWN
    assert json.loads(guide["headings"]) == wanted[f"{HOST}/docs/guide/"]["headings"]
    assert json.loads(rows[f"{HOST}/docs/a.html"]["links"]) == []


def test_csv_of_a_job_to_stdout(store: dict, capsys: pytest.CaptureFixture[str]) -> None:
    job = store["jobs"]["third"]
    export_pages(job_id=job, fmt="csv", out="-")
    rows = parse_csv(capsys.readouterr().out)
    wanted = expected_for(store, job=job)
    assert rows == {url: as_csv_cells(record) for url, record in wanted.items()}


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def read_front_matter(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    assert lines[0] == "---"
    end = lines.index("---", 1)
    front = {}
    for line in lines[1:end]:
        key, _, value = line.partition(": ")
        front[key] = json.loads(value)
    assert lines[end + 1] == ""
    return front, "\n".join(lines[end + 2 :])


def test_markdown_tree_mirrors_the_urls(store: dict) -> None:
    tmp = store["tmp"]
    before = files_under(tmp)
    out = tmp / "export" / "md"
    result = export_pages(client_slug="acme-docs", fmt="markdown", out=str(out))
    site = "127.0.0.1_8000"
    guide_index_html = f"{HOST}/docs/guide/index.html"
    suffix = export._short_hash(guide_index_html)
    wanted = {
        f"{site}/docs/guide/index.md": f"{HOST}/docs/guide/",
        f"{site}/docs/guide/index-{suffix}.md": guide_index_html,
        f"{site}/docs/a.md": f"{HOST}/docs/a.html",
        f"{site}/docs/search__q_foo_page_2.md": f"{HOST}/docs/search?q=foo&page=2",
        f"{site}/etc/passwd.md": f"{HOST}/docs/../../../etc/passwd",
        f"{site}/docs/_../_../x.md": f"{HOST}/docs/%2e%2e/%2E%2E/x.html",
    }
    assert files_under(out) == set(wanted)
    assert result.pages == 6
    assert result.renamed == 1
    assert result.out == str(out)
    assert sorted(result.files) == sorted(str(out / rel) for rel in wanted)
    # Nothing outside the export directory, not even a temp file.
    assert files_under(tmp) - {f"export/md/{rel}" for rel in wanted} == before
    records = store["expected"]
    for rel, url in wanted.items():
        front, body = read_front_matter(out / rel)
        assert list(front) == ["url", "title", "fetched", "hash"]
        assert front == {
            "url": url,
            "title": records[url]["title"],
            "fetched": FETCHED_ISO,
            "hash": records[url]["content_hash"],
        }
        assert body.rstrip("\n") == records[url]["markdown"].rstrip("\n")
    front, _ = read_front_matter(out / f"{site}/docs/guide/index.md")
    assert front["title"] == TRICKY_TITLE
    assert "\u2028" not in (out / f"{site}/docs/guide/index.md").read_text().split("---")[1]


def test_markdown_export_again_overwrites_in_place(store: dict) -> None:
    out = store["tmp"] / "md"
    first = export_pages(job_id=store["jobs"]["third"], fmt="markdown", out=str(out))
    second = export_pages(job_id=store["jobs"]["third"], fmt="markdown", out=str(out))
    assert first.files == second.files == (str(out / "other.example/docs/index.md"),)
    assert files_under(out) == {"other.example/docs/index.md"}


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("http://h/", "h/index.md"),
        ("http://h", "h/index.md"),
        ("http://H.example:8080/docs/guide/", "h.example_8080/docs/guide/index.md"),
        ("http://h/docs/a.html", "h/docs/a.md"),
        ("http://h/docs/a.HTM", "h/docs/a.md"),
        ("http://h/docs/api/v1.2", "h/docs/api/v1.2.md"),
        ("http://h/docs/a.md/b.html", "h/docs/a.md_/b.md"),
        ("http://h/docs/?page=2", "h/docs/index__page_2.md"),
        ("http://h/docs/..", "h/index.md"),
        ("http://h/docs/./a/../b", "h/docs/b.md"),
        ("http://h/%2e%2e/%2f..%2fetc", "h/_../_.._etc.md"),
        ("http://h/.hidden/-rf", "h/_.hidden/_-rf.md"),
        ("http://h/a%20b/c:d*e", "h/a_b/c_d_e.md"),
        ("http://[::1]:9/x", "_1_9/x.md"),
        ("http://h/caf%C3%A9", "h/café.md"),
    ],
)
def test_markdown_path(url: str, path: str) -> None:
    assert markdown_path(url) == path


def test_markdown_path_keeps_long_names_short() -> None:
    name = markdown_path("http://h/" + "x" * 300 + "?" + "q" * 300).split("/")[-1]
    assert len(name.encode()) < 255
    assert name.endswith(".md")


def test_markdown_refuses_a_symlink_out_of_the_directory(store: dict) -> None:
    elsewhere = store["tmp"] / "elsewhere"
    elsewhere.mkdir()
    out = store["tmp"] / "md"
    out.mkdir()
    (out / "127.0.0.1_8000").symlink_to(elsewhere)
    with pytest.raises(InvalidRequest, match="outside"):
        export_pages(client_slug="acme-docs", fmt="markdown", out=str(out))
    assert list(elsewhere.iterdir()) == []


def test_unknown_client_and_job(store: dict) -> None:
    out = str(store["tmp"] / "x.jsonl")
    with pytest.raises(InvalidRequest, match=r"^There is no client 'nope'; .*\.$"):
        export_pages(client_slug="nope", fmt="jsonl", out=out)
    with pytest.raises(UnknownJob, match=r"^There is no job 999; .*\.$"):
        export_pages(job_id=999, fmt="jsonl", out=out)
    assert not Path(out).exists()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fmt": "jsonl", "out": "-"},
        {"client_slug": "acme-docs", "job_id": 1, "fmt": "jsonl", "out": "-"},
        {"client_slug": "acme-docs", "fmt": "xml", "out": "-"},
        {"client_slug": "acme-docs", "fmt": "markdown", "out": "-"},
    ],
)
def test_bad_requests(store: dict, kwargs: dict) -> None:
    with pytest.raises(InvalidRequest):
        export_pages(**kwargs)


def test_out_that_cannot_be_written(store: dict) -> None:
    tmp = store["tmp"]
    with pytest.raises(InvalidRequest, match="does not exist"):
        export_pages(client_slug="acme-docs", fmt="csv", out=str(tmp / "missing" / "a.csv"))
    with pytest.raises(InvalidRequest, match="is a directory"):
        export_pages(client_slug="acme-docs", fmt="jsonl", out=str(tmp))
    (tmp / "file").write_text("x")
    with pytest.raises(InvalidRequest, match="is not a directory"):
        export_pages(client_slug="acme-docs", fmt="markdown", out=str(tmp / "file"))
    with pytest.raises(InvalidRequest, match="Cannot create"):
        export_pages(client_slug="acme-docs", fmt="markdown", out=str(tmp / "file" / "md"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only directories anyway")
def test_read_only_directory_is_refused(store: dict) -> None:
    locked = store["tmp"] / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(InvalidRequest, match="read-only"):
            export_pages(client_slug="acme-docs", fmt="jsonl", out=str(locked / "a.jsonl"))
        with pytest.raises(InvalidRequest, match="read-only"):
            export_pages(client_slug="acme-docs", fmt="markdown", out=str(locked))
    finally:
        locked.chmod(0o700)


def test_failed_export_keeps_the_previous_file(store: dict, monkeypatch) -> None:
    out = store["tmp"] / "acme.jsonl"
    out.write_text("previous export\n")
    calls = []

    def failing(row: dict, client: str) -> dict:
        calls.append(row)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return {"url": row["url"]}

    monkeypatch.setattr(export, "page_record", failing)
    with pytest.raises(RuntimeError, match="boom"):
        export_pages(client_slug="acme-docs", fmt="jsonl", out=str(out))
    assert out.read_text() == "previous export\n"
    assert sorted(
        p.name for p in store["tmp"].iterdir() if p.suffix != ".db" and "db-" not in p.name
    ) == ["acme.jsonl"]


def test_new_file_gets_the_usual_mode(store: dict) -> None:
    out = store["tmp"] / "acme.csv"
    export_pages(client_slug="acme-docs", fmt="csv", out=str(out))
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def write_sections() -> None:
    """Split every stored page into sections, as the pipeline does when it stores them."""
    pages = models.Page.select(
        models.Page.id, models.Page.url, models.Page.title, models.Page.markdown,
        models.Page.headings,
    ).tuples()  # fmt: skip
    with models.write_transaction():
        models.write_sections(list(pages))


def test_sections_are_json_lines_one_per_section(store: dict) -> None:
    guide = f"{HOST}/docs/guide/"
    models.Page.update(
        markdown="Intro.\n\n# Top\n\nText.\n\n## Deeper\n\nMore \u2028 text.",
        headings=[{"level": 1, "text": "Top", "anchor": "top"}],
    ).where(models.Page.url == guide).execute()
    write_sections()
    out = store["tmp"] / "sections.jsonl"
    result = export_pages(client_slug="acme-docs", fmt="sections", out=str(out))
    lines = out.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and "\u2028" not in out.read_text(encoding="utf-8")
    records = [json.loads(line) for line in lines[:-1]]
    assert (result.format, result.pages, result.sections) == ("sections", 6, 8)
    assert result.files == (str(out),)
    mine = [record for record in records if record["page_url"] == guide]
    assert mine == [
        {
            "client": "acme-docs",
            "job_id": store["jobs"]["second"],
            "page_url": guide,
            "position": position,
            "anchor_url": anchor,
            "hierarchy": {**dict.fromkeys(LEVELS), "lvl0": TRICKY_TITLE, "lvl1": h1, "lvl2": h2},
            "markdown": markdown,
            "text": text,
        }
        for position, anchor, h1, h2, markdown, text in [
            (0, guide, None, None, "Intro.\n\n", "Intro."),
            (1, guide + "#top", "Top", None, "# Top\n\nText.\n\n", "Top\nText."),
            (2, guide, "Top", "Deeper", "## Deeper\n\nMore \u2028 text.", "Deeper\nMore text."),
        ]
    ]
    # Pages in URL order, each page's sections in their order.
    order = [(record["page_url"], record["position"]) for record in records]
    assert order == sorted(order)


def test_sections_of_a_job_to_stdout(store: dict, capsys: pytest.CaptureFixture[str]) -> None:
    write_sections()
    result = export_pages(job_id=store["jobs"]["first"], fmt="sections", out="-")
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    wanted = set(expected_for(store, job=store["jobs"]["first"]))
    assert {record["page_url"] for record in records} == wanted
    assert (result.out, result.pages, result.sections) == ("-", 2, 2)
    with pytest.raises(UnknownJob):
        export_pages(job_id=99, fmt="sections", out="-")
