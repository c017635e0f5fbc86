"""The HTTP API of `docscrawl serve`, through a real server on a free port and a real HTTP
client: every endpoint, its errors, auth, pagination and Server-Sent Events; local crawls the
server starts, and Scrapyd crawls on a real Scrapyd."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import requests
from conftest import DOCSCRAWL, Cli, Store, clean_env, wait_for
from support import DocscrawlServer
from test_scheduling import HungNode

from docscrawl import job_state, models


def _job(server: DocscrawlServer, job_id: int) -> dict:
    response = server.api("GET", f"/api/jobs/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()


def _until_status(server: DocscrawlServer, job_id: int, *statuses: str, timeout=60) -> dict:
    return wait_for(
        lambda: (job := _job(server, job_id))["status"] in statuses and job, timeout=timeout
    )


def _assert_error(response: requests.Response, status: int, *words: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"], body
    message = body["error"]
    assert "Traceback" not in message and "\n" not in message
    for word in words:
        assert word in message, message
    return message


def _seed_jobs(store: Store, count: int, status: str = models.COMPLETED) -> list[int]:
    """Jobs written straight into the store, as earlier crawls would have left them."""
    models.open_store(str(store.path))
    client = models.get_or_create_client("seeded")
    ids = []
    for n in range(count):
        job = job_state.create(client, f"http://127.0.0.1:9/{n}/", mode="sync")
        models.Job.update(status=status, pages=n, finish_reason="finished").where(
            models.Job.id == job.id
        ).execute()
        ids.append(job.id)
    return ids


# --- auth ----------------------------------------------------------------------------------------


def test_every_endpoint_needs_the_token(server: DocscrawlServer) -> None:
    for method, path in [("GET", "/api/jobs"), ("GET", "/api/jobs/1"), ("POST", "/api/jobs"),
                         ("POST", "/api/jobs/1/cancel"), ("POST", "/api/crawler/cancel/1/"),
                         ("GET", "/api/nodes"), ("GET", "/api/jobs/1/events")]:  # fmt: skip
        response = requests.request(method, server.url + path, timeout=10)
        _assert_error(response, 401, "token")
        wrong = requests.request(
            method, server.url + path, headers={"Authorization": "Bearer nope"}, timeout=10
        )
        _assert_error(wrong, 401, "wrong")
    # The token may also come in the query (a link, or curl without headers).
    ok = requests.get(f"{server.url}/api/jobs", params={"token": server.token}, timeout=10)
    assert ok.status_code == 200 and ok.json() == {"jobs": [], "next": None}
    # The OpenAPI document and its page are public: they describe, they do nothing.
    spec = requests.get(f"{server.url}/api/openapi.json", timeout=10).json()
    for path in ["/api/jobs", "/api/jobs/{job_id}", "/api/jobs/{job_id}/cancel",
                 "/api/jobs/cancel-all", "/api/crawler/cancel/{job_id}/",
                 "/api/jobs/{job_id}/resume", "/api/jobs/{job_id}/events",
                 "/api/jobs/{job_id}/log", "/api/jobs/{job_id}/errors",
                 "/api/jobs/{job_id}/pages", "/api/pages/{page_id}", "/api/diff",
                 "/api/nodes"]:  # fmt: skip
        assert path in spec["paths"], path
    docs = requests.get(f"{server.url}/api/docs", timeout=10)
    assert docs.status_code == 200 and "/api/crawler/cancel/{job_id}/" in docs.text
    assert "cdn" not in docs.text.lower()


def test_the_login_link_sets_a_session_cookie_and_redirects(server: DocscrawlServer) -> None:
    response = requests.get(server.login_link, allow_redirects=False, timeout=10)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert server.token not in cookie  # the cookie is derived from the token, not the token
    session = requests.Session()
    session.get(server.login_link, timeout=10)
    assert session.get(f"{server.url}/api/jobs", timeout=10).status_code == 200
    # With the cookie alone, a change needs the CSRF token: another site cannot post it.
    _assert_error(session.post(f"{server.url}/api/jobs/cancel-all", timeout=10), 403, "CSRF")
    bad = requests.get(f"{server.url}/?token=wrong", allow_redirects=False, timeout=10)
    assert bad.status_code == 401 and "set-cookie" not in bad.headers


def test_serve_refuses_bad_configuration(cli: Cli, tmp_path: Path) -> None:
    exposed = cli("serve", "--host", "0.0.0.0", "--port", "0", timeout=30)
    assert exposed.returncode == 2
    assert "without a token" in exposed.stderr and "Traceback" not in exposed.stderr
    short = cli("serve", "--port", "0", env={"DOCSCRAWL_API_TOKEN": "short"}, timeout=30)
    assert short.returncode == 2 and "DOCSCRAWL_API_TOKEN is not valid" in short.stderr
    assert "short" not in short.stderr.replace("DOCSCRAWL_API_TOKEN", "")  # never shown
    missing = cli("serve", "--token-file", str(tmp_path / "nope"), timeout=30)
    assert missing.returncode == 2 and "cannot be read" in missing.stderr
    hook = cli("serve", "--webhook", "ftp://x", timeout=30)
    assert hook.returncode == 2 and "is not an http(s) URL" in hook.stderr
    with socket_taken() as port:
        taken = cli("serve", "--port", str(port), timeout=30)
    assert taken.returncode == 1 and f"Cannot listen on 127.0.0.1:{port}" in taken.stderr
    for result in (exposed, short, missing, hook, taken):
        assert "Traceback" not in result.stderr
        assert len([line for line in result.stderr.splitlines() if line.startswith("Error")]) == 1


class socket_taken:
    """A port something already listens on."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.create_server(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc) -> None:
        self.sock.close()


