"""UBL 2.1 Invoice / CreditNote → :class:`~chalicelib.validation.model.Invoice`, one pass over the tree.

Each reader walks the children of one element once and dispatches on the tag (no XPath).
The first occurrence of a cardinality-1 element wins; repeated groups become lists.
"""

from __future__ import annotations

from typing import Any

from ..model import (
    Address,
    AllowanceCharge,
    Amount,
    Card,
    Contact,
    CreditTransfer,
    Delivery,
    DirectDebit,
    Field,
    Ident,
    Invoice,
    Item,
    ItemAttribute,
    Line,
    LineVat,
    Note,
    Party,
    PaymentInstruction,
    Percent,
    Period,
    PrecedingInvoice,
    Price,
    Quantity,
    SupportingDocument,
    TaxTotal,
    Totals,
    UblDate,
    VatBreakdown,
    xs_boolean,
)

CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"


def _b(name: str) -> str:
    return CBC + name


def _a(name: str) -> str:
    return CAC + name


# tag constants (precomputed: no string building while reading)
A_AccountingCustomerParty = CAC + "AccountingCustomerParty"
A_AccountingSupplierParty = CAC + "AccountingSupplierParty"
A_AdditionalDocumentReference = CAC + "AdditionalDocumentReference"
A_AdditionalItemProperty = CAC + "AdditionalItemProperty"
A_Address = CAC + "Address"
A_AddressLine = CAC + "AddressLine"
A_AllowanceCharge = CAC + "AllowanceCharge"
A_Attachment = CAC + "Attachment"
A_BillingReference = CAC + "BillingReference"
A_BuyersItemIdentification = CAC + "BuyersItemIdentification"
A_CardAccount = CAC + "CardAccount"
A_ClassifiedTaxCategory = CAC + "ClassifiedTaxCategory"
A_CommodityClassification = CAC + "CommodityClassification"
A_Contact = CAC + "Contact"
A_ContractDocumentReference = CAC + "ContractDocumentReference"
A_Country = CAC + "Country"
A_CreditNoteLine = CAC + "CreditNoteLine"
A_Delivery = CAC + "Delivery"
A_DeliveryLocation = CAC + "DeliveryLocation"
A_DeliveryParty = CAC + "DeliveryParty"
A_DespatchDocumentReference = CAC + "DespatchDocumentReference"
A_DocumentReference = CAC + "DocumentReference"
A_ExternalReference = CAC + "ExternalReference"
A_FinancialInstitutionBranch = CAC + "FinancialInstitutionBranch"
A_InvoiceDocumentReference = CAC + "InvoiceDocumentReference"
A_InvoiceLine = CAC + "InvoiceLine"
A_InvoicePeriod = CAC + "InvoicePeriod"
A_Item = CAC + "Item"
A_LegalMonetaryTotal = CAC + "LegalMonetaryTotal"
A_OrderLineReference = CAC + "OrderLineReference"
A_OrderReference = CAC + "OrderReference"
A_OriginCountry = CAC + "OriginCountry"
A_OriginatorDocumentReference = CAC + "OriginatorDocumentReference"
A_Party = CAC + "Party"
A_PartyIdentification = CAC + "PartyIdentification"
A_PartyLegalEntity = CAC + "PartyLegalEntity"
A_PartyName = CAC + "PartyName"
A_PartyTaxScheme = CAC + "PartyTaxScheme"
A_PayeeFinancialAccount = CAC + "PayeeFinancialAccount"
A_PayeeParty = CAC + "PayeeParty"
A_PayerFinancialAccount = CAC + "PayerFinancialAccount"
A_PaymentMandate = CAC + "PaymentMandate"
A_PaymentMeans = CAC + "PaymentMeans"
A_PaymentTerms = CAC + "PaymentTerms"
A_PostalAddress = CAC + "PostalAddress"
A_Price = CAC + "Price"
A_ProjectReference = CAC + "ProjectReference"
A_ReceiptDocumentReference = CAC + "ReceiptDocumentReference"
A_SellersItemIdentification = CAC + "SellersItemIdentification"
A_StandardItemIdentification = CAC + "StandardItemIdentification"
A_TaxCategory = CAC + "TaxCategory"
A_TaxRepresentativeParty = CAC + "TaxRepresentativeParty"
A_TaxScheme = CAC + "TaxScheme"
A_TaxSubtotal = CAC + "TaxSubtotal"
A_TaxTotal = CAC + "TaxTotal"
B_AccountingCost = CBC + "AccountingCost"
B_ActualDeliveryDate = CBC + "ActualDeliveryDate"
B_AdditionalStreetName = CBC + "AdditionalStreetName"
B_AllowanceChargeReason = CBC + "AllowanceChargeReason"
B_AllowanceChargeReasonCode = CBC + "AllowanceChargeReasonCode"
B_AllowanceTotalAmount = CBC + "AllowanceTotalAmount"
B_Amount = CBC + "Amount"
B_BaseAmount = CBC + "BaseAmount"
B_BaseQuantity = CBC + "BaseQuantity"
B_BuyerReference = CBC + "BuyerReference"
B_ChargeIndicator = CBC + "ChargeIndicator"
B_ChargeTotalAmount = CBC + "ChargeTotalAmount"
B_CityName = CBC + "CityName"
B_CompanyID = CBC + "CompanyID"
B_CompanyLegalForm = CBC + "CompanyLegalForm"
B_CountrySubentity = CBC + "CountrySubentity"
B_CreditNoteTypeCode = CBC + "CreditNoteTypeCode"
B_CreditedQuantity = CBC + "CreditedQuantity"
B_CustomizationID = CBC + "CustomizationID"
B_Description = CBC + "Description"
B_DescriptionCode = CBC + "DescriptionCode"
B_DocumentCurrencyCode = CBC + "DocumentCurrencyCode"
B_DocumentDescription = CBC + "DocumentDescription"
B_DocumentTypeCode = CBC + "DocumentTypeCode"
B_DueDate = CBC + "DueDate"
B_ElectronicMail = CBC + "ElectronicMail"
B_EmbeddedDocumentBinaryObject = CBC + "EmbeddedDocumentBinaryObject"
B_EndDate = CBC + "EndDate"
B_EndpointID = CBC + "EndpointID"
B_HolderName = CBC + "HolderName"
B_ID = CBC + "ID"
B_IdentificationCode = CBC + "IdentificationCode"
B_InvoiceTypeCode = CBC + "InvoiceTypeCode"
B_InvoicedQuantity = CBC + "InvoicedQuantity"
B_IssueDate = CBC + "IssueDate"
B_ItemClassificationCode = CBC + "ItemClassificationCode"
B_Line = CBC + "Line"
B_LineExtensionAmount = CBC + "LineExtensionAmount"
B_LineID = CBC + "LineID"
B_MultiplierFactorNumeric = CBC + "MultiplierFactorNumeric"
B_Name = CBC + "Name"
B_Note = CBC + "Note"
B_PayableAmount = CBC + "PayableAmount"
B_PayableRoundingAmount = CBC + "PayableRoundingAmount"
B_PaymentDueDate = CBC + "PaymentDueDate"
B_PaymentID = CBC + "PaymentID"
B_PaymentMeansCode = CBC + "PaymentMeansCode"
B_Percent = CBC + "Percent"
B_PostalZone = CBC + "PostalZone"
B_PrepaidAmount = CBC + "PrepaidAmount"
B_PriceAmount = CBC + "PriceAmount"
B_PrimaryAccountNumberID = CBC + "PrimaryAccountNumberID"
B_ProfileID = CBC + "ProfileID"
B_RegistrationName = CBC + "RegistrationName"
B_SalesOrderID = CBC + "SalesOrderID"
B_StartDate = CBC + "StartDate"
B_StreetName = CBC + "StreetName"
B_TaxAmount = CBC + "TaxAmount"
B_TaxCurrencyCode = CBC + "TaxCurrencyCode"
B_TaxExclusiveAmount = CBC + "TaxExclusiveAmount"
B_TaxExemptionReason = CBC + "TaxExemptionReason"
B_TaxExemptionReasonCode = CBC + "TaxExemptionReasonCode"
B_TaxInclusiveAmount = CBC + "TaxInclusiveAmount"
B_TaxPointDate = CBC + "TaxPointDate"
B_TaxableAmount = CBC + "TaxableAmount"
B_Telephone = CBC + "Telephone"
B_URI = CBC + "URI"
B_Value = CBC + "Value"

