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
from hypothesis import given
from hypothesis import strategies as st

from control import export
from control.exceptions import InvalidRequest, UnknownJob
from control.export import COLUMNS, export_pages, markdown_path
from docscrawl import models
from docscrawl.models import PAGE_FIELDS
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
    yield {**fill_store(), "tmp": tmp_path}
    models.database.close()


def fill_store() -> dict:
    """The store fixture's clients, jobs and pages, in the open store."""
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
    return {
        "expected": expected,
        "jobs": {"first": first.id, "second": second.id, "third": third.id},
    }


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

    def failing(values: list, slug: bytes, invalid: object) -> bytes:
        calls.append(values)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return b"{}\n"

    monkeypatch.setattr(export, "_jsonl_line", failing)
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


# --- the fast encoders against a straightforward reference ------------------------------------

# json.dumps(ensure_ascii=False) and csv.writer are the reference the export was first written
# with; the export now encodes each value itself (orjson for strings, stored JSON spliced in).
ODD_TEXT = st.text(
    st.sampled_from(',"\r\n\t \\/\u2028\u2029\x00\x1f\x7f\x85éç—✓𝄞\ufeff\ufffe')
    | st.characters(exclude_categories=("Cs",)),
    max_size=40,
)


def reference_json(value: object) -> bytes:
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def reference_csv_row(cells: list) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue().encode()


def test_strings_are_escaped_as_json_dumps_does_for_every_code_point() -> None:
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert export._json_bytes(every) == reference_json(every)
    for code in [*range(0x100), 0x2028, 0x2029, 0xFEFF, 0xFFFF, 0x10FFFF]:
        assert export._json_bytes(chr(code)) == reference_json(chr(code))


JSON_VALUES = st.one_of(
    ODD_TEXT, st.none(), st.integers(), st.floats(), st.booleans(),
    st.lists(ODD_TEXT, max_size=3), st.dictionaries(ODD_TEXT, ODD_TEXT | st.integers(), max_size=3),
)  # fmt: skip


@given(value=JSON_VALUES)
def test_json_values_encode_as_json_dumps_does(value: object) -> None:
    assert export._json_bytes(value) == reference_json(value)


@given(cells=st.lists(ODD_TEXT | st.none() | st.integers(), min_size=2, max_size=5))
def test_csv_cells_are_quoted_as_csv_writer_does(cells: list) -> None:
    line = (",".join(export._csv_cell(cell) for cell in cells) + "\r\n").encode()
    assert line == reference_csv_row(cells)


@pytest.mark.parametrize(
    "stored",
    [
        "2024-05-01 12:30:45.123456",
        "2024-05-01 12:30:45",
        "2024-05-01",
        "2024-05-01T12:30:45Z",
        "2024-05-01 12:30:45+02:00",
        "2024-05-01 12:30:45.123+02:00",
        "2024-13-01 00:00:00",
        "2024-5-1 1:2:3",
        "garbage",
        "",
        None,
        dt.datetime(2024, 5, 1, 12, 30, 45, 999999),
        dt.datetime(2024, 5, 1, 12, 30, 45, tzinfo=dt.timezone(dt.timedelta(hours=-3))),
    ],
)
def test_fetched_at_as_the_field_converter_gives_it(stored: object) -> None:
    wanted = export.iso_utc(models.Page.fetched_at.python_value(stored))
    assert export._iso_fetched(stored) == wanted


# Stored JSON texts: (text, what the export writes for it); None: the text is spliced in as it is.
STORED_JSON = {
    "canonical": ('[{"level": 1, "text": "Top \u2028 \\"é\\"", "anchor": "top"}]', None),
    "compact": ('[{"level":1,"text":"x"}]', None),  # valid, not json.dumps's: kept as stored
    "padded": (" [1,  2] ", None),
    "two lines": ("[1,\n 2]", b"[1, 2]"),  # not one line: encoded again
    "nan": ('{"text_share": NaN}', b'{"text_share": NaN}'),  # json's, not orjson's
    "invalid": ("[{'level': 1}", b"null"),
    "empty": ("", b"null"),
}


