"""Structured JSON → UBL 2.1 rendition: standard XML for every schema field, and a schema that says what EN 16931
says (review r5 §1, §3, §4, §5, §6, §7). No AWS."""

from __future__ import annotations

import pytest
from lxml import etree
from structured_invoices import json_invoice
from ubl_xsd import xsd_errors

from chalicelib.formats import json_invoice as json_format
from chalicelib.formats import ubl_writer
from chalicelib.validation import validate

NS = {"cac": ubl_writer.CAC, "cbc": ubl_writer.CBC}


def maximal(type_code: str) -> dict:
    """An invoice with every field of the schema."""
    document = json_invoice("MAX-1", type_code=type_code)
    document.update(
        {
            "specification_id": "urn:cen.eu:en16931:2017",
            "business_process": "A1",
            "tax_point_date": "2026-11-19",
            "buyer_reference": "SERV-TECH",
            "project_reference": "PRJ-7",
            "contract_reference": "CT-2026-04",
            "purchase_order": "EJ-0042",
            "buyer_accounting_reference": "6063",
            "payment_terms": "30 jours fin de mois",
            "notes": [{"subject_code": "AAI", "text": "Note"}, {"text": "Autre note"}],
            "preceding_invoices": [{"number": "F-2026-0001", "issue_date": "2026-10-01"}],
            "invoice_period": {"start": "2026-10-01", "end": "2026-10-31"},
            "delivery": {
                "date": "2026-10-31",
                "name": "Mairie, services techniques",
                "location_id": {"id": "3012345000010", "scheme": "0088"},
                "address": {
                    "line1": "2 place de la Mairie",
                    "line2": "Atelier",
                    "city": "Saint-Étienne-du-Bois",
                    "postcode": "01370",
                    "subdivision": "Ain",
                    "country_code": "FR",
                },
            },  # fmt: skip
            "allowances": [
                {
                    "amount": "10.00",
                    "base_amount": "100.00",
                    "percent": "10",
                    "vat_category": "S",
                    "vat_rate": "20",
                    "reason": "Remise",
                    "reason_code": "95",
                }
            ],
            "charges": [
                {
                    "amount": "10.00",
                    "base_amount": "100.00",
                    "percent": "10",
                    "vat_category": "S",
                    "vat_rate": "20",
                    "reason": "Port",
                    "reason_code": "FC",
                }
            ],
        }  # fmt: skip
    )
    document["totals"].update({"allowance_total": "10.00", "charge_total": "10.00", "prepaid": "0.00",
                               "rounding": "0.00"})  # fmt: skip
    for party in (document["seller"], document["buyer"]):
        party.update({"trading_name": "Nom commercial", "contact": {"name": "Compta", "telephone": "0102030405",
                                                                    "email": "c@example.org"}})  # fmt: skip
        party["address"].update({"line2": "Bâtiment B", "subdivision": "Rhône"})
    document["payment"].update({"remittance": "MAX-1", "account_name": "Atelier", "bic": "AGRIFRPP"})
    line = document["lines"][0]
    line.update({"note": "Trimestre 4", "order_line_reference": "3", "accounting_reference": "6063-1",
                 "period": {"start": "2026-10-01", "end": "2026-10-31"}})  # fmt: skip
    line["price"]["base_quantity"] = "1"
    line["item"].update({"description": "Contrat annuel", "seller_id": "S-1", "buyer_id": "B-77",
                         "origin_country": "FR"})  # fmt: skip
    return document


def _fields(node) -> set[str]:
    """Every property path of a schema node (arrays as [])."""
    node = _resolved(node)
    found = set()
    for name, child in node.get("properties", {}).items():
        found.add(name)
        child = _resolved(child)
        if child.get("type") == "array":
            child = _resolved(child["items"])
        found |= {f"{name}.{sub}" for sub in _fields(child)}
    return found


