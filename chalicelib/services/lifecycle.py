"""The parties' side of the lifecycle: status changes, re-routing after a routing error, attachments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ..domain import lifecycle
from ..domain.directory import Principal
from ..domain.ids import new_id
from ..domain.invoice import Attachment, Invoice
from ..domain.statuses import STATUSES
from . import controls
from .clock import utc_now
from .errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
)
from .ports import Directory, InvoiceRepository, OriginalStore
from .queries import visible_invoice

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_INVOICE_BYTES = 120 * 1024 * 1024  # the invoice and all its attachments (Chorus Pro's dossier limit)
MAX_ATTACHMENT_NAME = 50
ATTACHMENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "xml": "application/xml",
    "csv": "text/csv",
    "odt": "application/vnd.oasis.opendocument.text",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_MAGIC = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "odt": (b"PK\x03\x04",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
}


@dataclass(frozen=True, slots=True)
class NextStatus:
    code: int
    reason_required: bool
    reasons: tuple[str, ...]


def _refuse(refusal: lifecycle.Refusal):
    if refusal.kind == "role":
        raise Forbidden(refusal.message)
    if refusal.kind == "transition":
        raise Conflict(refusal.message, allowed=list(refusal.allowed))
    raise Unprocessable(refusal.message)


def next_statuses(
    principal: Principal, invoice_id: str, *, invoices: InvoiceRepository
) -> tuple[Invoice, list[NextStatus]]:
    invoice = visible_invoice(principal, invoice_id, invoices=invoices)
    current = invoice.status.code if invoice.status else None
    codes = sorted({c for party in invoice.parties_of(principal.siret) for c in lifecycle.allowed_next(party, current)})
    return invoice, [
        NextStatus(c, c in lifecycle.REASON_REQUIRED, tuple(sorted(lifecycle.REASONS.get(c, ())))) for c in codes
    ]


def change_status(
    principal: Principal,
    invoice_id: str,
    code: object,
    reason_code: object,
    comment: object,
    *,
    invoices: InvoiceRepository,
    now: Callable[[], str] = utc_now,
) -> Invoice:
    """Apply a party's status change; optimistic locking makes exactly one of two racing changes win."""
    if isinstance(code, bool) or not isinstance(code, int) or code not in STATUSES:
        raise Unprocessable(f"'code' must be one of the lifecycle status codes {sorted(STATUSES)}.")
    for name, value in (("reason_code", reason_code), ("comment", comment)):
        if value is not None and not isinstance(value, str):
            raise Unprocessable(f"'{name}' must be a string.")
    if isinstance(comment, str) and len(comment) > 1000:
        raise Unprocessable("'comment' is limited to 1000 characters.")
    invoice = visible_invoice(principal, invoice_id, invoices=invoices)
    current = invoice.status.code if invoice.status else None
    parties = invoice.parties_of(principal.siret)
    has_new_attachment = invoice.attachment_since_last(lifecycle.SUSPENDED, "supplier")
    party, refusal = lifecycle.check_transition(
        parties, current, code, reason_code or None, comment, has_new_attachment
    )
    if refusal:
        _refuse(refusal)
    invoice.set_status(code, party, reason_code or None, comment or None, now())
    invoices.save(invoice)
    return invoice


def reroute(
    principal: Principal,
    invoice_id: str,
    service_code: object,
    engagement_number: object,
    *,
    invoices: InvoiceRepository,
    directory: Directory,
    now: Callable[[], str] = utc_now,
) -> Invoice:
    """The supplier's new routing references for a 221 invoice (Chorus Pro's `recycler`); same number."""
    for name, value in (("service_code", service_code), ("engagement_number", engagement_number)):
        if value is not None and not (isinstance(value, str) and 0 < len(value.strip()) <= 100):
            raise Unprocessable(f"'{name}' must be a non-empty string of at most 100 characters, or null.")
    invoice = visible_invoice(principal, invoice_id, invoices=invoices)
    if "supplier" not in invoice.parties_of(principal.siret):
        raise Forbidden("Only the invoice's supplier may re-route it.")
    if not invoice.status or invoice.status.code != lifecycle.ROUTING_ERROR:
        raise Conflict("Only an invoice in status 221 (routing error) can be re-routed.", allowed=[])
    proposed = replace(invoice.summary, service_code=service_code, engagement_number=engagement_number)
    _recipient, failure = controls.routing_failure(proposed, directory)
    if failure is not None:
        raise Unprocessable(failure.message, reason_code=failure.reason_code)
    invoice.reroute(proposed.service_code, proposed.engagement_number, now())
    invoices.save(invoice)
    return invoice


def _sniff_ok(extension: str, data: bytes) -> bool:
    if extension in _MAGIC:
        return data.startswith(_MAGIC[extension])
    if extension == "xml":
        return data.lstrip()[:1] == b"<"
    try:  # csv: text
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in data[:4096]


def add_attachment(
    principal: Principal,
    invoice_id: str,
    name: str | None,
    data: bytes,
    *,
    invoices: InvoiceRepository,
    originals: OriginalStore,
    now: Callable[[], str] = utc_now,
) -> tuple[Invoice, Attachment]:
    invoice = visible_invoice(principal, invoice_id, invoices=invoices)
    name = (name or "").strip()
    if not name or len(name) > MAX_ATTACHMENT_NAME or "/" in name or "\\" in name or name.startswith("."):
        raise InvalidInput(
            f"Give the attachment a file name of at most {MAX_ATTACHMENT_NAME} characters, with extension."
        )
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ATTACHMENT_TYPES:
        raise UnsupportedMediaType(
            f"Attachments may be {', '.join(sorted(ATTACHMENT_TYPES))}; {name!r} is not.",
            accepted=sorted(ATTACHMENT_TYPES),
        )
    if not data:
        raise InvalidInput("The attachment is empty.")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise PayloadTooLarge(
            f"An attachment is limited to {MAX_ATTACHMENT_BYTES} bytes.", limit_bytes=MAX_ATTACHMENT_BYTES
        )
    if invoice.attachments_bytes + len(data) > MAX_INVOICE_BYTES:
        raise PayloadTooLarge(
            f"An invoice and its attachments are limited to {MAX_INVOICE_BYTES} bytes.", limit_bytes=MAX_INVOICE_BYTES
        )
    if not _sniff_ok(extension, data):
        raise UnsupportedMediaType(f"The content of {name!r} is not a {extension.upper()} file.")
    party = invoice.parties_of(principal.siret)[0]
    attachment_id = new_id()
    key = f"attachments/{invoice.id}/{attachment_id}"
    originals.put(key, data, ATTACHMENT_TYPES[extension], {"invoice-id": invoice.id, "uploaded-by": principal.siret})
    attachment = Attachment(attachment_id, name, ATTACHMENT_TYPES[extension], len(data), key, party, now())
    invoice.attach(attachment)
    invoices.save(invoice)
    return invoice, attachment


def attachment_download_url(
    principal: Principal, invoice_id: str, attachment_id: str, *, invoices: InvoiceRepository, originals: OriginalStore
) -> str:
    invoice = visible_invoice(principal, invoice_id, invoices=invoices)
    attachment = next((a for a in invoice.attachments if a.id == attachment_id), None)
    if attachment is None:
        raise NotFound(f"No attachment {attachment_id} on invoice {invoice_id}.")
    return originals.download_url(attachment.key, attachment.name)
