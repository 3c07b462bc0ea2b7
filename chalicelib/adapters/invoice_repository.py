"""Invoices in DynamoDB: conditional create, optimistic locking on every change."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from ..config import settings
from ..domain.invoice import (
    Attachment,
    Error,
    HistoryEntry,
    Invoice,
    InvoiceSummary,
    PaymentMeans,
    PrecedingInvoice,
    Totals,
    number_key,
)
from ..services import layout
from ..services.errors import ConcurrentUpdate, DuplicateNumber, RecordFull
from ..services.ports import InvoiceQuery, ObjectStore
from .tables import InvoiceRecord, NumberClaimRecord, is_conditional_failure, is_item_too_large, kept_until


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


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
        expires=kept_until(invoice.created_at),  # with its original, the legal retention after the deposit
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


def _unpack_payment_means(packed: list[dict] | None) -> tuple[PaymentMeans, ...] | None:
    """As pack_details wrote them (the keys it knows: a later version's are ignored); None for a record without."""
    if packed is None:
        return None
    return tuple(PaymentMeans(m.get("code"), m.get("account"), m.get("bic")) for m in packed)


def _unpack_preceding_invoices(packed: list[dict] | None) -> tuple[PrecedingInvoice, ...] | None:
    """As pack_details wrote them; None for a record stored before they were kept."""
    if packed is None:
        return None
    return tuple(
        PrecedingInvoice(p.get("number"), date.fromisoformat(p["issue_date"]) if p.get("issue_date") else None)
        for p in packed
    )


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
        "type_code": s.type_code,
        "currency": s.currency,
        "totals": {k: _dec(v) for k, v in asdict(s.totals).items() if v is not None},
        "seller_siret": s.seller_siret,
        "seller_name": s.seller_name,
        "buyer_siret": s.buyer_siret,
        "buyer_name": s.buyer_name,
        "service_code": s.service_code,
        "engagement_number": s.engagement_number,
        "due_date": _iso(s.due_date),
        "seller_vat_id": s.seller_vat_id,
        "history": [_pack_entry(h) for h in invoice.history],
        "errors": [e.as_dict() for e in invoice.errors],
        "errors_truncated": invoice.errors_truncated or None,
        "attachments": [asdict(a) for a in invoice.attachments],
        "request_keys": [list(pair) for pair in invoice.request_keys],
        # [[position of the re-route's 203, structure]]: a key of its own, the entries keep their shape (code
        # deployed before reads them as HistoryEntry(**entry), and ignores the keys it does not know)
        "rerouted_to": [[position, siret] for position, siret in sorted(invoice.rerouted_to.items())],
        # [[position a stretch began at, the recipient's name a re-route replaced]], beside them for the same reason
        "former_recipient_names": [
            [position, name] for position, name in sorted(invoice.former_recipient_names.items())
        ],
        "former_service_codes": [[position, code] for position, code in sorted(invoice.former_service_codes.items())],
    }
    compact = {k: v for k, v in details.items() if v is not None and v != [] and v != {}}
    if s.payment_means is not None:  # [] kept: the document has none (a record without the key predates them)
        compact["payment_means"] = [{k: v for k, v in asdict(m).items() if v is not None} for m in s.payment_means]
    if s.payment_means_truncated:  # only when cut (a record stored before the flag reads as not cut)
        compact["payment_means_truncated"] = True
    if s.preceding_invoices is not None:  # [] kept, as payment_means
        compact["preceding_invoices"] = [
            {k: v for k, v in (("number", p.number), ("issue_date", _iso(p.issue_date))) if v is not None}
            for p in s.preceding_invoices
        ]
    if s.preceding_invoices_truncated:
        compact["preceding_invoices_truncated"] = True
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
        type_code=d.get("type_code"),
        currency=d.get("currency"),
        totals=Totals(**{k: _undec(v) for k, v in totals.items()}),
        seller_siret=d.get("seller_siret"),
        seller_name=d.get("seller_name"),
        buyer_siret=d.get("buyer_siret"),
        buyer_name=d.get("buyer_name"),
        service_code=d.get("service_code"),
        engagement_number=d.get("engagement_number"),
        due_date=date.fromisoformat(d["due_date"]) if d.get("due_date") else None,
        seller_vat_id=d.get("seller_vat_id"),
        payment_means=_unpack_payment_means(d.get("payment_means")),
        payment_means_truncated=d.get("payment_means_truncated", False),
        preceding_invoices=_unpack_preceding_invoices(d.get("preceding_invoices")),
        preceding_invoices_truncated=d.get("preceding_invoices_truncated", False),
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
        request_keys=[(key, request) for key, request in d.get("request_keys", [])],
        rerouted_to={int(position): siret for position, siret in d.get("rerouted_to", [])},
        former_recipient_names={int(position): name for position, name in d.get("former_recipient_names", [])},
        former_service_codes={int(position): code for position, code in d.get("former_service_codes", [])},
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
            self.claim_number(claim_number, record.id)
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
    def claim_number(claim_number: str, invoice_id: str, expires: datetime | None = None) -> None:
        """Claim (supplier, year, number) for this invoice, or DuplicateNumber. `expires`: the claim's TTL, by default
        the retention from now (infra/migrate.py moves a claim with its own).

        A conditional put, not a transaction with the invoice write: a claim that is ours succeeds again,
        so a crash between the two writes is repaired by the redelivery, and a claim costs 1 write unit
        instead of a transaction's 2 per item. Of two invoices racing for one number exactly one wins.
        """
        claim = NumberClaimRecord(claim_number, invoice_id=invoice_id, expires=expires or kept_until())
        try:
            claim.save(condition=NumberClaimRecord.key.does_not_exist() | (NumberClaimRecord.invoice_id == invoice_id))
        except PutError as exc:
            if is_conditional_failure(exc):
                raise DuplicateNumber(f"invoice number {claim_number} is taken") from None
            raise

    def release_number(self, claim_number: str, invoice_id: str) -> bool:
        try:
            NumberClaimRecord(claim_number).delete(condition=NumberClaimRecord.invoice_id == invoice_id)
        except DeleteError as exc:
            if is_conditional_failure(exc):
                return False  # free, or another invoice's: left as it is
            raise
        return True


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


