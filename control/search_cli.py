"""`docscrawl search`: full-text search over the stored pages and their sections."""

from __future__ import annotations

import sys

import click

from control import output
from control.cli import JOB_ID, json_option, pass_session
from control.session import CommandSession

BOLD, RESET = "\x1b[1m", "\x1b[0m"


@click.command()
@click.argument("query")
@click.option("--client-slug", help="Only this client's pages.")
@click.option("--job", "job_id", type=JOB_ID, help="Only the pages this job saw.")
@click.option(
    "--limit", type=click.IntRange(1, 1000), default=20, show_default=True,
    help="At most this many pages.",
)  # fmt: skip
@json_option
@pass_session
def search(
    session: CommandSession,
    query: str,
    client_slug: str | None,
    job_id: int | None,
    limit: int,
    as_json: bool,
) -> None:
    """Find pages by their words, best first, each with its best section and a snippet.

    QUERY is words and "quoted phrases"; a page's section must hold every one (in its title,
    headings or text). Nothing else is syntax: AND, OR, NOT, *, - and a lone " are searched as
    words. A page whose title is QUERY comes first. Matched words are shown [[like this]], or
    in bold on a terminal.
    """
    from control.search import mark
    from control.search import search as run_search

    hits = run_search(query, client_slug=client_slug, job_id=job_id, limit=limit)
    if as_json:
        output.print_json([hit.as_dict() for hit in hits])
        return
    start, end = (BOLD, RESET) if sys.stdout.isatty() else ("[[", "]]")
    for number, hit in enumerate(hits, 1):
        heading = f" > {hit.heading}" if hit.heading else ""
        click.echo(f"{number}. {hit.title or hit.url}{heading}")
        click.echo(f"   {hit.anchor_url}")
        if hit.snippet:
            click.echo(f"   {mark(hit.snippet, start, end)}")
    count = len(hits)
    more = " (the limit; --limit N shows more)" if count == limit else ""
    click.echo(f"{count} {'page' if count == 1 else 'pages'} found{more}.", err=True)
