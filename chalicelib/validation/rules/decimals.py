"""BR-DEC-*: amounts carry at most two decimals.

The official validators count the characters after the first '.' of the element's text
(``string-length(substring-after(x, '.')) <= 2``), so ``1.230`` fails, ``1.2 `` (trailing
space) fails and ``1`` passes; we do the same on the raw text. Two exceptions, both about
BT-110/BT-111 (the invoice total VAT amount, BR-DEC-13 and BR-DEC-15):

* UBL: the official test filters ``cac:TaxTotal/cbc:TaxAmount[@currencyID = cbc:DocumentCurrencyCode]``
  from the TaxAmount element itself, which has no such child, so both rules can never fail;
* CII: the amount is compared numerically with itself rounded to 2 decimals (``12.340`` passes,
  ``12.341`` fails), and BR-DEC-15 fails whenever a VAT accounting currency (BT-6) is given but
  no ``ram:TaxTotalAmount`` in that currency passes.

Rule contexts follow the official bindings (document level allowances/charges, document totals,
VAT breakdowns, lines, line allowances/charges); in CII a VAT breakdown of category O, L or M
with tax type VAT is consumed by its category rule first, so BR-DEC-19/20 do not look at it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..findings import FATAL, Finding
from . import _vat
from ._helpers import cii_breakdown_shadowed, pass_elements

CBC = _vat.CBC
CAC = _vat.CAC
RAM = _vat.RAM
RSM = _vat.RSM
UDT = _vat.UDT

# (rule, business term, UBL child, CII child) per context
ALLOWANCE = (
    ("BR-DEC-01", "BT-92 Document level allowance amount", "Amount", "ActualAmount"),
    ("BR-DEC-02", "BT-93 Document level allowance base amount", "BaseAmount", "BasisAmount"),
)
CHARGE = (
    ("BR-DEC-05", "BT-99 Document level charge amount", "Amount", "ActualAmount"),
    ("BR-DEC-06", "BT-100 Document level charge base amount", "BaseAmount", "BasisAmount"),
)
TOTALS = (
    ("BR-DEC-09", "BT-106 Sum of Invoice line net amount", "LineExtensionAmount", "LineTotalAmount"),
    ("BR-DEC-10", "BT-107 Sum of allowances on document level", "AllowanceTotalAmount", "AllowanceTotalAmount"),
    ("BR-DEC-11", "BT-108 Sum of charges on document level", "ChargeTotalAmount", "ChargeTotalAmount"),
    ("BR-DEC-12", "BT-109 Invoice total amount without VAT", "TaxExclusiveAmount", "TaxBasisTotalAmount"),
    ("BR-DEC-14", "BT-112 Invoice total amount with VAT", "TaxInclusiveAmount", "GrandTotalAmount"),
    ("BR-DEC-16", "BT-113 Paid amount", "PrepaidAmount", "TotalPrepaidAmount"),
    ("BR-DEC-17", "BT-114 Rounding amount", "PayableRoundingAmount", "RoundingAmount"),
    ("BR-DEC-18", "BT-115 Amount due for payment", "PayableAmount", "DuePayableAmount"),
)
BREAKDOWN = (
    ("BR-DEC-19", "BT-116 VAT category taxable amount", "TaxableAmount", "BasisAmount"),
    ("BR-DEC-20", "BT-117 VAT category tax amount", "TaxAmount", "CalculatedAmount"),
)
LINE = (("BR-DEC-23", "BT-131 Invoice line net amount", "LineExtensionAmount", None),)
LINE_ALLOWANCE = (
    ("BR-DEC-24", "BT-136 Invoice line allowance amount", "Amount", "ActualAmount"),
    ("BR-DEC-25", "BT-137 Invoice line allowance base amount", "BaseAmount", "BasisAmount"),
)
LINE_CHARGE = (
    ("BR-DEC-27", "BT-141 Invoice line charge amount", "Amount", "ActualAmount"),
    ("BR-DEC-28", "BT-142 Invoice line charge base amount", "BaseAmount", "BasisAmount"),
)
TOTAL_VAT = (
    ("BR-DEC-13", "BT-110 Invoice total VAT amount"),
    ("BR-DEC-15", "BT-111 Invoice total VAT amount in accounting currency"),
)


def _decimals(raw: str) -> int:
    _, dot, after = raw.partition(".")
    return len(after) if dot else 0


def _finding(rule: str, term: str, el, raw: str) -> Finding:
    return Finding(
        rule,
        FATAL,
        f"{rule}: {term} ({raw.strip()}) has {_decimals(raw)} decimals; at most 2 are allowed.",
        _vat.location(el),
    )


def _over(el) -> str | None:
    """The element's text when it has more than 2 characters after its first '.', else None (the fast path)."""
    raw = el.text
    if len(el):
        raw = _vat.text_of(el)
    if raw is None:
        return None
    i = raw.find(".")
    if i < 0 or len(raw) - i - 1 <= 2:
        return None
    return raw


