"""Rendering for people (tables, key/value blocks) and for programs (one JSON document)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from docscrawl.progress import format_duration


def print_json(document: Any) -> None:
    """One JSON document on stdout."""
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def print_json_line(document: Any) -> None:
    """One compact JSON document on one line (JSON Lines), flushed at once."""
    click.echo(json.dumps(document, ensure_ascii=False, separators=(",", ":")))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table with left-aligned columns sized to their widest cell."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def key_values(pairs: Sequence[tuple[str, Any]]) -> str:
    """Aligned `Key: value` lines, skipping empty values."""
    shown = [(k, _cell(v)) for k, v in pairs if v not in (None, "")]
    width = max((len(k) for k, _ in shown), default=0)
    return "\n".join(f"{(k + ':').ljust(width + 1)} {v}" for k, v in shown)


def duration(seconds: float | None) -> str:
    """A duration for people, '-' when unknown."""
    return "-" if seconds is None else format_duration(seconds)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)
