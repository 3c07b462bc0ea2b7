"""Factur-X PDFs and structured JSON on POST /v1/invoices, content sniffing, the standard XML download."""

from __future__ import annotations

import copy
import json
import urllib.parse

import boto3
import pytest
from demo import MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import ubl_invoice
from structured_invoices import (
    blank_pdf,
    cii_invoice,
    facturx_pdf,
    json_invoice,
    pdf_bomb,
    pdf_objstm_bomb,
    pdf_with_attachment,
    with_object_streams,
)
from ubl_xsd import xsd_errors

from chalicelib.config import settings
from chalicelib.formats import json_invoice as json_format
from chalicelib.services import intake, layout

PROBLEM = "application/problem+json"


def post(client, body: bytes, content_type: str, key: str = SUPPLIER_KEY):
    return client.http.post("/v1/invoices", headers=auth(key, **{"Content-Type": content_type}), body=body)


def process(pump) -> None:
    while pump.deliver_sqs_once("validate_invoices"):
        pass


def invoice(client, invoice_id: str, key: str = SUPPLIER_KEY) -> dict:
    return json.loads(client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(key)).body)


def s3_object(key: str):
    return boto3.client("s3").get_object(Bucket=settings().invoice_bucket, Key=key)


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"] == PROBLEM
    return json.loads(response.body)


def download(client, path: str, key: str = SUPPLIER_KEY) -> bytes:
    response = client.http.get(path, headers=auth(key))
    assert response.status_code == 302, response.body
    url = urllib.parse.urlparse(response.headers["Location"])
    path = urllib.parse.unquote(url.path).lstrip("/")
    bucket = settings().invoice_bucket
    object_key = path if url.netloc.startswith(f"{bucket}.") else path.split("/", 1)[1]
    return s3_object(object_key)["Body"].read()


# --- Factur-X -------------------------------------------------------------------------------


def test_facturx_pdf_is_validated_from_its_embedded_cii_and_both_files_are_kept(client, pump):
    pdf = facturx_pdf(number="FX-1")
    response = post(client, pdf, "application/pdf")
    assert response.status_code == 202, response.body
    created = json.loads(response.body)
    assert created["format"] == "facturx"
    stored = s3_object(layout.original_key(created["id"]))
    assert stored["Body"].read() == pdf and stored["ContentType"] == "application/pdf"
    assert stored["Metadata"][intake.META_PROFILE] == "en16931"
    rendition = s3_object(intake.rendition_key(created["id"]))["Body"].read()
    assert b"CrossIndustryInvoice" in rendition and b"FX-1" in rendition

    process(pump)
    done = invoice(client, created["id"])
    assert done["status"]["code"] == 203, done["errors"]
    assert done["number"] == "FX-1" and done["totals"]["amount_due"] == "120.00"
    assert download(client, f"/v1/invoices/{created['id']}/file") == pdf  # the original, byte for byte
    assert download(client, f"/v1/invoices/{created['id']}/xml") == rendition  # the embedded CII
    assert download(client, f"/v1/invoices/{created['id']}/xml", MAIRIE_KEY) == rendition  # the recipient too


def test_invalid_embedded_invoice_is_213_with_the_engine_findings(client, pump):
    created = json.loads(post(client, facturx_pdf(number="FX-2", payable_override="1.00"), "application/pdf").body)
    process(pump)
    done = invoice(client, created["id"])
    assert done["status"]["code"] == 213
    assert "BR-CO-16" in {e["rule"] for e in done["errors"]}


@pytest.mark.parametrize("container", ["pdf", "xml"])
@pytest.mark.parametrize("profile, name", [("minimum", "MINIMUM"), ("basicwl", "BASIC WL")])
def test_minimum_and_basic_wl_profiles_are_213_as_incomplete_invoices(client, pump, profile, name, container):
    """The same rule for a CII in a PDF and a CII deposited as XML (review r5 §7)."""
    cii = cii_invoice(f"FX-{profile}-{container}", profile=profile)
    body, media = (facturx_pdf(cii), "application/pdf") if container == "pdf" else (cii, "application/xml")
    created = json.loads(post(client, body, media).body)
    process(pump)
    done = invoice(client, created["id"])
    assert done["status"]["code"] == 213
    assert done["errors"][0]["rule"] == "CHORALE-FX-01" and name in done["errors"][0]["message"]
    history = json.loads(client.http.get(f"/v1/invoices/{created['id']}/history", headers=auth(SUPPLIER_KEY)).body)
    rejection = history["history"][-1]
    assert rejection["code"] == 213 and f"names the Factur-X {name} profile" in rejection["comment"]
    assert "lines" not in rejection["comment"]  # the document carries its lines: it is refused for what it declares