def _first(el) -> bool:
    """A test like substring-after(cbc:Amount, '.') reads the first such child of the context."""
    parent = el.getparent()
    return parent is not None and _vat.kid(parent, el.tag) is el


def check(doc) -> Iterable[Finding]:
    out: list[Finding] = []
    if doc.syntax == "ubl":
        _ubl(doc.root, out, pass_elements(doc, "decimals"))
    else:
        _cii(doc.root, out, pass_elements(doc, "decimals"))
    return out


# --------------------------------------------------------------------------- UBL
# Every amount a BR-DEC rule reads, visited in one C-level pass; only amounts with more than two
# decimals are then placed in their rule context.
_U_TAGS = {CBC + t for table in (ALLOWANCE, TOTALS, BREAKDOWN, LINE) for _, _, t, _ in table}
_U_BY_CONTEXT = {
    "allowance": {CBC + t: (r, term) for r, term, t, _ in ALLOWANCE},
    "charge": {CBC + t: (r, term) for r, term, t, _ in CHARGE},
    "totals": {CBC + t: (r, term) for r, term, t, _ in TOTALS},
    "breakdown": {CBC + t: (r, term) for r, term, t, _ in BREAKDOWN},
    "line": {CBC + t: (r, term) for r, term, t, _ in LINE},
    "line-allowance": {CBC + t: (r, term) for r, term, t, _ in LINE_ALLOWANCE},
    "line-charge": {CBC + t: (r, term) for r, term, t, _ in LINE_CHARGE},
}
UBL_TAGS = tuple(sorted(_U_TAGS))  # what _ubl reads (syntax_ubl gathers them: _helpers.pass_elements)
_U_AC = CAC + "AllowanceCharge"
_U_IND = CBC + "ChargeIndicator"
_U_LINES = (CAC + "InvoiceLine", CAC + "CreditNoteLine")


def _indicator(ac) -> bool | None:
    ind = _vat.kid(ac, _U_IND)
    return _vat.as_bool(_vat.text_of(ind)) if ind is not None else None


def _ubl_context(el, root) -> str | None:
    parent = el.getparent()
    if parent is None:
        return None
    ptag = parent.tag
    if ptag == _U_AC:
        grand = parent.getparent()
        ind = _indicator(parent)
        if ind is None or grand is None:
            return None
        if grand is root:  # /ubl:Invoice/cac:AllowanceCharge[cbc:ChargeIndicator = ...]
            return "charge" if ind else "allowance"
        if grand.tag in _U_LINES:  # //cac:InvoiceLine/cac:AllowanceCharge[cbc:ChargeIndicator = ...]
            return "line-charge" if ind else "line-allowance"
        return None
    if ptag == CAC + "LegalMonetaryTotal":
        return "totals"
    if ptag == CAC + "TaxSubtotal":
        grand = parent.getparent()
        return "breakdown" if grand is not None and grand.tag == CAC + "TaxTotal" else None
    if ptag in _U_LINES:
        return "line"
    return None


def _ubl(root, out: list[Finding], elements: list | None = None) -> None:
    for el in elements if elements is not None else root.iter(*UBL_TAGS):
        raw = el.text
        if raw is None or len(el):
            raw = _over(el)
            if raw is None:
                continue
        else:
            i = raw.find(".")
            if i < 0 or len(raw) - i <= 3:
                continue
        ctx = _ubl_context(el, root)
        if ctx is None:
            continue
        rule_term = _U_BY_CONTEXT[ctx].get(el.tag)
        if rule_term is not None and _first(el):
            out.append(_finding(rule_term[0], rule_term[1], el, raw))


