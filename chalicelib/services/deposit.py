"""Deposit: accept an invoice file and keep the original. Validation (and the record) happen downstream."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from ..domain.directory import Principal
from ..domain.ids import new_id
from ..domain.invoice import Invoice
from ..formats import sniffing
from . import intake, layout
from .authentication import require_role
from .clock import utc_now
from .errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from .ports import IdempotencyGuard, InvoiceRepository, ObjectStore

XML_MEDIA_TYPES = sniffing.MEDIA_TYPES[sniffing.XML]  # application/xml, text/xml
SUPPORTED_MEDIA_TYPES = (*XML_MEDIA_TYPES, intake.PDF_MEDIA, intake.JSON_MEDIA)  # Factur-X, structured JSON


def deposit_invoice(
    principal: Principal,
    body: bytes,
    content_type: str | None,
    *,
    invoices: InvoiceRepository,
    originals: ObjectStore,
    max_bytes: int,
    idempotency: IdempotencyGuard | None = None,
    idempotency_key: str | None = None,
    on_new: Callable[[Invoice], None] | None = None,
    now: Callable[[], str] = utc_now,
) -> Invoice:
    """Check what can be checked at once and store the original: that is the deposit.

    The original (with what it is in its metadata) is in S3 before we answer, and its notification drives
    processing, which writes the invoice's record once, with its decision: nothing accepted is lost and no
    record is ever half-written. Until then the invoice is read from its original (see
    adapters.invoice_repository.DepositedInvoices): pending, with no status.
    """
    require_role(principal, "supplier")
    media = sniffing.media_type(content_type)
    if media not in SUPPORTED_MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"Content-Type {media or '(none)'!r} is not accepted here; send {' or '.join(SUPPORTED_MEDIA_TYPES)} "
            "(a UBL 2.1 Invoice/CreditNote or a UN/CEFACT CII D16B CrossIndustryInvoice as XML, a Factur-X PDF, "
            "or a structured JSON invoice: GET /v1/schemas/invoice.json).",
            accepted=list(SUPPORTED_MEDIA_TYPES),
        )
    if not body:
        raise InvalidInput("The request body is empty: send the invoice file as the body.")
    if len(body) > max_bytes:
        raise PayloadTooLarge(
            f"The body is {len(body)} bytes; synchronous deposits are limited to {max_bytes} bytes. "
            "Send larger files through the upload route (POST /v1/uploads).",
            limit_bytes=max_bytes,
        )
    prepared = intake.prepare(body, media)  # sniffing; hardened XML; Factur-X extraction; JSON schema → UBL
    syntax = prepared.format

    fingerprint = hashlib.sha256(body).hexdigest()

    stored: list[Invoice] = []  # what this call deposited (nothing when an Idempotency-Key replays)

    def store() -> str:
        invoice_id = new_id()
        key = layout.original_key(invoice_id)
        metadata = {
            layout.META_INVOICE_ID: invoice_id,
            layout.META_SUPPLIER: principal.siret,
            layout.META_SUPPLIER_NAME: layout.encode_name(principal.name),
            layout.META_FORMAT: syntax,
            layout.META_SHA256: fingerprint,
            layout.META_RECEIVED_AT: now(),
            **prepared.metadata,
        }
        intake.store_rendition(originals, invoice_id, prepared, {layout.META_INVOICE_ID: invoice_id})
        originals.put(key, body, media, metadata)
        stored.append(layout.deposited_invoice(invoice_id, key, media, len(body), metadata))
        return invoice_id

    if idempotency is not None and idempotency_key:
        invoice_id = idempotency.run_once(f"{principal.siret}:{idempotency_key}", fingerprint, store)
    else:
        invoice_id = store()
    if stored:
        if on_new is not None:  # what this call deposited, not an Idempotency-Key replay (e.g. to count it once)
            on_new(stored[0])
        return stored[0]
    invoice = invoices.get(invoice_id) or layout.deposited(invoice_id, originals)  # a replay: decided or not
    if invoice is None:
        raise RuntimeError(f"invoice {invoice_id} vanished after deposit")
    return invoice
