"""A deterministic synthetic documentation site for throughput benchmarks, and its servers.

`generate` writes N static pages (about 8 KB and 20 links each: nav bar, sidebar toc, headings
with ids, code blocks, a table, a footer) under ``docs/``, plus robots.txt and sitemap.xml.
`serve` serves a generated directory on 127.0.0.1 with nginx when it is installed, else with a
small HTTP/1.1 keep-alive Python server that answers from memory.

    .venv/bin/python -m bench.synthetic_site generate /tmp/site --pages 5000
    .venv/bin/python -m bench.synthetic_site serve /tmp/site
"""

from __future__ import annotations

import argparse
import contextlib
import html
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path

import psutil

from sample_site.server import KeepAliveHandler
from tests.support import PROJECT_ROOT, free_port

PAGES_PER_SECTION = 50
SITEMAP_LIMIT = 50_000  # URLs per sitemap file, as the sitemap protocol allows
LASTMOD = "2026-01-01"
NAV_SECTIONS = 5
TOC_LINKS = 8
INDEX_SECTIONS = 100
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css",
}
STYLESHEET = "body{font-family:sans-serif;margin:0}main{max-width:60em}pre{background:#eee}\n"
WORDS = (
    "install", "configure", "deploy", "cluster", "node", "agent", "metric", "trace", "log",
    "span", "service", "endpoint", "query", "index", "schema", "token", "secret", "policy",
    "role", "region", "bucket", "volume", "network", "proxy", "cache", "queue", "worker",
    "scheduler", "pipeline", "filter", "parser", "export", "import", "backup", "restore",
    "upgrade", "migrate", "rollback", "monitor", "alert", "dashboard", "widget", "integration",
    "plugin", "extension", "module", "package", "release", "version", "request", "response",
    "header", "payload", "client", "server", "session", "timeout", "retry", "limit", "quota",
    "batch", "stream", "buffer", "offset", "partition", "replica", "shard", "leader", "follower",
    "snapshot", "checkpoint", "journal", "the", "a", "an", "of", "to", "in", "for", "with", "on",
    "by", "from", "and", "or", "when", "if", "each", "every", "this", "that", "your", "its",
    "default", "value", "option", "setting", "field", "parameter", "argument", "returns",
    "creates", "updates", "deletes", "lists", "reads", "writes", "enables", "disables",
    "supports", "requires", "allows", "uses", "runs", "starts", "stops", "sends", "receives",
)  # fmt: skip
TOPICS = (
    "Agent", "Metrics", "Tracing", "Logs", "Dashboards", "Alerts", "Integrations", "API",
    "Security", "Networking", "Storage", "Billing", "Accounts", "Pipelines", "Exporters",
)  # fmt: skip
CODE_LANGUAGES = ("python", "bash", "yaml", "json")
TYPES = ("string", "integer", "boolean", "duration", "list")


def page_path(number: int) -> str:
    """The URL path of page number (0 is the index at /docs/)."""
    if number == 0:
        return "/docs/"
    return f"/docs/section-{section_of(number)}/page-{number}.html"


def section_of(number: int) -> int:
    """The section a page (number >= 1) belongs to."""
    return (number - 1) // PAGES_PER_SECTION


def _file_path(url_path: str) -> str:
    return url_path.lstrip("/") + ("index.html" if url_path.endswith("/") else "")


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rng, rng.randint(8, 16)) for _ in range(sentences))


def _title(rng: random.Random, number: int) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(3))
    return f"{rng.choice(TOPICS)}: {words.capitalize()} ({number})"


def _link(number: int, label: str) -> str:
    return f'<a href="{page_path(number)}">{html.escape(label)}</a>'


def _code_block(rng: random.Random) -> str:
    language = rng.choice(CODE_LANGUAGES)
    lines = [
        f"{rng.choice(WORDS)}_{rng.choice(WORDS)} = {rng.choice(WORDS)}({rng.randint(1, 999)})"
        for _ in range(rng.randint(10, 16))
    ]
    code = html.escape("\n".join(lines))
    return f'<pre><code class="language-{language}">{code}</code></pre>'


def _table(rng: random.Random) -> str:
    rows = "".join(
        f"<tr><td><code>{rng.choice(WORDS)}_{rng.choice(WORDS)}</code></td>"
        f"<td>{rng.choice(TYPES)}</td><td>{rng.randint(0, 100)}</td>"
        f"<td>{_sentence(rng, rng.randint(6, 12))}</td></tr>\n"
        for _ in range(6)
    )
    return (
        "<table>\n<thead><tr><th>Option</th><th>Type</th><th>Default</th><th>Description</th>"
        f"</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>"
    )


