"""Event fan-out to subscriptions, and delivery of one event to one subscription (webhook or e-mail).

At-least-once: a failed attempt queues the next one (same event id) before the current message is
acknowledged; after the schedule's max age the job goes to the given-up queue (not the DLQ: that one is for our
own crashes) and the subscription is marked failing.
An e-mail goes once per (subscription, event), whatever the jobs that carry the event (see deliver).
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from ..domain.events import FLOW_EVENT_TYPE
from ..domain.subscriptions import (
    CONFIRMATION_EVENT_TYPE,
    SUBSCRIBABLE_EVENT_TYPES,
    TEST_EVENT_TYPE,
    RetrySchedule,
    matches,
    parties,
)
from ..domain.subscriptions_security import SIGNATURE_HEADER, UnsafeUrl, UrlPolicy, parse_target, signature_header
from .clock import utc_now
from .ports import StructureBatch
from .subscriptions import checked_url
from .subscriptions_ports import (
    DeliveryAttempt,
    DeliveryJob,
    DeliveryLog,
    DeliveryQueue,
    HttpResult,
    Mailer,
    MailMessage,
    Resolver,
    SubscriptionStore,
    WebhookSender,
)

log = logging.getLogger(__name__)

USER_AGENT = "Chorale-Webhooks/1.0"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


class BatchSubscriptions:
    """Subscriptions as one fan-out batch sees them: an invoice's events share their two parties, so each
    structure's subscriptions are read once per batch (and a new subscription applies from the next batch)."""

    def __init__(self, store: SubscriptionStore):
        self._store = store
        self._by_structure: dict[str, list] = {}

    def for_structure(self, siret: str) -> list:
        if siret not in self._by_structure:
            self._by_structure[siret] = self._store.for_structure(siret)
        return self._by_structure[siret]


def jobs_for(event: dict, *, store: SubscriptionStore | BatchSubscriptions, queued_at: float) -> list[DeliveryJob]:
    if event.get("type") not in SUBSCRIBABLE_EVENT_TYPES:
        return []
    return [
        DeliveryJob(subscription.id, subscription.siret, event, 1, queued_at)
        for siret in parties(event)
        for subscription in store.for_structure(siret)
        if matches(subscription, event)
    ]


def of_active_structures(
    jobs_of: dict[str, list[DeliveryJob]], directory: StructureBatch
) -> tuple[dict[str, list[DeliveryJob]], list[str]]:
    """The jobs whose subscription belongs to an active structure, read in one batch for all the events: an
    inactive structure gets no notification (an offboarded one, or one cut off because its key was stolen and
    its subscriptions may be the thief's). The skipped jobs are logged, the subscriptions untouched: reactivated,
    the structure gets the events from then on. Also returns the events to retry when the read failed."""
    owners = sorted({job.siret for jobs in jobs_of.values() for job in jobs})
    if not owners:
        return jobs_of, []
    try:
        # Eventually consistent (half the price): a deactivation applies within a second, as events trail their
        # change by the stream and queues anyway.
        found = directory.structures(owners, consistent=False)
    except Exception:  # noqa: BLE001 - every event with jobs is retried
        log.exception("reading the structures of %d subscriber(s) failed", len(owners))
        return {key: jobs for key, jobs in jobs_of.items() if not jobs}, [key for key, jobs in jobs_of.items() if jobs]
    inactive = {siret for siret in owners if siret not in found or not found[siret].active}
    if not inactive:
        return jobs_of, []
    for jobs in jobs_of.values():
        skipped = [job for job in jobs if job.siret in inactive]
        if skipped:
            # A warning (prod logs no info): the operator may delete the subscriptions (admin route) or reactivate.
            log.warning("event %s not sent to inactive structure(s) %s (subscriptions %s)", skipped[0].event.get("id"),
                        sorted({job.siret for job in skipped}), [job.subscription_id for job in skipped])  # fmt: skip
    return {key: [job for job in jobs if job.siret not in inactive] for key, jobs in jobs_of.items()}, []


