"""A UBL 2.1 Invoice from a structured invoice (the JSON document of invoice.schema.json).

Every value is written exactly as given (amounts stay the strings the client sent), in the UBL
element order, so that reading the rendition back with the engine's UBL reader gives the same
business terms (see the round-trip test, tests/json_roundtrip.py). Credit notes (BT-3 381 …) are written as a UBL
CreditNote (CreditNoteTypeCode, CreditNoteLine, CreditedQuantity) in the CreditNote element order, with the
EN 16931-3-2 CreditNote bindings: BT-9 is cac:PaymentMeans/cbc:PaymentDueDate and BT-11 is a
cac:AdditionalDocumentReference with cbc:DocumentTypeCode 50 (a CreditNote has no DueDate nor ProjectReference).
"""

from __future__ import annotations

from lxml import etree

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
EN16931 = "urn:cen.eu:en16931:2017"
# BT-3 codes the UBL binding carries in a CreditNote document (UNTDID 1001 credit note subset).
CREDIT_NOTE_CODES = frozenset({"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"})


class _W:
    def __init__(self, currency: str):
        self.currency = currency
        self.document = "Invoice"

    @staticmethod
    def agg(parent, name: str):
        return etree.SubElement(parent, f"{{{CAC}}}{name}")

    @staticmethod
    def basic(parent, name: str, value, **attrs):
        if value is None:
            return None
        el = etree.SubElement(parent, f"{{{CBC}}}{name}", {k: v for k, v in attrs.items() if v is not None})
        el.text = str(value)
        return el

    def amount(self, parent, name: str, value):
        return self.basic(parent, name, value, currencyID=self.currency)


