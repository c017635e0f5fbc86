"""Signed webhook deliveries from the job-event outbox.

``docscrawl.job_state`` writes a ``JobEvent`` in the transaction of every transition a user
cares about. The server's ``WebhookDispatcher`` turns each event into one ``WebhookDelivery``
per webhook in force (the server's ``--webhook`` URLs and every client's webhooks), POSTs it
signed, records each attempt, and retries a failed one with backoff. Because the outbox and the
deliveries live in the store, an event raised while no server runs is delivered when one starts
again: a webhook receives every event raised since it was first configured.

Delivery is at least once: a receiver deduplicates on the ``X-Docscrawl-Delivery`` header.

A body is signed as Stripe signs its webhooks: the header ``X-Docscrawl-Signature`` carries
``t=<unix time>,v1=<hex HMAC-SHA256 of "<unix time>." + body>``, so a receiver can tell a
forged body (the HMAC) and a replayed one (the time) apart; ``verify`` checks both.

This module knows neither FastAPI nor click: the server and the CLI both import it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import peewee
import requests

from control import jobs, validation
from control.exceptions import DocscrawlError, InvalidRequest, UnknownJob
from docscrawl import job_state, models
from docscrawl.models import (
    DELIVERED,
    GAVE_UP,
    PENDING_DELIVERY,
    Client,
    DeliveryAttempt,
    Job,
    JobEvent,
    StoreMeta,
    Webhook,
    WebhookDelivery,
)
from docscrawl.redact import mask_credentials

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Docscrawl-Signature"
TIMESTAMP_HEADER = "X-Docscrawl-Timestamp"
EVENT_HEADER = "X-Docscrawl-Event"
DELIVERY_HEADER = "X-Docscrawl-Delivery"

SECRET_VARIABLE = "DOCSCRAWL_WEBHOOK_SECRET"
SECRET_KEY = "webhook_secret"  # its StoreMeta key, when the server keeps the key in the store
SIGNATURE_VERSION = "v1"
DELIVERY_STATES = (PENDING_DELIVERY, DELIVERED, GAVE_UP)
JOB_OBJECTS_KEPT = 256  # the dispatcher's cache of events' job objects


class WebhookSecretUnavailable(DocscrawlError):
    """The webhook signing key cannot be read from where it was said to be."""


class UnknownWebhook(DocscrawlError):
    """No webhook has this URL (for this client)."""


# --- signing -------------------------------------------------------------------------------------


def _key_bytes(key: bytes | str) -> bytes:
    return key.encode() if isinstance(key, str) else key


def _digest(key: bytes | str, body: bytes, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(_key_bytes(key), signed, hashlib.sha256).hexdigest()


def sign(key: bytes | str, body: bytes, timestamp: int) -> str:
    """The signature header's value for body sent at timestamp: ``t=<ts>,v1=<hex>``."""
    return f"t={timestamp},{SIGNATURE_VERSION}={_digest(key, body, timestamp)}"


def verify(
    key: bytes | str,
    body: bytes,
    header_value: str | None,
    tolerance: float = 300,
    now: float | None = None,
) -> bool:
    """True if header_value signs body with key, at a time within tolerance seconds of now.

    What a receiver runs on the raw request body, before parsing it. An old (or far future)
    timestamp fails, so a captured request cannot be replayed later.
    """
    if not header_value:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header_value.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif name == SIGNATURE_VERSION:
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = _digest(key, body, timestamp).encode()
    # Every candidate compared, in constant time each: a header may carry several signatures.
    # As bytes: compare_digest refuses a str with non-ASCII characters (a forged header's).
    return any(
        [hmac.compare_digest(expected, value.encode("utf-8", "replace")) for value in candidates]
    )


# --- the key -------------------------------------------------------------------------------------


def resolve_secret(secret_file: str | None) -> tuple[bytes, str]:
    """The webhook signing key, and a sentence saying where it comes from (never the key).

    ``--webhook-secret-file`` when given (an option wins over the environment, as ``--db``
    wins over DOCSCRAWL_DB), else DOCSCRAWL_WEBHOOK_SECRET, else a key kept in the store,
    generated the first time.
    """
    if secret_file:
        return _read_secret_file(secret_file), f"Webhooks are signed with the key in {secret_file}."
    from_env = os.environ.get(SECRET_VARIABLE)
    if from_env:
        return os.fsencode(from_env), f"Webhooks are signed with the key in {SECRET_VARIABLE}."
    key, created = stored_secret()
    how = "a new key, generated and kept" if created else "the key kept"
    return key.encode(), (
        f"Webhooks are signed with {how} in the store; run `docscrawl webhook secret` to read it."
    )


