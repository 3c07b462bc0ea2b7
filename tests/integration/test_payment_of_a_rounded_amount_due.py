"""A payment may be the amount due (BT-115) when a rounding amount (BT-114) makes it more than the total with VAT
(BT-112): 120.00 rounded to 120.01 is paid and cashed 120.01 (review r55 F1)."""

from __future__ import annotations

import json

from demo import MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import ubl_invoice
from processing_support import deposit_processed

JSON = {"Content-Type": "application/json"}


def rounded_invoice(number: str) -> bytes:
    """The demo invoice (total with VAT 120.00) with a rounding amount of 0.01: amount due 120.01."""
    payable = b'<cbc:PayableAmount currencyID="EUR">120.00<'
    body = ubl_invoice(number)
    assert payable in body
    return body.replace(
        payable,
        b'<cbc:PayableRoundingAmount currencyID="EUR">0.01</cbc:PayableRoundingAmount>'
        b'<cbc:PayableAmount currencyID="EUR">120.01<',
    )


def post_status(client, invoice_id: str, key: str, body: dict):
    response = client.http.post(f"/v1/invoices/{invoice_id}/status", headers=auth(key, **JSON), body=json.dumps(body))
    return response.status_code, json.loads(response.body)


def test_the_amount_due_with_its_rounding_is_paid_and_cashed(client, pump):
    invoice = deposit_processed(client, pump, rounded_invoice("F-RND-1"))
    assert invoice["status"]["code"] == 203
    assert (invoice["totals"]["with_vat"], invoice["totals"]["amount_due"]) == ("120.00", "120.01")
    invoice_id = invoice["id"]
    assert post_status(client, invoice_id, MAIRIE_KEY, {"code": 205})[0] == 200
    assert post_status(client, invoice_id, MAIRIE_KEY, {"code": 211, "amount": "120.01"})[0] == 200
    assert post_status(client, invoice_id, SUPPLIER_KEY, {"code": 212, "amount": "120.01"})[0] == 200
    history = json.loads(client.http.get(f"/v1/invoices/{invoice_id}/history", headers=auth(SUPPLIER_KEY)).body)
    assert [h["amount"] for h in history["history"] if h["code"] in (211, 212)] == ["120.01", "120.01"]


def test_more_than_the_rounded_amount_due_is_refused_naming_it(client, pump):
    invoice_id = deposit_processed(client, pump, rounded_invoice("F-RND-2"))["id"]
    assert post_status(client, invoice_id, MAIRIE_KEY, {"code": 205})[0] == 200
    status, problem = post_status(client, invoice_id, SUPPLIER_KEY, {"code": 212, "amount": "120.02"})
    assert status == 422
    assert problem["detail"] == "'amount' 120.02 is more than the invoice's amount due (120.01)."
