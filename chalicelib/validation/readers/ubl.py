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

CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"


def _b(name: str) -> str:
    return CBC + name


def _a(name: str) -> str:
    return CAC + name


ID, NAME, NOTE, AMOUNT, PERCENT = _b("ID"), _b("Name"), _b("Note"), _b("Amount"), _b("Percent")
TAX_SCHEME = _a("TaxScheme")


def _first_child(el: Any, tag: str) -> Any:
    for c in el:
        if c.tag == tag:
            return c
    return None


def _field(el: Any, tag: str, cls: type = Field) -> Any:
    c = _first_child(el, tag)
    return cls(c) if c is not None else None


def _nested_id(el: Any, cls: type = Field) -> Any:
    """cac:X/cbc:ID (the first)."""
    return _field(el, ID, cls)


def read_address(el: Any) -> Address:
    a = Address(el=el)
    for c in el:
        t = c.tag
        if t == _b("StreetName"):
            a.line1 = a.line1 or Field(c)
        elif t == _b("AdditionalStreetName"):
            a.line2 = a.line2 or Field(c)
        elif t == _a("AddressLine"):
            if a.line3 is None:
                a.line3 = _field(c, _b("Line"))
        elif t == _b("CityName"):
            a.city = a.city or Field(c)
        elif t == _b("PostalZone"):
            a.postcode = a.postcode or Field(c)
        elif t == _b("CountrySubentity"):
            a.subdivision = a.subdivision or Field(c)
        elif t == _a("Country"):
            if a.country is None:
                a.country = _field(c, _b("IdentificationCode"))
    return a


def read_contact(el: Any) -> Contact:
    k = Contact(el=el)
    for c in el:
        t = c.tag
        if t == NAME:
            k.name = k.name or Field(c)
        elif t == _b("Telephone"):
            k.telephone = k.telephone or Field(c)
        elif t == _b("ElectronicMail"):
            k.email = k.email or Field(c)
    return k


def read_party(el: Any) -> Party:
    p = Party(el=el)
    for c in el:
        t = c.tag
        if t == _b("EndpointID"):
            p.electronic_address = p.electronic_address or Ident(c)
        elif t == _a("PartyIdentification"):
            i = _nested_id(c, Ident)
            if i is not None:
                p.identifiers.append(i)
        elif t == _a("PartyName"):
            n = _field(c, NAME)
            if n is not None:
                p.party_names.append(n)
        elif t == _a("PostalAddress"):
            p.address = p.address or read_address(c)
        elif t == _a("PartyTaxScheme"):
            cid = _field(c, _b("CompanyID"))
            ts = _first_child(c, TAX_SCHEME)
            scheme = _field(ts, ID) if ts is not None else None
            if cid is not None:
                s = scheme.text if scheme is not None else None
                p.tax_ids.append((cid, s))
                if s == "VAT":
                    p.vat_id = p.vat_id or cid
                else:
                    p.tax_registration = p.tax_registration or cid
        elif t == _a("PartyLegalEntity"):
            for g in c:
                gt = g.tag
                if gt == _b("RegistrationName"):
                    p.name = p.name or Field(g)
                    p.registration_name = p.name
                elif gt == _b("CompanyID"):
                    p.legal_registration = p.legal_registration or Ident(g)
                elif gt == _b("CompanyLegalForm"):
                    p.legal_info = p.legal_info or Field(g)
        elif t == _a("Contact"):
            p.contact = p.contact or read_contact(c)
    if p.party_names:
        p.trading_name = p.party_names[0]
    return p


def _party_of(el: Any) -> Party | None:
    """cac:AccountingSupplierParty/cac:Party → Party (el = the cac:Party, or the wrapper if no Party)."""
    party = _first_child(el, _a("Party"))
    if party is None:
        return Party(el=el)
    return read_party(party)


