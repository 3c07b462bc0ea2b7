"""The invoice resource gives BG-3 as `preceding_invoices` (BT-25 number, BT-26 issue date), as the JSON format writes
them: a buyer matches a credit note or a corrected invoice with the invoice it corrects without the XML, in the
detail and the listing alike; [] when the document names none, null while pending and for a record stored before
they were kept."""

from __future__ import annotations

import json
import zlib

import pytest
from demo import MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import ubl_invoice
from processing_support import deposit_processed_id
from structured_invoices import cii_invoice, json_invoice

from chalicelib.adapters.tables import InvoiceRecord

EARLIER = [{"number": "F-2026-0007", "issue_date": "2026-10-01"}, {"number": "F-2026-0009", "issue_date": None}]


def ubl_referring(number: str) -> bytes:
    def reference(p: dict) -> str:
        date = f"<cbc:IssueDate>{p['issue_date']}</cbc:IssueDate>" if p["issue_date"] else ""
        return f"<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{p['number']}</cbc:ID>{date}" + (
            "</cac:InvoiceDocumentReference></cac:BillingReference>"
        )

    references = "".join(map(reference, EARLIER))
    body = ubl_invoice(number).decode()
    assert body.count("<cac:AccountingSupplierParty>") == 1
    return body.replace("<cac:AccountingSupplierParty>", references + "<cac:AccountingSupplierParty>").encode()


def cii_referring(number: str) -> bytes:
    references = "".join(
        f"<ram:InvoiceReferencedDocument><ram:IssuerAssignedID>{p['number']}</ram:IssuerAssignedID>"
        + (
            '<ram:FormattedIssueDateTime><qdt:DateTimeString format="102">'
            f"{p['issue_date'].replace('-', '')}</qdt:DateTimeString></ram:FormattedIssueDateTime>"
            if p["issue_date"]
            else ""
        )
        + "</ram:InvoiceReferencedDocument>"
        for p in EARLIER
    )
    end = "</ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
    body = cii_invoice(number).decode()
    assert body.count(end) == 1
    return body.replace(end, end + references).encode()


def json_referring(number: str) -> bytes:
    earlier = [{k: v for k, v in p.items() if v is not None} for p in EARLIER]
    return json.dumps(json_invoice(number, type_code="381") | {"preceding_invoices": earlier}).encode()


def get(client, path: str, key: str = MAIRIE_KEY) -> dict:
    response = client.http.get(path, headers=auth(key))
    assert response.status_code == 200, response.body
    return json.loads(response.body)


BODIES = {
    "ubl": (lambda: ubl_referring("F-PI-UBL"), "application/xml"),
    "cii": (lambda: cii_referring("F-PI-CII"), "application/xml"),
    "json": (lambda: json_referring("F-PI-JSON"), "application/json"),
}


@pytest.mark.parametrize("name", BODIES)
def test_the_detail_and_the_listing_give_the_preceding_invoices(client, pump, name):
    body, content_type = BODIES[name]
    invoice_id = deposit_processed_id(client, pump, body(), content_type)
    detail = get(client, f"/v1/invoices/{invoice_id}")
    assert detail["status"]["code"] == 203, detail["errors"]
    assert (detail["preceding_invoices"], detail["preceding_invoices_truncated"]) == (EARLIER, False)
    [listed] = get(client, "/v1/invoices?role=recipient")["items"]
    assert listed == {**detail, "recipient": {k: v for k, v in detail["recipient"].items() if k != "active"}}


def test_an_invoice_naming_none_gives_an_empty_list_and_a_pending_one_null(client, pump):
    invoice_id = deposit_processed_id(client, pump, ubl_invoice("F-PI-NONE"))
    assert get(client, f"/v1/invoices/{invoice_id}")["preceding_invoices"] == []
    response = client.http.post(
        "/v1/invoices", headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/xml"}), body=ubl_referring("F-PI-P")
    )
    assert json.loads(response.body)["preceding_invoices"] is None  # not read before processing


def test_only_the_first_five_are_kept_and_the_cut_is_said(client, pump):
    many = [{"number": f"F-2026-{n:04d}"} for n in range(1, 8)]
    body = json.dumps(json_invoice("F-PI-MANY", type_code="381") | {"preceding_invoices": many}).encode()
    detail = get(client, f"/v1/invoices/{deposit_processed_id(client, pump, body, 'application/json')}")
    assert [p["number"] for p in detail["preceding_invoices"]] == [p["number"] for p in many[:5]]
    assert detail["preceding_invoices_truncated"] is True


def test_an_invoice_stored_before_they_were_kept_reads_them_as_null(client, pump):
    invoice_id = deposit_processed_id(client, pump, ubl_referring("F-PI-OLD"))
    record = InvoiceRecord.get(invoice_id)
    details = json.loads(zlib.decompress(record.details))
    assert details.pop("preceding_invoices") == EARLIER[:1] + [{"number": "F-2026-0009"}]  # no null stored
    record.details = zlib.compress(json.dumps(details).encode())
    record.save()
    detail = get(client, f"/v1/invoices/{invoice_id}")
    assert (detail["preceding_invoices"], detail["preceding_invoices_truncated"]) == (None, False)
