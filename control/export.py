"""Export a client's or a job's pages as JSON Lines, CSV or a tree of Markdown files, or their
sections (a heading through to the next) as JSON Lines."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import posixpath
import re
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import unquote, urlsplit

from control.exceptions import InvalidRequest, UnknownJob
from docscrawl import models
from docscrawl.models import PAGE_FIELDS, SECTION_LEVELS, Client, Job, JobPage, Page, PageSection

FORMATS = ("jsonl", "csv", "markdown", "sections")

# The page columns are models.PAGE_FIELDS, in their order, after `client` and `job_id`.
COLUMNS = ("client", "job_id", *PAGE_FIELDS)
# The JSON fields: [] or {} for none, JSON-encoded in a CSV cell.
LIST_FIELDS = ("headings", "links", "extraction_audit")

# Path endings that only say "this is a web page"; `a.html` becomes `a.md`.
_PAGE_SUFFIXES = frozenset(
    {".html", ".htm", ".xhtml", ".shtml", ".php", ".asp", ".aspx", ".jsp", ".md"}
)
_UNSAFE = re.compile(r"[^\w.\-~]+")
_MAX_NAME_BYTES = 100  # leaves room for a disambiguating suffix and ".md" under NAME_MAX (255)
# Characters that are valid in JSON strings but not printable (or are line breaks) in YAML.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: the format, where, how many pages and which files."""

    format: str
    out: str  # "-" for stdout, else an absolute path (a file, or the markdown directory)
    pages: int
    client: str
    job_id: int | None = None
    files: tuple[str, ...] = ()  # absolute paths written; empty for stdout
    renamed: int = 0  # markdown pages whose path was taken and got a hash suffix
    sections: int = 0  # the sections format: how many sections (of `pages` pages)


def export_pages(
    *, client_slug: str | None = None, job_id: int | None = None, fmt: str, out: str
) -> ExportResult:
    """Write the pages of one client (by slug) or one job (by id) to out in the format fmt."""
    if (client_slug is None) == (job_id is None):
        raise InvalidRequest("Export needs exactly one of a client slug or a job id.")
    if fmt not in FORMATS:
        raise InvalidRequest(f"The export format {fmt!r} is not one of {', '.join(FORMATS)}.")
    if not out:
        raise InvalidRequest("The export needs an output path (or - for stdout).")
    where, slug = pages_where(client_slug=client_slug, job_id=job_id)
    if fmt == "markdown":
        return _export_markdown(where, slug, job_id, out)
    if fmt == "sections":
        return _export_sections(where, slug, job_id, out)
    return _export_table(where, slug, job_id, fmt, out)


def pages_where(*, client_slug: str | None = None, job_id: int | None = None) -> tuple[Any, str]:
    """Which pages belong to a job (every page it saw) or a client, and the client's slug."""
    if job_id is not None:
        job = Job.get_or_none(Job.id == job_id)
        if job is None:
            raise UnknownJob(f"There is no job {job_id}; `docscrawl list` shows the jobs.")
        slug = Client.get_by_id(job.client_id).slug
        # Every page the job saw (pages move to the latest job that saw them), with the
        # content the store holds now.
        seen = JobPage.select(JobPage.page).where(
            (JobPage.job == job.id) & (JobPage.change != models.REMOVED)
        )
        return (Page.job == job.id) | Page.id.in_(seen), slug
    client = Client.get_or_none(Client.slug == client_slug)
    if client is None:
        raise InvalidRequest(
            f"There is no client {client_slug!r}; `docscrawl list` shows the clients."
        )
    return Page.client == client.id, client.slug


def page_record(row: dict[str, Any], client: str) -> dict[str, Any]:
    """The exported document of one page row: `client`, `job_id`, then every page field."""
    record: dict[str, Any] = {"client": client, "job_id": row["job"]}
    for name in PAGE_FIELDS:
        record[name] = row[name]
    record["fetched_at"] = iso_utc(row["fetched_at"])
    for name in LIST_FIELDS:
        if record[name] is None:
            record[name] = {} if name == "extraction_audit" else []
    return record