def test_basic_profile_is_accepted(client, pump):
    created = json.loads(post(client, facturx_pdf(number="FX-basic", profile="basic"), "application/pdf").body)
    process(pump)
    assert invoice(client, created["id"])["status"]["code"] == 203


def test_a_pdf_whose_embedded_xml_inflates_past_the_limit_is_a_422_and_nothing_is_stored(client):
    from chalicelib.validation.parsing import MAX_XML_BYTES

    body = problem(post(client, pdf_bomb(15 * MAX_XML_BYTES), "application/pdf"), 422)  # 60 MiB in ~60 KB
    assert body["reason"] == "too-large" and body["type"].startswith("https://") and "factur-x.xml" in body["detail"]
    assert boto3.client("s3").list_objects_v2(Bucket=settings().invoice_bucket).get("KeyCount", 0) == 0


def test_a_pdf_of_padded_object_streams_is_a_422_and_nothing_is_stored(client):
    """Object streams each under pypdf's per-stream limit used to be inflated and parsed whole, one after the other:
    396 KB took 70 s on this route (API Gateway gives up at 29 s). They share one budget per document."""
    body = problem(post(client, pdf_objstm_bomb(24, 16 * 1024 * 1024 - 4096), "application/pdf"), 422)
    assert body["reason"] == "too-large" and "object streams inflate to more than" in body["detail"]
    assert boto3.client("s3").list_objects_v2(Bucket=settings().invoice_bucket).get("KeyCount", 0) == 0


def test_a_facturx_pdf_written_with_object_streams_is_accepted(client, pump):
    created = json.loads(post(client, with_object_streams(facturx_pdf(number="FX-OBJSTM")), "application/pdf").body)
    process(pump)
    assert invoice(client, created["id"])["status"]["code"] == 203


def test_pdf_without_embedded_invoice_is_422_with_an_explanation(client):
    body = problem(post(client, blank_pdf(), "application/pdf"), 422)
    assert body["reason"] == "no-embedded-invoice" and "factur-x.xml" in body["detail"]
    assert boto3.client("s3").list_objects_v2(Bucket=settings().invoice_bucket).get("KeyCount", 0) == 0


def test_pdf_embedding_a_hostile_xml_is_refused(client):
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100">'
        b"&x;</rsm:CrossIndustryInvoice>"
    )
    body = problem(post(client, pdf_with_attachment("factur-x.xml", xxe), "application/pdf"), 422)
    # factur-x's reader skips XML it cannot parse safely, and our hardened parser refuses a DOCTYPE anyway
    assert body["reason"] == "no-embedded-invoice"
    assert boto3.client("s3").list_objects_v2(Bucket=settings().invoice_bucket).get("KeyCount", 0) == 0


# --- content sniffing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type, body, found",
    [
        ("application/pdf", ubl_invoice(), "xml"),
        ("application/xml", None, "pdf"),
        ("application/json", ubl_invoice(), "xml"),
        ("application/xml", json.dumps(json_invoice()).encode(), "json"),
        ("application/pdf", b"PK\x03\x04" + b"\x00" * 40, "zip"),
    ],
    ids=["xml-as-pdf", "pdf-as-xml", "xml-as-json", "json-as-xml", "zip-as-pdf"],
)
def test_declared_type_that_does_not_match_the_bytes_is_415_saying_what_was_found(client, content_type, body, found):
    body = body if body is not None else facturx_pdf()
    answer = problem(post(client, body, content_type), 415)
    assert answer["found"] == found and answer["declared"] == content_type
    assert "but the body is" in answer["detail"]


# --- structured JSON ---------------------------------------------------------------------------


def test_json_invoice_becomes_a_validated_ubl_rendition(client, pump):
    document = json_invoice("J-1")
    raw = json.dumps(document).encode()
    response = post(client, raw, "application/json")
    assert response.status_code == 202, response.body
    created = json.loads(response.body)
    assert created["format"] == "json"
    assert s3_object(layout.original_key(created["id"]))["Body"].read() == raw
    ubl = s3_object(intake.rendition_key(created["id"]))["Body"].read()
    assert b"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" in ubl
    process(pump)
    done = invoice(client, created["id"])
    assert done["status"]["code"] == 203, done["errors"]
    assert done["number"] == "J-1" and done["recipient"]["service_code"] == "SERV-TECH"
    assert download(client, f"/v1/invoices/{created['id']}/xml", MAIRIE_KEY) == ubl


