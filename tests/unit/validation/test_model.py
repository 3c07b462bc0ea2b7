"""The semantic model read from UBL and CII: typed values, raw text, XPath locations, tolerance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from chalicelib.validation import validate
from chalicelib.validation.model import xpath_of
from chalicelib.validation.parsing import parse_xml
from chalicelib.validation.readers import read_invoice
from tests.unit.validation.samples import cii, ubl


def _model(data: bytes):
    report = validate(data)
    assert report.invoice is not None
    return report.invoice


def test_ubl_platform_fields():
    inv = _model(ubl())
    assert inv.syntax == "ubl" and inv.document == "Invoice"
    assert inv.invoice_number == "F-2026-001"
    assert inv.issue_date.value == date(2026, 3, 14)
    assert inv.type_code_value == "380" and not inv.is_credit_note
    assert inv.currency_code == "EUR"
    assert inv.buyer_reference.text == "SERVICE-42"
    assert inv.purchase_order.text == "PO-7781"
    assert inv.due_date.value == date(2026, 4, 13)
    seller = inv.seller
    assert seller.name.text == "Atelier Duval SAS"  # BT-27 is the legal registration name
    assert seller.trading_name.text == "Atelier Duval"  # BT-28
    assert seller.siret == "73282932000074" and seller.ids == [("73282932000074", "0009")]
    assert (seller.legal_registration.text, seller.legal_registration.scheme) == ("732829320", "0002")
    assert seller.siren == "732829320"
    assert seller.vat_id.text == "FR44732829320"
    assert seller.electronic_address.scheme == "0009"
    assert inv.buyer.name.text == "Client Public" and inv.buyer.vat_id.text == "FR39356000000"
    t = inv.totals
    assert (t.line_total.value, t.tax_exclusive.value, t.tax_amount.value) == (
        Decimal("1000.00"),
        Decimal("1000.00"),
        Decimal("200.00"),
    )
    assert inv.total_with_vat == Decimal("1200.00") and inv.amount_due == Decimal("1200.00")
    assert t.tax_amount.currency == "EUR"
    [line] = inv.lines
    assert line.quantity.value == 10 and line.quantity.unit == "C62"
    assert line.vat_category == "S" and line.vat_rate == 20
    assert line.item.name.text == "Conseil" and line.price.net.value == Decimal("100.00")
    [b] = inv.vat_breakdown
    assert (b.category.text, b.rate.value, b.taxable_amount.value, b.tax_amount.value) == (
        "S",
        Decimal(20),
        Decimal("1000.00"),
        Decimal("200.00"),
    )


def test_cii_platform_fields():
    inv = _model(cii(type_code="381"))
    assert inv.syntax == "cii" and inv.document == "CrossIndustryInvoice"
    assert inv.invoice_number == "F-2026-002"
    assert inv.issue_date.value == date(2026, 3, 14) and inv.issue_date.format == "102"
    assert inv.is_credit_note
    assert inv.buyer_reference.text == "SERVICE-42" and inv.purchase_order.text == "PO-7781"
    assert inv.seller.siret == "73282932000074" and inv.seller.siren == "732829320"
    assert inv.seller.vat_id.text == "FR44732829320"
    assert inv.due_date.value == date(2026, 4, 13)
    assert inv.totals.tax_amount.value == Decimal("200.00")
    assert inv.lines[0].vat_category == "S"
    summary = inv.summary()
    assert summary["number"] == "F-2026-002" and summary["totals"]["payable"] == "1200.00"
    assert summary["seller"]["legal_registration"] == ("732829320", "0002")


def test_raw_text_and_location_are_kept():
    inv = _model(ubl(payable=" 1200.000 "))
    payable = inv.totals.payable
    assert payable.raw == " 1200.000 " and payable.text == "1200.000"
    assert payable.value == Decimal("1200.000")
    assert payable.path == "/ubl:Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount"
    assert inv.lines[0].id.path == "/ubl:Invoice/cac:InvoiceLine/cbc:ID"


def test_xpath_positions_only_for_repeated_siblings():
    root = parse_xml(b"<a><b/><b><c/></b></a>")
    assert xpath_of(root[1][0]) == "/a/b[2]/c"


def test_unparseable_values_are_none_not_errors():
    inv = _model(ubl(payable="12,50", qty="many").replace(b"2026-03-14", b"2026-02-30"))
    assert inv.totals.payable.value is None and inv.totals.payable.raw == "12,50"
    assert inv.lines[0].quantity.value is None
    assert inv.issue_date.value is None and inv.issue_date.raw == "2026-02-30"


def test_duplicates_keep_first_and_fragments_are_tolerated():
    dup = ubl().replace(b"<cbc:ID>F-2026-001</cbc:ID>", b"<cbc:ID>F-1</cbc:ID><cbc:ID>F-2</cbc:ID>")
    assert _model(dup).invoice_number == "F-1"
    fragment = (
        b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
        b'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2">'
        b"<cac:InvoiceLine/></Invoice>"
    )
    inv = read_invoice(parse_xml(fragment), "ubl", "Invoice")
    assert inv.number is None and inv.totals is None and len(inv.lines) == 1 and inv.lines[0].id is None


def test_empty_element_is_present_but_blank():
    inv = _model(ubl().replace(b"<cbc:BuyerReference>SERVICE-42</cbc:BuyerReference>", b"<cbc:BuyerReference/>"))
    assert inv.buyer_reference is not None and inv.buyer_reference.raw == ""


def test_credit_note_document():
    data = (
        ubl()
        .replace(b"Invoice-2", b"CreditNote-2")
        .replace(b"<Invoice ", b"<CreditNote ")
        .replace(b"</Invoice>", b"</CreditNote>")
        .replace(b"InvoiceTypeCode>380", b"CreditNoteTypeCode>381")
        .replace(b"InvoiceTypeCode>", b"CreditNoteTypeCode>")
        .replace(b"InvoiceLine>", b"CreditNoteLine>")
        .replace(b"InvoicedQuantity", b"CreditedQuantity")
    )
    report = validate(data)
    assert report.document == "CreditNote" and report.invoice.is_credit_note
    assert report.invoice.type_code_value == "381" and report.invoice.lines[0].quantity.value == 10


def test_a_ubl_date_is_an_xs_date_and_nothing_else():
    """Review r33 F1: a UBL date was read from its first 10 characters, so "2026-11-2099" was 2026-11-20 (accepted,
    while the buyer's schema refuses it). An xs:date is YYYY-MM-DD with an optional time zone; CII keeps YYYYMMDD."""
    from datetime import date

    from lxml import etree

    from chalicelib.validation.model import DateField, UblDate

    def ubl(text):
        return UblDate(etree.fromstring(f"<d>{text}</d>")).value

    for text in ("2026-11-20", " 2026-11-20\n", "2026-11-20Z", "2026-11-20+01:00", "2026-11-20-14:00"):
        assert ubl(text) == date(2026, 11, 20), text
    for text in ("2026-11-2099", "20261120", "2026-11-20T10:00:00", "2026-11-20Z0", "2026-11-20+15:00", "٢٠٢٦-11-20"):
        assert ubl(text) is None, text
    assert DateField(etree.fromstring("<d>20261120</d>")).value == date(2026, 11, 20)  # CII format 102
