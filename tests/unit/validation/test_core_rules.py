"""Focused tests of the core rules BR-01…BR-65, including the UBL/CII binding differences."""

from __future__ import annotations

import re

from chalicelib.validation import validate
from tests.unit.validation.samples import cii, ids, ubl


def findings(report, rule):
    return [f for f in report.findings if f.rule == rule]


def test_samples_are_valid():
    assert validate(ubl()).valid
    assert validate(cii()).valid


def test_br02_missing_invoice_number_names_the_business_term():
    r = validate(ubl().replace(b"<cbc:ID>F-2026-001</cbc:ID>", b""))
    [f] = findings(r, "BR-02")
    assert f.severity == "fatal" and "BT-1" in f.message and f.location == "/ubl:Invoice"
    assert not r.valid


def test_blank_means_different_things_in_ubl_and_cii():
    # UBL binding: (cbc:ID) != ''  → whitespace is content
    assert "BR-02" not in ids(validate(ubl().replace(b">F-2026-001<", b">  <")))
    # CII binding: normalize-space(ram:ID) != ''
    assert "BR-02" in ids(validate(cii(number="   ")))


def test_br06_seller_name_and_location():
    r = validate(cii(seller_name=""))
    [f] = findings(r, "BR-06")
    assert "BT-27" in f.message and f.location.endswith("ram:SellerTradeParty")


def test_br09_cii_fires_without_address_ubl_does_not():
    r = validate(cii(seller_address=""))
    assert {"BR-08", "BR-09"} <= ids(r)
    no_addr = re.sub(rb"<cac:PostalAddress>.*?</cac:PostalAddress>", b"", ubl(), count=1, flags=re.S)
    got = ids(validate(no_addr))
    assert "BR-08" in got and "BR-09" not in got


def test_line_rules_br21_to_br27():
    r = validate(ubl(price="-1.00").replace(b'unitCode="C62"', b""))
    got = ids(r)
    assert {"BR-23", "BR-27"} <= got and "BR-26" not in got
    [f] = findings(r, "BR-27")
    assert "BT-146" in f.message and "-1.00" in f.message


def test_br29_period_order():
    period = (
        "<cac:InvoicePeriod><cbc:StartDate>2026-03-31</cbc:StartDate>"
        "<cbc:EndDate>2026-03-01</cbc:EndDate></cac:InvoicePeriod>"
    )
    assert "BR-29" in ids(validate(ubl(header_extra=period)))
    ok = period.replace("2026-03-31", "2026-03-01")
    assert "BR-29" not in ids(validate(ubl(header_extra=ok)))


def test_br17_payee_same_as_seller():
    same = "<cac:PayeeParty><cac:PartyName><cbc:Name>Atelier Duval</cbc:Name></cac:PartyName></cac:PayeeParty>"
    other = same.replace("Atelier Duval", "Factor SA")
    assert "BR-17" in ids(validate(ubl(parties_extra=same)))
    assert "BR-17" not in ids(validate(ubl(parties_extra=other)))


def test_br51_card_number_is_a_warning():
    pm = (
        "<cac:PaymentMeans><cbc:PaymentMeansCode>48</cbc:PaymentMeansCode><cac:CardAccount>"
        "<cbc:PrimaryAccountNumberID>1234567890123456</cbc:PrimaryAccountNumberID><cbc:NetworkID>VISA</cbc:NetworkID>"
        "</cac:CardAccount></cac:PaymentMeans>"
    )
    r = validate(ubl(parties_extra=pm))
    assert "BR-51" in r.warnings and "BR-51" not in r.fatal


def test_br61_credit_transfer_needs_account_in_both_syntaxes():
    pm = "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode></cac:PaymentMeans>"
    assert "BR-61" in ids(validate(ubl(parties_extra=pm)))
    cii_pm = (
        "<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>58</ram:TypeCode>"
        "<ram:PayeePartyCreditorFinancialAccount><ram:AccountName>X</ram:AccountName>"
        "</ram:PayeePartyCreditorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>"
    )
    assert {"BR-50", "BR-61"} <= ids(validate(cii(payment=cii_pm)))
    iban = "<ram:IBANID>FR7630006000011234567890189</ram:IBANID>"
    with_iban = cii_pm.replace("<ram:AccountName>", iban + "<ram:AccountName>")
    assert not {"BR-50", "BR-61"} & ids(validate(cii(payment=with_iban)))


