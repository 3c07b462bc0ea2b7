"""An invoice.status_changed event says whether the document is a credit note (data.type, as the resource's), and
its e-mail reads "Avoir" instead of "Facture": a 211 or 212 on a credit note is a refund, not a payment of an
invoice (review r55 F3)."""

from __future__ import annotations

import json

import pytest
from demo import MAIRIE_KEY, auth
from invoices import ubl_invoice
from processing_support import deposit_processed
from structured_invoices import json_invoice
from webhook_support import validate_event

from chalicelib.formats.ubl_writer import to_ubl
from chalicelib.services.webhooks import mail_for

JSON = {"Content-Type": "application/json"}


def paid_event(client, pump, events_queue, body: bytes) -> dict:
    """The 211 event (with an amount) of the document deposited, approved and paid."""
    invoice = deposit_processed(client, pump, body)
    assert invoice["status"]["code"] == 203
    for change in ({"code": 205}, {"code": 211, "amount": "120.00"}):
        response = client.http.post(
            f"/v1/invoices/{invoice['id']}/status", headers=auth(MAIRIE_KEY, **JSON), body=json.dumps(change)
        )
        assert response.status_code == 200, response.body
    pump.deliver_stream_once("publish_status_events")
    events = [json.loads(m["Message"]) for m in events_queue()]
    [paid] = [e for e in events if e["data"]["status"]["code"] == 211]
    validate_event(paid)
    return paid


@pytest.mark.parametrize(
    ("body", "kind", "document"),
    [
        (lambda: to_ubl(json_invoice("AV-EVT-1", type_code="381")), "credit_note", "Avoir"),
        (lambda: ubl_invoice("F-EVT-1"), "invoice", "Facture"),
    ],
    ids=["credit-note", "invoice"],
)
def test_a_status_event_and_its_mail_say_what_the_document_is(client, pump, events_queue, body, kind, document):
    event = paid_event(client, pump, events_queue, body())
    assert event["data"]["type"] == kind
    number = event["data"]["number"]
    subject, text = mail_for(event)
    assert subject == f"[Chorale] {document} {number} : Paiement transmis"
    assert text.startswith(f"{document} {number} ({event['data']['invoice_id']})\n")
    assert "Montant : 120.00 EUR" in text
