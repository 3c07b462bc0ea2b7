"""Focused tests of the VAT category families (BR-S, BR-Z, BR-E, BR-AE, BR-IC, BR-G, BR-O, BR-AF, BR-AG, BR-B).

Small invoices are built here (UBL and CII) with only what the VAT rules read, and the family
modules are run directly on them. Several tests pin down deliberate reproductions of the
official validators' behaviour (release 1.3.16) that differ from a naive reading of EN 16931.
"""

from __future__ import annotations

import importlib

import pytest
from lxml import etree

from chalicelib.validation.document import Document

FAMILIES = (
    "vat_standard",
    "vat_zero",
    "vat_exempt",
    "vat_reverse_charge",
    "vat_intra_community",
    "vat_export",
    "vat_not_subject",
    "vat_igic",
    "vat_ipsi",
    "vat_split_payment",
)
MODULES = [importlib.import_module(f"chalicelib.validation.rules.{m}") for m in FAMILIES]

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


# ----------------------------------------------------------------------------- builders
def _ubl_cat(tag: str, code: str, rate: str | None, reason: str | None = None, scheme: str = "VAT") -> str:
    pct = f"<cbc:Percent>{rate}</cbc:Percent>" if rate is not None else ""
    why = f"<cbc:TaxExemptionReason>{reason}</cbc:TaxExemptionReason>" if reason else ""
    return (
        f"<cac:{tag}><cbc:ID>{code}</cbc:ID>{pct}{why}"
        f"<cac:TaxScheme><cbc:ID>{scheme}</cbc:ID></cac:TaxScheme></cac:{tag}>"
    )


def ubl(
    lines=(("100.00", "S", "20"),),
    breakdowns=(("100.00", "20.00", "S", "20", None),),
    charges=(),
    seller_vat=True,
    buyer_vat=True,
    buyer_legal=False,
    seller_tax_scheme="VAT",
    extra="",
    line_scheme="VAT",
    countries=("FR", "FR"),
) -> Document:
    """lines: (amount, code, rate); breakdowns: (taxable, tax, code, rate, reason); charges: (is_charge, amount,
    code, rate)."""
    seller_id = (
        (
            f"<cac:PartyTaxScheme><cbc:CompanyID>FR44732829320</cbc:CompanyID><cac:TaxScheme><cbc:ID>"
            f"{seller_tax_scheme}</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"
        )
        if seller_vat
        else ""
    )
    buyer_id = (
        (
            "<cac:PartyTaxScheme><cbc:CompanyID>DE123456789</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID>"
            "</cac:TaxScheme></cac:PartyTaxScheme>"
        )
        if buyer_vat
        else ""
    )
    legal = "<cac:PartyLegalEntity><cbc:CompanyID>HRB 1</cbc:CompanyID></cac:PartyLegalEntity>" if buyer_legal else ""
    xml = [
        f"<Invoice {NS_UBL}>",
        "<cac:AccountingSupplierParty><cac:Party><cac:PostalAddress><cac:Country><cbc:IdentificationCode>"
        f"{countries[0]}</cbc:IdentificationCode></cac:Country></cac:PostalAddress>{seller_id}"
        "</cac:Party></cac:AccountingSupplierParty>",
        "<cac:AccountingCustomerParty><cac:Party><cac:PostalAddress><cac:Country><cbc:IdentificationCode>"
        f"{countries[1]}</cbc:IdentificationCode></cac:Country></cac:PostalAddress>{buyer_id}{legal}"
        "</cac:Party></cac:AccountingCustomerParty>",
        extra,
    ]
    for is_charge, amount, code, rate in charges:
        xml.append(
            f"<cac:AllowanceCharge><cbc:ChargeIndicator>{'true' if is_charge else 'false'}</cbc:ChargeIndicator>"
            f"<cbc:Amount currencyID='EUR'>{amount}</cbc:Amount>{_ubl_cat('TaxCategory', code, rate)}"
            "</cac:AllowanceCharge>"
        )
    xml.append("<cac:TaxTotal><cbc:TaxAmount currencyID='EUR'>0</cbc:TaxAmount>")
    for taxable, tax, code, rate, reason in breakdowns:
        xml.append(
            f"<cac:TaxSubtotal><cbc:TaxableAmount currencyID='EUR'>{taxable}</cbc:TaxableAmount>"
            f"<cbc:TaxAmount currencyID='EUR'>{tax}</cbc:TaxAmount>"
            f"{_ubl_cat('TaxCategory', code, rate, reason)}</cac:TaxSubtotal>"
        )
    xml.append("</cac:TaxTotal>")
    for n, (amount, code, rate) in enumerate(lines, 1):
        xml.append(
            f"<cac:InvoiceLine><cbc:ID>{n}</cbc:ID>"
            f"<cbc:LineExtensionAmount currencyID='EUR'>{amount}</cbc:LineExtensionAmount>"
            "<cac:Item><cbc:Name>x</cbc:Name>"
            f"{_ubl_cat('ClassifiedTaxCategory', code, rate, scheme=line_scheme)}</cac:Item></cac:InvoiceLine>"
        )
    xml.append("</Invoice>")
    return Document("ubl", etree.fromstring("".join(xml).encode()), None)


