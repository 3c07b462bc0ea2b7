"""Calculation and conditional rules BR-CO-* (EN 16931 "common" rules).

The sums follow the official Schematron's arithmetic so that edge cases agree:

* UBL casts every operand with ``xs:decimal`` – exact decimal arithmetic, rounded with the
  ``round(x * 10 * 10) div 100`` idiom (half towards +infinity: :func:`round2`).
* CII sums untyped values (``sum(ram:X)``), which XPath evaluates in ``xs:double``; BR-CO-10,
  BR-CO-11, BR-CO-12 and BR-CO-14 therefore sum in floating point here too.
* Paid amount / rounding amount are tested with their effective boolean value in BR-CO-16,
  so a present ``0.00`` counts as absent – as in the official rule.

BR-CO-05…08 (reason code and text must agree) and CII BR-CO-27 are asserted ``true()``
upstream: they can never fail and are not implemented. BR-CO-25 was removed in 1.3.16.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from ..document import Document
from ..findings import Finding
from ..model import Invoice, Party
from ._helpers import HALF, cii_breakdown_shadowed, dec, fatal, fmt, fround2, num, pass_elements, round2, xround
from .core import RAM, _child, _children, _indicator_is, is_vat_scheme, is_vat_scheme_text

# a check appends its findings to the list it is given (cheaper than a generator per check)
Check = Callable[[Invoice, str, list[Finding]], None]

# BR-CO-09 prefixes, exactly as the official rule lists them per syntax (UBL tests containment of the
# first two characters in the space-separated list, CII tests " XX " so only whole codes match).
UBL_VAT_PREFIXES = (
    "AD AE AF AG AI AL AM AN AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BL BJ BM BN BO BR BS BT BV BW BY "
    "BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CX CY CZ DE DJ DK DM DO DZ EC EE EG EH EL ER ES ET FI FJ FK FM "
    "FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT "
    "JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN "
    "MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT "
    "PW PY QA RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR ST SV SY SZ TC TD TF TG TH TJ TK TL TM TN TO "
    "TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
)
CII_VAT_PREFIXES = (
    " 1A AD AE AF AG AI AL AM AN AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BL BJ BM BN BO BQ BR BS BT BV BW "
    "BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH EL ER ES ET FI FJ "
    "FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR "
    "IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML "
    "MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR "
    "PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR ST SV SX SY SZ TC TD TF TG TH TJ TK "
    "TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XI YE YT ZA ZM ZW "
)


_d = dec  # (an alias, not a wrapper: one call less per amount)


def _fsum(items: Iterable[Any]) -> float:
    """XPath sum() over untyped nodes: xs:double, in document order; NaN poisons the sum."""
    total = 0.0
    for i in items:
        total += num(i)
    return total


def _double_to_decimal(x: float) -> Decimal | None:
    if not math.isfinite(x):  # NaN, ±INF
        return None
    return Decimal(repr(x))


# ------------------------------------------------------------------ BR-CO-03, BR-CO-04, BR-CO-18
_TAX_POINT_DATE = RAM + "TaxPointDate"
_DUE_DATE_TYPE_CODE = RAM + "DueDateTypeCode"
CII_TAGS = (
    _TAX_POINT_DATE,
    _DUE_DATE_TYPE_CODE,
)  # what BR-CO-03 reads (syntax_cii gathers them: _helpers.pass_elements)


def _tax_point(inv: Invoice, syntax: str, out: list[Finding], elements: list | None = None) -> None:
    """BR-CO-03; ``elements`` are the CII syntax pass's ``root.iter(*CII_TAGS)`` (None: walk the tree here)."""
    msg = "BT-7 Value added tax point date and BT-8 Value added tax point date code are mutually exclusive."
    if syntax == "ubl":
        if inv.tax_point_date is not None and inv.tax_point_date_code is not None:
            out.append(fatal("BR-CO-03", msg, inv.tax_point_date))
        return
    # CII binding: ((//ram:TaxPointDate) and not(//ram:DueDateTypeCode)) or ... – a document-wide test, evaluated
    # in each header breakdown's context: it fails in all of them as soon as both occur anywhere in the invoice
    if not inv.vat_breakdown or inv.el is None:
        return
    seen: set[str] = set()
    for el in elements if elements is not None else inv.el.iter(*CII_TAGS):
        seen.add(el.tag)
        if len(seen) == 2:
            break
    else:
        return
    for b in inv.vat_breakdown:
        if cii_breakdown_shadowed(b.el):
            continue  # context of BR-O/BR-AF/BR-AG in the official CII pattern (see _helpers)
        out.append(fatal("BR-CO-03", msg, b))


