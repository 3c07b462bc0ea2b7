"""UBL-CR / UBL-SR / UBL-DT syntax binding rules on small UBL documents built here."""

from __future__ import annotations

from collections import Counter

from chalicelib.validation.document import Document
from chalicelib.validation.findings import FATAL, WARNING
from chalicelib.validation.parsing import parse_xml
from chalicelib.validation.rules import syntax_ubl

NS = (
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2" '
    'xmlns:ext="urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"'
)
LINE = (
    "<cac:InvoiceLine><cbc:ID>1</cbc:ID>"
    '<cbc:LineExtensionAmount currencyID="EUR">10.00</cbc:LineExtensionAmount>'
    "<cac:Item><cbc:Name>Item</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>20</cbc:Percent>"
    "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>"
    '<cac:Price><cbc:PriceAmount currencyID="EUR">10.00</cbc:PriceAmount></cac:Price></cac:InvoiceLine>'
)
SELLER = (
    "<cac:AccountingSupplierParty><cac:Party>"
    "<cac:PartyTaxScheme><cbc:CompanyID>FR1</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>"
    "</cac:PartyTaxScheme>"
    "<cac:PartyLegalEntity><cbc:RegistrationName>Seller</cbc:RegistrationName></cac:PartyLegalEntity>"
    "</cac:Party></cac:AccountingSupplierParty>"
)


def ubl(body: str, root: str = "Invoice") -> Document:
    ns = "Invoice-2" if root == "Invoice" else "CreditNote-2"
    xml = f'<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{ns}" {NS}>{body}</{root}>'
    return Document("ubl", parse_xml(xml.encode()), None)


def fired(doc: Document) -> Counter:
    return Counter(f.rule for f in syntax_ubl.check(doc))


def test_a_clean_invoice_raises_nothing():
    assert fired(ubl("<cbc:ID>1</cbc:ID>" + SELLER + LINE)) == Counter()


def test_unused_element_is_a_warning_fired_once_at_the_offending_element():
    party = SELLER.replace(
        "<cac:Party>", "<cac:Party><cbc:WebsiteURI>a</cbc:WebsiteURI><cbc:WebsiteURI>b</cbc:WebsiteURI>"
    )
    findings = [f for f in syntax_ubl.check(ubl(party)) if f.rule == "UBL-CR-143"]
    assert len(findings) == 1
    assert findings[0].severity == WARNING
    assert findings[0].location.endswith("cac:Party/cbc:WebsiteURI[1]")
    assert "WebsiteURI" in findings[0].message


def test_cr_paths_are_anchored_at_the_document_element():
    # cac:Delivery/cbc:ID is UBL-CR-342 on the document's delivery, not on a line's delivery (UBL-CR-550 instead)
    assert fired(ubl("<cac:Delivery><cbc:ID>1</cbc:ID></cac:Delivery>"))["UBL-CR-342"] == 1
    line = LINE.replace("<cac:Price>", "<cac:Delivery><cbc:ID>1</cbc:ID></cac:Delivery><cac:Price>")
    assert fired(ubl(line)) == Counter({"UBL-CR-550": 1})


def test_credit_note_lines_use_the_same_rules():
    line = LINE.replace("InvoiceLine", "CreditNoteLine").replace(
        "<cbc:ID>1</cbc:ID>", "<cbc:ID>1</cbc:ID><cbc:UUID>u</cbc:UUID>", 1
    )
    assert fired(ubl(line, "CreditNote")) == Counter({"UBL-CR-515": 1})


def test_payment_due_date_in_payment_means_is_only_a_warning_for_invoices():
    means = "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>"
    means += "<cbc:PaymentDueDate>2024-01-01</cbc:PaymentDueDate></cac:PaymentMeans>"
    assert fired(ubl(means))["UBL-CR-412"] == 1
    assert fired(ubl(means, "CreditNote"))["UBL-CR-412"] == 0


def test_ubl_version():
    assert fired(ubl("<cbc:UBLVersionID>2.1</cbc:UBLVersionID>")) == Counter()
    assert fired(ubl("<cbc:UBLVersionID>2.2</cbc:UBLVersionID>")) == Counter({"UBL-CR-002": 1})
    assert fired(ubl("<cbc:UBLVersionID> 2.1</cbc:UBLVersionID>")) == Counter({"UBL-CR-002": 1})


def test_invoiced_object_reference_with_attachment_is_fatal():
    adr = '<cac:AdditionalDocumentReference><cbc:ID schemeID="ABT">1</cbc:ID>'
    adr += "<cbc:DocumentTypeCode>{}</cbc:DocumentTypeCode><cac:Attachment/></cac:AdditionalDocumentReference>"
    findings = {f.rule: f.severity for f in syntax_ubl.check(ubl(adr.format("130")))}
    assert findings == {"UBL-CR-666": FATAL}
    # not an object reference: the attachment is fine, the scheme identifier is not (CR-665 warning, SR-43 fatal)
    assert fired(ubl(adr.format("916"))) == Counter({"UBL-CR-665": 1, "UBL-SR-43": 1})