def _cii_tax(tag: str, code: str, rate: str | None, body: str = "", type_code: str = "VAT") -> str:
    pct = f"<ram:RateApplicablePercent>{rate}</ram:RateApplicablePercent>" if rate is not None else ""
    return (
        f"<ram:{tag}>{body}<ram:TypeCode>{type_code}</ram:TypeCode>"
        f"<ram:CategoryCode>{code}</ram:CategoryCode>{pct}</ram:{tag}>"
    )


def cii(
    lines=(("100.00", "S", "20"),),
    breakdowns=(("100.00", "20.00", "S", "20", None),),
    charges=(),
    seller_vat=True,
    buyer_vat=True,
    delivery="",
    period="",
) -> Document:
    seller = (
        ("<ram:SpecifiedTaxRegistration><ram:ID schemeID='VA'>FR44732829320</ram:ID></ram:SpecifiedTaxRegistration>")
        if seller_vat
        else ""
    )
    buyer = (
        ("<ram:SpecifiedTaxRegistration><ram:ID schemeID='VA'>DE123456789</ram:ID></ram:SpecifiedTaxRegistration>")
        if buyer_vat
        else ""
    )
    xml = [f"<rsm:CrossIndustryInvoice {NS_CII}><rsm:SupplyChainTradeTransaction>"]
    for n, (amount, code, rate) in enumerate(lines, 1):
        xml.append(
            f"<ram:IncludedSupplyChainTradeLineItem><ram:AssociatedDocumentLineDocument><ram:LineID>{n}"
            "</ram:LineID></ram:AssociatedDocumentLineDocument><ram:SpecifiedLineTradeSettlement>"
            f"{_cii_tax('ApplicableTradeTax', code, rate)}"
            "<ram:SpecifiedTradeSettlementLineMonetarySummation>"
            f"<ram:LineTotalAmount>{amount}</ram:LineTotalAmount>"
            "</ram:SpecifiedTradeSettlementLineMonetarySummation></ram:SpecifiedLineTradeSettlement>"
            "</ram:IncludedSupplyChainTradeLineItem>"
        )
    xml.append(
        f"<ram:ApplicableHeaderTradeAgreement><ram:SellerTradeParty>{seller}</ram:SellerTradeParty>"
        f"<ram:BuyerTradeParty>{buyer}</ram:BuyerTradeParty></ram:ApplicableHeaderTradeAgreement>"
    )
    xml.append(f"<ram:ApplicableHeaderTradeDelivery>{delivery}</ram:ApplicableHeaderTradeDelivery>")
    xml.append("<ram:ApplicableHeaderTradeSettlement><ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>")
    for taxable, tax, code, rate, reason in breakdowns:
        amounts = f"<ram:CalculatedAmount>{tax}</ram:CalculatedAmount>"
        why = f"<ram:ExemptionReason>{reason}</ram:ExemptionReason>" if reason else ""
        xml.append(
            _cii_tax("ApplicableTradeTax", code, rate, f"{amounts}{why}<ram:BasisAmount>{taxable}</ram:BasisAmount>")
        )
    xml.append(period)
    for is_charge, amount, code, rate in charges:
        xml.append(
            "<ram:SpecifiedTradeAllowanceCharge><ram:ChargeIndicator><udt:Indicator>"
            f"{'true' if is_charge else 'false'}</udt:Indicator></ram:ChargeIndicator>"
            f"<ram:ActualAmount>{amount}</ram:ActualAmount>{_cii_tax('CategoryTradeTax', code, rate)}"
            "</ram:SpecifiedTradeAllowanceCharge>"
        )
    xml.append("</ram:ApplicableHeaderTradeSettlement></rsm:SupplyChainTradeTransaction></rsm:CrossIndustryInvoice>")
    return Document("cii", etree.fromstring("".join(xml).encode()), None)