def set_raw(url: str, **columns: object) -> None:
    """Store values as they are (no field conversion), as another program or a bug might."""
    param = models.database.param
    for name, value in columns.items():
        models.database.execute_sql(
            f"UPDATE page SET {name} = {param} WHERE url = {param}", (value, url)
        )


def tricky_rows(*, nul: bool = True) -> dict[str, dict]:
    """Pages whose values stress both encoders (with a NUL character, which PostgreSQL's text
    cannot hold, unless nul is false); returns each URL's stored JSON texts."""
    client = models.Client.get(models.Client.slug == "acme-docs")
    job = models.Job.get(models.Job.client == client)
    big = ('Big, "quoted"\r\ntext — café ✓ 𝄞 \u2028\u2029 \x00\x7f\\ ' * 700)[:20000]
    big = big if nul else big.replace("\x00", "\x01")
    stored: dict[str, dict] = {}
    for n, (kind, (text, _)) in enumerate(STORED_JSON.items()):
        url = f"{HOST}/tricky/{n}?kind={kind}"
        values = page_values(
            url, title=f'"{kind}", with\nnewline \u2028', markdown=big if n == 0 else "",
            text=big[::-1] if n == 0 else "", description=None if n % 2 else "a,b",
            language=None, canonical_url=None, etag=None, last_modified=None,
        )  # fmt: skip
        models.Page.create(client=client, job=job, **values)
        columns = {"headings": text, "links": text, "extraction_audit": text}
        if n == 1:
            columns = {"links": text}
        set_raw(url, **columns)
        stored[url] = columns
    return stored


def reference_rows(slug: str) -> list[dict]:
    """The client's page records as page_record builds them, the JSON fields parsed from their
    stored text here (None where it is not JSON)."""
    plain = ("job", *(name for name in PAGE_FIELDS if name not in export.LIST_FIELDS))
    columns = [getattr(models.Page, name) for name in plain]
    raw = [getattr(models.Page, name).coerce(False) for name in export.LIST_FIELDS]
    query = (
        models.Page.select(*columns, *raw)
        .join(models.Client)
        .where(models.Client.slug == slug)
        .order_by(models.Page.url)
    )
    records = []
    for row in query.tuples():
        values = dict(zip(plain, row, strict=False))
        for name, text in zip(export.LIST_FIELDS, row[len(plain) :], strict=True):
            try:
                values[name] = json.loads(text)
            except ValueError:
                values[name] = None
        record = export.page_record(values, slug)
        for name in export.LIST_FIELDS:  # page_record's [] / {} is for a NULL, not for junk
            record[name] = values[name]
        records.append(record)
    return records


STORED_JSON_BY_TEXT = {text: wanted for text, wanted in STORED_JSON.values()}


def expected_jsonl(slug: str, stored: dict[str, dict]) -> list[bytes]:
    lines = []
    for record in reference_rows(slug):
        line = reference_json(record) + b"\n"
        for name, text in stored.get(record["url"], {}).items():
            # What the stored text becomes in place of the reference's encoding of its value.
            wanted = STORED_JSON_BY_TEXT[text]
            wanted = text.encode() if wanted is None else wanted
            wanted = wanted.replace("\u2028".encode(), b"\\u2028")
            encoded = reference_json(record[name])
            key = f'"{name}": '.encode()
            assert line.count(key + encoded) == 1
            line = line.replace(key + encoded, key + wanted)
        lines.append(line)
    return lines