def test_json_invoice_breaking_a_business_rule_is_213(client, pump):
    created = json.loads(post(client, json.dumps(json_invoice("J-2", amount_due="1.00")).encode(),
                              "application/json").body)  # fmt: skip
    process(pump)
    done = invoice(client, created["id"])
    assert done["status"]["code"] == 213 and "BR-CO-16" in {e["rule"] for e in done["errors"]}


def test_a_json_credit_note_is_downloaded_as_a_standard_ubl_creditnote(client, pump):
    """Review r5 §1: the rendition the recipient downloads is valid against the UBL 2.1 CreditNote XSD."""
    document = json_invoice("AV-J-1", type_code="381")  # with a due date (BT-9) and payment means
    document.update({"tax_point_date": "2026-11-20", "project_reference": "PRJ-7"})
    created = json.loads(post(client, json.dumps(document).encode(), "application/json").body)
    process(pump)
    done = invoice(client, created["id"])
    assert done["status"]["code"] == 203, done["errors"]
    assert done["type"] == "credit_note"
    xml = download(client, f"/v1/invoices/{created['id']}/xml", MAIRIE_KEY)
    assert b"<cbc:PaymentDueDate>2026-12-20</cbc:PaymentDueDate>" in xml
    assert xsd_errors(xml) == []


def test_a_json_credit_note_with_a_due_date_and_no_payment_means_is_422(client):
    document = json_invoice("AV-J-2", type_code="381")
    del document["payment"]
    body = problem(post(client, json.dumps(document).encode(), "application/json"), 422)
    assert [(e["pointer"], e["keyword"]) for e in body["errors"]] == [("", "required")]
    assert "'payment'" in body["errors"][0]["message"]


def test_a_json_intra_community_supply_with_its_deliver_to_country_is_203(client, pump):
    """Review r5 §3: BR-IC-12 needs BT-80, which delivery.address.country_code gives."""
    document = json_invoice("J-K-1")
    document["buyer"]["vat_id"] = "DE123456789"
    document["vat_breakdown"] = [{"taxable_amount": "100.00", "tax_amount": "0.00", "category": "K", "rate": "0",
                                  "exemption_code": "VATEX-EU-IC"}]  # fmt: skip
    document["lines"][0]["vat"] = {"category": "K", "rate": "0"}
    document["totals"].update({"vat": "0.00", "with_vat": "100.00", "amount_due": "100.00"})
    document["delivery"] = {"date": "2026-11-15", "address": {"city": "Köln", "country_code": "DE"}}
    created = json.loads(post(client, json.dumps(document).encode(), "application/json").body)
    process(pump)
    done = invoice(client, created["id"])
    assert done["status"]["code"] == 203, done["errors"]


def test_json_schema_errors_are_422_each_with_its_json_pointer(client):
    document = json_invoice("J-3")
    del document["currency"]
    document["issue_date"] = "20/11/2026"
    document["lines"][0]["quantity"] = 2
    document["seller"]["address"]["country_code"] = "France"
    document["surprise"] = True
    body = problem(post(client, json.dumps(document).encode(), "application/json"), 422)
    pointers = {e["pointer"] for e in body["errors"]}
    assert {"", "/issue_date", "/lines/0/quantity", "/seller/address/country_code"} <= pointers
    messages = " ".join(e["message"] for e in body["errors"])
    assert "'currency' is a required property" in messages and "surprise" in messages
    assert body["reason"] == "schema"


def test_malformed_json_is_400(client):
    assert problem(post(client, b'{"number": ', "application/json"), 400)["reason"] == "malformed-json"


def test_schema_is_served_without_a_key_and_is_draft_2020_12(client):
    response = client.http.get("/v1/schemas/invoice.json")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/schema+json"
    schema = json.loads(response.body)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "BT-1" in schema["properties"]["number"]["description"]


def test_schema_in_the_repository_is_what_the_api_serves(client):
    assert json.loads(client.http.get("/v1/schemas/invoice.json").body) == copy.deepcopy(json_format.schema())
