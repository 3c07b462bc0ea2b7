"""Status-change events: one per history entry, CloudEvents 1.0 structured JSON."""

from __future__ import annotations

from dataclasses import dataclass

from .invoice import HistoryEntry, Invoice

EVENT_TYPE = "invoice.status_changed"
EVENT_SOURCE = "urn:chorale:invoices"


@dataclass(frozen=True, slots=True)
class StatusChanged:
    invoice: Invoice
    entry: HistoryEntry
    previous: HistoryEntry | None
    sequence: int  # position of the entry in the history: stable, so retries keep the same event id

    @property
    def event_id(self) -> str:
        return f"{self.invoice.id}-{self.sequence}"

    def cloudevent(self) -> dict:
        invoice = self.invoice
        return {
            "specversion": "1.0",
            "id": self.event_id,
            "source": EVENT_SOURCE,
            "type": EVENT_TYPE,
            "time": self.entry.at,
            "subject": invoice.id,
            "datacontenttype": "application/json",
            "data": {
                "invoice_id": invoice.id,
                "number": invoice.summary.number,
                "supplier": {"siret": invoice.supplier_siret, "name": invoice.supplier_name},
                "recipient": {"siret": invoice.recipient_siret, "name": invoice.recipient_name},
                "status": self.entry.status.as_dict(),
                "previous_status": self.previous.status.as_dict() if self.previous else None,
                "reason_code": self.entry.reason_code,
                "comment": self.entry.comment,
                "actor": self.entry.actor,
            },
        }

    def attributes(self) -> dict[str, str]:
        """Message attributes for subscription filter policies (empty values are not allowed by SNS)."""
        attributes = {
            "event_type": EVENT_TYPE,
            "status_code": str(self.entry.code),
            "supplier_siret": self.invoice.supplier_siret,
            "recipient_siret": self.invoice.recipient_siret or "",
        }
        return {name: value for name, value in attributes.items() if value}


def new_status_events(before: list[HistoryEntry], after: Invoice) -> list[StatusChanged]:
    """The events for the history entries `after` has beyond `before` (history is append-only)."""
    events = []
    for sequence in range(len(before), len(after.history)):
        previous = after.history[sequence - 1] if sequence else None
        events.append(StatusChanged(after, after.history[sequence], previous, sequence))
    return events
