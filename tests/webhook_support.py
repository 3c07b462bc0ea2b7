"""Test helpers for webhooks: event schemas, a signature-verifying receiver on 127.0.0.1, in-memory fakes."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from jsonschema import Draft202012Validator

from chalicelib.domain.directory import Structure
from chalicelib.domain.subscriptions import LAST_ERROR_CHARS
from chalicelib.domain.subscriptions_security import BadSignature, verify_signature
from chalicelib.services.subscriptions_ports import MailClaimRefused

SCHEMAS = Path(__file__).resolve().parents[1] / "chalicelib" / "schemas" / "events"
_validators: dict[str, Draft202012Validator] = {}


def validate_event(event: dict) -> None:
    """Every event a test sees goes through the JSON Schema of its type (jsonschema.ValidationError if not)."""
    kind = event.get("type")
    if kind not in _validators:
        schema = json.loads((SCHEMAS / f"{kind}.json").read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        _validators[kind] = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    _validators[kind].validate(event)


@dataclass
class Received:
    event: dict
    headers: dict
    at: float


class Receiver:
    """A webhook receiver as a customer would write it: verifies the signature, rejects replays, dedupes ids.

    mode: "ok" (204), "fail" (500), "timeout" (holds the request `sleep` seconds, past the sender's timeout, then
    204; leaving the `with` block ends the hold, without an answer). Leaving the block stops the server and joins
    every handler thread: none outlives the test.
    """

    def __init__(self, secret: str | None = None, mode: str = "ok", sleep: float = 6.0):
        self.secret = secret
        self.mode = mode
        self.sleep = sleep
        self.received: list[Received] = []  # verified deliveries, duplicates included
        self.refused: list[str] = []  # why deliveries were refused (bad signature…)
        self.attempts = 0
        self.lock = threading.Lock()
        self.closing = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10.0  # a client that stops sending cannot hold a handler thread (joined on exit) forever

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.attempts += 1
                    mode = receiver.mode
                if mode == "timeout" and receiver.closing.wait(receiver.sleep):
                    return  # the test is over: drop the request unanswered
                if mode == "fail":
                    self.send_response(500)
                    self.end_headers()
                    return
                try:
                    if receiver.secret is not None:
                        verify_signature(receiver.secret, self.headers.get("Chorale-Signature", ""), body, time.time())
                    event = json.loads(body)
                    validate_event(event)
                except (BadSignature, ValueError) as error:
                    with receiver.lock:
                        receiver.refused.append(str(error))
                    self.send_response(400)
                    self.end_headers()
                    return
                except Exception as error:  # schema violation
                    with receiver.lock:
                        receiver.refused.append(f"schema: {error}")
                    self.send_response(422)
                    self.end_headers()
                    return
                with receiver.lock:
                    receiver.received.append(Received(event, dict(self.headers), time.time()))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = False  # tracked, so that server_close() joins them
        self.server.block_on_close = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks/chorale"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()  # joins the handler threads
        self.thread.join()

    def events(self) -> dict[str, dict]:
        """Verified events by id (the receiver's dedupe)."""
        with self.lock:
            return {r.event["id"]: r.event for r in self.received}


# --- in-memory fakes for service tests -------------------------------------------------------


@dataclass
class FakeStructures:
    """The directory as notifications see it: every structure exists, active unless listed in `inactive`."""

    inactive: set = field(default_factory=set)
    batches: list = field(default_factory=list)  # the SIRETs of each batched read

    def structure(self, siret):
        return Structure(siret, siret, ("supplier", "recipient"), active=siret not in self.inactive)

    def structures(self, sirets, *, consistent=True):
        self.batches.append(list(sirets))
        return {siret: self.structure(siret) for siret in sirets}


@dataclass
class FakeStore:
    items: dict = field(default_factory=dict)
    mails: dict = field(default_factory=dict)  # (address, siret) → when its last confirmation mail was claimed
    mail_counts: dict = field(default_factory=dict)  # (address, UTC day number) → confirmation mails claimed
    unmailed: set = field(default_factory=set)  # (address, siret) noted while the address's day was full
    mail_claimers: dict = field(default_factory=dict)  # (address, siret) → the claim's claimed_by

    def add(self, s):  # as the DynamoDB store: written only if the id is free, else the stored one
        stored = self.items.setdefault((s.siret, s.id), s)
        return None if stored is s else stored

    def get(self, siret, subscription_id):
        return self.items.get((siret, subscription_id))

    def for_structure(self, siret):
        return [s for (owner, _), s in self.items.items() if owner == siret]

    def has_subscriptions(self, siret):
        return bool(self.for_structure(siret))

    def save(self, s):
        assert (s.siret, s.id) in self.items
        self.items[(s.siret, s.id)] = s

    def save_rotation(self, rotated, replaced_secret):  # as the DynamoDB store: the secret fields, if unchanged
        s = self.items.get((rotated.siret, rotated.id))
        if s is None or s.secret != replaced_secret:
            return False
        self.items[(s.siret, s.id)] = replace(s, secret=rotated.secret, previous_secret=rotated.previous_secret,
                                              previous_secret_expires=rotated.previous_secret_expires)  # fmt: skip
        return True

    def mark_failing(self, siret, subscription_id, at, error):  # as the DynamoDB store: keeps the first failure
        if s := self.items.get((siret, subscription_id)):
            self.items[(siret, subscription_id)] = replace(
                s, state="failing", failing_since=s.failing_since or at, last_error=error[:LAST_ERROR_CHARS]
            )

    def mark_active(self, siret, subscription_id):
        if s := self.items.get((siret, subscription_id)):
            self.items[(siret, subscription_id)] = replace(s, state="active", failing_since=None, last_error=None)

    def delete(self, siret, subscription_id):
        return self.items.pop((siret, subscription_id), None) is not None

    def claim_confirmation_mail(self, email, siret, now, window_seconds, per_address, claimed_by=None):
        last = self.mails.get((email.lower(), siret))
        if last is not None and last >= now - window_seconds:
            return MailClaimRefused("structure", last, self.mail_claimers.get((email.lower(), siret)))
        day = (email.lower(), int(now // 86400))
        self.mails[(email.lower(), siret)] = now  # noted even when the address's day is full (as the DynamoDB store)
        self.mail_claimers[(email.lower(), siret)] = claimed_by
        if self.mail_counts.get(day, 0) >= per_address:
            self.unmailed.add((email.lower(), siret))
            return MailClaimRefused("address", now)
        self.unmailed.discard((email.lower(), siret))
        self.mail_counts[day] = self.mail_counts.get(day, 0) + 1
        return None

    def release_confirmation_mail(self, email, siret, sent_at):
        if self.mails.get((email.lower(), siret)) != sent_at:
            return False
        del self.mails[(email.lower(), siret)]
        self.mail_claimers.pop((email.lower(), siret), None)
        if (email.lower(), siret) in self.unmailed:
            self.unmailed.discard((email.lower(), siret))
        else:
            self.mail_counts[(email.lower(), int(sent_at // 86400))] -= 1
        return True


@dataclass
class FakeQueue:
    queued: list = field(default_factory=list)  # (job, delay)
    dead: list = field(default_factory=list)

    def enqueue(self, jobs, delay_seconds=0.0):
        self.queued += [(job, delay_seconds) for job in jobs]

    def dead_letter(self, job, reason):
        self.dead.append((job, reason))


@dataclass
class FakeLog:
    attempts: list = field(default_factory=list)

    def record(self, attempt):
        self.attempts.append(attempt)

    mailed: dict = field(default_factory=dict)  # (subscription id, event id) -> (chain, attempt)

    def recent(self, subscription_id, limit):
        return [a for a in reversed(self.attempts) if a.subscription_id == subscription_id][:limit]

    def claim_mail(self, subscription_id, event_id, chain, attempt):
        held = self.mailed.get((subscription_id, event_id))
        if held is not None and not (held[0] == chain and held[1] <= attempt):
            return False
        self.mailed[(subscription_id, event_id)] = (chain, attempt)
        return True

    def release_mail(self, subscription_id, event_id, chain):
        if self.mailed.get((subscription_id, event_id), (None,))[0] == chain:
            del self.mailed[(subscription_id, event_id)]


@dataclass
class FakeSender:
    results: list = field(default_factory=list)  # HttpResult to return, in order (last one repeats)
    calls: list = field(default_factory=list)

    def post(self, target, address, headers, body, timeout):
        self.calls.append((target, address, headers, body, timeout))
        return self.results[min(len(self.calls), len(self.results)) - 1]


@dataclass
class FakeMailer:
    sent: list = field(default_factory=list)

    def send(self, message):
        self.sent.append(message)


def static_resolver(table: dict[str, list[str]]):
    """A resolver over a fixed table: tests never ask DNS (and never connect outside 127.0.0.1)."""

    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(8, "Name or service not known")
        return table[host]

    return resolve


__all__ = ["Receiver", "validate_event", "replace"]
