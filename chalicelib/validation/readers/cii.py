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


ID, NAME, TYPE_CODE = _r("ID"), _r("Name"), _r("TypeCode")
DATE_STRINGS = (UDT + "DateTimeString", QDT + "DateTimeString", UDT + "DateString")


def _first_child(el: Any, tag: str) -> Any:
    for c in el:
        if c.tag == tag:
            return c
    return None


def _field(el: Any, tag: str, cls: type = Field) -> Any:
    c = _first_child(el, tag) if el is not None else None
    return cls(c) if c is not None else None


def _date(el: Any) -> DateField | None:
    """The DateTimeString child of a CII date wrapper."""
    for c in el:
        if c.tag in DATE_STRINGS:
            return DateField(c)
    return None


def _date_of(el: Any, tag: str) -> DateField | None:
    c = _first_child(el, tag) if el is not None else None
    return _date(c) if c is not None else None


def read_address(el: Any) -> Address:
    a = Address(el=el)
    for c in el:
        t = c.tag
        if t == _r("LineOne"):
            a.line1 = a.line1 or Field(c)
        elif t == _r("LineTwo"):
            a.line2 = a.line2 or Field(c)
        elif t == _r("LineThree"):
            a.line3 = a.line3 or Field(c)
        elif t == _r("CityName"):
            a.city = a.city or Field(c)
        elif t == _r("PostcodeCode"):
            a.postcode = a.postcode or Field(c)
        elif t == _r("CountrySubDivisionName"):
            a.subdivision = a.subdivision or Field(c)
        elif t == _r("CountryID"):
            a.country = a.country or Field(c)
    return a


def read_contact(el: Any) -> Contact:
    k = Contact(el=el)
    for c in el:
        t = c.tag
        if t == _r("PersonName"):
            k.name = Field(c) if k.name is None or k.name.el.tag != t else k.name
        elif t == _r("DepartmentName"):
            k.name = k.name or Field(c)
        elif t == _r("TelephoneUniversalCommunication"):
            k.telephone = k.telephone or _field(c, _r("CompleteNumber"))
        elif t == _r("EmailURIUniversalCommunication"):
            k.email = k.email or _field(c, _r("URIID"))
    return k


def read_party(el: Any) -> Party:
    p = Party(el=el)
    for c in el:
        t = c.tag
        if t == ID or t == _r("GlobalID"):
            p.identifiers.append(Ident(c))
        elif t == NAME:
            p.name = p.name or Field(c)
        elif t == _r("Description"):
            p.legal_info = p.legal_info or Field(c)
        elif t == _r("SpecifiedLegalOrganization"):
            p.legal_registration = p.legal_registration or _field(c, ID, Ident)
            p.trading_name = p.trading_name or _field(c, _r("TradingBusinessName"))
        elif t == _r("DefinedTradeContact"):
            p.contact = p.contact or read_contact(c)
        elif t == _r("PostalTradeAddress"):
            p.address = p.address or read_address(c)
        elif t == _r("URIUniversalCommunication"):
            p.electronic_address = p.electronic_address or _field(c, _r("URIID"), Ident)
        elif t == _r("SpecifiedTaxRegistration"):
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
    for g in el:
        if g.tag == UDT + "Indicator":
            ac.indicator = Field(g)
            ac.is_charge = xs_boolean(ac.indicator.text)
            return


def read_allowance_charge(el: Any) -> AllowanceCharge:
    ac = AllowanceCharge(el=el)
    for c in el:
        t = c.tag
        if t == _r("ChargeIndicator"):
            if ac.indicator is None:
                _indicator(ac, c)
        elif t == _r("ActualAmount"):
            ac.amount = ac.amount or Amount(c)
        elif t == _r("BasisAmount"):
            ac.base_amount = ac.base_amount or Amount(c)
        elif t == _r("CalculationPercent"):
            ac.percent = ac.percent or Percent(c)
        elif t == _r("Reason"):
            ac.reason = ac.reason or Field(c)
        elif t == _r("ReasonCode"):
            ac.reason_code = ac.reason_code or Field(c)
        elif t == _r("CategoryTradeTax"):
            if ac.tax_category_el is None:
                ac.tax_category_el = c
                ac.vat_category = _field(c, _r("CategoryCode"))
                ac.vat_rate = _field(c, _r("RateApplicablePercent"), Percent)
                ac.vat_scheme = _field(c, TYPE_CODE)
    return ac


