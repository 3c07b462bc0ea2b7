"""Invoices in DynamoDB: conditional create, optimistic locking on every change."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from ..domain.invoice import Error, HistoryEntry, Invoice, InvoiceSummary, Totals
from ..services.errors import ConcurrentUpdate
from .tables import ErrorAttribute, HistoryAttribute, InvoiceRecord, TotalsAttribute


def _conditional_failure(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _undec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def to_record(invoice: Invoice) -> InvoiceRecord:
    s = invoice.summary
    record = InvoiceRecord(
        invoice.id,
        supplier_siret=invoice.supplier_siret,
        supplier_name=invoice.supplier_name,
        format=invoice.format,
        content_type=invoice.content_type,
        original_key=invoice.original_key,
        original_size=invoice.original_size,
        original_sha256=invoice.original_sha256,
        created_at=invoice.created_at,
        updated_at=invoice.updated_at,
        processing=invoice.processing,
        number=s.number,
        issue_date=s.issue_date.isoformat() if s.issue_date else None,
        type=s.type,
        currency=s.currency,
        totals=TotalsAttribute(
            without_vat=_dec(s.totals.without_vat),
            vat=_dec(s.totals.vat),
            with_vat=_dec(s.totals.with_vat),
            amount_due=_dec(s.totals.amount_due),
        ),
        seller_siret=s.seller_siret,
        seller_name=s.seller_name,
        buyer_siret=s.buyer_siret,
        buyer_name=s.buyer_name,
        recipient_siret=invoice.recipient_siret,
        recipient_name=invoice.recipient_name,
        service_code=s.service_code,
        engagement_number=s.engagement_number,
        status_code=invoice.status.code if invoice.status else None,
        errors=[ErrorAttribute(**e.as_dict()) for e in invoice.errors],
        errors_truncated=invoice.errors_truncated,
        history=[
            HistoryAttribute(code=h.code, at=h.at, actor=h.actor, reason_code=h.reason_code, comment=h.comment)
            for h in invoice.history
        ],
    )
    if invoice.version is not None:
        record.version = invoice.version
    return record


def from_record(record: InvoiceRecord) -> Invoice:
    totals = record.totals
    summary = InvoiceSummary(
        number=record.number,
        issue_date=date.fromisoformat(record.issue_date) if record.issue_date else None,
        type=record.type or "invoice",
        currency=record.currency,
        totals=Totals(
            without_vat=_undec(totals.without_vat),
            vat=_undec(totals.vat),
            with_vat=_undec(totals.with_vat),
            amount_due=_undec(totals.amount_due),
        )
        if totals
        else Totals(),
        seller_siret=record.seller_siret,
        seller_name=record.seller_name,
        buyer_siret=record.buyer_siret,
        buyer_name=record.buyer_name,
        service_code=record.service_code,
        engagement_number=record.engagement_number,
    )
    return Invoice(
        id=record.id,
        supplier_siret=record.supplier_siret,
        supplier_name=record.supplier_name,
        format=record.format,
        content_type=record.content_type,
        original_key=record.original_key,
        original_size=int(record.original_size),
        original_sha256=record.original_sha256,
        created_at=record.created_at,
        updated_at=record.updated_at,
        processing=record.processing,  # type: ignore[arg-type]
        summary=summary,
        recipient_siret=record.recipient_siret,
        recipient_name=record.recipient_name,
        errors=[Error(e.rule, e.severity, e.message, e.location) for e in record.errors or []],
        errors_truncated=int(record.errors_truncated or 0),
        history=[
            HistoryEntry(int(h.code), h.at, h.actor, h.reason_code, h.comment)  # type: ignore[arg-type]
            for h in record.history or []
        ],
        version=record.version,
    )


def from_stream_image(image: dict[str, Any]) -> Invoice:
    """A DynamoDB stream NewImage/OldImage (attribute-value JSON) as a domain invoice."""
    return from_record(InvoiceRecord.from_raw_data(image))


class DynamoInvoiceRepository:
    def add(self, invoice: Invoice) -> bool:
        record = to_record(invoice)
        try:
            record.save(condition=InvoiceRecord.id.does_not_exist())
        except PutError as exc:
            if _conditional_failure(exc):
                return False
            raise
        invoice.version = record.version
        return True

    def get(self, invoice_id: str) -> Invoice | None:
        try:
            return from_record(InvoiceRecord.get(invoice_id, consistent_read=True))
        except DoesNotExist:
            return None

    def save(self, invoice: Invoice) -> None:
        record = to_record(invoice)
        try:
            record.save()  # VersionAttribute adds the condition on the version read
        except (PutError, UpdateError) as exc:
            if _conditional_failure(exc):
                raise ConcurrentUpdate(f"invoice {invoice.id} was changed by someone else") from None
            raise
        invoice.version = record.version