def test_amount_decimals_per_element_with_the_price_allowance_exception():
    doc = ubl(
        '<cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID="EUR">10.001</cbc:LineExtensionAmount>'
        '<cbc:PayableAmount currencyID="EUR">10.00\n</cbc:PayableAmount>'
        '<cbc:TaxExclusiveAmount currencyID="EUR">10</cbc:TaxExclusiveAmount></cac:LegalMonetaryTotal>'
        + LINE.replace(
            "<cac:Price>",
            "<cac:Price><cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator>"
            '<cbc:Amount currencyID="EUR">0.125</cbc:Amount></cac:AllowanceCharge>',
        )
    )
    findings = [f for f in syntax_ubl.check(doc) if f.rule == "UBL-DT-01"]
    # '10.00\n' has three characters after the point, like the official string-length test counts them
    assert sorted(f.location.rsplit("/", 1)[1] for f in findings) == ["cbc:LineExtensionAmount", "cbc:PayableAmount"]


def test_amount_decimals_apply_to_any_element_ending_in_amount():
    ext = '<ext:UBLExtensions><ext:UBLExtension><ext:ExtensionContent><x:TotalAmount xmlns:x="urn:x">1.234'
    ext += "</x:TotalAmount></ext:ExtensionContent></ext:UBLExtension></ext:UBLExtensions>"
    assert fired(ubl(ext)) == Counter({"UBL-DT-01": 1, "UBL-CR-001": 1})


def test_binary_objects_need_mime_code_and_file_name():
    adr = "<cac:AdditionalDocumentReference><cbc:ID>1</cbc:ID><cac:Attachment>"
    adr += "<cbc:EmbeddedDocumentBinaryObject{}>x</cbc:EmbeddedDocumentBinaryObject></cac:Attachment>"
    adr += "</cac:AdditionalDocumentReference>"
    assert fired(ubl(adr.format(""))) == Counter({"UBL-DT-06": 1, "UBL-DT-07": 1})
    assert fired(ubl(adr.format(' mimeCode="application/pdf" filename="a.pdf"'))) == Counter()


def test_attributes_that_should_not_be_used_anywhere():
    doc = ubl(
        '<cbc:ID schemeName="x">1</cbc:ID><cac:PaymentMeans><cbc:PaymentMeansCode name="Transfer">30'
        "</cbc:PaymentMeansCode></cac:PaymentMeans>"
    )
    assert fired(doc) == Counter({"UBL-DT-08": 1})
    assert fired(ubl('<cbc:Note name="x">n</cbc:Note>')) == Counter({"UBL-DT-18": 1})


def test_line_needs_exactly_one_classified_tax_category():
    without = LINE.replace("<cac:ClassifiedTaxCategory>", "<cac:X>").replace("</cac:ClassifiedTaxCategory>", "</cac:X>")
    assert fired(ubl(without + LINE)) == Counter({"UBL-SR-48": 1})
    category = LINE[LINE.index("<cac:ClassifiedTaxCategory>") : LINE.index("</cac:Item>")]
    twice = LINE.replace("</cac:Item>", category + "</cac:Item>")
    assert fired(ubl(twice)) == Counter({"UBL-SR-48": 1})


def test_payee_must_differ_from_the_seller_and_have_a_name():
    payee = "<cac:PayeeParty><cac:PartyName><cbc:Name>{}</cbc:Name></cac:PartyName></cac:PayeeParty>"
    assert fired(ubl(SELLER + payee.format("Factor"))) == Counter()
    same = Counter({"UBL-SR-19": 1, "UBL-SR-20": 1, "UBL-SR-21": 1})
    assert fired(ubl(SELLER + payee.format("Seller"))) == same
    assert fired(ubl(SELLER + "<cac:PayeeParty/>")) == same


def test_payment_id_and_payment_means_code_must_have_one_distinct_value():
    means = "<cac:PaymentMeans><cbc:PaymentMeansCode>{}</cbc:PaymentMeansCode><cbc:PaymentID>{}</cbc:PaymentID>"
    means += "</cac:PaymentMeans>"
    assert fired(ubl(means.format("30", "A") + means.format("30", "A"))) == Counter()
    assert fired(ubl(means.format("30", "A") + means.format("58", "B"))) == Counter({"UBL-SR-44": 1, "UBL-SR-47": 1})


def test_seller_vat_identifier_at_most_once():
    twice = SELLER.replace(
        "</cac:PartyTaxScheme>",
        "</cac:PartyTaxScheme>"
        + SELLER[SELLER.index("<cac:PartyTaxScheme>") : SELLER.index("</cac:PartyTaxScheme>") + 21],
    )
    assert fired(ubl(twice)) == Counter({"UBL-SR-12": 1})
    no_company = SELLER.replace("<cbc:CompanyID>FR1</cbc:CompanyID>", "")
    assert fired(ubl(no_company)) == Counter({"UBL-SR-53": 1})


def test_allowance_reason_cardinality_depends_on_the_indicator():
    charge = "<cac:AllowanceCharge><cbc:ChargeIndicator>{}</cbc:ChargeIndicator>"
    charge += "<cbc:AllowanceChargeReason>a</cbc:AllowanceChargeReason><cbc:AllowanceChargeReason>b"
    charge += "</cbc:AllowanceChargeReason></cac:AllowanceCharge>"
    assert fired(ubl(charge.format("false"))) == Counter({"UBL-SR-30": 1})
    assert fired(ubl(charge.format(" true "))) == Counter({"UBL-SR-31": 1})
    assert fired(ubl(charge.format("maybe"))) == Counter()


def test_other_syntax_is_skipped():
    doc = Document("cii", parse_xml(b"<a/>"), None)
    assert list(syntax_ubl.check(doc)) == []
