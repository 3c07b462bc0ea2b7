"""Focused tests of BR-DEC-* (at most two decimals), UBL and CII, with the official validators' edge behaviour."""

from __future__ import annotations

import pytest
from lxml import etree

from chalicelib.validation.document import Document
from chalicelib.validation.rules import decimals

NS_UBL = (
    'xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"'
)
NS_CII = (
    'xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" '
    'xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100" '
    'xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"'
)


def ubl(
    payable="100.00",
    line="100.00",
    allowance="",
    line_allowance="",
    taxable="100.00",
    tax_total="20.00",
) -> Document:
    xml = (
        f"<Invoice {NS_UBL}>{allowance}"
        f"<cac:TaxTotal><cbc:TaxAmount currencyID='EUR'>{tax_total}</cbc:TaxAmount><cac:TaxSubtotal>"
        f"<cbc:TaxableAmount currencyID='EUR'>{taxable}</cbc:TaxableAmount>"
        "<cbc:TaxAmount currencyID='EUR'>20.00</cbc:TaxAmount></cac:TaxSubtotal></cac:TaxTotal>"
        "<cac:LegalMonetaryTotal>"
        f"<cbc:LineExtensionAmount currencyID='EUR'>{line}</cbc:LineExtensionAmount>"
        f"<cbc:PayableAmount currencyID='EUR'>{payable}</cbc:PayableAmount></cac:LegalMonetaryTotal>"
        f"<cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:LineExtensionAmount currencyID='EUR'>{line}"
        f"</cbc:LineExtensionAmount>{line_allowance}</cac:InvoiceLine></Invoice>"
    )
    return Document("ubl", etree.fromstring(xml.encode()), None)


def _ac(indicator: str, amount: str, base: str = "") -> str:
    b = f"<cbc:BaseAmount currencyID='EUR'>{base}</cbc:BaseAmount>" if base else ""
    return (
        f"<cac:AllowanceCharge><cbc:ChargeIndicator>{indicator}</cbc:ChargeIndicator>"
        f"<cbc:Amount currencyID='EUR'>{amount}</cbc:Amount>{b}</cac:AllowanceCharge>"
    )


def cii(
    tax_totals=(("EUR", "20.00"),), tax_currency="", breakdown_code="S", basis="100.00", charge="", line_total="100.00"
) -> Document:
    totals = "".join(f"<ram:TaxTotalAmount currencyID='{c}'>{v}</ram:TaxTotalAmount>" for c, v in tax_totals)
    tcc = f"<ram:TaxCurrencyCode>{tax_currency}</ram:TaxCurrencyCode>" if tax_currency else ""
    xml = (
        f"<rsm:CrossIndustryInvoice {NS_CII}><rsm:SupplyChainTradeTransaction>"
        "<ram:IncludedSupplyChainTradeLineItem><ram:SpecifiedLineTradeSettlement>"
        "<ram:SpecifiedTradeSettlementLineMonetarySummation>"
        f"<ram:LineTotalAmount>{line_total}</ram:LineTotalAmount>"
        "</ram:SpecifiedTradeSettlementLineMonetarySummation></ram:SpecifiedLineTradeSettlement>"
        "</ram:IncludedSupplyChainTradeLineItem>"
        f"<ram:ApplicableHeaderTradeSettlement>{tcc}<ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>"
        "<ram:ApplicableTradeTax><ram:CalculatedAmount>20.00</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode>"
        f"<ram:BasisAmount>{basis}</ram:BasisAmount><ram:CategoryCode>{breakdown_code}</ram:CategoryCode>"
        f"</ram:ApplicableTradeTax>{charge}<ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
        f"<ram:LineTotalAmount>100.00</ram:LineTotalAmount>{totals}"
        "<ram:DuePayableAmount>120.00</ram:DuePayableAmount></ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
        "</ram:ApplicableHeaderTradeSettlement></rsm:SupplyChainTradeTransaction></rsm:CrossIndustryInvoice>"
    )
    return Document("cii", etree.fromstring(xml.encode()), None)


def ids(doc: Document) -> list[str]:
    return sorted(f.rule for f in decimals.check(doc))


@pytest.mark.parametrize("build", [ubl, cii])
def test_two_decimals_pass(build):
    assert ids(build()) == []