def read_allowance_charge(el: Any) -> AllowanceCharge:
    ac = AllowanceCharge(el=el)
    for c in el:
        t = c.tag
        if t == _b("ChargeIndicator"):
            if ac.indicator is None:
                ac.indicator = Field(c)
                ac.is_charge = xs_boolean(ac.indicator.text)
        elif t == AMOUNT:
            ac.amount = ac.amount or Amount(c)
        elif t == _b("BaseAmount"):
            ac.base_amount = ac.base_amount or Amount(c)
        elif t == _b("MultiplierFactorNumeric"):
            ac.percent = ac.percent or Percent(c)
        elif t == _b("AllowanceChargeReason"):
            ac.reason = ac.reason or Field(c)
        elif t == _b("AllowanceChargeReasonCode"):
            ac.reason_code = ac.reason_code or Field(c)
        elif t == _a("TaxCategory"):
            if ac.tax_category_el is None:
                ac.tax_category_el = c
                for g in c:
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
    for c in el:
        t = c.tag
        if t == _b("TaxableAmount"):
            b.taxable_amount = b.taxable_amount or Amount(c)
        elif t == _b("TaxAmount"):
            b.tax_amount = b.tax_amount or Amount(c)
        elif t == _a("TaxCategory"):
            if b.category_el is None:
                b.category_el = c
                for g in c:
                    gt = g.tag
                    if gt == ID:
                        b.category = b.category or Field(g)
                    elif gt == PERCENT:
                        b.rate = b.rate or Percent(g)
                    elif gt == _b("TaxExemptionReason"):
                        b.exemption_reason = b.exemption_reason or Field(g)
                    elif gt == _b("TaxExemptionReasonCode"):
                        b.exemption_code = b.exemption_code or Field(g)
                    elif gt == TAX_SCHEME:
                        b.tax_scheme = b.tax_scheme or _field(g, ID)
    return b


def read_tax_total(el: Any) -> TaxTotal:
    tt = TaxTotal(el=el)
    for c in el:
        t = c.tag
        if t == _b("TaxAmount"):
            tt.amount = tt.amount or Amount(c)
        elif t == _a("TaxSubtotal"):
            tt.subtotals.append(read_subtotal(c))
    return tt


_TOTALS = {
    _b("LineExtensionAmount"): "line_total",
    _b("AllowanceTotalAmount"): "allowance_total",
    _b("ChargeTotalAmount"): "charge_total",
    _b("TaxExclusiveAmount"): "tax_exclusive",
    _b("TaxInclusiveAmount"): "tax_inclusive",
    _b("PrepaidAmount"): "prepaid",
    _b("PayableRoundingAmount"): "rounding",
    _b("PayableAmount"): "payable",
}


def read_totals(el: Any) -> Totals:
    tot = Totals(el=el)
    for c in el:
        name = _TOTALS.get(c.tag)
        if name is not None and getattr(tot, name) is None:
            setattr(tot, name, Amount(c))
    return tot


def read_period(el: Any) -> Period:
    p = Period(el=el)
    for c in el:
        t = c.tag
        if t == _b("StartDate"):
            p.start = p.start or DateField(c)
        elif t == _b("EndDate"):
            p.end = p.end or DateField(c)
        elif t == _b("DescriptionCode"):
            p.description_code = p.description_code or Field(c)
    return p


def read_payment_means(el: Any) -> PaymentInstruction:
    pi = PaymentInstruction(el=el)
    for c in el:
        t = c.tag
        if t == _b("PaymentMeansCode"):
            pi.code = pi.code or Field(c)
        elif t == _b("PaymentID"):
            pi.remittance = pi.remittance or Field(c)
        elif t == _a("PayeeFinancialAccount"):
            ct = CreditTransfer(el=c)
            for g in c:
                gt = g.tag
                if gt == ID:
                    ct.account = ct.account or Field(g)
                elif gt == NAME:
                    ct.name = ct.name or Field(g)
                elif gt == _a("FinancialInstitutionBranch"):
                    ct.bic = ct.bic or _field(g, ID)
            pi.transfers.append(ct)
        elif t == _a("CardAccount"):
            if pi.card is None:
                pi.card = Card(el=c, pan=_field(c, _b("PrimaryAccountNumberID")), holder=_field(c, _b("HolderName")))
        elif t == _a("PaymentMandate"):
            if pi.direct_debit is None:
                acc = _first_child(c, _a("PayerFinancialAccount"))
                pi.direct_debit = DirectDebit(
                    el=c, mandate=_field(c, ID), debited_account=_field(acc, ID) if acc is not None else None
                )
    return pi


def read_item(el: Any) -> Item:
    it = Item(el=el)
    for c in el:
        t = c.tag
        if t == NAME:
            it.name = it.name or Field(c)
        elif t == _b("Description"):
            it.description = it.description or Field(c)
        elif t == _a("SellersItemIdentification"):
            it.seller_id = it.seller_id or _field(c, ID)
        elif t == _a("BuyersItemIdentification"):
            it.buyer_id = it.buyer_id or _field(c, ID)
        elif t == _a("StandardItemIdentification"):
            i = _field(c, ID, Ident)
            if i is not None:
                it.standard_ids.append(i)
        elif t == _a("CommodityClassification"):
            for g in c:
                if g.tag == _b("ItemClassificationCode"):
                    it.classifications.append(Ident(g))
        elif t == _a("OriginCountry"):
            it.origin_country = it.origin_country or _field(c, _b("IdentificationCode"))
        elif t == _a("AdditionalItemProperty"):
            it.attributes.append(ItemAttribute(el=c, name=_field(c, NAME), value=_field(c, _b("Value"))))
    return it


