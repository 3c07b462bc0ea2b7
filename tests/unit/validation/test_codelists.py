"""BR-CL-* code-list rules on small UBL and CII documents built here."""

from __future__ import annotations

from collections import Counter

from chalicelib.validation.document import Document
from chalicelib.validation.parsing import parse_xml
from chalicelib.validation.rules import codelists

UBL_NS = (
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"'
)
CII_NS = (
    'xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" '
    'xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100" '
    'xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"'
)


def ubl(body: str, root: str = "Invoice") -> Document:
    ns = "Invoice-2" if root == "Invoice" else "CreditNote-2"
    xml = f'<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{ns}" {UBL_NS}>{body}</{root}>'
    return Document("ubl", parse_xml(xml.encode()), None)


def cii(body: str) -> Document:
    xml = f"<rsm:CrossIndustryInvoice {CII_NS}>{body}</rsm:CrossIndustryInvoice>"
    return Document("cii", parse_xml(xml.encode()), None)


def fired(doc: Document) -> Counter:
    return Counter(f.rule for f in codelists.check(doc))


def test_valid_ubl_codes_raise_nothing():
    doc = ubl(
        "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode><cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>"
        "<cac:AccountingSupplierParty><cac:Party><cac:PostalAddress><cac:Country>"
        "<cbc:IdentificationCode>FR</cbc:IdentificationCode></cac:Country></cac:PostalAddress></cac:Party>"
        "</cac:AccountingSupplierParty>"
        '<cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="EUR">10.00</cbc:PayableAmount></cac:LegalMonetaryTotal>'
    )
    assert fired(doc) == Counter()


def test_currency_of_every_amount_is_checked_and_a_missing_currency_fails():
    doc = ubl(
        '<cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID="EURO">1</cbc:LineExtensionAmount>'
        "<cbc:PayableAmount>1</cbc:PayableAmount>"
        '<cbc:TaxInclusiveAmount currencyID=" EUR ">1</cbc:TaxInclusiveAmount></cac:LegalMonetaryTotal>'
    )
    findings = list(codelists.check(doc))
    assert [f.rule for f in findings] == ["BR-CL-03", "BR-CL-03"]  # ' EUR ' is normalised and accepted
    assert findings[0].location.endswith("cbc:LineExtensionAmount")
    assert "'EURO'" in findings[0].message
    # an absent currencyID is not an empty code: the message says there is none
    assert findings[1].location.endswith("cbc:PayableAmount")
    assert findings[1].message == "Amount has no currency (@currencyID); it shall be an ISO 4217 alpha-3 code."


def test_an_empty_currency_is_quoted_as_given():
    [f] = codelists.check(
        ubl('<cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="">1</cbc:PayableAmount></cac:LegalMonetaryTotal>')
    )
    assert f.message == "Amount currency (@currencyID) is not an ISO 4217 alpha-3 code: ''."


def test_document_type_lists_differ_for_invoice_and_credit_note():
    assert fired(ubl("<cbc:InvoiceTypeCode>381</cbc:InvoiceTypeCode>"))["BR-CL-01"] == 1
    assert fired(ubl("<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>", "CreditNote"))["BR-CL-01"] == 0
    assert fired(cii("<rsm:ExchangedDocument><ram:TypeCode>381</ram:TypeCode></rsm:ExchangedDocument>")) == Counter()
    assert fired(cii("<rsm:ExchangedDocument><ram:TypeCode>INV</ram:TypeCode></rsm:ExchangedDocument>"))["BR-CL-01"]


def test_a_code_with_inner_whitespace_is_never_in_a_list():
    assert fired(ubl("<cbc:DocumentCurrencyCode>E UR</cbc:DocumentCurrencyCode>"))["BR-CL-04"] == 1
    assert fired(ubl("<cbc:DocumentCurrencyCode>\n  EUR\t</cbc:DocumentCurrencyCode>"))["BR-CL-04"] == 0


def test_icd_list_quirk_last_code_is_refused_where_the_eas_list_accepts_it():
    party = (
        '<cac:AccountingSupplierParty><cac:Party><cbc:EndpointID schemeID="0244">x</cbc:EndpointID>'
        '<cac:PartyLegalEntity><cbc:CompanyID schemeID="{}">1</cbc:CompanyID></cac:PartyLegalEntity>'
        "</cac:Party></cac:AccountingSupplierParty>"
    )
    assert fired(ubl(party.format("0243"))) == Counter()
    # the published ICD string ends with '0244' and no space: contains(..., ' 0244 ') is false
    assert fired(ubl(party.format("0244"))) == Counter({"BR-CL-11": 1})


def test_sepa_is_accepted_only_for_seller_and_payee_identifiers():
    seller = '<cac:AccountingSupplierParty><cac:Party><cac:PartyIdentification><cbc:ID schemeID="SEPA">X</cbc:ID>'
    seller += "</cac:PartyIdentification></cac:Party></cac:AccountingSupplierParty>"
    buyer = seller.replace("AccountingSupplierParty", "AccountingCustomerParty")
    assert fired(ubl(seller))["BR-CL-10"] == 0
    assert fired(ubl(buyer))["BR-CL-10"] == 1


def test_reason_code_list_follows_the_charge_indicator():
    allowance = "<cac:AllowanceCharge><cbc:ChargeIndicator>{}</cbc:ChargeIndicator>"
    allowance += "<cbc:AllowanceChargeReasonCode>{}</cbc:AllowanceChargeReasonCode></cac:AllowanceCharge>"
    assert fired(ubl(allowance.format("false", "95"))) == Counter()
    assert fired(ubl(allowance.format("false", "FC"))) == Counter({"BR-CL-19": 1})
    assert fired(ubl(allowance.format("true", "FC"))) == Counter()
    assert fired(ubl(allowance.format("true", "95"))) == Counter({"BR-CL-20": 1})
    # an indicator that is not a boolean: the official context does not match, nothing is checked
    assert fired(ubl(allowance.format("yes", "ZZZZ"))) == Counter()


