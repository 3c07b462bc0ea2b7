"""CHORALE-DECIMAL and CHORALE-ISSUE-DATE-PAST as pure functions: an amount, quantity, price or percentage that is
no xs:decimal where EN 16931's schematron does not type it, and an issue date more than 10 years before the deposit
(the deposit time is given: no test depends on the day it runs)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from invoices import ubl_invoice
from structured_invoices import cii_invoice

from chalicelib.domain.invoice import InvoiceSummary
from chalicelib.domain.summary import non_decimal_term
from chalicelib.services import controls
from chalicelib.validation import validate

UBL = ubl_invoice().decode()
CII = cii_invoice().decode()
CII_LINE = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem"
PRICE_ALLOWANCE = (
    '<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:Amount currencyID="EUR">{discount}'
    '</cbc:Amount><cbc:BaseAmount currencyID="EUR">{gross}</cbc:BaseAmount></cac:AllowanceCharge>'
)


def _with_text(xml: str, element: str, text: str) -> str:
    written, count = re.subn(rf"(<{element}[^>]*>)[^<]*(</{element}>)", rf"\g<1>{text}\g<2>", xml, count=1)
    assert count == 1, element
    return written


def _ubl_price(base_quantity: str = "1", discount: str = "0.00", gross: str = "50.00") -> str:
    extra = f'<cbc:BaseQuantity unitCode="C62">{base_quantity}</cbc:BaseQuantity>' + PRICE_ALLOWANCE.format(
        discount=discount, gross=gross
    )
    return UBL.replace("</cbc:PriceAmount></cac:Price>", f"</cbc:PriceAmount>{extra}</cac:Price>", 1)


def _failure(xml: str):
    report = validate(xml.encode())
    assert report.valid, [f.rule for f in report.findings]  # the official verdict: valid, the control alone refuses
    return controls.decimal_failure(non_decimal_term(report.invoice))


@pytest.mark.parametrize(
    "xml, term, label, text, location",
    [
        (_with_text(UBL, "cbc:InvoicedQuantity", "NaN"), "BT-129", "Invoiced quantity", "NaN", "cbc:InvoicedQuantity"),
        (_with_text(UBL, "cbc:InvoicedQuantity", "1e5"), "BT-129", "Invoiced quantity", "1e5", "cbc:InvoicedQuantity"),
        (
            _with_text(UBL, "cbc:InvoicedQuantity", " INF "),
            "BT-129",
            "Invoiced quantity",
            "INF",
            "cbc:InvoicedQuantity",
        ),
        (_with_text(UBL, "cbc:InvoicedQuantity", "abc"), "BT-129", "Invoiced quantity", "abc", "cbc:InvoicedQuantity"),
        (_with_text(UBL, "cbc:InvoicedQuantity", ""), "BT-129", "Invoiced quantity", "", "cbc:InvoicedQuantity"),
        (_with_text(UBL, "cbc:PriceAmount", "5E1"), "BT-146", "Item net price", "5E1", "cac:Price/cbc:PriceAmount"),
        (_ubl_price(base_quantity="NaN"), "BT-149", "Item price base quantity", "NaN", "cac:Price/cbc:BaseQuantity"),
        (_ubl_price(gross="5E1"), "BT-148", "Item gross price", "5E1", "cac:AllowanceCharge/cbc:BaseAmount"),
        (_ubl_price(discount="0e0"), "BT-147", "Item price discount", "0e0", "cac:AllowanceCharge/cbc:Amount"),
        (_with_text(CII, "ram:BilledQuantity", "NaN"), "BT-129", "Invoiced quantity", "NaN", "ram:BilledQuantity"),
        (_with_text(CII, "ram:ChargeAmount", "5e1"), "BT-146", "Item net price", "5e1", "ram:ChargeAmount"),
    ],
)
def test_a_term_the_schematron_does_not_type_is_refused_naming_it_its_line_and_its_element(
    xml, term, label, text, location
):
    failure = _failure(xml)
    assert failure is not None
    assert (failure.reason_code, failure.rule, failure.business_term, failure.severity) == (
        "REJ_SEMAN",
        "CHORALE-DECIMAL",
        term,
        "fatal",
    )
    assert failure.message == (
        f"{term} {label} of line 1 {text!r} is not a decimal number (xs:decimal: digits, an optional sign and '.', "
        "no exponent, NaN or INF)."
    )
    assert failure.location.endswith(location) and failure.location.startswith(("/ubl:Invoice/", CII_LINE))


@pytest.mark.parametrize("quantity", ["+1", "-1", " 1.\n", "\t.5 ", "1.0000", "0000001"])
def test_an_xs_decimal_with_a_sign_spaces_or_a_bare_point_is_taken(quantity):
    assert _failure(_ubl_price(base_quantity=quantity)) is None


@pytest.mark.parametrize("quantity", ["1,5", "1.2.3", "\u0661", "1_000", "0x10", "Infinity", "sNaN", "+", "."])
def test_other_texts_are_not_decimals(quantity):
    assert _failure(_ubl_price(base_quantity=quantity)).business_term == "BT-149"


def test_a_total_is_read_too_but_the_official_rules_refuse_it_first():
    """A total that is no decimal fails the sum EN 16931 checks: the invoice is rejected by the official rule, and
    the platform's controls (which run on a valid invoice only) never add this finding to it."""
    report = validate(_with_text(UBL, "cbc:PayableAmount", "NaN").encode())
    assert not report.valid and "BR-CO-16" in {f.rule for f in report.findings}
    assert non_decimal_term(report.invoice).term == "BT-115"


