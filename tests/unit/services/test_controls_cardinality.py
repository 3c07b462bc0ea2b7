"""CHORALE-CARDINALITY (review r48 finding 4): a term the platform reads, repeated where the syntax's XSD allows it
once, is refused; the readers keep the first occurrence, a payer's software may read another. EN 16931's own
syntax rules (UBL-SR, CII-SR) keep the terms they check."""

from __future__ import annotations

import re

import pytest
from invoices import ubl_invoice
from structured_invoices import cii_invoice, json_invoice

from chalicelib.domain.summary import credit_note_due_date, repeated_term
from chalicelib.formats.ubl_writer import to_ubl
from chalicelib.services.controls import REJECTION_SEMANTIC, cardinality_failure, credit_note_due_date_failure
from chalicelib.validation import validate

LMT = "cac:LegalMonetaryTotal"
HTS = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
HTA = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"


def _twice(xml: str, element: str) -> str:
    """xml with its first `element` (a tag name) written twice in a row."""
    found = re.search(rf"<{element}[ >].*?</{element}>", xml, re.S)
    assert found, element
    return xml[: found.end()] + found.group(0) + xml[found.end() :]


def _inserted(xml: str, after: str, text: str) -> str:
    assert after in xml, after
    return xml.replace(after, after + text, 1)


def _failure(xml: str):
    report = validate(xml.encode())
    assert report.invoice is not None
    return report, cardinality_failure(repeated_term(report.invoice))


UBL = ubl_invoice(engagement="EJ-2026-1").decode()


@pytest.mark.parametrize(
    "term, element, path",
    [
        ("BT-1", "cbc:ID", "cbc:ID"),
        ("BT-2", "cbc:IssueDate", "cbc:IssueDate"),
        ("BT-3", "cbc:InvoiceTypeCode", "cbc:InvoiceTypeCode"),
        ("BT-5", "cbc:DocumentCurrencyCode", "cbc:DocumentCurrencyCode"),
        ("BT-9", "cbc:DueDate", "cbc:DueDate"),
        ("BT-10", "cbc:BuyerReference", "cbc:BuyerReference"),
        ("BT-13", "cac:OrderReference", "cac:OrderReference/cbc:ID"),
        ("BG-4", "cac:AccountingSupplierParty", "cac:AccountingSupplierParty/cac:Party"),
        ("BG-7", "cac:AccountingCustomerParty", "cac:AccountingCustomerParty/cac:Party"),
        ("BT-106", "cbc:LineExtensionAmount", f"{LMT}/cbc:LineExtensionAmount"),
        ("BT-109", "cbc:TaxExclusiveAmount", f"{LMT}/cbc:TaxExclusiveAmount"),
        ("BT-110", "cbc:TaxAmount", "cac:TaxTotal/cbc:TaxAmount"),
        ("BT-112", "cbc:TaxInclusiveAmount", f"{LMT}/cbc:TaxInclusiveAmount"),
        ("BT-115", "cbc:PayableAmount", f"{LMT}/cbc:PayableAmount"),
        ("BT-106", LMT, f"{LMT}/cbc:LineExtensionAmount"),  # the whole group repeated: its first term
    ],
)
def test_a_ubl_term_written_twice_is_refused_naming_its_term_and_second_occurrence(term, element, path):
    _, failure = _failure(_twice(UBL, element))
    assert failure is not None and failure.rule == "CHORALE-CARDINALITY"
    assert failure.reason_code == REJECTION_SEMANTIC and failure.severity == "fatal"
    assert failure.business_term == term
    assert failure.message.startswith(f"{term} ") and f"occurs 2 times ({path}); UBL 2.1 allows it once." in (
        failure.message
    )
    assert failure.location.startswith("/ubl:Invoice/") and "[2]" in failure.location


@pytest.mark.parametrize(
    "term, element",
    [
        ("BT-107", "AllowanceTotalAmount"),
        ("BT-108", "ChargeTotalAmount"),
        ("BT-113", "PrepaidAmount"),
        ("BT-114", "PayableRoundingAmount"),
    ],
)
def test_an_optional_ubl_total_written_twice_is_refused(term, element):
    total = f'<cbc:{element} currencyID="EUR">0.00</cbc:{element}>'
    _, failure = _failure(_inserted(UBL, f"<{LMT}>", total * 2))
    assert failure.business_term == term and f"({LMT}/cbc:{element})" in failure.message
    assert failure.location == f"/ubl:Invoice/{LMT}/cbc:{element}[2]"


def test_the_message_of_two_amounts_due_reads_as_the_review_asked():
    report, failure = _failure(_twice(UBL, "cbc:PayableAmount"))
    assert report.valid  # EN 16931's schematron takes it: the control is the platform's
    assert failure.message == (
        "BT-115 Amount due for payment occurs 2 times (cac:LegalMonetaryTotal/cbc:PayableAmount); "
        "UBL 2.1 allows it once."
    )
    assert failure.location == "/ubl:Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount[2]"