ID, NAME, NOTE, AMOUNT, PERCENT = B_ID, B_Name, B_Note, B_Amount, B_Percent
TAX_SCHEME = A_TaxScheme


def _first_child(el: Any, tag: str) -> Any:
    for c in el[:]:
        if c.tag == tag:
            return c
    return None


def _field(el: Any, tag: str, cls: type = Field) -> Any:
    for c in el[:]:  # (_first_child, inlined)
        if c.tag == tag:
            return cls(c)
    return None


def _nested_id(el: Any, cls: type = Field) -> Any:
    """cac:X/cbc:ID (the first)."""
    return _field(el, ID, cls)


def read_address(el: Any) -> Address:
    a = Address(el=el)
    for c in el[:]:
        t = c.tag
        if t == B_StreetName:
            a.line1 = a.line1 or Field(c)
        elif t == B_AdditionalStreetName:
            a.line2 = a.line2 or Field(c)
        elif t == A_AddressLine:
            if a.line3 is None:
                a.line3 = _field(c, B_Line)
        elif t == B_CityName:
            a.city = a.city or Field(c)
        elif t == B_PostalZone:
            a.postcode = a.postcode or Field(c)
        elif t == B_CountrySubentity:
            a.subdivision = a.subdivision or Field(c)
        elif t == A_Country:
            if a.country is None:
                a.country = _field(c, B_IdentificationCode)
    return a