def test_a_valid_invoice_has_no_finding():
    assert non_decimal_term(validate(UBL.encode()).invoice) is None
    assert non_decimal_term(validate(CII.encode()).invoice) is None
    assert controls.decimal_failure(None) is None


@pytest.mark.parametrize(
    "issued, deposited_at, bound",
    [
        ("0001-01-01", "2026-11-28T10:00:00.000Z", "2016-11-28"),  # .NET's DateTime.MinValue
        ("2016-11-27", "2026-11-28T00:00:00.000Z", "2016-11-28"),
        ("2018-02-27", "2028-02-29T12:00:00.000Z", "2018-02-28"),  # a 29 February's bound is the 28th
    ],
)
def test_an_invoice_dated_more_than_10_years_before_its_deposit_fails_the_controls(issued, deposited_at, bound):
    failure = controls.issue_date_failure(InvoiceSummary(issue_date=date.fromisoformat(issued)), issued, deposited_at)
    assert (failure.reason_code, failure.rule, failure.business_term) == (
        "REJ_SEMAN",
        "CHORALE-ISSUE-DATE-PAST",
        "BT-2",
    )
    assert failure.message == (
        f"BT-2 Invoice issue date {issued} is more than 10 years before the deposit date ({deposited_at[:10]}): an "
        f"invoice cannot be dated before {bound}."
    )


@pytest.mark.parametrize(
    "issued, deposited_at",
    [
        ("2016-11-28", "2026-11-28T23:59:59.999Z"),
        ("2018-02-28", "2028-02-29T00:00:00.000Z"),
        ("2026-01-01", "2026-11-28T10:00:00.000Z"),
    ],
)
def test_an_invoice_dated_10_years_before_its_deposit_or_later_passes(issued, deposited_at):
    assert (
        controls.issue_date_failure(InvoiceSummary(issue_date=date.fromisoformat(issued)), issued, deposited_at) is None
    )


def test_a_line_allowance_s_percentage_is_named_by_its_position_and_line():
    allowance = (
        "<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:AllowanceChargeReason>Remise"
        "</cbc:AllowanceChargeReason><cbc:MultiplierFactorNumeric>1E1</cbc:MultiplierFactorNumeric><cbc:Amount "
        'currencyID="EUR">0.00</cbc:Amount><cbc:BaseAmount currencyID="EUR">100.00</cbc:BaseAmount>'
        "</cac:AllowanceCharge>"
    )
    xml = UBL.replace(
        "</cbc:LineExtensionAmount>\n    <cac:Item>", "</cbc:LineExtensionAmount>" + allowance + "<cac:Item>"
    )
    failure = _failure(xml)
    assert failure.business_term == "BT-138"
    assert failure.message.startswith(
        "BT-138 Invoice line allowance percentage of allowance or charge 1 of line 1 '1E1'"
    )
    assert failure.location.endswith("cac:InvoiceLine/cac:AllowanceCharge/cbc:MultiplierFactorNumeric")