def read_trade_tax(el: Any) -> VatBreakdown:
    b = VatBreakdown(el=el)
    for c in el:
        t = c.tag
        if t == _r("CalculatedAmount"):
            b.tax_amount = b.tax_amount or Amount(c)
        elif t == TYPE_CODE:
            b.tax_scheme = b.tax_scheme or Field(c)
        elif t == _r("ExemptionReason"):
            b.exemption_reason = b.exemption_reason or Field(c)
        elif t == _r("BasisAmount"):
            b.taxable_amount = b.taxable_amount or Amount(c)
        elif t == _r("CategoryCode"):
            b.category = b.category or Field(c)
        elif t == _r("ExemptionReasonCode"):
            b.exemption_code = b.exemption_code or Field(c)
        elif t == _r("RateApplicablePercent"):
            b.rate = b.rate or Percent(c)
        elif t == _r("TaxPointDate"):
            b.tax_point_date = b.tax_point_date or _date(c) or DateField(c)
        elif t == _r("DueDateTypeCode"):
            b.tax_point_date_code = b.tax_point_date_code or Field(c)
    return b


_TOTALS = {
    _r("LineTotalAmount"): "line_total",
    _r("ChargeTotalAmount"): "charge_total",
    _r("AllowanceTotalAmount"): "allowance_total",
    _r("TaxBasisTotalAmount"): "tax_exclusive",
    _r("RoundingAmount"): "rounding",
    _r("GrandTotalAmount"): "tax_inclusive",
    _r("TotalPrepaidAmount"): "prepaid",
    _r("DuePayableAmount"): "payable",
}


def read_totals(el: Any, inv: Invoice) -> Totals:
    tot = Totals(el=el)
    for c in el:
        t = c.tag
        if t == _r("TaxTotalAmount"):
            inv.tax_totals.append(TaxTotal(el=c, amount=Amount(c)))
            continue
        name = _TOTALS.get(t)
        if name is not None and getattr(tot, name) is None:
            setattr(tot, name, Amount(c))
    return tot


def read_period(el: Any) -> Period:
    return Period(el=el, start=_date_of(el, _r("StartDateTime")), end=_date_of(el, _r("EndDateTime")))


def read_payment_means(el: Any, inv_settlement: Any) -> PaymentInstruction:
    pi = PaymentInstruction(el=el)
    for c in el:
        t = c.tag
        if t == TYPE_CODE:
            pi.code = pi.code or Field(c)
        elif t == _r("Information"):
            pi.text = pi.text or Field(c)
        elif t == _r("ApplicableTradeSettlementFinancialCard"):
            if pi.card is None:
                pi.card = Card(el=c, pan=_field(c, ID), holder=_field(c, _r("CardholderName")))
        elif t == _r("PayerPartyDebtorFinancialAccount"):
            if pi.direct_debit is None:
                pi.direct_debit = DirectDebit(el=c, debited_account=_field(c, _r("IBANID")))
        elif t == _r("PayeePartyCreditorFinancialAccount"):
            acct = _field(c, _r("IBANID")) or _field(c, _r("ProprietaryID"))
            pi.transfers.append(CreditTransfer(el=c, account=acct, name=_field(c, _r("AccountName"))))
        elif t == _r("PayeeSpecifiedCreditorFinancialInstitution"):
            bic = _field(c, _r("BICID"))
            if pi.transfers and pi.transfers[0].bic is None:
                pi.transfers[0].bic = bic
            elif not pi.transfers:
                pi.transfers.append(CreditTransfer(el=c, bic=bic))
    return pi