# Invoices read from the table, beyond a page's own, to check what an index entry cannot tell (the service, and the
# buyer a rejected invoice names, for `counterpart`): at most this many per request, then the page stops there and
# resumes after.
POST_CHECK_BUDGET = 100


def _filters(query: InvoiceQuery):
    conditions = []
    if query.statuses:
        conditions.append(InvoiceRecord.status_code.is_in(*query.statuses))
    if query.counterpart and query.role == "supplier":
        # An invoice routed to no one (rejected) has no recipient: its counterpart is the buyer it names, which
        # only the invoice itself holds (checked in _read_page).
        recipient = InvoiceRecord.recipient_siret
        conditions.append((recipient == query.counterpart) | recipient.does_not_exist())
    elif query.counterpart:
        conditions.append(InvoiceRecord.supplier_siret == query.counterpart)
    if query.issued_from:
        conditions.append(InvoiceRecord.issue_date >= query.issued_from)
    if query.issued_to:
        conditions.append(InvoiceRecord.issue_date <= query.issued_to)
    combined = None
    for condition in conditions:
        combined = condition if combined is None else combined & condition
    return combined


def _needs_invoice(entry: InvoiceRecord, query: InvoiceQuery) -> bool:
    """Whether only the invoice can tell if an entry matches: the service it is routed to (no index holds it), or
    for `counterpart` the buyer it names (it was routed to no one)."""
    if query.service_code:
        return True
    return bool(query.counterpart) and query.role == "supplier" and entry.recipient_siret is None


def _belongs(invoice: Invoice, query: InvoiceQuery) -> bool:
    """The invoice is the caller's in its role, with the service and counterpart asked for. An index is eventually
    consistent: an entry can outlive a re-route for a moment, so this is checked on the invoice itself."""
    party = invoice.supplier_siret if query.role == "supplier" else invoice.recipient_siret
    if party != query.siret:
        return False
    if query.service_code and invoice.summary.service_code != query.service_code:
        return False
    if not query.counterpart:
        return True
    if query.role == "recipient":
        return invoice.supplier_siret == query.counterpart
    return (invoice.recipient_siret or invoice.summary.buyer_siret) == query.counterpart


def _key_range(lower: str, before: str | None):
    """Sort keys below `before` and above `lower` ("": no bound). BETWEEN includes both: the caller drops the
    cursor's own entry, and `lower` is no entry of the shard asked (the bound of updated_since is no key,
    a floor is a key of another shard)."""
    key = InvoiceRecord.updated_key
    if before and lower:
        return key.between(lower, before)
    if before:
        return key < before
    return key > lower if lower else None


def _evaluate_shard(
    index, partition: str, key_range, filters, *, first_page: int, wanted: int, budget: int | None, keep
) -> tuple[list[InvoiceRecord], str | None]:
    """One shard's entries, newest first, until `wanted` matches, `budget` entries evaluated, or the end of the range.

    Returns the matches and the position of the last entry evaluated (None: the whole range was evaluated). Every
    entry of the range from its top down to that position was evaluated. Pages double from `first_page`: a sparse
    filter takes a few DynamoDB requests instead of one per `first_page` entries.
    """
    matches: list[InvoiceRecord] = []
    evaluated, page_size, start = 0, first_page, None
    while True:
        size = page_size if budget is None else min(page_size, budget - evaluated)
        results = index.query(partition, range_key_condition=key_range, filter_condition=filters,
                              scan_index_forward=False, page_size=size, last_evaluated_key=start)  # fmt: skip
        page = next(results.page_iter)  # exactly one DynamoDB request: its Limit is the entries it evaluates
        evaluated += page["ScannedCount"]
        matches.extend(entry for entry in map(InvoiceRecord.from_raw_data, page.get("Items", [])) if keep(entry))
        start = page.get("LastEvaluatedKey")
        if start is None:
            return matches, None
        if len(matches) >= wanted or (budget is not None and evaluated >= budget):
            return matches, start["updated_key"]["S"]
        page_size *= 2


