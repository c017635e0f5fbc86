"""Export a client's or a job's pages as JSON Lines, CSV or a tree of Markdown files, or their
sections (a heading through to the next) as JSON Lines."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import posixpath
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, TextIO
from urllib.parse import unquote, urlsplit

import orjson
import peewee

from control.exceptions import InvalidRequest, UnknownJob
from control.second_thread import SecondThread
from docscrawl import models
from docscrawl.models import PAGE_FIELDS, SECTION_LEVELS, Client, Job, JobPage, Page, PageSection

FORMATS = ("jsonl", "csv", "markdown", "sections")
_BUFFER = 1024 * 1024  # bytes written at a time to an export file: pages are ~20 KB each

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
# A quick test on the UTF-8 bytes for those: DEL, or the lead bytes of U+0080-U+009F (C2),
# U+2028/9 (E2 80), U+FEFF/FFFE/FFFF (EF BB, EF BF); surrogates are not in valid UTF-8.
_YAML_UNSAFE_BYTES = re.compile(
    b"\x7f|\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]|\xef(\xbb\xbf|\xbf[\xbe\xbf])"
)


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
    invalid_json: int = 0  # jsonl, csv: pages with a stored JSON field that is not JSON (null)


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


def _rows(where: Any, fields: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    """(job id, *fields) of each page in URL order, as the database gives them (see _Columns).

    One streamed statement (models.stream): a consistent snapshot even while crawls write, in
    constant memory, through a server-side cursor on PostgreSQL.
    """
    # coerce(False): no peewee converter per value (a JSON field's would parse the text only for
    # the export to encode it again); _Columns does what the converters would have done.
    columns = [Page.job.coerce(False), *(getattr(Page, name).coerce(False) for name in fields)]
    query = Page.select(*columns).where(where).order_by(Page.url).tuples()
    columns_of = _Columns(("job", *fields))
    for row in models.stream(query):
        yield columns_of.normalise(row)


class _Columns:
    """What peewee's field converters would make of a raw row, done only where they would
    change something: a value of the column's usual type (str, int, None) is kept as it is,
    any other goes through the field's python_value; fetched_at becomes its ISO-8601 text; the
    JSON fields stay text (see _json_text)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        fields = [Page._meta.fields[name] for name in names]
        self.python_values = [field.python_value for field in fields]
        self.usual = []  # per column: the types a value may have and be kept as it is
        for name, field in zip(names, fields, strict=True):
            if name in LIST_FIELDS or name == "fetched_at":
                self.usual.append(None)  # always looked at (see normalise)
            elif isinstance(field, (peewee.IntegerField, peewee.ForeignKeyField)):
                self.usual.append((int, type(None)))
            else:
                self.usual.append((str, type(None)))
        self.fetched = names.index("fetched_at") if "fetched_at" in names else None
        self.kept: set[tuple[type, ...]] = set()  # rows' types seen to need no conversion

    def normalise(self, row: tuple[Any, ...]) -> list[Any]:
        values = list(row)
        kinds = tuple(map(type, row))
        if kinds not in self.kept:
            if all(u is None or k in u for k, u in zip(kinds, self.usual, strict=True)):
                self.kept.add(kinds)
            else:
                for index, (kind, usual) in enumerate(zip(kinds, self.usual, strict=True)):
                    if usual is not None and kind not in usual:
                        values[index] = self.python_values[index](values[index])
        if self.fetched is not None:
            values[self.fetched] = _iso_fetched(values[self.fetched])
        return values


def _iso_fetched(value: Any) -> str | None:
    """iso_utc(Page.fetched_at.python_value(value)), with its common case done in C."""
    if type(value) is str:
        try:
            # What python_value tries first, and gives when it works; else its strptime formats.
            return iso_utc(dt.datetime.fromisoformat(value))
        except ValueError:
            pass
    return iso_utc(Page.fetched_at.python_value(value))


def _json_text(raw: Any, name: str) -> str | None:
    """A JSON field's stored text as it goes into a record: the text itself when it is valid
    JSON on one line (docscrawl stores json.dumps(value, ensure_ascii=False), which encoding the
    parsed value again would give byte for byte), else the parsed value encoded again, or None
    when the text is not JSON at all."""
    if raw is None:
        return "{}" if name == "extraction_audit" else "[]"
    if type(raw) is str and "\n" not in raw and "\r" not in raw:
        try:
            orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # NaN, Infinity, lone surrogates: json accepts what orjson does not
        else:
            return raw
    try:
        value = Page._meta.fields[name].python_value(raw)
    except (ValueError, TypeError):
        return None
    if value is None:
        return "{}" if name == "extraction_audit" else "[]"
    return json.dumps(value, ensure_ascii=False)


