"""Invoices in DynamoDB: conditional create, optimistic locking on every change."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from ..config import settings
from ..domain.invoice import Attachment, Error, HistoryEntry, Invoice, InvoiceSummary, Totals
from ..services import layout
from ..services.errors import ConcurrentUpdate, DuplicateNumber, RecordFull
from ..services.ports import InvoiceQuery, ObjectStore
from .tables import InvoiceRecord, NumberClaimRecord, is_conditional_failure, is_item_too_large


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _undec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def shard_of(invoice_id: str) -> int:
    return zlib.crc32(invoice_id.encode()) % settings().index_shards


def party_key(siret: str, shard: int) -> str:
    return f"{siret}#{shard}"


def updated_key(invoice: Invoice) -> str:
    return f"{invoice.updated_at}#{invoice.id}"


def to_record(invoice: Invoice) -> InvoiceRecord:
    shard = shard_of(invoice.id)
    indexed = invoice.processing != "pending"  # listed once decided: see InvoiceRecord.supplier_pk
    record = InvoiceRecord(
        invoice.id,
        supplier_siret=invoice.supplier_siret,
        recipient_siret=invoice.recipient_siret,
        number=invoice.summary.number,
        issue_date=invoice.summary.issue_date.isoformat() if invoice.summary.issue_date else None,
        status_code=invoice.status.code if invoice.status else None,
        processing=invoice.processing,
        details=pack_details(invoice),
        supplier_pk=party_key(invoice.supplier_siret, shard) if indexed else None,
        recipient_pk=party_key(invoice.recipient_siret, shard) if indexed and invoice.recipient_siret else None,
        updated_key=updated_key(invoice),
    )
    if invoice.version is not None:
        record.version = invoice.version
    return record


def _pack_entry(entry: HistoryEntry) -> dict:
    """A history entry without its empty values; a payment's amount as a decimal string."""
    packed = {k: v for k, v in asdict(entry).items() if v is not None}
    if entry.amount is not None:
        packed["amount"] = str(entry.amount)
    return packed


def _unpack_entry(packed: dict) -> HistoryEntry:
    """As _pack_entry wrote it; entries stored before amounts existed have none."""
    amount = packed.get("amount")
    return HistoryEntry(**{**packed, "amount": None if amount is None else Decimal(amount)})


def pack_details(invoice: Invoice) -> bytes:
    """What no query reads, as compact JSON compressed with zlib. Empty values are left out: every byte of
    the item counts towards the 1 KB of a write unit."""
    s = invoice.summary
    details = {
        "supplier_name": invoice.supplier_name,
        "format": invoice.format,
        "content_type": invoice.content_type,
        "original_key": invoice.original_key,
        "original_size": invoice.original_size,
        "original_sha256": invoice.original_sha256,
        "original_offset": invoice.original_offset,
        "flow_id": invoice.flow_id,
        "flow_file": invoice.flow_file,
        "created_at": invoice.created_at,
        "updated_at": invoice.updated_at,
        "recipient_name": invoice.recipient_name,
        "type": s.type,
        "currency": s.currency,
        "totals": {k: _dec(v) for k, v in asdict(s.totals).items() if v is not None},
        "seller_siret": s.seller_siret,
        "seller_name": s.seller_name,
        "buyer_siret": s.buyer_siret,
        "buyer_name": s.buyer_name,
        "service_code": s.service_code,
        "engagement_number": s.engagement_number,
        "history": [_pack_entry(h) for h in invoice.history],
        "errors": [e.as_dict() for e in invoice.errors],
        "errors_truncated": invoice.errors_truncated or None,
        "attachments": [asdict(a) for a in invoice.attachments],
    }
    compact = {k: v for k, v in details.items() if v is not None and v != [] and v != {}}
    return zlib.compress(json.dumps(compact, ensure_ascii=False, separators=(",", ":")).encode(), 9)