def render_page(number: int, pages: int, seed: int) -> str:
    """The HTML of one page; depends only on (number, pages, seed)."""
    rng = random.Random(seed * 1_000_003 + number)
    sections = max(1, section_of(pages - 1) + 1) if pages > 1 else 0
    title = "Synthetic Docs" if number == 0 else _title(rng, number)
    nav = "".join(
        f"<li>{_link(s * PAGES_PER_SECTION + 1, TOPICS[s % len(TOPICS)])}</li>"
        for s in range(min(NAV_SECTIONS, sections))
    )
    if number == 0:
        section_label = "Sections"
        toc_numbers = [s * PAGES_PER_SECTION + 1 for s in range(min(INDEX_SECTIONS, sections))]
    else:
        section = section_of(number)
        section_label = f"Section {section}"
        first = section * PAGES_PER_SECTION + 1
        last = min(first + PAGES_PER_SECTION, pages) - 1
        start = max(first, min(number - TOC_LINKS // 2, last - TOC_LINKS + 1))
        toc_numbers = [n for n in range(start, min(start + TOC_LINKS, last + 1)) if n != number]
    toc = "".join(f"<li>{_link(n, f'Page {n}')}</li>" for n in toc_numbers)
    others = [rng.randrange(pages) for _ in range(4)] if pages > 1 else [0] * 4
    pager = ""
    if number > 0:
        pager += f'<a rel="prev" href="{page_path(number - 1)}">Previous</a>\n'
    if number + 1 < pages:
        pager += f'<a rel="next" href="{page_path(number + 1)}">Next</a>\n'
    anchor = f"page-{number}"
    body = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)} — Synthetic Docs</title>
