"""Webhooks: signing, the dispatcher's deliveries from the outbox, and `docscrawl webhook`.

A real receiver on loopback (a ThreadingHTTPServer) records what it is sent and can be told
to fail or to hang; the dispatcher runs in-process on a SQLite store under tmp_path, and the
job transitions are driven through docscrawl.job_state, as the crawls and the CLI drive them.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support import wait_for

from control import jobs
from control.server import webhooks
from control.server.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookDispatcher,
)
from docscrawl import job_state, models
from docscrawl.job_state import Outcome
from docscrawl.models import CANCELLED, COMPLETED, FAILED

pytest_plugins = ["postgres"]  # the PostgreSQL server fixtures (tests/postgres.py)

KEY = b"test-signing-key"


# --- the receiver --------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def event(self) -> str:
        return self.json()["event"]


@dataclass
class Receiver:
    """What a local webhook receiver was sent; it can fail the first requests, or hang."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    fail_first: int = 0  # answer the first N requests with fail_status
    fail_status: int = 500
    hang_paths: set[str] = field(default_factory=set)  # never answer these in time
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [request for request in self.received if request.path == path]

    def events(self, path: str = "/hook") -> list[str]:
        return [request.event for request in self.at(path)]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                state.received.append(Received(self.path, dict(self.headers), body))
                failing = state.fail_first > 0
                state.fail_first -= failing
            if self.path in state.hang_paths:
                state.release.wait(10)
            self.send_response(state.fail_status if failing else 200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


# --- the store and the dispatcher ----------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The store, opened in this process: a SQLite file, or this test's PostgreSQL database
    (the dispatcher's INSERT ... SELECT and its threads' connections must work on both)."""
    if request.param == "sqlite":
        location = str(tmp_path / "s.db")
    else:
        location = request.getfixturevalue("postgres_url")
    models.open_store(location)
    yield location
    models.database.close()


@pytest.fixture
def dispatch(db: str) -> Iterator[Callable[..., WebhookDispatcher]]:
    """Start a dispatcher with fast timings; every one started is stopped at the end."""
    started: list[WebhookDispatcher] = []

    def make(urls: list[str], **knobs) -> WebhookDispatcher:
        timings = {
            "poll_interval": 0.05,
            "backoff_base": 0.05,
            "backoff_cap": 0.2,
            "timeout": (1.0, 2.0),
            **knobs,
        }
        dispatcher = WebhookDispatcher(urls, KEY, **timings)
        dispatcher.start()
        started.append(dispatcher)
        return dispatcher

    yield make
    for dispatcher in started:
        dispatcher.stop()


def new_job(client: str = "Acme") -> int:
    owner = models.get_or_create_client(client)
    return job_state.create(owner, "http://127.0.0.1:9/docs/", mode="local").id


def start(job_id: int) -> None:
    assert job_state.start(job_id, pid=os.getpid(), process_started_at=1.0, node="here").applied


def finish(job_id: int, status: str = COMPLETED, reason: str = "closespider_pagecount") -> None:
    models.Job.update(pages=3).where(models.Job.id == job_id).execute()
    assert job_state.finish(job_id, Outcome(status, reason)).applied


def events_of(job_id: int) -> list[str]:
    query = (
        models.JobEvent.select().where(models.JobEvent.job == job_id).order_by(models.JobEvent.id)
    )
    return [event.event for event in query]


def delivered() -> int:
    """How many deliveries the store records as delivered."""
    return (
        models.WebhookDelivery.select()
        .where(models.WebhookDelivery.state == models.DELIVERED)
        .count()
    )


def check_signed(request: Received) -> None:
    """The request is signed with KEY as the README says a receiver checks it."""
    signature = request.headers[SIGNATURE_HEADER]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", signature)
    assert webhooks.verify(KEY, request.body, signature)
    assert signature.startswith(f"t={request.headers[TIMESTAMP_HEADER]},")
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers[EVENT_HEADER] == request.event
    assert request.headers[DELIVERY_HEADER].isdigit()


# --- signing -------------------------------------------------------------------------------------


def test_a_signature_verifies_and_a_tampered_body_or_old_timestamp_does_not() -> None:
    body = b'{"event":"job.completed"}'
    now = 1_800_000_000
    header = webhooks.sign(KEY, body, now)
    assert header.startswith(f"t={now},v1=")
    assert webhooks.verify(KEY, body, header, now=now)
    assert webhooks.verify(KEY.decode(), body, header, now=now + 299)  # the key as text too
    assert not webhooks.verify(KEY, body + b" ", header, now=now)  # tampered body
    assert not webhooks.verify(b"another key", body, header, now=now)
    assert not webhooks.verify(KEY, body, header, now=now + 301)  # replayed later
    assert not webhooks.verify(KEY, body, header, now=now - 301)  # from the future
    assert not webhooks.verify(KEY, body, header.replace(f"t={now}", f"t={now + 5}"), now=now)
    assert webhooks.verify(KEY, body, header, tolerance=10_000, now=now + 5_000)
    for broken in ("", None, "v1=abc", f"t={now}", "t=soon,v1=00", "garbage", f"t={now},v1=é"):
        assert not webhooks.verify(KEY, body, broken, now=now)
    # A header may carry several signatures (a key being rotated): one good one will do.
    rotated = f"t={now},v1={'0' * 64},{header.split(',')[1]}"
    assert webhooks.verify(KEY, body, rotated, now=now)


# --- deliveries ----------------------------------------------------------------------------------


def test_each_transition_is_delivered_once_signed_with_the_job_object(
    receiver: Receiver, dispatch
) -> None:
    dispatch([f"{receiver.url}/hook"])
    job_id = new_job()
    start(job_id)
    finish(job_id)
    wait_for(lambda: delivered() == 2)  # recorded once the receiver answered

    started, completed = receiver.at("/hook")
    for request in (started, completed):
        check_signed(request)
    assert [started.event, completed.event] == ["job.started", "job.completed"]
    body = completed.json()
    assert set(body) == {"id", "event", "job", "sent_at"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["sent_at"])
    # The job object is the `status --json` object as the transition left it.
    assert started.json()["job"]["status"] == "running"
    assert body["job"]["status"] == "completed"
    assert body["job"] == jobs.job_details(jobs.get_job(job_id))
    assert body["job"]["id"] == job_id and body["job"]["client"] == "acme"
    event = models.JobEvent.get_by_id(body["id"])
    assert (event.job_id, event.event) == (job_id, "job.completed")
    assert len({request.headers[DELIVERY_HEADER] for request in (started, completed)}) == 2

    delivery = models.WebhookDelivery.get(models.WebhookDelivery.event == body["id"])
    assert (delivery.state, delivery.attempts) == ("delivered", 1)
    attempt = delivery.attempt_log.get()
    assert (attempt.status_code, attempt.error) == (200, None)


def test_every_run_has_exactly_one_terminal_event(receiver: Receiver, dispatch) -> None:
    dispatch([f"{receiver.url}/hook"])
    failed_then_resumed = new_job()
    start(failed_then_resumed)
    finish(failed_then_resumed, FAILED, "its process is gone")
    assert job_state.finish(failed_then_resumed, Outcome(CANCELLED, "late")).applied is False
    assert job_state.resume(failed_then_resumed, mode="local").applied
    start(failed_then_resumed)
    finish(failed_then_resumed)

    cancelled = new_job()
    start(cancelled)
    assert job_state.request_cancel(cancelled).applied
    finish(cancelled, CANCELLED, "shutdown")

    forced = new_job()
    start(forced)
    assert job_state.force_cancel(forced, "forced").applied
    assert not job_state.finish(forced, Outcome(COMPLETED, "finished")).applied  # the crawl's own

    never_ran = new_job()
    finish(never_ran, CANCELLED, "cancelled while queued")

    expected = {
        failed_then_resumed: [
            "job.started", "job.failed", "job.resumed", "job.started", "job.completed"
        ],
        cancelled: ["job.started", "job.cancelled"],
        forced: ["job.started", "job.cancelled"],
        never_ran: ["job.cancelled"],
    }  # fmt: skip
    total = sum(len(names) for names in expected.values())
    wait_for(lambda: len(receiver.at("/hook")) >= total)
    for job_id, names in expected.items():
        sent = [r for r in receiver.at("/hook") if r.json()["job"]["id"] == job_id]
        assert [request.event for request in sent] == names, job_id
        for request in sent:
            check_signed(request)
            status = request.json()["job"]["status"]
            expected_status = {"job.started": "running", "job.resumed": "pending"}
            assert status == expected_status.get(request.event, request.event[len("job.") :])
    assert len(receiver.at("/hook")) == total


def test_force_cancelling_a_finished_job_raises_no_second_terminal_event(
    receiver: Receiver, dispatch
) -> None:
    dispatch([f"{receiver.url}/hook"])
    job_id = new_job()
    start(job_id)
    finish(job_id)
    assert job_state.force_cancel(job_id, "marked by hand").applied
    assert models.Job.get_by_id(job_id).status == CANCELLED
    sentinel = new_job("Later")
    start(sentinel)  # delivered after anything job_id raised: deliveries go in event order

    wait_for(lambda: any(r.json()["job"]["id"] == sentinel for r in receiver.at("/hook")))
    assert events_of(job_id) == ["job.started", "job.completed"]
    of_job = [r.event for r in receiver.at("/hook") if r.json()["job"]["id"] == job_id]
    assert of_job == ["job.started", "job.completed"]


def test_a_delivery_answered_500_is_retried_with_every_attempt_recorded(
    receiver: Receiver, dispatch
) -> None:
    receiver.fail_first = 2
    dispatch([f"{receiver.url}/hook"])
    job_id = new_job()
    start(job_id)

    delivery = wait_for(
        lambda: models.WebhookDelivery.get_or_none(models.WebhookDelivery.state == "delivered")
    )
    requests_sent = receiver.at("/hook")
    assert len(requests_sent) == 3
    assert {request.headers[DELIVERY_HEADER] for request in requests_sent} == {str(delivery.id)}
    for request in requests_sent:
        check_signed(request)  # each attempt signed anew (its own timestamp and sent_at)
    assert delivery.attempts == 3
    attempts = list(delivery.attempt_log.order_by(models.DeliveryAttempt.id))
    assert [attempt.status_code for attempt in attempts] == [500, 500, 200]
    # Backed off: the second retry waited at least twice the first's base delay.
    first, second, third = (attempt.attempted_at for attempt in attempts)
    assert (second - first).total_seconds() >= 0.05
    assert (third - second).total_seconds() >= 0.1


def test_a_delivery_is_given_up_after_max_attempts(receiver: Receiver, dispatch) -> None:
    receiver.fail_first = 1_000
    receiver.fail_status = 503
    dispatch([f"{receiver.url}/hook"], max_attempts=3)
    start(new_job())

    delivery = wait_for(
        lambda: models.WebhookDelivery.get_or_none(models.WebhookDelivery.state == "gave_up")
    )
    assert delivery.attempts == 3
    assert [a.status_code for a in delivery.attempt_log] == [503, 503, 503]
    assert len(receiver.at("/hook")) == 3


def test_an_unreachable_receiver_is_recorded_as_an_error_and_retried(dispatch) -> None:
    from support import free_port

    dispatch([f"http://127.0.0.1:{free_port()}/hook"], max_attempts=2)
    start(new_job())
    delivery = wait_for(
        lambda: models.WebhookDelivery.get_or_none(models.WebhookDelivery.state == "gave_up")
    )
    errors = [attempt.error for attempt in delivery.attempt_log]
    assert len(errors) == 2
    assert all(error.startswith("could not connect (") for error in errors), errors
    assert all("refused" in error.lower() for error in errors), errors


def test_events_raised_while_no_server_ran_are_delivered_when_it_starts_again(
    receiver: Receiver, dispatch
) -> None:
    url = f"{receiver.url}/hook"
    before_configured = new_job()
    start(before_configured)  # raised before the webhook existed: not its event

    first = dispatch([url])
    webhook = models.Webhook.get(models.Webhook.url == url)
    first.stop()
    assert not first.running

    while_down = new_job()
    start(while_down)
    finish(while_down, FAILED, "its process is gone")
    assert receiver.at("/hook") == []

    dispatch([url])  # the server starts again
    wait_for(lambda: len(receiver.at("/hook")) >= 2)
    assert receiver.events() == ["job.started", "job.failed"]
    assert {r.json()["job"]["id"] for r in receiver.at("/hook")} == {while_down}
    again = models.Webhook.get(models.Webhook.url == url)
    assert (again.id, again.created_at) == (webhook.id, webhook.created_at)  # kept


def test_a_server_delivers_only_to_the_webhooks_it_was_given(receiver: Receiver, dispatch) -> None:
    first = dispatch([f"{receiver.url}/a"])
    first.stop()
    dispatch([f"{receiver.url}/b"])
    job_id = new_job()
    start(job_id)
    wait_for(lambda: receiver.at("/b"))
    finish(job_id)
    wait_for(lambda: delivered() == 2)  # recorded once the receiver answered
    assert len(receiver.at("/b")) == 2 and receiver.at("/a") == []
    by_url = {hook["url"]: hook for hook in webhooks.list_webhooks()}
    assert by_url[f"{receiver.url}/b"]["delivered"] == 2
    assert by_url[f"{receiver.url}/a"]["delivered"] == 0

    dispatch([f"{receiver.url}/a"])  # a server given /a again catches it up
    wait_for(lambda: len(receiver.at("/a")) == 2)
    assert receiver.events("/a") == ["job.started", "job.completed"]


def test_a_clients_webhook_gets_only_that_clients_events(receiver: Receiver, dispatch) -> None:
    models.get_or_create_client("Acme")
    models.get_or_create_client("Other")
    dispatch([f"{receiver.url}/all"])
    # Added while the server runs (as `docscrawl webhook add` does): its next round sees it.
    hook, created = webhooks.add_webhook(f"{receiver.url}/acme", "acme")
    assert created and hook.client.slug == "acme"
    assert webhooks.add_webhook(f"{receiver.url}/acme", "acme") == (hook, False)

    acme, other = new_job("Acme"), new_job("Other")
    start(other)
    start(acme)
    finish(other)
    finish(acme, FAILED, "it broke")
    wait_for(lambda: len(receiver.at("/all")) == 4 and len(receiver.at("/acme")) == 2)
    assert {r.json()["job"]["id"] for r in receiver.at("/acme")} == {acme}
    assert receiver.events("/acme") == ["job.started", "job.failed"]
    assert {r.json()["job"]["id"] for r in receiver.at("/all")} == {acme, other}
    for request in receiver.at("/acme"):
        check_signed(request)

    assert webhooks.remove_webhook(f"{receiver.url}/acme", "acme") == 2
    assert models.Webhook.select().where(models.Webhook.client.is_null(False)).count() == 0


def test_two_servers_on_one_store_send_each_delivery_once(receiver: Receiver, dispatch) -> None:
    url = f"{receiver.url}/hook"
    dispatch([url])
    dispatch([url])  # a second server on the same store, given the same URL
    assert models.Webhook.select().count() == 1
    for job_id in [new_job() for _ in range(5)]:
        start(job_id)
        finish(job_id)
    wait_for(lambda: delivered() == 10)
    sent = [request.headers[DELIVERY_HEADER] for request in receiver.at("/hook")]
    assert len(sent) == len(set(sent)) == 10  # each claimed by one of them
    assert models.DeliveryAttempt.select().count() == 10


def test_a_hanging_receiver_does_not_hold_up_the_other_webhooks(
    receiver: Receiver, dispatch
) -> None:
    receiver.hang_paths.add("/slow")
    dispatch([f"{receiver.url}/slow", f"{receiver.url}/fast"], timeout=(1.0, 0.5))
    began = time.monotonic()
    job_id = new_job()
    start(job_id)
    finish(job_id)
    wait_for(lambda: len(receiver.at("/fast")) == 2, timeout=5)
    assert time.monotonic() - began < 5
    slow = models.Webhook.get(models.Webhook.url == f"{receiver.url}/slow")
    attempt = wait_for(
        lambda: (
            models.DeliveryAttempt.select()
            .join(models.WebhookDelivery)
            .where(models.WebhookDelivery.webhook == slow.id)
            .first()
        )
    )
    assert attempt.status_code is None and attempt.error == "no answer within 0.5 s"


def test_stop_ends_the_dispatcher_promptly(dispatch) -> None:
    dispatcher = dispatch([], poll_interval=30)
    began = time.monotonic()
    dispatcher.stop()
    assert not dispatcher.running
    assert time.monotonic() - began < 2
    assert "test-signing-key" not in repr(dispatcher)


def test_a_webhook_url_must_be_http(db: str) -> None:
    with pytest.raises(webhooks.InvalidRequest, match="is not an absolute http"):
        WebhookDispatcher(["ftp://example.com/hook"], KEY)
    with pytest.raises(webhooks.InvalidRequest, match="There is no client 'nobody'"):
        webhooks.add_webhook("http://127.0.0.1:9/hook", "nobody")


# --- the key -------------------------------------------------------------------------------------


def test_the_key_comes_from_the_file_the_environment_or_the_store(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(webhooks.SECRET_VARIABLE, raising=False)
    key, said = webhooks.resolve_secret(None)
    assert re.fullmatch(rb"[0-9a-f]{64}", key)
    assert "generated" in said and "`docscrawl webhook secret`" in said
    assert key.decode() not in said
    assert models.StoreMeta.get_by_id("webhook_secret").value == key.decode()
    again, said_again = webhooks.resolve_secret(None)
    assert again == key and "generated" not in said_again  # kept across restarts

    monkeypatch.setenv(webhooks.SECRET_VARIABLE, "from-the-environment")
    assert webhooks.resolve_secret(None) == (
        b"from-the-environment",
        "Webhooks are signed with the key in DOCSCRAWL_WEBHOOK_SECRET.",
    )
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    key, said = webhooks.resolve_secret(str(secret_file))
    assert key == b"from-a-file" and "from-a-file" not in said and str(secret_file) in said

    secret_file.write_text("\n")
    with pytest.raises(webhooks.WebhookSecretUnavailable, match="is empty"):
        webhooks.resolve_secret(str(secret_file))
    with pytest.raises(webhooks.WebhookSecretUnavailable, match="cannot be read"):
        webhooks.resolve_secret(str(tmp_path / "missing"))


# --- the CLI -------------------------------------------------------------------------------------


def _in_store(path: Path, work: Callable[[], object]) -> object:
    models.open_store(str(path))
    try:
        return work()
    finally:
        models.database.close()


def _one_sentence(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_cli_add_list_remove(cli, store) -> None:
    result = cli("webhook", "add", "http://127.0.0.1:9/hook", "--client", "acme")
    assert result.returncode == 1
    assert _one_sentence(result.stderr) == (
        "Error: There is no client 'acme'; `docscrawl list --json` shows each job's client slug."
    )
    _in_store(store.path, lambda: models.get_or_create_client("Acme"))

    result = cli("webhook", "add", "not a url", "--client", "acme")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "'not a url' is not an absolute http(s) URL for a webhook" in result.stderr

    result = cli("webhook", "add", "http://127.0.0.1:9/hook", "--client", "acme")
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout == "Webhook 1: http://127.0.0.1:9/hook receives the events of acme's jobs.\n"
    )
    result = cli("webhook", "add", "http://127.0.0.1:9/hook", "--client", "acme")
    assert result.returncode == 0 and "already receives" in result.stdout

    result = cli("webhook", "list")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header.split() == ["ID", "Client", "URL", "Delivered", "Pending", "Gave", "up", "Since"]
    assert row.split()[:6] == ["1", "acme", "http://127.0.0.1:9/hook", "0", "0", "0"]
    listed = cli("webhook", "list", "--json").json()
    assert [(h["url"], h["client"], h["scope"], h["pending"]) for h in listed] == [
        ("http://127.0.0.1:9/hook", "acme", "client", 0)
    ]

    result = cli("webhook", "remove", "http://127.0.0.1:9/hook", "--client", "acme")
    assert result.returncode == 0, result.stderr
    assert "Removed the webhook http://127.0.0.1:9/hook for acme's jobs" in result.stdout
    result = cli("webhook", "remove", "http://127.0.0.1:9/hook", "--client", "acme")
    assert result.returncode == 1
    assert _one_sentence(result.stderr) == (
        "Error: http://127.0.0.1:9/hook is not client 'acme''s webhook; "
        "`docscrawl webhook list` shows them."
    )
    result = cli("webhook", "list")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "No webhooks.\n")


def test_cli_secret(cli, store) -> None:
    result = cli("webhook", "secret")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert "generated" in result.stderr
    again = cli("webhook", "secret")
    assert again.stdout.strip() == key and "generated" not in again.stderr
    assert store.value("SELECT value FROM store_meta WHERE key = 'webhook_secret'") == key

    from_env = cli("webhook", "secret", env={"DOCSCRAWL_WEBHOOK_SECRET": "shh"})
    assert from_env.returncode == 0 and from_env.stdout == ""
    assert "DOCSCRAWL_WEBHOOK_SECRET" in from_env.stderr and "shh" not in from_env.stderr


def test_cli_deliveries(cli, store, receiver: Receiver) -> None:
    receiver.fail_first = 1

    def deliver() -> tuple[int, int]:
        dispatcher = WebhookDispatcher(
            [f"{receiver.url}/hook"], KEY, poll_interval=0.05, backoff_base=0.05
        )
        dispatcher.start()
        try:
            job_id = new_job()
            start(job_id)
            finish(job_id, FAILED, "it broke")
            other = new_job("Other")
            start(other)
            wait_for(lambda: delivered() == 3)
        finally:
            dispatcher.stop()
        return job_id, other

    job_id, other = _in_store(store.path, deliver)
    result = cli("webhook", "deliveries", "--json", "--job", str(job_id))
    assert result.returncode == 0, result.stderr
    log = result.json()
    assert [(d["event"], d["job"], d["state"]) for d in log] == [
        ("job.failed", job_id, "delivered"),
        ("job.started", job_id, "delivered"),
    ]
    first = log[-1]
    assert (first["attempts"], first["last_status"], first["last_error"]) == (2, 200, None)
    assert first["url"] == f"{receiver.url}/hook" and first["client"] is None

    result = cli("webhook", "deliveries", "--limit", "1")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header.split() == ["ID", "Event", "Job", "URL", "State", "Attempts", "Last"]
    assert row.split()[1:] == [
        "job.started", str(other), f"{receiver.url}/hook", "delivered", "1", "HTTP", "200"
    ]  # fmt: skip

    result = cli("webhook", "deliveries", "--job", "99")
    assert result.returncode == 1
    assert _one_sentence(result.stderr) == (
        "Error: There is no job 99; `docscrawl list` shows the jobs."
    )
    result = cli("webhook", "deliveries", "--limit", "0")
    assert result.returncode == 2 and "Traceback" not in result.stderr


# --- through `docscrawl serve` -------------------------------------------------------------------


def test_docscrawl_serve_delivers_signed_events_and_catches_up_after_a_restart(
    server_factory, store, receiver: Receiver
) -> None:
    import psutil

    from control import processes

    url = f"{receiver.url}/hook"
    env = {"DOCSCRAWL_WEBHOOK_SECRET": KEY.decode()}
    server = server_factory("--webhook", url, env=env)
    assert "signed with the key in DOCSCRAWL_WEBHOOK_SECRET" in server.log()
    assert KEY.decode() not in server.log()

    def started() -> int:
        # A foreground crawl's job, owned by this test's process: alive to the server's reconcile.
        job = jobs.create_job("http://127.0.0.1:9/docs/", "Acme")
        me = psutil.Process()
        job_state.start(job.id, pid=me.pid, process_started_at=me.create_time(),
                        node=processes.this_host())  # fmt: skip
        return job.id

    job_id = _in_store(store.path, started)
    wait_for(lambda: receiver.events() == ["job.started"])
    server.stop()

    _in_store(store.path, lambda: finish(job_id))  # while no server runs
    server_factory("--webhook", url, env=env)
    wait_for(lambda: receiver.events() == ["job.started", "job.completed"])
    for request in receiver.at("/hook"):
        check_signed(request)
        assert request.json()["job"]["id"] == job_id
    assert receiver.at("/hook")[-1].json()["job"]["status"] == "completed"
