"""Reading invoices: only their supplier and their recipient may see them."""

from __future__ import annotations

from ..domain.directory import Principal
from ..domain.ids import is_invoice_id
from ..domain.invoice import Invoice
from .errors import NotFound
from .ports import InvoiceRepository, OriginalStore


def visible_invoice(principal: Principal, invoice_id: str, *, invoices: InvoiceRepository) -> Invoice:
    """The invoice if the caller is a party to it; NotFound otherwise (existence is not disclosed)."""
    invoice = invoices.get(invoice_id) if is_invoice_id(invoice_id) else None
    if invoice is None or not invoice.is_party(principal.siret):
        raise NotFound(f"No invoice {invoice_id} is visible to you.")
    return invoice


def original_download_url(
    principal: Principal, invoice_id: str, *, invoices: InvoiceRepository, originals: OriginalStore
) -> str:
    invoice = visible_invoice(principal, invoice_id, invoices=invoices)
    extension = {"application/pdf": "pdf", "application/json": "json"}.get(invoice.content_type, "xml")
    return originals.download_url(invoice.original_key, f"{invoice.summary.number or invoice.id}.{extension}")