# The JSON Lines record of a page, as json.dumps(page_record(...), ensure_ascii=False) writes
# it: the keys with the default separators, between the values.
_KEY_PREFIXES = tuple(
    (", " if index else "{").encode() + json.dumps(name).encode() + b": "
    for index, name in enumerate(COLUMNS)
)
_JSON_COLUMNS = frozenset(COLUMNS.index(name) for name in LIST_FIELDS)
# U+2028 and U+2029 in UTF-8, and as JSON escapes.
_LS, _PS = "\u2028".encode(), "\u2029".encode()
_LS_ESCAPED, _PS_ESCAPED = b"\\u2028", b"\\u2029"


def _json_bytes(value: Any) -> bytes:
    """A value as json.dumps(value, ensure_ascii=False) encodes it, in UTF-8, with U+2028 and
    U+2029 escaped (legal in JSON, but line breaks to many line splitters: str.splitlines)."""
    if type(value) is str:
        # orjson escapes strings exactly as json.dumps(ensure_ascii=False) does (the tests check
        # every code point), 40 times as fast on a 10 KB text.
        if "\u2028" in value or "\u2029" in value:  # instant on a text with no such character
            return _escape_line_breaks(orjson.dumps(value))
        return orjson.dumps(value)
    if value is None:
        return b"null"
    if type(value) is int:
        return b"%d" % value
    if type(value) is dict and all(type(key) is str for key in value):
        items = (_json_bytes(key) + b": " + _json_bytes(item) for key, item in value.items())
        return b"{" + b", ".join(items) + b"}"
    return _escape_line_breaks(json.dumps(value, ensure_ascii=False).encode())


class _Invalid:
    """Counts the pages whose stored JSON field could not be read (exported as null)."""

    def __init__(self) -> None:
        self.pages = 0


def _jsonl_line(values: list[Any], slug: bytes, invalid: _Invalid) -> bytes:
    """One page's JSON Lines record, from a row of _rows(where, PAGE_FIELDS)."""
    parts = [_KEY_PREFIXES[0], slug]
    bad = False
    for index, value in enumerate(values, 1):
        parts.append(_KEY_PREFIXES[index])
        if index in _JSON_COLUMNS:
            text = _json_text(value, COLUMNS[index])
            if text is None:
                bad = True
                parts.append(b"null")
            elif "\u2028" in text or "\u2029" in text:
                parts.append(_escape_line_breaks(text.encode()))
            else:
                parts.append(text.encode())
        else:
            parts.append(_json_bytes(value))
    parts.append(b"}\n")
    invalid.pages += bad
    return b"".join(parts)


def _csv_cell(value: Any) -> str:
    """A value as csv.writer's excel dialect writes it (QUOTE_MINIMAL)."""
    if type(value) is not str:
        return "" if value is None else str(value)
    if '"' in value:
        return '"' + value.replace('"', '""') + '"'
    if "," in value or "\n" in value or "\r" in value:
        return '"' + value + '"'
    return value


def _csv_line(values: list[Any], slug: str, invalid: _Invalid) -> bytes:
    """One page's CSV row, from a row of _rows(where, PAGE_FIELDS)."""
    cells = [slug]
    bad = False
    for index, value in enumerate(values, 1):
        if index in _JSON_COLUMNS:
            text = _json_text(value, COLUMNS[index])
            if text is None:
                bad, text = True, "null"
            cells.append(_csv_cell(text))
        else:
            cells.append(_csv_cell(value))
    invalid.pages += bad
    return (",".join(cells) + "\r\n").encode()


def _export_table(where: Any, slug: str, job_id: int | None, fmt: str, out: str) -> ExportResult:
    pages = 0
    invalid = _Invalid()
    with _output(out) as (stream, path):
        if fmt == "jsonl":
            encoded_slug = _json_bytes(slug)
            for values in _rows(where, PAGE_FIELDS):
                stream.write(_jsonl_line(values, encoded_slug, invalid))
                pages += 1
        else:
            stream.write((",".join(_csv_cell(name) for name in COLUMNS) + "\r\n").encode())
            slug_cell = _csv_cell(slug)
            for values in _rows(where, PAGE_FIELDS):
                stream.write(_csv_line(values, slug_cell, invalid))
                pages += 1
    files = () if path is None else (str(path),)
    where_to = out if path is None else str(path)
    return ExportResult(fmt, where_to, pages, slug, job_id, files, invalid_json=invalid.pages)


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
    with _output(out) as (stream, path):
        # One streamed statement, as for the pages: a consistent snapshot in constant memory.
        for row in models.stream(query):
            stream.write(_json_line(section_record(row, slug)))
            sections += 1
            if row["url"] != last_url:  # ordered by page URL: each page's sections together
                pages, last_url = pages + 1, row["url"]
    files = () if path is None else (str(path),)
    where_to = out if path is None else str(path)
    return ExportResult("sections", where_to, pages, slug, job_id, files, sections=sections)


