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


def test_br_x_01_reads_the_same_in_ubl_and_cii():
    ubl_z = ubl().replace(UBL_LINE_CATEGORY, UBL_LINE_CATEGORY.replace(b">S<", b">Z<").replace(b">20<", b">0<"))
    cii_z = cii().replace(
        b"<ram:CategoryCode>S</ram:CategoryCode>\n        <ram:RateApplicablePercent>20",
        b"<ram:CategoryCode>Z</ram:CategoryCode>\n        <ram:RateApplicablePercent>0",
        1,
    )
    expected = (
        "BR-Z-01: lines, allowances or charges use VAT category Z (Zero rated), so the VAT breakdown (BG-23) "
        "shall contain exactly one VAT category code (BT-118) Z; found 0."
    )
    assert only(validate(ubl_z), "BR-Z-01").message == expected
    assert only(validate(cii_z), "BR-Z-01").message == expected


def test_cii_br_x_01_for_a_breakdown_no_line_uses():
    extra = (
        b"<ram:ApplicableTradeTax><ram:CalculatedAmount>0</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode>"
        b"<ram:BasisAmount>0</ram:BasisAmount><ram:CategoryCode>Z</ram:CategoryCode>"
        b"<ram:RateApplicablePercent>0</ram:RateApplicablePercent></ram:ApplicableTradeTax>"
    )
    anchor = b"<ram:SpecifiedTradePaymentTerms>"
    f = only(validate(cii().replace(anchor, extra + anchor)), "BR-Z-01")
    assert f.message == (
        "BR-Z-01: the VAT breakdown (BG-23) has VAT category Z (Zero rated) but no invoice line, allowance or "
        "charge uses it."
    )


def test_br_50_and_br_61_read_the_same_in_ubl_and_cii():
    ubl_pm = (
        "<cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode><cac:PayeeFinancialAccount>"
        "<cbc:Name>X</cbc:Name></cac:PayeeFinancialAccount></cac:PaymentMeans>"
    )
    cii_pm = (
        "<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>58</ram:TypeCode>"
        "<ram:PayeePartyCreditorFinancialAccount><ram:AccountName>X</ram:AccountName>"
        "</ram:PayeePartyCreditorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>"
    )
    u, c = validate(ubl(parties_extra=ubl_pm)), validate(cii(payment=cii_pm))
    for r in (u, c):
        assert (
            only(r, "BR-50").message == "BT-84 Payment account identifier is missing from the credit transfer (BG-17)."
        )
    assert (
        only(u, "BR-61").message
        == only(c, "BR-61").message
        == "Payment means 58 (credit transfer) requires BT-84 Payment account identifier."
    )


def test_cii_br_cl_10_and_11_name_the_business_terms_like_ubl():
    doc = cii().replace(b'schemeID="0009"', b'schemeID="XX"').replace(b'schemeID="0002"', b'schemeID="YY"')
    r = validate(doc)
    assert only(r, "BR-CL-10").message == (
        "Party identifier scheme (BT-29-1, BT-46-1, BT-60-1) is not in the ISO 6523 ICD list: 'XX'."
    )
    assert only(r, "BR-CL-11").message == (
        "Legal registration identifier scheme (BT-30-1, BT-47-1, BT-61-1) is not in the ISO 6523 ICD list: 'YY'."
    )