def _read_page(candidates: list[InvoiceRecord], query: InvoiceQuery) -> tuple[list[Invoice], int]:
    """The invoices of the first candidates that belong (_belongs), up to a page, and how many candidates were
    examined. The index entries hold the filters only: the invoices come from the table, in the candidates' order.
    Candidates only the invoice can tell about (_needs_invoice) are read too, at most POST_CHECK_BUDGET invoices
    beyond the page.
    An invoice that would take the page past `page_bytes` is left unexamined (unless the page is empty): the
    cursor then resumes at it. An invoice changed since its entry was indexed (a GSI lags the table) is left out:
    it is listed at its new position, above the cursor, where a delta poll finds it; so every invoice of a page
    sorts where its entry did, and no page shows a change newer than the positions a pass has reached."""
    page: list[Invoice] = []
    room = query.page_bytes if query.page_bytes is not None and query.item_bytes is not None else None
    examined, spare = 0, max(POST_CHECK_BUDGET, 1)  # at least one: a page examines at least one candidate
    while examined < len(candidates) and len(page) < query.limit and spare > 0:
        # The next entries up to the page's worth of those expected to belong, with at most `spare` to check: the
        # reads stay within a page plus POST_CHECK_BUDGET, and the first batch holds at least one entry.
        need, batch, to_check = query.limit - len(page), [], 0
        for entry in candidates[examined:]:
            if _needs_invoice(entry, query):
                if to_check == spare:
                    break
                to_check += 1
            batch.append(entry)
            if len(batch) - to_check == need:
                break
        invoices = get_invoices([entry.id for entry in batch])
        for entry in batch:
            invoice = invoices.get(entry.id)
            belongs = invoice is not None and updated_key(invoice) == entry.updated_key and _belongs(invoice, query)
            if belongs and room is not None:
                room -= query.item_bytes(invoice)
                if page and room < 0:
                    return page, examined
            examined += 1
            if belongs:
                page.append(invoice)
                if len(page) == query.limit:
                    break
            else:
                spare -= 1
    return page, examined


def search_invoices(query: InvoiceQuery) -> tuple[list[Invoice], str | None]:
    """One page of the caller's invoices and the position the next page starts below (None: this one is the last).

    Each shard of the caller's index partition is read newest first and the pages are merged. A shard stops at a
    page's worth of matches plus one (is there a next page?), at the end of the range, or, for a filtered search,
    at `read_budget` entries evaluated: a sparse filter no longer reads the whole partition in one request. The
    `floor` is the highest position where a shard stopped: every shard has evaluated every entry above it, so the
    matches above it are in order and complete, those below are left to the next page (read again then). The page
    is the newest of them; the cursor is the last entry examined, or the floor when all were (a short, even empty,
    page then still has a next one). Shards asked after one stopped read only down to the floor.
    """
    index = InvoiceRecord.by_supplier if query.role == "supplier" else InvoiceRecord.by_recipient
    before = query.before
    # updated_since is exclusive: every key of that very instant sorts below "<instant>#\uffff".
    since = f"{query.updated_since}#\uffff" if query.updated_since else ""
    if before and since and before <= since:
        return [], None  # nothing between; DynamoDB refuses a BETWEEN whose lower bound is above its upper
    filters = _filters(query)
    # The number is compared here, as the duplicate control compares it (number_key): a search for 'FAC-É-5' finds
    # 'fac-é-5' and 'FAC\u2011É\u20115' too. A DynamoDB filter only spares bytes, not reads, so nothing is lost.
    number = number_key(query.number) if query.number else None
    # Unfiltered, every entry is a match: a shard stops at a page's worth (plus one) whatever the budget. At least
    # 2 entries: a BETWEEN's first is the cursor's own, which must not be where a shard stops (no progress).
    filtered = filters is not None or number is not None
    budget = max(query.read_budget, 2) if filtered and query.read_budget is not None else None

    def keep(entry: InvoiceRecord) -> bool:  # BETWEEN includes its bounds: the cursor's own entry was on a page
        if number is not None and (entry.number is None or number_key(entry.number) != number):
            return False
        return entry.updated_key != before and entry.updated_key > since

    floor, found = "", []
    for shard in range(settings().index_shards):
        lower = max(since, floor)  # floor is a key of the shard that stopped there: no other shard holds it
        matches, stopped_at = _evaluate_shard(
            index, party_key(query.siret, shard), _key_range(lower, before), filters,
            first_page=max(query.limit + (2 if before and lower else 1), 25),  # as many as a page, and the cursor's
            wanted=query.limit + 1, budget=budget, keep=keep,
        )  # fmt: skip
        found.extend(matches)
        floor = max(floor, stopped_at or "")
    candidates = sorted((e for e in found if e.updated_key >= floor), key=lambda e: e.updated_key, reverse=True)
    page, examined = _read_page(candidates, query)
    if examined < len(candidates):
        return page, candidates[examined - 1].updated_key
    return page, floor or None
