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

CBC = _vat.CBC
CAC = _vat.CAC
RAM = _vat.RAM
RSM = _vat.RSM
UDT = _vat.UDT

# (rule, business term, UBL child, CII child) per context
ALLOWANCE = (("BR-DEC-01", "BT-92 Document level allowance amount", "Amount", "ActualAmount"),
             ("BR-DEC-02", "BT-93 Document level allowance base amount", "BaseAmount", "BasisAmount"))
CHARGE = (("BR-DEC-05", "BT-99 Document level charge amount", "Amount", "ActualAmount"),
          ("BR-DEC-06", "BT-100 Document level charge base amount", "BaseAmount", "BasisAmount"))
TOTALS = (("BR-DEC-09", "BT-106 Sum of Invoice line net amount", "LineExtensionAmount", "LineTotalAmount"),
          ("BR-DEC-10", "BT-107 Sum of allowances on document level", "AllowanceTotalAmount", "AllowanceTotalAmount"),
          ("BR-DEC-11", "BT-108 Sum of charges on document level", "ChargeTotalAmount", "ChargeTotalAmount"),
          ("BR-DEC-12", "BT-109 Invoice total amount without VAT", "TaxExclusiveAmount", "TaxBasisTotalAmount"),
          ("BR-DEC-14", "BT-112 Invoice total amount with VAT", "TaxInclusiveAmount", "GrandTotalAmount"),
          ("BR-DEC-16", "BT-113 Paid amount", "PrepaidAmount", "TotalPrepaidAmount"),
          ("BR-DEC-17", "BT-114 Rounding amount", "PayableRoundingAmount", "RoundingAmount"),
          ("BR-DEC-18", "BT-115 Amount due for payment", "PayableAmount", "DuePayableAmount"))
BREAKDOWN = (("BR-DEC-19", "BT-116 VAT category taxable amount", "TaxableAmount", "BasisAmount"),
             ("BR-DEC-20", "BT-117 VAT category tax amount", "TaxAmount", "CalculatedAmount"))
LINE = (("BR-DEC-23", "BT-131 Invoice line net amount", "LineExtensionAmount", None),)
LINE_ALLOWANCE = (("BR-DEC-24", "BT-136 Invoice line allowance amount", "Amount", "ActualAmount"),
                  ("BR-DEC-25", "BT-137 Invoice line allowance base amount", "BaseAmount", "BasisAmount"))
LINE_CHARGE = (("BR-DEC-27", "BT-141 Invoice line charge amount", "Amount", "ActualAmount"),
               ("BR-DEC-28", "BT-142 Invoice line charge base amount", "BaseAmount", "BasisAmount"))
TOTAL_VAT = (("BR-DEC-13", "BT-110 Invoice total VAT amount"),
             ("BR-DEC-15", "BT-111 Invoice total VAT amount in accounting currency"))


def _decimals(raw: str) -> int:
    _, dot, after = raw.partition(".")
    return len(after) if dot else 0


def _check(out: list[Finding], table, parent, ns: str, syntax: str) -> None:
    for rule, term, ubl_tag, cii_tag in table:
        el = parent.find(ns + (ubl_tag if syntax == "ubl" else cii_tag))
        if el is None:
            continue
        raw = _vat.text_of(el)
        n = _decimals(raw)
        if n > 2:
            out.append(Finding(rule, FATAL, f"{rule}: {term} ({raw.strip()}) has {n} decimals; at most 2 are allowed.",
                               _vat.location(el)))


def check(doc) -> Iterable[Finding]:
    out: list[Finding] = []
    if doc.syntax == "ubl":
        _ubl(doc.root, out)
    else:
        _cii(doc.root, out)
    return out


# --------------------------------------------------------------------------- UBL
_U_AC = CAC + "AllowanceCharge"
_U_IND = CBC + "ChargeIndicator"
_U_LINES = (CAC + "InvoiceLine", CAC + "CreditNoteLine")


def _indicator(ac) -> bool | None:
    ind = ac.find(_U_IND)
    return _vat.as_bool(_vat.text_of(ind)) if ind is not None else None


def _ubl(root, out: list[Finding]) -> None:
    for child in root:
        tag = child.tag
        if tag == _U_AC:  # /ubl:Invoice/cac:AllowanceCharge[cbc:ChargeIndicator = false() | true()]
            ind = _indicator(child)
            if ind is not None:
                _check(out, CHARGE if ind else ALLOWANCE, child, CBC, "ubl")
    # cac:LegalMonetaryTotal, cac:TaxTotal/cac:TaxSubtotal, cac:InvoiceLine | cac:CreditNoteLine: anywhere
    for el in root.iter(CAC + "LegalMonetaryTotal", CAC + "TaxSubtotal", *_U_LINES):
        tag = el.tag
        if tag == CAC + "LegalMonetaryTotal":
            _check(out, TOTALS, el, CBC, "ubl")
        elif tag == CAC + "TaxSubtotal":
            parent = el.getparent()
            if parent is not None and parent.tag == CAC + "TaxTotal":
                _check(out, BREAKDOWN, el, CBC, "ubl")
        else:
            _check(out, LINE, el, CBC, "ubl")
            for ac in el.iterfind(_U_AC):  # //cac:InvoiceLine/cac:AllowanceCharge[cbc:ChargeIndicator = ...]
                ind = _indicator(ac)
                if ind is not None:
                    _check(out, LINE_CHARGE if ind else LINE_ALLOWANCE, ac, CBC, "ubl")