def test_a_token_file_and_the_startup_lines(store: Store, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file-0123456789\n")
    from support import start_server

    server = start_server(store.path, tmp_path, "--token-file", str(token_file), token=None)
    try:
        assert server.token == "from-a-file-0123456789"
        log = server.log()
        assert f"at {server.url}/" in log and f"{server.url}/api/docs" in log
        assert server.api("GET", "/api/jobs").status_code == 200
    finally:
        assert server.stop() == 0  # Ctrl+C: a clean exit


# --- jobs: list, status, pagination --------------------------------------------------------------


def test_jobs_are_listed_newest_first_in_pages(server: DocscrawlServer, store: Store) -> None:
    ids = _seed_jobs(store, 7)
    seen: list[int] = []
    path = "/api/jobs?limit=3"
    pages = 0
    while path:
        response = server.api("GET", path)
        assert response.status_code == 200
        body = response.json()
        seen += [job["id"] for job in body["jobs"]]
        for job in body["jobs"]:
            assert {"id", "status", "client", "url", "pages", "started_at", "finished_at"} <= set(
                job
            )
        if body["next"]:
            assert response.headers["link"] == f'<{body["next"]}>; rel="next"'
        path = body["next"]
        pages += 1
    assert seen == sorted(ids, reverse=True) and pages == 3
    assert [j["id"] for j in server.api("GET", f"/api/jobs?before={ids[3]}").json()["jobs"]] == [
        ids[2], ids[1], ids[0],
    ]  # fmt: skip
    assert server.api("GET", "/api/jobs?status=running").json()["jobs"] == []
    assert len(server.api("GET", "/api/jobs?client=seeded").json()["jobs"]) == 7
    assert server.api("GET", "/api/jobs?client=nobody").json()["jobs"] == []
    _assert_error(server.api("GET", "/api/jobs?status=bogus"), 400, "status")
    _assert_error(server.api("GET", "/api/jobs?limit=0"), 400, "limit")
    _assert_error(server.api("GET", "/api/jobs?limit=501"), 400, "limit")
    _assert_error(server.api("GET", "/api/jobs?before=x"), 400, "before")


def test_one_job_is_the_status_json_object(server: DocscrawlServer, store: Store, cli: Cli) -> None:
    (job_id,) = _seed_jobs(store, 1)
    api = _job(server, job_id)
    status = cli("status", "--job", str(job_id), "--json").json()
    assert api == status
    _assert_error(server.api("GET", "/api/jobs/999"), 404, "There is no job 999")
    _assert_error(server.api("GET", "/api/jobs/0"), 400)
    _assert_error(server.api("GET", "/api/jobs/abc"), 400)
    _assert_error(server.api("GET", "/api/nothing-here"), 404)
    _assert_error(server.api("DELETE", "/api/jobs/1"), 405)


# --- starting, cancelling, resuming ---------------------------------------------------------------


def test_bad_crawl_requests_are_refused_like_the_cli(
    server: DocscrawlServer, store: Store, cli: Cli
) -> None:
    cases = [
        ({"url": "ftp://example.com/"}, "not an absolute http(s) URL"),
        ({"url": "http://user:secret@127.0.0.1/"}, "must not carry credentials"),
        ({"url": "http://127.0.0.1/", "max_pages": 0}, "max_pages"),
        ({"url": "http://127.0.0.1/", "max_depth": -1}, "max_depth"),
        ({"url": "http://127.0.0.1/", "settings": {"CONCURRENT_REQUESTS": "0"}}, "at least 1"),
        ({"url": "http://127.0.0.1/", "settings": {"DOCSCRAWL_DB": "/x"}}, "--db"),
        ({"url": "http://127.0.0.1/", "settings": {"DOCSCRAWL_TYPO": "1"}}, "not a docscrawl"),
        ({"url": "http://127.0.0.1/", "mode": "cluster"}, "mode"),
        ({"url": "http://127.0.0.1/", "colour": "red"}, "colour"),
        ({}, "url"),
    ]
    for body, words in cases:
        response = server.api("POST", "/api/jobs", json=body)
        message = _assert_error(response, 400, words)
        assert "secret" not in message
    for data in ("{not json", "[1, 2]"):
        response = requests.post(f"{server.url}/api/jobs", data=data, timeout=10, headers={
            **server.headers(), "Content-Type": "application/json"})  # fmt: skip
        _assert_error(response, 400, "JSON")
    # The same rules as the CLI's: the CLI refuses the same setting with the same sentence.
    refused = cli("crawl", "--url", "http://127.0.0.1/", "-s", "CONCURRENT_REQUESTS=0")
    assert "CONCURRENT_REQUESTS=0 is not valid" in refused.stderr
    assert store.value("SELECT COUNT(*) FROM job") == 0  # nothing was recorded


def test_a_local_crawl_runs_to_the_end(server: DocscrawlServer, site: str, store: Store) -> None:
    response = server.api("POST", "/api/jobs", json={"url": site, "max_pages": 12})
    assert response.status_code == 201, response.text
    job = response.json()
    # Scrapyd is not reachable here, so the default is a crawl process the server runs.
    assert job["mode"] == "local" and job["status"] in ("pending", "running")
    assert response.headers["location"] == f"/api/jobs/{job['id']}"
    done = _until_status(server, job["id"], "completed", "failed")
    assert done["status"] == "completed" and done["pages"] == 12
    # Its log, ledger, pages and each page with its Markdown.
    log = server.api("GET", f"/api/jobs/{job['id']}/log?tail=5").json()
    assert len(log["lines"]) == 5 and "Spider closed" in "\n".join(log["lines"])
    errors = server.api("GET", f"/api/jobs/{job['id']}/errors").json()
    assert errors["skipped"] == done["skipped"]
    assert len(errors["errors"]) == store.value(
        "SELECT COUNT(*) FROM crawl_error WHERE job_id = ?", job["id"]
    )
    first = server.api("GET", f"/api/jobs/{job['id']}/pages?limit=5").json()
    assert len(first["pages"]) == 5 and first["next"]
    listed, link = list(first["pages"]), first["next"]
    while link:
        more = server.api("GET", link).json()
        listed += more["pages"]
        link = more["next"]
    ids = [p["id"] for p in listed]
    assert len(ids) == len(set(ids)) == 12 and ids == sorted(ids)
    page = server.api("GET", f"/api/pages/{ids[0]}").json()
    assert page["url"] == first["pages"][0]["url"] and page["markdown"]
    assert page["client"] == done["client"] and isinstance(page["headings"], list)
    _assert_error(server.api("GET", "/api/pages/999999"), 404, "no page")
    samples = server.api("GET", f"/api/jobs/{job['id']}/samples").json()
    assert samples and samples[-1]["pages"] == 12


def test_cancel_semantics_match_the_cli(
    server: DocscrawlServer, slow_site: tuple[str, Path], cli: Cli
) -> None:
    url, _ = slow_site
    job = server.api("POST", "/api/jobs", json={"url": url, "mode": "local"}).json()
    wait_for(lambda: _job(server, job["id"])["pages"] >= 2, timeout=60)
    response = server.api("POST", f"/api/jobs/{job['id']}/cancel", json={})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["job"]["status"] == "cancelled" and body["job"]["pages"] >= 2
    assert body["message"].startswith(f"Job {job['id']} cancelled")
    # Cancelling it again: 409 with the CLI's own sentence.
    again = server.api("POST", f"/api/jobs/{job['id']}/cancel")
    message = _assert_error(again, 409, "already cancelled")
    assert cli("cancel", "--job", str(job["id"])).stderr.strip() == f"Error: {message}"
    # The admin site's old endpoint, as the team wrote it down (with the token).
    legacy = server.api("POST", f"/api/crawler/cancel/{job['id']}/")
    _assert_error(legacy, 409, "already cancelled")
    forced = server.api("POST", f"/api/crawler/cancel/{job['id']}/", json={"force": True})
    assert forced.status_code == 200 and "marked cancelled" in forced.json()["message"]
    _assert_error(server.api("POST", "/api/jobs/999/cancel"), 404)
    _assert_error(server.api("POST", f"/api/jobs/{job['id']}/cancel", json={"wait": -1}), 400)


def test_resume_continues_a_cancelled_local_crawl(
    server: DocscrawlServer, slow_site: tuple[str, Path]
) -> None:
    url, _ = slow_site
    job = server.api("POST", "/api/jobs", json={"url": url, "mode": "local", "max_pages": 8})
    job_id = job.json()["id"]
    wait_for(lambda: _job(server, job_id)["pages"] >= 2, timeout=60)
    assert server.api("POST", f"/api/jobs/{job_id}/cancel").json()["job"]["status"] == "cancelled"
    kept = _job(server, job_id)["pages"]
    resumed = server.api("POST", f"/api/jobs/{job_id}/resume")
    assert resumed.status_code == 200 and resumed.json()["status"] == "pending"
    assert resumed.json()["resumes"] == 1
    done = _until_status(server, job_id, "completed", "failed", timeout=90)
    assert done["status"] == "completed" and done["pages"] >= kept
    _assert_error(server.api("POST", f"/api/jobs/{job_id}/resume"), 409, "completed")
    _assert_error(server.api("POST", "/api/jobs/999/resume"), 404)


def test_resume_at_once_after_a_cancel_is_not_failed_by_the_old_process(
    server: DocscrawlServer, slow_site: tuple[str, Path]
) -> None:
    """The crawl records `cancelled` a moment before its process exits; a resume in that gap
    must not be taken for the old process dying (its watcher knows the job moved on)."""
    url, _ = slow_site
    job_id = server.api("POST", "/api/jobs", json={"url": url, "mode": "local", "max_pages": 6})
    job_id = job_id.json()["id"]
    wait_for(lambda: _job(server, job_id)["pages"] >= 1, timeout=60)
    assert server.api("POST", f"/api/jobs/{job_id}/cancel", json={"wait": 0}).ok
    _until_status(server, job_id, "cancelled", timeout=30)
    resumed = server.api("POST", f"/api/jobs/{job_id}/resume")
    assert resumed.status_code == 200, resumed.text
    done = _until_status(server, job_id, "completed", "failed", timeout=90)
    assert done["status"] == "completed", done["finish_reason"]


def test_cancel_all_is_the_emergency_stop(
    server: DocscrawlServer, slow_site: tuple[str, Path]
) -> None:
    url, _ = slow_site
    ids = [
        server.api("POST", "/api/jobs", json={"url": url, "mode": "local", "client": f"c{n}"})
        .json()["id"]
        for n in range(2)
    ]  # fmt: skip
    wait_for(lambda: all(_job(server, i)["status"] == "running" for i in ids), timeout=60)
    response = server.api("POST", "/api/jobs/cancel-all", json={"wait": 30})
    assert response.status_code == 200, response.text
    body = response.json()
    assert sorted(r["job_id"] for r in body["results"]) == sorted(ids) and body["failed"] == []
    assert all(_job(server, i)["status"] == "cancelled" for i in ids)
    empty = server.api("POST", "/api/jobs/cancel-all").json()
    assert empty == {"results": [], "failed": []}


def test_a_hung_scrapyd_does_not_block_other_requests(
    server_factory, store: Store, tmp_path: Path
) -> None:
    node = HungNode()
    try:
        server = server_factory(env={"DOCSCRAWL_SCRAPYD_TIMEOUT": "4"})
        # A job Scrapyd was asked to run on that node: cancelling it asks the node, which hangs.
        models.open_store(str(store.path))
        job = job_state.create(models.get_or_create_client("hung"), "http://127.0.0.1:9/",
                               mode="scrapyd")  # fmt: skip
        job_state.assign(job.id, log_url=f"{node.url}/logs/x.log", node=node.url,
                         scrapyd_job_id=f"{job.id}-x")  # fmt: skip
        result: dict = {}

        def cancel() -> None:
            result["response"] = server.api("POST", f"/api/jobs/{job.id}/cancel", timeout=60)

        thread = threading.Thread(target=cancel)
        started = time.monotonic()
        thread.start()
        wait_for(node.accepted.is_set, timeout=20)
        # While the cancel waits on the node, the server answers everything else at once.
        for _ in range(5):
            before = time.monotonic()
            assert server.api("GET", "/api/jobs").status_code == 200
            assert time.monotonic() - before < 2
        assert thread.is_alive()
        thread.join(timeout=60)
        response = result["response"]
        _assert_error(response, 502, "cannot be reached", "--force")
        assert time.monotonic() - started >= 3  # it really did wait on the node
        assert _job(server, job.id)["status"] == "cancelling"  # asked to stop, through the store
    finally:
        node.close()


def test_nodes_and_an_unreachable_scrapyd(server: DocscrawlServer) -> None:
    nodes = server.api("GET", "/api/nodes").json()
    assert [n["url"] for n in nodes] == ["http://127.0.0.1:9"]
    assert nodes[0]["reachable"] is False and "cannot be reached" in nodes[0]["error"]
    refused = server.api("POST", "/api/jobs", json={"url": "http://127.0.0.1:9/", "mode":
                                                    "scrapyd"})  # fmt: skip
    _assert_error(refused, 502, "cannot be reached")


def test_a_crawl_on_scrapyd(server_factory, scrapyd, site: str, store: Store) -> None:
    server = server_factory(env={"SCRAPYD_URL": scrapyd.url})
    nodes = server.api("GET", "/api/nodes").json()
    assert nodes[0]["reachable"] and nodes[0]["deployed"]
    response = server.api("POST", "/api/jobs", json={"url": site, "max_pages": 6})
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["mode"] == "scrapyd" and job["scrapyd_job_id"].startswith(f"{job['id']}-")
    done = _until_status(server, job["id"], "completed", "failed", timeout=90)
    assert done["status"] == "completed" and done["pages"] == 6
    assert done["log_url"].startswith(scrapyd.url)
    log = server.api("GET", f"/api/jobs/{job['id']}/log?tail=20")
    assert log.status_code == 200, log.text
    log = log.json()["lines"]
    assert any("Spider closed" in line for line in log)


# --- Server-Sent Events ---------------------------------------------------------------------------


def _events(server: DocscrawlServer, job_id: int, timeout: float = 90) -> list[tuple[str, dict]]:
    """Read a job's event stream to its end: [(event, data)]."""
    found: list[tuple[str, dict]] = []
    with httpx.stream("GET", f"{server.url}/api/jobs/{job_id}/events", headers=server.headers(),
                      timeout=timeout) as response:  # fmt: skip
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                found.append((name, json.loads(line.removeprefix("data: "))))
    return found


def test_events_stream_the_counters_until_the_job_ends(
    server: DocscrawlServer, slow_site: tuple[str, Path]
) -> None:
    url, _ = slow_site
    # One request at a time on the slow site: the crawl takes a few seconds, not a fraction.
    body = {"url": url, "mode": "local", "max_pages": 15, "settings": {"CONCURRENT_REQUESTS": 1}}
    job_id = server.api("POST", "/api/jobs", json=body).json()["id"]
    events = _events(server, job_id)
    names = [name for name, _ in events]
    assert names[-1] == "end" and names.count("end") == 1
    progress = [data["pages"] for name, data in events if name == "progress"]
    assert progress == sorted(progress) and progress[-1] == 15 and len(set(progress)) >= 3
    statuses = [data["status"] for name, data in events if name == "status"]
    assert statuses[-1] == "completed" and "running" in statuses
    assert len(statuses) == len(set(statuses))  # one event per change
    last = events[-1][1]
    assert {"pages", "rate", "errors", "queued", "eta_seconds"} <= set(last)
    # A finished job's stream ends at once; an unknown job is a 404, not a stream.
    assert [name for name, _ in _events(server, job_id)] == ["status", "progress", "end"]
    _assert_error(server.api("GET", "/api/jobs/999/events"), 404)


# --- diff ---------------------------------------------------------------------------------------


def test_diff_of_two_crawls(server: DocscrawlServer, site: str, cli: Cli) -> None:
    ids = []
    for _ in range(2):
        job = server.api("POST", "/api/jobs", json={"url": site, "client": "twice",
                                                    "max_pages": 5}).json()  # fmt: skip
        _until_status(server, job["id"], "completed")
        ids.append(job["id"])
    diff = server.api("GET", f"/api/diff?old={ids[0]}&new={ids[1]}").json()
    assert diff == cli("diff", "--job", str(ids[0]), "--job", str(ids[1]), "--json").json()
    assert server.api("GET", "/api/diff?client=twice").json() == diff
    _assert_error(server.api("GET", "/api/diff?old=1"), 400, "old and new")
    _assert_error(server.api("GET", f"/api/diff?old={ids[0]}&new=999"), 404)


def test_a_server_started_twice_on_one_store(server_factory, store: Store) -> None:
    """Two servers share a store as two CLI commands do: both read and write it."""
    first, second = server_factory(), server_factory()
    (job_id,) = _seed_jobs(store, 1)
    assert _job(first, job_id) == _job(second, job_id)
    assert first.api("POST", f"/api/jobs/{job_id}/cancel", json={"force": True}).ok
    assert _job(second, job_id)["status"] == "cancelled"


def test_serve_exits_cleanly_on_sigterm(store: Store, tmp_path: Path) -> None:
    from support import start_server

    server = start_server(store.path, tmp_path)
    import signal

    assert server.stop(signal.SIGTERM) == 0
    port = int(server.url.rsplit(":", 1)[1])
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/api/openapi.json", timeout=2)


def test_serve_help_lists_its_options() -> None:
    result = subprocess.run([DOCSCRAWL, "serve", "--help"], capture_output=True, text=True,
                            env=clean_env(), timeout=30)  # fmt: skip
    for option in ("--host", "--port", "--token-file", "--webhook", "--webhook-secret-file"):
        assert option in result.stdout