def from_record(record: InvoiceRecord) -> Invoice:
    if record.details is None:
        raise RuntimeError(
            f"invoice {record.id} is stored in the shape used before 2026-11-26 (no 'details' attribute): "
            "see docs/operations.md, Update"
        )
    d = json.loads(zlib.decompress(record.details))
    totals = d.get("totals") or {}
    summary = InvoiceSummary(
        number=record.number,
        issue_date=date.fromisoformat(record.issue_date) if record.issue_date else None,
        type=d.get("type") or "invoice",
        currency=d.get("currency"),
        totals=Totals(**{k: _undec(v) for k, v in totals.items()}),
        seller_siret=d.get("seller_siret"),
        seller_name=d.get("seller_name"),
        buyer_siret=d.get("buyer_siret"),
        buyer_name=d.get("buyer_name"),
        service_code=d.get("service_code"),
        engagement_number=d.get("engagement_number"),
    )
    return Invoice(
        id=record.id,
        supplier_siret=record.supplier_siret,
        supplier_name=d.get("supplier_name", ""),
        format=d.get("format", ""),
        content_type=d.get("content_type", ""),
        original_key=d.get("original_key", ""),
        original_size=int(d.get("original_size", 0)),
        original_sha256=d.get("original_sha256", ""),
        created_at=d.get("created_at", ""),
        updated_at=d.get("updated_at", ""),
        processing=record.processing,  # type: ignore[arg-type]
        summary=summary,
        recipient_siret=record.recipient_siret,
        recipient_name=d.get("recipient_name"),
        errors=[Error(**e) for e in d.get("errors", [])],
        errors_truncated=int(d.get("errors_truncated", 0)),
        history=[_unpack_entry(h) for h in d.get("history", [])],
        attachments=[Attachment(**a) for a in d.get("attachments", [])],
        version=record.version,
        original_offset=d.get("original_offset"),
        flow_id=d.get("flow_id"),
        flow_file=d.get("flow_file"),
    )


def from_stream_image(image: dict[str, Any]) -> Invoice:
    """A DynamoDB stream NewImage/OldImage (attribute-value JSON) as a domain invoice. Lambda's event is JSON:
    binary values arrive base64-encoded."""
    details = image.get("details", {}).get("B")
    if isinstance(details, str):
        image = {**image, "details": {"B": base64.b64decode(details)}}
    return from_record(InvoiceRecord.from_raw_data(image))


class DynamoInvoiceRepository:
    def get(self, invoice_id: str) -> Invoice | None:
        try:
            return from_record(InvoiceRecord.get(invoice_id, consistent_read=True))
        except DoesNotExist:
            return None

    def get_many(self, invoice_ids: list[str]) -> dict[str, Invoice]:
        return get_invoices(invoice_ids)

    def updated_since(self, since: str, segment: int = 0, segments: int = 1) -> Iterator[Invoice]:
        """Every invoice last updated at or after `since` (ISO 8601 UTC, milliseconds, as stored): a scan of the
        table, for operations only (replaying events); `segment`/`segments` split it for parallel workers."""
        found = InvoiceRecord.scan(InvoiceRecord.updated_key >= since, segment=segment, total_segments=segments)
        return (from_record(record) for record in found)

    def search(self, query: InvoiceQuery) -> tuple[list[Invoice], str | None]:
        return search_invoices(query)

    def save(self, invoice: Invoice, claim_number: str | None = None) -> None:
        record = to_record(invoice)
        if claim_number is not None:
            self._claim(claim_number, record.id)
        try:
            record.save()  # VersionAttribute adds the condition on the version read
        except (PutError, UpdateError) as exc:
            if is_conditional_failure(exc):
                raise ConcurrentUpdate(f"invoice {invoice.id} was changed by someone else") from None
            if is_item_too_large(exc):  # nothing was written: the change is refused, never a 500
                raise RecordFull(
                    f"Invoice {invoice.id} cannot take this change: its record would be over the 400 KB the "
                    "platform can store for one invoice (attachments, status changes and comments).",
                    reason="record_full",
                ) from None
            raise
        invoice.version = record.version

    @staticmethod
    def _claim(claim_number: str, invoice_id: str) -> None:
        """Claim (supplier, year, number) for this invoice, or DuplicateNumber.

        A conditional put, not a transaction with the invoice write: a claim that is ours succeeds again,
        so a crash between the two writes is repaired by the redelivery, and a claim costs 1 write unit
        instead of a transaction's 2 per item. Of two invoices racing for one number exactly one wins.
        """
        claim = NumberClaimRecord(claim_number, invoice_id=invoice_id)
        try:
            claim.save(condition=NumberClaimRecord.key.does_not_exist() | (NumberClaimRecord.invoice_id == invoice_id))
        except PutError as exc:
            if is_conditional_failure(exc):
                raise DuplicateNumber(f"invoice number {claim_number} is taken") from None
            raise


