"""The platform's reading of an EN 16931 semantic model: parties, routing references, totals."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from ..validation.model import (
    LOCATION_NAMESPACES,
    AllowanceCharge,
    Amount,
    CreditTransfer,
    DateField,
    Party,
    PaymentInstruction,
    UblDate,
    xpath_of,
)
from ..validation.model import Invoice as SemanticInvoice
from .invoice import InvoiceSummary, PaymentMeans, PrecedingInvoice, Totals

SIRET_SCHEME = "0009"
_FOURTEEN_DIGITS = re.compile(r"[0-9]{14}")  # ASCII digits (\d takes any script's), whole text


def _siret_text(text: str) -> str:
    """A SIRET as printed ('217 500 001 00011', thin or no-break spaces too) as its 14 digits; any other text as
    it is (the controls then refuse it: not the depositor, not in the directory). Routing compares the digits with
    the directory's SIRETs as before: the spaces only group them."""
    digits = "".join(c for c in text if not unicodedata.category(c).startswith("Z"))
    return digits if _FOURTEEN_DIGITS.fullmatch(digits) else text


def _scheme(ident) -> str | None:
    """@schemeID without surrounding spaces (' 0009' is 0009, as EN 16931's code list check reads it)."""
    return ident.scheme.strip() or None if ident.scheme is not None else None


def party_siret(party: Party | None) -> str | None:
    """BT-30/BT-47 legal registration with scheme 0009 (SIRET), else BT-29/BT-46 with that scheme,
    else an unqualified 14-digit registration or identifier; its digits grouped by spaces are its digits."""
    if party is None:
        return None
    legal = party.legal_registration
    if legal is not None and _scheme(legal) == SIRET_SCHEME and legal.text:
        return _siret_text(legal.text)
    for ident in party.identifiers:
        if _scheme(ident) == SIRET_SCHEME and ident.text:
            return _siret_text(ident.text)
    candidates = ([legal] if legal is not None and _scheme(legal) is None else []) + [
        i for i in party.identifiers if _scheme(i) is None
    ]
    return next((_siret_text(c.text) for c in candidates if _FOURTEEN_DIGITS.fullmatch(_siret_text(c.text))), None)


def _text(field) -> str | None:
    return field.text or None if field is not None else None


def summarize(model: SemanticInvoice) -> InvoiceSummary:
    return InvoiceSummary(
        number=model.invoice_number or None,
        issue_date=calendar_date(model.issue_date),
        type="credit_note" if model.is_credit_note else "invoice",
        type_code=_text(model.type_code),
        currency=model.currency_code or None,
        totals=Totals(
            without_vat=model.total_without_vat,
            vat=model.total_vat,
            with_vat=model.total_with_vat,
            amount_due=model.amount_due,
        ),
        seller_siret=party_siret(model.seller),
        seller_name=_text(model.seller.name) if model.seller else None,
        buyer_siret=party_siret(model.buyer),
        buyer_name=_text(model.buyer.name) if model.buyer else None,
        service_code=_text(model.buyer_reference),
        engagement_number=_text(model.purchase_order),
        due_date=calendar_date(model.due_date),
        seller_vat_id=_text(model.seller.vat_id) if model.seller else None,
        payment_means=tuple(m for _, m, _ in _all_payment_means(model)),
        preceding_invoices=tuple(
            PrecedingInvoice(_text(p.number), calendar_date(p.issue_date)) for p in model.preceding_invoices
        ),
    )


def _payment_means(instruction: PaymentInstruction) -> list[tuple[PaymentMeans, CreditTransfer | None]]:
    """A BG-16 instruction as one PaymentMeans per payee account (BG-17: a CII may give several), or one without
    account (a direct debit, a card, a cheque), each with the BG-17 it was read from. An instruction with neither code
    nor account tells nothing."""
    code = _text(instruction.code)
    means = [(PaymentMeans(code, _text(t.account), _text(t.bic)), t) for t in instruction.transfers]
    return [(m, t) for m, t in means or [(PaymentMeans(code), None)] if m != PaymentMeans()]


def _all_payment_means(model: SemanticInvoice) -> list[tuple[PaymentInstruction, PaymentMeans, CreditTransfer | None]]:
    """Every payment means the summary lists, in its order, with where each was read from."""
    return [(i, m, t) for i in model.payment_instructions for m, t in _payment_means(i)]


# The one format EN 16931 binds a CII date to (udt:DateTimeString/@format): YYYYMMDD. BR-03 reads BT-2 in it only.
CII_DATE_FORMAT = "102"


