"""What any invoice content may make of a record, an event or a download (no AWS): texts over the platform's
lengths, impossible issue dates, JSON whose UBL is over the XML limit, document-level rejections."""

from __future__ import annotations

import json

import pytest
from fakes import FakeDirectory, FakeInvoices, FakeObjectStore
from invoices import MAIRIE_SIRET, SUPPLIER_SIRET, ubl_invoice
from processing_support import process_original
from structured_invoices import json_invoice

from chalicelib.domain.directory import Principal, Service, Structure
from chalicelib.formats import json_invoice as json_format
from chalicelib.services import intake, layout
from chalicelib.services.deposit import deposit_invoice
from chalicelib.services.errors import PayloadTooLarge, Unprocessable
from chalicelib.services.queries import download_name, original_download_url, xml_download_url

SUPPLIER = Principal(SUPPLIER_SIRET, "Atelier", ("supplier",))
DIRECTORY = FakeDirectory(
    Structure(SUPPLIER_SIRET, "Atelier", ("supplier",)),
    Structure(MAIRIE_SIRET, "Mairie", ("recipient",), requires_service_code=True,
              services=(Service("SERV-TECH", "Services techniques"), Service("S" * 150, "Long"))),
)  # fmt: skip


@pytest.fixture
def ports():
    return FakeInvoices(), FakeObjectStore()


def decided(ports, body: bytes, content_type: str = "application/xml"):
    invoices, originals = ports
    invoice = deposit_invoice(SUPPLIER, body, content_type, invoices=invoices, originals=originals,
                              max_bytes=5_000_000)  # fmt: skip
    return process_original(layout.original_key(invoice.id), invoices=invoices, originals=originals,
                            directory=DIRECTORY)  # fmt: skip


@pytest.mark.parametrize(
    "options, term, length, limit",
    [
        ({"number": "9" * 300_000}, "BT-1", 300_000, 200),
        ({"number": "F" * 201}, "BT-1", 201, 200),
        ({"seller_name": "A" * 800}, "BT-27", 800, 500),
        ({"buyer_name": "M" * 600}, "BT-44", 600, 500),
        ({"service_code": "S" * 250}, "BT-10", 250, 200),
        ({"engagement": "EJ" * 150}, "BT-13", 300, 200),
    ],
    ids=["bt1-300KB", "bt1-201", "seller-name", "buyer-name", "service-code", "engagement"],
)
def test_a_text_over_its_limit_is_rejected_213_naming_the_term_its_length_and_the_limit(ports, options, term,
                                                                                         length, limit):  # fmt: skip
    invoice = decided(ports, ubl_invoice(**options))
    assert invoice.status.code == 213 and invoice.history[-1].reason_code == "REJ_SEMAN"
    finding = invoice.errors[0]
    assert finding.rule == "CHORALE-LENGTH" and finding.severity == "fatal" and finding.location.startswith("/")
    assert term in finding.message and f"{length} characters" in finding.message and str(limit) in finding.message
    assert invoice.history[-1].comment == finding.message
    # what the record keeps is cut to the limits: the record, its events and its download name stay small
    assert all(len(v or "") <= 500 for v in (invoice.summary.number, invoice.summary.seller_name,
                                             invoice.summary.buyer_name, invoice.summary.service_code,
                                             invoice.summary.engagement_number))  # fmt: skip


def test_texts_at_their_limits_are_accepted(ports):
    body = ubl_invoice("F" * 200, seller_name="A" * 500, buyer_name="B" * 500, service_code="S" * 150,
                       engagement="E" * 200)  # fmt: skip
    invoice = decided(ports, body)
    assert invoice.status.code == 203 and invoice.summary.number == "F" * 200


def test_the_download_name_is_the_id_when_the_number_is_long_or_has_no_letter_or_digit(ports):
    invoices, originals = ports
    invoice = decided(ports, ubl_invoice("F-2026-42"))
    assert download_name(invoice) == "F-2026-42"
    assert original_download_url(SUPPLIER, invoice.id, invoices=invoices, originals=originals).endswith(
        "name=F-2026-42.xml"
    )
    for number in ("9" * 101, "---", "   ", "°\u202e/"):
        record = invoices.get(invoice.id)
        record.summary = record.summary.__class__(number=number)
        invoices.records[invoice.id] = record  # as a record written before the length control may be
        assert download_name(record) == invoice.id
        url = xml_download_url(SUPPLIER, invoice.id, invoices=invoices, originals=originals)
        assert url.endswith(f"name={invoice.id}.xml") and len(url) < 200
    # plain ASCII: what a file name may not hold is made '_', not dropped (review r35: FA/20/261 was FA/2026/1's name)
    for number, name in [("FA/2026 0001", "FA_2026_0001"), ("FA/20/261", "FA_20_261"), ("FA/2026/1", "FA_2026_1")]:
        record.summary = record.summary.__class__(number=number)
        assert download_name(record) == name
    # any script's letters and digits are kept (review r54 F7: "N°2026-001" was named after the id), in NFC; the
    # other characters are made '_' as in ASCII, a control or direction character as well
    for number, name in [
        ("N°2026-001", "N°2026-001"),
        ("Facture №1", "Facture_№1"),
        ("FACTURE\u0301-12", "FACTURÉ-12"),
        ("a\u202egnp", "a_gnp"),
        ("F\u00a02026\u20191", "F_2026_1"),
        ("9" * 99 + "É", "9" * 99 + "É"),
    ]:
        record.summary = record.summary.__class__(number=number)
        assert download_name(record) == name


