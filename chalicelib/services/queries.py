"""Reading invoices: only their supplier and their recipient may see them."""

from __future__ import annotations

import hashlib
import unicodedata

from ..domain.directory import Principal
from ..domain.ids import is_ulid
from ..domain.invoice import HistoryEntry, Invoice
from . import controls, intake, layout
from .errors import NotFound
from .ports import Directory, InvoiceRepository, ObjectStore


def visible_invoice(principal: Principal, invoice_id: str, *, invoices: InvoiceRepository) -> Invoice:
    """The invoice if the caller is a party to it; NotFound otherwise (existence is not disclosed)."""
    invoice = invoices.get(invoice_id) if is_ulid(invoice_id) else None
    if invoice is None or not invoice.is_party(principal.siret):
        raise NotFound(f"No invoice {invoice_id} is visible to you.")
    return invoice


def recipient_active(invoice: Invoice, *, directory: Directory) -> bool | None:
    """Whether the structure the invoice is routed to is active in the directory (False: deactivated or gone, which
    lets its supplier re-route it before approval); None while it is routed to none. One directory read."""
    if not invoice.recipient_siret:
        return None
    return controls.inactive_recipient(invoice.recipient_siret, directory) is None


def visible_history(
    principal: Principal, invoice_id: str, *, invoices: InvoiceRepository
) -> list[tuple[int, HistoryEntry]]:
    """The invoice's history as the caller may read it, each entry with its position in the whole history (the n of
    its status event's id): a recipient after a re-routing reads it from its own routing on (Invoice.history_for)."""
    invoice = visible_invoice(principal, invoice_id, invoices=invoices)
    start = invoice.history_start_for(principal.siret)
    return list(enumerate(invoice.history[start:], start))


MAX_FILE_NAME_NUMBER = 100
_NUMERO_SIGNS = "°№"  # as in "N°2026-001": kept, the number reads as written
_KEPT_IN_FILE_NAME = frozenset("._-" + _NUMERO_SIGNS)


def download_name(invoice: Invoice) -> str:
    """The downloaded file's name (without extension): the invoice number (NFC) when it has at most 100 characters
    and a letter or digit, each character other than a letter or digit (of any script), '.', '_', '-', '°' or '№'
    replaced by '_' (FA/2026 0001: FA_2026_0001; replaced, not dropped, so FA/20/261 and FA/2026/1 keep apart), else
    the invoice id: the name travels in the download URL (the Location header), and a record from before the length
    control may hold any number. The download sends it as attachment_disposition does (an ASCII fallback, and the
    name itself in filename* when it is not ASCII)."""
    number = unicodedata.normalize("NFC", (invoice.summary.number or "").strip())
    if len(number) > MAX_FILE_NAME_NUMBER or not any(c.isalnum() for c in number):
        return invoice.id
    return "".join(c if c in _KEPT_IN_FILE_NAME or unicodedata.category(c)[0] in "LMN" else "_" for c in number)


def original_download_url(
    principal: Principal, invoice_id: str, *, invoices: InvoiceRepository, originals: ObjectStore
) -> str:
    """A short-lived URL of the original bytes, unchanged."""
    invoice = visible_invoice(principal, invoice_id, invoices=invoices)
    extension = {"application/pdf": "pdf", "application/json": "json"}.get(invoice.content_type, "xml")
    filename = f"{download_name(invoice)}.{extension}"
    return originals.download_url(_own_object(invoice, originals), filename)


def xml_download_url(
    principal: Principal, invoice_id: str, *, invoices: InvoiceRepository, originals: ObjectStore
) -> str:
    """The invoice as standard XML: the original when it is XML, else its rendition (Factur-X CII, UBL of JSON)."""
    invoice = visible_invoice(principal, invoice_id, invoices=invoices)
    key = _own_object(invoice, originals) if invoice.format in ("ubl", "cii") else intake.rendition_key(invoice.id)
    return originals.download_url(key, f"{download_name(invoice)}.xml")


def _own_object(invoice: Invoice, originals: ObjectStore) -> str:
    """The key of an object holding exactly the original: its own, or a copy out of its bundle."""
    if invoice.original_offset is None:
        return invoice.original_key
    key = layout.download_key(invoice.id)
    copy = originals.head(key)
    if copy is not None and copy.size == invoice.original_size:
        return key  # copied out by an earlier download: one copy per invoice, kept like the originals
    data = originals.get_range(invoice.original_key, invoice.original_offset, invoice.original_size)
    if hashlib.sha256(data).hexdigest() != invoice.original_sha256:
        raise RuntimeError(f"the bundled original of {invoice.id} does not match its SHA-256")
    originals.put(key, data, invoice.content_type, {layout.META_INVOICE_ID: invoice.id})
    return key
