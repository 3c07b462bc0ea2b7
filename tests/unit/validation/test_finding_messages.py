"""Finding messages a supplier reads: they name the business terms and do not describe a missing value as given."""

from __future__ import annotations

from chalicelib.validation import validate
from tests.unit.validation.samples import cii, ubl

UBL_LINE_CATEGORY = b"<cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>20</cbc:Percent>"
UBL_ALLOWANCE = (
    '<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:Amount currencyID="EUR">0'
    "</cbc:Amount><cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>20</cbc:Percent><cac:TaxScheme><cbc:ID>VAT"
    "</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:AllowanceCharge>"
)
CII_ALLOWANCE = (
    "<ram:SpecifiedTradeAllowanceCharge><ram:ChargeIndicator><udt:Indicator>false</udt:Indicator>"
    "</ram:ChargeIndicator><ram:ActualAmount>0.00</ram:ActualAmount><ram:CategoryTradeTax><ram:TypeCode>VAT"
    "</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>20</ram:RateApplicablePercent>"
    "</ram:CategoryTradeTax></ram:SpecifiedTradeAllowanceCharge>"
)


def only(report, rule):
    [f] = [f for f in report.findings if f.rule == rule]
    return f


def test_br_o_05_quotes_the_rate_it_found_not_a_count():
    line_o = UBL_LINE_CATEGORY.replace(b">S<", b">O<").replace(b">20<", b">0<")
    f = only(validate(ubl().replace(UBL_LINE_CATEGORY, line_o)), "BR-O-05")
    assert f.message.endswith("shall not have a VAT rate (BT-152); found VAT rate 0.")


def test_a_missing_line_vat_rate_is_said_to_be_missing():
    f = only(validate(ubl().replace(UBL_LINE_CATEGORY, b"<cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID>")), "BR-S-05")
    assert f.message == (
        "BR-S-05: BT-152 VAT rate of an invoice line (BG-25) with VAT category S (Standard rated) is missing; "
        "it shall be greater than 0."
    )


def test_a_missing_item_net_price_is_said_to_be_missing():
    r = validate(ubl().replace(b'<cbc:PriceAmount currencyID="EUR">100.00</cbc:PriceAmount>', b""))
    assert only(r, "BR-27").message == "BT-146 Item net price is missing; it shall be given and not be negative."
    assert only(validate(ubl(price="-1.00")), "BR-27").message == "BT-146 Item net price (-1.00) shall not be negative."


def test_br_co_21_names_the_allowance_group_and_its_reason_terms_in_both_syntaxes():
    expected = "Each document level allowance (BG-20) shall have a reason (BT-97) or a reason code (BT-98), or both."
    assert only(validate(ubl(parties_extra=UBL_ALLOWANCE)), "BR-CO-21").message == expected
    assert only(validate(cii(payment=CII_ALLOWANCE)), "BR-CO-21").message == expected


def test_br_co_22_names_the_charge_group_and_its_reason_terms():
    charge = UBL_ALLOWANCE.replace(">false<", ">true<")
    assert only(validate(ubl(parties_extra=charge)), "BR-CO-22").message == (
        "Each document level charge (BG-21) shall have a reason (BT-104) or a reason code (BT-105), or both."
    )


def test_ubl_sr_44_wording():
    pm = (
        "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode><cbc:PaymentID>{}</cbc:PaymentID>"
        "<cac:PayeeFinancialAccount><cbc:ID>FR7630006000011234567890189</cbc:ID></cac:PayeeFinancialAccount>"
        "</cac:PaymentMeans>"
    )
    f = only(validate(ubl(parties_extra=pm.format("A") + pm.format("B"))), "UBL-SR-44")
    assert f.message == "The invoice has 2 different remittance information values (BT-83); only one is allowed."


def test_cii_allowance_findings_point_at_the_allowance_not_its_indicator():
    # as in UBL (cac:AllowanceCharge): the element the supplier has to complete
    r = validate(cii(payment=CII_ALLOWANCE))
    header = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
    for rule in ("BR-33", "BR-CO-21"):
        assert only(r, rule).location == header + "/ram:SpecifiedTradeAllowanceCharge"
    no_amount = CII_ALLOWANCE.replace("<ram:ActualAmount>0.00</ram:ActualAmount>", "").replace(">false<", ">true<")
    r = validate(cii(payment=no_amount))
    for rule in ("BR-36", "BR-38", "BR-CO-22"):
        assert only(r, rule).location == header + "/ram:SpecifiedTradeAllowanceCharge"
    u = validate(ubl(parties_extra=UBL_ALLOWANCE))
    assert only(u, "BR-CO-21").location == only(u, "BR-33").location == "/ubl:Invoice/cac:AllowanceCharge"


def test_cii_line_allowance_findings_point_at_the_allowance():
    summation = b"<ram:SpecifiedTradeSettlementLineMonetarySummation>"
    line_ac = CII_ALLOWANCE.replace("<ram:ActualAmount>0.00</ram:ActualAmount>", "").encode()
    r = validate(cii().replace(summation, line_ac + summation, 1))
    where = (
        "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem"
        "/ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeAllowanceCharge"
    )
    for rule in ("BR-41", "BR-42", "BR-CO-23"):
        assert only(r, rule).location == where
