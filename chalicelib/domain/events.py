"""Status-change events: one per history entry, CloudEvents 1.0 structured JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .invoice import CUT_MARKER, HistoryEntry, Invoice

EVENT_TYPE = "invoice.status_changed"
EVENT_SOURCE = "urn:chorale:invoices"
FLOW_EVENT_TYPE = "flow.completed"
FLOW_EVENT_SOURCE = "urn:chorale:flows"
# What SNS takes in a message attribute's text (the characters of XML 1.0, as in a message body)
_SNS_TEXT = re.compile(r"[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")


@dataclass(frozen=True, slots=True)
class StatusChanged:
    invoice: Invoice
    entry: HistoryEntry
    previous: HistoryEntry | None
    sequence: int  # position of the entry in the history: stable, so retries keep the same event id

    @property
    def event_id(self) -> str:
        return f"{self.invoice.id}-{self.sequence}"

    @property
    def recipient(self) -> tuple[str | None, str | None]:
        """The recipient (SIRET, name) when the change was made, not the invoice's current one: a change replayed
        after a re-routing goes to the structure it concerned, never to the new recipient (Invoice.recipient_at;
        to the supplier alone where the record cannot name it), named as its first publication did
        (Invoice.recipient_name_at). A rejected invoice has no SIRET and the name of the buyer it names."""
        return self.invoice.recipient_at(self.sequence), self.invoice.recipient_name_at(self.sequence)

    def cloudevent(self, api_base: str = "") -> dict:
        """The event as sent; `api_base` is the API's public address its links start with ('' leaves them
        root-relative paths)."""
        invoice = self.invoice
        recipient_siret, recipient_name = self.recipient
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
                # invoice or credit_note, as the resource's type (null while the document is not read yet)
                "type": invoice.summary.type if invoice.processing == "done" else None,
                "supplier": {"siret": invoice.supplier_siret, "name": invoice.supplier_name},
                "recipient": {
                    "siret": recipient_siret,
                    "name": recipient_name,
                    "service_code": invoice.service_code_at(self.sequence),  # BT-10, as the record routes it
                },
                "status": self.entry.status.as_dict(),
                "previous_status": self.previous.status.as_dict() if self.previous else None,
                "reason_code": self.entry.reason_code,
                "comment": self.entry.comment,
                "amount": None if self.entry.amount is None else str(self.entry.amount),
                "currency": invoice.summary.currency,  # BT-5: the amount's currency
                "actor": self.entry.actor,
                "links": {"invoice": f"{api_base}/v1/invoices/{invoice.id}"},
            },
        }

    def attributes(self) -> dict[str, str]:
        """Message attributes for subscription filter policies (empty values are not allowed by SNS)."""
        service_code = self.invoice.service_code_at(self.sequence) or ""
        attributes = {
            "event_type": EVENT_TYPE,
            "status_code": str(self.entry.code),
            "supplier_siret": self.invoice.supplier_siret,
            "recipient_siret": self.recipient[0] or "",
            # BT-10 is the document's text: one SNS would refuse (a control character) is left out, not the event
            "recipient_service_code": service_code if _SNS_TEXT.fullmatch(service_code) else "",
        }
        return {name: value for name, value in attributes.items() if value}


# What trimming an event keeps whole: its identifiers and links (a receiver reads the rest from the API).
_KEPT_WHOLE = frozenset({"invoice_id", "flow_id", "siret", "links", "status", "previous_status", "actor", "amount"})
TRIMMED_MARKER = CUT_MARKER + " [cut: the full text is in the API]"


def trimmed(cloudevent: dict, max_chars: int) -> dict:
    """The event with each text of its data longer than `max_chars` cut to it, with TRIMMED_MARKER: for an event too
    large for its transport (a record written before the length controls). Ids and links are kept whole."""

    def trim(value, key: str | None = None):
        if key in _KEPT_WHOLE:
            return value
        if isinstance(value, str) and len(value) > max_chars:
            return value[:max_chars] + TRIMMED_MARKER
        if isinstance(value, dict):
            return {k: trim(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [trim(v) for v in value]
        return value

    return {**cloudevent, "data": trim(cloudevent.get("data", {}))}


def new_status_events(before: list[HistoryEntry], after: Invoice) -> list[StatusChanged]:
    """The events for the history entries `after` has beyond `before` (history is append-only)."""
    events = []
    for sequence in range(len(before), len(after.history)):
        previous = after.history[sequence - 1] if sequence else None
        events.append(StatusChanged(after, after.history[sequence], previous, sequence))
    return events


@dataclass(frozen=True, slots=True)
class FlowCompleted:
    """A bulk flow whose every file has its outcome: its supplier need not poll GET /v1/flows/{id}."""

    flow_id: str
    supplier_siret: str
    state: str  # IN_INTEGRE | IN_INTEGRE_PARTIEL | IN_REJETE
    source: str
    counts: dict[str, int]
    created_at: str
    completed_at: str
    error: str | None = None
    # 1 for the announcement; 2, 3 … when a redrive later decides invoices it counted as failed (new counts)
    revision: int = 1

    @property
    def event_id(self) -> str:
        """One per flow and revision: a repeated publication is deduplicated on it."""
        return f"{self.flow_id}-completed" if self.revision == 1 else f"{self.flow_id}-completed-{self.revision}"

    def cloudevent(self, api_base: str = "") -> dict:
        """As StatusChanged.cloudevent."""
        return {
            "specversion": "1.0",
            "id": self.event_id,
            "source": FLOW_EVENT_SOURCE,
            "type": FLOW_EVENT_TYPE,
            "time": self.completed_at,
            "subject": self.flow_id,
            "datacontenttype": "application/json",
            "data": {
                "flow_id": self.flow_id,
                "state": self.state,
                "source": self.source,
                "counts": dict(self.counts),
                "revision": self.revision,
                "error": self.error,
                "supplier": {"siret": self.supplier_siret},
                "created_at": self.created_at,
                "links": {"flow": f"{api_base}/v1/flows/{self.flow_id}"},
            },
        }

    def attributes(self) -> dict[str, str]:
        return {"event_type": FLOW_EVENT_TYPE, "supplier_siret": self.supplier_siret}