def fan_out_batch(
    events: dict[str, dict],
    *,
    store: SubscriptionStore | BatchSubscriptions,
    queue: DeliveryQueue,
    directory: StructureBatch,
    clock: Callable[[], float] = time.time,
) -> tuple[dict[str, list[DeliveryJob]], list[str]]:
    """One delivery job per subscription that gets each event of a batch (by message id): only the invoice's
    parties' subscriptions, of active structures. The jobs are queued together, ten per SQS request. Returns the
    jobs queued per event and the events to retry (their subscriptions or subscribers could not be read, or their
    jobs not queued: at least once, a retried event's jobs may have been queued already, and receivers deduplicate
    on the event id)."""
    queued_at, jobs_of, failed = clock(), {}, []
    for key, event in events.items():
        try:
            jobs_of[key] = jobs_for(event, store=store, queued_at=queued_at)
        except Exception:  # noqa: BLE001 - this event is retried, the others go on
            log.exception("fan-out of %s failed", event.get("id"))
            failed.append(key)
    jobs_of, unread = of_active_structures(jobs_of, directory)
    failed.extend(unread)
    pending = [job for jobs in jobs_of.values() for job in jobs]
    if pending:
        try:
            queue.enqueue(pending)
        except Exception:  # noqa: BLE001 - every event with jobs is retried
            log.exception("queueing %d delivery job(s) failed", len(pending))
            failed.extend(key for key, jobs in jobs_of.items() if jobs)
            jobs_of = {key: jobs for key, jobs in jobs_of.items() if not jobs}
    return jobs_of, failed


def body_bytes(event: dict) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# Line breaks and other control characters (C0, DEL, C1 with NEL, Unicode line/paragraph separators).
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(value):
    """A value as one line of text: control characters become spaces, in every string of a dict or list. What an
    event carries (an invoice number, a comment, a name) reaches a mail's Subject and lines: a CR/LF in it must
    not add a header or forge a line."""
    if isinstance(value, str):
        return _CONTROLS.sub(" ", value)
    if isinstance(value, dict):
        return {one_line(k): one_line(v) for k, v in value.items()}
    if isinstance(value, list):
        return [one_line(v) for v in value]
    return value


def mail_for(event: dict) -> tuple[str, str]:
    """A short subject and text for a status change (French, as the platform's users); every value of the event
    is made one line first, so only the template's own line breaks remain."""
    event = one_line(event)
    data = event.get("data") or {}
    if event.get("type") == TEST_EVENT_TYPE:
        return "[Chorale] Notification de test", f"Ceci est un test de votre abonnement {data.get('subscription_id')}."
    if event.get("type") == CONFIRMATION_EVENT_TYPE:
        return "[Chorale] Confirmez votre abonnement aux notifications de factures", "\n".join(
            [
                f"{data.get('structure_name') or ''} (SIRET {data.get('siret')}) souhaite envoyer à",
                f"{data.get('email')} une notification à chaque changement de statut de ses factures sur Chorale"
                + (" et à la fin de chacun de ses flux." if data.get("flows") else "."),
                "",
                f"Pour confirmer, ouvrez ce lien avant le {data.get('expires_at')} (UTC) :",
                str(data.get("confirmation_url")),
                "",
                "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : rien ne vous sera envoyé.",
                f"Abonnement : {data.get('subscription_id')}",
            ]
        ) + "\n"
    if event.get("type") == FLOW_EVENT_TYPE:
        counts = data.get("counts") or {}
        return f"[Chorale] Flux {data.get('flow_id')} : {data.get('state')}", "\n".join(
            [
                f"Flux {data.get('flow_id')} traité : {data.get('state')}",
                f"Fichiers : {counts.get('files')}, acceptés : {counts.get('accepted')}, "
                f"rejetés : {counts.get('rejected')}",
                *([f"Motif : {data['error']}"] if data.get("error") else []),
                f"Détail : GET {(data.get('links') or {}).get('flow')}",
                f"Événement : {event.get('id')}",
            ]
        ) + "\n"
    status, previous = data.get("status") or {}, data.get("previous_status") or {}
    number = data.get("number") or data.get("invoice_id")
    supplier, recipient = data.get("supplier") or {}, data.get("recipient") or {}
    document = "Avoir" if data.get("type") == "credit_note" else "Facture"
    lines = [
        f"{document} {number} ({data.get('invoice_id')})",
        f"Fournisseur : {supplier.get('name') or ''} ({supplier.get('siret') or ''})",
        f"Destinataire : {recipient.get('name') or ''} ({recipient.get('siret') or ''})"
        + (f", service {recipient['service_code']}" if recipient.get("service_code") else ""),
        f"Nouveau statut : {status.get('code')} {status.get('label')}"
        + (f" ({status['chorus_pro']})" if status.get("chorus_pro") else "")
        + (f", précédent : {previous.get('code')} {previous.get('label')}" if previous else ""),
        f"Date : {event.get('time')} (UTC)",
    ]
    if data.get("reason_code") or data.get("comment"):
        lines.append(f"Motif : {data.get('reason_code') or ''} {data.get('comment') or ''}".rstrip())
    if data.get("amount") is not None:  # 211/212: the payment's amount (BR-FR-CDV-14), in the invoice's currency
        lines.append(f"Montant : {data['amount']} {data.get('currency') or ''}".rstrip())
    if (data.get("links") or {}).get("invoice"):
        lines.append(f"Détail : GET {data['links']['invoice']}")
    lines.append(f"Événement : {event.get('id')}")
    return f"[Chorale] {document} {number} : {status.get('label')}", "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class DeliveryContext:
    store: SubscriptionStore
    log: DeliveryLog
    queue: DeliveryQueue
    sender: WebhookSender
    mailer: Mailer
    resolver: Resolver
    policy: UrlPolicy
    schedule: RetrySchedule
    timeout: float = 5.0
    # whose structures every attempt checks again (None: not checked, for tests of the rest of a delivery)
    directory: StructureBatch | None = None
    clock: Callable[[], float] = time.time
    now: Callable[[], str] = utc_now
    rand: Callable[[], float] = random.random