def read_price(el: Any) -> Price:
    pr = Price(el=el)
    for c in el:
        t = c.tag
        if t == _b("PriceAmount"):
            pr.net = pr.net or Amount(c)
        elif t == _b("BaseQuantity"):
            pr.base_quantity = pr.base_quantity or Quantity(c)
        elif t == _a("AllowanceCharge"):
            ac = read_allowance_charge(c)
            pr.allowance_charges.append(ac)
            if pr.discount is None and ac.amount is not None:
                pr.discount = ac.amount
            if pr.gross is None and ac.base_amount is not None:
                pr.gross = ac.base_amount
    return pr


def read_line(el: Any, quantity_tag: str) -> Line:
    ln = Line(el=el)
    for c in el:
        t = c.tag
        if t == ID:
            ln.id = ln.id or Field(c)
        elif t == NOTE:
            ln.note = ln.note or Field(c)
        elif t == quantity_tag:
            ln.quantity = ln.quantity or Quantity(c)
        elif t == _b("LineExtensionAmount"):
            ln.net_amount = ln.net_amount or Amount(c)
        elif t == _b("AccountingCost"):
            ln.accounting_ref = ln.accounting_ref or Field(c)
        elif t == _a("InvoicePeriod"):
            ln.period = ln.period or read_period(c)
        elif t == _a("OrderLineReference"):
            ln.order_line_ref = ln.order_line_ref or _field(c, _b("LineID"))
        elif t == _a("DocumentReference"):
            ln.object_id = ln.object_id or _field(c, ID, Ident)
        elif t == _a("AllowanceCharge"):
            ac = read_allowance_charge(c)
            ln.allowance_charges.append(ac)
            if ac.is_charge is True:
                ln.charges.append(ac)
            elif ac.is_charge is False:
                ln.allowances.append(ac)
        elif t == _a("Item"):
            if ln.item is None:
                ln.item = read_item(c)
                tc = _first_child(c, _a("ClassifiedTaxCategory"))
                if tc is not None:
                    ts = _first_child(tc, TAX_SCHEME)
                    ln.vat = LineVat(
                        el=tc, category=_field(tc, ID), rate=_field(tc, PERCENT, Percent),
                        tax_scheme=_field(ts, ID) if ts is not None else None,
                    )
        elif t == _a("Price"):
            ln.price = ln.price or read_price(c)
    return ln


def _simple_ref(inv: Invoice, attr: str, el: Any, tag: str = ID) -> None:
    if getattr(inv, attr) is None:
        setattr(inv, attr, _field(el, tag))


