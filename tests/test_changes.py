"""Re-crawls: pages updated in place, changes tracked per job, conditional requests, `diff`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Cli, Store, free_port, wait_for

PAGE = "<html><head><title>{title}</title></head><body><main><h1>{title}</h1><p>{text}</p>{links}</main></body></html>"  # noqa: E501


def write(root: Path, name: str, text: str, links: list[str] = ()) -> None:
    anchors = "".join(f'<a href="{link}">{link}</a> ' for link in links)
    path = root / name
    path.write_text(PAGE.format(title=name, text=text, links=anchors))
    # http.server compares modification times to the second: move them on explicitly.
    stamp = time.time() + (10 if path.exists() else 0)
    os.utime(path, (stamp, stamp))


@pytest.fixture
def static_site(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """A directory served by Python's http.server (Last-Modified and 304s), and its log."""
    root = tmp_path / "www" / "docs"
    root.mkdir(parents=True)
    log = tmp_path / "server.log"
    port = free_port()
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
            cwd=root.parent, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/docs/"
        write(root, "index.html", "Start here.", ["a.html", "b.html", "c.html"])
        write(root, "a.html", "Alpha stays the same.")
        write(root, "b.html", "Beta, first edition.")
        write(root, "c.html", "Gamma will be deleted.")

        def up() -> bool:
            import urllib.request

            try:
                return urllib.request.urlopen(url, timeout=1).status == 200
            except OSError:
                return False

        wait_for(up, timeout=15)
        yield url, root, log
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_recrawl_tracks_new_changed_unchanged_removed(cli: Cli, store: Store, static_site):
    url, root, log = static_site
    assert cli("crawl", "--url", url, "--client", "Static", "--quiet").returncode == 0
    assert cli("status", "--job", "1", "--json").json()["changes"] == {
        "new": 4, "changed": 0, "unchanged": 0, "removed": 0}  # fmt: skip

    write(root, "index.html", "Start here, now with Delta.", ["a.html", "b.html", "d.html"])
    write(root, "b.html", "Beta, second edition.")
    (root / "c.html").unlink()
    write(root, "d.html", "Delta is new.")
    log_offset = log.stat().st_size
    assert cli("crawl", "--url", url, "--client", "Static", "--quiet").returncode == 0

    details = cli("status", "--job", "2", "--json").json()
    assert details["changes"] == {"new": 1, "changed": 2, "unchanged": 1, "removed": 1}
    assert "1 new, 2 changed, 1 unchanged, 1 removed" in cli("status", "--job", "2").stdout
    # The unchanged page was asked for conditionally and answered 304; its content is kept.
    assert '"GET /docs/a.html HTTP/1.1" 304' in log.read_text()[log_offset:]
    text = store.value("SELECT text FROM page WHERE url LIKE '%/a.html'")
    assert "Alpha stays the same." in text
    assert store.value("SELECT job_id FROM page WHERE url LIKE '%/a.html'") == 2
    # One row per page, ever; the deleted page is kept, marked removed by job 2.
    assert store.value("SELECT COUNT(*) FROM page") == 5

    for args in (["--job", "1", "--job", "2"], ["--client-slug", "static"]):
        result = cli("diff", *args, "--json").json()
        assert result["added"] == [url + "d.html"]
        assert result["removed"] == [url + "c.html"]
        assert result["changed"] == [url, url + "b.html"]
        assert result["unchanged"] == 1
    people = cli("diff", "--client-slug", "static").stdout
    assert people.splitlines()[-1] == (
        "Job 1 -> job 2: 1 added, 1 removed, 2 changed, 1 unchanged."
    )


def test_removed_pages_are_not_reported_again(cli: Cli, store: Store, static_site) -> None:
    url, root, _ = static_site
    assert cli("crawl", "--url", url, "--client", "S", "--quiet").returncode == 0
    write(root, "index.html", "Start.", ["a.html", "b.html"])
    (root / "c.html").unlink()
    assert cli("crawl", "--url", url, "--client", "S", "--quiet").returncode == 0
    assert cli("crawl", "--url", url, "--client", "S", "--quiet").returncode == 0
    counts = [cli("status", "--job", str(n), "--json").json()["changes"]["removed"] for n in (2, 3)]
    assert counts == [1, 0]


def test_a_limited_crawl_does_not_call_pages_removed(cli: Cli, static_site) -> None:
    url, _, _ = static_site
    assert cli("crawl", "--url", url, "--client", "S", "--quiet").returncode == 0
    assert (
        cli("crawl", "--url", url, "--client", "S", "--max-pages", "1", "--quiet").returncode == 0
    )
    assert cli("status", "--job", "2", "--json").json()["changes"]["removed"] == 0


def test_pages_a_recrawl_chose_not_to_fetch_are_not_removed(
    cli: Cli, store: Store, static_site
) -> None:
    """A re-crawl that skipped pages (deeper than --max-depth here; a trap rule or a timeout
    alike) ran to its end, yet did not look at them: they are not gone."""
    url, _, _ = static_site
    assert cli("crawl", "--url", url, "--client", "S", "--quiet").returncode == 0
    again = cli("crawl", "--url", url, "--client", "S", "--max-depth", "0", "--quiet")
    assert again.returncode == 0, again.stderr
    details = cli("status", "--job", "2", "--json").json()
    assert details["finish_reason"] == "finished" and details["skipped"].get("depth") == 3
    assert details["changes"]["removed"] == 0
    # A later full crawl that finds a page gone still says so.
    assert cli("crawl", "--url", url, "--client", "S", "--quiet").returncode == 0
    assert cli("status", "--job", "3", "--json").json()["changes"]["removed"] == 0


def test_sample_site_recrawl_is_all_not_modified(cli: Cli, store: Store, site: str) -> None:
    url = site + "docbook/"
    assert cli("crawl", "--url", url, "--client", "D", "--quiet").returncode == 0
    assert cli("crawl", "--url", url, "--client", "D", "--quiet").returncode == 0
    first = cli("status", "--job", "1", "--json").json()
    second = cli("status", "--job", "2", "--json").json()
    assert second["changes"]["unchanged"] == second["pages"] == first["changes"]["new"]
    assert store.value("SELECT COUNT(*) FROM page WHERE markdown = ''") == 0


def test_diff_errors(cli: Cli, site: str) -> None:
    assert cli("crawl", "--url", site + "sphinx/", "--max-pages", "2", "--quiet").returncode == 0
    assert cli("diff", "--client-slug", "127-0-0-1").returncode == 1  # one completed crawl only
    assert cli("diff", "--job", "1").returncode == 2
    assert cli("diff", "--client-slug", "nobody").returncode == 1