def to_ubl(doc: dict) -> bytes:
    """The UBL 2.1 rendition of a schema-valid structured invoice."""
    w = _W(doc["currency"])
    credit = doc["type_code"] in CREDIT_NOTE_CODES
    w.document = "CreditNote" if credit else "Invoice"
    namespace = CREDIT_NOTE_NS if credit else INVOICE_NS
    root = etree.Element(f"{{{namespace}}}{w.document}", nsmap={None: namespace, "cac": CAC, "cbc": CBC})
    w.basic(root, "CustomizationID", doc.get("specification_id", EN16931))
    w.basic(root, "ProfileID", doc.get("business_process"))
    w.basic(root, "ID", doc["number"])
    w.basic(root, "IssueDate", doc["issue_date"])
    if credit:  # a CreditNote has no DueDate (BT-9 goes in PaymentMeans) and its TaxPointDate comes before the code
        w.basic(root, "TaxPointDate", doc.get("tax_point_date"))
    else:
        w.basic(root, "DueDate", doc.get("due_date"))
    w.basic(root, f"{w.document}TypeCode", doc["type_code"])
    for note in doc.get("notes", []):
        code = note.get("subject_code")  # a UNTDID 4451 code (the schema's enum): no '#' to blur the #code# form
        w.basic(root, "Note", f"#{code}#{note['text']}" if code else note["text"])
    if not credit:
        w.basic(root, "TaxPointDate", doc.get("tax_point_date"))
    w.basic(root, "DocumentCurrencyCode", doc["currency"])
    w.basic(root, "AccountingCost", doc.get("buyer_accounting_reference"))
    w.basic(root, "BuyerReference", doc.get("buyer_reference"))
    _period(w, root, doc.get("invoice_period"))
    if doc.get("purchase_order"):
        w.basic(w.agg(root, "OrderReference"), "ID", doc["purchase_order"])
    for preceding in doc.get("preceding_invoices", []):
        ref = w.agg(w.agg(root, "BillingReference"), "InvoiceDocumentReference")
        w.basic(ref, "ID", preceding["number"])
        w.basic(ref, "IssueDate", preceding.get("issue_date"))
    if doc.get("contract_reference"):
        w.basic(w.agg(root, "ContractDocumentReference"), "ID", doc["contract_reference"])
    if doc.get("project_reference"):
        if credit:  # EN 16931-3-2: a CreditNote has no ProjectReference; BT-11 is a document reference of type 50
            reference = w.agg(root, "AdditionalDocumentReference")
            w.basic(reference, "ID", doc["project_reference"])
            w.basic(reference, "DocumentTypeCode", "50")
        else:
            w.basic(w.agg(root, "ProjectReference"), "ID", doc["project_reference"])
    _party(w, w.agg(w.agg(root, "AccountingSupplierParty"), "Party"), doc["seller"])
    _party(w, w.agg(w.agg(root, "AccountingCustomerParty"), "Party"), doc["buyer"])
    if doc.get("delivery"):
        _delivery(w, root, doc["delivery"])
    payment = doc.get("payment")
    if payment:
        means = w.agg(root, "PaymentMeans")
        w.basic(means, "PaymentMeansCode", payment["means_code"])
        if credit:  # BT-9 of a CreditNote (the schema requires payment when a credit note has a due date)
            w.basic(means, "PaymentDueDate", doc.get("due_date"))
        w.basic(means, "PaymentID", payment.get("remittance"))
        if payment.get("account"):
            account = w.agg(means, "PayeeFinancialAccount")
            w.basic(account, "ID", payment["account"])
            w.basic(account, "Name", payment.get("account_name"))
            if payment.get("bic"):
                w.basic(w.agg(account, "FinancialInstitutionBranch"), "ID", payment["bic"])
    if doc.get("payment_terms"):
        w.basic(w.agg(root, "PaymentTerms"), "Note", doc["payment_terms"])
    for charge, entries in ((False, doc.get("allowances", [])), (True, doc.get("charges", []))):
        for entry in entries:
            _allowance_charge(w, root, entry, charge)
    tax_total = w.agg(root, "TaxTotal")
    totals = doc["totals"]
    w.amount(tax_total, "TaxAmount", totals["vat"])  # BT-110, required by the schema (UBL requires TaxAmount)
    for vat in doc["vat_breakdown"]:
        sub = w.agg(tax_total, "TaxSubtotal")
        w.amount(sub, "TaxableAmount", vat["taxable_amount"])
        w.amount(sub, "TaxAmount", vat["tax_amount"])
        category = w.agg(sub, "TaxCategory")
        w.basic(category, "ID", vat["category"])
        w.basic(category, "Percent", vat.get("rate"))
        w.basic(category, "TaxExemptionReasonCode", vat.get("exemption_code"))
        w.basic(category, "TaxExemptionReason", vat.get("exemption_reason"))
        w.basic(w.agg(category, "TaxScheme"), "ID", "VAT")
    monetary = w.agg(root, "LegalMonetaryTotal")
    for name, key in (
        ("LineExtensionAmount", "line_total"),
        ("TaxExclusiveAmount", "without_vat"),
        ("TaxInclusiveAmount", "with_vat"),
        ("AllowanceTotalAmount", "allowance_total"),
        ("ChargeTotalAmount", "charge_total"),
        ("PrepaidAmount", "prepaid"),
        ("PayableRoundingAmount", "rounding"),
        ("PayableAmount", "amount_due"),
    ):
        w.amount(monetary, name, totals.get(key))
    for line in doc["lines"]:
        _line(w, root, line)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _period(w: _W, parent, period: dict | None, name: str = "InvoicePeriod") -> None:
    if period:
        el = w.agg(parent, name)
        w.basic(el, "StartDate", period.get("start"))
        w.basic(el, "EndDate", period.get("end"))


def _delivery(w: _W, root, delivery: dict) -> None:
    """BG-13: BT-72 date, BT-71 location id, BG-15 deliver-to address, BT-70 deliver-to party name."""
    el = w.agg(root, "Delivery")
    w.basic(el, "ActualDeliveryDate", delivery.get("date"))
    if delivery.get("location_id") or delivery.get("address"):
        location = w.agg(el, "DeliveryLocation")
        ident = delivery.get("location_id")
        if ident:
            w.basic(location, "ID", ident["id"], schemeID=ident.get("scheme"))
        if delivery.get("address"):
            _address(w, w.agg(location, "Address"), delivery["address"])
    if delivery.get("name"):
        w.basic(w.agg(w.agg(el, "DeliveryParty"), "PartyName"), "Name", delivery["name"])