@pytest.mark.parametrize("xml", [UBL, ubl_invoice().decode(), cii_invoice().decode()], ids=["ubl-po", "ubl", "cii"])
def test_each_term_written_once_is_no_finding(xml):
    assert _failure(xml)[1] is None


def test_two_vat_totals_each_with_its_amount_are_no_finding():
    """cac:TaxTotal repeats (BT-110 and BT-111 in the VAT accounting currency): its TaxAmount is once per total."""
    tax_total = re.search(r"<cac:TaxTotal>.*?</cac:TaxTotal>", UBL, re.S).group(0)
    in_usd = re.sub(r"<cac:TaxSubtotal>.*</cac:TaxSubtotal>", "", tax_total, flags=re.S).replace("EUR", "USD")
    xml = _inserted(UBL, "</cbc:DocumentCurrencyCode>", "<cbc:TaxCurrencyCode>USD</cbc:TaxCurrencyCode>")
    assert repeated_term(validate(_inserted(xml, tax_total, in_usd).encode()).invoice) is None


CII = cii_invoice().decode()


@pytest.mark.parametrize(
    "term, element, path",
    [
        ("BT-1", "ram:ID>C-2026", "rsm:ExchangedDocument/ram:ID"),
        ("BT-2", "ram:IssueDateTime", "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString"),
        ("BT-5", "ram:InvoiceCurrencyCode", f"{HTS}/ram:InvoiceCurrencyCode"),
        (
            "BT-9",
            "ram:DueDateDateTime",
            f"{HTS}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString",
        ),  # fmt: skip
        ("BT-10", "ram:BuyerReference", f"{HTA}/ram:BuyerReference"),
        (
            "BG-22",
            "ram:SpecifiedTradeSettlementHeaderMonetarySummation",
            f"{HTS}/ram:SpecifiedTradeSettlementHeaderMonetarySummation",
        ),  # fmt: skip
    ],
)
def test_a_cii_term_no_official_rule_counts_written_twice_is_refused(term, element, path):
    if element == "ram:ID>C-2026":  # BT-1, not the guideline's ram:ID
        xml = CII.replace("<ram:ID>C-2026-0001</ram:ID>", "<ram:ID>C-2026-0001</ram:ID><ram:ID>C-2026-0002</ram:ID>")
    else:
        xml = _twice(CII, element)
    report, failure = _failure(xml)
    assert report.valid  # no official rule refuses it
    assert failure.business_term == term
    assert f"occurs 2 times ({path}); UN/CEFACT CII D16B allows it once." in failure.message
    assert failure.location.startswith("/rsm:CrossIndustryInvoice/") and "[2]" in failure.location


def test_a_cii_purchase_order_reference_written_twice_is_refused():
    order = "<ram:BuyerOrderReferencedDocument><ram:IssuerAssignedID>EJ-1</ram:IssuerAssignedID>"
    xml = _inserted(CII, "</ram:BuyerTradeParty>", order + "<ram:IssuerAssignedID>EJ-2</ram:IssuerAssignedID>"
                    "</ram:BuyerOrderReferencedDocument>")  # fmt: skip
    assert _failure(xml)[1].business_term == "BT-13"


def test_a_cii_term_an_official_rule_counts_is_left_to_it():
    """Two DuePayableAmount in one summation: CII-SR-487 refuses it; the control adds nothing of its own."""
    report, failure = _failure(_twice(CII, "ram:DuePayableAmount"))
    assert "CII-SR-487" in report.fatal and failure is None


def test_two_cii_payment_terms_each_with_a_due_date_are_no_finding():
    """D16B repeats ram:SpecifiedTradePaymentTerms (CII-SR-452 warns): a due date is counted within each."""
    assert _failure(_twice(CII, "ram:SpecifiedTradePaymentTerms"))[1] is None


def test_a_credit_note_s_cbc_due_date_is_refused_by_name_and_an_invoice_s_is_not():
    """A UBL CreditNote has no cbc:DueDate (review r55 F2): one is refused by name, even twice (it is allowed no
    time, not once); an Invoice's is its BT-9."""
    xml = to_ubl(json_invoice(type_code="381")).decode()
    twice = _inserted(xml, "</cbc:IssueDate>", "<cbc:DueDate>2026-12-31</cbc:DueDate>" * 2)
    failure = credit_note_due_date_failure(credit_note_due_date(validate(twice.encode()).invoice))
    assert (failure.reason_code, failure.rule, failure.business_term) == (
        REJECTION_SEMANTIC,
        "CHORALE-CARDINALITY",
        "BT-9",
    )
    assert failure.message.startswith("cbc:DueDate is not an element of a UBL 2.1 CreditNote")
    assert failure.location == "/cn:CreditNote/cbc:DueDate[1]"  # the first of the two
    assert credit_note_due_date(validate(xml.encode()).invoice) is None
    assert credit_note_due_date(validate(UBL.encode()).invoice) is None