def _line_vat(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    for ln in inv.lines:
        v = ln.vat
        if syntax == "ubl":
            ok = v is not None and v.category is not None and is_vat_scheme(v.tax_scheme, syntax)
        else:
            ok = v is not None and v.category is not None and is_vat_scheme(v.tax_scheme, syntax)
            if not ok:  # the first line ApplicableTradeTax did not qualify: look at any others
                ok = any(
                    _child(t, RAM + "CategoryCode") is not None
                    and (_text(_child(t, RAM + "TypeCode")) or "").upper() == "VAT"
                    for t in _line_trade_taxes(ln)
                )
        if not ok:
            out.append(fatal("BR-CO-04", "The invoice line has no BT-151 Invoiced item VAT category code.", ln))
    if syntax == "ubl":
        if not inv.vat_breakdown:
            out.append(fatal("BR-CO-18", "The invoice has no VAT breakdown (BG-23): at least one is required.", inv.el))
    elif not inv.vat_breakdown:
        for ln in inv.lines:
            out.append(fatal("BR-CO-18", "The invoice has no VAT breakdown (BG-23): at least one is required.", ln))


def _text(el: Any) -> str | None:
    return None if el is None else (el.text or "")


def _line_trade_taxes(ln: Any) -> list[Any]:
    out = []
    for s in _children(ln.el, RAM + "SpecifiedLineTradeSettlement"):
        out.extend(_children(s, RAM + "ApplicableTradeTax"))
    return out


# ------------------------------------------------------------------ BR-CO-09
def _vat_prefixes(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    parties: list[Party] = [p for p in (inv.seller, inv.buyer, inv.payee, inv.tax_representative) if p is not None]
    for p in parties:
        for cid, scheme in p.tax_ids:
            if syntax == "ubl":
                if not is_vat_scheme_text(scheme):
                    continue
                ok = cid.raw[:2] in UBL_VAT_PREFIXES
            else:
                if scheme != "VA":
                    continue
                ok = f" {cid.raw[:2]} " in CII_VAT_PREFIXES
            if not ok:
                out.append(
                    fatal(
                        "BR-CO-09",
                        f"VAT identifier {cid.text!r} shall start with an ISO 3166-1 alpha-2 country "
                        "prefix (EL for Greece) (BT-31/BT-48/BT-63).",
                        cid,
                    )
                )


# ------------------------------------------------------------------ document totals
INVOICE_LINE = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}InvoiceLine"


def _line_sum_ubl(inv: Invoice, invoice_lines: bool) -> Decimal:
    """Σ BT-131 over the cac:InvoiceLine (or the cac:CreditNoteLine) elements."""
    total = Decimal(0)
    for ln in inv.lines:
        if (ln.el.tag == INVOICE_LINE) is not invoice_lines:
            continue
        v = _d(ln.net_amount)
        if v is not None:
            total += v
    return total


def _br_co_15(inv, expected, syntax: str, currency: str, in_currency: list) -> Finding:
    """BR-CO-15 (BT-112 = BT-109 + BT-110), as both syntaxes report it, saying what failed: the sum, or the count of
    VAT totals in the invoice currency (UBL requires exactly one; CII, without one, BT-112 = BT-109)."""
    with_vat = inv.totals.tax_inclusive if inv.totals else None
    without_vat = inv.totals.tax_exclusive if inv.totals else None
    head = f"BT-112 Invoice total amount with VAT ({fmt(with_vat)})"
    count = len(in_currency)
    totals = f"{count} VAT total{'' if count == 1 else 's'} (BT-110) in its currency BT-5 '{currency}'"
    if count == 1 and expected is not None:
        message = f"{head} ≠ BT-109 + BT-110 ({fmt(expected)})."
    elif count == 1:
        message = (
            f"{head} ≠ BT-109 + BT-110, which cannot be computed from BT-109 ({fmt(without_vat)}) and BT-110 "
            f"({fmt(in_currency[0])})."
        )
    elif syntax == "cii" and count == 0:
        message = f"{head} ≠ BT-109 Invoice total amount without VAT ({fmt(without_vat)}), as the invoice has {totals}."
    elif syntax == "cii":
        message = (
            f"{head} ≠ BT-109 ({fmt(without_vat)}), and BT-109 + BT-110 needs exactly one BT-110: the invoice has "
            f"{totals}."
        )
    else:
        message = f"The invoice has {totals}: exactly one is required, for BT-112 ({fmt(with_vat)}) = BT-109 + BT-110."
    return fatal("BR-CO-15", message, with_vat or inv.el)


def _totals(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    t = inv.totals
    if t is None:
        return
    lt, at, ct, te = t.line_total, t.allowance_total, t.charge_total, t.tax_exclusive
    allowances = [ac for ac in inv.allowance_charges if ac.is_charge is False]
    charges = [ac for ac in inv.allowance_charges if ac.is_charge is True]

    # BR-CO-10 BT-106 = Σ BT-131
    if syntax == "ubl":
        # the official rule accepts either the sum over invoice lines or the one over credit note lines
        sums = (round2(_line_sum_ubl(inv, True)), round2(_line_sum_ubl(inv, False)))
        expected: Decimal | None = sums[0] if inv.document == "Invoice" else sums[1]
        v = _d(lt)
        ok = v is not None and v in sums
    else:
        expected = _double_to_decimal(_fsum(ln.net_amount for ln in inv.lines if ln.net_amount is not None))
        expected = round2(expected) if expected is not None else None
        v = _d(lt)
        ok = v is not None and expected is not None and v == expected
    if not ok:
        out.append(
            fatal(
                "BR-CO-10",
                f"BT-106 Sum of Invoice line net amount ({fmt(lt)}) ≠ Σ BT-131 Invoice line net amounts "
                f"({fmt(expected)}).",
                lt or t,
            )
        )

    # BR-CO-11 / BR-CO-12 BT-107 = Σ BT-92, BT-108 = Σ BT-99
    for rule, total, items, label, item_label in (
        ("BR-CO-11", at, allowances, "BT-107 Sum of allowances on document level", "BT-92 allowance amounts"),
        ("BR-CO-12", ct, charges, "BT-108 Sum of charges on document level", "BT-99 charge amounts"),
    ):
        if total is None and not items:
            continue
        amounts = [ac.amount for ac in items if ac.amount is not None]
        if syntax == "ubl":
            s: Any = round2(sum((_d(a) or Decimal(0) for a in amounts), Decimal(0)))
            ok = total is not None and _d(total) is not None and _d(total) == s
        else:
            s = fround2(_fsum(amounts))
            ok = total is not None and num(total) == s
        if not ok:
            out.append(fatal(rule, f"{label} ({fmt(total)}) ≠ Σ {item_label} ({fmt(s)}).", total or t))

    # BR-CO-13 BT-109 = BT-106 - BT-107 + BT-108
    vte, vlt, vat_, vct = _d(te), _d(lt), _d(at), _d(ct)
    exp13: Decimal | None = None
    if syntax == "ubl":
        if ct is not None and at is not None:
            exp13 = _r2(_add(vlt, vct, _neg(vat_)))
        elif at is not None:
            exp13 = _r2(_add(vlt, _neg(vat_)))
        elif ct is not None:
            exp13 = _r2(_add(vlt, vct))
        else:
            exp13 = vlt
        ok = vte is not None and exp13 is not None and vte == exp13
    else:
        candidates = [_r2(_add(vlt, _neg(vat_), vct))]
        if ct is None:
            candidates.append(_r2(_add(vlt, _neg(vat_))))
        if at is None:
            candidates.append(_r2(_add(vlt, vct)))
        if ct is None and at is None:
            candidates.append(_r2(vlt))
        ok = vte is not None and any(c is not None and c == vte for c in candidates)
        exp13 = None if ok else next((c for c in candidates if c is not None), None)  # (for the message)
    if not ok:
        out.append(
            fatal(
                "BR-CO-13",
                f"BT-109 Invoice total amount without VAT ({fmt(te)}) ≠ BT-106 - BT-107 + BT-108 ({fmt(exp13)}).",
                te or t,
            )
        )

    # BR-CO-16 BT-115 = BT-112 - BT-113 + BT-114
    due, grand, paid, rnd = _d(t.payable), _d(t.tax_inclusive), _d(t.prepaid), _d(t.rounding)
    p = paid is not None and paid != 0
    r = rnd is not None and rnd != 0
    if syntax == "ubl":
        ok = (
            (p and not r and _eq(due, _r2(_add(grand, _neg(paid)))))
            or (not p and not r and _eq(due, grand))
            or (p and r and _eq(_r2(_add(due, _neg(rnd))), _r2(_add(grand, _neg(paid)))))
            or (not p and r and _eq(_r2(_add(due, _neg(rnd))), grand))
        )
    else:
        # (the usual case, no paid and no rounding amount, tested first: the terms have no side effects)
        ok = (
            (not p and not r and _eq(due, grand))
            or _eq(due, _add(grand, _neg(paid), rnd))
            or (not p and _eq(due, _add(grand, rnd)))
            or (not r and _eq(due, _add(grand, _neg(paid))))
        )
    if not ok:
        expected16 = _add(grand, _neg(paid) if p else Decimal(0), rnd if r else Decimal(0))
        out.append(
            fatal(
                "BR-CO-16",
                f"BT-115 Amount due for payment ({fmt(t.payable)}) ≠ BT-112 - BT-113 + BT-114 ({fmt(expected16)}).",
                t.payable or t,
            )
        )


def _add(*xs: Decimal | None) -> Decimal | None:
    total = Decimal(0)
    for x in xs:
        if x is None:
            return None
        total += x
    return total


def _neg(x: Decimal | None) -> Decimal | None:
    return None if x is None else -x


def _r2(x: Decimal | None) -> Decimal | None:
    return None if x is None else round2(x)


def _eq(a: Decimal | None, b: Decimal | None) -> bool:
    return a is not None and b is not None and a == b


# ------------------------------------------------------------------ BR-CO-14, BR-CO-15
def _vat_totals(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    cur = inv.currency.raw if inv.currency is not None else None
    if syntax == "ubl":
        # every document level cac:TaxTotal with subtotals (Invoice and CreditNote alike in 1.3.16)
        for tt in inv.tax_totals:
            if not tt.subtotals:
                continue
            s = round2(sum((_d(b.tax_amount) or Decimal(0) for b in tt.subtotals), Decimal(0)))
            v = _d(tt.amount)
            if v is None or v != s:
                out.append(
                    fatal(
                        "BR-CO-14",
                        f"BT-110 Invoice total VAT amount ({fmt(tt.amount)}) ≠ Σ BT-117 VAT "
                        f"category tax amounts ({fmt(s)}).",
                        tt.amount or tt,
                    )
                )
        if cur is not None:
            t = inv.totals
            in_cur = [tt.amount for tt in inv.tax_totals if tt.amount is not None and tt.amount.currency == cur]
            incl = _d(t.tax_inclusive) if t else None
            excl = _d(t.tax_exclusive) if t else None
            exp = _r2(_add(excl, _d(in_cur[0]))) if len(in_cur) == 1 else None
            if not _eq(incl, exp):
                out.append(_br_co_15(inv, exp, syntax, cur, in_cur))
        return
    # CII
    in_cur = [
        tt.amount
        for tt in inv.tax_totals
        if tt.amount is not None and cur is not None and tt.amount.el.get("currencyID") == cur
    ]
    s14 = fround2(_fsum(b.tax_amount for b in inv.vat_breakdown if b.tax_amount is not None))
    for a in in_cur:
        if num(a) != s14:
            out.append(
                fatal(
                    "BR-CO-14",
                    f"BT-110 Invoice total VAT amount ({fmt(a)}) ≠ Σ BT-117 VAT category tax amounts ({fmt(s14)}).",
                    a,
                )
            )
    t = inv.totals
    if cur is not None:
        grand = _d(t.tax_inclusive) if t else None
        basis = _d(t.tax_exclusive) if t else None
        exp = _r2(_add(basis, _d(in_cur[0]))) if len(in_cur) == 1 else None
        ok = (len(in_cur) == 1 and _eq(grand, exp)) or _eq(grand, basis)
        if not ok:
            out.append(_br_co_15(inv, exp, syntax, cur, in_cur))


# ------------------------------------------------------------------ BR-CO-17
def _category_tax(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    for b in inv.vat_breakdown:
        if syntax == "cii" and cii_breakdown_shadowed(b.el):
            continue  # context of BR-O/BR-AF/BR-AG in the official CII pattern (see _helpers)
        if syntax == "ubl" and not is_vat_scheme(b.tax_scheme, syntax):
            rate = None
        else:
            rate = b.rate
        pct = _d(rate)
        tax = _d(b.tax_amount)
        base = _d(b.taxable_amount)
        expected: Decimal | None = None
        if rate is not None and pct is not None:
            if _rounds_to_zero(rate):
                ok = tax is not None and _rounds_to_zero(b.tax_amount)
            else:
                if base is not None:
                    expected = round2(abs(base) * (pct / 100))
                # tolerance of 1 on absolute values: strict in UBL, inclusive in CII (CII unit cases ±1.00 pass)
                t = abs(tax) if tax is not None else None
                if t is None or expected is None:
                    ok = False
                elif syntax == "ubl":
                    ok = t - 1 < expected < t + 1
                else:
                    ok = t - 1 <= expected <= t + 1
        else:
            ok = rate is None and tax is not None and _rounds_to_zero(b.tax_amount)
        if not ok:
            if expected is None and pct is not None and base is not None:  # (for the message)
                expected = round2(abs(base) * (pct / 100))
            # the comparison is on absolute values; the amount to write has the base's sign (a negative invoice)
            if expected and base is not None and base < 0:
                expected = -expected
            tolerance = "less than 1" if syntax == "ubl" else "up to 1"
            out.append(
                fatal(
                    "BR-CO-17",
                    f"BT-117 VAT category tax amount ({fmt(b.tax_amount)}) ≠ BT-116 "
                    f"({fmt(b.taxable_amount)}) × BT-119 ({fmt(rate)}) / 100 = {fmt(expected)}, rounded to two "
                    f"decimals (a difference of {tolerance} is tolerated).",
                    b.tax_amount or b,
                )
            )


def _rounds_to_zero(x: Any) -> bool:
    """``round(x) = 0`` for an Amount with a value: -0.5 <= x < 0.5 when its text is short enough (at most 20
    characters, so at most 20 digits) for XPath round()'s decimal arithmetic to be exact; else that rounding."""
    v = x.value
    if len(x.raw) <= 20:
        return -HALF <= v < HALF
    return xround(v) == 0


# ------------------------------------------------------------------ BR-CO-19 … BR-CO-24, BR-CO-26
def _periods(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    for rule, period, label in [("BR-CO-19", inv.invoice_period, "invoicing period (BG-14)")] + [
        ("BR-CO-20", ln.period, "invoice line period (BG-26)") for ln in inv.lines
    ]:
        if period is None:
            continue
        if syntax == "ubl":
            # 1.3.16: an invoicing period carrying only BT-8 (DescriptionCode) is accepted
            ok = (
                period.start is not None
                or period.end is not None
                or (rule == "BR-CO-19" and period.description_code is not None)
            )
        else:
            ok = (
                period.start is not None
                or period.end is not None
                or any(_child(period.el, RAM + tag) is not None for tag in ("StartDateTime", "EndDateTime"))
            )
        if not ok:
            out.append(fatal(rule, f"The {label} is given without a start date or an end date.", period))


# (level, is charge) -> rule, the group, its reason and reason code business terms
_REASON_TERMS = {
    ("document level", False): ("BR-CO-21", "document level allowance (BG-20)", "BT-97", "BT-98"),
    ("document level", True): ("BR-CO-22", "document level charge (BG-21)", "BT-104", "BT-105"),
    ("invoice line", False): ("BR-CO-23", "invoice line allowance (BG-27)", "BT-139", "BT-140"),
    ("invoice line", True): ("BR-CO-24", "invoice line charge (BG-28)", "BT-144", "BT-145"),
}


def _reasons(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    groups = [
        (ac, _REASON_TERMS[("document level", c)])
        for ac in inv.allowance_charges
        for c in (False, True)
        if _indicator_is(ac, c, syntax)
    ]
    for ln in inv.lines:
        if not ln.allowance_charges:
            continue
        groups.extend(
            (ac, _REASON_TERMS[("invoice line", c)])
            for ac in ln.allowance_charges
            for c in (False, True)
            if _indicator_is(ac, c, syntax)
        )
    for ac, (rule, what, reason, code) in groups:
        if ac.reason is None and ac.reason_code is None:
            out.append(
                fatal(
                    rule,
                    f"Each {what} shall have a reason ({reason}) or a reason code ({code}), or both.",
                    ac,
                )
            )


def _seller_identified(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    s = inv.seller
    if s is None:
        return
    if syntax == "ubl":
        ok = (
            any(is_vat_scheme_text(sc) for _, sc in s.tax_ids)
            or bool(s.identifiers)
            or s.legal_registration is not None
        )
        where: Any = s.el.getparent() if s.el is not None and s.el.getparent() is not None else s
    else:
        ok = bool(s.identifiers) or s.legal_registration is not None or any(sc == "VA" for _, sc in s.tax_ids)
        where = s
    if not ok:
        out.append(
            fatal(
                "BR-CO-26",
                "The seller cannot be identified: give BT-29 Seller identifier, BT-30 Seller legal "
                "registration identifier and/or BT-31 Seller VAT identifier.",
                where,
            )
        )


# the checks that read the model only (_tax_point, BR-CO-03, also takes what the CII syntax pass handed over)
CHECKS: tuple[Check, ...] = (
    _line_vat,
    _vat_prefixes,
    _totals,
    _vat_totals,
    _category_tax,
    _periods,
    _reasons,
    _seller_identified,
)


def check(doc: Document) -> Iterable[Finding]:
    inv: Invoice = doc.invoice
    out: list[Finding] = []
    syntax = doc.syntax
    _tax_point(inv, syntax, out, pass_elements(doc, "calculations") if syntax == "cii" else None)
    for c in CHECKS:
        c(inv, syntax, out)
    return out


__all__ = ["check", "CHECKS", "UBL_VAT_PREFIXES", "CII_VAT_PREFIXES"]