def _address(w: _W, el, postal: dict) -> None:
    w.basic(el, "StreetName", postal.get("line1"))
    w.basic(el, "AdditionalStreetName", postal.get("line2"))
    w.basic(el, "CityName", postal.get("city"))
    w.basic(el, "PostalZone", postal.get("postcode"))
    w.basic(el, "CountrySubentity", postal.get("subdivision"))
    w.basic(w.agg(el, "Country"), "IdentificationCode", postal["country_code"])


def _party(w: _W, party, data: dict) -> None:
    address = data.get("electronic_address")
    if address:
        w.basic(party, "EndpointID", address["id"], schemeID=address.get("scheme"))
    for ident in data.get("identifiers", []):
        w.basic(w.agg(party, "PartyIdentification"), "ID", ident["id"], schemeID=ident.get("scheme"))
    if data.get("trading_name"):
        w.basic(w.agg(party, "PartyName"), "Name", data["trading_name"])
    _address(w, w.agg(party, "PostalAddress"), data["address"])
    if data.get("vat_id"):
        scheme = w.agg(party, "PartyTaxScheme")
        w.basic(scheme, "CompanyID", data["vat_id"])
        w.basic(w.agg(scheme, "TaxScheme"), "ID", "VAT")
    legal = w.agg(party, "PartyLegalEntity")
    w.basic(legal, "RegistrationName", data["name"])
    registration = data.get("legal_registration")
    if registration:
        w.basic(legal, "CompanyID", registration["id"], schemeID=registration.get("scheme"))
    contact = data.get("contact")
    if contact:
        el = w.agg(party, "Contact")
        w.basic(el, "Name", contact.get("name"))
        w.basic(el, "Telephone", contact.get("telephone"))
        w.basic(el, "ElectronicMail", contact.get("email"))


def _allowance_charge(w: _W, parent, entry: dict, charge: bool) -> None:
    el = w.agg(parent, "AllowanceCharge")
    w.basic(el, "ChargeIndicator", "true" if charge else "false")
    w.basic(el, "AllowanceChargeReasonCode", entry.get("reason_code"))
    w.basic(el, "AllowanceChargeReason", entry.get("reason"))
    w.basic(el, "MultiplierFactorNumeric", entry.get("percent"))
    w.amount(el, "Amount", entry["amount"])
    w.amount(el, "BaseAmount", entry.get("base_amount"))
    category = w.agg(el, "TaxCategory")
    w.basic(category, "ID", entry["vat_category"])
    w.basic(category, "Percent", entry.get("vat_rate"))
    w.basic(w.agg(category, "TaxScheme"), "ID", "VAT")


def _line(w: _W, root, line: dict) -> None:
    credit = w.document == "CreditNote"
    el = w.agg(root, "CreditNoteLine" if credit else "InvoiceLine")
    w.basic(el, "ID", line["id"])
    w.basic(el, "Note", line.get("note"))
    w.basic(el, "CreditedQuantity" if credit else "InvoicedQuantity", line["quantity"], unitCode=line["unit_code"])
    w.amount(el, "LineExtensionAmount", line["net_amount"])
    w.basic(el, "AccountingCost", line.get("accounting_reference"))
    _period(w, el, line.get("period"))
    if line.get("order_line_reference"):
        w.basic(w.agg(el, "OrderLineReference"), "LineID", line["order_line_reference"])
    item = line["item"]
    item_el = w.agg(el, "Item")
    w.basic(item_el, "Description", item.get("description"))
    w.basic(item_el, "Name", item["name"])
    if item.get("buyer_id"):
        w.basic(w.agg(item_el, "BuyersItemIdentification"), "ID", item["buyer_id"])
    if item.get("seller_id"):
        w.basic(w.agg(item_el, "SellersItemIdentification"), "ID", item["seller_id"])
    if item.get("origin_country"):
        w.basic(w.agg(item_el, "OriginCountry"), "IdentificationCode", item["origin_country"])
    vat = w.agg(item_el, "ClassifiedTaxCategory")
    w.basic(vat, "ID", line["vat"]["category"])
    w.basic(vat, "Percent", line["vat"].get("rate"))
    w.basic(w.agg(vat, "TaxScheme"), "ID", "VAT")
    price = w.agg(el, "Price")
    w.amount(price, "PriceAmount", line["price"]["net"])
    if line["price"].get("base_quantity"):
        w.basic(price, "BaseQuantity", line["price"]["base_quantity"], unitCode=line["unit_code"])
