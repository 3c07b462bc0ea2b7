"""The invoice resource gives BT-3 as `type_code` (review r55 F5): a buyer tells a prepayment invoice (386), a
corrected one (384) or a self-billed one (389) from a commercial invoice (380) without the XML, in the detail and
the listing alike; null while pending and for a record stored before it was kept."""

from __future__ import annotations

import json
import zlib

import pytest
from demo import MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import ubl_invoice
from processing_support import deposit_processed_id
from structured_invoices import cii_invoice, json_invoice

from chalicelib.adapters.tables import InvoiceRecord

XML = {"Content-Type": "application/xml"}


def ubl_typed(number: str, code: str) -> bytes:
    return ubl_invoice(number).replace(
        b"<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>", f"<cbc:InvoiceTypeCode>{code}</cbc:InvoiceTypeCode>".encode()
    )


def get(client, path: str, key: str = MAIRIE_KEY) -> dict:
    response = client.http.get(path, headers=auth(key))
    assert response.status_code == 200, response.body
    return json.loads(response.body)


BODIES = {
    "ubl-380": (lambda: ubl_invoice("F-TC-380"), "application/xml", "invoice", "380"),
    "ubl-386": (lambda: ubl_typed("F-TC-386", "386"), "application/xml", "invoice", "386"),
    "ubl-389": (lambda: ubl_typed("F-TC-389", "389"), "application/xml", "invoice", "389"),
    "cii-384": (
        lambda: cii_invoice("F-TC-384").replace(
            b"<ram:TypeCode>380</ram:TypeCode>", b"<ram:TypeCode>384</ram:TypeCode>"
        ),
        "application/xml",
        "invoice",
        "384",
    ),
    "json-381": (
        lambda: json.dumps(json_invoice("F-TC-381", type_code="381")).encode(),
        "application/json",
        "credit_note",
        "381",
    ),
}


@pytest.mark.parametrize("name", BODIES)
def test_the_detail_and_the_listing_give_the_type_code(client, pump, name):
    body, content_type, kind, code = BODIES[name]
    invoice_id = deposit_processed_id(client, pump, body(), content_type)
    detail = get(client, f"/v1/invoices/{invoice_id}")
    assert detail["status"]["code"] == 203, detail["errors"]
    assert (detail["type"], detail["type_code"]) == (kind, code)
    [listed] = get(client, "/v1/invoices?role=recipient")["items"]
    assert listed == {**detail, "recipient": {k: v for k, v in detail["recipient"].items() if k != "active"}}


def test_the_type_code_is_null_while_pending(client):
    response = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=ubl_typed("F-TC-P", "386"))
    assert response.status_code == 202
    accepted = json.loads(response.body)
    assert accepted["processing"] == "pending" and accepted["type_code"] is None
    assert get(client, f"/v1/invoices/{accepted['id']}", SUPPLIER_KEY)["type_code"] is None


def test_an_invoice_stored_before_the_type_code_reads_it_as_null(client, pump):
    invoice_id = deposit_processed_id(client, pump, ubl_typed("F-TC-OLD", "386"))
    record = InvoiceRecord.get(invoice_id)
    details = json.loads(zlib.decompress(record.details))
    assert details.pop("type_code") == "386"
    record.details = zlib.compress(json.dumps(details).encode())
    record.save()
    detail = get(client, f"/v1/invoices/{invoice_id}")
    assert (detail["type"], detail["type_code"], detail["status"]["code"]) == ("invoice", None, 203)
