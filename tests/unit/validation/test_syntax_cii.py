"""CII-SR / CII-DT syntax binding rules on small CII documents built here."""

from __future__ import annotations

import copy
from collections import Counter

from lxml import etree

from chalicelib.validation.document import Document
from chalicelib.validation.findings import FATAL, WARNING
from chalicelib.validation.parsing import parse_xml
from chalicelib.validation.rules import syntax_cii

NS = (
    'xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" '
    'xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100" '
    'xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100" '
    'xmlns:qdt="urn:un:unece:uncefact:data:standard:QualifiedDataType:100"'
)

CONTEXT = (
    "<rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>"
    "<ram:ID>urn:cen.eu:en16931:2017</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>"
    "</rsm:ExchangedDocumentContext>"
)
DOCUMENT = (
    "<rsm:ExchangedDocument><ram:ID>INV-1</ram:ID><ram:TypeCode>380</ram:TypeCode>"
    '<ram:IssueDateTime><udt:DateTimeString format="102">{date}</udt:DateTimeString></ram:IssueDateTime>'
    "</rsm:ExchangedDocument>"
)
LINE = (
    "<ram:IncludedSupplyChainTradeLineItem>"
    "<ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>"
    "<ram:SpecifiedTradeProduct><ram:Name>Item</ram:Name>{product}</ram:SpecifiedTradeProduct>"
    "<ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>10.00</ram:ChargeAmount>"
    "</ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>"
    '<ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">1</ram:BilledQuantity>'
    "</ram:SpecifiedLineTradeDelivery>"
    "<ram:SpecifiedLineTradeSettlement><ram:ApplicableTradeTax><ram:TypeCode>{tax_type}</ram:TypeCode>"
    "<ram:CategoryCode{category_attrs}>S</ram:CategoryCode><ram:RateApplicablePercent>20</ram:RateApplicablePercent>"
    "</ram:ApplicableTradeTax><ram:SpecifiedTradeSettlementLineMonetarySummation>"
    "<ram:LineTotalAmount>10.00</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation>"
    "</ram:SpecifiedLineTradeSettlement></ram:IncludedSupplyChainTradeLineItem>"
)
AGREEMENT = (
    "<ram:ApplicableHeaderTradeAgreement><ram:SellerTradeParty>{seller}<ram:Name>Seller</ram:Name>"
    "<ram:PostalTradeAddress><ram:CountryID>FR</ram:CountryID>{address}</ram:PostalTradeAddress>"
    "</ram:SellerTradeParty><ram:BuyerTradeParty><ram:Name>Buyer</ram:Name></ram:BuyerTradeParty>"
    "</ram:ApplicableHeaderTradeAgreement>"
)
SETTLEMENT = (
    "<ram:ApplicableHeaderTradeSettlement><ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>{means}"
    "<ram:ApplicableTradeTax><ram:CalculatedAmount>2.00</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode>"
    "<ram:BasisAmount>10.00</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode>{due}"
    "<ram:RateApplicablePercent>20</ram:RateApplicablePercent></ram:ApplicableTradeTax>{tax2}"
    "<ram:SpecifiedTradeSettlementHeaderMonetarySummation><ram:LineTotalAmount{total_attrs}>10.00</ram:LineTotalAmount>"
    '<ram:TaxBasisTotalAmount>10.00</ram:TaxBasisTotalAmount><ram:TaxTotalAmount currencyID="EUR">2.00'
    "</ram:TaxTotalAmount><ram:GrandTotalAmount>12.00</ram:GrandTotalAmount>"
    "<ram:DuePayableAmount>12.00</ram:DuePayableAmount></ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
    "</ram:ApplicableHeaderTradeSettlement>"
)


def cii(
    *,
    date="20240402",
    product="",
    tax_type="VAT",
    category_attrs="",
    seller="",
    address="",
    means="",
    due="",
    tax2="",
    total_attrs="",
    lines=1,
    document=None,
) -> Document:
    line = LINE.format(product=product, tax_type=tax_type, category_attrs=category_attrs)
    body = (
        CONTEXT
        + (DOCUMENT.format(date=date) if document is None else document)
        + "<rsm:SupplyChainTradeTransaction>"
        + line * lines
        + AGREEMENT.format(seller=seller, address=address)
        + "<ram:ApplicableHeaderTradeDelivery/>"
        + SETTLEMENT.format(means=means, due=due, tax2=tax2, total_attrs=total_attrs)
        + "</rsm:SupplyChainTradeTransaction>"
    )
    xml = f"<rsm:CrossIndustryInvoice {NS}>{body}</rsm:CrossIndustryInvoice>"
    return Document("cii", parse_xml(xml.encode()), None)