@pytest.mark.parametrize(
    "written",
    # review r33 F1: UBL dates were read from their first 10 characters; these are not xs:dates
    ["2026-02-30", "2026-13-01", "0000-01-01", "+2026-11-20", "2026-11-2099", "20261120", "2026-11-20T10:00:00",
     "2026-11-20 ou 21", "2026-11-20+15:00"],
)  # fmt: skip
def test_an_issue_date_that_is_not_a_calendar_date_is_rejected_and_never_accepted_twice(ports, written):
    """The EN 16931 rules pass these (the official verdicts stand); the platform's control refuses them: an invoice
    without an issue date has no number claim, so it would escape the duplicate control."""
    first, second = (decided(ports, ubl_invoice("F-DATE", issue_date=written)) for _ in range(2))
    for invoice in (first, second):
        assert invoice.status.code == 213 and invoice.history[-1].reason_code == "REJ_SEMAN"
        [finding] = [e for e in invoice.errors if e.severity == "fatal"]
        assert finding.rule == "CHORALE-ISSUE-DATE" and finding.location.endswith("cbc:IssueDate")
        assert invoice.history[-1].comment == f"BT-2 Invoice issue date {written!r} is not a valid calendar date."
    assert ports[0].claims == {}


def test_a_json_issue_date_that_is_not_a_calendar_date_is_a_schema_error_at_once(ports):
    document = json_invoice("J-FEB30")
    document["issue_date"] = "2026-02-30"
    document["due_date"] = "2026-04-31"
    errors = json_format.schema_errors(document)
    assert [(e.pointer, e.keyword) for e in errors] == [("/due_date", "format"), ("/issue_date", "format")]
    with pytest.raises(Unprocessable) as refused:
        decided(ports, json.dumps(document).encode(), "application/json")
    assert refused.value.extra["reason"] == "schema" and ports[1].objects == {}
    document["issue_date"], document["due_date"] = "2024-02-29", "2024-03-31"
    assert json_format.schema_errors(document) == []


def test_a_json_invoice_whose_ubl_is_over_the_xml_limit_is_413_at_once(ports, monkeypatch):
    body = json.dumps(json_invoice("J-BIG")).encode()
    rendition = len(intake.prepare_json(body).rendition)
    monkeypatch.setattr(intake, "MAX_XML_BYTES", rendition - 1)  # a JSON under it whose UBL is over it
    assert len(body) < rendition - 1
    with pytest.raises(PayloadTooLarge) as refused:
        decided(ports, body, "application/json")
    extra = refused.value.extra
    assert extra["reason"] == "too-large" and extra["rendition_bytes"] == rendition
    assert extra["limit_bytes"] == rendition - 1 and str(rendition) in refused.value.detail
    assert ports[1].objects == {}  # nothing stored


def test_a_document_level_rejection_lists_its_reason_in_errors(ports):
    from chalicelib.validation.engine import ValidationReport

    invoices, originals = ports
    invoice_id = deposit_invoice(SUPPLIER, ubl_invoice(), "application/xml", invoices=invoices, originals=originals,
                                 max_bytes=100_000).id  # fmt: skip
    too_large = ValidationReport(error={"code": "too-large", "detail": "The XML document is 5049762 bytes, over the "
                                        "limit of 4194304 bytes."})  # fmt: skip
    invoice = process_original(layout.original_key(invoice_id), invoices=invoices, originals=originals,
                               directory=DIRECTORY, validate=lambda data: too_large)  # fmt: skip
    assert invoice.status.code == 213 and invoice.history[-1].reason_code == "REJ_SEMAN"
    [error] = invoice.errors
    assert error.rule == "CHORALE-DOCUMENT" and error.severity == "fatal" and "5049762" in error.message