def read_line(el: Any) -> Line:
    ln = Line(el=el)
    for c in el:
        t = c.tag
        if t == _r("AssociatedDocumentLineDocument"):
            ln.id = ln.id or _field(c, _r("LineID"))
            note = _first_child(c, _r("IncludedNote"))
            if note is not None:
                ln.note = ln.note or _field(note, _r("Content"))
        elif t == _r("SpecifiedTradeProduct"):
            ln.item = ln.item or _item(c)
        elif t == _r("SpecifiedLineTradeAgreement"):
            _line_agreement(ln, c)
        elif t == _r("SpecifiedLineTradeDelivery"):
            ln.quantity = ln.quantity or _field(c, _r("BilledQuantity"), Quantity)
        elif t == _r("SpecifiedLineTradeSettlement"):
            _line_settlement(ln, c)
    return ln


def _item(el: Any) -> Item:
    it = Item(el=el)
    for c in el:
        t = c.tag
        if t == _r("GlobalID"):
            it.standard_ids.append(Ident(c))
        elif t == _r("SellerAssignedID"):
            it.seller_id = it.seller_id or Field(c)
        elif t == _r("BuyerAssignedID"):
            it.buyer_id = it.buyer_id or Field(c)
        elif t == NAME:
            it.name = it.name or Field(c)
        elif t == _r("Description"):
            it.description = it.description or Field(c)
        elif t == _r("ApplicableProductCharacteristic"):
            it.attributes.append(ItemAttribute(el=c, name=_field(c, _r("Description")), value=_field(c, _r("Value"))))
        elif t == _r("DesignatedProductClassification"):
            cc = _field(c, _r("ClassCode"), Ident)
            if cc is not None:
                it.classifications.append(cc)
        elif t == _r("OriginTradeCountry"):
            it.origin_country = it.origin_country or _field(c, ID)
    return it


def _line_agreement(ln: Line, el: Any) -> None:
    for c in el:
        t = c.tag
        if t == _r("BuyerOrderReferencedDocument"):
            ln.order_line_ref = ln.order_line_ref or _field(c, _r("LineID"))
        elif t == _r("GrossPriceProductTradePrice"):
            pr = ln.price or Price(el=c)
            ln.price = pr
            pr.gross = pr.gross or _field(c, _r("ChargeAmount"), Amount)
            for g in c:
                if g.tag == _r("AppliedTradeAllowanceCharge"):
                    ac = read_allowance_charge(g)
                    pr.allowance_charges.append(ac)
                    if pr.discount is None and ac.amount is not None:
                        pr.discount = ac.amount
                elif g.tag == _r("BasisQuantity") and pr.base_quantity is None:
                    pr.base_quantity = Quantity(g)
        elif t == _r("NetPriceProductTradePrice"):
            pr = ln.price or Price(el=c)
            ln.price = pr
            pr.el = c
            pr.net = pr.net or _field(c, _r("ChargeAmount"), Amount)
            bq = _field(c, _r("BasisQuantity"), Quantity)
            if bq is not None:
                pr.base_quantity = bq


