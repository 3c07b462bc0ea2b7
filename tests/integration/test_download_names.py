"""The name a download is saved under (review r35): S3 sends back the presigned URL's Content-Disposition."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from demo import SUPPLIER_KEY, auth
from invoices import ubl_invoice

XML = {"Content-Type": "application/xml"}


def deposited(client, pump, number: str) -> str:
    response = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=ubl_invoice(number))
    assert response.status_code == 202, response.body
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    return json.loads(response.body)["id"]


def disposition(response) -> str:
    """The Content-Disposition S3 answers the redirect's URL with."""
    assert response.status_code == 302, response.body
    [value] = parse_qs(urlsplit(response.headers["Location"]).query)["response-content-disposition"]
    return value


def test_an_attachment_downloads_under_its_own_name_spaces_and_accents_kept(client, pump):
    """A space was dropped and an accented letter went out as a raw byte: "PV réception.pdf" was saved as
    PVr\\xe9ception.pdf. The quoted name is its ASCII form; filename* carries the name itself."""
    invoice_id = deposited(client, pump, "F-2026-R35A")
    for name, expected in [
        ("Bon de livraison.pdf", 'attachment; filename="Bon de livraison.pdf"'),
        ("PV réception.pdf", "attachment; filename=\"PV r_ception.pdf\"; filename*=UTF-8''PV%20r%C3%A9ception.pdf"),
        ('devis "final".pdf', "attachment; filename=\"devis _final_.pdf\"; filename*=UTF-8''devis%20%22final%22.pdf"),
    ]:
        attached = client.http.post(
            f"/v1/invoices/{invoice_id}/attachments?name={quote(name)}",
            headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/pdf"}),
            body=b"%PDF-1.4\n%%EOF\n",
        )
        assert attached.status_code == 201, attached.body
        assert json.loads(attached.body)["name"] == name
        attachment_id = json.loads(attached.body)["id"]
        download = client.http.get(f"/v1/invoices/{invoice_id}/attachments/{attachment_id}", headers=auth(SUPPLIER_KEY))
        assert disposition(download) == expected
        assert disposition(download).isascii()  # S3 sends it back as a header


def test_an_invoice_file_is_named_after_its_number_each_other_character_made_an_underscore(client, pump):
    """FA/2026 0001 was saved as FA20260001.xml: removed characters let FA/20/261 and FA/2026/1 share a name."""
    invoice_id = deposited(client, pump, "FA/2026 0001")
    download = client.http.get(f"/v1/invoices/{invoice_id}/file", headers=auth(SUPPLIER_KEY))
    assert disposition(download) == 'attachment; filename="FA_2026_0001.xml"'


@pytest.mark.parametrize(
    "number, expected",
    [
        ("N°2026-001", "attachment; filename=\"N_2026-001.xml\"; filename*=UTF-8''N%C2%B02026-001.xml"),
        ("FACTURÉ-12", "attachment; filename=\"FACTUR_-12.xml\"; filename*=UTF-8''FACTUR%C3%89-12.xml"),
        ("FA/2026 №7", "attachment; filename=\"FA_2026__7.xml\"; filename*=UTF-8''FA_2026_%E2%84%967.xml"),
    ],
    ids=["degree-sign", "accent", "numero-sign"],
)
def test_an_invoice_number_with_accents_or_a_numero_sign_names_the_file(client, pump, number, expected):
    """Review r54 F7: a number with any non-ASCII character ("N°", common in French numbering) was downloaded under
    the invoice id. It names the file as an attachment's name does: an ASCII fallback and the name in filename*."""
    invoice_id = deposited(client, pump, number)
    for route in ("file", "xml"):
        download = client.http.get(f"/v1/invoices/{invoice_id}/{route}", headers=auth(SUPPLIER_KEY))
        assert disposition(download) == expected
        assert disposition(download).isascii()  # S3 sends it back as a header


def test_an_attachment_sent_without_a_name_is_told_how_to_give_one(client, pump):
    """Review r35: the refusal said "Give the attachment a file name" without saying how."""
    invoice_id = deposited(client, pump, "F-2026-R35N")
    refused = client.http.post(
        f"/v1/invoices/{invoice_id}/attachments",
        headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/pdf"}),
        body=b"%PDF-1.4\n%%EOF\n",
    )
    assert refused.status_code == 400, refused.body
    detail = json.loads(refused.body)["detail"]
    assert "?name=" in detail and "Content-Disposition: attachment; filename=" in detail