def run(doc: Document) -> list:
    return [f for m in MODULES for f in m.check(doc)]


def ids(doc: Document) -> set[str]:
    return {f.rule for f in run(doc)}


# ----------------------------------------------------------------------------- tests
@pytest.mark.parametrize("build", [ubl, cii])
def test_clean_standard_rated_invoice_has_no_vat_finding(build):
    assert run(build()) == []


def test_findings_are_fatal_and_located_at_the_element():
    doc = ubl(breakdowns=(("100.00", "25.00", "S", "20", None),))
    [f] = run(doc)
    assert (f.rule, f.severity) == ("BR-S-09", "fatal")
    assert "BT-117" in f.message and "(25.00)" in f.message and "(20.00)" in f.message and "S" in f.message
    assert f.location == "/ubl:Invoice/cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory"


@pytest.mark.parametrize("build", [ubl, cii])
def test_br_s_08_taxable_amount_per_rate(build):
    two_rates = (("100.00", "S", "20"), ("50.00", "S", "10"))
    ok = (("100.00", "20.00", "S", "20", None), ("50.00", "5.00", "S", "10", None))
    assert ids(build(lines=two_rates, breakdowns=ok)) == set()
    swapped = (("50.00", "10.00", "S", "20", None), ("100.00", "10.00", "S", "10", None))
    assert "BR-S-08" in ids(build(lines=two_rates, breakdowns=swapped))


def test_br_s_08_ubl_tolerates_less_than_one_unit_cii_does_not():
    assert "BR-S-08" not in ids(ubl(breakdowns=(("100.99", "20.20", "S", "20", None),)))
    assert "BR-S-08" in ids(ubl(breakdowns=(("101.00", "20.20", "S", "20", None),)))  # strict inequality
    assert "BR-S-08" in ids(cii(breakdowns=(("100.01", "20.00", "S", "20", None),)))  # CII: numeric equality


def test_br_s_08_holds_when_the_breakdown_has_no_rate():
    # every $rate in xs:decimal(cbc:Percent): no Percent, nothing to check (BR-48 reports the missing rate)
    assert "BR-S-08" not in ids(ubl(breakdowns=(("999.00", "0", "S", None, None),)))


def test_br_s_02_ubl_counts_a_standard_line_without_vat_scheme_against_the_seller():
    assert ids(ubl()) == set()
    assert "BR-S-02" in ids(ubl(line_scheme="GST"))


def test_br_s_01_breakdown_needed_for_standard_lines():
    assert "BR-S-01" in ids(ubl(breakdowns=(("100.00", "0", "Z", "0", None),)))
    # CII binding: count(lines S) + count(breakdowns S) >= 2 – two S lines without S breakdown pass
    two_lines = (("50.00", "S", "20"), ("50.00", "S", "20"))
    assert "BR-S-01" not in ids(cii(lines=two_lines, breakdowns=(("100.00", "0", "Z", "0", None),)))
    assert "BR-S-01" in ids(cii(lines=two_lines[:1], breakdowns=(("50.00", "0", "Z", "0", None),)))


