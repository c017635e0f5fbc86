"""`docscrawl serve`: start the HTTP API and the dashboard (control/server/) in this process."""

from __future__ import annotations

import os
import re
import socket
import sys

import click

from control import jobs
from control.cli import pass_session
from control.exceptions import DocscrawlError, InvalidEnvironment
from control.session import CommandSession
from control.validation import is_http_url

API_TOKEN = "DOCSCRAWL_API_TOKEN"
# A token goes in a URL (the login link) and a header: printable, no spaces, long enough.
TOKEN_PATTERN = re.compile(r"^[\x21-\x7e]{16,512}$")


def resolve_token(token_file: str | None, host: str) -> tuple[str, str]:
    """The API token and where it comes from: the environment, the file, or generated here."""
    from control.server.auth import Auth, is_loopback

    value = os.environ.get(API_TOKEN) or None
    source = API_TOKEN
    if token_file:
        try:
            with open(token_file, encoding="utf-8") as handle:
                value = handle.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "it is not text"
            raise click.BadParameter(f"{token_file} cannot be read ({reason})",
                                     param_hint="'--token-file'") from exc  # fmt: skip
        if not value:
            raise click.BadParameter(f"{token_file} is empty", param_hint="'--token-file'")
        source = token_file
    if value is not None and not TOKEN_PATTERN.match(value):
        where = f"The token in {token_file}" if token_file else f"{API_TOKEN}"
        raise InvalidEnvironment(
            f"{where} is not valid: it takes 16 to 512 printable characters without spaces."
        )
    if value is None:
        if not is_loopback(host):
            raise click.UsageError(
                f"Refusing to listen on {host}, which other machines can reach, without a token: "
                f"set {API_TOKEN} or give --token-file."
            )
        return Auth.generated().token, "generated for this run"
    return value, source


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or one sentence saying why not."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(512)
    except OSError as exc:
        raise DocscrawlError(f"Cannot listen on {host}:{port} ({exc.strerror or exc}).") from exc
    sock.set_inheritable(True)
    return sock


def _link(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="The port (0: any free one).")  # fmt: skip
@click.option("--token-file", type=click.Path(dir_okay=False),
              help=f"Read the API token from this file (else {API_TOKEN}, else one is "
              "made).")  # fmt: skip
@click.option("--webhook", "webhooks", multiple=True, metavar="URL",
              help="Send every job event to this URL (repeatable).")  # fmt: skip
@click.option("--webhook-secret-file", type=click.Path(dir_okay=False),
              help="Sign webhook bodies with the key in this file (else "
              "DOCSCRAWL_WEBHOOK_SECRET, else a key kept in the store).")  # fmt: skip
@pass_session
def serve(
    session: CommandSession,
    host: str,
    port: int,
    token_file: str | None,
    webhooks: tuple[str, ...],
    webhook_secret_file: str | None,
) -> None:
    """Start the HTTP API and the web dashboard (Ctrl+C stops it)."""
    for url in webhooks:
        if not is_http_url(url):
            raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="'--webhook'")
    token, token_source = resolve_token(token_file, host)
    from control.server.webhooks import resolve_secret

    key, key_source = resolve_secret(webhook_secret_file)
    session.nodes()  # a bad scrapy.cfg or SCRAPYD_URL fails here, in a sentence
    jobs.open_store(session.db)

    import uvicorn

    from control.server.app import ServerSettings, create_app
    from control.server.auth import Auth

    sock = bind(host, port)
    port = sock.getsockname()[1]
    app = create_app(
        ServerSettings(
            location=session.db,
            scrapyd_url=session.scrapyd_url,
            auth=Auth(token),
            webhooks=list(dict.fromkeys(webhooks)),
            webhook_key=key,
        )
    )
    base = _link(host, port)
    click.echo(f"docscrawl serve: the dashboard and the API at {base}/ (Ctrl+C stops it)")
    click.echo(f"Log in: {base}/?token={token}")
    click.echo(f"The API token: {token_source}; the API's documentation: {base}/api/docs")
    hooks = f"{len(webhooks)} webhook{'s' if len(webhooks) != 1 else ''}"
    click.echo(f"Webhooks: {hooks}, and per-client ones (`docscrawl webhook list`). {key_source}")
    sys.stdout.flush()
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
        lifespan="on",
    )
    _server_class()(config).run(sockets=[sock])
    click.echo("docscrawl serve: stopped.")


def _server_class() -> type:
    import contextlib

    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, minus re-raising the signal that stopped it: Ctrl+C or SIGTERM is
        how a server is meant to stop, so the command then exits 0."""

        @contextlib.contextmanager
        def capture_signals(self):  # type: ignore[override]
            with super().capture_signals():
                yield
                self._captured_signals.clear()

    return Server