def test_jsonl_of_tricky_rows_is_the_reference_encoding(store: dict) -> None:
    stored = tricky_rows()
    out = store["tmp"] / "tricky.jsonl"
    result = export_pages(client_slug="acme-docs", fmt="jsonl", out=str(out))
    lines = out.read_bytes().splitlines(keepends=True)
    assert lines == expected_jsonl("acme-docs", stored)
    assert result.pages == len(lines) == 6 + len(STORED_JSON)
    assert result.invalid_json == 2  # "invalid" and "empty"
    for line in lines:  # one JSON document a line, whatever str.splitlines thinks
        assert len(line.decode().splitlines()) == 1
        json.loads(line)


def test_csv_of_tricky_rows_is_the_reference_encoding(store: dict) -> None:
    stored = tricky_rows()
    out = store["tmp"] / "tricky.csv"
    result = export_pages(client_slug="acme-docs", fmt="csv", out=str(out))
    wanted = [reference_csv_row(list(COLUMNS))]
    for record in reference_rows("acme-docs"):
        cells = []
        for name in COLUMNS:
            if name in export.LIST_FIELDS:
                text = stored.get(record["url"], {}).get(name)
                spliced = STORED_JSON_BY_TEXT.get(text, False)
                if text is not None and spliced is None:
                    cells.append(text)  # valid JSON on one line: the stored text itself
                elif text is not None:
                    cells.append(spliced.decode().replace("\\u2028", "\u2028"))
                else:
                    cells.append(json.dumps(record[name], ensure_ascii=False))
            else:
                cells.append(record[name])
        wanted.append(reference_csv_row(cells))
    assert out.read_bytes() == b"".join(wanted)
    assert result.invalid_json == 2
    rows = parse_csv(out.read_text(encoding="utf-8"))
    assert len(rows) == result.pages == 6 + len(STORED_JSON)


def test_values_of_unusual_types_are_converted_as_the_fields_would(store: dict) -> None:
    url = f"{HOST}/docs/a.html"
    # SQLite keeps what it is given: text in an integer column, a real in another.
    set_raw(url, status_code="abc", depth=2.5, word_count="12")
    out = store["tmp"] / "odd.jsonl"
    export_pages(client_slug="acme-docs", fmt="jsonl", out=str(out))
    got = read_jsonl(out.read_text(encoding="utf-8"))[url]
    assert (got["status_code"], got["depth"], got["word_count"]) == ("abc", 2, 12)


# --- markdown: a new directory appears whole ---------------------------------------------------


def test_markdown_into_a_new_directory_gets_the_usual_modes(store: dict) -> None:
    out = store["tmp"] / "new" / "md"
    result = export_pages(client_slug="acme-docs", fmt="markdown", out=str(out))
    umask = os.umask(0)
    os.umask(umask)
    assert result.pages == len(result.files) == 6
    for path in [out, *out.rglob("*")]:
        mode = path.stat().st_mode & 0o7777
        assert mode == (0o777 if path.is_dir() else 0o666) & ~umask, path
    assert sorted(p.name for p in (store["tmp"] / "new").iterdir()) == ["md"]  # no temp left