@pytest.mark.parametrize("build", [ubl, cii])
def test_br_z_family(build):
    zero = (("100.00", "Z", "0"),)
    assert ids(build(lines=zero, breakdowns=(("100.00", "0", "Z", "0", None),))) == set()
    found = ids(build(lines=(("100.00", "Z", "5"),), breakdowns=(("100.00", "1.00", "Z", "0", "why"),)))
    assert {"BR-Z-05", "BR-Z-09", "BR-Z-10"} <= found
    assert "BR-Z-01" in ids(build(lines=zero, breakdowns=(("50.00", "0", "Z", "0", None),) * 2))


def test_br_z_08_exact_in_ubl_within_one_unit_in_cii():
    zero = (("100.00", "Z", "0"),)
    assert "BR-Z-08" in ids(ubl(lines=zero, breakdowns=(("100.01", "0", "Z", "0", None),)))
    assert "BR-Z-08" not in ids(cii(lines=zero, breakdowns=(("100.50", "0", "Z", "0", None),)))
    assert "BR-Z-08" in ids(cii(lines=zero, breakdowns=(("101.00", "0", "Z", "0", None),)))


@pytest.mark.parametrize("build", [ubl, cii])
def test_br_e_exemption_reason_required(build):
    exempt = (("100.00", "E", "0"),)
    assert ids(build(lines=exempt, breakdowns=(("100.00", "0", "E", "0", "Art. 261"),))) == set()
    assert ids(build(lines=exempt, breakdowns=(("100.00", "0", "E", "0", None),))) == {"BR-E-10"}


def test_br_e_02_accepts_any_seller_tax_registration_br_g_02_needs_a_vat_one():
    exempt = (("100.00", "E", "0"),)
    assert "BR-E-02" not in ids(
        ubl(lines=exempt, breakdowns=(("100.00", "0", "E", "0", "x"),), seller_tax_scheme="TAX")
    )
    export = (("100.00", "G", "0"),)
    assert "BR-G-02" in ids(ubl(lines=export, breakdowns=(("100.00", "0", "G", "0", "x"),), seller_tax_scheme="TAX"))
    assert "BR-G-02" not in ids(ubl(lines=export, breakdowns=(("100.00", "0", "G", "0", "x"),)))


def test_br_ae_02_buyer_vat_or_legal_registration():
    rc = dict(lines=(("100.00", "AE", "0"),), breakdowns=(("100.00", "0", "AE", "0", "Reverse charge"),))
    assert "BR-AE-02" not in ids(ubl(**rc))
    assert "BR-AE-02" in ids(ubl(**rc, buyer_vat=False))
    assert "BR-AE-02" not in ids(ubl(**rc, buyer_vat=False, buyer_legal=True))
    [f] = [f for f in run(cii(**rc, buyer_vat=False)) if f.rule == "BR-AE-02"]  # CII: once per AE line
    assert f.location.endswith("ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax")


def test_br_ae_allowance_and_charge_rates():
    found = ids(
        ubl(
            lines=(("100.00", "AE", "0"),),
            charges=((False, "10.00", "AE", "5"), (True, "10.00", "AE", "0")),
            breakdowns=(("100.00", "0", "AE", "0", "Reverse charge"),),
        )
    )
    assert "BR-AE-06" in found and "BR-AE-07" not in found