def calendar_date(field: DateField | None) -> date | None:
    """A date term's date as the platform keeps and shows it: none for a CII date written in another format than
    102 (610 is YYYYMM, 616 YYYYWW), even when its digits would read as one, as BR-03 reads BT-2: an invoice is not
    rejected for a missing issue date while showing one."""
    if field is None or (not isinstance(field, UblDate) and field.format != CII_DATE_FORMAT):
        return None
    return field.value


def cii_date_format(field: DateField | None) -> str | None:
    """The format a CII date is written in when it is not 102 (what a date control's message names), else None."""
    if field is None or isinstance(field, UblDate) or field.format == CII_DATE_FORMAT:
        return None
    return field.format or "none"


def issue_date_text(model: SemanticInvoice) -> str | None:
    """BT-2 as the document writes it (None when absent): what the issue date control quotes."""
    return model.issue_date.raw if model.issue_date is not None else None


def due_date_text(model: SemanticInvoice) -> str | None:
    """BT-9 as the document writes it (None when absent): what the due date control quotes."""
    return model.due_date.raw if model.due_date is not None else None


def business_term_locations(model: SemanticInvoice) -> dict[str, str]:
    """XPath of the elements the platform's controls name (the parent group's when the term is absent)."""

    def where(field, group=None) -> str:
        if field is not None:
            return field.path
        if group is not None and getattr(group, "el", None) is not None:
            return xpath_of(group.el)
        return xpath_of(model.el) if model.el is not None else "/"

    seller, buyer = model.seller, model.buyer
    # A payment means' account and BIC by their position in the summary's payment_means (payment_term_key)
    payment = {}
    for index, (instruction, _, transfer) in enumerate(_all_payment_means(model)):
        payment[payment_term_key("BT-84", index)] = where(transfer and transfer.account, transfer or instruction)
        payment[payment_term_key("BT-86", index)] = where(transfer and transfer.bic, transfer or instruction)
    return payment | {
        "BT-27": where(seller.name if seller else None, seller),
        "BT-44": where(buyer.name if buyer else None, buyer),
        "BT-1": where(model.number),
        "BT-2": where(model.issue_date),
        "BT-5": where(model.currency),
        "BT-10": where(model.buyer_reference),
        "BT-13": where(model.purchase_order),
        "BT-30": where(seller.legal_registration if seller else None, seller),
        "BT-47": where(buyer.legal_registration if buyer else None, buyer),
        "BT-9": where(model.due_date),
        "BT-31": where(seller.vat_id if seller else None, seller),
    }


def payment_term_key(term: str, index: int) -> str:
    """The business_term_locations key of `term` (BT-84, BT-86) in the summary's payment means number `index`."""
    return f"{term}#{index}"


@dataclass(frozen=True, slots=True)
class RepeatedTerm:
    """A business term the platform reads that the document repeats where its syntax's XSD allows it once."""

    term: str
    label: str
    path: str  # as the syntax writes it, from the document element (or from its group's element)
    count: int
    location: str  # XPath of the second occurrence
    standard: str  # the syntax whose XSD allows it once


_HTA = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
_HTS = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
_LMT = "cac:LegalMonetaryTotal"
# (term, label, group, path): the terms the platform reads or shows whose elements the XSD allows once (every step
# of path, within each element at group when the group repeats). EN 16931's syntax rules check the others: UBL-SR-09
# to 17 the parties' names and identifiers (BT-27, BT-30, BT-31, BT-44, BT-46, BT-47), so only a repeated party is
# counted here; CII-SR-014 BT-3, CII-SR-477 to 487 the totals within one monetary summation.
_ONCE = {
    "ubl": (
        "UBL 2.1",
        (
            ("BT-1", "Invoice number", "", "cbc:ID"),
            ("BT-2", "Invoice issue date", "", "cbc:IssueDate"),
            ("BT-3", "Invoice type code", "", "cbc:InvoiceTypeCode"),
            ("BT-3", "Invoice type code", "", "cbc:CreditNoteTypeCode"),
            ("BT-5", "Invoice currency code", "", "cbc:DocumentCurrencyCode"),
            ("BT-9", "Payment due date", "", "cbc:DueDate"),
            ("BT-10", "Buyer reference", "", "cbc:BuyerReference"),
            ("BT-13", "Purchase order reference", "", "cac:OrderReference/cbc:ID"),
            ("BG-4", "Seller", "", "cac:AccountingSupplierParty/cac:Party"),
            ("BG-7", "Buyer", "", "cac:AccountingCustomerParty/cac:Party"),
            ("BT-106", "Sum of Invoice line net amount", "", f"{_LMT}/cbc:LineExtensionAmount"),
            ("BT-107", "Sum of allowances on document level", "", f"{_LMT}/cbc:AllowanceTotalAmount"),
            ("BT-108", "Sum of charges on document level", "", f"{_LMT}/cbc:ChargeTotalAmount"),
            ("BT-109", "Invoice total amount without VAT", "", f"{_LMT}/cbc:TaxExclusiveAmount"),
            ("BT-110", "Invoice total VAT amount", "cac:TaxTotal", "cbc:TaxAmount"),  # one per VAT total
            ("BT-112", "Invoice total amount with VAT", "", f"{_LMT}/cbc:TaxInclusiveAmount"),
            ("BT-113", "Paid amount", "", f"{_LMT}/cbc:PrepaidAmount"),
            ("BT-114", "Rounding amount", "", f"{_LMT}/cbc:PayableRoundingAmount"),
            ("BT-115", "Amount due for payment", "", f"{_LMT}/cbc:PayableAmount"),
        ),
    ),
    "cii": (
        "UN/CEFACT CII D16B",
        (
            ("BT-1", "Invoice number", "", "rsm:ExchangedDocument/ram:ID"),
            ("BT-2", "Invoice issue date", "", "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString"),
            ("BT-5", "Invoice currency code", "", f"{_HTS}/ram:InvoiceCurrencyCode"),
            # one per payment terms (CII-SR-452 only warns of several)
            (
                "BT-9",
                "Payment due date",
                f"{_HTS}/ram:SpecifiedTradePaymentTerms",
                "ram:DueDateDateTime/udt:DateTimeString",
            ),  # fmt: skip
            ("BT-10", "Buyer reference", "", f"{_HTA}/ram:BuyerReference"),
            ("BT-13", "Purchase order reference", "", f"{_HTA}/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID"),
            ("BG-4", "Seller", "", f"{_HTA}/ram:SellerTradeParty"),
            ("BG-7", "Buyer", "", f"{_HTA}/ram:BuyerTradeParty"),
            ("BG-22", "Document totals", "", f"{_HTS}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"),
        ),
    ),
}