<meta name="description" content="{html.escape(_sentence(rng, 12))}">
<link rel="canonical" href="{page_path(number)}">
<link rel="stylesheet" href="/static/site.css">
</head>
<body>
<header class="site-header">
<nav class="navbar" aria-label="Main">
<a class="brand" href="/docs/">Synthetic Docs</a>
<ul class="nav-links">{nav}</ul>
</nav>
</header>
<div class="layout">
<aside class="sidebar">
<nav class="toc" aria-label="{section_label}">
<h2 class="toc-title">{section_label}</h2>
<ul>{toc}</ul>
</nav>
</aside>
<main id="content">
<article>
<h1 id="{anchor}">{html.escape(title)}</h1>
<p>{_paragraph(rng, 5)}</p>
<h2 id="overview">Overview</h2>
<p>{_paragraph(rng, 3)} See {_link(others[0], "the related guide")} and
{_link(others[1], "the reference")} for <code>{rng.choice(WORDS)}</code> details.</p>
<p>{_paragraph(rng, 4)}</p>
<h2 id="example">Example</h2>
<p>{_paragraph(rng, 4)}</p>
{_code_block(rng)}
<h2 id="options">Options</h2>
<p>{_paragraph(rng, 4)}</p>
{_table(rng)}
<h2 id="configuration">Configuration</h2>
<p>{_paragraph(rng, 4)}</p>
<p>{_paragraph(rng, 3)}</p>
{_code_block(rng)}
<h2 id="troubleshooting">Troubleshooting</h2>
<p>{_paragraph(rng, 5)}</p>
<p>{_paragraph(rng, 4)}</p>
<h3 id="notes">Notes</h3>
<ul>
<li>{_sentence(rng, 14)}</li>
<li>{_sentence(rng, 12)} {_link(others[2], "More about this")}.</li>
<li>{_sentence(rng, 10)}</li>
</ul>
<h2 id="see-also">See also</h2>
<p>{_paragraph(rng, 4)} {_link(others[3], "Next steps")}.</p>
</article>
<nav class="pager" aria-label="Pages">
{pager}</nav>
</main>
</div>
<footer class="site-footer">
<p>&copy; 2026 Synthetic Docs. <a href="/docs/">Home</a> &middot;
<a href="https://example.invalid/">Project site</a></p>
</footer>
</body>
</html>
"""
    return body


def robots_txt(base_url: str) -> str:
    """Allow everything and point at the sitemap."""
    return f"User-agent: *\nAllow: /\n\nSitemap: {base_url.rstrip('/')}/sitemap.xml\n"


def sitemap_files(base_url: str, pages: int) -> dict[str, str]:
    """sitemap.xml (an index of sitemap-N.xml when there are more than 50,000 pages)."""
    base = base_url.rstrip("/")

    def urlset(numbers: range) -> str:
        entries = "".join(
            f"<url><loc>{base}{page_path(n)}</loc><lastmod>{LASTMOD}</lastmod></url>\n"
            for n in numbers
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{entries}</urlset>\n"
        )

    if pages <= SITEMAP_LIMIT:
        return {"sitemap.xml": urlset(range(pages))}
    files = {}
    for part, start in enumerate(range(0, pages, SITEMAP_LIMIT), start=1):
        files[f"sitemap-{part}.xml"] = urlset(range(start, min(start + SITEMAP_LIMIT, pages)))
    index = "".join(f"<sitemap><loc>{base}/{name}</loc></sitemap>\n" for name in sorted(files))
    files["sitemap.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{index}</sitemapindex>\n"
    )
    return files


@dataclass
class SiteInfo:
    """A generated site: where it is, its base URL and its size."""

    root: Path
    base_url: str
    pages: int
    html_bytes: int


def generate(root: Path, base_url: str, pages: int = 5000, seed: int = 1) -> SiteInfo:
    """Write the site under root; the same (pages, seed, base_url) always gives the same bytes."""
    if pages < 1:
        raise ValueError("a site needs at least one page")
    root.mkdir(parents=True, exist_ok=True)
    html_bytes = 0
    made: set[Path] = set()
    for number in range(pages):
        target = root / _file_path(page_path(number))
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        data = render_page(number, pages, seed).encode()
        target.write_bytes(data)
        html_bytes += len(data)
    (root / "robots.txt").write_text(robots_txt(base_url))
    for name, text in sitemap_files(base_url, pages).items():
        (root / name).write_text(text)
    (root / "static").mkdir(exist_ok=True)
    (root / "static" / "site.css").write_text(STYLESHEET)
    return SiteInfo(root, base_url.rstrip("/"), pages, html_bytes)


# --- serving ---------------------------------------------------------------------------------


class _MemoryHandler(KeepAliveHandler):
    """GET and HEAD from the server's in-memory files, HTTP/1.1 keep-alive, no logging."""

    server: _MemoryServer
    server_version = "synthetic_site/1.0"

    def _answer(self, send_body: bool) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        found = self.server.files.get(path)
        if found is None and path + "/" in self.server.files:
            self._send(301, b"", "text/plain", send_body, location=path + "/")
        elif found is None:
            self._send(404, b"Not found\n", "text/plain", send_body)
        else:
            self._send(200, found[0], found[1], send_body)

    def _send(
        self, status: int, body: bytes, content_type: str, send_body: bool, location: str = ""
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """No per-request logging: it would cost more than serving the page."""


class _MemoryServer(ThreadingHTTPServer):
    daemon_threads = True
    files: dict[str, tuple[bytes, str]]

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client hanging up mid-response
        super().handle_error(request, client_address)  # type: ignore[arg-type]


def load_files(root: Path) -> dict[str, tuple[bytes, str]]:
    """Every file under root by URL path (dir/index.html also as dir/), with its content type."""
    files: dict[str, tuple[bytes, str]] = {}
    for directory, _dirs, names in os.walk(root):
        for name in names:
            path = Path(directory, name)
            url = "/" + path.relative_to(root).as_posix()
            entry = (path.read_bytes(), CONTENT_TYPES.get(path.suffix, "application/octet-stream"))
            files[url] = entry
            if name == "index.html":
                files[url[: -len(name)]] = entry
    return files


def run_python_server(root: Path, port: int) -> None:
    """Serve root from memory on 127.0.0.1:port until SIGTERM; print the base URL first."""
    server = _MemoryServer(("127.0.0.1", port), _MemoryHandler)
    server.files = load_files(root)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()


def nginx_binary() -> str | None:
    """The nginx executable, if nginx is installed."""
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(path)),
        None,
    )