@pytest.mark.parametrize("build", [ubl, cii])
def test_br_ic_delivery_information(build):
    ic = dict(lines=(("100.00", "K", "0"),), breakdowns=(("100.00", "0", "K", "0", "Intra-community"),))
    assert {"BR-IC-11", "BR-IC-12"} <= ids(build(**ic))
    if build is ubl:
        extra = (
            "<cac:Delivery><cbc:ActualDeliveryDate>2026-03-01</cbc:ActualDeliveryDate><cac:DeliveryLocation>"
            "<cac:Address><cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country>"
            "</cac:Address></cac:DeliveryLocation></cac:Delivery>"
        )
        doc = ubl(**ic, extra=extra)
    else:
        delivery = (
            "<ram:ShipToTradeParty><ram:PostalTradeAddress><ram:CountryID>DE</ram:CountryID>"
            "</ram:PostalTradeAddress></ram:ShipToTradeParty><ram:ActualDeliverySupplyChainEvent>"
            "<ram:OccurrenceDateTime><udt:DateTimeString format='102'>20260301</udt:DateTimeString>"
            "</ram:OccurrenceDateTime></ram:ActualDeliverySupplyChainEvent>"
        )
        doc = cii(**ic, delivery=delivery)
    assert ids(doc) == set()
    assert "BR-IC-02" in ids(build(**ic, buyer_vat=False))


@pytest.mark.parametrize("build", [ubl, cii])
def test_br_o_not_subject_to_vat(build):
    o = dict(
        lines=(("100.00", "O", None),),
        breakdowns=(("100.00", "0", "O", None, "Not subject"),),
        seller_vat=False,
        buyer_vat=False,
    )
    assert ids(build(**o)) == set()
    assert "BR-O-02" in ids(build(**{**o, "seller_vat": True}))
    assert "BR-O-05" in ids(build(**{**o, "lines": (("100.00", "O", "0"),)}))
    mixed = build(
        lines=(("100.00", "O", None), ("10.00", "S", "20")),
        seller_vat=False,
        buyer_vat=False,
        breakdowns=(("100.00", "0", "O", None, "Not subject"), ("10.00", "2.00", "S", "20", None)),
    )
    assert {"BR-O-11", "BR-O-12"} <= ids(mixed)


def test_igic_rate_zero_allowed_in_ubl_not_in_cii():
    igic = dict(lines=(("100.00", "L", "0"),), breakdowns=(("100.00", "0", "L", "0", None),))
    assert "BR-AF-05" not in ids(ubl(**igic))
    assert "BR-AF-05" in ids(cii(**igic))  # the CII binding tests RateApplicablePercent > 0


def test_igic_ipsi_taxable_amount_is_not_checked_in_cii():
    # BR-AF-08 / BR-AG-08 read ../ram:RateApplicablePercent from the breakdown: never there in CII
    for code, rule in (("L", "BR-AF-08"), ("M", "BR-AG-08")):
        wrong = dict(lines=(("100.00", code, "7"),), breakdowns=(("250.00", "17.50", code, "7", None),))
        assert rule in ids(ubl(**wrong))
        assert rule not in ids(cii(**wrong))


@pytest.mark.parametrize("build", [ubl, cii])
def test_br_b_split_payment(build):
    b = dict(lines=(("100.00", "B", "22"),), breakdowns=(("100.00", "22.00", "B", "22", None),))
    kwargs = {"countries": ("IT", "IT")} if build is ubl else {}
    found = ids(build(**b, **kwargs))
    assert "BR-B-02" not in found
    assert "BR-B-01" not in found  # no country code other than IT (the CII sample has none at all)
    mixed = build(
        lines=(("100.00", "B", "22"), ("10.00", "S", "22")),
        breakdowns=(("110.00", "24.20", "B", "22", None),),
        **kwargs,
    )
    assert "BR-B-02" in ids(mixed)
    if build is ubl:
        assert "BR-B-01" in ids(ubl(**b, countries=("IT", "FR")))


def test_unrelated_categories_cost_nothing_and_say_nothing():
    from chalicelib.validation.rules import _vat

    doc = ubl()
    assert _vat.facts(doc).codes == {"S"}
    assert [list(m.check(doc)) for m in MODULES] == [[]] * len(MODULES)


def test_facts_are_shared_per_document_not_per_tree():
    doc = ubl()
    assert ids(doc) == set()
    doc.root.find(".//{*}TaxSubtotal/{*}TaxAmount").text = "99.00"  # same tree, edited, in a new Document
    assert ids(Document("ubl", doc.root, None)) == {"BR-S-09"}