def read_contact(el: Any) -> Contact:
    k = Contact(el=el)
    for c in el[:]:
        t = c.tag
        if t == NAME:
            k.name = k.name or Field(c)
        elif t == B_Telephone:
            k.telephone = k.telephone or Field(c)
        elif t == B_ElectronicMail:
            k.email = k.email or Field(c)
    return k


def read_party(el: Any) -> Party:
    p = Party(el=el)
    for c in el[:]:
        t = c.tag
        if t == B_EndpointID:
            p.electronic_address = p.electronic_address or Ident(c)
        elif t == A_PartyIdentification:
            i = _nested_id(c, Ident)
            if i is not None:
                p.identifiers.append(i)
        elif t == A_PartyName:
            n = _field(c, NAME)
            if n is not None:
                p.party_names.append(n)
        elif t == A_PostalAddress:
            p.address = p.address or read_address(c)
        elif t == A_PartyTaxScheme:
            cid = _field(c, B_CompanyID)
            ts = _first_child(c, TAX_SCHEME)
            scheme = _field(ts, ID) if ts is not None else None
            if cid is not None:
                s = scheme.text if scheme is not None else None
                p.tax_ids.append((cid, s))
                if s == "VAT":
                    p.vat_id = p.vat_id or cid
                else:
                    p.tax_registration = p.tax_registration or cid
        elif t == A_PartyLegalEntity:
            for g in c[:]:
                gt = g.tag
                if gt == B_RegistrationName:
                    p.name = p.name or Field(g)
                    p.registration_name = p.name
                elif gt == B_CompanyID:
                    p.legal_registration = p.legal_registration or Ident(g)
                elif gt == B_CompanyLegalForm:
                    p.legal_info = p.legal_info or Field(g)
        elif t == A_Contact:
            p.contact = p.contact or read_contact(c)
    if p.party_names:
        p.trading_name = p.party_names[0]
    return p


def _party_of(el: Any) -> Party | None:
    """cac:AccountingSupplierParty/cac:Party → Party (el = the cac:Party, or the wrapper if no Party)."""
    party = _first_child(el, A_Party)
    if party is None:
        return Party(el=el)
    return read_party(party)