def fired(doc: Document) -> Counter:
    return Counter(f.rule for f in syntax_cii.check(doc))


def test_a_clean_invoice_raises_nothing():
    assert fired(cii(lines=2)) == Counter()


def test_unused_product_element_is_a_warning():
    findings = list(syntax_cii.check(cii(product="<ram:BrandName>ACME</ram:BrandName>")))
    assert [(f.rule, f.severity) for f in findings] == [("CII-SR-058", WARNING)]
    assert findings[0].location.endswith("ram:SpecifiedTradeProduct/ram:BrandName")


def test_presence_and_count_rules_fire_per_context_element():
    doc = cii(lines=2, product="<ram:BrandName>A</ram:BrandName><ram:BrandName>B</ram:BrandName>")
    assert fired(doc) == Counter({"CII-SR-058": 2})  # once per product, not per element


def test_type_code_must_exist_exactly_once():
    document = "<rsm:ExchangedDocument><ram:ID>1</ram:ID></rsm:ExchangedDocument>"
    assert fired(cii(document=document)) == Counter({"CII-SR-014": 1})


def test_currency_only_on_the_tax_total():
    findings = list(syntax_cii.check(cii(total_attrs=' currencyID="EUR"')))
    assert [(f.rule, f.severity) for f in findings] == [("CII-DT-031", FATAL)]


def test_identifier_attributes_first_matching_context_wins():
    document = (
        '<rsm:ExchangedDocument><ram:ID schemeName="x">1</ram:ID><ram:TypeCode>380</ram:TypeCode>'
        "</rsm:ExchangedDocument>"
    )
    assert fired(cii(document=document)) == Counter({"CII-DT-001": 1})  # not CII-DT-101
    seller = '<ram:GlobalID schemeID="0088" schemeName="GLN">1</ram:GlobalID>'
    assert fired(cii(seller=seller)) == Counter({"CII-DT-101": 1})
    scheme = '<ram:ID schemeID="0088">1</ram:ID><ram:TypeCode>380</ram:TypeCode>'
    assert fired(cii(document=f"<rsm:ExchangedDocument>{scheme}</rsm:ExchangedDocument>")) == Counter({"CII-DT-005": 1})


def test_type_code_attributes():
    document = (
        '<rsm:ExchangedDocument><ram:ID>1</ram:ID><ram:TypeCode name="Invoice" listID="UNCL1001">380'
        "</ram:TypeCode></rsm:ExchangedDocument>"
    )
    # CII-DT-010 (listID) can never fire: //ram:TypeCode (CII-DT-008/009) claims the element first
    assert fired(cii(document=document)) == Counter({"CII-DT-008": 1})


def test_date_format_102():
    assert fired(cii(date="2024-04-02")) == Counter({"CII-DT-097": 1})
    assert fired(cii(date="20241302")) == Counter({"CII-DT-097": 1})
    assert fired(cii(date="\n 20240229 \n")) == Counter()


def test_tax_type_and_line_category_code_attributes():
    assert fired(cii(tax_type="TVA")) == Counter({"CII-DT-037": 1})
    findings = list(syntax_cii.check(cii(category_attrs=' listID="UNCL5305"')))
    assert [(f.rule, f.severity) for f in findings] == [("CII-DT-045", WARNING)]


def test_header_only_trade_tax_elements():
    # BasisAmount and DueDateTypeCode are allowed in the header breakdown, not in a line
    assert fired(cii(due="<ram:DueDateTypeCode>5</ram:DueDateTypeCode>")) == Counter()
    line_due = cii(tax_type="VAT</ram:TypeCode><ram:DueDateTypeCode>5</ram:DueDateTypeCode><ram:TypeCode>VAT")
    assert fired(line_due) == Counter({"CII-DT-058": 1})


def test_due_date_type_codes_must_agree_across_breakdowns():
    tax2 = (
        "<ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>Z</ram:CategoryCode>"
        "<ram:DueDateTypeCode>{}</ram:DueDateTypeCode></ram:ApplicableTradeTax>"
    )
    due = "<ram:DueDateTypeCode>5</ram:DueDateTypeCode>"
    assert fired(cii(due=due, tax2=tax2.format("5"))) == Counter()
    assert fired(cii(due=due, tax2=tax2.format("29"))) == Counter({"CII-SR-462": 1})