def test_markdown_into_a_new_directory_that_fails_leaves_nothing(
    store: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = export._markdown_bytes
    calls = []

    def failing(*args: object) -> bytes:
        calls.append(args)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return real(*args)

    monkeypatch.setattr(export, "_markdown_bytes", failing)
    out = store["tmp"] / "md"
    before = set(store["tmp"].iterdir())
    with pytest.raises(RuntimeError, match="boom"):
        export_pages(client_slug="acme-docs", fmt="markdown", out=str(out))
    assert set(store["tmp"].iterdir()) == before


def test_markdown_write_that_fails_on_the_writer_thread_stops_the_export(
    store: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files are written on a second thread: its error is the export's, and nothing of the
    new directory is left."""
    real = export._write_new
    written = []

    def failing(target: str, content: bytes) -> None:
        written.append(target)
        if len(written) == 3:
            raise InvalidRequest(f"Cannot write {target}: No space left on device.")
        real(target, content)

    monkeypatch.setattr(export, "_write_new", failing)
    monkeypatch.setattr(export._FileWriter, "BATCH_FILES", 2)  # the error is in a later batch
    out = store["tmp"] / "md"
    before = set(store["tmp"].iterdir())
    with pytest.raises(InvalidRequest, match="No space left on device"):
        export_pages(client_slug="acme-docs", fmt="markdown", out=str(out))
    assert set(store["tmp"].iterdir()) == before
    assert len(written) == 3  # what came after the failed file was not written


def test_markdown_into_an_existing_directory_stops_at_a_file_it_cannot_replace(
    store: dict,
) -> None:
    out = store["tmp"] / "md"
    blocked = out / "127.0.0.1_8000" / "docs" / "a.md"
    blocked.mkdir(parents=True)  # a directory where the page's file goes
    with pytest.raises(InvalidRequest) as raised:
        export_pages(client_slug="acme-docs", fmt="markdown", out=str(out))
    assert "a.md" in str(raised.value) and "\n" not in str(raised.value)
    assert blocked.is_dir() and list(blocked.iterdir()) == []


def test_markdown_never_replaces_a_directory_that_appeared_meanwhile(
    store: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = store["tmp"] / "md"
    real = export._markdown_bytes

    def racing(*args: object) -> bytes:
        out.mkdir(exist_ok=True)  # someone else's, empty: a rename would replace it
        return real(*args)

    monkeypatch.setattr(export, "_markdown_bytes", racing)
    with pytest.raises(InvalidRequest, match="appeared while the export ran"):
        export_pages(client_slug="acme-docs", fmt="markdown", out=str(out))
    assert list(out.iterdir()) == []
    assert sorted(p.name for p in store["tmp"].iterdir() if p.is_dir()) == ["md"]


def test_markdown_into_an_existing_directory_leaves_other_files_alone(store: dict) -> None:
    out = store["tmp"] / "md"
    (out / "127.0.0.1_8000" / "docs").mkdir(parents=True)
    mine = out / "notes.txt"
    mine.write_text("mine")
    kept_mode = out / "127.0.0.1_8000" / "docs" / "a.md"
    kept_mode.write_text("old")
    kept_mode.chmod(0o600)
    result = export_pages(client_slug="acme-docs", fmt="markdown", out=str(out))
    assert mine.read_text() == "mine"
    assert kept_mode.stat().st_mode & 0o777 == 0o600  # replaced, with the mode it had
    assert kept_mode.read_text().startswith("---\nurl: ")
    assert files_under(out) == {"notes.txt", *(str(Path(f).relative_to(out)) for f in result.files)}


# --- PostgreSQL: the same bytes as SQLite ------------------------------------------------------


def export_everything(where: Path, job: int) -> dict[str, bytes]:
    """Every format of the acme-docs client (and one job), as {relative path: bytes}."""
    where.mkdir()
    for fmt in ("jsonl", "csv", "sections"):
        export_pages(client_slug="acme-docs", fmt=fmt, out=str(where / f"client.{fmt}"))
        export_pages(job_id=job, fmt=fmt, out=str(where / f"job.{fmt}"))
    export_pages(client_slug="acme-docs", fmt="markdown", out=str(where / "md"))
    return {str(p.relative_to(where)): p.read_bytes() for p in where.rglob("*") if p.is_file()}


def test_every_format_is_the_same_from_postgresql(store: dict, postgres_url: str) -> None:
    write_sections()
    tricky_rows(nul=False)
    job = store["jobs"]["second"]
    from_sqlite = export_everything(store["tmp"] / "sqlite", job)
    models.database.close()
    models.open_store(postgres_url)
    fill_store()
    write_sections()
    stored = tricky_rows(nul=False)
    from_postgres = export_everything(store["tmp"] / "postgresql", job)
    assert from_postgres == from_sqlite
    assert len(from_sqlite) == 6 + 6 + len(stored)
