"""What a paying clerk and a service's software read without downloading the invoice (review r43 F3, F4): the due
date, the payment means and the seller's VAT identifier on the invoice resource, whatever the deposit format; the
service code on each status event, the re-routed one after a re-route."""

from __future__ import annotations

import json
import zlib

import pytest
from demo import MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import MAIRIE_SIRET, SUPPLIER_SIRET, fr_vat, ubl_invoice
from processing_support import deposit_processed_id as deposit
from structured_invoices import cii_invoice, facturx_pdf, json_invoice
from webhook_support import validate_event

from chalicelib.adapters.tables import InvoiceRecord

IBAN = "FR7630006000011234567890189"
BODIES = {
    "ubl": (lambda: ubl_invoice("F-PAY-1"), "application/xml"),
    "cii": (lambda: cii_invoice("F-PAY-1"), "application/xml"),
    "facturx": (lambda: facturx_pdf(number="F-PAY-1"), "application/pdf"),
    "json": (lambda: json.dumps(json_invoice("F-PAY-1")).encode(), "application/json"),
}


def get(client, path: str, key: str = MAIRIE_KEY) -> dict:
    response = client.http.get(path, headers=auth(key))
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def post(client, key: str, path: str, body: dict) -> None:
    response = client.http.post(path, headers=auth(key, **{"Content-Type": "application/json"}), body=json.dumps(body))
    assert response.status_code == 200, response.body


@pytest.mark.parametrize("name", BODIES)
def test_the_detail_and_the_listing_give_the_due_date_payment_means_and_seller_vat_id(client, pump, name):
    body, content_type = BODIES[name]
    invoice_id = deposit(client, pump, body(), content_type)
    detail = get(client, f"/v1/invoices/{invoice_id}")
    assert detail["status"]["code"] == 203 and detail["format"] == name
    assert detail["due_date"] == "2026-12-20"
    assert detail["payment_means"] == [{"code": "30", "account": IBAN, "bic": None}]
    assert detail["supplier"] == {
        "siret": SUPPLIER_SIRET,
        "name": "Atelier Numérique SARL",
        "invoiced_name": "Atelier Numérique SARL",
        "vat_id": fr_vat(SUPPLIER_SIRET),
    }
    [listed] = get(client, "/v1/invoices?role=recipient")["items"]
    # the listing is the detail without recipient.active (one directory read: the detail's alone)
    assert listed == {**detail, "recipient": {k: v for k, v in detail["recipient"].items() if k != "active"}}


def test_the_supplier_s_name_as_invoiced_is_shown_beside_the_directory_s(client, pump):
    """BT-27 (r43 F3): the clerk checks the name the invoice bears, a trading or former name, not only the one the
    directory gives the depositing structure."""
    body = ubl_invoice("F-NAME-1", seller_name="ATELIER NUMERIQUE (ex-Atelier Durand)")
    invoice_id = deposit(client, pump, body, "application/xml")
    supplier = get(client, f"/v1/invoices/{invoice_id}")["supplier"]
    assert (supplier["name"], supplier["invoiced_name"]) == (
        "Atelier Numérique SARL",
        "ATELIER NUMERIQUE (ex-Atelier Durand)",
    )


def test_an_invoice_stored_before_these_fields_reads_them_as_null(client, pump):
    invoice_id = deposit(client, pump, ubl_invoice("F-PAY-OLD"), "application/xml")
    record = InvoiceRecord.get(invoice_id)
    details = json.loads(zlib.decompress(record.details))
    for key in ("due_date", "seller_vat_id", "payment_means"):
        details.pop(key)
    record.details = zlib.compress(json.dumps(details).encode())
    record.save()
    detail = get(client, f"/v1/invoices/{invoice_id}")
    assert (detail["due_date"], detail["payment_means"], detail["supplier"]["vat_id"]) == (None, None, None)
    assert detail["number"] == "F-PAY-OLD" and detail["status"]["code"] == 203


def test_each_status_event_carries_the_service_code_it_was_routed_to(client, pump, events_queue):
    invoice_id = deposit(client, pump, ubl_invoice("F-SERV-1", service_code="SERV-TECH"), "application/xml")
    post(client, MAIRIE_KEY, f"/v1/invoices/{invoice_id}/status", {"code": 221, "comment": "Pour les écoles"})
    reroute = {"recipient_siret": MAIRIE_SIRET, "service_code": "SERV-ECOLES", "engagement_number": "EJ-1"}
    post(client, SUPPLIER_KEY, f"/v1/invoices/{invoice_id}/reroute", reroute)
    pump.deliver_stream_once("publish_status_events")
    events = sorted((json.loads(m["Message"]) for m in events_queue()), key=lambda e: int(e["id"].rsplit("-", 1)[1]))
    for event in events:
        validate_event(event)
    assert [(e["data"]["status"]["code"], e["data"]["recipient"]["service_code"]) for e in events] == [
        (200, "SERV-TECH"),
        (203, "SERV-TECH"),
        (221, "SERV-TECH"),
        (203, "SERV-ECOLES"),
    ]
    assert get(client, f"/v1/invoices/{invoice_id}")["recipient"]["service_code"] == "SERV-ECOLES"


def _with_more_accounts(number: str, more: int) -> bytes:
    """The UBL fixture with `more` credit transfers after its own, to accounts 'Compte 2', 'Compte 3' …"""
    means = "".join(
        f"<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode><cac:PayeeFinancialAccount>"
        f"<cbc:ID>Compte {n}</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>"
        for n in range(2, more + 2)
    )
    return ubl_invoice(number).decode().replace("</cac:PaymentMeans>", "</cac:PaymentMeans>" + means, 1).encode()


def test_payment_means_cut_to_the_first_five_are_flagged(client, pump):
    detail = get(client, f"/v1/invoices/{deposit(client, pump, _with_more_accounts('F-PAY-6', 5), 'application/xml')}")
    assert detail["status"]["code"] == 203, detail["errors"]
    assert [m["account"] for m in detail["payment_means"]] == [IBAN, "Compte 2", "Compte 3", "Compte 4", "Compte 5"]
    assert detail["payment_means_truncated"] is True
    [listed] = get(client, "/v1/invoices?role=recipient")["items"]
    # the listing is the detail without recipient.active (one directory read: the detail's alone)
    assert listed == {**detail, "recipient": {k: v for k, v in detail["recipient"].items() if k != "active"}}
    detail = get(client, f"/v1/invoices/{deposit(client, pump, _with_more_accounts('F-PAY-5', 4), 'application/xml')}")
    assert len(detail["payment_means"]) == 5 and detail["payment_means_truncated"] is False
