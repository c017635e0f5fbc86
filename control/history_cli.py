"""`docscrawl history`: the versions of one page's text, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from control import output
from control.cli import json_option, pass_session
from control.session import CommandSession

if TYPE_CHECKING:
    from control.history import VersionSummary


@click.command()
@click.option("--url", required=True, help="The page's URL.")
@click.option("--client-slug", help="The client whose page it is (when several have one there).")
@json_option
@pass_session
def history(session: CommandSession, url: str, client_slug: str | None, as_json: bool) -> None:
    """List a page's versions, newest first: the job that first saw each, and what changed."""
    from control.history import page_history

    result = page_history(url, client_slug)
    if as_json:
        output.print_json(result.as_dict())
        return
    rows = [
        (
            version.short_hash,
            version.job_id,
            version.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            version.words,
            _lines(version),
        )
        for version in result.versions
    ]
    click.echo(output.table(["Version", "First job", "First seen (UTC)", "Words", "Lines"], rows))
    count = len(result.versions)
    click.echo(
        f"{result.url} (client {result.client}): {count} {'version' if count == 1 else 'versions'}."
    )


def _lines(version: VersionSummary) -> str:
    if version.lines_added is None:
        return "first"
    return f"+{version.lines_added} -{version.lines_removed}"