def read_allowance_charge(el: Any) -> AllowanceCharge:
    ac = AllowanceCharge(el=el)
    for c in el[:]:
        t = c.tag
        if t == B_ChargeIndicator:
            if ac.indicator is None:
                ac.indicator = Field(c)
                ac.is_charge = xs_boolean(ac.indicator.text)
        elif t == AMOUNT:
            ac.amount = ac.amount or Amount(c)
        elif t == B_BaseAmount:
            ac.base_amount = ac.base_amount or Amount(c)
        elif t == B_MultiplierFactorNumeric:
            ac.percent = ac.percent or Percent(c)
        elif t == B_AllowanceChargeReason:
            ac.reason = ac.reason or Field(c)
        elif t == B_AllowanceChargeReasonCode:
            ac.reason_code = ac.reason_code or Field(c)
        elif t == A_TaxCategory:
            if ac.tax_category_el is None:
                ac.tax_category_el = c
                for g in c[:]:
                    gt = g.tag
                    if gt == ID:
                        ac.vat_category = ac.vat_category or Field(g)
                    elif gt == PERCENT:
                        ac.vat_rate = ac.vat_rate or Percent(g)
                    elif gt == TAX_SCHEME:
                        ac.vat_scheme = ac.vat_scheme or _field(g, ID)
    return ac


def read_subtotal(el: Any) -> VatBreakdown:
    b = VatBreakdown(el=el)
    for c in el[:]:
        t = c.tag
        if t == B_TaxableAmount:
            b.taxable_amount = b.taxable_amount or Amount(c)
        elif t == B_TaxAmount:
            b.tax_amount = b.tax_amount or Amount(c)
        elif t == A_TaxCategory:
            if b.category_el is None:
                b.category_el = c
                for g in c[:]:
                    gt = g.tag
                    if gt == ID:
                        b.category = b.category or Field(g)
                    elif gt == PERCENT:
                        b.rate = b.rate or Percent(g)
                    elif gt == B_TaxExemptionReason:
                        b.exemption_reason = b.exemption_reason or Field(g)
                    elif gt == B_TaxExemptionReasonCode:
                        b.exemption_code = b.exemption_code or Field(g)
                    elif gt == TAX_SCHEME:
                        b.tax_scheme = b.tax_scheme or _field(g, ID)
    return b


def read_tax_total(el: Any) -> TaxTotal:
    tt = TaxTotal(el=el)
    for c in el[:]:
        t = c.tag
        if t == B_TaxAmount:
            tt.amount = tt.amount or Amount(c)
        elif t == A_TaxSubtotal:
            tt.subtotals.append(read_subtotal(c))
    return tt


_TOTALS = {
    B_LineExtensionAmount: "line_total",
    B_AllowanceTotalAmount: "allowance_total",
    B_ChargeTotalAmount: "charge_total",
    B_TaxExclusiveAmount: "tax_exclusive",
    B_TaxInclusiveAmount: "tax_inclusive",
    B_PrepaidAmount: "prepaid",
    B_PayableRoundingAmount: "rounding",
    B_PayableAmount: "payable",
}


def read_totals(el: Any) -> Totals:
    tot = Totals(el=el)
    for c in el[:]:
        name = _TOTALS.get(c.tag)
        if name is not None and getattr(tot, name) is None:
            setattr(tot, name, Amount(c))
    return tot


def read_period(el: Any) -> Period:
    p = Period(el=el)
    for c in el[:]:
        t = c.tag
        if t == B_StartDate:
            p.start = p.start or UblDate(c)
        elif t == B_EndDate:
            p.end = p.end or UblDate(c)
        elif t == B_DescriptionCode:
            p.description_code = p.description_code or Field(c)
    return p