def _read_secret_file(path: str) -> bytes:
    try:
        with open(os.path.expanduser(path), "rb") as file:
            key = file.read().strip()
    except OSError as exc:
        raise WebhookSecretUnavailable(
            f"The webhook secret file {path} cannot be read ({exc.strerror or exc}); give a "
            "readable file holding the key."
        ) from exc
    if not key:
        raise WebhookSecretUnavailable(
            f"The webhook secret file {path} is empty; write the key into it."
        )
    return key


def stored_secret() -> tuple[str, bool]:
    """The key kept in the store, generated the first time; and whether it was just made."""
    row = StoreMeta.get_or_none(StoreMeta.key == SECRET_KEY)
    if row is not None:
        return row.value, False
    with models.write_transaction():
        row = StoreMeta.get_or_none(StoreMeta.key == SECRET_KEY)
        if row is not None:  # another process made it meanwhile
            return row.value, False
        value = secrets.token_hex(32)
        StoreMeta.create(key=SECRET_KEY, value=value)
    return value, True


def secret_from_environment() -> bool:
    """True when DOCSCRAWL_WEBHOOK_SECRET is set (the server then signs with it)."""
    return bool(os.environ.get(SECRET_VARIABLE))


# --- bodies --------------------------------------------------------------------------------------


def body_for(
    event: JobEvent, sent_at: dt.datetime | None = None, job: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON body of an event: its id and name, the job as it left it (the `status --json`
    object; ``job`` when it is already built), and when it is sent."""
    return {
        "id": event.id,
        "event": event.event,
        "job": job if job is not None else job_object(event),
        "sent_at": jobs.iso(sent_at or models.utcnow()),
    }


def job_object(event: JobEvent) -> dict[str, Any]:
    """The `status --json` object of the job as the event's transition left it."""
    return jobs.job_details(job_state.from_snapshot(event.snapshot))


def encode_body(body: dict[str, Any]) -> bytes:
    """The bytes that are sent and signed."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


# --- the dispatcher ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """A webhook in force: where its deliveries go."""

    id: int
    url: str


class WebhookDispatcher:
    """Delivers the outbox's events to the webhooks in force, from a daemon thread.

    The webhooks in force are the server's URLs (recorded as Webhook rows with no client when
    it starts) and every client's webhooks. A stored webhook for every job whose URL this
    server was not given keeps its deliveries pending until a server is given it again.

    Each round: create the deliveries of new events, then hand each webhook's due deliveries
    to a thread of its own, so a receiver that hangs holds up only its own deliveries. A
    delivery is claimed (its next attempt moved past the request's timeout) before it is sent,
    so two servers on one store, or a restart mid-request, do not send it twice at once.
    """

    def __init__(
        self,
        urls: Iterable[str],
        key: bytes,
        *,
        poll_interval: float = 0.5,
        backoff_base: float = 1.0,
        backoff_cap: float = 300.0,
        max_attempts: int = 10,
        timeout: tuple[float, float] = (3.0, 10.0),
        batch_size: int = 20,
        max_workers: int = 8,
    ) -> None:
        self.urls = list(dict.fromkeys(check_url(url) for url in urls))
        self._key = key
        self.poll_interval = poll_interval
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.batch_size = batch_size
        self.max_workers = max_workers
        # How long a claimed delivery is left to its sender before another may take it.
        self.lease = dt.timedelta(seconds=sum(timeout) + 5)
        self._server_webhooks: list[int] = []
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._workers: dict[int, threading.Thread] = {}  # webhook id -> its sender
        self._lock = threading.Lock()
        # Per webhook, the last event id whose delivery exists: each round looks past it only.
        # Event ids grow with commit order, as writers hold the store's write lock (and no
        # event is deleted but with its job, whose id SQLite could then hand out again: each
        # start looks at every event since the webhook was configured, with NOT EXISTS).
        self._seen: dict[int, int] = {}
        self._store: tuple[type, str] | None = None  # the store it delivers from
        self._jobs: OrderedDict[int, dict[str, Any]] = OrderedDict()  # event id -> job object

    def __repr__(self) -> str:  # never the key
        return f"<WebhookDispatcher {len(self.urls)} server webhook(s)>"

    # -- life cycle

    def start(self) -> None:
        """Record the server's webhooks, then deliver from a daemon thread until stop()."""
        if self._thread is not None:
            raise RuntimeError("the dispatcher is already started")
        self._store = _store_identity()
        self._server_webhooks = record_server_webhooks(self.urls)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="docscrawl-webhooks", daemon=True)
        self._thread.start()

    def stop(self, wait: float = 2.0) -> None:
        """Stop delivering. Senders stop between deliveries; one still waiting on a receiver
        after ``wait`` seconds is left to finish in its daemon thread (its delivery is claimed,
        and retried once the claim runs out if the process ends first)."""
        self._stopping.set()
        deadline = time.monotonic() + wait
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))
            self._thread = None
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    self.deliver_round()
                except Exception:  # a store hiccup must not end deliveries for good
                    logger.exception("Webhook deliveries: a round failed; trying again")
                self._stopping.wait(self.poll_interval)
        finally:
            self._close_connection()

    def _same_store(self) -> bool:
        # The models are bound through a proxy that a later open_store rebinds: to the same
        # store (fine, deliver on), or in tests to another test's, which a late attempt must
        # not write into.
        return _store_identity() == self._store

    def _close_connection(self) -> None:
        # peewee keeps one connection per thread: close this thread's.
        with contextlib.suppress(Exception):
            models.database.close()

    # -- one round

    def deliver_round(self) -> None:
        """Create the deliveries of new events and start sending the due ones."""
        targets = self._targets()
        if not targets:
            return
        self._fan_out(targets)
        self._send_due(targets)

    def _targets(self) -> dict[int, _Target]:
        rows = Webhook.select(Webhook.id, Webhook.url).where(
            (Webhook.id << self._server_webhooks) | Webhook.client.is_null(False)
        )
        return {row.id: _Target(row.id, row.url) for row in rows}

    def _fan_out(self, targets: dict[int, _Target]) -> None:
        """One delivery per webhook in force for every event raised since it was configured."""
        top = JobEvent.select(peewee.fn.MAX(JobEvent.id)).scalar() or 0
        behind = [webhook_id for webhook_id in targets if self._seen.get(webhook_id, 0) < top]
        if not behind:
            return  # nothing new: no write transaction, so no wait on the crawls' writes
        with models.write_transaction():
            top = JobEvent.select(peewee.fn.MAX(JobEvent.id)).scalar() or 0
            for webhook in list(Webhook.select().where(Webhook.id << behind)):
                create_deliveries(webhook, after=self._seen.get(webhook.id, 0), upto=top)
        for webhook_id in behind:
            self._seen[webhook_id] = top

    def _send_due(self, targets: dict[int, _Target]) -> None:
        with self._lock:
            idle = [webhook_id for webhook_id in targets if webhook_id not in self._workers]
            room = self.max_workers - len(self._workers)
        if not idle or room <= 0:
            return
        now = models.utcnow()
        batches: dict[int, list[int]] = {}
        for webhook_id in idle:
            # One query per webhook, so a long backlog at one cannot crowd the others out.
            due = (
                WebhookDelivery.select(WebhookDelivery.id)
                .where(
                    (WebhookDelivery.webhook == webhook_id)
                    & (WebhookDelivery.state == PENDING_DELIVERY)
                    & (WebhookDelivery.next_attempt_at <= now)
                )
                .order_by(WebhookDelivery.event, WebhookDelivery.id)
                .limit(self.batch_size)
                .tuples()
            )
            batch = [delivery_id for (delivery_id,) in due]
            if batch:
                batches[webhook_id] = batch
        for webhook_id, batch in list(batches.items())[:room]:
            worker = threading.Thread(
                target=self._send_batch,
                args=(targets[webhook_id], batch),
                name=f"docscrawl-webhook-{webhook_id}",
                daemon=True,
            )
            with self._lock:
                self._workers[webhook_id] = worker
            worker.start()

    def _send_batch(self, target: _Target, delivery_ids: list[int]) -> None:
        """Send a webhook's due deliveries in order; stop at the first failure (the receiver
        is likely down: the rest wait for the next round rather than each wait a timeout)."""
        try:
            with requests.Session() as http:
                for delivery_id in delivery_ids:
                    if self._stopping.is_set() or not self._same_store():
                        return
                    if not self._claim(delivery_id):
                        continue
                    if not self._attempt(http, target, delivery_id):
                        return
        except Exception:
            logger.exception("Webhook deliveries to %s failed", mask_credentials(target.url))
        finally:
            self._close_connection()
            with self._lock:
                self._workers.pop(target.id, None)

    def _job_object(self, event: JobEvent) -> dict[str, Any]:
        # Built once per event, not per webhook and attempt: it counts the job's flagged pages,
        # a walk over all its pages. Every receiver (and every retry) gets the same object.
        with self._lock:
            cached = self._jobs.get(event.id)
        if cached is None:
            cached = job_object(event)
            with self._lock:
                self._jobs[event.id] = cached
                while len(self._jobs) > JOB_OBJECTS_KEPT:
                    self._jobs.popitem(last=False)
        return cached

    def _claim(self, delivery_id: int) -> bool:
        now = models.utcnow()
        with models.write_transaction():
            claimed = (
                WebhookDelivery.update(next_attempt_at=now + self.lease)
                .where(
                    (WebhookDelivery.id == delivery_id)
                    & (WebhookDelivery.state == PENDING_DELIVERY)
                    & (WebhookDelivery.next_attempt_at <= now)
                )
                .execute()
            )
        return bool(claimed)

    def _attempt(self, http: requests.Session, target: _Target, delivery_id: int) -> bool:
        """POST one delivery, record the attempt; True if the receiver took it."""
        delivery = (
            WebhookDelivery.select(WebhookDelivery, JobEvent)
            .join(JobEvent)
            .where(WebhookDelivery.id == delivery_id)
            .get_or_none()
        )
        if delivery is None:  # its webhook was removed meanwhile
            return True
        status_code: int | None = None
        error: str | None = None
        retry_after: float | None = None
        started = time.monotonic()
        try:
            timestamp = int(time.time())
            sent_at = dt.datetime.fromtimestamp(timestamp, dt.UTC).replace(tzinfo=None)
            body = encode_body(body_for(delivery.event, sent_at, self._job_object(delivery.event)))
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "docscrawl-webhooks",
                SIGNATURE_HEADER: sign(self._key, body, timestamp),
                TIMESTAMP_HEADER: str(timestamp),
                EVENT_HEADER: delivery.event.event,
                DELIVERY_HEADER: str(delivery.id),
            }
        except Exception as exc:  # a body that cannot be built is a failed attempt, retried
            logger.exception("Webhook delivery %s: could not build its body", delivery_id)
            error = f"the body could not be built ({models.first_line(exc)})"
        else:
            try:
                # stream: only the status line and headers are read; the receiver's body is
                # not ours to wait for. No redirects: a POST is not re-sent elsewhere.
                with http.post(
                    target.url,
                    data=body,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                ) as response:
                    status_code = response.status_code
                    retry_after = _retry_after(response.headers.get("Retry-After"))
            except requests.ConnectTimeout:
                error = f"no connection within {self.timeout[0]:g} s"
            except requests.Timeout:
                error = f"no answer within {self.timeout[1]:g} s"
            except requests.ConnectionError as exc:
                error = f"could not connect ({_reason(exc)})"
            except requests.RequestException as exc:
                error = f"the request failed ({_reason(exc)})"
        elapsed_ms = int((time.monotonic() - started) * 1000)
        delivered = status_code is not None and 200 <= status_code < 300
        if not self._same_store():
            return False
        self._record(delivery_id, status_code, error, elapsed_ms, delivered, retry_after)
        if not delivered:
            logger.info(
                "Webhook delivery %s to %s failed: %s", delivery_id,
                mask_credentials(target.url), error or f"answered {status_code}",
            )  # fmt: skip
        return delivered

    def _record(
        self,
        delivery_id: int,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
        delivered: bool,
        retry_after: float | None,
    ) -> None:
        now = models.utcnow()
        with models.write_transaction():
            delivery = WebhookDelivery.get_or_none(WebhookDelivery.id == delivery_id)
            if delivery is None:
                return
            DeliveryAttempt.create(
                delivery=delivery_id,
                attempted_at=now,
                status_code=status_code,
                error=error,
                duration_ms=duration_ms,
            )
            attempts = delivery.attempts + 1
            fields: dict[str, Any] = {"attempts": attempts}
            if delivered:
                fields.update(state=DELIVERED, delivered_at=now)
            elif attempts >= self.max_attempts:
                fields.update(state=GAVE_UP)
            else:
                delay = self.backoff(attempts)
                if retry_after is not None:
                    delay = min(self.backoff_cap, max(delay, retry_after))
                fields.update(next_attempt_at=now + dt.timedelta(seconds=delay))
            WebhookDelivery.update(**fields).where(WebhookDelivery.id == delivery_id).execute()

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the given number of failed attempts: doubling, capped."""
        return min(self.backoff_cap, self.backoff_base * 2 ** (attempts - 1))


def _store_identity() -> tuple[type, str]:
    db = models.database.obj
    return type(db), str(db.database)


def _retry_after(value: str | None) -> float | None:
    """A Retry-After header's delay in seconds (a number or an HTTP date), if it has one."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _reason(exc: BaseException) -> str:
    # requests nests the cause (urllib3's MaxRetryError holding the socket error): take the
    # innermost, whose words say what happened ("Connection refused").
    inner: BaseException = exc
    while True:
        nested = inner.args[0] if inner.args and isinstance(inner.args[0], BaseException) else None
        nested = nested or getattr(inner, "reason", None)
        if not isinstance(nested, BaseException) or nested is inner:
            break
        inner = nested
    text = models.first_line(inner)
    # urllib3 prefixes its connection object: "<urllib3.connection...>: Failed to establish..."
    return mask_credentials(text.split(">: ", 1)[-1])