def test_br33_document_allowance_reason():
    ac = (
        '<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:Amount currencyID="EUR">0'
        "</cbc:Amount><cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>20</cbc:Percent><cac:TaxScheme><cbc:ID>VAT"
        "</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:AllowanceCharge>"
    )
    got = ids(validate(ubl(parties_extra=ac)))
    assert {"BR-33", "BR-CO-21"} <= got and "BR-31" not in got and "BR-32" not in got


def test_ubl_credit_note_with_invoice_line_still_has_a_line():
    # the official rules accept cac:InvoiceLine and cac:CreditNoteLine in either document
    data = (
        ubl()
        .replace(b"Invoice-2", b"CreditNote-2")
        .replace(b"<Invoice ", b"<CreditNote ")
        .replace(b"</Invoice>", b"</CreditNote>")
        .replace(b"InvoiceTypeCode>", b"CreditNoteTypeCode>")
    )
    r = validate(data)
    assert r.document == "CreditNote" and len(r.invoice.lines) == 1
    assert not {"BR-16", "BR-22", "BR-CO-10"} & ids(r)


def _cii_not_subject(**kw: str) -> bytes:
    """The CII sample with every VAT category O (no rates, no VAT identifiers, no VAT)."""
    xml = cii(tax="0.00", sub_tax="0.00", incl="1000.00", payable="1000.00", **kw)
    xml = xml.replace(b"<ram:CategoryCode>S</ram:CategoryCode>", b"<ram:CategoryCode>O</ram:CategoryCode>")
    xml = xml.replace(b"<ram:RateApplicablePercent>20</ram:RateApplicablePercent>", b"")
    xml = re.sub(rb"<ram:SpecifiedTaxRegistration>.*?</ram:SpecifiedTaxRegistration>", b"", xml, flags=re.S)
    return xml.replace(
        b"<ram:CategoryCode>O</ram:CategoryCode>\n",
        b"<ram:CategoryCode>O</ram:CategoryCode><ram:ExemptionReason>Not subject to VAT</ram:ExemptionReason>\n",
    )


def test_cii_category_o_breakdown_is_the_context_of_br_o_rules_not_of_br45_to_48():
    # Official CII pattern: $VATO (header ApplicableTradeTax[CategoryCode='O'][upper-case(TypeCode)='VAT']) comes
    # before $VAT_breakdown, and a node is the context of its first matching rule only.
    assert validate(_cii_not_subject()).fatal == []
    no_basis = validate(re.sub(rb"\s*<ram:BasisAmount>[^<]*</ram:BasisAmount>", b"", _cii_not_subject()))
    assert "BR-O-08" in no_basis.fatal and "BR-45" not in no_basis.fatal
    no_tax = validate(_cii_not_subject().replace(b"<ram:CalculatedAmount>0.00</ram:CalculatedAmount>", b""))
    assert "BR-46" not in no_tax.fatal and "BR-CO-17" not in no_tax.fatal
    lower = validate(
        re.sub(rb"\s*<ram:BasisAmount>[^<]*</ram:BasisAmount>", b"", _cii_not_subject()).replace(
            b"<ram:TypeCode>VAT</ram:TypeCode>\n        <ram:BasisAmount", b"<ram:TypeCode>vat</ram:TypeCode>"
        )
    )
    assert "BR-45" not in lower.fatal


def test_cii_category_s_breakdown_still_answers_br45_and_br_co_17():
    no_basis = validate(re.sub(rb"<ram:BasisAmount>[^<]*</ram:BasisAmount>", b"", cii()))
    assert "BR-45" in no_basis.fatal
    assert "BR-CO-17" in validate(cii(sub_tax="150.00")).fatal
