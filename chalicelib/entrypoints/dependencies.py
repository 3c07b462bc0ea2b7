"""The adapters the entrypoints hand to services, created once per process on first use."""

from __future__ import annotations

from functools import lru_cache

from ..adapters.directory import DynamoDirectory
from ..adapters.event_publisher import SnsEventPublisher
from ..adapters.flow_repository import DynamoFlowRepository, S3UploadSigner
from ..adapters.idempotency import PowertoolsIdempotencyGuard
from ..adapters.invoice_repository import DepositedInvoices, DynamoInvoiceRepository
from ..adapters.object_store import S3OriginalStore
from ..adapters.subscription_store import DynamoSubscriptionStore
from ..services.publishing import AudiencePublisher


@lru_cache(maxsize=1)
def invoice_records() -> DynamoInvoiceRepository:
    """The records only: what processing reads and writes."""
    return DynamoInvoiceRepository()


@lru_cache(maxsize=1)
def invoices() -> DepositedInvoices:
    """What the API reads: the records, and deposits not decided yet (from their originals)."""
    return DepositedInvoices(originals())


@lru_cache(maxsize=1)
def originals() -> S3OriginalStore:
    return S3OriginalStore()


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
    return AudiencePublisher(SnsEventPublisher(), DynamoSubscriptionStore())


@lru_cache(maxsize=1)
def idempotency() -> PowertoolsIdempotencyGuard:
    return PowertoolsIdempotencyGuard()


def reset() -> None:
    """Forget every adapter (tests point the process at a fresh AWS stand-in)."""
    from ..adapters import aws
    from ..adapters import idempotency as idempotency_adapter

    for factory in (invoice_records, invoices, originals, upload_signer, flows, directory, publisher, idempotency):
        factory.cache_clear()
    aws.reset_clients()
    idempotency_adapter.reset()