# --- the store's webhooks ------------------------------------------------------------------------


def check_url(url: str) -> str:
    """A webhook URL if it is an absolute http(s) URL, else InvalidRequest in a sentence."""
    url = url.strip()
    if not validation.is_http_url(url):
        raise InvalidRequest(
            f"{mask_credentials(url)!r} is not an absolute http(s) URL for a webhook, "
            "e.g. https://hooks.example.com/docscrawl."
        )
    return url


def record_server_webhooks(urls: Iterable[str]) -> list[int]:
    """The ids of the server's webhooks (no client), recorded the first time each is given:
    a webhook's ``created_at`` is when it was first configured, kept across restarts."""
    ids = []
    with models.write_transaction():
        for url in urls:
            webhook = Webhook.get_or_none((Webhook.url == url) & Webhook.client.is_null())
            if webhook is None:
                webhook = Webhook.create(url=url, client=None)
            ids.append(webhook.id)
    return ids


def create_deliveries(webhook: Webhook, *, after: int = 0, upto: int | None = None) -> int:
    """In the caller's transaction: a pending delivery to webhook of every event raised since
    it was configured (a client's: of that client's jobs) that has none yet. One INSERT ...
    SELECT; ``after``/``upto`` bound the event ids looked at. Returns how many."""
    exists = WebhookDelivery.select(WebhookDelivery.id).where(
        (WebhookDelivery.event == JobEvent.id) & (WebhookDelivery.webhook == webhook.id)
    )
    events = JobEvent.select(
        JobEvent.id,
        peewee.Value(webhook.id),
        peewee.Value(PENDING_DELIVERY),
        peewee.Value(0),
        # Due since the event was raised: a column of the row, so no driver has to type a
        # parameter in a SELECT list.
        JobEvent.created_at,
    ).where(
        (JobEvent.id > after)
        & (JobEvent.created_at >= webhook.created_at)
        & ~peewee.fn.EXISTS(exists)
    )
    if upto is not None:
        events = events.where(JobEvent.id <= upto)
    if webhook.client_id is not None:
        events = events.join(Job, on=JobEvent.job == Job.id).where(Job.client == webhook.client_id)
    fields = [
        WebhookDelivery.event,
        WebhookDelivery.webhook,
        WebhookDelivery.state,
        WebhookDelivery.attempts,
        WebhookDelivery.next_attempt_at,
    ]
    return WebhookDelivery.insert_from(events, fields).as_rowcount().execute()