def _line_settlement(ln: Line, el: Any) -> None:
    for c in el:
        t = c.tag
        if t == _r("ApplicableTradeTax"):
            if ln.vat is None:
                ln.vat = LineVat(el=c, category=_field(c, _r("CategoryCode")),
                                 rate=_field(c, _r("RateApplicablePercent"), Percent), tax_scheme=_field(c, TYPE_CODE))
        elif t == _r("BillingSpecifiedPeriod"):
            ln.period = ln.period or read_period(c)
        elif t == _r("SpecifiedTradeAllowanceCharge"):
            ac = read_allowance_charge(c)
            ln.allowance_charges.append(ac)
            if ac.is_charge is True:
                ln.charges.append(ac)
            elif ac.is_charge is False:
                ln.allowances.append(ac)
        elif t == _r("SpecifiedTradeSettlementLineMonetarySummation"):
            ln.net_amount = ln.net_amount or _field(c, _r("LineTotalAmount"), Amount)
        elif t == _r("AdditionalReferencedDocument"):
            ref = SupportingDocument(el=c, id=_field(c, _r("IssuerAssignedID"), Ident), type_code=_field(c, TYPE_CODE))
            ln.document_references.append(ref)
            ln.object_id = ln.object_id or ref.id
        elif t == _r("ReceivableSpecifiedTradeAccountingAccount"):
            ln.accounting_ref = ln.accounting_ref or _field(c, ID)


def _agreement(inv: Invoice, el: Any) -> None:
    for c in el:
        t = c.tag
        if t == _r("BuyerReference"):
            inv.buyer_reference = inv.buyer_reference or Field(c)
        elif t == _r("SellerTradeParty"):
            inv.seller = inv.seller or read_party(c)
        elif t == _r("BuyerTradeParty"):
            inv.buyer = inv.buyer or read_party(c)
        elif t == _r("SellerTaxRepresentativeTradeParty"):
            inv.tax_representative = inv.tax_representative or read_party(c)
        elif t == _r("SellerOrderReferencedDocument"):
            inv.sales_order = inv.sales_order or _field(c, _r("IssuerAssignedID"))
        elif t == _r("BuyerOrderReferencedDocument"):
            inv.purchase_order = inv.purchase_order or _field(c, _r("IssuerAssignedID"))
        elif t == _r("ContractReferencedDocument"):
            inv.contract_reference = inv.contract_reference or _field(c, _r("IssuerAssignedID"))
        elif t == _r("AdditionalReferencedDocument"):
            _additional_document(inv, c)
        elif t == _r("SpecifiedProcuringProject"):
            inv.project_reference = inv.project_reference or _field(c, ID)


def _additional_document(inv: Invoice, el: Any) -> None:
    code = _field(el, TYPE_CODE)
    ident = _field(el, _r("IssuerAssignedID"), Ident)
    inv.document_references.append(SupportingDocument(el=el, id=ident, type_code=code))
    kind = code.text if code is not None else None
    if kind == "130":
        inv.invoiced_object = inv.invoiced_object or ident
    elif kind == "50":
        inv.tender_reference = inv.tender_reference or ident
    else:
        inv.supporting_documents.append(SupportingDocument(
            el=el, id=ident, type_code=code, description=_field(el, NAME), uri=_field(el, _r("URIID")),
            attachment=_field(el, _r("AttachmentBinaryObject")),
        ))


def _delivery(inv: Invoice, el: Any) -> None:
    d = inv.delivery or Delivery(el=el)
    for c in el:
        t = c.tag
        if t == _r("ShipToTradeParty"):
            for g in c:
                gt = g.tag
                if gt in (ID, _r("GlobalID")):
                    d.location_id = d.location_id or Ident(g)
                elif gt == NAME:
                    d.name = d.name or Field(g)
                elif gt == _r("PostalTradeAddress"):
                    d.address = d.address or read_address(g)
        elif t == _r("ActualDeliverySupplyChainEvent"):
            d.date = d.date or _date_of(c, _r("OccurrenceDateTime"))
        elif t == _r("DespatchAdviceReferencedDocument"):
            inv.despatch_advice = inv.despatch_advice or _field(c, _r("IssuerAssignedID"))
        elif t == _r("ReceivingAdviceReferencedDocument"):
            inv.receiving_advice = inv.receiving_advice or _field(c, _r("IssuerAssignedID"))
    if d.name is not None or d.location_id is not None or d.date is not None or d.address is not None:
        inv.delivery = d