def read_payment_means(el: Any) -> PaymentInstruction:
    pi = PaymentInstruction(el=el)
    for c in el[:]:
        t = c.tag
        if t == B_PaymentMeansCode:
            pi.code = pi.code or Field(c)
        elif t == B_PaymentID:
            pi.remittance = pi.remittance or Field(c)
        elif t == A_PayeeFinancialAccount:
            ct = CreditTransfer(el=c)
            for g in c[:]:
                gt = g.tag
                if gt == ID:
                    ct.account = ct.account or Field(g)
                elif gt == NAME:
                    ct.name = ct.name or Field(g)
                elif gt == A_FinancialInstitutionBranch:
                    ct.bic = ct.bic or _field(g, ID)
            pi.transfers.append(ct)
        elif t == A_CardAccount:
            if pi.card is None:
                pi.card = Card(el=c, pan=_field(c, B_PrimaryAccountNumberID), holder=_field(c, B_HolderName))
        elif t == A_PaymentMandate:
            if pi.direct_debit is None:
                acc = _first_child(c, A_PayerFinancialAccount)
                pi.direct_debit = DirectDebit(
                    el=c, mandate=_field(c, ID), debited_account=_field(acc, ID) if acc is not None else None
                )
    return pi


def read_item(el: Any) -> Item:
    it = Item(el=el)
    for c in el[:]:
        t = c.tag
        if t == NAME:
            it.name = it.name or Field(c)
        elif t == B_Description:
            it.description = it.description or Field(c)
        elif t == A_SellersItemIdentification:
            it.seller_id = it.seller_id or _field(c, ID)
        elif t == A_BuyersItemIdentification:
            it.buyer_id = it.buyer_id or _field(c, ID)
        elif t == A_StandardItemIdentification:
            i = _field(c, ID, Ident)
            if i is not None:
                it.standard_ids.append(i)
        elif t == A_CommodityClassification:
            for g in c[:]:
                if g.tag == B_ItemClassificationCode:
                    it.classifications.append(Ident(g))
        elif t == A_OriginCountry:
            it.origin_country = it.origin_country or _field(c, B_IdentificationCode)
        elif t == A_AdditionalItemProperty:
            it.attributes.append(ItemAttribute(el=c, name=_field(c, NAME), value=_field(c, B_Value)))
    return it


def read_price(el: Any) -> Price:
    pr = Price(el=el)
    for c in el[:]:
        t = c.tag
        if t == B_PriceAmount:
            pr.net = pr.net or Amount(c)
        elif t == B_BaseQuantity:
            pr.base_quantity = pr.base_quantity or Quantity(c)
        elif t == A_AllowanceCharge:
            ac = read_allowance_charge(c)
            pr.allowance_charges.append(ac)
            if pr.discount is None and ac.amount is not None:
                pr.discount = ac.amount
            if pr.gross is None and ac.base_amount is not None:
                pr.gross = ac.base_amount
    return pr


_QUANTITY_TAGS = (B_InvoicedQuantity, B_CreditedQuantity)
_LINE_TAGS = (A_InvoiceLine, A_CreditNoteLine)


def read_line(el: Any) -> Line:
    """cac:InvoiceLine or cac:CreditNoteLine (the official rules accept either line kind in either document)."""
    ln = Line(el=el)
    for c in el[:]:
        t = c.tag
        if t == ID:
            ln.id = ln.id or Field(c)
        elif t == NOTE:
            ln.note = ln.note or Field(c)
        elif t in _QUANTITY_TAGS:
            ln.quantity = ln.quantity or Quantity(c)
        elif t == B_LineExtensionAmount:
            ln.net_amount = ln.net_amount or Amount(c)
        elif t == B_AccountingCost:
            ln.accounting_ref = ln.accounting_ref or Field(c)
        elif t == A_InvoicePeriod:
            ln.period = ln.period or read_period(c)
        elif t == A_OrderLineReference:
            ln.order_line_ref = ln.order_line_ref or _field(c, B_LineID)
        elif t == A_DocumentReference:
            ln.object_id = ln.object_id or _field(c, ID, Ident)
        elif t == A_AllowanceCharge:
            ac = read_allowance_charge(c)
            ln.allowance_charges.append(ac)
            if ac.is_charge is True:
                ln.charges.append(ac)
            elif ac.is_charge is False:
                ln.allowances.append(ac)
        elif t == A_Item:
            if ln.item is None:
                ln.item = read_item(c)
                tc = _first_child(c, A_ClassifiedTaxCategory)
                if tc is not None:
                    ts = _first_child(tc, TAX_SCHEME)
                    ln.vat = LineVat(
                        el=tc,
                        category=_field(tc, ID),
                        rate=_field(tc, PERCENT, Percent),
                        tax_scheme=_field(ts, ID) if ts is not None else None,
                    )
        elif t == A_Price:
            ln.price = ln.price or read_price(c)
    return ln


