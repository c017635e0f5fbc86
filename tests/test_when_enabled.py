"""Scrapy components docscrawl leaves off still work when a crawl turns them on
(docscrawl/when_enabled.py): cookies, the telnet console and the remote control."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import DOCSCRAWL
from support import clean_env

from docscrawl import models, when_enabled
from docscrawl.runner import project_settings


@contextmanager
def cookie_site() -> Iterator[tuple[str, list[str]]]:
    """/ sets a session cookie and links to /next; every request's Cookie header is noted."""
    cookies: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/robots.txt":
                self.send_response(404)
                self.end_headers()
                return
            cookies.append(f"{self.path} {self.headers.get('Cookie', '-')}")
            body = b"<html><head><title>Cookies</title></head><body><main><h1>Cookies</h1>"
            body += b"<p>" + b"Words about cookies. " * 30 + b"</p>"
            body += b'<a href="/next">next</a></main></body></html>'
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            if self.path == "/":
                self.send_header("Set-Cookie", "session=s3cr3t; Path=/")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", cookies
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


COOKIES = "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"


@pytest.mark.parametrize(
    "enabled, middlewares",
    [(False, None), (True, None), (True, {COOKIES: None}), (True, {COOKIES: 701})],
    ids=["default", "cookies-on", "on-but-disabled-by-its-path", "on-and-moved-by-its-path"],
)
def test_cookies_are_sent_only_when_a_crawl_turns_them_on(
    tmp_path: Path, enabled: bool, middlewares: dict | None
) -> None:
    settings = ["-s", f"COOKIES_ENABLED={enabled}"]
    if middlewares is not None:
        # As in plain Scrapy, the crawl's own entry for Scrapy's middleware is what counts.
        own = project_settings().getdict("DOWNLOADER_MIDDLEWARES")  # -s replaces the whole dict
        settings += ["-s", f"DOWNLOADER_MIDDLEWARES={json.dumps({**own, **middlewares})}"]
        enabled = middlewares[COOKIES] is not None
    with cookie_site() as (url, cookies):
        result = subprocess.run(
            [DOCSCRAWL, "--db", str(tmp_path / "store.db"), "crawl", "--url", url, "--quiet",
             *settings],
            capture_output=True, text=True, env=clean_env(), timeout=120,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "/ -" in cookies  # the first request has no cookie to send
    assert ("/next session=s3cr3t" in cookies) is enabled, cookies
    assert ("/next -" in cookies) is not enabled, cookies


def test_the_project_lists_a_stand_in_in_each_left_off_components_place() -> None:
    from scrapy.settings import default_settings

    settings = project_settings()
    middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES_BASE")
    extensions = settings.getdict("EXTENSIONS_BASE")
    for path, stand_in in when_enabled.STAND_INS.items():
        base = middlewares if "downloadermiddlewares" in path else extensions
        scrapy_base = (
            default_settings.DOWNLOADER_MIDDLEWARES_BASE
            if base is middlewares
            else default_settings.EXTENSIONS_BASE
        )
        assert path not in base
        assert base[stand_in] == scrapy_base[path]  # at the component's own order
    # Everything else is Scrapy's list as it is.
    assert len(middlewares) == len(default_settings.DOWNLOADER_MIDDLEWARES_BASE)
    assert len(extensions) == len(default_settings.EXTENSIONS_BASE)


@pytest.mark.parametrize(
    "setting, listening",
    [
        ("TELNETCONSOLE_ENABLED", "Telnet console listening on 127.0.0.1:"),
        ("REMOTE_CONTROL_ENABLED", "Remote control HTTP server listening on port"),
    ],
    ids=["telnet", "remote-control"],
)
def test_an_extension_left_off_runs_when_a_crawl_turns_it_on(
    tmp_path: Path, site: str, setting: str, listening: str
) -> None:
    store = tmp_path / "store.db"

    def crawl_log(*settings: str) -> str:
        """The Scrapy log of a foreground crawl (docscrawl keeps it in a file, as Scrapyd)."""
        result = subprocess.run(
            [DOCSCRAWL, "--db", str(store), "crawl", "--url", site, "--max-pages", "2",
             "--quiet", "-s", "LOG_LEVEL=INFO", *settings],
            capture_output=True, text=True, env=clean_env(), timeout=120, cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        models.open_store(str(store))
        try:
            job = models.Job.select().order_by(models.Job.id.desc()).get()
            return Path(job.log_url).read_text()
        finally:
            models.database.close()

    assert listening in crawl_log("-s", f"{setting}=True")
    assert listening not in crawl_log()
    # Turned on, but disabled by its Scrapy path in the crawl's EXTENSIONS: off, as in Scrapy.
    own = project_settings().getdict("EXTENSIONS")  # -s replaces the whole dict
    disabled = json.dumps({**own, when_enabled.STAND_INS_BY_SETTING[setting]: None})
    assert listening not in crawl_log("-s", f"{setting}=True", "-s", f"EXTENSIONS={disabled}")