def _resolved(node):
    # (properties beside a $ref only narrow the referenced ones: the buyer's identifiers, at most one)
    while "$ref" in node:
        node = json_format.schema()["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _present(document, prefix="") -> set[str]:
    found = set()
    items = document.items() if isinstance(document, dict) else ()
    for name, value in items:
        found.add(prefix + name)
        for sub in value if isinstance(value, list) else [value]:
            if isinstance(sub, dict):
                found |= _present(sub, prefix + name + ".")
    return found


@pytest.mark.parametrize("type_code, root", [("380", "Invoice"), ("381", "CreditNote")])
def test_a_rendition_with_every_schema_field_is_valid_ubl_2_1(type_code, root):
    document = maximal(type_code)
    exemption = {"vat_breakdown.exemption_reason", "vat_breakdown.exemption_code"}  # not for S: in the K test
    assert _present(document) | exemption == _fields(json_format.schema())  # every field of the schema is used
    assert json_format.schema_errors(document) == []
    xml = ubl_writer.to_ubl(document)
    assert etree.QName(etree.fromstring(xml)).localname == root
    assert xsd_errors(xml) == []
    report = validate(xml)
    assert report.valid, report.fatal


def test_a_credit_note_follows_the_creditnote_bindings_of_en_16931_3_2():
    root = etree.fromstring(ubl_writer.to_ubl(maximal("381")))
    names = [etree.QName(c).localname for c in root]
    assert "DueDate" not in names and "ProjectReference" not in names
    assert names.index("TaxPointDate") < names.index("CreditNoteTypeCode")
    assert root.xpath("cac:PaymentMeans/cbc:PaymentDueDate/text()", namespaces=NS) == ["2026-12-20"]
    reference = root.xpath("cac:AdditionalDocumentReference[cbc:DocumentTypeCode='50']/cbc:ID/text()", namespaces=NS)
    assert reference == ["PRJ-7"]
    invoice = etree.fromstring(ubl_writer.to_ubl(maximal("380")))
    assert invoice.xpath("cbc:DueDate/text()", namespaces=NS) == ["2026-12-20"]
    assert invoice.xpath("cac:ProjectReference/cbc:ID/text()", namespaces=NS) == ["PRJ-7"]


def test_a_credit_note_with_a_due_date_needs_its_payment_means():
    document = json_invoice("AV-1", type_code="381")
    del document["payment"]
    errors = json_format.schema_errors(document)
    assert [(e.pointer, e.keyword) for e in errors] == [("", "required")] and "'payment'" in errors[0].message
    del document["due_date"]  # without a due date, a credit note needs no payment means
    assert json_format.schema_errors(document) == []
    assert xsd_errors(ubl_writer.to_ubl(document)) == []
    invoice = json_invoice("F-1")
    del invoice["payment"]  # an invoice carries BT-9 as cbc:DueDate
    assert json_format.schema_errors(invoice) == []


def test_the_schema_credit_note_codes_are_the_writer_s():
    condition = json_format.schema()["allOf"][0]["if"]["properties"]["type_code"]["enum"]
    assert set(condition) == ubl_writer.CREDIT_NOTE_CODES


def intra_community(delivery: dict) -> dict:
    document = json_invoice("IC-1")
    document["buyer"]["vat_id"] = "DE123456789"
    document["buyer"]["address"]["country_code"] = "DE"
    exemption = {"exemption_code": "VATEX-EU-IC", "exemption_reason": "Livraison intracommunautaire"}
    document["vat_breakdown"] = [{"taxable_amount": "100.00", "tax_amount": "0.00", "category": "K", "rate": "0"}]
    document["vat_breakdown"][0].update(exemption)
    document["lines"][0]["vat"] = {"category": "K", "rate": "0"}
    document["totals"].update({"vat": "0.00", "with_vat": "100.00", "amount_due": "100.00"})
    document["delivery"] = delivery
    return document


def test_an_intra_community_supply_gives_its_deliver_to_country():
    without = validate(ubl_writer.to_ubl(intra_community({"date": "2026-11-15"})))
    assert any("BR-IC-12" in str(f) for f in without.fatal)  # BT-80 is required, and the JSON can now give it
    document = intra_community({"date": "2026-11-15", "name": "Lager Köln", "address": {"country_code": "DE"}})
    assert json_format.schema_errors(document) == []
    xml = ubl_writer.to_ubl(document)
    assert xsd_errors(xml) == []
    report = validate(xml)
    assert report.valid, report.fatal
    delivery = report.invoice.delivery
    assert delivery.address.country.text == "DE" and delivery.name.text == "Lager Köln"


@pytest.mark.parametrize("type_code", ["71", "80", "82", "84", "380", "751"])
def test_two_digit_type_codes_are_left_to_the_code_list(type_code):
    document = json_invoice("T-1", type_code=type_code)
    assert json_format.schema_errors(document) == []
    assert validate(ubl_writer.to_ubl(document)).valid in (True, False)  # BR-CL-01 decides, not the schema


def test_type_codes_the_code_list_would_not_know_are_still_refused_by_shape():
    for bad in ("", "3800", "38a", " 80"):
        document = json_invoice("T-1", type_code=bad)
        assert [(e.pointer, e.keyword) for e in json_format.schema_errors(document)] == [("/type_code", "pattern")]


@pytest.mark.parametrize("vat_id", ["CHE123456789MWST", "CHE-123.456.789 MWST", "NL8200.98.395.B.01", "DE 123 456 789"])
def test_vat_identifiers_are_checked_for_their_country_prefix_only(vat_id):
    document = json_invoice("V-1")
    document["buyer"]["vat_id"] = vat_id
    assert json_format.schema_errors(document) == []
    report = validate(ubl_writer.to_ubl(document))
    assert report.valid, report.fatal


@pytest.mark.parametrize("vat_id", ["fr12345678901", "123456789", " FR123", "F", ""])
def test_a_vat_identifier_without_a_country_prefix_is_refused(vat_id):
    document = json_invoice("V-1")
    document["seller"]["vat_id"] = vat_id
    assert {e.pointer for e in json_format.schema_errors(document)} == {"/seller/vat_id"}


def test_vat_category_b_is_a_category():
    document = json_invoice("B-1")
    document["vat_breakdown"][0]["category"] = "B"
    document["lines"][0]["vat"]["category"] = "B"
    assert json_format.schema_errors(document) == []


@pytest.mark.parametrize("value", ["+0.10", "64.", ".5", "-1.5", "+7"])
def test_decimals_are_xml_schema_decimals(value):
    document = json_invoice("D-1")
    document["lines"][0]["price"]["base_quantity"] = value
    document["totals"]["prepaid"] = value
    assert json_format.schema_errors(document) == []


@pytest.mark.parametrize("value", ["1e3", "1E3", "0x10", "1,5", ".", "+", "-", "1.2.3", " 1", "1 ", "NaN", "1_000"])
def test_what_xs_decimal_refuses_is_still_refused(value):
    document = json_invoice("D-1")
    document["lines"][0]["price"]["base_quantity"] = value
    document["totals"]["prepaid"] = value
    pointers = {e.pointer for e in json_format.schema_errors(document)}
    assert pointers == {"/lines/0/price/base_quantity", "/totals/prepaid"}


def test_amounts_keep_at_most_two_decimals():
    document = json_invoice("D-1")
    document["totals"]["prepaid"] = "+0.105"
    assert [e.pointer for e in json_format.schema_errors(document)] == ["/totals/prepaid"]


def test_signed_and_bare_point_decimals_are_valid_for_the_engine():
    document = json_invoice("D-2", quantity="2")
    document["lines"][0]["quantity"] = "2."
    document["lines"][0]["price"]["net"] = "+50.00"
    report = validate(ubl_writer.to_ubl(document))
    assert report.valid, report.fatal


def test_the_total_vat_amount_is_required_never_invented():
    document = json_invoice("N-1")
    del document["totals"]["vat"]
    errors = json_format.schema_errors(document)
    assert [(e.pointer, e.keyword) for e in errors] == [("/totals", "required")] and "'vat'" in errors[0].message


@pytest.mark.parametrize("field", ["bic", "account_name"])
def test_account_details_without_the_account_are_refused_not_dropped(field):
    document = json_invoice("P-1")
    document["payment"] = {"means_code": "42", field: "AGRIFRPP"}
    errors = json_format.schema_errors(document)
    assert [(e.pointer, e.keyword) for e in errors] == [("/payment", "dependentRequired")]
    assert "'account'" in errors[0].message
