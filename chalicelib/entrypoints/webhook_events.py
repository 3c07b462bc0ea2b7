"""Webhook handlers: events topic → fan-out (one job per matching subscription) → delivery (HTTP or e-mail).

Fan-out: ONE SQS queue is subscribed to the events topic (SNS filter policy on `event_type`); the handler
looks up the subscriptions of the invoice's two parties. Per-subscription SNS subscriptions with filter
policies on supplier_siret/recipient_siret would put SNS's quotas (filter policies per topic, 200 by default)
in the path of every new subscriber; the handler pays two DynamoDB queries per event instead.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from aws_lambda_powertools.metrics import MetricUnit
from chalice import Blueprint

from ..config import settings
from ..services import webhooks
from ..services.subscriptions_ports import DeliveryJob
from . import dependencies as deps
from .observability import logger, metrics

webhook_events = Blueprint(__name__)

_METRICS = {"delivered": "WebhooksDelivered", "failed": "WebhooksGivenUp"}
MAX_PARALLEL_DELIVERIES = 10  # one slow receiver (5 s timeout) must not hold up the rest of a batch


def event_from_message(body: str) -> dict:
    """The CloudEvent of a message from the topic: raw delivery, or the SNS envelope around it."""
    message = json.loads(body)
    if isinstance(message, dict) and message.get("Type") == "Notification" and "Message" in message:
        message = json.loads(message["Message"])
    return message


@webhook_events.on_sqs_message(queue=settings().webhook_events_queue, batch_size=10)
def fan_out_events(event):
    """Each event on the topic → one delivery job per subscription that gets it. The batch's jobs are queued
    together (ten per request), so this is not Powertools' record-by-record processor: an event whose jobs
    could not be queued must fail after the loop."""
    records = event.to_dict().get("Records", [])
    events, failures = {}, []
    for record in records:
        try:
            events[record["messageId"]] = event_from_message(record["body"])
        except ValueError:
            logger.exception("unreadable event message", extra={"message_id": record["messageId"]})
            failures.append(record["messageId"])  # retried, then dead-lettered
    jobs_of, failed = webhooks.fan_out_batch(events, store=webhooks.BatchSubscriptions(deps.subscription_store()),
                                             queue=deps.delivery_queue(), directory=deps.directory())  # fmt: skip
    for message_id, jobs in jobs_of.items():
        if jobs:
            event = events[message_id]
            logger.info("fanned out", extra={"event_id": event.get("id"), "invoice_id": invoice_id_of(event),
                                             "subscriptions": [job.subscription_id for job in jobs]})  # fmt: skip
    return {"batchItemFailures": [{"itemIdentifier": m} for m in failures + failed]}


def _sirets(records: list[dict]) -> list[str]:
    """The structures a batch's jobs go to (a job that cannot be read fails on its own, in _deliver)."""
    sirets = []
    for record in records:
        try:
            sirets.append(str(json.loads(record["body"])["siret"]))
        except (ValueError, KeyError, TypeError):
            continue
    return sirets


def invoice_id_of(event: dict) -> str | None:
    """The invoice a status event is about (a flow's event has none): a log key, so one filter follows an invoice."""
    data = event.get("data")
    return data.get("invoice_id") if isinstance(data, dict) else None


def _deliver(body: str, context: webhooks.DeliveryContext):
    job = DeliveryJob.from_dict(json.loads(body))
    return job, webhooks.deliver(job, context)


@webhook_events.on_sqs_message(queue=settings().webhook_delivery_queue, batch_size=10)
def deliver_webhooks(event):
    """One attempt per job, in parallel; a job that raises (our outage, not the receiver's) comes back via SQS."""
    records = event.to_dict().get("Records", [])
    context = deps.delivery_context()
    # each attempt checks its structure is still active: the batch's structures are read once for all of them
    context = replace(context, directory=webhooks.BatchStructures(context.directory, _sirets(records)))
    failures = []
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL_DELIVERIES, len(records)))) as pool:
        futures = [(record, pool.submit(_deliver, record["body"], context)) for record in records]
        for record, future in futures:
            try:
                job, attempt = future.result()
            except Exception:
                logger.exception("delivery job failed; SQS redelivers it", extra={"message_id": record["messageId"]})
                failures.append({"itemIdentifier": record["messageId"]})
                continue
            if attempt is None:
                continue
            logger.info(
                "webhook attempt",
                extra={
                    "subscription_id": attempt.subscription_id,
                    "event_id": attempt.event_id,
                    "invoice_id": invoice_id_of(job.event),
                    "attempt": attempt.attempt,
                    "outcome": attempt.outcome,
                    "status": attempt.status,
                    "error": attempt.error,
                },
            )
            metric = _METRICS.get(attempt.outcome, "WebhookRetries")
            metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    return {"batchItemFailures": failures}