def get_invoices(invoice_ids: list[str]) -> dict[str, Invoice]:
    """BatchGetItem, strongly consistent: an invoice an index has just listed is always found (a search page's
    cursor moves past it). One read unit per invoice up to 4 KB."""
    if not invoice_ids:
        return {}
    return {r.id: from_record(r) for r in InvoiceRecord.batch_get(invoice_ids, consistent_read=True)}


class DepositedInvoices(DynamoInvoiceRepository):
    """The invoices as the API reads them: the records, and deposits not decided yet read from their originals.

    A deposit writes only its original; processing writes the record once, with its decision. Until then
    `get` describes the invoice from the original's metadata (pending, no status; its supplier only can see
    it). Everything else is the records' repository's.
    """

    def __init__(self, originals: ObjectStore):
        self.originals = originals

    def get(self, invoice_id: str) -> Invoice | None:
        return super().get(invoice_id) or layout.deposited(invoice_id, self.originals)


def _filters(query: InvoiceQuery):
    conditions = []
    if query.status is not None:
        conditions.append(InvoiceRecord.status_code == query.status)
    if query.number:
        conditions.append(InvoiceRecord.number == query.number)
    if query.counterpart:
        other = InvoiceRecord.recipient_siret if query.role == "supplier" else InvoiceRecord.supplier_siret
        conditions.append(other == query.counterpart)
    if query.issued_from:
        conditions.append(InvoiceRecord.issue_date >= query.issued_from)
    if query.issued_to:
        conditions.append(InvoiceRecord.issue_date <= query.issued_to)
    combined = None
    for condition in conditions:
        combined = condition if combined is None else combined & condition
    return combined


def search_invoices(query: InvoiceQuery) -> tuple[list[Invoice], str | None]:
    index = InvoiceRecord.by_supplier if query.role == "supplier" else InvoiceRecord.by_recipient
    key = InvoiceRecord.updated_key
    # updated_since is exclusive: every key of that very instant sorts below "<instant>#\uffff".
    since = f"{query.updated_since}#\uffff" if query.updated_since else ""
    if query.before and since and query.before <= since:
        return [], None  # nothing between; DynamoDB refuses a BETWEEN whose lower bound is above its upper
    if query.before and since:
        range_condition = key.between(since, query.before)
    elif query.before:
        range_condition = key < query.before
    elif since:
        range_condition = key > since
    else:
        range_condition = None
    # Each shard yields its newest `limit` + 1 matches (one more than a page: is there a next page?); the page is
    # the newest `limit` of all of them. BETWEEN includes its upper bound, the cursor's own entry, dropped below:
    # its shard is asked for one more, or it would look finished with invoices still to come.
    asked = query.limit + (2 if query.before and since else 1)
    found: list[InvoiceRecord] = []
    for shard in range(settings().index_shards):
        results = index.query(
            party_key(query.siret, shard),
            range_key_condition=range_condition,
            filter_condition=_filters(query),
            scan_index_forward=False,
            limit=asked,
            page_size=max(asked, 25),
        )
        found.extend(r for r in results if r.updated_key != query.before and r.updated_key > since)
    found.sort(key=lambda r: r.updated_key, reverse=True)
    page = found[: query.limit]
    next_before = page[-1].updated_key if len(found) > query.limit else None
    # The index entries hold the filters only: the invoices themselves come from the table, in page order. An
    # index is eventually consistent: an entry can outlive a re-route for a moment, so the party is checked again
    # on the invoice itself.
    full = get_invoices([r.id for r in page])
    party = "supplier_siret" if query.role == "supplier" else "recipient_siret"
    return [full[r.id] for r in page if r.id in full and getattr(full[r.id], party) == query.siret], next_before