def test_br_dec_18_counts_characters_after_the_point():
    [f] = decimals.check(ubl(payable="100.123"))
    assert (f.rule, f.severity) == ("BR-DEC-18", "fatal")
    assert "BT-115" in f.message and "100.123" in f.message and "3 decimals" in f.message
    assert f.location == "/ubl:Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount"
    assert ids(ubl(payable="100.100")) == ["BR-DEC-18"]  # trailing zeros count
    assert ids(ubl(payable="100")) == []
    assert ids(ubl(payable="100.10 ")) == ["BR-DEC-18"]  # so does trailing white space


def test_ubl_contexts():
    assert ids(ubl(line="100.001")) == ["BR-DEC-09", "BR-DEC-23"]
    assert ids(ubl(allowance=_ac("false", "1.001", "10.001"))) == ["BR-DEC-01", "BR-DEC-02"]
    assert ids(ubl(allowance=_ac("true", "1.001"))) == ["BR-DEC-05"]
    assert ids(ubl(line_allowance=_ac("false", "1.001"))) == ["BR-DEC-24"]
    assert ids(ubl(line_allowance=_ac("true", "1.001", "1.001"))) == ["BR-DEC-27", "BR-DEC-28"]
    assert ids(ubl(taxable="100.001")) == ["BR-DEC-19"]


def test_ubl_br_dec_13_can_never_fail():
    # the official test filters TaxAmount[@currencyID = cbc:DocumentCurrencyCode] relative to the TaxAmount
    assert ids(ubl(tax_total="20.001")) == []


def test_cii_br_dec_13_compares_numerically():
    assert ids(cii(tax_totals=(("EUR", "12.340"),))) == []
    assert ids(cii(tax_totals=(("EUR", "12.341"),))) == ["BR-DEC-13"]
    # an amount in another currency satisfies the predicate by itself
    assert ids(cii(tax_totals=(("EUR", "12.341"), ("USD", "13.5")))) == []


def test_cii_br_dec_15_needs_a_two_decimal_amount_in_the_accounting_currency():
    assert ids(cii(tax_totals=(("EUR", "20.00"), ("USD", "21.60")), tax_currency="USD")) == []
    assert ids(cii(tax_totals=(("EUR", "20.00"), ("USD", "21.605")), tax_currency="USD")) == ["BR-DEC-15"]
    assert ids(cii(tax_totals=(("EUR", "20.00"),), tax_currency="USD")) == ["BR-DEC-15"]


def test_cii_br_dec_15_names_the_amount_with_too_many_decimals():
    [f] = decimals.check(cii(tax_totals=(("EUR", "20.00"), ("USD", "21.605")), tax_currency="USD"))
    assert f.message == (
        "BR-DEC-15: BT-111 Invoice total VAT amount in accounting currency (21.605) shall have at most 2 decimals."
    )
    assert f.location.endswith("/ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxTotalAmount[2]")


def test_cii_br_dec_15_without_a_total_in_the_accounting_currency_points_at_bt_6():
    # not at the EUR total (BT-110), which is right: the supplier has to add a USD one, as BR-53 says
    [f] = decimals.check(cii(tax_totals=(("EUR", "20.00"),), tax_currency="USD"))
    assert f.message == (
        "BR-DEC-15: BT-111 Invoice total VAT amount in accounting currency (a VAT total in USD) is missing."
    )
    assert f.location == (
        "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
        "/ram:TaxCurrencyCode"
    )


def test_cii_breakdown_of_category_o_is_not_checked_by_br_dec_19():
    assert ids(cii(basis="100.001")) == ["BR-DEC-19"]
    # ram:ApplicableTradeTax[CategoryCode='O'][TypeCode='VAT'] is consumed by the BR-O rule context first
    assert ids(cii(basis="100.001", breakdown_code="O")) == []


def test_cii_allowance_context_compares_the_indicator_as_text():
    allowance = (
        "<ram:SpecifiedTradeAllowanceCharge><ram:ChargeIndicator><udt:Indicator>{}</udt:Indicator>"
        "</ram:ChargeIndicator><ram:ActualAmount>1.001</ram:ActualAmount></ram:SpecifiedTradeAllowanceCharge>"
    )
    assert ids(cii(charge=allowance.format("false"))) == ["BR-DEC-01"]
    assert ids(cii(charge=allowance.format("true"))) == ["BR-DEC-05"]
    assert ids(cii(charge=allowance.format("0"))) == []  # [udt:Indicator='false'] does not match '0'


def test_cii_line_total():
    [f] = decimals.check(cii(line_total="100.001"))
    assert f.rule == "BR-DEC-23" and "BT-131" in f.message