def _client(slug: str) -> Client:
    client = Client.get_or_none(Client.slug == slug)
    if client is None:
        raise InvalidRequest(
            f"There is no client {slug!r}; `docscrawl list --json` shows each job's client slug."
        )
    return client


def add_webhook(url: str, client_slug: str) -> tuple[Webhook, bool]:
    """A client's webhook for url, and whether it is new (a second add changes nothing)."""
    url = check_url(url)
    with models.write_transaction():
        client = _client(client_slug)
        webhook = Webhook.get_or_none((Webhook.url == url) & (Webhook.client == client.id))
        if webhook is not None:
            return webhook, False
        return Webhook.create(url=url, client=client.id), True


def remove_webhook(url: str, client_slug: str | None) -> int:
    """Remove a client's webhook (or with no client, a server's), with its delivery log.

    Returns how many deliveries went with it; UnknownWebhook if there is none.
    """
    with models.write_transaction():
        if client_slug is None:
            where = Webhook.client.is_null()
            whose = "a server's webhook (for every job)"
        else:
            where = Webhook.client == _client(client_slug).id
            whose = f"client {client_slug!r}'s webhook"
        webhook = Webhook.get_or_none((Webhook.url == url.strip()) & where)
        if webhook is None:
            raise UnknownWebhook(
                f"{mask_credentials(url)} is not {whose}; `docscrawl webhook list` shows them."
            )
        deliveries = WebhookDelivery.select().where(WebhookDelivery.webhook == webhook.id).count()
        # Its deliveries and their attempts go with it (ON DELETE CASCADE).
        webhook.delete_instance()
    return deliveries