def read(root: Any, document: str) -> Invoice:
    """Read a UBL Invoice or CreditNote root element."""
    inv = Invoice(syntax="ubl", document=document, el=root)
    credit = document == "CreditNote"
    type_tag = _b("CreditNoteTypeCode") if credit else _b("InvoiceTypeCode")
    line_tag = _a("CreditNoteLine") if credit else _a("InvoiceLine")
    qty_tag = _b("CreditedQuantity") if credit else _b("InvoicedQuantity")
    for c in root:
        t = c.tag
        if t == line_tag:
            inv.lines.append(read_line(c, qty_tag))
        elif t == _b("CustomizationID"):
            inv.customization_id = inv.customization_id or Field(c)
        elif t == _b("ProfileID"):
            inv.profile_id = inv.profile_id or Field(c)
        elif t == ID:
            inv.number = inv.number or Field(c)
        elif t == _b("IssueDate"):
            inv.issue_date = inv.issue_date or DateField(c)
        elif t == _b("DueDate"):
            inv.due_date = inv.due_date or DateField(c)
        elif t == type_tag:
            inv.type_code = inv.type_code or Field(c)
        elif t == NOTE:
            inv.notes.append(_note(c))
        elif t == _b("TaxPointDate"):
            inv.tax_point_date = inv.tax_point_date or DateField(c)
        elif t == _b("DocumentCurrencyCode"):
            inv.currency = inv.currency or Field(c)
        elif t == _b("TaxCurrencyCode"):
            inv.tax_currency = inv.tax_currency or Field(c)
        elif t == _b("AccountingCost"):
            inv.buyer_accounting_reference = inv.buyer_accounting_reference or Field(c)
        elif t == _b("BuyerReference"):
            inv.buyer_reference = inv.buyer_reference or Field(c)
        elif t == _a("InvoicePeriod"):
            if inv.invoice_period is None:
                inv.invoice_period = read_period(c)
                inv.tax_point_date_code = inv.invoice_period.description_code
        elif t == _a("OrderReference"):
            _simple_ref(inv, "purchase_order", c)
            _simple_ref(inv, "sales_order", c, _b("SalesOrderID"))
        elif t == _a("BillingReference"):
            doc = _first_child(c, _a("InvoiceDocumentReference"))
            inv.preceding_invoices.append(PrecedingInvoice(
                el=c,
                number=_field(doc, ID) if doc is not None else None,
                issue_date=_field(doc, _b("IssueDate"), DateField) if doc is not None else None,
            ))
        elif t == _a("DespatchDocumentReference"):
            _simple_ref(inv, "despatch_advice", c)
        elif t == _a("ReceiptDocumentReference"):
            _simple_ref(inv, "receiving_advice", c)
        elif t == _a("OriginatorDocumentReference"):
            _simple_ref(inv, "tender_reference", c)
        elif t == _a("ContractDocumentReference"):
            _simple_ref(inv, "contract_reference", c)
        elif t == _a("ProjectReference"):
            _simple_ref(inv, "project_reference", c)
        elif t == _a("AdditionalDocumentReference"):
            _additional_document(inv, c)
        elif t == _a("AccountingSupplierParty"):
            inv.seller = inv.seller or _party_of(c)
        elif t == _a("AccountingCustomerParty"):
            inv.buyer = inv.buyer or _party_of(c)
        elif t == _a("PayeeParty"):
            if inv.payee is None:
                inv.payee = read_party(c)
                inv.payee.name = inv.payee.party_names[0] if inv.payee.party_names else None
        elif t == _a("TaxRepresentativeParty"):
            if inv.tax_representative is None:
                inv.tax_representative = read_party(c)
                p = inv.tax_representative
                p.name = p.party_names[0] if p.party_names else None
        elif t == _a("Delivery"):
            inv.delivery = inv.delivery or _delivery(c)
        elif t == _a("PaymentMeans"):
            inv.payment_instructions.append(read_payment_means(c))
        elif t == _a("PaymentTerms"):
            n = _field(c, NOTE)
            if n is not None:
                inv.payment_terms_all.append(n)
                inv.payment_terms = inv.payment_terms or n
        elif t == _a("AllowanceCharge"):
            ac = read_allowance_charge(c)
            inv.allowance_charges.append(ac)
            if ac.is_charge is True:
                inv.charges.append(ac)
            elif ac.is_charge is False:
                inv.allowances.append(ac)
        elif t == _a("TaxTotal"):
            tt = read_tax_total(c)
            inv.tax_totals.append(tt)
            inv.vat_breakdown.extend(tt.subtotals)
        elif t == _a("LegalMonetaryTotal"):
            inv.totals = inv.totals or read_totals(c)
    _resolve_tax_totals(inv)
    return inv


def _note(el: Any) -> Note:
    """UBL has no subject code element: a leading ``#CODE#`` in the note text is BT-21 by convention."""
    return Note(el=el, text=Field(el))


def _additional_document(inv: Invoice, el: Any) -> None:
    code = _field(el, _b("DocumentTypeCode"))
    inv.document_references.append(SupportingDocument(el=el, id=_field(el, ID, Ident), type_code=code))
    if code is not None and code.text == "130":
        inv.invoiced_object = inv.invoiced_object or _field(el, ID, Ident)
        return
    if code is not None and code.text == "50":
        _simple_ref(inv, "tender_reference", el)
        return
    d = SupportingDocument(el=el, id=_field(el, ID, Ident), type_code=code,
                           description=_field(el, _b("DocumentDescription")))
    att = _first_child(el, _a("Attachment"))
    if att is not None:
        d.attachment = _field(att, _b("EmbeddedDocumentBinaryObject"))
        ext = _first_child(att, _a("ExternalReference"))
        if ext is not None:
            d.uri = _field(ext, _b("URI"))
    inv.supporting_documents.append(d)


def _delivery(el: Any) -> Delivery:
    d = Delivery(el=el)
    for c in el:
        t = c.tag
        if t == _b("ActualDeliveryDate"):
            d.date = d.date or DateField(c)
        elif t == _a("DeliveryLocation"):
            d.location_id = d.location_id or _field(c, ID, Ident)
            addr = _first_child(c, _a("Address"))
            if addr is not None and d.address is None:
                d.address = read_address(addr)
        elif t == _a("DeliveryParty"):
            pn = _first_child(c, _a("PartyName"))
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
