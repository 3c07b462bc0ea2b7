"""The adapters the entrypoints hand to services, created once per process on first use; and the webhook
settings read at each call (tests replace mailer, url_policy, retry_schedule and settings here)."""

from __future__ import annotations

from functools import lru_cache

from ..adapters.directory import DynamoDirectory
from ..adapters.event_publisher import SnsEventPublisher
from ..adapters.flow_repository import DynamoFlowRepository
from ..adapters.idempotency import PowertoolsIdempotencyGuard
from ..adapters.invoice_repository import DepositedInvoices, DynamoInvoiceRepository
from ..adapters.mail import OutboxMailer, SesMailer
from ..adapters.object_store import S3ObjectStore, S3UploadSigner
from ..adapters.subscription_store import DynamoDeliveryLog, DynamoSubscriptionStore
from ..adapters.webhook_http import HttpWebhookSender, system_resolver
from ..adapters.webhook_queue import SqsDeliveryQueue
from ..config import settings
from ..domain.subscriptions import RetrySchedule
from ..domain.subscriptions_security import UrlPolicy
from ..services.publishing import AudiencePublisher
from ..services.subscriptions_ports import Resolver
from ..services.webhooks import DeliveryContext


@lru_cache(maxsize=1)
def invoice_records() -> DynamoInvoiceRepository:
    """The records only: what processing reads and writes."""
    return DynamoInvoiceRepository()


@lru_cache(maxsize=1)
def invoices() -> DepositedInvoices:
    """What the API reads: the records, and deposits not decided yet (from their originals)."""
    return DepositedInvoices(originals())


@lru_cache(maxsize=1)
def originals() -> S3ObjectStore:
    return S3ObjectStore()


@lru_cache(maxsize=1)
def upload_signer() -> S3UploadSigner:
    """Presigned S3 POSTs: flow uploads and attachment uploads."""
    return S3UploadSigner()


@lru_cache(maxsize=1)
def flows() -> DynamoFlowRepository:
    return DynamoFlowRepository()


@lru_cache(maxsize=1)
def directory() -> DynamoDirectory:
    return DynamoDirectory()


@lru_cache(maxsize=1)
def publisher() -> AudiencePublisher:
    """Events to the topic, those nobody subscribed to marked so that the webhook fan-out skips them."""
    return AudiencePublisher(SnsEventPublisher(on_unsendable=_unsendable_event), subscription_store())


def _unsendable_event(event, size: int) -> None:
    """An event SNS can never take, even trimmed: skipped (the stream goes on), counted for an alarm."""
    from aws_lambda_powertools.metrics import MetricUnit

    from .observability import logger, metrics

    logger.error("event skipped: over SNS's message limit even trimmed", extra={"event_id": event.event_id,
                                                                                "bytes": size})  # fmt: skip
    metrics.add_metric(name="EventsUnsendable", unit=MetricUnit.Count, value=1)


@lru_cache(maxsize=1)
def idempotency() -> PowertoolsIdempotencyGuard:
    return PowertoolsIdempotencyGuard()


# --- subscriptions and webhooks ------------------------------------------------------------------


@lru_cache(maxsize=1)
def subscription_store() -> DynamoSubscriptionStore:
    return DynamoSubscriptionStore()


@lru_cache(maxsize=1)
def delivery_log() -> DynamoDeliveryLog:
    return DynamoDeliveryLog()


@lru_cache(maxsize=1)
def delivery_queue() -> SqsDeliveryQueue:
    return SqsDeliveryQueue()


@lru_cache(maxsize=1)
def webhook_sender() -> HttpWebhookSender:
    """On first delivery: its TLS context loads the CA bundle, which no other function needs."""
    return HttpWebhookSender()


def mailer():
    return OutboxMailer() if settings().local_stack else SesMailer()


def resolver() -> Resolver:
    return system_resolver


def url_policy() -> UrlPolicy:
    return UrlPolicy(local_stack=settings().local_stack)


def retry_schedule() -> RetrySchedule:
    s = settings()
    return RetrySchedule(
        s.webhook_retry_base_seconds, s.webhook_retry_max_delay_seconds, s.webhook_retry_max_age_seconds
    )


def delivery_context() -> DeliveryContext:
    return DeliveryContext(
        store=subscription_store(),
        log=delivery_log(),
        queue=delivery_queue(),
        sender=webhook_sender(),
        mailer=mailer(),
        resolver=resolver(),
        policy=url_policy(),
        schedule=retry_schedule(),
        timeout=settings().webhook_timeout_seconds,
        directory=directory(),
    )


def reset() -> None:
    """Forget every adapter (tests point the process at a fresh AWS stand-in)."""
    from ..adapters import aws, webhook_queue
    from ..adapters import idempotency as idempotency_adapter

    for factory in (invoice_records, invoices, originals, upload_signer, flows, directory, publisher, idempotency,
                    subscription_store, delivery_log, delivery_queue, webhook_sender):  # fmt: skip
        factory.cache_clear()
    aws.reset_clients()
    idempotency_adapter.reset()
    webhook_queue.reset()