# --------------------------------------------------------------------------- CII
_C_HEADER = RAM + "ApplicableHeaderTradeSettlement"
_C_LINE_SETTLEMENT = RAM + "SpecifiedLineTradeSettlement"
_C_AC = RAM + "SpecifiedTradeAllowanceCharge"
_C_TOTALS = RAM + "SpecifiedTradeSettlementHeaderMonetarySummation"
_C_LINE_ITEM = RAM + "IncludedSupplyChainTradeLineItem"
_C_ATT = RAM + "ApplicableTradeTax"
_C_LINE_TOTAL = f"{_C_LINE_SETTLEMENT}/{RAM}SpecifiedTradeSettlementLineMonetarySummation/{RAM}LineTotalAmount"
_C_SETTLEMENT = f"{RSM}SupplyChainTradeTransaction/{_C_HEADER}/"


def _cii_indicators(ac) -> set[str]:
    """The udt:Indicator texts of ram:ChargeIndicator (contexts compare them as strings: 'true' / 'false')."""
    return {_vat.text_of(i) for i in ac.iterfind(f"{RAM}ChargeIndicator/{UDT}Indicator")}


def _two_decimals(raw: str) -> bool:
    """. = round(. * 100) div 100, in doubles."""
    v = _vat.to_num(raw)
    return v is not None and v == math.floor(v * 100 + 0.5) / 100


def _cii(root, out: list[Finding]) -> None:
    invoice_currency = {_vat.text_of(e) for e in root.iterfind(_C_SETTLEMENT + RAM + "InvoiceCurrencyCode")}
    tax_currency = {_vat.text_of(e) for e in root.iterfind(_C_SETTLEMENT + RAM + "TaxCurrencyCode")}
    for el in root.iter(_C_AC, _C_TOTALS, _C_LINE_ITEM, _C_ATT):
        tag = el.tag
        parent = el.getparent()
        if tag == _C_AC:
            ptag = parent.tag if parent is not None else None
            if ptag == _C_HEADER:
                tables = (ALLOWANCE, CHARGE)
            elif ptag == _C_LINE_SETTLEMENT:
                tables = (LINE_ALLOWANCE, LINE_CHARGE)
            else:
                continue
            indicators = _cii_indicators(el)
            if "false" in indicators:
                _check(out, tables[0], el, RAM, "cii")
            if "true" in indicators:
                _check(out, tables[1], el, RAM, "cii")
        elif tag == _C_TOTALS:
            _check(out, TOTALS, el, RAM, "cii")
            _cii_total_vat(out, el, invoice_currency, tax_currency)
        elif tag == _C_LINE_ITEM:
            lta = el.find(_C_LINE_TOTAL)
            if lta is not None:
                raw = _vat.text_of(lta)
                if _decimals(raw) > 2:
                    rule, term, _, _ = LINE[0]
                    out.append(Finding(rule, FATAL, f"{rule}: {term} ({raw.strip()}) has {_decimals(raw)} decimals; "
                                                    "at most 2 are allowed.", _vat.location(lta)))
        elif parent is not None and parent.tag == _C_HEADER:  # VAT breakdown
            if _consumed_by_category_rule(el, parent):
                continue
            _check(out, BREAKDOWN, el, RAM, "cii")


def _consumed_by_category_rule(att, header) -> bool:
    """//rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax[CategoryCode = 'O'
    | 'L' | 'M'][upper-case(ram:TypeCode) = 'VAT'] is the context of the BR-O/BR-AF/BR-AG breakdown rules, which come
    first in the official pattern: the VAT breakdown rule (and BR-DEC-19/20 with it) never sees that element."""
    tx = header.getparent()
    if tx is None or tx.tag != RSM + "SupplyChainTradeTransaction":
        return False
    type_code = att.find(RAM + "TypeCode")
    if type_code is None or _vat.text_of(type_code).upper() != "VAT":
        return False
    return any(_vat.text_of(c) in ("O", "L", "M") for c in att.iterfind(RAM + "CategoryCode"))


def _cii_total_vat(out: list[Finding], totals, invoice_currency: set[str], tax_currency: set[str]) -> None:
    amounts = totals.findall(RAM + "TaxTotalAmount")
    if not amounts:
        return
    # BR-DEC-13: some ram:TaxTotalAmount[(@currencyID = BT-5 and . = round(. * 100) div 100) or not(@currencyID = BT-5)]
    if not any(
        (a.get("currencyID") in invoice_currency and _two_decimals(_vat.text_of(a)))
        or a.get("currencyID") not in invoice_currency
        for a in amounts
    ):
        _total_vat_finding(out, TOTAL_VAT[0], amounts, invoice_currency)
    # BR-DEC-15: some ram:TaxTotalAmount[(@currencyID = BT-6 and . = round(. * 100) div 100) or not(BT-6)]
    if tax_currency and not any(
        a.get("currencyID") in tax_currency and _two_decimals(_vat.text_of(a)) for a in amounts
    ):
        _total_vat_finding(out, TOTAL_VAT[1], amounts, tax_currency)


def _total_vat_finding(out: list[Finding], rule_term, amounts, currencies: set[str]) -> None:
    rule, term = rule_term
    target = next((a for a in amounts if a.get("currencyID") in currencies), amounts[0])
    raw = _vat.text_of(target).strip()
    if target.get("currencyID") in currencies:
        msg = f"{rule}: {term} ({raw}) shall have at most 2 decimals."
    else:
        msg = f"{rule}: {term} in currency {'/'.join(sorted(currencies))} is missing or has more than 2 decimals."
    out.append(Finding(rule, FATAL, msg, _vat.location(target)))