def _post(subscription, job: DeliveryJob, ctx: DeliveryContext, at: float) -> HttpResult:
    body = body_bytes(job.event)
    headers = {
        "Content-Type": CONTENT_TYPE,
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature_header(subscription.signing_secrets(at), int(at), body),
        "Chorale-Event-Id": str(job.event.get("id")),
        "Chorale-Delivery-Attempt": str(job.attempt),
    }
    try:
        target = parse_target(subscription.url, ctx.policy)
        addresses = checked_url(subscription.url, ctx.resolver, ctx.policy)  # again: DNS may have changed
    except UnsafeUrl as error:  # the subscriber reads the error (last_error, deliveries): the detail is logged
        log.warning("webhook %s refused: %s", subscription.id, error.detail)
        return HttpResult(None, 0.0, f"refused: {error}")
    return ctx.sender.post(target, addresses[0], headers, body, ctx.timeout)


def _mail(subscription, job: DeliveryJob, ctx: DeliveryContext) -> HttpResult:
    subject, text = mail_for(job.event)
    started = time.monotonic()
    try:
        ctx.mailer.send(MailMessage(subscription.email, subject, text, {"Chorale-Event-Id": str(job.event.get("id"))}))
    except Exception as error:  # the mail service's refusal or outage: retried like a webhook
        return HttpResult(None, (time.monotonic() - started) * 1000, f"mail: {error}")
    return HttpResult(None, (time.monotonic() - started) * 1000)