def _json_line(record: dict[str, Any]) -> bytes:
    """A record as one line of json.dumps(record, ensure_ascii=False), U+2028/9 escaped."""
    return _json_bytes(record) + b"\n"


def _escape_line_breaks(encoded: bytes) -> bytes:
    return encoded.replace(_LS, _LS_ESCAPED).replace(_PS, _PS_ESCAPED)


@contextmanager
def _output(out: str) -> Iterator[tuple[BinaryIO, Path | None]]:
    """Where a jsonl/csv/sections export goes (as UTF-8 bytes): stdout for "-", a device or
    FIFO written as a stream, else a regular file (through any symlink) replaced atomically,
    only on success."""
    if out == "-":
        with _stdout() as stream:
            yield stream, None
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
        with _streaming(target) as stream:
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
    with _replacing(real, durable=True) as stream:
        yield stream, real


@contextmanager
def _stdout() -> Iterator[BinaryIO]:
    """Standard output as bytes: its buffer, after what was already written as text."""
    text: TextIO = sys.stdout
    text.flush()
    buffer = getattr(text, "buffer", None)
    if buffer is None:  # a text-only stand-in (an embedding program's)
        yield _TextSink(text)  # type: ignore[misc]
        text.flush()
        return
    yield buffer
    buffer.flush()


class _TextSink:
    """A bytes writer onto a text stream."""

    def __init__(self, text: TextIO) -> None:
        self.text = text

    def write(self, data: bytes) -> int:
        return self.text.write(data.decode())


@contextmanager
def _streaming(target: Path) -> Iterator[BinaryIO]:
    """The device or FIFO at target, opened for writing (a FIFO waits for its reader)."""
    try:
        stream = open(target, "wb")  # noqa: SIM115
    except OSError as exc:
        raise InvalidRequest(f"Cannot write {target}: {_reason(exc)}.") from exc
    try:
        with stream:
            yield stream
    except OSError as exc:
        raise InvalidRequest(f"Cannot write {target}: {_reason(exc)}.") from exc


@contextmanager
def _replacing(target: Path, *, durable: bool) -> Iterator[BinaryIO]:
    """A temp file beside target that replaces it only when the block succeeds."""
    _check_replaceable(target)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise InvalidRequest(f"Cannot write {target}: {_reason(exc)}.") from exc
    try:
        with open(fd, "wb", buffering=_BUFFER) as stream:
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


def _default_mode() -> int:
    return 0o666 & ~_umask()


@cache
def _umask() -> int:
    # Linux shows it in /proc (since 4.7): reading it there changes nothing, where setting and
    # restoring it would race with the export's other thread creating folders meanwhile.
    with suppress(OSError, ValueError, StopIteration):
        with open("/proc/self/status", encoding="ascii") as status:
            line = next(line for line in status if line.startswith("Umask:"))
        return int(line.split()[1], 8)
    umask = os.umask(0)  # elsewhere the only way to read the umask is to set it
    os.umask(umask)
    return umask


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).rstrip(".").lower()


def _export_markdown(where: Any, slug: str, job_id: int | None, out: str) -> ExportResult:
    if out == "-":
        raise InvalidRequest("Markdown export writes a directory tree; give a directory, not -.")
    root = Path(out).expanduser().absolute()
    if root.exists() and not root.is_dir():
        raise InvalidRequest(f"{root} is not a directory; markdown export writes a tree of files.")
    if os.path.lexists(root):
        # A directory that is there already (perhaps an earlier export, perhaps with other
        # files): each page replaces its own file atomically, and nothing else is touched.
        try:
            root.mkdir(exist_ok=True)  # a dangling symlink, say: the error says why
        except OSError as exc:
            raise InvalidRequest(f"Cannot create the directory {root}: {_reason(exc)}.") from exc
        if not os.access(root, os.W_OK | os.X_OK):
            raise InvalidRequest(f"Cannot write into {root}: the directory is read-only.")
        return _write_tree(where, slug, job_id, root, root, _write_atomically)
    # A new directory: the tree is written into a private temp directory beside it, whose files
    # are all new and ours (opened directly, with the mode a new file gets), and renamed into
    # place when complete: the export appears whole or not at all.
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}.", suffix=".tmp"))
    except OSError as exc:
        raise InvalidRequest(f"Cannot create the directory {root}: {_reason(exc)}.") from exc
    try:
        result = _write_tree(where, slug, job_id, root, work, _write_new)
        os.chmod(work, 0o777 & ~_umask())  # what mkdir would have given it
        if os.path.lexists(root):  # rename would replace an empty directory: not ours
            raise InvalidRequest(f"{root} appeared while the export ran; nothing was written.")
        os.rename(work, root)
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise InvalidRequest(f"Cannot write {root}: {_reason(exc)}.") from exc
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return result


