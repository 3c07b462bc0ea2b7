"""Processing a deposited original: validate, extract, decide 203 or 213. Safe to run twice."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from ..domain.invoice import Error, Invoice, InvoiceSummary
from ..domain.summary import business_term_locations, summarize
from . import controls, intake
from . import originals as layout
from .clock import utc_now
from .errors import ConcurrentUpdate, DuplicateNumber
from .ports import Directory, InvoiceRepository, OriginalStore

REJECTION_SEMANTIC = "REJ_SEMAN"  # reform reason: EN 16931 semantic rejection


def validate_en16931(data: bytes):
    """The EN 16931 engine, loaded on first use (keeps the rule tables out of the API's cold start)."""
    from ..validation import validate

    return validate(data)


class OriginalMissing(Exception):
    """The notification names an object we cannot read: retried, then dead-lettered."""


def process_original(
    key: str,
    *,
    invoices: InvoiceRepository,
    originals: OriginalStore,
    directory: Directory,
    validate: Callable | None = None,
    now: Callable[[], str] = utc_now,
) -> Invoice | None:
    """Take an original in the bucket to its first status. Returns None for keys that are not originals."""
    invoice_id = layout.invoice_id_from_key(key)
    if invoice_id is None:
        return None
    invoice = invoices.get(invoice_id)
    if invoice is not None and invoice.processing == "done":
        return invoice  # redelivery: already decided
    stored = originals.get(key)
    if stored is None:
        raise OriginalMissing(f"no object at {key}")
    if invoice is None:  # a flow's invoice, or a deposit that crashed between the S3 write and the record write
        # Built here and written once, with its decision (saving a version-less record is a conditional create).
        invoice = _record_from_metadata(invoice_id, key, stored, directory)

    source = intake.validation_source(key, stored, originals)  # the XML inside a Factur-X PDF, the UBL of a JSON
    report = (validate or validate_en16931)(source.xml)
    if source.refusal is not None:  # e.g. a Factur-X MINIMUM profile: not a complete invoice
        report.findings.insert(0, source.refusal)
    summary = summarize(report.invoice) if report.invoice is not None else InvoiceSummary()
    findings = [Error(f.rule, f.severity, f.message, f.location) for f in report.findings]
    at = now()
    if not report.valid:
        fatal = sorted({f.rule for f in report.findings if f.severity == "fatal"})
        comment = (
            f"EN 16931: {len(fatal)} rule(s) failed: {', '.join(fatal[:10])}{'…' if len(fatal) > 10 else ''}"
            if fatal and source.refusal is None
            else source.refusal.message
            if source.refusal is not None
            else (report.error.detail if getattr(report, "error", None) else "The document could not be read.")
        )
        recipient = directory.structure(summary.buyer_siret) if summary.buyer_siret else None
        invoice.reject(summary, recipient.name if recipient else None, findings, REJECTION_SEMANTIC, comment, at)
        return _save_decision(invoices, invoice)

    locations = business_term_locations(report.invoice)
    failure = controls.supplier_failure(summary, invoice.supplier_siret)
    recipient, routing = controls.routing_failure(summary, directory)
    failure = failure or routing
    recipient_name = recipient.name if recipient else None
    if failure is not None:
        invoice.reject(summary, recipient_name, [_finding(failure, locations), *findings], failure.reason_code,
                       failure.message, at)  # fmt: skip
        return _save_decision(invoices, invoice)

    invoice.accept(summary, recipient_name, findings, at)
    try:
        return _save_decision(invoices, invoice, controls.number_claim_key(summary, invoice.supplier_siret))
    except DuplicateNumber:
        duplicate = controls.duplicate_failure(summary, invoice.supplier_siret)
        fresh = invoices.get(invoice_id) or _record_from_metadata(invoice_id, key, stored, directory)
        fresh.reject(summary, recipient_name, [_finding(duplicate, locations), *findings], duplicate.reason_code,
                     duplicate.message, at)  # fmt: skip
        return _save_decision(invoices, fresh)


def _finding(failure: controls.ControlFailure, locations: dict[str, str]) -> Error:
    return Error(failure.rule, "fatal", failure.message, locations.get(failure.business_term, "/"))


def _save_decision(invoices: InvoiceRepository, invoice: Invoice, claim_number: str | None = None) -> Invoice:
    try:
        invoices.save(invoice, claim_number=claim_number)
    except ConcurrentUpdate:
        # Another delivery of the same message got there first: its decision stands.
        current = invoices.get(invoice.id)
        if current is None or current.processing != "done":
            raise
        return current
    return invoice


def mark_failed(key: str, *, invoices: InvoiceRepository, now: Callable[[], str] = utc_now) -> Invoice | None:
    """Last attempt failed: flag the record so people can see it (the message goes to the DLQ)."""
    invoice_id = layout.invoice_id_from_key(key)
    invoice = invoices.get(invoice_id) if invoice_id else None
    if invoice is None or invoice.processing == "done":
        return invoice
    invoice.fail(now())
    invoices.save(invoice)
    return invoice


def _record_from_metadata(invoice_id: str, key: str, stored, directory: Directory) -> Invoice:
    meta = stored.metadata
    supplier = meta.get(layout.META_SUPPLIER, "")
    structure = directory.structure(supplier) if supplier else None
    received_at = meta.get(layout.META_RECEIVED_AT) or utc_now()
    return Invoice(
        id=invoice_id,
        supplier_siret=supplier,
        supplier_name=structure.name if structure else "",
        format=meta.get(layout.META_FORMAT, "unknown"),
        content_type=stored.content_type,
        original_key=key,
        original_size=len(stored.data),
        original_sha256=meta.get(layout.META_SHA256) or hashlib.sha256(stored.data).hexdigest(),
        created_at=received_at,
        updated_at=received_at,
    )