def test_payment_means_rules():
    transfer = (
        "<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>{}</ram:TypeCode>{}"
        "</ram:SpecifiedTradeSettlementPaymentMeans>"
    )
    account = (
        "<ram:PayeePartyCreditorFinancialAccount><ram:IBANID>FR76</ram:IBANID></ram:PayeePartyCreditorFinancialAccount>"
    )
    assert fired(cii(means=transfer.format("58", account))) == Counter()
    assert fired(cii(means=transfer.format("58", ""))) == Counter({"CII-SR-470": 1})
    assert fired(cii(means=transfer.format("58", account) + transfer.format("30", account))) == Counter(
        {"CII-SR-467": 1}
    )
    assert fired(cii(means=transfer.format("58", account) + transfer.format(" 58 ", account))) == Counter()


def test_seller_contact_and_address_rules():
    contact = "<ram:DefinedTradeContact><ram:PersonName>A</ram:PersonName><ram:DepartmentName>B</ram:DepartmentName>"
    contact += "</ram:DefinedTradeContact>"
    findings = list(syntax_cii.check(cii(seller=contact)))
    assert [(f.rule, f.severity) for f in findings] == [("CII-SR-465", WARNING)]
    assert fired(cii(seller=contact.replace("<ram:DepartmentName>B</ram:DepartmentName>", "") * 2)) == Counter(
        {"CII-SR-455": 1}
    )
    assert fired(cii(address="<ram:StreetName>Rue</ram:StreetName>")) == Counter({"CII-DT-088": 1})


def test_document_context_parameter_rule_ids_are_written_as_published():
    body = cii().root
    guideline = body.find(".//{*}GuidelineSpecifiedDocumentContextParameter")
    value = guideline.makeelement(
        "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}Value"
    )
    guideline.append(value)
    assert fired(Document("cii", body, None)) == Counter({"CII-SR-04": 1})


def test_other_syntax_is_skipped():
    assert list(syntax_cii.check(Document("ubl", parse_xml(b"<a/>"), None))) == []


def test_a_line_with_a_part_written_twice_is_checked_part_by_part():
    doc = cii(product="<ram:BrandName>A</ram:BrandName>")
    line = doc.root.find(".//{*}IncludedSupplyChainTradeLineItem")
    product = line.find("{*}SpecifiedTradeProduct")
    agreement = line.find("{*}SpecifiedLineTradeAgreement")
    product.addnext(copy.deepcopy(product))
    agreement.addnext(copy.deepcopy(agreement))
    # each product has its BrandName (one warning each); each agreement has exactly one net price
    assert fired(doc) == Counter({"CII-SR-058": 2})


def _with_line(old: str, new: str, lines: int = 2) -> Document:
    """The sample with ``old`` replaced by ``new`` in the second line only (the first stays clean)."""
    doc = cii(lines=lines)
    xml = etree.tostring(doc.root).decode()
    first = xml.index("<ram:IncludedSupplyChainTradeLineItem>")
    second = xml.index("<ram:IncludedSupplyChainTradeLineItem>", first + 1)
    xml = xml[:second] + xml[second:].replace(old, new, 1)
    return Document("cii", parse_xml(xml.encode()), None)


_NP = "<ram:NetPriceProductTradePrice><ram:ChargeAmount>10.00</ram:ChargeAmount></ram:NetPriceProductTradePrice>"
_GP = (
    "<ram:GrossPriceProductTradePrice><ram:ChargeAmount>11.00</ram:ChargeAmount>"
    "<ram:AppliedTradeAllowanceCharge>{}</ram:AppliedTradeAllowanceCharge></ram:GrossPriceProductTradePrice>"
)