def deliver(job: DeliveryJob, ctx: DeliveryContext) -> DeliveryAttempt | None:
    """One attempt. Returns what happened (also logged), or None when there was nothing to attempt."""
    at = ctx.clock()
    if job.not_before > at + 0.5:  # a long delay served in queue-sized steps: not yet
        ctx.queue.enqueue([job], delay_seconds=job.not_before - at)
        return None
    subscription = ctx.store.get(job.siret, job.subscription_id)
    if subscription is None:
        return None  # deleted since: its pending events are dropped
    if subscription.pending and job.event.get("type") != CONFIRMATION_EVENT_TYPE:
        return None  # an unconfirmed address gets its confirmation mail and nothing else
    if not _still_active(job, ctx.directory):
        return None
    event_id, event_type = str(job.event.get("id")), str(job.event.get("type"))
    # A mailbox cannot drop a copy as a webhook receiver does: an event another job already mailed (a replay, a
    # redriven fan-out) is not mailed again. Before the send: a failure here retries the attempt, nothing sent.
    mailed_once = subscription.channel == "email" and event_type in SUBSCRIBABLE_EVENT_TYPES
    if mailed_once and not ctx.log.claim_mail(subscription.id, event_id, job.first_attempt_at, job.attempt):
        log.info("event %s already mailed to subscription %s: not sent again", event_id, subscription.id)
        return None
    result = _post(subscription, job, ctx, at) if subscription.channel == "webhook" else _mail(subscription, job, ctx)
    base = {
        "subscription_id": subscription.id,
        "event_id": event_id,
        "event_type": event_type,
        "attempt": job.attempt,
        "at": ctx.now(),
        "status": result.status,
        "latency_ms": round(result.latency_ms, 1),
    }
    # The POST (or mail), the next attempt's job and the dead letter are not idempotent: once one is done, nothing
    # after it may fail the message, or its redelivery would do it again (a second retry chain, a second POST).
    if result.ok or (subscription.channel == "email" and result.error is None):
        attempt = DeliveryAttempt(outcome="delivered", **base)
        if subscription.state == "failing":
            _quietly(ctx.store.mark_active, subscription.siret, subscription.id)  # the next delivery retries it
        _record(ctx.log, attempt)
        return attempt
    error = result.error or f"HTTP {result.status}"
    delay = ctx.schedule.next_delay(job.attempt, job.first_attempt_at or at, at, ctx.rand())
    if delay is None:
        attempt = DeliveryAttempt(outcome="failed", error=error, **base)
        if mailed_once:  # never mailed: a redrive of the dead letter (a new chain) must be able to claim it
            ctx.log.release_mail(subscription.id, event_id, job.first_attempt_at)
        if not subscription.pending:  # a confirmation mail that could not be sent must not make it "failing"
            # Before the dead letter: a failure here retries the attempt, it does not dead-letter it twice.
            ctx.store.mark_failing(subscription.siret, subscription.id, base["at"], f"{event_id}: {error}")
        ctx.queue.dead_letter(job, error)
    else:
        attempt = DeliveryAttempt(outcome="retrying", error=error, next_attempt_in=round(delay, 3), **base)
        ctx.queue.enqueue([replace(job, attempt=job.attempt + 1, not_before=at + delay)], delay_seconds=delay)
    _record(ctx.log, attempt)
    return attempt


class BatchStructures:
    """The structures of one batch of delivery jobs, read once for all its attempts (one BatchGetItem instead of a
    read per job: a structure's record holds its services, up to ~45 read units). Read at the first attempt that
    asks; a failed read raises for that attempt and is tried again by the next."""

    def __init__(self, directory: StructureBatch, sirets: Iterable[str]):
        self._directory = directory
        self._sirets = sorted(set(sirets))
        self._found: dict | None = None
        self._read: set[str] = set()
        self._lock = threading.Lock()

    def structures(self, sirets: list[str], *, consistent: bool = False) -> dict:
        with self._lock:  # the batch's attempts run in parallel: one read for all
            if self._found is None:
                wanted = sorted({*self._sirets, *sirets})
                self._found = self._directory.structures(wanted, consistent=consistent)
                self._read = set(wanted)
        missing = [s for s in sirets if s not in self._read]  # not announced: read on its own
        found = {s: self._found[s] for s in sirets if s in self._found}
        return {**found, **(self._directory.structures(missing, consistent=consistent) if missing else {})}


def _still_active(job: DeliveryJob, directory: StructureBatch | None) -> bool:
    """Whether the job may still go to its structure. The fan-out checked it when the job was queued; the job may
    wait there (a backlog, a retry hours later, a dead letter redriven by SQS or by `make redrive`) while the
    structure is deactivated (a stolen key cut off). Eventually consistent, read once per batch (BatchStructures); a
    failed read raises: the job comes back through SQS."""
    if directory is None:
        return True
    structure = directory.structures([job.siret], consistent=False).get(job.siret)
    if structure is not None and structure.active:
        return True
    log.warning("event %s not sent to inactive structure %s (subscription %s, attempt %d)", job.event.get("id"),
                job.siret, job.subscription_id, job.attempt)  # fmt: skip
    return False


def _record(delivery_log: DeliveryLog, attempt: DeliveryAttempt) -> None:
    """The delivery log is for people to read: a write it misses is logged here, never retried by failing the
    message (the entrypoint logs every attempt too)."""
    _quietly(delivery_log.record, attempt)


def _quietly(write: Callable, *args) -> None:
    try:
        write(*args)
    except Exception:  # noqa: BLE001 - see deliver: the attempt's effect is done and must not be repeated
        log.exception("%s%r failed after a delivery attempt; going on", getattr(write, "__name__", write), args)
