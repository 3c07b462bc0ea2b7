"""The JSON Schemas of the event types match what the platform emits."""

from __future__ import annotations

import json
from decimal import Decimal

from webhook_support import SCHEMAS, validate_event

from chalicelib.domain.events import StatusChanged
from chalicelib.domain.invoice import HistoryEntry, Invoice, InvoiceSummary
from chalicelib.domain.statuses import STATUSES
from chalicelib.domain.subscriptions import Subscription
from chalicelib.services.subscriptions import make_test_event


def test_the_status_schema_lists_every_status():
    schema = json.loads((SCHEMAS / "invoice.status_changed.json").read_text(encoding="utf-8"))
    assert schema["$defs"]["status"]["properties"]["code"]["enum"] == sorted(STATUSES)


def test_every_status_change_event_validates():
    at = "2026-11-26T10:00:00.000Z"
    invoice = Invoice(
        id="01JD0000000000000000000000",
        supplier_siret="81234567800013",
        supplier_name="Atelier",
        format="ubl",
        content_type="application/xml",
        original_key="k",
        original_size=1,
        original_sha256="0" * 64,
        created_at=at,
        updated_at=at,
        recipient_siret="21750000100011",
    )
    previous = None
    for sequence, code in enumerate(sorted(STATUSES)):
        entry = HistoryEntry(code, at, "platform", "R1" if code == 213 else None, None)
        invoice.history.append(entry)
        validate_event(StatusChanged(invoice, entry, previous, sequence).cloudevent())
        previous = entry


def test_the_test_event_validates():
    subscription = Subscription("01JD0000000000000000000000", "81234567800013", "t", url="https://x", secret="s")
    validate_event(make_test_event(subscription, "2026-11-26T10:00:00.000Z"))


def test_published_events_link_to_the_api_s_public_address():
    from chalicelib.adapters.event_publisher import batches
    from chalicelib.domain.events import FlowCompleted

    at = "2026-11-26T10:00:00.000Z"
    invoice = Invoice(id="01JD0000000000000000000000", supplier_siret="81234567800013", supplier_name="Atelier",
                      format="ubl", content_type="application/xml", original_key="k", original_size=1,
                      original_sha256="0" * 64, created_at=at, updated_at=at)  # fmt: skip
    invoice.history.append(HistoryEntry(200, at, "platform", None, None))
    flow = FlowCompleted("01JD0000000000000000000001", "81234567800013", "IN_INTEGRE", "api",
                         {"files": 1, "accepted": 1, "rejected": 0, "pending": 0}, at, at)  # fmt: skip
    [entries] = batches([StatusChanged(invoice, invoice.history[0], None, 0), flow], "https://api.example.org/api")
    status, completed = (json.loads(entry["Message"]) for entry in entries)
    validate_event(status), validate_event(completed)
    assert status["data"]["links"] == {"invoice": "https://api.example.org/api/v1/invoices/01JD0000000000000000000000"}
    assert completed["data"]["links"] == {"flow": "https://api.example.org/api/v1/flows/01JD0000000000000000000001"}
    [entries] = batches([flow])  # no public address known: a path from the API's root, as before
    assert json.loads(entries[0]["Message"])["data"]["links"] == {"flow": "/v1/flows/01JD0000000000000000000001"}


def test_a_payment_event_carries_its_amount():
    at = "2026-11-26T10:00:00.000Z"
    invoice = Invoice(id="01JD0000000000000000000000", supplier_siret="81234567800013", supplier_name="Atelier",
                      format="ubl", content_type="application/xml", original_key="k", original_size=1,
                      original_sha256="0" * 64, created_at=at, updated_at=at)  # fmt: skip
    invoice.recipient_siret = "21750000100011"
    invoice.history.append(HistoryEntry(212, at, "supplier", None, None, Decimal("120.00")))
    event = StatusChanged(invoice, invoice.history[0], None, 0).cloudevent()
    validate_event(event)
    assert event["data"]["amount"] == "120.00"
    schema = json.loads((SCHEMAS / "invoice.status_changed.json").read_text(encoding="utf-8"))
    assert "amount" in schema["properties"]["data"]["properties"]
    assert "amount" not in schema["properties"]["data"]["required"]  # optional: older events have none


def test_an_event_s_type_is_the_resource_s_and_null_while_pending():
    """data.type (review r55 F3): invoice or credit_note once the document is read, null before; optional in the
    schema, as the events published before it have none."""
    at = "2026-11-26T10:00:00.000Z"
    invoice = Invoice(id="01JD0000000000000000000000", supplier_siret="81234567800013", supplier_name="Atelier",
                      format="ubl", content_type="application/xml", original_key="k", original_size=1,
                      original_sha256="0" * 64, created_at=at, updated_at=at)  # fmt: skip
    invoice.history.append(HistoryEntry(200, at, "platform", None, None))
    event = StatusChanged(invoice, invoice.history[0], None, 0).cloudevent()
    validate_event(event)
    assert invoice.processing != "done" and event["data"]["type"] is None
    invoice.processing = "done"
    invoice.summary = InvoiceSummary(type="credit_note")
    event = StatusChanged(invoice, invoice.history[0], None, 0).cloudevent()
    validate_event(event)
    assert event["data"]["type"] == "credit_note"
    schema = json.loads((SCHEMAS / "invoice.status_changed.json").read_text(encoding="utf-8"))
    assert "type" not in schema["properties"]["data"]["required"]