def iso_utc(value: Any) -> str | None:
    """A store timestamp (naive UTC) as ISO-8601 with a Z, to the second."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"


def _rows(where: Any, fields: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    columns = [Page.job, *(getattr(Page, name) for name in fields)]
    # One streamed statement: a consistent snapshot even while crawls write, in constant memory.
    query = Page.select(*columns).where(where).order_by(Page.url).dicts()
    yield from query.iterator()


def _export_table(where: Any, slug: str, job_id: int | None, fmt: str, out: str) -> ExportResult:
    pages = 0
    # csv wants newline="" so the quoted newlines inside cells are written as they are.
    with _output(out, newline="" if fmt == "csv" else None) as (stream, path):
        if fmt == "jsonl":
            for row in _rows(where, PAGE_FIELDS):
                line = json.dumps(page_record(row, slug), ensure_ascii=False)
                # Legal in JSON, but line breaks to many line splitters (str.splitlines).
                line = line.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
                stream.write(line + "\n")
                pages += 1
        else:
            writer = csv.writer(stream)
            writer.writerow(COLUMNS)
            for row in _rows(where, PAGE_FIELDS):
                record = page_record(row, slug)
                for name in LIST_FIELDS:
                    record[name] = json.dumps(record[name], ensure_ascii=False)
                writer.writerow([record[name] for name in COLUMNS])
                pages += 1
    files = () if path is None else (str(path),)
    return ExportResult(fmt, out if path is None else str(path), pages, slug, job_id, files)


def section_record(row: dict[str, Any], client: str) -> dict[str, Any]:
    """The exported document of one section row: its page, place, heading path and content."""
    return {
        "client": client,
        "job_id": row["job"],
        "page_url": row["url"],
        "position": row["position"],
        "anchor_url": row["anchor_url"],
        "hierarchy": {level: row[level] for level in SECTION_LEVELS},
        "markdown": row["markdown"],
        "text": row["text"],
    }


def _export_sections(where: Any, slug: str, job_id: int | None, out: str) -> ExportResult:
    columns = [
        Page.job, Page.url, PageSection.position, PageSection.anchor_url,
        *(getattr(PageSection, level) for level in SECTION_LEVELS),
        PageSection.markdown, PageSection.text,
    ]  # fmt: skip
    query = (
        PageSection.select(*columns)
        .join(Page)
        .where(where)
        .order_by(Page.url, PageSection.position)
        .dicts()
    )
    sections = pages = 0
    last_url = None
    with _output(out, newline=None) as (stream, path):
        # One streamed statement, as for the pages: a consistent snapshot in constant memory.
        for row in query.iterator():
            stream.write(_json_line(section_record(row, slug)))
            sections += 1
            if row["url"] != last_url:  # ordered by page URL: each page's sections together
                pages, last_url = pages + 1, row["url"]
    files = () if path is None else (str(path),)
    where_to = out if path is None else str(path)
    return ExportResult("sections", where_to, pages, slug, job_id, files, sections=sections)


def _json_line(record: dict[str, Any]) -> str:
    line = json.dumps(record, ensure_ascii=False)
    # Legal in JSON, but line breaks to many line splitters (str.splitlines).
    return line.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"


@contextmanager
def _output(out: str, *, newline: str | None) -> Iterator[tuple[TextIO, Path | None]]:
    """Where a jsonl/csv export goes: stdout for "-", a device or FIFO written as a stream,
    else a regular file (through any symlink) replaced atomically, only on success."""
    if out == "-":
        yield sys.stdout, None
        sys.stdout.flush()
        return
    target = Path(out).expanduser().absolute()
    try:
        mode = target.stat().st_mode  # follows symlinks: what a write would reach
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise InvalidRequest(f"Cannot write {target}: {_reason(exc)}.") from exc
    if mode is not None and (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        # /dev/null, /dev/stdout, a named pipe: write into it as into stdout, never replace it.
        with _streaming(target, newline=newline) as stream:
            yield stream, target
        return
    if mode is not None and stat.S_ISDIR(mode):
        raise InvalidRequest(f"{target} is a directory; give a file path for this format.")
    if mode is not None and not stat.S_ISREG(mode):
        raise InvalidRequest(
            f"Cannot write {target}: it is not a regular file, a character device or a FIFO."
        )
    # A symlink is written through: the file it points to is replaced, the link stays.
    real = Path(os.path.realpath(target))
    _check_file_target(real)
    with _replacing(real, newline=newline, durable=True) as stream:
        yield stream, real


@contextmanager
def _streaming(target: Path, *, newline: str | None) -> Iterator[TextIO]:
    """The device or FIFO at target, opened for writing (a FIFO waits for its reader)."""
    try:
        stream = open(target, "w", encoding="utf-8", newline=newline)  # noqa: SIM115
    except OSError as exc:
        raise InvalidRequest(f"Cannot write {target}: {_reason(exc)}.") from exc
    try:
        with stream:
            yield stream
    except OSError as exc:
        raise InvalidRequest(f"Cannot write {target}: {_reason(exc)}.") from exc


@contextmanager
def _replacing(target: Path, *, newline: str | None, durable: bool) -> Iterator[TextIO]:
    """A temp file beside target that replaces it only when the block succeeds."""
    _check_replaceable(target)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise InvalidRequest(f"Cannot write {target}: {_reason(exc)}.") from exc
    try:
        with open(fd, "w", encoding="utf-8", newline=newline) as stream:
            yield stream
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        os.chmod(tmp, _new_file_mode(target))
        _check_replaceable(target)  # again: it may have changed while we wrote
        os.replace(tmp, target)
    except OSError as exc:
        with suppress(OSError):
            os.unlink(tmp)
        raise InvalidRequest(f"Cannot write {target}: {_reason(exc)}.") from exc
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def _check_replaceable(target: Path) -> None:
    """Only a regular file (or nothing) is ever renamed over; never a link, device or folder."""
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise InvalidRequest(f"Refusing to write {target}: it is a symbolic link.")
    if not stat.S_ISREG(mode):
        raise InvalidRequest(f"Refusing to write {target}: it is not a regular file.")


def _check_file_target(target: Path) -> None:
    if target.is_dir():
        raise InvalidRequest(f"{target} is a directory; give a file path for this format.")
    if not target.parent.is_dir():
        raise InvalidRequest(
            f"Cannot write {target}: the directory {target.parent} does not exist."
        )
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise InvalidRequest(f"Cannot write {target}: the directory {target.parent} is read-only.")
    if target.exists() and not os.access(target, os.W_OK):
        raise InvalidRequest(f"Cannot write {target}: the file is read-only.")


def _new_file_mode(target: Path) -> int:
    # mkstemp makes 0600 files; keep the replaced file's mode, else what open() would give.
    with suppress(OSError):
        return target.stat().st_mode & 0o7777
    return _default_mode()


@cache
def _default_mode() -> int:
    umask = os.umask(0)  # the only way to read the umask is to set it
    os.umask(umask)
    return 0o666 & ~umask


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).rstrip(".").lower()


def _export_markdown(where: Any, slug: str, job_id: int | None, out: str) -> ExportResult:
    if out == "-":
        raise InvalidRequest("Markdown export writes a directory tree; give a directory, not -.")
    root = Path(out).expanduser().absolute()
    if root.exists() and not root.is_dir():
        raise InvalidRequest(f"{root} is not a directory; markdown export writes a tree of files.")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidRequest(f"Cannot create the directory {root}: {_reason(exc)}.") from exc
    if not os.access(root, os.W_OK | os.X_OK):
        raise InvalidRequest(f"Cannot write into {root}: the directory is read-only.")
    real_root = os.path.realpath(root)
    taken: set[str] = set()
    checked_dirs: set[Path] = set()
    files: list[str] = []
    renamed = 0
    fields = ("url", "title", "content_hash", "fetched_at", "markdown")
    for row in _rows(where, fields):
        relative = markdown_path(row["url"])
        if relative.casefold() in taken:
            # Another URL of this export already has this path (case-insensitively, for macOS).
            relative = _disambiguate(relative, row["url"], taken)
            renamed += 1
        taken.add(relative.casefold())
        target = root.joinpath(*relative.split("/"))
        if target.parent not in checked_dirs:
            _check_inside(target.parent, real_root, root)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InvalidRequest(f"Cannot create {target.parent}: {_reason(exc)}.") from exc
            checked_dirs.add(target.parent)
        _write_atomically(target, markdown_document(row))
        files.append(str(target))
    return ExportResult("markdown", str(root), len(files), slug, job_id, tuple(files), renamed)


def markdown_document(row: dict[str, Any]) -> str:
    """A page as Markdown with YAML front matter: url, title, fetched and hash."""
    front = [
        ("url", row["url"]),
        ("title", row["title"]),
        ("fetched", iso_utc(row["fetched_at"])),
        ("hash", row["content_hash"]),
    ]
    lines = ["---", *(f"{key}: {yaml_scalar(value)}" for key, value in front), "---", ""]
    body = row["markdown"] or ""
    if body and not body.endswith("\n"):
        body += "\n"
    return "\n".join(lines) + "\n" + body


def yaml_scalar(value: str | None) -> str:
    """A JSON string (also a YAML double-quoted scalar) or null; escapes what YAML cannot hold."""
    if value is None:
        return "null"
    text = json.dumps(value, ensure_ascii=False)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def markdown_path(url: str) -> str:
    """The "/"-separated relative path of a page's Markdown file: `host_port/url/path.md`."""
    parts = urlsplit(url)
    host = _safe_name(parts.hostname or "") or "_"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None:
        host = f"{host}_{port}"
    raw = parts.path.split("/")
    # Dot segments are resolved as a browser would, and never above the host folder.
    segments: list[str] = []
    for segment in raw:
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    is_dir = not segments or raw[-1] in ("", ".", "..")
    if is_dir:
        directories, stem = segments, "index"
    else:
        directories, stem = segments[:-1], unquote(segments[-1])
        base, suffix = posixpath.splitext(stem)
        if base and suffix.lower() in _PAGE_SUFFIXES:
            stem = base
    names = [host]
    for directory in directories:
        name = _safe_name(unquote(directory))
        # Files always end in .md, so a directory must not, or the two could collide.
        names.append(name + "_" if name.lower().endswith(".md") else name)
    stem = _safe_name(stem)
    if parts.query:
        stem = f"{stem}__{_safe_name(unquote(parts.query))}"
    names.append(_limit(stem) + ".md")
    return "/".join(names)


