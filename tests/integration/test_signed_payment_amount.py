"""A payment amount is unsigned (what changed hands): a signed one, such as a negative total copied, is refused
saying so, not as a badly written decimal (review r55 F4)."""

from __future__ import annotations

import json

import pytest
from demo import MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import ubl_invoice
from processing_support import deposit_processed

JSON = {"Content-Type": "application/json"}
UNSIGNED = "'amount' is unsigned: what changed hands, such as \"120.00\" for an invoice whose total is -120.00."


def post_status(client, invoice_id: str, key: str, body: dict):
    response = client.http.post(f"/v1/invoices/{invoice_id}/status", headers=auth(key, **JSON), body=json.dumps(body))
    return response.status_code, json.loads(response.body)


@pytest.fixture
def negative_invoice(client, pump) -> str:
    invoice = deposit_processed(client, pump, ubl_invoice("F-NEG-SIGN", quantity="-2"))
    assert invoice["status"]["code"] == 203 and invoice["totals"]["with_vat"] == "-120.00"
    assert post_status(client, invoice["id"], MAIRIE_KEY, {"code": 205})[0] == 200
    return invoice["id"]


@pytest.mark.parametrize("amount", ["-120.00", "+120.00", "-1"])
def test_a_signed_amount_is_refused_as_signed(client, negative_invoice, amount):
    status, problem = post_status(client, negative_invoice, SUPPLIER_KEY, {"code": 212, "amount": amount})
    _, badly_written = post_status(client, negative_invoice, SUPPLIER_KEY, {"code": 212, "amount": "120.001"})
    assert status == 422 and problem["detail"] == UNSIGNED
    assert problem["type"] == badly_written["type"]  # the same problem type, only a clearer detail
    assert post_status(client, negative_invoice, SUPPLIER_KEY, {"code": 212, "amount": "120.00"})[0] == 200
