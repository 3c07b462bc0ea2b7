"""How domain objects look on the wire (the API's JSON contracts)."""

from __future__ import annotations

from decimal import Decimal

from ..domain.invoice import HistoryEntry, Invoice


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def invoice_resource(invoice: Invoice) -> dict:
    s = invoice.summary
    status = invoice.status
    done = invoice.processing == "done"
    return {
        "id": invoice.id,
        "number": s.number,
        "issue_date": s.issue_date.isoformat() if s.issue_date else None,
        "type": s.type if done else None,
        "currency": s.currency,
        "totals": {
            "without_vat": _dec(s.totals.without_vat),
            "vat": _dec(s.totals.vat),
            "with_vat": _dec(s.totals.with_vat),
            "amount_due": _dec(s.totals.amount_due),
        },
        "supplier": {"siret": invoice.supplier_siret, "name": invoice.supplier_name},
        "recipient": {"siret": invoice.recipient_siret, "name": invoice.recipient_name, "service_code": s.service_code},
        "engagement_number": s.engagement_number,
        "format": invoice.format,
        "processing": invoice.processing,
        "status": status.as_dict() if status else None,
        "errors": [e.as_dict() for e in invoice.errors],
        "errors_truncated": invoice.errors_truncated,
        "created_at": invoice.created_at,
        "updated_at": invoice.updated_at,
        "links": {
            "self": f"/v1/invoices/{invoice.id}",
            "history": f"/v1/invoices/{invoice.id}/history",
            "file": f"/v1/invoices/{invoice.id}/file",
        },
    }


def history_entry(entry: HistoryEntry) -> dict:
    status = entry.status
    return {
        "code": entry.code,
        "name": status.name,
        "label": status.label,
        "chorus_pro": status.chorus_pro,
        "at": entry.at,
        "actor": entry.actor,
        "reason_code": entry.reason_code,
        "comment": entry.comment,
    }