def _settlement(inv: Invoice, el: Any) -> None:
    creditor_id = mandate = remittance = None
    for c in el:
        t = c.tag
        if t == _r("CreditorReferenceID"):
            creditor_id = creditor_id or Field(c)
        elif t == _r("PaymentReference"):
            remittance = remittance or Field(c)
        elif t == _r("TaxCurrencyCode"):
            inv.tax_currency = inv.tax_currency or Field(c)
        elif t == _r("InvoiceCurrencyCode"):
            inv.currency = inv.currency or Field(c)
        elif t == _r("PayeeTradeParty"):
            inv.payee = inv.payee or read_party(c)
        elif t == _r("SpecifiedTradeSettlementPaymentMeans"):
            inv.payment_instructions.append(read_payment_means(c, el))
        elif t == _r("ApplicableTradeTax"):
            b = read_trade_tax(c)
            inv.vat_breakdown.append(b)
            inv.tax_point_date = inv.tax_point_date or b.tax_point_date
            inv.tax_point_date_code = inv.tax_point_date_code or b.tax_point_date_code
        elif t == _r("BillingSpecifiedPeriod"):
            inv.invoice_period = inv.invoice_period or read_period(c)
        elif t == _r("SpecifiedTradeAllowanceCharge"):
            ac = read_allowance_charge(c)
            inv.allowance_charges.append(ac)
            if ac.is_charge is True:
                inv.charges.append(ac)
            elif ac.is_charge is False:
                inv.allowances.append(ac)
        elif t == _r("SpecifiedTradePaymentTerms"):
            d = _field(c, _r("Description"))
            if d is not None:
                inv.payment_terms_all.append(d)
                inv.payment_terms = inv.payment_terms or d
            inv.due_date = inv.due_date or _date_of(c, _r("DueDateDateTime"))
            mandate = mandate or _field(c, _r("DirectDebitMandateID"))
        elif t == _r("SpecifiedTradeSettlementHeaderMonetarySummation"):
            if inv.totals is None:
                inv.totals = read_totals(c, inv)
        elif t == _r("InvoiceReferencedDocument"):
            inv.preceding_invoices.append(PrecedingInvoice(
                el=c, number=_field(c, _r("IssuerAssignedID")),
                issue_date=_date_of(c, _r("FormattedIssueDateTime")),
            ))
        elif t == _r("ReceivableSpecifiedTradeAccountingAccount"):
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
    inv = Invoice(syntax="cii", document=document, el=root)
    for c in root:
        t = c.tag
        if t == RSM + "ExchangedDocumentContext":
            for g in c:
                if g.tag == _r("GuidelineSpecifiedDocumentContextParameter"):
                    inv.customization_id = inv.customization_id or _field(g, ID)
                elif g.tag == _r("BusinessProcessSpecifiedDocumentContextParameter"):
                    inv.profile_id = inv.profile_id or _field(g, ID)
        elif t == RSM + "ExchangedDocument":
            for g in c:
                gt = g.tag
                if gt == ID:
                    inv.number = inv.number or Field(g)
                elif gt == TYPE_CODE:
                    inv.type_code = inv.type_code or Field(g)
                elif gt == _r("IssueDateTime"):
                    inv.issue_date = inv.issue_date or _date(g)
                elif gt == _r("IncludedNote"):
                    inv.notes.append(Note(el=g, subject_code=_field(g, _r("SubjectCode")),
                                          text=_field(g, _r("Content"))))
        elif t == RSM + "SupplyChainTradeTransaction":
            for g in c:
                gt = g.tag
                if gt == _r("IncludedSupplyChainTradeLineItem"):
                    inv.lines.append(read_line(g))
                elif gt == _r("ApplicableHeaderTradeAgreement"):
                    _agreement(inv, g)
                elif gt == _r("ApplicableHeaderTradeDelivery"):
                    _delivery(inv, g)
                elif gt == _r("ApplicableHeaderTradeSettlement"):
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
