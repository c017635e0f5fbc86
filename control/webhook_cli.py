"""`docscrawl webhook ...`: a client's webhooks, the server's signing key, the delivery log.

A thin click layer over control.server.webhooks (which `docscrawl serve` delivers with).
"""

from __future__ import annotations

import click

from control import output
from control.cli import JOB_ID, json_option, pass_session
from control.exceptions import InvalidRequest
from control.session import CommandSession


def _webhooks():
    """control.server.webhooks, imported when a webhook command runs: it imports requests,
    which every other command would pay for at start-up."""
    from control.server import webhooks

    return webhooks


def _check_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return _webhooks().check_url(value)
    except InvalidRequest as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


@click.group()
def webhook() -> None:
    """Webhooks: who receives the job events `docscrawl serve` sends, and what it sent."""


@webhook.command()
@click.argument("url", callback=_check_url)
@click.option("--client", "client_slug", required=True, help="The client (its slug).")
@pass_session
def add(session: CommandSession, url: str, client_slug: str) -> None:
    """Send a client's job events to URL.

    Each event raised from now on is POSTed as JSON, signed (`docscrawl webhook secret`), by
    `docscrawl serve`; a failed delivery is retried with backoff.
    """
    hook, created = _webhooks().add_webhook(url, client_slug)
    shown = _webhooks().mask_credentials(hook.url)
    if created:
        click.echo(f"Webhook {hook.id}: {shown} receives the events of {client_slug}'s jobs.")
    else:
        click.echo(
            f"Webhook {hook.id}: {shown} already receives the events of {client_slug}'s jobs."
        )


@webhook.command()
@click.argument("url")
@click.option(
    "--client",
    "client_slug",
    help="The client (its slug); without it, a webhook a server was given with --webhook.",
)
@pass_session
def remove(session: CommandSession, url: str, client_slug: str | None) -> None:
    """Stop sending events to URL.

    Its delivery log goes with it.
    """
    deliveries = _webhooks().remove_webhook(url, client_slug)
    whose = f"{client_slug}'s jobs" if client_slug else "every job (a server's webhook)"
    click.echo(
        f"Removed the webhook {_webhooks().mask_credentials(url.strip())} for {whose}, "
        f"with {deliveries} deliveries."
    )
    if client_slug is None:
        click.echo(
            "A server still started with --webhook for it records it again, from then on.",
            err=True,
        )


@webhook.command("list")
@json_option
@pass_session
def list_command(session: CommandSession, as_json: bool) -> None:
    """List the webhooks and their deliveries.

    The clients' webhooks, and the URLs servers were given with `serve --webhook` (every job's
    events), each with its deliveries counted: delivered, pending, given up.
    """
    found = _webhooks().list_webhooks()
    if as_json:
        output.print_json(found)
        return
    if not found:
        click.echo("No webhooks.", err=True)
        return
    rows = [
        (
            hook["id"],
            hook["client"] or "(every job)",
            hook["url"],
            hook["delivered"],
            hook["pending"],
            hook["gave_up"],
            hook["created_at"],
        )
        for hook in found
    ]
    headers = ["ID", "Client", "URL", "Delivered", "Pending", "Gave up", "Since"]
    click.echo(output.table(headers, rows))


@webhook.command()
@pass_session
def secret(session: CommandSession) -> None:
    """Print the key that signs webhook bodies.

    The key kept in the store (generated the first time it is asked for). A server given
    DOCSCRAWL_WEBHOOK_SECRET or --webhook-secret-file signs with that key instead.
    """
    if _webhooks().secret_from_environment():
        click.echo(
            f"The key is taken from {_webhooks().SECRET_VARIABLE}, not kept in the store; "
            "read it there.",
            err=True,
        )
        return
    key, created = _webhooks().stored_secret()
    click.echo(key)
    if created:
        click.echo("A new key was generated and kept in the store.", err=True)
    click.echo(
        "A server started with --webhook-secret-file or "
        f"{_webhooks().SECRET_VARIABLE} signs with that key instead.",
        err=True,
    )


@webhook.command()
@click.option("--job", "job_id", type=JOB_ID, help="Only this job's events.")
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=10_000),
    default=50,
    show_default=True,
    help="Show at most this many deliveries, newest first.",
)
@json_option
@pass_session
def deliveries(session: CommandSession, job_id: int | None, limit: int, as_json: bool) -> None:
    """List the deliveries and their last answers.

    Newest event first: the event, its job, the URL, the state (pending, delivered, gave_up),
    the attempts made and the receiver's last answer or the error.
    """
    log = _webhooks().delivery_log(job_id, limit)
    if as_json:
        output.print_json(log)
        return
    if not log:
        click.echo("No deliveries.", err=True)
        return
    rows = [
        (
            entry["id"],
            entry["event"],
            entry["job"],
            entry["url"],
            entry["state"],
            entry["attempts"],
            _last_answer(entry),
        )
        for entry in log
    ]
    click.echo(output.table(["ID", "Event", "Job", "URL", "State", "Attempts", "Last"], rows))


def _last_answer(entry: dict) -> str | None:
    if entry["last_status"] is not None:
        return f"HTTP {entry['last_status']}"
    return entry["last_error"]