def nginx_conf(root: Path, port: int, prefix: Path, nginx: str) -> str:
    """A minimal nginx.conf: one worker in the foreground, every path inside prefix."""
    build = subprocess.run([nginx, "-V"], capture_output=True, text=True).stderr
    temp_paths = "".join(
        f"    {module}_temp_path {prefix / (module + '_temp')};\n"
        for module in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        if module == "client_body" or f"--without-http_{module}_module" not in build
    )
    types = "".join(
        f"        {ctype.split(';')[0]} {ext[1:]};\n" for ext, ctype in CONTENT_TYPES.items()
    )
    # As root, nginx's workers would run as nobody, who cannot read a private temp directory.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}daemon off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{
    worker_connections 1024;
}}
http {{
    types {{
{types}    }}
    charset utf-8;
    default_type application/octet-stream;
    access_log {prefix / "access.log"} combined buffer=64k flush=1s;
{temp_paths}    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        root {root};
        index index.html;
    }}
}}
"""


@dataclass
class Server:
    """A server we started: its base URL, kind (nginx or python) and process."""

    url: str
    kind: str
    process: subprocess.Popen
    log: Path | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def processes(self) -> list[psutil.Process]:
        """The server's processes (nginx: master and worker), while they live."""
        try:
            master = psutil.Process(self.process.pid)
            return [master, *master.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_seconds(self) -> float:
        """User+system CPU seconds its processes have used so far."""
        total = 0.0
        for process in self.processes():
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def stop(self) -> None:
        """Stop the server by its pid, and any worker it leaves behind."""
        children = self.processes()[1:]
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        if self.process.stdout is not None:
            self.process.stdout.close()


def _wait_listening(process: subprocess.Popen, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def start_nginx(root: Path, port: int, workdir: Path) -> Server:
    """nginx on 127.0.0.1:port serving root, everything it writes inside workdir."""
    nginx = nginx_binary()
    if nginx is None:
        raise RuntimeError("nginx is not installed (see bench/setup-nginx.sh)")
    prefix = workdir / "nginx"
    prefix.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_conf(root.resolve(), port, prefix, nginx))
    log = prefix / "error.log"
    process = subprocess.Popen(
        [nginx, "-p", f"{prefix}/", "-c", str(conf), "-e", str(log)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Server(f"http://127.0.0.1:{port}", "nginx", process, log)
    try:
        _wait_listening(process, port, timeout=15)
    except RuntimeError as exc:
        server.stop()
        detail = log.read_text() if log.exists() else ""
        raise RuntimeError(f"nginx did not start: {exc}\n{detail}") from None
    return server


def start_python_server(root: Path, port: int = 0, timeout: float = 60) -> Server:
    """The Python fallback server in its own process; returns once it listens."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(PROJECT_ROOT), env.get("PYTHONPATH"))))
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.synthetic_site", "serve", str(root), "--port", str(port),
         "--server", "python"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=env,
    )  # fmt: skip
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline().decode().strip() if ready else ""
    server = Server(line, "python", process)
    if not line.startswith("http://"):
        server.stop()
        raise RuntimeError(f"the Python server did not start within {timeout} s")
    return server


@contextlib.contextmanager
def serve(
    root: Path, kind: str = "auto", port: int = 0, workdir: Path | None = None
) -> Iterator[Server]:
    """Serve root on 127.0.0.1:port (nginx if installed, unless kind says otherwise); stop it."""
    if kind == "auto":
        kind = "nginx" if nginx_binary() else "python"
    with contextlib.ExitStack() as stack:
        if kind == "nginx":
            if workdir is None:
                workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nginx-")))
            server = start_nginx(root, port or free_port(), workdir)
        elif kind == "python":
            server = start_python_server(root, port)
        else:
            raise ValueError(f"unknown server kind {kind!r}")
        stack.callback(server.stop)
        yield server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("generate", help="write a site into a directory")
    make.add_argument("root", type=Path)
    make.add_argument("--pages", type=int, default=5000)
    make.add_argument("--seed", type=int, default=1)
    make.add_argument("--base-url", default="http://127.0.0.1:8000", help="for the sitemap")
    run = commands.add_parser("serve", help="serve a generated directory on 127.0.0.1")
    run.add_argument("root", type=Path)
    run.add_argument("--port", type=int, default=0, help="0 picks a free one")
    run.add_argument("--server", choices=("auto", "nginx", "python"), default="auto")
    args = parser.parse_args(argv)
    if args.command == "generate":
        site = generate(args.root, args.base_url, args.pages, args.seed)
        print(f"{site.pages} pages, {site.html_bytes / 2**20:.1f} MiB of HTML in {site.root}")
        return 0
    # SIGTERM unwinds like Ctrl+C does, so the nginx we started is stopped with us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.server == "python" or (args.server == "auto" and not nginx_binary()):
        with contextlib.suppress(KeyboardInterrupt):
            run_python_server(args.root, args.port)
        return 0
    with serve(args.root, "nginx", args.port) as server:
        print(server.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.process.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