def _safe_name(text: str) -> str:
    name = _UNSAFE.sub("_", text)
    # No ".", "..", hidden files or names that look like options to shell tools.
    if name.startswith((".", "-")):
        name = "_" + name
    return _limit(name) if name else "_"


def _limit(name: str) -> str:
    encoded = name.encode()
    if len(encoded) <= _MAX_NAME_BYTES:
        return name
    cut = encoded[:_MAX_NAME_BYTES].decode(errors="ignore")
    return f"{cut}-{_short_hash(name)}"


def _disambiguate(relative: str, url: str, taken: set[str]) -> str:
    stem = relative[: -len(".md")]
    candidate, attempt = f"{stem}-{_short_hash(url)}.md", 1
    while candidate.casefold() in taken:
        attempt += 1
        candidate = f"{stem}-{_short_hash(url)}-{attempt}.md"
    return candidate


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode(errors="surrogatepass")).hexdigest()[:8]


def _check_inside(directory: Path, real_root: str, root: Path) -> None:
    # The names are safe; this catches symlinks already inside the export directory.
    real = os.path.realpath(directory)
    if os.path.commonpath([real, real_root]) != real_root:
        raise InvalidRequest(f"Refusing to write {directory}: it leads outside {root}.")


def _write_atomically(target: Path, content: str) -> None:
    with _replacing(target, newline=None, durable=False) as stream:
        stream.write(content)