def test_every_line_rule_passes_the_suspect_line_filter(monkeypatch):
    # a line part's rules run only when what the pass collected under it can break one (_DECIDED_AT_END): each line
    # rule must get through
    cases = {
        "CII-SR-039": (
            "<ram:LineID>1</ram:LineID>",
            "<ram:LineID>1</ram:LineID><ram:IncludedNote/><ram:IncludedNote/>",
        ),
        "CII-SR-040": (
            "<ram:LineID>1</ram:LineID>",
            "<ram:LineID>1</ram:LineID><ram:IncludedNote><ram:Content>a</ram:Content><ram:Content>b</ram:Content>"
            "</ram:IncludedNote>",
        ),
        "CII-SR-046": ("<ram:Name>Item</ram:Name>", "<ram:Name>Item</ram:Name><ram:GlobalID>1</ram:GlobalID>"),
        "CII-SR-090": (
            "<ram:Name>Item</ram:Name>",
            "<ram:Name>Item</ram:Name><ram:OriginTradeCountry><ram:Name>x</ram:Name></ram:OriginTradeCountry>",
        ),
        "CII-SR-119": (_NP, _GP.format("<ram:ActualAmount>1.00</ram:ActualAmount>") + _NP),
        "CII-SR-439": (_NP, ""),
        "CII-SR-441": ("<ram:ChargeAmount>10.00</ram:ChargeAmount>", "<ram:ChargeAmount>10.00</ram:ChargeAmount>" * 2),
        "CII-SR-454": ("</ram:ApplicableTradeTax>", "</ram:ApplicableTradeTax><ram:ApplicableTradeTax/>"),
    }
    for rule, (old, new) in cases.items():
        assert fired(_with_line(old, new))[rule] == 1, rule
    # a part written twice: each copy is checked on its own
    doubled = _with_line(
        "<ram:SpecifiedLineTradeDelivery>",
        "<ram:SpecifiedLineTradeAgreement></ram:SpecifiedLineTradeAgreement><ram:SpecifiedLineTradeDelivery>",
    )
    assert fired(doubled)["CII-SR-439"] == 1
    # the filter keeps clean lines out
    allowance = _GP.format(
        "<ram:ChargeIndicator><udt:Indicator>false</udt:Indicator></ram:ChargeIndicator>"
        "<ram:ActualAmount>1.00</ram:ActualAmount>"
    )
    assert fired(_with_line(_NP, allowance + _NP)) == Counter()
    checked = []
    part_rules = syntax_cii._part_rules
    monkeypatch.setattr(syntax_cii, "_part_rules", lambda name, *args: checked.append(name) or part_rules(name, *args))
    assert fired(cii(lines=2)) == Counter()
    assert checked == ["settlement"]  # (its conditional rules also read what the pass gathers: they always run)


def _edited(old: str, new: str, **kw) -> Document:
    xml = etree.tostring(cii(**kw).root).decode()
    assert old in xml, old
    return Document("cii", parse_xml(xml.replace(old, new, 1).encode()), None)


def test_every_header_context_rule_passes_the_suspect_filter():
    # a header context's rules run only when what the pass collected under it can break one (_DECIDED_AT_END)
    buyer = "<ram:BuyerTradeParty><ram:Name>Buyer</ram:Name>"
    ard = "<ram:AdditionalReferencedDocument><ram:IssuerAssignedID>x</ram:IssuerAssignedID><ram:TypeCode>50"
    ard += "</ram:TypeCode></ram:AdditionalReferencedDocument>"
    contact = "<ram:DefinedTradeContact><ram:PersonName>A</ram:PersonName><ram:DepartmentName>B</ram:DepartmentName>"
    contact += "</ram:DefinedTradeContact>"
    ids = "<ram:ID>1</ram:ID><ram:GlobalID schemeID='0088'>2</ram:GlobalID>"
    cases = {
        "CII-SR-450": (buyer, buyer + ids),
        "CII-SR-457": ("</ram:BuyerTradeParty>", "</ram:BuyerTradeParty>" + ard * 2),
        "CII-SR-466": (buyer, buyer + contact),
        "CII-SR-449": (
            "<ram:ApplicableHeaderTradeDelivery/>",
            f"<ram:ApplicableHeaderTradeDelivery><ram:ShipToTradeParty>{ids}</ram:ShipToTradeParty>"
            "</ram:ApplicableHeaderTradeDelivery>",
        ),
        "CII-SR-451": (
            "<ram:InvoiceCurrencyCode>",
            f"<ram:PayeeTradeParty>{ids}<ram:Name>P</ram:Name></ram:PayeeTradeParty><ram:InvoiceCurrencyCode>",
        ),
        "CII-SR-469": (
            "<ram:InvoiceCurrencyCode>",
            "<ram:PaymentReference>a</ram:PaymentReference><ram:PaymentReference>b</ram:PaymentReference>"
            "<ram:InvoiceCurrencyCode>",
        ),
        "CII-SR-482": (
            "<ram:GrandTotalAmount>12.00</ram:GrandTotalAmount>",
            "<ram:GrandTotalAmount>12.00</ram:GrandTotalAmount>" * 2,
        ),
        "CII-SR-009": (
            "<ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:cen.eu:en16931:2017</ram:ID>"
            "</ram:GuidelineSpecifiedDocumentContextParameter>",
            "",
        ),
    }
    for rule, (old, new) in cases.items():
        assert fired(_edited(old, new))[rule] == 1, rule