def _write_tree(
    where: Any, slug: str, job_id: int | None, root: Path, base: Path, write: Any
) -> ExportResult:
    """Each page's Markdown file under base (root, or the temp directory that becomes root),
    by write(path, content); the result names the files under root."""
    base_text, root_text = str(base), str(root)
    real_base = os.path.realpath(base)
    taken: set[str] = set()
    checked_dirs: set[str] = set()
    files: list[str] = []
    renamed = 0
    fields = ("url", "title", "content_hash", "fetched_at", "markdown")
    with _FileWriter(write) as writer:
        for _job, url, title, content_hash, fetched, markdown in _rows(where, fields):
            relative = markdown_path(url)
            if relative.casefold() in taken:
                # Another URL of this export already has this path (case-insensitively, for macOS).
                relative = _disambiguate(relative, url, taken)
                renamed += 1
            taken.add(relative.casefold())
            folder = posixpath.dirname(relative)
            if folder not in checked_dirs:
                directory = Path(base_text, *folder.split("/"))
                _check_inside(directory, real_base, root)
                try:
                    directory.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    shown = Path(root_text, *folder.split("/"))
                    raise InvalidRequest(f"Cannot create {shown}: {_reason(exc)}.") from exc
                checked_dirs.add(folder)
            content = _markdown_bytes(url, title, fetched, content_hash, markdown)
            writer.write(os.path.join(base_text, relative), content)
            files.append(os.path.join(root_text, relative))
    return ExportResult("markdown", root_text, len(files), slug, job_id, tuple(files), renamed)


class _FileWriter:
    """Writes files on a second thread, a batch at a time, while the export reads and encodes
    the next pages. A write's error stops the export at the next hand-over; leaving the block
    writes what is left and waits for it."""

    BATCH_FILES = 64
    BATCH_BYTES = 4 * 1024 * 1024

    def __init__(self, write: Any) -> None:
        self._write = write
        self._batch: list[tuple[str, bytes]] = []
        self._size = 0
        self._thread = SecondThread("export-files")

    def __enter__(self) -> _FileWriter:
        self._thread.__enter__()
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        try:
            if kind is None:
                self._hand_over()
        finally:
            self._thread.__exit__(kind, error, trace)  # an error's files are removed after this

    def write(self, path: str, content: bytes) -> None:
        self._batch.append((path, content))
        self._size += len(content)
        if len(self._batch) >= self.BATCH_FILES or self._size >= self.BATCH_BYTES:
            self._hand_over()

    def _hand_over(self) -> None:
        if self._batch:
            batch, self._batch, self._size = self._batch, [], 0
            self._thread.submit(self._write_all, batch)

    def _write_all(self, batch: list[tuple[str, bytes]]) -> None:
        for path, content in batch:
            self._write(path, content)


def markdown_document(row: dict[str, Any]) -> str:
    """A page as Markdown with YAML front matter: url, title, fetched and hash."""
    fetched = iso_utc(row["fetched_at"])
    content = _markdown_bytes(row["url"], row["title"], fetched, row["content_hash"],
                              row["markdown"])  # fmt: skip
    return content.decode()


def _markdown_bytes(
    url: str, title: str | None, fetched: str | None, content_hash: str, markdown: str | None
) -> bytes:
    front = b"---\nurl: %s\ntitle: %s\nfetched: %s\nhash: %s\n---\n\n" % (
        _yaml_bytes(url),
        _yaml_bytes(title),
        _yaml_bytes(fetched),
        _yaml_bytes(content_hash),
    )
    if not markdown:
        return front
    body = markdown.encode()
    return front + body if body.endswith(b"\n") else front + body + b"\n"


def yaml_scalar(value: str | None) -> str:
    """A JSON string (also a YAML double-quoted scalar) or null; escapes what YAML cannot hold."""
    return _yaml_bytes(value).decode()


def _yaml_bytes(value: Any) -> bytes:
    if value is None:
        return b"null"
    text = _json_bytes(value)
    if _YAML_UNSAFE_BYTES.search(text) is None:
        return text
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text.decode()).encode()


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


def _write_atomically(target: str, content: bytes) -> None:
    with _replacing(Path(target), durable=False) as stream:
        stream.write(content)


# A new file only, never through a symlink; the mode is what open() gives a new file.
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _write_new(target: str, content: bytes) -> None:
    try:
        fd = os.open(target, _NEW_FILE, 0o666)
    except OSError as exc:
        raise InvalidRequest(f"Cannot write {target}: {_reason(exc)}.") from exc
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