def _clark(path: str) -> tuple[str, ...]:
    steps = []
    for step in path.split("/") if path else ():
        prefix, _, local = step.partition(":")
        steps.append(f"{{{LOCATION_NAMESPACES[prefix]}}}{local}")
    return tuple(steps)


# syntax -> (standard, rows with their steps as Clark tags, the document element's children the rows start at)
_ONCE_STEPS = {
    syntax: (
        standard,
        steps := tuple((term, label, _clark(group), _clark(path), group, path) for term, label, group, path in rows),
        frozenset((group or path)[0] for _, _, group, path, _, _ in steps),
    )
    for syntax, (standard, rows) in _ONCE.items()
}


def repeated_term(model: SemanticInvoice | None) -> RepeatedTerm | None:
    """The first term of _ONCE the document repeats (the readers keep its first occurrence; a payer's software may
    read another). The syntax's XSD allows each once, but EN 16931's schematron, which the engine reproduces, does
    not count them. A few child lookups from the document element: its children are filtered by tag in C
    (iterchildren), so its lines cost no Python object."""
    if model is None or model.el is None or model.syntax not in _ONCE_STEPS:
        return None
    standard, rows, first_tags = _ONCE_STEPS[model.syntax]
    children: dict[str, list] = defaultdict(list)  # the document element's children this table names, by tag
    for child in model.el.iterchildren(*first_tags):
        children[child.tag].append(child)
    for term, label, group, path, group_text, path_text in rows:
        # the elements the path starts from: the group's, each on its own, or the document element's children
        starts = [[g] for g in _descend(children[group[0]], group[1:])] if group else [children[path[0]]]
        for nodes in starts:
            found = _descend(nodes, path if group else path[1:])
            if len(found) > 1:
                written = f"{group_text}/{path_text}" if group_text else path_text
                return RepeatedTerm(term, label, written, len(found), xpath_of(found[1]), standard)
    return None


_UBL_DUE_DATE = _clark("cbc:DueDate")[0]


def credit_note_due_date(model: SemanticInvoice | None) -> str | None:
    """The XPath of a `cbc:DueDate` in a UBL CreditNote, which the UBL 2.1 CreditNote schema does not have: its BT-9
    is cac:PaymentMeans/cbc:PaymentDueDate (EN 16931-3-2). EN 16931's schematron does not see it and the reader
    takes it as BT-9; a payer's software reading the binding would not. None for any other document."""
    if model is None or model.el is None or (model.syntax, model.document) != ("ubl", "CreditNote"):
        return None
    found = next(model.el.iterchildren(_UBL_DUE_DATE), None)
    return xpath_of(found) if found is not None else None


def _descend(nodes: list, steps: tuple[str, ...]) -> list:
    """The elements reached from nodes by these child steps (XPath a/b/c)."""
    for tag in steps:
        if not nodes:
            break
        nodes = [c for n in nodes for c in n.iterchildren(tag)]
    return nodes


