"""Deposit: accept an invoice file and keep the original. Validation (and the record) happen downstream."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from ..domain.directory import Principal
from ..domain.ids import derived_id, new_id
from ..domain.invoice import Invoice
from ..formats import sniffing
from . import intake, layout
from .authentication import require_role
from .clock import utc_now
from .errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from .ports import InvoiceRepository, ObjectStore

log = logging.getLogger(__name__)

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
    idempotency_key: str | None = None,
    on_new: Callable[[Invoice], None] | None = None,
    now: Callable[[], str] = utc_now,
) -> Invoice:
    """Check what can be checked at once and store the original: that is the deposit.

    The original (with what it is in its metadata) is in S3 before we answer, and its notification drives
    processing, which writes the invoice's record once, with its decision: nothing accepted is lost and no
    record is ever half-written. Until then the invoice is read from its original (see
    adapters.invoice_repository.DepositedInvoices): pending, with no status.

    With an `idempotency_key`, the invoice id is derived from (supplier, key) and the original is written only if
    absent: a retry, even after an attempt that failed once its write had landed, finds that original and answers
    it (the same body) or refuses the key (409, another body). The S3 object is the key's record: nothing else is
    written, and it holds as long as the original is kept.
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
    # sniffing; hardened XML; Factur-X extraction; JSON schema → UBL
    prepared = intake.prepare(body, media, sniffing.charset_parameter(content_type))
    syntax = prepared.format

    fingerprint = hashlib.sha256(body).hexdigest()
    # With a key, the id is the key's (per supplier): a retry targets the same original whatever became of the
    # first attempt (its write landed but the answer was lost, or the Lambda died after it).
    invoice_id = derived_id("deposit", principal.siret, idempotency_key) if idempotency_key else new_id()
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
    # The rendition first (processing looks for it), with the original's hash: a key reused with another body
    # must not replace the first invoice's.
    rendition_metadata = {layout.META_INVOICE_ID: invoice_id, layout.META_SHA256: fingerprint}
    if not idempotency_key:
        intake.store_rendition(originals, invoice_id, prepared, rendition_metadata)
        originals.put(key, body, media, metadata)
    else:
        rendition = intake.rendition_key(invoice_id) if prepared.rendition is not None else None
        found = None
        if rendition is not None:
            found = originals.put_if_absent(rendition, prepared.rendition, intake.XML_MEDIA, rendition_metadata)
            intake.refuse_other_body(found, fingerprint)
        existing = originals.put_if_absent(key, body, media, metadata)
        if existing is not None:  # a replay, or the retry of an attempt whose answer was lost: nothing new
            if existing.metadata.get(layout.META_SHA256) != fingerprint and rendition is not None and found is None:
                _discard_rendition(originals, rendition)  # ours, beside an original of another body (which had none)
            intake.refuse_other_body(existing, fingerprint)
            return invoices.get(invoice_id) or layout.deposited_invoice(
                invoice_id, key, existing.content_type, existing.size, existing.metadata
            )
    invoice = layout.deposited_invoice(invoice_id, key, media, len(body), metadata)
    if on_new is not None:  # what this call deposited, not an Idempotency-Key replay (e.g. to count it once)
        on_new(invoice)
    return invoice


def _discard_rendition(originals: ObjectStore, key: str) -> None:
    """Best effort: a rendition beside an XML original is never read (processing reads renditions of JSON and
    Factur-X deposits only), and the API's role may not delete renditions; the refusal (409) must not become a 500."""
    try:
        originals.delete(key)
    except Exception:
        log.warning("stray rendition %s left beside an original of another body", key, exc_info=True)