# --------------------------------------------------------------------------- CII
_C_HEADER = RAM + "ApplicableHeaderTradeSettlement"
_C_LINE_SETTLEMENT = RAM + "SpecifiedLineTradeSettlement"
_C_AC = RAM + "SpecifiedTradeAllowanceCharge"
_C_TOTALS = RAM + "SpecifiedTradeSettlementHeaderMonetarySummation"
_C_LINE_SUMMATION = RAM + "SpecifiedTradeSettlementLineMonetarySummation"
_C_LINE_ITEM = RAM + "IncludedSupplyChainTradeLineItem"
_C_ATT = RAM + "ApplicableTradeTax"
_C_TAGS = {RAM + t for table in (ALLOWANCE, TOTALS, BREAKDOWN) for _, _, _, t in table} | {RAM + "LineTotalAmount"}
_C_BY_CONTEXT = {
    "allowance": {RAM + t: (r, term) for r, term, _, t in ALLOWANCE},
    "charge": {RAM + t: (r, term) for r, term, _, t in CHARGE},
    "totals": {RAM + t: (r, term) for r, term, _, t in TOTALS},
    "breakdown": {RAM + t: (r, term) for r, term, _, t in BREAKDOWN},
    "line-allowance": {RAM + t: (r, term) for r, term, _, t in LINE_ALLOWANCE},
    "line-charge": {RAM + t: (r, term) for r, term, _, t in LINE_CHARGE},
}


def _cii_indicators(ac) -> set[str]:
    """The udt:Indicator texts of ram:ChargeIndicator (contexts compare them as strings: 'true' / 'false')."""
    return {_vat.text_of(i) for ci in _vat.kids(ac, RAM + "ChargeIndicator") for i in _vat.kids(ci, UDT + "Indicator")}


def _cii_contexts(el) -> list[str]:
    parent = el.getparent()
    if parent is None:
        return []
    ptag = parent.tag
    if ptag == _C_AC:
        grand = parent.getparent()
        gtag = grand.tag if grand is not None else None
        if gtag == _C_HEADER:
            kinds = ("allowance", "charge")
        elif gtag == _C_LINE_SETTLEMENT:
            kinds = ("line-allowance", "line-charge")
        else:
            return []
        indicators = _cii_indicators(parent)
        return [k for k, v in zip(kinds, ("false", "true"), strict=True) if v in indicators]
    if ptag == _C_TOTALS:
        return ["totals"]
    if ptag == _C_ATT:
        grand = parent.getparent()
        if grand is not None and grand.tag == _C_HEADER and not cii_breakdown_shadowed(parent):
            return ["breakdown"]
        return []
    if ptag == _C_LINE_SUMMATION:
        return ["line"]
    return []


CII_TAGS = (*sorted(_C_TAGS), _C_TOTALS)  # what _cii reads (syntax_cii gathers them: _helpers.pass_elements)


def _cii(root, out: list[Finding], elements: list | None = None) -> None:
    totals_seen = []
    for el in elements if elements is not None else root.iter(*CII_TAGS):
        raw = el.text
        if raw is None or len(el):
            if el.tag == _C_TOTALS:
                totals_seen.append(el)
                continue
            raw = _over(el)
            if raw is None:
                continue
        else:
            i = raw.find(".")
            if i < 0 or len(raw) - i <= 3:
                continue
        for ctx in _cii_contexts(el):
            if ctx == "line":
                # //ram:IncludedSupplyChainTradeLineItem: ram:SpecifiedLineTradeSettlement/
                # ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount (first one)
                settlement = el.getparent().getparent()
                item = settlement.getparent() if settlement is not None else None
                if (
                    settlement is not None
                    and settlement.tag == _C_LINE_SETTLEMENT
                    and item is not None
                    and item.tag == _C_LINE_ITEM
                    and _vat.kid_path(item, *_C_LINE_TOTAL_PATH) is el
                ):
                    rule, term, _, _ = LINE[0]
                    out.append(_finding(rule, term, el, raw))
                continue
            rule_term = _C_BY_CONTEXT[ctx].get(el.tag)
            if rule_term is not None and _first(el):
                out.append(_finding(rule_term[0], rule_term[1], el, raw))
    for totals in totals_seen:
        amounts = list(_vat.kids(totals, RAM + "TaxTotalAmount"))
        if amounts:
            invoice_currency, tax_currency, tax_currency_el = _currencies(root, totals)
            _cii_total_vat(out, amounts, invoice_currency, tax_currency, tax_currency_el)


