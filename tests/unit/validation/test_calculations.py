"""Focused tests of BR-CO-* with the official arithmetic (XPath rounding, tolerances, syntax quirks)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.validation import validate
from chalicelib.validation.rules._helpers import fround2, round2, xround
from tests.unit.validation.samples import cii, ids, ubl


def test_xpath_round_is_half_towards_positive_infinity():
    assert round2(Decimal("2.345")) == Decimal("2.35")
    assert round2(Decimal("-2.345")) == Decimal("-2.34")
    assert xround(Decimal("-2.5")) == -2 and xround(Decimal("2.5")) == 3
    assert fround2(1.005) == 1.0  # in xs:double 1.005 * 100 is 100.49999…


def test_br_co_10_sum_of_lines():
    r = validate(
        ubl(line_total="1000.00").replace(
            b'<cbc:LineExtensionAmount currencyID="EUR">1000.00', b'<cbc:LineExtensionAmount currencyID="EUR">999.99', 1
        )
    )
    assert "BR-CO-10" in ids(r)
    [f] = [f for f in r.findings if f.rule == "BR-CO-10"]
    assert "BT-106" in f.message and "999.99" in f.message and "1000.00" in f.message
    assert f.location == "/ubl:Invoice/cac:LegalMonetaryTotal/cbc:LineExtensionAmount"


def test_br_co_15_message_reads_like_the_business_rule():
    r = validate(ubl(incl="1250.00", payable="1250.00"))
    [f] = [f for f in r.findings if f.rule == "BR-CO-15"]
    assert f.message.startswith("BT-112 Invoice total amount with VAT (1250.00) ≠ BT-109 + BT-110 (1200.00)")


@pytest.mark.parametrize("build", [ubl, cii])
def test_br_co_16_paid_amount(build):
    prepaid = (
        '<cbc:PrepaidAmount currencyID="EUR">200.00</cbc:PrepaidAmount>'
        if build is ubl
        else "<ram:TotalPrepaidAmount>200.00</ram:TotalPrepaidAmount>"
    )
    assert "BR-CO-16" not in ids(validate(build(totals_extra=prepaid, payable="1000.00")))
    assert "BR-CO-16" in ids(validate(build(totals_extra=prepaid, payable="1200.00")))
    zero = prepaid.replace("200.00", "0.00")  # a zero paid amount counts as absent (effective boolean value)
    assert "BR-CO-16" not in ids(validate(build(totals_extra=zero, payable="1200.00")))


def test_br_co_17_tolerance_is_strict_in_ubl_inclusive_in_cii():
    # 1000 × 20 % = 200.00; a VAT amount exactly 1.00 away
    assert "BR-CO-17" in ids(validate(ubl(sub_tax="201.00", tax="201.00", incl="1201.00", payable="1201.00")))
    assert "BR-CO-17" not in ids(validate(cii(sub_tax="201.00", tax="201.00", incl="1201.00", payable="1201.00")))
    assert "BR-CO-17" in ids(validate(cii(sub_tax="201.01", tax="201.01", incl="1201.01", payable="1201.01")))


def test_br_co_14_vat_total_equals_breakdown():
    got = ids(validate(cii(tax="210.00", incl="1210.00", payable="1210.00")))
    assert "BR-CO-14" in got and "BR-CO-15" not in got


def test_br_co_09_vat_prefix():
    assert "BR-CO-09" in ids(validate(cii(seller_vat="XX44732829320")))
    assert "BR-CO-09" not in ids(validate(cii(seller_vat="EL123456789")))


def test_br_co_13_allowance_total():
    totals = '<cbc:AllowanceTotalAmount currencyID="EUR">10.00</cbc:AllowanceTotalAmount>'
    got = ids(validate(ubl(totals_extra=totals)))
    assert {"BR-CO-11", "BR-CO-13"} <= got  # no allowance sums to 10.00, and 1000 - 10 ≠ 1000


def test_br_co_18_cii_fires_per_line_ubl_once():
    no_breakdown = cii().split(b"<ram:ApplicableTradeTax>\n        <ram:CalculatedAmount>")[0]
    rest = cii().split(b"</ram:ApplicableTradeTax>\n      <ram:SpecifiedTradePaymentTerms>")[1]
    data = no_breakdown + b"<ram:SpecifiedTradePaymentTerms>" + rest
    r = validate(data)
    assert [f.rule for f in r.findings].count("BR-CO-18") == 1  # one line → one finding


def test_br_co_03_cii_is_a_document_wide_test_in_each_breakdown():
    # CII binding: (//ram:TaxPointDate) and (//ram:DueDateTypeCode) must not both occur, anywhere in the invoice
    tax_point = b"<ram:TaxPointDate><udt:DateString format='102'>20260314</udt:DateString></ram:TaxPointDate>"
    due_code = b"<ram:DueDateTypeCode>5</ram:DueDateTypeCode>"
    header_end = b"<ram:RateApplicablePercent>20</ram:RateApplicablePercent>\n      </ram:ApplicableTradeTax>"
    line_end = b"<ram:RateApplicablePercent>20</ram:RateApplicablePercent></ram:ApplicableTradeTax>"
    assert header_end in cii() and line_end in cii()
    date_only = cii().replace(header_end, header_end.replace(b"\n", tax_point + b"\n"), 1)
    assert "BR-CO-03" not in ids(validate(date_only))
    both_in_header = cii().replace(header_end, header_end.replace(b"\n", tax_point + due_code + b"\n"), 1)
    assert "BR-CO-03" in ids(validate(both_in_header))
    code_in_a_line = date_only.replace(
        line_end, line_end.replace(b"</ram:ApplicableTradeTax>", due_code + b"</ram:ApplicableTradeTax>"), 1
    )
    assert "BR-CO-03" in ids(validate(code_in_a_line))


def test_amounts_with_more_digits_than_the_decimal_context_are_findings_not_a_crash():
    from chalicelib.validation import validate
    from chalicelib.validation.rules._helpers import fmt

    huge = "1" * 30 + ".50"
    assert fmt(Decimal(huge)) == huge and fmt(Decimal("12.5")) == "12.50"
    for build in (ubl, cii):
        report = validate(build(payable=huge, incl=huge))
        assert report.rule_errors == []  # every family answered
        assert "BR-CO-15" in report.fatal and not report.valid  # the total with VAT no longer adds up
