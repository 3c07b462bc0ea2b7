"""How domain objects look on the wire (the API's JSON contracts)."""

from __future__ import annotations

from decimal import Decimal

from ..domain.directory import Structure
from ..domain.invoice import Attachment, HistoryEntry, Invoice, PaymentMeans, PrecedingInvoice
from ..services.uploads import CHECKSUM_ADVICE, PresignedUpload
from .links import api_path


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _payment_means(means: tuple[PaymentMeans, ...] | None) -> list[dict] | None:
    """A list: a document can give several ways to pay (BG-16), and a CII several accounts for one (BG-17). None:
    not read (a record written before they were kept, an invoice not processed)."""
    return None if means is None else [{"code": m.code, "account": m.account, "bic": m.bic} for m in means]


def _preceding_invoices(preceding: tuple[PrecedingInvoice, ...] | None) -> list[dict] | None:
    """BG-3 as the JSON format writes it (number BT-25, issue_date BT-26); None: not read (as payment means)."""
    if preceding is None:
        return None
    return [{"number": p.number, "issue_date": p.issue_date.isoformat() if p.issue_date else None} for p in preceding]


# recipient_active not read: answers that show many invoices (listings) or just wrote one leave recipient.active out,
# a directory read each; GET /v1/invoices/{id} reads it.
NOT_READ = object()


def invoice_resource(invoice: Invoice, viewer: str, *, recipient_active: bool | None | object = NOT_READ) -> dict:
    """The invoice as the structure `viewer` sees it (its attachments: see Invoice.sees_attachment); with
    recipient.active when `recipient_active` was read (queries.recipient_active)."""
    s = invoice.summary
    status = invoice.status
    done = invoice.processing == "done"
    return {
        "id": invoice.id,
        "number": s.number,
        "issue_date": s.issue_date.isoformat() if s.issue_date else None,
        "type": s.type if done else None,
        "type_code": s.type_code if done else None,  # BT-3: null while pending and in records stored before it
        "currency": s.currency,
        "totals": {
            "without_vat": _dec(s.totals.without_vat),
            "vat": _dec(s.totals.vat),
            "with_vat": _dec(s.totals.with_vat),
            "amount_due": _dec(s.totals.amount_due),
        },
        "due_date": s.due_date.isoformat() if s.due_date else None,
        "payment_means": _payment_means(s.payment_means),
        "payment_means_truncated": s.payment_means_truncated,
        "preceding_invoices": _preceding_invoices(s.preceding_invoices),
        "preceding_invoices_truncated": s.preceding_invoices_truncated,
        "supplier": {
            "siret": invoice.supplier_siret,
            "name": invoice.supplier_name,  # the directory's, as at the deposit
            "invoiced_name": s.seller_name if done else None,  # BT-27, as the invoice gives it
            "vat_id": s.seller_vat_id,
        },
        "recipient": {
            "siret": invoice.recipient_siret or s.buyer_siret,
            "name": invoice.recipient_name,
            "service_code": s.service_code,
            **({} if recipient_active is NOT_READ else {"active": recipient_active}),
        },
        "engagement_number": s.engagement_number,
        "format": invoice.format,
        "processing": invoice.processing,
        "status": status.as_dict() if status else None,
        "sequence": invoice.sequence,  # the current status's position: orders a poll against the events (webhooks)
        "errors": [e.as_dict() for e in invoice.errors],
        "errors_truncated": invoice.errors_truncated,
        "attachments": [
            attachment_resource(invoice.id, a) for a in invoice.attachments if invoice.sees_attachment(a, viewer)
        ],
        "created_at": invoice.created_at,
        "updated_at": invoice.updated_at,
        "links": {
            "self": api_path(f"/v1/invoices/{invoice.id}"),
            "history": api_path(f"/v1/invoices/{invoice.id}/history"),
            "file": api_path(f"/v1/invoices/{invoice.id}/file"),
        },
    }


def history_entry(entry: HistoryEntry, sequence: int) -> dict:
    """A history entry; `sequence`: its position in the whole history (the n of its status event's id)."""
    status = entry.status
    return {
        "sequence": sequence,
        "code": entry.code,
        "name": status.name,
        "label": status.label,
        "chorus_pro": status.chorus_pro,
        "at": entry.at,
        "actor": entry.actor,
        "reason_code": entry.reason_code,
        "comment": entry.comment,
        "amount": _dec(entry.amount),
    }


def attachment_resource(invoice_id: str, attachment: Attachment) -> dict:
    return {
        "id": attachment.id,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "uploaded_by": attachment.uploaded_by,
        "uploaded_at": attachment.uploaded_at,
        "links": {"file": api_path(f"/v1/invoices/{invoice_id}/attachments/{attachment.id}")},
    }


def structure_resource(structure: Structure) -> dict:
    return {
        "siret": structure.siret,
        "name": structure.name,
        "roles": list(structure.roles),
        "active": structure.active,
        "requires_service_code": structure.requires_service_code,
        "requires_engagement": structure.requires_engagement,
        "services": [
            {"code": s.code, "name": s.name, "active": s.active, "requires_engagement": s.requires_engagement}
            for s in structure.services
        ],
        "updated_at": structure.updated_at,
    }


def upload_resource(upload: PresignedUpload, link: dict[str, str]) -> dict:
    """A presigned upload, and `link`: where the client goes once the file is sent ("flow" or "complete")."""
    return {
        "upload_id": upload.upload_id,
        "url": upload.url,
        "fields": upload.fields,
        "expires_at": upload.expires_at,
        "max_bytes": upload.max_bytes,
        "checksum": CHECKSUM_ADVICE,
        **link,
    }
