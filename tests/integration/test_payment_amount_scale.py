"""A payment amount reads at the scale of the invoice's total with VAT, in history and events (review r43 F5).

`"120"` on an invoice whose total is `"120.00"` is kept and published as `"120.00"`. The scale is the total's, as
written, not a fixed 2: a total written `"120"` keeps `"120"`. An amount with more decimals than the total is kept
as sent, never rounded.
"""

from __future__ import annotations

import json

import pytest
from demo import MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import ubl_invoice
from processing_support import deposit_processed_id as deposit

XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}


def set_status(client, invoice_id: str, key: str, body: dict) -> None:
    response = client.http.post(f"/v1/invoices/{invoice_id}/status", headers=auth(key, **JSON), body=json.dumps(body))
    assert response.status_code == 200, response.body


def paid_amounts(client, pump, events_queue, invoice_id: str, received: str, paid: str) -> tuple[list, list]:
    """Pay and cash the invoice with these amounts: (history, events) amounts of 211 and 212."""
    pump.deliver_stream_once("publish_status_events")
    events_queue()
    set_status(client, invoice_id, MAIRIE_KEY, {"code": 205})
    set_status(client, invoice_id, MAIRIE_KEY, {"code": 211, "amount": paid})
    set_status(client, invoice_id, SUPPLIER_KEY, {"code": 212, "amount": received})
    history = json.loads(client.http.get(f"/v1/invoices/{invoice_id}/history", headers=auth(SUPPLIER_KEY)).body)
    pump.deliver_stream_once("publish_status_events")
    events = [json.loads(m["Message"])["data"] for m in events_queue()]
    return (
        [h["amount"] for h in history["history"] if h["code"] in (211, 212)],
        [e["amount"] for e in events if e["status"]["code"] in (211, 212)],
    )


@pytest.mark.parametrize(
    ("paid", "received", "shown"), [("60", "120", ["60.00", "120.00"]), ("60.5", "120.0", ["60.50", "120.00"])]
)
def test_an_amount_is_kept_and_published_at_the_scale_of_the_total(client, pump, events_queue, paid, received, shown):
    invoice_id = deposit(client, pump, ubl_invoice("F-SCALE"))
    total = json.loads(client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(SUPPLIER_KEY)).body)["totals"]
    assert total["with_vat"] == "120.00"
    assert paid_amounts(client, pump, events_queue, invoice_id, received, paid) == (shown, shown)


def test_the_scale_is_the_total_s_as_written_and_a_finer_amount_is_kept(client, pump, events_queue):
    """A total written without decimals (EN 16931 allows it): "120" stays "120", and "60.50" is not rounded."""
    body = ubl_invoice("F-SCALE-0")
    for written, whole in ((b">100.00<", b">100<"), (b">20.00<", b">20<"), (b">120.00<", b">120<")):
        body = body.replace(written, whole)
    invoice_id = deposit(client, pump, body)
    invoice = json.loads(client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(SUPPLIER_KEY)).body)
    assert invoice["status"]["code"] == 203 and invoice["totals"]["with_vat"] == "120"
    shown = ["60.50", "120"]
    assert paid_amounts(client, pump, events_queue, invoice_id, "120", "60.50") == (shown, shown)
