"""Event handlers: invoice validation (SQS) and status-change publication (DynamoDB stream)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice import Blueprint

from ..adapters.invoice_repository import from_stream_image
from ..config import settings
from ..domain.events import StatusChanged
from ..domain.invoice import Invoice
from ..domain.statuses import REJETEE
from ..services import flows as flow_service
from ..services import layout
from ..services.processing import BundleIncomplete, NotMarkedFailed, mark_failed, process_object
from ..services.publishing import publish_committed_changes
from . import dependencies as deps
from .observability import annotate_invoice, logger, metrics
from .s3_notifications import s3_keys

events = Blueprint(__name__)

# Chalice needs the stream ARN when the app is loaded; infra replaces it on the event source.
INVOICE_STREAM_ARN_PLACEHOLDER = "arn:aws:dynamodb:eu-west-3:123456789012:table/chorale-invoices/stream/local"

_validation_batch = BatchProcessor(event_type=EventType.SQS)
# An object is started only with this much of the invocation left: the messages not started fail alone and come
# back, instead of a timeout failing the batch (whose give-up then never runs). It covers one AWS call's worst case,
# every attempt stalled (adapters/aws.CALL_WORST_CASE_SECONDS: 5 attempts x (2 s connect + 5 s read) + 15 s of
# backoff = 50 s), plus 15 s for the object's own work (the densest 4 MiB original: 2.3 s of a full core).
VALIDATION_RESERVE_MS = 65_000


class NoTimeLeft(Exception):
    """Not started: too little of the invocation left. The message comes back (a receive, like any failure)."""


def _latency_ms(created_at: str) -> float:
    created = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    return (datetime.now(UTC) - created).total_seconds() * 1000


def validate_message(record: SQSRecord, lambda_context=None) -> None:
    # A message received before was processed, in part or whole, by an earlier attempt: its invoices' records are
    # read first, so those decided are not validated again (the first attempt saves that read).
    receives = receive_count(record)
    for key in s3_keys(json.loads(record.body)):
        # Its lines name the object; a context, so the next record's (and the next invocation's) lines don't.
        with logger.append_context_keys(object_key=key):
            ports = {"invoices": deps.invoice_records(), "originals": deps.originals(), "directory": deps.directory()}
            try:
                if lambda_context is not None and lambda_context.get_remaining_time_in_millis() < VALIDATION_RESERVE_MS:
                    raise NoTimeLeft(f"{key}: not started, under {VALIDATION_RESERVE_MS} ms of the invocation left")
                processed = process_object(key, **ports, look_first=receives > 1)
            except Exception as exc:
                if isinstance(exc, BundleIncomplete):
                    _count(exc.processed.decided_now)  # decided by this attempt: the retry will not count them
                if is_last_receive(record, settings().validation_max_receives):
                    _give_up(key, ports)
                else:  # a partial batch failure is no Lambda error: this line is the only trace before the give-up
                    logger.warning("validating %s failed (receive %s of %s): the message comes back", key, receives,
                                   settings().validation_max_receives, exc_info=True,
                                   extra={"receive_count": receives,
                                          "invoice_ids": _invoice_ids_of(key, exc)})  # fmt: skip
                raise  # the cause, whatever the give-up could write: the message goes to the DLQ
            if not processed.invoices:
                logger.warning("ignored object outside the originals prefix: %s", key)
                continue
            _count(processed.decided_now)  # a redelivered message's invoices were counted the first time
            _object_done(key, processed.invoices)


def receive_count(record: SQSRecord) -> int:
    return int(record.attributes.approximate_receive_count or 1)


def is_last_receive(record: SQSRecord, max_receives: int) -> bool:
    """The queue's maxReceiveCount (`max_receives`, its own setting per queue) is reached: a failure now sends the
    message to the DLQ."""
    return receive_count(record) >= max_receives


def _give_up(key: str, ports: dict) -> None:
    """Last receive failed: flag the object's invoices failed and tell its flow. Each write on its own: in an
    outage they fail too, and neither may keep the other from being tried, nor replace the cause."""
    failed: list[Invoice] = []
    try:
        failed = mark_failed(key, **ports)
    except NotMarkedFailed as exc:  # a bundle's other invoices were marked
        failed = exc.marked
        logger.exception("could not mark the invoices of %s failed: they stay pending until the DLQ is redriven",
                         key, extra={"invoice_ids": exc.unmarked_ids})  # fmt: skip
    except Exception:
        logger.exception("could not mark the invoices of %s failed: they stay pending until the DLQ is redriven",
                         key, extra={"invoice_ids": _invoice_ids_of(key)})  # fmt: skip
    # Still handling the cause: its traceback is the one logged.
    logger.exception("giving up on %s: the message goes to the DLQ", key, extra={"invoice_ids": [i.id for i in failed]})
    try:
        _object_done(key, failed, given_up=True)  # its invoices are decided now: failed
    except Exception:
        logger.exception("could not tell the flow of %s it was given up: the DLQ's redrive does", key)
    for invoice in failed:  # after the flow is told: a trace is worth less than the flow's announcement
        annotate_invoice(invoice.id)


def _invoice_ids_of(key: str, cause: Exception | None = None) -> list[str]:
    """What the key says (a lone original's invoice), or a bundle's failure (the members it could not decide,
    read by that attempt: no AWS call here). None for a bundle that failed whole (unreadable): its key names it."""
    if isinstance(cause, BundleIncomplete):
        return cause.failed_ids
    invoice_id = layout.invoice_id_from_key(key)
    return [invoice_id] if invoice_id else []


def _count(decided: list[Invoice]) -> None:
    for invoice in decided:
        status = invoice.status
        logger.info("invoice processed", extra={"invoice_id": invoice.id, "status": status and status.code})
        annotate_invoice(invoice.id)
        rejected = status is not None and status.code == REJETEE.code
        metrics.add_metric(name="InvoicesRejected" if rejected else "InvoicesAccepted", unit=MetricUnit.Count,
                           value=1)  # fmt: skip
        metrics.add_metric(name="ProcessingLatency", unit=MetricUnit.Milliseconds,
                           value=_latency_ms(invoice.created_at))  # fmt: skip


def _object_done(key: str, invoices: list[Invoice], given_up: bool = False) -> None:
    """Tell the object's flow (if any) that it is done; the flow's last object announces the flow (a redrive may
    announce it again, with the new counts)."""
    completed = flow_service.object_processed(key, invoices, flows=deps.flows(), invoices=deps.invoice_records(),
                                              publisher=deps.publisher(),
                                              originals=deps.originals() if given_up else None)  # fmt: skip
    if completed is not None:
        logger.info("flow completed", extra={"flow_id": completed.flow_id, "state": completed.state,
                                             "revision": completed.revision})  # fmt: skip


@events.on_sqs_message(queue=settings().validation_queue, batch_size=10)
def validate_invoices(event):
    """S3 notifications of new originals → validation; failed messages are retried, then dead-lettered."""
    return process_partial_response(
        event=event.to_dict(), record_handler=validate_message, processor=_validation_batch, context=event.context
    )


def committed_change(record: dict) -> tuple[Invoice | None, Invoice] | None:
    """(before, after) of a stream record; None for a deletion (nothing to announce)."""
    images = record.get("dynamodb", {})
    if "NewImage" not in images:
        return None
    before = from_stream_image(images["OldImage"]) if "OldImage" in images else None
    return before, from_stream_image(images["NewImage"])


@events.on_dynamodb_record(stream_arn=INVOICE_STREAM_ARN_PLACEHOLDER, batch_size=100, starting_position="LATEST")
def publish_status_events(event):
    """Every status change committed to the invoice table → one message on the events topic.

    The whole batch is published ten events per SNS request (not one request per record); on a failure the
    stream resumes from the first record not fully published (ReportBatchItemFailures)."""
    records = event.to_dict()["Records"]
    changes, positions, unreadable = [], [], None
    for position, record in enumerate(records):
        try:
            change = committed_change(record)
        except Exception:
            logger.exception("unreadable stream record", extra={"sequence": _sequence(record)})
            unreadable = position  # publish what comes before it, then resume here
            break
        if change is not None:
            changes.append(change)
            positions.append(position)
    published, unpublished = publish_committed_changes(changes, publisher=deps.publisher())
    for invoice_id, event_ids in _event_ids_by_invoice(published).items():  # one line per invoice: its id is a key
        logger.info("published", extra={"invoice_id": invoice_id, "event_ids": event_ids})
    failed_at = positions[unpublished] if unpublished is not None else unreadable
    if failed_at is None:
        return {"batchItemFailures": []}
    # The cause (an unreadable record, a failed publish call) is logged above with its traceback.
    logger.warning("publication stopped; the stream resumes at record %s", failed_at)
    return {"batchItemFailures": [{"itemIdentifier": _sequence(records[failed_at])}]}


def _event_ids_by_invoice(published: list[StatusChanged]) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {}
    for event in published:
        ids.setdefault(event.invoice.id, []).append(event.event_id)
    return ids


def _sequence(record: dict) -> str:
    return record.get("dynamodb", {}).get("SequenceNumber", "")