def _simple_ref(inv: Invoice, attr: str, el: Any, tag: str = ID) -> None:
    if getattr(inv, attr) is None:
        setattr(inv, attr, _field(el, tag))


def read(root: Any, document: str) -> Invoice:
    """Read a UBL Invoice or CreditNote root element."""
    inv = Invoice(syntax="ubl", document=document, el=root)
    credit = document == "CreditNote"
    type_tag = B_CreditNoteTypeCode if credit else B_InvoiceTypeCode
    for c in root[:]:
        t = c.tag
        if t in _LINE_TAGS:
            inv.lines.append(read_line(c))
        elif t == B_CustomizationID:
            inv.customization_id = inv.customization_id or Field(c)
        elif t == B_ProfileID:
            inv.profile_id = inv.profile_id or Field(c)
        elif t == ID:
            inv.number = inv.number or Field(c)
        elif t == B_IssueDate:
            inv.issue_date = inv.issue_date or UblDate(c)
        elif t == B_DueDate:
            inv.due_date = inv.due_date or UblDate(c)
        elif t == type_tag:
            inv.type_code = inv.type_code or Field(c)
        elif t == NOTE:
            inv.notes.append(_note(c))
        elif t == B_TaxPointDate:
            inv.tax_point_date = inv.tax_point_date or UblDate(c)
        elif t == B_DocumentCurrencyCode:
            inv.currency = inv.currency or Field(c)
        elif t == B_TaxCurrencyCode:
            inv.tax_currency = inv.tax_currency or Field(c)
        elif t == B_AccountingCost:
            inv.buyer_accounting_reference = inv.buyer_accounting_reference or Field(c)
        elif t == B_BuyerReference:
            inv.buyer_reference = inv.buyer_reference or Field(c)
        elif t == A_InvoicePeriod:
            if inv.invoice_period is None:
                inv.invoice_period = read_period(c)
                inv.tax_point_date_code = inv.invoice_period.description_code
        elif t == A_OrderReference:
            _simple_ref(inv, "purchase_order", c)
            _simple_ref(inv, "sales_order", c, B_SalesOrderID)
        elif t == A_BillingReference:
            doc = _first_child(c, A_InvoiceDocumentReference)
            inv.preceding_invoices.append(
                PrecedingInvoice(
                    el=c,
                    number=_field(doc, ID) if doc is not None else None,
                    issue_date=_field(doc, B_IssueDate, UblDate) if doc is not None else None,
                )
            )
        elif t == A_DespatchDocumentReference:
            _simple_ref(inv, "despatch_advice", c)
        elif t == A_ReceiptDocumentReference:
            _simple_ref(inv, "receiving_advice", c)
        elif t == A_OriginatorDocumentReference:
            _simple_ref(inv, "tender_reference", c)
        elif t == A_ContractDocumentReference:
            _simple_ref(inv, "contract_reference", c)
        elif t == A_ProjectReference:
            _simple_ref(inv, "project_reference", c)
        elif t == A_AdditionalDocumentReference:
            _additional_document(inv, c, credit)
        elif t == A_AccountingSupplierParty:
            inv.seller = inv.seller or _party_of(c)
        elif t == A_AccountingCustomerParty:
            inv.buyer = inv.buyer or _party_of(c)
        elif t == A_PayeeParty:
            if inv.payee is None:
                inv.payee = read_party(c)
                inv.payee.name = inv.payee.party_names[0] if inv.payee.party_names else None
        elif t == A_TaxRepresentativeParty:
            if inv.tax_representative is None:
                inv.tax_representative = read_party(c)
                p = inv.tax_representative
                p.name = p.party_names[0] if p.party_names else None
        elif t == A_Delivery:
            inv.delivery = inv.delivery or _delivery(c)
        elif t == A_PaymentMeans:
            inv.payment_instructions.append(read_payment_means(c))
            if credit and inv.due_date is None:  # EN 16931-3-2: a CreditNote's BT-9 (it has no cbc:DueDate)
                inv.due_date = _field(c, B_PaymentDueDate, UblDate)
        elif t == A_PaymentTerms:
            n = _field(c, NOTE)
            if n is not None:
                inv.payment_terms_all.append(n)
                inv.payment_terms = inv.payment_terms or n
        elif t == A_AllowanceCharge:
            ac = read_allowance_charge(c)
            inv.allowance_charges.append(ac)
            if ac.is_charge is True:
                inv.charges.append(ac)
            elif ac.is_charge is False:
                inv.allowances.append(ac)
        elif t == A_TaxTotal:
            tt = read_tax_total(c)
            inv.tax_totals.append(tt)
            inv.vat_breakdown.extend(tt.subtotals)
        elif t == A_LegalMonetaryTotal:
            inv.totals = inv.totals or read_totals(c)
    _resolve_tax_totals(inv)
    return inv