@dataclass(frozen=True, slots=True)
class NonDecimalTerm:
    """An amount, quantity, price or percentage whose text is no xs:decimal (NaN, 1e5, INF, abc, empty)."""

    term: str
    label: str
    where: str  # which line, VAT breakdown or allowance/charge holds it ("" for a document total)
    text: str  # as written
    location: str  # XPath of the element


_TOTALS = (
    ("BT-106", "Sum of Invoice line net amount", "line_total"),
    ("BT-107", "Sum of allowances on document level", "allowance_total"),
    ("BT-108", "Sum of charges on document level", "charge_total"),
    ("BT-109", "Invoice total amount without VAT", "tax_exclusive"),
    ("BT-110", "Invoice total VAT amount", "tax_amount"),
    ("BT-111", "Invoice total VAT amount in accounting currency", "tax_amount_accounting"),
    ("BT-112", "Invoice total amount with VAT", "tax_inclusive"),
    ("BT-113", "Paid amount", "prepaid"),
    ("BT-114", "Rounding amount", "rounding"),
    ("BT-115", "Amount due for payment", "payable"),
)
# (allowance's term, charge's term, label without "allowance"/"charge" ({} is either), attribute)
_DOCUMENT_ALLOWANCE_CHARGE = (
    ("BT-92", "BT-99", "Document level {} amount", "amount"),
    ("BT-93", "BT-100", "Document level {} base amount", "base_amount"),
    ("BT-94", "BT-101", "Document level {} percentage", "percent"),
    ("BT-96", "BT-103", "Document level {} VAT rate", "vat_rate"),
)
_LINE_ALLOWANCE_CHARGE = (
    ("BT-136", "BT-141", "Invoice line {} amount", "amount"),
    ("BT-137", "BT-142", "Invoice line {} base amount", "base_amount"),
    ("BT-138", "BT-143", "Invoice line {} percentage", "percent"),
)
_PRICE = (
    ("BT-146", "Item net price", "net"),
    ("BT-147", "Item price discount", "discount"),
    ("BT-148", "Item gross price", "gross"),
    ("BT-149", "Item price base quantity", "base_quantity"),
)


def non_decimal_term(model: SemanticInvoice | None) -> NonDecimalTerm | None:
    """The first amount, quantity, price or percentage of the invoice (EN 16931's terms of those types, as the
    model reads them) whose text is no xs:decimal, as the syntax's XSD types them. EN 16931's schematron types
    only some: a total is summed (BR-CO-*), BR-DEC counts decimals after a '.', but BT-129 `NaN` or BT-146 `1e5`
    pass it. The model's value is None exactly when its text is no xs:decimal (validation.model.Amount)."""
    if model is None:
        return None
    found: list[tuple[str, str, str, Amount | None]] = []
    totals = model.totals
    found += [(term, label, "", getattr(totals, name)) for term, label, name in _TOTALS if totals is not None]
    found += _allowance_charges(model.allowance_charges, _DOCUMENT_ALLOWANCE_CHARGE, "")
    for index, breakdown in enumerate(model.vat_breakdown, 1):
        where = f" of VAT breakdown {index}"
        found += [
            ("BT-116", "VAT category taxable amount", where, breakdown.taxable_amount),
            ("BT-117", "VAT category tax amount", where, breakdown.tax_amount),
            ("BT-119", "VAT category rate", where, breakdown.rate),
        ]
    for index, line in enumerate(model.lines, 1):
        where = f" of line {index}"
        found += [
            ("BT-129", "Invoiced quantity", where, line.quantity),
            ("BT-131", "Invoice line net amount", where, line.net_amount),
        ]
        found += _allowance_charges(line.allowance_charges, _LINE_ALLOWANCE_CHARGE, where)
        if line.price is not None:
            found += [(term, label, where, getattr(line.price, name)) for term, label, name in _PRICE]
        found.append(("BT-152", "Invoiced item VAT rate", where, line.vat.rate if line.vat is not None else None))
    for term, label, where, amount in found:
        if amount is not None and amount.value is None:
            return NonDecimalTerm(term, label, where, amount.raw, amount.path)
    return None


def _allowance_charges(
    items: list[AllowanceCharge], terms: tuple[tuple[str, str, str, str], ...], where: str
) -> list[tuple[str, str, str, Amount | None]]:
    """Each allowance's or charge's amounts, by its position among them (one whose indicator is not true or false
    is named by its allowance's terms)."""
    found = []
    for index, item in enumerate(items, 1):
        kind = "charge" if item.is_charge else "allowance"
        at = f" of allowance or charge {index}{where}"
        found += [
            (charge if item.is_charge else allowance, label.format(kind), at, getattr(item, name))
            for allowance, charge, label, name in terms
        ]
    return found