def list_webhooks() -> list[dict[str, Any]]:
    """Every stored webhook, clients' first, with its deliveries counted by state."""
    counts: dict[int, dict[str, int]] = {}
    query = WebhookDelivery.select(
        WebhookDelivery.webhook, WebhookDelivery.state, peewee.fn.COUNT(WebhookDelivery.id)
    ).group_by(WebhookDelivery.webhook, WebhookDelivery.state)
    for webhook_id, state, count in query.tuples():
        counts.setdefault(webhook_id, dict.fromkeys(DELIVERY_STATES, 0))[state] = count
    rows = (
        Webhook.select(Webhook, Client)
        .join(Client, peewee.JOIN.LEFT_OUTER)
        .order_by(Webhook.client.is_null(), Client.slug, Webhook.url)
    )
    return [
        {
            "id": webhook.id,
            "url": mask_credentials(webhook.url),
            "client": webhook.client.slug if webhook.client_id else None,
            "scope": "client" if webhook.client_id else "server",
            "created_at": jobs.iso(webhook.created_at),
            **counts.get(webhook.id, dict.fromkeys(DELIVERY_STATES, 0)),
        }
        for webhook in rows
    ]


def delivery_log(job_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The latest deliveries, newest event first (of one job's events with job_id)."""
    if job_id is not None and not Job.select().where(Job.id == job_id).exists():
        raise UnknownJob(f"There is no job {job_id}; `docscrawl list` shows the jobs.")
    query = (
        WebhookDelivery.select(WebhookDelivery, JobEvent, Webhook, Client)
        .join(JobEvent)
        .switch(WebhookDelivery)
        .join(Webhook)
        .join(Client, peewee.JOIN.LEFT_OUTER)
        .order_by(JobEvent.id.desc(), WebhookDelivery.id.desc())
        .limit(limit)
    )
    if job_id is not None:
        query = query.where(JobEvent.job == job_id)
    deliveries = list(query)
    last: dict[int, DeliveryAttempt] = {}
    if deliveries:
        attempts = DeliveryAttempt.select().where(
            DeliveryAttempt.delivery << [delivery.id for delivery in deliveries]
        )
        for attempt in attempts.order_by(DeliveryAttempt.id):
            last[attempt.delivery_id] = attempt
    log = []
    for delivery in deliveries:
        attempt = last.get(delivery.id)
        log.append(
            {
                "id": delivery.id,
                "event_id": delivery.event.id,
                "event": delivery.event.event,
                "job": delivery.event.job_id,
                "url": mask_credentials(delivery.webhook.url),
                # The client whose webhook it is; None for a server's (every job's).
                "client": delivery.webhook.client.slug if delivery.webhook.client_id else None,
                "state": delivery.state,
                "attempts": delivery.attempts,
                "raised_at": jobs.iso(delivery.event.created_at),
                "next_attempt_at": (
                    jobs.iso(delivery.next_attempt_at)
                    if delivery.state == PENDING_DELIVERY
                    else None
                ),
                "delivered_at": jobs.iso(delivery.delivered_at),
                "last_attempt_at": jobs.iso(attempt.attempted_at) if attempt else None,
                "last_status": attempt.status_code if attempt else None,
                "last_error": attempt.error if attempt else None,
            }
        )
    return log