def _note(el: Any) -> Note:
    """UBL has no subject code element: a leading ``#CODE#`` in the note text is BT-21 by convention."""
    return Note(el=el, text=Field(el))


def _additional_document(inv: Invoice, el: Any, credit: bool) -> None:
    """BT-18 (code 130); in a CreditNote, which has no cac:ProjectReference, BT-11 (code 50, EN 16931-3-2); else BG-24.

    BT-17 is cac:OriginatorDocumentReference in both documents (code 50 is BT-17 in CII only)."""
    code = _field(el, B_DocumentTypeCode)
    inv.document_references.append(SupportingDocument(el=el, id=_field(el, ID, Ident), type_code=code))
    if code is not None and code.text == "130":
        inv.invoiced_object = inv.invoiced_object or _field(el, ID, Ident)
        return
    if credit and code is not None and code.text == "50":
        _simple_ref(inv, "project_reference", el)
        return
    d = SupportingDocument(
        el=el, id=_field(el, ID, Ident), type_code=code, description=_field(el, B_DocumentDescription)
    )
    att = _first_child(el, A_Attachment)
    if att is not None:
        d.attachment = _field(att, B_EmbeddedDocumentBinaryObject)
        ext = _first_child(att, A_ExternalReference)
        if ext is not None:
            d.uri = _field(ext, B_URI)
    inv.supporting_documents.append(d)


def _delivery(el: Any) -> Delivery:
    d = Delivery(el=el)
    for c in el[:]:
        t = c.tag
        if t == B_ActualDeliveryDate:
            d.date = d.date or UblDate(c)
        elif t == A_DeliveryLocation:
            d.location_id = d.location_id or _field(c, ID, Ident)
            addr = _first_child(c, A_Address)
            if addr is not None and d.address is None:
                d.address = read_address(addr)
        elif t == A_DeliveryParty:
            pn = _first_child(c, A_PartyName)
            if pn is not None:
                d.name = d.name or _field(pn, NAME)
    return d


def _resolve_tax_totals(inv: Invoice) -> None:
    """BT-110 is the TaxTotal amount in the invoice currency (BT-5), BT-111 the one in BT-6."""
    if inv.totals is None:
        return
    cur = inv.currency.text if inv.currency is not None else None
    tcur = inv.tax_currency.text if inv.tax_currency is not None else None
    for tt in inv.tax_totals:
        a = tt.amount
        if a is None:
            continue
        c = a.currency
        if c == cur and inv.totals.tax_amount is None:
            inv.totals.tax_amount = a
        elif tcur is not None and c == tcur and c != cur and inv.totals.tax_amount_accounting is None:
            inv.totals.tax_amount_accounting = a