_C_INVOICE_CURRENCY = RAM + "InvoiceCurrencyCode"
_C_TAX_CURRENCY = RAM + "TaxCurrencyCode"


def _currencies(root, totals) -> tuple[set[str], set[str], object]:
    """/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/ram:Invoice-
    (Tax)CurrencyCode; the totals' own settlement when it is that one (the usual case), else a scan. Also the first
    ram:TaxCurrencyCode element: where BR-DEC-15 points when no total is in that currency."""
    header = totals.getparent()
    tx = header.getparent() if header is not None else None
    if header is not None and header.tag == _C_HEADER and tx is not None and tx.getparent() is root:
        headers = [header] + [h for h in _vat.kids(tx, _C_HEADER) if h is not header] if _many(tx) else [header]
    else:
        headers = [h for t in _vat.kids(root, RSM + "SupplyChainTradeTransaction") for h in _vat.kids(t, _C_HEADER)]
    invoice_currency: set[str] = set()
    tax_currency: set[str] = set()
    tax_currency_el = None
    for h in headers:
        for ch in h[:]:
            tag = ch.tag
            if tag == _C_INVOICE_CURRENCY:
                invoice_currency.add(_vat.text_of(ch))
            elif tag == _C_TAX_CURRENCY:
                tax_currency.add(_vat.text_of(ch))
                if tax_currency_el is None:
                    tax_currency_el = ch
    return invoice_currency, tax_currency, tax_currency_el


def _many(tx) -> bool:
    """More than one ram:ApplicableHeaderTradeSettlement (never in a schema-valid invoice): checked from the end,
    where the header settlement sits, so the common case does not walk the lines."""
    n = 0
    for ch in reversed(tx):
        if ch.tag == _C_HEADER:
            n += 1
            if n > 1:
                return True
        elif ch.tag == RAM + "IncludedSupplyChainTradeLineItem":
            return False
    return False


_C_LINE_TOTAL_PATH = (_C_LINE_SETTLEMENT, _C_LINE_SUMMATION, RAM + "LineTotalAmount")


def _two_decimals(raw: str) -> bool:
    """. = round(. * 100) div 100, in doubles."""
    v = _vat.to_num(raw)
    if v is None:
        return False
    if not math.isfinite(v):  # round(INF) = INF; NaN equals nothing
        return v == v
    return v == math.floor(v * 100 + 0.5) / 100


def _cii_total_vat(
    out: list[Finding], amounts: list, invoice_currency: set[str], tax_currency: set[str], tax_currency_el
) -> None:
    # BR-DEC-13: some ram:TaxTotalAmount[(@currencyID = BT-5 and . = round(. * 100) div 100) or not(@currencyID = BT-5)]
    if not any(
        (a.get("currencyID") in invoice_currency and _two_decimals(_vat.text_of(a)))
        or a.get("currencyID") not in invoice_currency
        for a in amounts
    ):
        _total_vat_finding(out, TOTAL_VAT[0], amounts, invoice_currency, None)
    # BR-DEC-15: some ram:TaxTotalAmount[(@currencyID = BT-6 and . = round(. * 100) div 100) or not(BT-6)]
    if tax_currency and not any(
        a.get("currencyID") in tax_currency and _two_decimals(_vat.text_of(a)) for a in amounts
    ):
        _total_vat_finding(out, TOTAL_VAT[1], amounts, tax_currency, tax_currency_el)


def _total_vat_finding(out: list[Finding], rule_term, amounts, currencies: set[str], currency_el) -> None:
    """An amount in the currency with more than 2 decimals; else (only BR-DEC-15: BR-DEC-13 fails only when every
    amount is in BT-5) no amount in BT-6 at all, pointed at BT-6 as BR-53 does: the invoice-currency total is right."""
    rule, term = rule_term
    target = next((a for a in amounts if a.get("currencyID") in currencies), None)
    if target is not None:
        msg = f"{rule}: {term} ({_vat.text_of(target).strip()}) shall have at most 2 decimals."
    else:
        cur = "/".join(sorted(c.strip() for c in currencies))
        msg = f"{rule}: {term} (a VAT total in {cur}) is missing."
        target = currency_el if currency_el is not None else amounts[0]
    out.append(Finding(rule, FATAL, msg, _vat.location(target)))
