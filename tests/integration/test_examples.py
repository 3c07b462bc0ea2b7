"""Every file in examples/ deposited as the README's "Try it" does, with the outcome the README documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from demo import SUPPLIER_KEY, auth

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# file: (Content-Type, status code, rules failed, reason code of the status)
DOCUMENTED = {
    "invoice-ubl.xml": ("application/xml", 203, [], None),
    "invoice-ubl-invalid.xml": ("application/xml", 213, ["BR-CO-16"], "REJ_SEMAN"),
    "invoice.json": ("application/json", 203, [], None),
}


def test_every_example_has_a_documented_outcome():
    assert sorted(path.name for path in EXAMPLES.iterdir()) == sorted(DOCUMENTED)


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_an_example_deposited_gets_its_documented_status(client, pump, name):
    content_type, code, rules, reason = DOCUMENTED[name]
    headers = auth(SUPPLIER_KEY, **{"Content-Type": content_type})
    deposited = client.http.post("/v1/invoices", headers=headers, body=(EXAMPLES / name).read_bytes())
    assert deposited.status_code == 202, deposited.body
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    invoice_id = json.loads(deposited.body)["id"]
    invoice = json.loads(client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(SUPPLIER_KEY)).body)
    assert invoice["processing"] == "done" and invoice["status"]["code"] == code, invoice
    assert sorted({error["rule"] for error in invoice.get("errors") or []}) == rules
    history = json.loads(client.http.get(f"/v1/invoices/{invoice_id}/history", headers=auth(SUPPLIER_KEY)).body)
    assert history["history"][-1].get("reason_code") == reason, history
