"""The loopback HTTP/1.1 server for the sample site, and its command line."""

from __future__ import annotations

import argparse
import ipaddress
import signal
import sys
import threading
import time
from collections.abc import Sequence
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import IO
from urllib.parse import unquote, urlsplit

from sample_site.site import UNDELAYED_PATHS, Page, Site, build_site


class SampleSiteServer(ThreadingHTTPServer):
    """A threaded server that answers from a prebuilt Site."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        delay: float = 0.0,
        access_log: str | None = None,
        quiet: bool = True,
    ):
        # Set before binding: socketserver calls server_close() when the bind fails.
        self.delay = delay
        self.quiet = quiet
        self._log_lock = threading.Lock()
        self._access_log: IO[str] | None = None
        super().__init__((host, port), SampleSiteHandler)
        self.base_url = f"http://{host}:{self.server_address[1]}/"
        self.site: Site = build_site(self.base_url)
        if access_log:
            try:
                self._access_log = open(access_log, "a", encoding="utf-8")  # noqa: SIM115
            except OSError:
                self.server_close()
                raise

    def log_access(self, line: str) -> None:
        """Append one line to the access log, if any, and flush it at once."""
        with self._log_lock:
            if self._access_log is not None:
                self._access_log.write(line + "\n")
                self._access_log.flush()

    def handle_error(self, request: object, client_address: object) -> None:
        """Ignore clients that hang up mid-response; report anything else."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    def server_close(self) -> None:
        """Close the socket and the access log."""
        super().server_close()
        if self._access_log is not None:
            with self._log_lock:
                self._access_log.close()
                self._access_log = None


class KeepAliveHandler(BaseHTTPRequestHandler):
    """An HTTP/1.1 keep-alive handler: GET and HEAD both go to _answer(send_body)."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, each response waits ~40 ms.
    disable_nagle_algorithm = True
    server_version = "sample_site/1.0"
    # Idle keep-alive connections must not hold a thread forever.
    timeout = 30

    def version_string(self) -> str:
        """The Server header, without the Python version."""
        return self.server_version

    def do_GET(self) -> None:
        """Answer with headers and body."""
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        """Answer with the headers GET would send."""
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        raise NotImplementedError


class SampleSiteHandler(KeepAliveHandler):
    """GET and HEAD with keep-alive, validators and conditional requests."""

    server: SampleSiteServer

    def _answer(self, send_body: bool) -> None:
        path = unquote(urlsplit(self.path).path) or "/"
        if self.server.delay > 0 and path not in UNDELAYED_PATHS:
            time.sleep(self.server.delay)
        page = self.server.site.resolve(path)
        if self._not_modified(page):
            self.send_response(304)
            for name, value in page.headers():
                if name in ("ETag", "Last-Modified"):
                    self.send_header(name, value)
            self.end_headers()
            return
        self.send_response(page.status)
        for name, value in page.headers():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(page.body)))
        self.end_headers()
        if send_body:
            self.wfile.write(page.body)

    def _not_modified(self, page: Page) -> bool:
        if page.status != 200:
            return False
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or page.etag in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since and page.last_modified is not None:
            try:
                since = parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                return False
            return page.last_modified <= since
        return False

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """One access-log line per response: METHOD PATH STATUS."""
        status = int(code) if str(code).isdigit() else code
        command = getattr(self, "command", None) or "-"
        path = getattr(self, "path", None) or "-"
        self.server.log_access(f"{command} {path} {status}")
        if not self.server.quiet:
            sys.stderr.write(f"{self.address_string()} {command} {path} {status}\n")

    def log_message(self, format: str, *args: object) -> None:
        """Errors of the request parser go to stderr unless quiet."""
        if not self.server.quiet:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


def check_loopback(host: str) -> str:
    """The host if it is a loopback address (or localhost), else an argparse error."""
    if host == "localhost":
        return host
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{host!r} is not an IPv4 address") from None
    if not address.is_loopback:
        raise argparse.ArgumentTypeError(f"{host} is not a loopback address; use 127.0.0.1")
    return host


def non_negative(value: str) -> float:
    """A number of seconds, zero or more."""
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if seconds < 0:
        raise argparse.ArgumentTypeError("the delay must not be negative")
    return seconds


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line of ``python -m sample_site``."""
    parser = argparse.ArgumentParser(
        prog="python -m sample_site",
        description="Serve the sample documentation sites on loopback.",
    )
    parser.add_argument(
        "--host",
        type=check_loopback,
        default="127.0.0.1",
        help="loopback address to bind (default: 127.0.0.1)",
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: 0, any free)")
    parser.add_argument(
        "--delay",
        type=non_negative,
        default=0.0,
        metavar="SECONDS",
        help="wait this long before each answer except robots.txt and sitemaps",
    )
    parser.add_argument(
        "--access-log",
        metavar="PATH",
        help="append 'METHOD PATH STATUS' for every request to this file",
    )
    parser.add_argument("--quiet", action="store_true", help="no request log on stderr")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM; the first line on stdout is the base URL."""
    args = parse_args(argv)
    try:
        server = SampleSiteServer(args.host, args.port, args.delay, args.access_log, args.quiet)
    except OSError as error:
        print(f"sample_site cannot start on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    # serve_forever runs in a thread because shutdown() deadlocks if called from its own thread.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="sample-site", daemon=True
    )
    thread.start()
    print(server.base_url, flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()
    return 0
