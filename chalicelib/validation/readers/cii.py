"""UN/CEFACT CII D16B CrossIndustryInvoice → :class:`~chalicelib.validation.model.Invoice`, one pass.

Dates are ``udt:DateTimeString`` (or ``qdt:DateTimeString``) children; the model's DateField
points at that inner element. BT-110 and BT-111 are both ``ram:TaxTotalAmount``, told
apart by ``@currencyID`` (BT-5 vs BT-6); all of them are kept in ``Invoice.tax_totals``.
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
    DateField,
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
    VatBreakdown,
    xs_boolean,
)

RSM = "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}"
RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"
UDT = "{urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100}"
QDT = "{urn:un:unece:uncefact:data:standard:QualifiedDataType:100}"


def _r(name: str) -> str:
    return RAM + name


# tag constants (precomputed: no string building while reading)
R_AccountName = RAM + "AccountName"
R_ActualAmount = RAM + "ActualAmount"
R_ActualDeliverySupplyChainEvent = RAM + "ActualDeliverySupplyChainEvent"
R_AdditionalReferencedDocument = RAM + "AdditionalReferencedDocument"
R_AllowanceTotalAmount = RAM + "AllowanceTotalAmount"
R_ApplicableHeaderTradeAgreement = RAM + "ApplicableHeaderTradeAgreement"
R_ApplicableHeaderTradeDelivery = RAM + "ApplicableHeaderTradeDelivery"
R_ApplicableHeaderTradeSettlement = RAM + "ApplicableHeaderTradeSettlement"
R_ApplicableProductCharacteristic = RAM + "ApplicableProductCharacteristic"
R_ApplicableTradeSettlementFinancialCard = RAM + "ApplicableTradeSettlementFinancialCard"
R_ApplicableTradeTax = RAM + "ApplicableTradeTax"
R_AppliedTradeAllowanceCharge = RAM + "AppliedTradeAllowanceCharge"
R_AssociatedDocumentLineDocument = RAM + "AssociatedDocumentLineDocument"
R_AttachmentBinaryObject = RAM + "AttachmentBinaryObject"
R_BICID = RAM + "BICID"
R_BasisAmount = RAM + "BasisAmount"
R_BasisQuantity = RAM + "BasisQuantity"
R_BilledQuantity = RAM + "BilledQuantity"
R_BillingSpecifiedPeriod = RAM + "BillingSpecifiedPeriod"
R_BusinessProcessSpecifiedDocumentContextParameter = RAM + "BusinessProcessSpecifiedDocumentContextParameter"
R_BuyerAssignedID = RAM + "BuyerAssignedID"
R_BuyerOrderReferencedDocument = RAM + "BuyerOrderReferencedDocument"
R_BuyerReference = RAM + "BuyerReference"
R_BuyerTradeParty = RAM + "BuyerTradeParty"
R_CalculatedAmount = RAM + "CalculatedAmount"
R_CalculationPercent = RAM + "CalculationPercent"
R_CardholderName = RAM + "CardholderName"
R_CategoryCode = RAM + "CategoryCode"
R_CategoryTradeTax = RAM + "CategoryTradeTax"
R_ChargeAmount = RAM + "ChargeAmount"
R_ChargeIndicator = RAM + "ChargeIndicator"
R_ChargeTotalAmount = RAM + "ChargeTotalAmount"
R_CityName = RAM + "CityName"
R_ClassCode = RAM + "ClassCode"
R_CompleteNumber = RAM + "CompleteNumber"
R_Content = RAM + "Content"
R_ContractReferencedDocument = RAM + "ContractReferencedDocument"
R_CountryID = RAM + "CountryID"
R_CountrySubDivisionName = RAM + "CountrySubDivisionName"
R_CreditorReferenceID = RAM + "CreditorReferenceID"
R_DefinedTradeContact = RAM + "DefinedTradeContact"
R_DepartmentName = RAM + "DepartmentName"
R_Description = RAM + "Description"
R_DesignatedProductClassification = RAM + "DesignatedProductClassification"
R_DespatchAdviceReferencedDocument = RAM + "DespatchAdviceReferencedDocument"
R_DirectDebitMandateID = RAM + "DirectDebitMandateID"
R_DueDateDateTime = RAM + "DueDateDateTime"
R_DueDateTypeCode = RAM + "DueDateTypeCode"
R_DuePayableAmount = RAM + "DuePayableAmount"
R_EmailURIUniversalCommunication = RAM + "EmailURIUniversalCommunication"
R_EndDateTime = RAM + "EndDateTime"
R_ExemptionReason = RAM + "ExemptionReason"
R_ExemptionReasonCode = RAM + "ExemptionReasonCode"
R_FormattedIssueDateTime = RAM + "FormattedIssueDateTime"
R_GlobalID = RAM + "GlobalID"
R_GrandTotalAmount = RAM + "GrandTotalAmount"
R_GrossPriceProductTradePrice = RAM + "GrossPriceProductTradePrice"
R_GuidelineSpecifiedDocumentContextParameter = RAM + "GuidelineSpecifiedDocumentContextParameter"
R_IBANID = RAM + "IBANID"
R_ID = RAM + "ID"
R_IncludedNote = RAM + "IncludedNote"
R_IncludedSupplyChainTradeLineItem = RAM + "IncludedSupplyChainTradeLineItem"
R_Information = RAM + "Information"
R_InvoiceCurrencyCode = RAM + "InvoiceCurrencyCode"
R_InvoiceReferencedDocument = RAM + "InvoiceReferencedDocument"
R_IssueDateTime = RAM + "IssueDateTime"
R_IssuerAssignedID = RAM + "IssuerAssignedID"
R_LineID = RAM + "LineID"
R_LineOne = RAM + "LineOne"
R_LineThree = RAM + "LineThree"
R_LineTotalAmount = RAM + "LineTotalAmount"
R_LineTwo = RAM + "LineTwo"
R_Name = RAM + "Name"
R_NetPriceProductTradePrice = RAM + "NetPriceProductTradePrice"
R_OccurrenceDateTime = RAM + "OccurrenceDateTime"
R_OriginTradeCountry = RAM + "OriginTradeCountry"
R_PayeePartyCreditorFinancialAccount = RAM + "PayeePartyCreditorFinancialAccount"
R_PayeeSpecifiedCreditorFinancialInstitution = RAM + "PayeeSpecifiedCreditorFinancialInstitution"
R_PayeeTradeParty = RAM + "PayeeTradeParty"
R_PayerPartyDebtorFinancialAccount = RAM + "PayerPartyDebtorFinancialAccount"
R_PaymentReference = RAM + "PaymentReference"
R_PersonName = RAM + "PersonName"
R_PostalTradeAddress = RAM + "PostalTradeAddress"
R_PostcodeCode = RAM + "PostcodeCode"
R_ProprietaryID = RAM + "ProprietaryID"
R_RateApplicablePercent = RAM + "RateApplicablePercent"
R_Reason = RAM + "Reason"
R_ReasonCode = RAM + "ReasonCode"
R_ReceivableSpecifiedTradeAccountingAccount = RAM + "ReceivableSpecifiedTradeAccountingAccount"
R_ReceivingAdviceReferencedDocument = RAM + "ReceivingAdviceReferencedDocument"
R_RoundingAmount = RAM + "RoundingAmount"
R_SellerAssignedID = RAM + "SellerAssignedID"
R_SellerOrderReferencedDocument = RAM + "SellerOrderReferencedDocument"
R_SellerTaxRepresentativeTradeParty = RAM + "SellerTaxRepresentativeTradeParty"
R_SellerTradeParty = RAM + "SellerTradeParty"
R_ShipToTradeParty = RAM + "ShipToTradeParty"
R_SpecifiedLegalOrganization = RAM + "SpecifiedLegalOrganization"
R_SpecifiedLineTradeAgreement = RAM + "SpecifiedLineTradeAgreement"
R_SpecifiedLineTradeDelivery = RAM + "SpecifiedLineTradeDelivery"
R_SpecifiedLineTradeSettlement = RAM + "SpecifiedLineTradeSettlement"
R_SpecifiedProcuringProject = RAM + "SpecifiedProcuringProject"
R_SpecifiedTaxRegistration = RAM + "SpecifiedTaxRegistration"
R_SpecifiedTradeAllowanceCharge = RAM + "SpecifiedTradeAllowanceCharge"
R_SpecifiedTradePaymentTerms = RAM + "SpecifiedTradePaymentTerms"
R_SpecifiedTradeProduct = RAM + "SpecifiedTradeProduct"
R_SpecifiedTradeSettlementHeaderMonetarySummation = RAM + "SpecifiedTradeSettlementHeaderMonetarySummation"
R_SpecifiedTradeSettlementLineMonetarySummation = RAM + "SpecifiedTradeSettlementLineMonetarySummation"
R_SpecifiedTradeSettlementPaymentMeans = RAM + "SpecifiedTradeSettlementPaymentMeans"
R_StartDateTime = RAM + "StartDateTime"
R_SubjectCode = RAM + "SubjectCode"
R_TaxBasisTotalAmount = RAM + "TaxBasisTotalAmount"
R_TaxCurrencyCode = RAM + "TaxCurrencyCode"
R_TaxPointDate = RAM + "TaxPointDate"
R_TaxTotalAmount = RAM + "TaxTotalAmount"
R_TelephoneUniversalCommunication = RAM + "TelephoneUniversalCommunication"
R_TotalPrepaidAmount = RAM + "TotalPrepaidAmount"
R_TradingBusinessName = RAM + "TradingBusinessName"
R_TypeCode = RAM + "TypeCode"
R_URIID = RAM + "URIID"
R_URIUniversalCommunication = RAM + "URIUniversalCommunication"
R_Value = RAM + "Value"

ID, NAME, TYPE_CODE = R_ID, R_Name, R_TypeCode
DATE_STRINGS = (UDT + "DateTimeString", QDT + "DateTimeString", UDT + "DateString")


def _first_child(el: Any, tag: str) -> Any:
    for c in el[:]:
        if c.tag == tag:
            return c
    return None


def _field(el: Any, tag: str, cls: type = Field) -> Any:
    if el is not None:
        for c in el[:]:  # (_first_child, inlined)
            if c.tag == tag:
                return cls(c)
    return None


def _scan(el: Any) -> dict[str, Any]:
    """First child element per tag, in one pass (touching each child once is what costs in lxml)."""
    d: dict[str, Any] = {}
    for c in el[:]:
        t = c.tag
        if t not in d:
            d[t] = c
    return d


def _f(d: dict[str, Any], tag: str, cls: type = Field) -> Any:
    c = d.get(tag)
    return cls(c) if c is not None else None


def _category(el: Any) -> tuple[Field | None, Percent | None, Field | None]:
    """(CategoryCode, RateApplicablePercent, TypeCode) of a CII trade tax element: the first of each, one loop."""
    category = rate = scheme = None
    for c in el[:]:
        t = c.tag
        if t == R_CategoryCode:
            if category is None:
                category = Field(c)
        elif t == R_RateApplicablePercent:
            if rate is None:
                rate = Percent(c)
        elif t == TYPE_CODE:
            if scheme is None:
                scheme = Field(c)
    return category, rate, scheme


def _date(el: Any) -> DateField | None:
    """The DateTimeString child of a CII date wrapper."""
    for c in el[:]:
        if c.tag in DATE_STRINGS:
            return DateField(c)
    return None


def _date_of(el: Any, tag: str) -> DateField | None:
    c = _first_child(el, tag) if el is not None else None
    return _date(c) if c is not None else None


def read_address(el: Any) -> Address:
    a = Address(el)
    for c in el[:]:
        t = c.tag
        if t == R_LineOne:
            a.line1 = a.line1 or Field(c)
        elif t == R_LineTwo:
            a.line2 = a.line2 or Field(c)
        elif t == R_LineThree:
            a.line3 = a.line3 or Field(c)
        elif t == R_CityName:
            a.city = a.city or Field(c)
        elif t == R_PostcodeCode:
            a.postcode = a.postcode or Field(c)
        elif t == R_CountrySubDivisionName:
            a.subdivision = a.subdivision or Field(c)
        elif t == R_CountryID:
            a.country = a.country or Field(c)
    return a


def read_contact(el: Any) -> Contact:
    k = Contact(el)
    for c in el[:]:
        t = c.tag
        if t == R_PersonName:
            k.name = Field(c) if k.name is None or k.name.el.tag != t else k.name
        elif t == R_DepartmentName:
            k.name = k.name or Field(c)
        elif t == R_TelephoneUniversalCommunication:
            k.telephone = k.telephone or _field(c, R_CompleteNumber)
        elif t == R_EmailURIUniversalCommunication:
            k.email = k.email or _field(c, R_URIID)
    return k


def read_party(el: Any) -> Party:
    p = Party(el)
    for c in el[:]:
        t = c.tag
        if t == ID or t == R_GlobalID:
            p.identifiers.append(Ident(c))
        elif t == NAME:
            p.name = p.name or Field(c)
        elif t == R_Description:
            p.legal_info = p.legal_info or Field(c)
        elif t == R_SpecifiedLegalOrganization:
            d = _scan(c)
            p.legal_registration = p.legal_registration or _f(d, ID, Ident)
            p.trading_name = p.trading_name or _f(d, R_TradingBusinessName)
        elif t == R_DefinedTradeContact:
            p.contact = p.contact or read_contact(c)
        elif t == R_PostalTradeAddress:
            p.address = p.address or read_address(c)
        elif t == R_URIUniversalCommunication:
            p.electronic_address = p.electronic_address or _field(c, R_URIID, Ident)
        elif t == R_SpecifiedTaxRegistration:
            i = _field(c, ID, Ident)
            if i is not None:
                s = i.scheme
                p.tax_ids.append((i, s))
                if s == "VA":
                    p.vat_id = p.vat_id or i
                elif s == "FC":
                    p.tax_registration = p.tax_registration or i
    return p


def _indicator(ac: AllowanceCharge, el: Any) -> None:
    for g in el[:]:
        if g.tag == UDT + "Indicator":
            ac.indicator = Field(g)
            ac.is_charge = xs_boolean(ac.indicator.text)
            return


def read_allowance_charge(el: Any) -> AllowanceCharge:
    ac = AllowanceCharge(el)
    for c in el[:]:
        t = c.tag
        if t == R_ChargeIndicator:
            if ac.indicator is None:
                _indicator(ac, c)
        elif t == R_ActualAmount:
            ac.amount = ac.amount or Amount(c)
        elif t == R_BasisAmount:
            ac.base_amount = ac.base_amount or Amount(c)
        elif t == R_CalculationPercent:
            ac.percent = ac.percent or Percent(c)
        elif t == R_Reason:
            ac.reason = ac.reason or Field(c)
        elif t == R_ReasonCode:
            ac.reason_code = ac.reason_code or Field(c)
        elif t == R_CategoryTradeTax:
            if ac.tax_category_el is None:
                ac.tax_category_el = c
                ac.vat_category, ac.vat_rate, ac.vat_scheme = _category(c)
    return ac


def read_trade_tax(el: Any) -> VatBreakdown:
    b = VatBreakdown(el)
    for c in el[:]:
        t = c.tag
        if t == R_CalculatedAmount:
            b.tax_amount = b.tax_amount or Amount(c)
        elif t == TYPE_CODE:
            b.tax_scheme = b.tax_scheme or Field(c)
        elif t == R_ExemptionReason:
            b.exemption_reason = b.exemption_reason or Field(c)
        elif t == R_BasisAmount:
            b.taxable_amount = b.taxable_amount or Amount(c)
        elif t == R_CategoryCode:
            b.category = b.category or Field(c)
        elif t == R_ExemptionReasonCode:
            b.exemption_code = b.exemption_code or Field(c)
        elif t == R_RateApplicablePercent:
            b.rate = b.rate or Percent(c)
        elif t == R_TaxPointDate:
            b.tax_point_date = b.tax_point_date or _date(c) or DateField(c)
        elif t == R_DueDateTypeCode:
            b.tax_point_date_code = b.tax_point_date_code or Field(c)
    return b


_TOTALS = {
    R_LineTotalAmount: "line_total",
    R_ChargeTotalAmount: "charge_total",
    R_AllowanceTotalAmount: "allowance_total",
    R_TaxBasisTotalAmount: "tax_exclusive",
    R_RoundingAmount: "rounding",
    R_GrandTotalAmount: "tax_inclusive",
    R_TotalPrepaidAmount: "prepaid",
    R_DuePayableAmount: "payable",
}


def read_totals(el: Any, inv: Invoice) -> Totals:
    tot = Totals(el)
    for c in el[:]:
        t = c.tag
        if t == R_TaxTotalAmount:
            inv.tax_totals.append(TaxTotal(c, Amount(c)))
            continue
        name = _TOTALS.get(t)
        if name is not None and getattr(tot, name) is None:
            setattr(tot, name, Amount(c))
    return tot


def read_period(el: Any) -> Period:
    return Period(el, _date_of(el, R_StartDateTime), _date_of(el, R_EndDateTime))


def read_payment_means(el: Any, inv_settlement: Any) -> PaymentInstruction:
    pi = PaymentInstruction(el)
    bics: list[tuple[Any, Field | None]] = []  # each PayeeSpecifiedCreditorFinancialInstitution, with its BICID
    for c in el[:]:
        t = c.tag
        if t == TYPE_CODE:
            pi.code = pi.code or Field(c)
        elif t == R_Information:
            pi.text = pi.text or Field(c)
        elif t == R_ApplicableTradeSettlementFinancialCard:
            if pi.card is None:
                d = _scan(c)
                pi.card = Card(c, _f(d, ID), _f(d, R_CardholderName))
        elif t == R_PayerPartyDebtorFinancialAccount:
            if pi.direct_debit is None:
                pi.direct_debit = DirectDebit(c, debited_account=_field(c, R_IBANID))
        elif t == R_PayeePartyCreditorFinancialAccount:
            d = _scan(c)
            acct = _f(d, R_IBANID) or _f(d, R_ProprietaryID)
            pi.transfers.append(CreditTransfer(c, acct, _f(d, R_AccountName)))
        elif t == R_PayeeSpecifiedCreditorFinancialInstitution:
            bics.append((c, _field(c, R_BICID)))
    # CII does not nest the BIC in its account: the n-th institution is the n-th account's (one of each in the
    # schema), one beyond the accounts a BG-17 of its own. Never the first account's BIC for every institution.
    for index, (c, bic) in enumerate(bics):
        if index < len(pi.transfers):
            pi.transfers[index].bic = bic
        else:
            pi.transfers.append(CreditTransfer(c, bic=bic))
    return pi


def read_line(el: Any) -> Line:
    ln = Line(el)
    for c in el[:]:
        t = c.tag
        if t == R_AssociatedDocumentLineDocument:
            ln.id = ln.id or _field(c, R_LineID)
            note = _first_child(c, R_IncludedNote)
            if note is not None:
                ln.note = ln.note or _field(note, R_Content)
        elif t == R_SpecifiedTradeProduct:
            ln.item = ln.item or _item(c)
        elif t == R_SpecifiedLineTradeAgreement:
            _line_agreement(ln, c)
        elif t == R_SpecifiedLineTradeDelivery:
            ln.quantity = ln.quantity or _field(c, R_BilledQuantity, Quantity)
        elif t == R_SpecifiedLineTradeSettlement:
            _line_settlement(ln, c)
    return ln


def _item(el: Any) -> Item:
    it = Item(el)
    for c in el[:]:
        t = c.tag
        if t == R_GlobalID:
            it.standard_ids.append(Ident(c))
        elif t == R_SellerAssignedID:
            it.seller_id = it.seller_id or Field(c)
        elif t == R_BuyerAssignedID:
            it.buyer_id = it.buyer_id or Field(c)
        elif t == NAME:
            it.name = it.name or Field(c)
        elif t == R_Description:
            it.description = it.description or Field(c)
        elif t == R_ApplicableProductCharacteristic:
            d = _scan(c)
            it.attributes.append(ItemAttribute(c, _f(d, R_Description), _f(d, R_Value)))
        elif t == R_DesignatedProductClassification:
            cc = _field(c, R_ClassCode, Ident)
            if cc is not None:
                it.classifications.append(cc)
        elif t == R_OriginTradeCountry:
            it.origin_country = it.origin_country or _field(c, ID)
    return it


def _line_agreement(ln: Line, el: Any) -> None:
    for c in el[:]:
        t = c.tag
        if t == R_BuyerOrderReferencedDocument:
            ln.order_line_ref = ln.order_line_ref or _field(c, R_LineID)
        elif t == R_GrossPriceProductTradePrice:
            pr = ln.price or Price(c)
            ln.price = pr
            pr.gross = pr.gross or _field(c, R_ChargeAmount, Amount)
            for g in c[:]:
                if g.tag == R_AppliedTradeAllowanceCharge:
                    ac = read_allowance_charge(g)
                    pr.allowance_charges.append(ac)
                    if pr.discount is None and ac.amount is not None:
                        pr.discount = ac.amount
                elif g.tag == R_BasisQuantity and pr.base_quantity is None:
                    pr.base_quantity = Quantity(g)
        elif t == R_NetPriceProductTradePrice:
            pr = ln.price or Price(c)
            ln.price = pr
            pr.el = c
            net = bq = None
            for g in c[:]:
                gt = g.tag
                if gt == R_ChargeAmount:
                    if net is None:
                        net = g
                elif gt == R_BasisQuantity:
                    if bq is None:
                        bq = g
            if pr.net is None and net is not None:
                pr.net = Amount(net)
            if bq is not None:
                pr.base_quantity = Quantity(bq)


def _line_settlement(ln: Line, el: Any) -> None:
    for c in el[:]:
        t = c.tag
        if t == R_ApplicableTradeTax:
            if ln.vat is None:
                category, rate, scheme = _category(c)
                ln.vat = LineVat(c, category, rate, scheme)
        elif t == R_BillingSpecifiedPeriod:
            ln.period = ln.period or read_period(c)
        elif t == R_SpecifiedTradeAllowanceCharge:
            ac = read_allowance_charge(c)
            ln.allowance_charges.append(ac)
            if ac.is_charge is True:
                ln.charges.append(ac)
            elif ac.is_charge is False:
                ln.allowances.append(ac)
        elif t == R_SpecifiedTradeSettlementLineMonetarySummation:
            ln.net_amount = ln.net_amount or _field(c, R_LineTotalAmount, Amount)
        elif t == R_AdditionalReferencedDocument:
            d = _scan(c)
            ref = SupportingDocument(c, _f(d, R_IssuerAssignedID, Ident), type_code=_f(d, TYPE_CODE))
            ln.document_references.append(ref)
            ln.object_id = ln.object_id or ref.id
        elif t == R_ReceivableSpecifiedTradeAccountingAccount:
            ln.accounting_ref = ln.accounting_ref or _field(c, ID)


def _agreement(inv: Invoice, el: Any) -> None:
    for c in el[:]:
        t = c.tag
        if t == R_BuyerReference:
            inv.buyer_reference = inv.buyer_reference or Field(c)
        elif t == R_SellerTradeParty:
            inv.seller = inv.seller or read_party(c)
        elif t == R_BuyerTradeParty:
            inv.buyer = inv.buyer or read_party(c)
        elif t == R_SellerTaxRepresentativeTradeParty:
            inv.tax_representative = inv.tax_representative or read_party(c)
        elif t == R_SellerOrderReferencedDocument:
            inv.sales_order = inv.sales_order or _field(c, R_IssuerAssignedID)
        elif t == R_BuyerOrderReferencedDocument:
            inv.purchase_order = inv.purchase_order or _field(c, R_IssuerAssignedID)
        elif t == R_ContractReferencedDocument:
            inv.contract_reference = inv.contract_reference or _field(c, R_IssuerAssignedID)
        elif t == R_AdditionalReferencedDocument:
            _additional_document(inv, c)
        elif t == R_SpecifiedProcuringProject:
            inv.project_reference = inv.project_reference or _field(c, ID)


def _additional_document(inv: Invoice, el: Any) -> None:
    d = _scan(el)
    code = _f(d, TYPE_CODE)
    ident = _f(d, R_IssuerAssignedID, Ident)
    inv.document_references.append(SupportingDocument(el, ident, type_code=code))
    kind = code.text if code is not None else None
    if kind == "130":
        inv.invoiced_object = inv.invoiced_object or ident
    elif kind == "50":
        inv.tender_reference = inv.tender_reference or ident
    else:
        inv.supporting_documents.append(
            SupportingDocument(
                el=el,
                id=ident,
                type_code=code,
                description=_f(d, NAME),
                uri=_f(d, R_URIID),
                attachment=_f(d, R_AttachmentBinaryObject),
            )
        )


def _delivery(inv: Invoice, el: Any) -> None:
    d = inv.delivery or Delivery(el)
    for c in el[:]:
        t = c.tag
        if t == R_ShipToTradeParty:
            for g in c[:]:
                gt = g.tag
                if gt in (ID, R_GlobalID):
                    d.location_id = d.location_id or Ident(g)
                elif gt == NAME:
                    d.name = d.name or Field(g)
                elif gt == R_PostalTradeAddress:
                    d.address = d.address or read_address(g)
        elif t == R_ActualDeliverySupplyChainEvent:
            d.date = d.date or _date_of(c, R_OccurrenceDateTime)
        elif t == R_DespatchAdviceReferencedDocument:
            inv.despatch_advice = inv.despatch_advice or _field(c, R_IssuerAssignedID)
        elif t == R_ReceivingAdviceReferencedDocument:
            inv.receiving_advice = inv.receiving_advice or _field(c, R_IssuerAssignedID)
    if d.name is not None or d.location_id is not None or d.date is not None or d.address is not None:
        inv.delivery = d


def _settlement(inv: Invoice, el: Any) -> None:
    creditor_id = mandate = remittance = None
    for c in el[:]:
        t = c.tag
        if t == R_CreditorReferenceID:
            creditor_id = creditor_id or Field(c)
        elif t == R_PaymentReference:
            remittance = remittance or Field(c)
        elif t == R_TaxCurrencyCode:
            inv.tax_currency = inv.tax_currency or Field(c)
        elif t == R_InvoiceCurrencyCode:
            inv.currency = inv.currency or Field(c)
        elif t == R_PayeeTradeParty:
            inv.payee = inv.payee or read_party(c)
        elif t == R_SpecifiedTradeSettlementPaymentMeans:
            inv.payment_instructions.append(read_payment_means(c, el))
        elif t == R_ApplicableTradeTax:
            b = read_trade_tax(c)
            inv.vat_breakdown.append(b)
            inv.tax_point_date = inv.tax_point_date or b.tax_point_date
            inv.tax_point_date_code = inv.tax_point_date_code or b.tax_point_date_code
        elif t == R_BillingSpecifiedPeriod:
            inv.invoice_period = inv.invoice_period or read_period(c)
        elif t == R_SpecifiedTradeAllowanceCharge:
            ac = read_allowance_charge(c)
            inv.allowance_charges.append(ac)
            if ac.is_charge is True:
                inv.charges.append(ac)
            elif ac.is_charge is False:
                inv.allowances.append(ac)
        elif t == R_SpecifiedTradePaymentTerms:
            d = _scan(c)
            desc = _f(d, R_Description)
            if desc is not None:
                inv.payment_terms_all.append(desc)
                inv.payment_terms = inv.payment_terms or desc
            due = d.get(R_DueDateDateTime)
            inv.due_date = inv.due_date or (_date(due) if due is not None else None)
            mandate = mandate or _f(d, R_DirectDebitMandateID)
        elif t == R_SpecifiedTradeSettlementHeaderMonetarySummation:
            if inv.totals is None:
                inv.totals = read_totals(c, inv)
        elif t == R_InvoiceReferencedDocument:
            inv.preceding_invoices.append(
                PrecedingInvoice(
                    el=c,
                    number=_field(c, R_IssuerAssignedID),
                    issue_date=_date_of(c, R_FormattedIssueDateTime),
                )
            )
        elif t == R_ReceivableSpecifiedTradeAccountingAccount:
            inv.buyer_accounting_reference = inv.buyer_accounting_reference or _field(c, ID)
    for pi in inv.payment_instructions:
        pi.remittance = pi.remittance or remittance
        if creditor_id is not None or mandate is not None:
            if pi.direct_debit is None:
                pi.direct_debit = DirectDebit(el=None)
            pi.direct_debit.creditor_id = creditor_id
            pi.direct_debit.mandate = mandate


def read(root: Any, document: str = "CrossIndustryInvoice") -> Invoice:
    """Read a CII CrossIndustryInvoice root element."""
    inv = Invoice("cii", document, root)
    for c in root[:]:
        t = c.tag
        if t == RSM + "ExchangedDocumentContext":
            for g in c[:]:
                if g.tag == R_GuidelineSpecifiedDocumentContextParameter:
                    inv.customization_id = inv.customization_id or _field(g, ID)
                elif g.tag == R_BusinessProcessSpecifiedDocumentContextParameter:
                    inv.profile_id = inv.profile_id or _field(g, ID)
        elif t == RSM + "ExchangedDocument":
            for g in c[:]:
                gt = g.tag
                if gt == ID:
                    inv.number = inv.number or Field(g)
                elif gt == TYPE_CODE:
                    inv.type_code = inv.type_code or Field(g)
                elif gt == R_IssueDateTime:
                    inv.issue_date = inv.issue_date or _date(g)
                elif gt == R_IncludedNote:
                    d = _scan(g)
                    inv.notes.append(Note(g, _f(d, R_SubjectCode), _f(d, R_Content)))
        elif t == RSM + "SupplyChainTradeTransaction":
            for g in c[:]:
                gt = g.tag
                if gt == R_IncludedSupplyChainTradeLineItem:
                    inv.lines.append(read_line(g))
                elif gt == R_ApplicableHeaderTradeAgreement:
                    _agreement(inv, g)
                elif gt == R_ApplicableHeaderTradeDelivery:
                    _delivery(inv, g)
                elif gt == R_ApplicableHeaderTradeSettlement:
                    _settlement(inv, g)
    _resolve_tax_totals(inv)
    return inv


def _resolve_tax_totals(inv: Invoice) -> None:
    if inv.totals is None:
        return
    cur = inv.currency.text if inv.currency is not None else None
    tcur = inv.tax_currency.text if inv.tax_currency is not None else None
    for tt in inv.tax_totals:
        a = tt.amount
        c = a.currency
        if c == cur and inv.totals.tax_amount is None:
            inv.totals.tax_amount = a
        elif tcur is not None and c == tcur and c != cur and inv.totals.tax_amount_accounting is None:
            inv.totals.tax_amount_accounting = a
    # a currency-less TaxTotalAmount is still the invoice total VAT amount when it is the only one
    if inv.totals.tax_amount is None and len(inv.tax_totals) == 1 and inv.tax_totals[0].amount.currency is None:
        inv.totals.tax_amount = inv.tax_totals[0].amount