def test_vatex_is_compared_upper_cased_and_mime_codes_exactly():
    reason = "<cac:TaxCategory><cbc:TaxExemptionReasonCode>{}</cbc:TaxExemptionReasonCode></cac:TaxCategory>"
    assert fired(ubl(reason.format("vatex-eu-ae"))) == Counter()
    assert fired(ubl(reason.format("VATEX-EU-XX")))["BR-CL-22"] == 1
    attachment = "<cac:AdditionalDocumentReference><cbc:ID>1</cbc:ID><cac:Attachment>"
    attachment += '<cbc:EmbeddedDocumentBinaryObject mimeCode="{}" filename="a">x</cbc:EmbeddedDocumentBinaryObject>'
    attachment += "</cac:Attachment></cac:AdditionalDocumentReference>"
    assert fired(ubl(attachment.format("application/pdf"))) == Counter()
    assert fired(ubl(attachment.format(" application/pdf")))["BR-CL-24"] == 1


def test_country_lists_differ_between_the_ubl_and_cii_artefacts():
    ubl_country = "<cac:Country><cbc:IdentificationCode>{}</cbc:IdentificationCode></cac:Country>"
    cii_country = "<ram:PostalTradeAddress><ram:CountryID>{}</ram:CountryID></ram:PostalTradeAddress>"
    assert fired(ubl(ubl_country.format("SS")))["BR-CL-14"] == 0
    assert fired(ubl(ubl_country.format("AN")))["BR-CL-14"] == 1
    assert fired(cii(cii_country.format("AN")))["BR-CL-14"] == 0
    assert fired(cii(cii_country.format("SS")))["BR-CL-14"] == 1


def test_cii_first_matching_rule_wins_for_an_identifier():
    # ram:ID with @schemeID is the context of BR-CL-11 (ICD) even under OriginTradeCountry
    origin = "<ram:OriginTradeCountry><ram:ID{}>{}</ram:ID></ram:OriginTradeCountry>"
    assert fired(cii(origin.format("", "FR"))) == Counter()
    assert fired(cii(origin.format("", "XX"))) == Counter({"BR-CL-15": 1})
    assert fired(cii(origin.format(' schemeID="0088"', "XX"))) == Counter()
    assert fired(cii(origin.format(' schemeID="FR"', "FR"))) == Counter({"BR-CL-11": 1})


def test_cii_rules_with_ancestor_conditions():
    product = '<ram:SpecifiedTradeProduct><ram:GlobalID schemeID="{}">1</ram:GlobalID></ram:SpecifiedTradeProduct>'
    assert fired(cii(product.format("XXXX"))) == Counter({"BR-CL-21": 1})
    seller = '<ram:SellerTradeParty><ram:GlobalID schemeID="XXXX">1</ram:GlobalID></ram:SellerTradeParty>'
    assert fired(cii(seller)) == Counter({"BR-CL-10": 1})
    tax = '<ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">FR1</ram:ID></ram:SpecifiedTaxRegistration>'
    assert fired(cii(tax)) == Counter()
    total = '<ram:TaxTotalAmount currencyID="EUX">1</ram:TaxTotalAmount><ram:GrandTotalAmount>1</ram:GrandTotalAmount>'
    assert fired(cii(total)) == Counter({"BR-CL-03": 1})


def test_cii_allowance_reason_follows_the_udt_indicator():
    charge = "<ram:SpecifiedTradeAllowanceCharge><ram:ChargeIndicator><udt:Indicator>{}</udt:Indicator>"
    charge += "</ram:ChargeIndicator><ram:ReasonCode>{}</ram:ReasonCode></ram:SpecifiedTradeAllowanceCharge>"
    assert fired(cii(charge.format("false", "95"))) == Counter()
    assert fired(cii(charge.format("false", "999"))) == Counter({"BR-CL-19": 1})
    assert fired(cii(charge.format("true", "95"))) == Counter({"BR-CL-20": 1})


def test_other_documents_are_not_checked():
    assert list(codelists.check(Document("other", parse_xml(b"<a/>"), None))) == []  # type: ignore[arg-type]


def test_findings_left_by_the_syntax_pass_equal_a_standalone_check():
    from chalicelib.validation.rules import syntax_cii, syntax_ubl

    ubl_body = (
        "<cbc:InvoiceTypeCode>999</cbc:InvoiceTypeCode><cac:TaxCategory><cbc:ID>X</cbc:ID></cac:TaxCategory>"
        '<cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="EUX">1</cbc:PayableAmount></cac:LegalMonetaryTotal>'
    )
    cii_body = (
        "<rsm:ExchangedDocument><ram:TypeCode>999</ram:TypeCode></rsm:ExchangedDocument>"
        '<ram:SellerTradeParty><ram:GlobalID schemeID="XXXX">1</ram:GlobalID></ram:SellerTradeParty>'
    )
    for make, body, family in ((ubl, ubl_body, syntax_ubl), (cii, cii_body, syntax_cii)):
        standalone = [(f.rule, f.location) for f in codelists.check(make(body))]
        doc = make(body)
        family.check(doc)  # leaves its code-list findings for this document
        assert [(f.rule, f.location) for f in codelists.check(doc)] == standalone
        assert [(f.rule, f.location) for f in codelists.check(doc)] == standalone  # taken once, then computed
        assert len(standalone) >= 2
