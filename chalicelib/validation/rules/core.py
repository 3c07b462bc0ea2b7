"""Core EN 16931 business rules BR-01 … BR-65 (presence, cardinality of groups, simple conditions).

Each rule is a small function of the semantic model, written once, with the syntax binding
differences of the official Schematron (UBL vs CII) spelled out where they matter:

* "non-empty" in UBL is the XPath ``(x) != ''`` (whitespace counts as content), in CII it is
  ``normalize-space(x) != ''`` – see :func:`filled`.
* A few CII rules are evaluated at the root (they fire even when the enclosing group is
  absent: BR-09, BR-11, BR-20), where UBL evaluates them inside the group.
* BR-51 is a warning in release 1.3.16.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..document import Document
from ..findings import Finding
from ..model import AllowanceCharge, Field, Invoice, Party
from ._helpers import cii_breakdown_shadowed, fatal, num, warning

RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"
UDT = "{urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100}"


# ------------------------------------------------------------------ syntax-aware predicates
def filled(x: Field | None, syntax: str) -> bool:
    """UBL ``(x) != ''`` / CII ``normalize-space(x) != ''``."""
    if x is None:
        return False
    return x.raw != "" if syntax == "ubl" else x.raw.strip() != ""


def is_vat_scheme(scheme: Field | None, syntax: str) -> bool:
    """UBL ``TaxScheme/normalize-space(upper-case(cbc:ID))='VAT'`` / CII ``upper-case(ram:TypeCode)='VAT'``."""
    if scheme is None:
        return False
    return (scheme.raw.strip() if syntax == "ubl" else scheme.raw).upper() == "VAT"


def _child(el: Any, tag: str) -> Any:
    if el is None:
        return None
    for c in el[:]:
        if c.tag == tag:
            return c
    return None


def _children(el: Any, tag: str) -> list[Any]:
    return [c for c in el if c.tag == tag] if el is not None else []


# ------------------------------------------------------------------ BG-0 invoice level
# a check appends its findings to the list it is given (cheaper than a generator per check and per line)
Check = Callable[[Invoice, str, list[Finding]], None]


def _document_presence(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    root = inv.el
    if not filled(inv.customization_id, syntax):
        out.append(
            fatal(
                "BR-01",
                "BT-24 Specification identifier is missing: an invoice shall state the specification "
                "it follows (e.g. urn:cen.eu:en16931:2017).",
                inv.customization_id or root,
            )
        )
    if not filled(inv.number, syntax):
        out.append(fatal("BR-02", "BT-1 Invoice number is missing.", inv.number or root))
    issue = inv.issue_date
    if syntax == "cii" and issue is not None and issue.format != "102":
        issue = None
    if not filled(issue, syntax):
        out.append(fatal("BR-03", "BT-2 Invoice issue date is missing.", inv.issue_date or root))
    if not filled(inv.type_code, syntax):
        out.append(fatal("BR-04", "BT-3 Invoice type code is missing.", inv.type_code or root))
    if not filled(inv.currency, syntax):
        out.append(fatal("BR-05", "BT-5 Invoice currency code is missing.", inv.currency or root))
    seller, buyer = inv.seller, inv.buyer
    if not filled(seller.name if seller else None, syntax):
        out.append(
            fatal("BR-06", "BT-27 Seller name is missing (the seller's legal registration name).", seller or root)
        )
    if not filled(buyer.name if buyer else None, syntax):
        out.append(fatal("BR-07", "BT-44 Buyer name is missing (the buyer's legal registration name).", buyer or root))
    if seller is None or seller.address is None:
        out.append(fatal("BR-08", "BG-5 Seller postal address is missing.", seller or root))
    if buyer is None or buyer.address is None:
        out.append(fatal("BR-10", "BG-8 Buyer postal address is missing.", buyer or root))
    # BR-09 / BR-11: UBL checks inside the address, CII at the root (fires without an address too)
    for rule, party, label in (
        ("BR-09", seller, "BT-40 Seller country code"),
        ("BR-11", buyer, "BT-55 Buyer country code"),
    ):
        address = party.address if party is not None else None
        if address is None and syntax == "ubl":
            continue
        if not filled(address.country if address else None, syntax):
            out.append(fatal(rule, f"{label} is missing from the postal address.", address or party or root))
    if not inv.lines:
        out.append(fatal("BR-16", "An invoice shall have at least one invoice line (BG-25).", root))


def _tax_currency(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    """BR-53 BT-111 is required when BT-6 is given."""
    tc = inv.tax_currency
    if tc is None:
        return
    currencies = {t.amount.currency for t in inv.tax_totals if t.amount is not None}
    if syntax == "ubl":
        ok = tc.raw in currencies
    else:
        if inv.totals is None:  # CII evaluates BR-53 inside the monetary summation
            return
        ok = tc.raw in currencies and not (inv.currency is not None and inv.currency.raw == tc.raw)
    if not ok:
        out.append(
            fatal(
                "BR-53",
                f"BT-6 VAT accounting currency code is {tc.text!r} but BT-111 Invoice total VAT amount "
                "in accounting currency (a VAT total in that currency) is missing.",
                tc,
            )
        )


def _totals_presence(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    t = inv.totals
    if t is None:
        return
    for rule, value, label in (
        ("BR-12", t.line_total, "BT-106 Sum of Invoice line net amount"),
        ("BR-13", t.tax_exclusive, "BT-109 Invoice total amount without VAT"),
        ("BR-14", t.tax_inclusive, "BT-112 Invoice total amount with VAT"),
        ("BR-15", t.payable, "BT-115 Amount due for payment"),
    ):
        if value is None:
            out.append(fatal(rule, f"{label} is missing from the document totals (BG-22).", t))


# ------------------------------------------------------------------ parties
def _payee(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    """BR-17 the payee name is required when the payee differs from the seller."""
    payee, seller = inv.payee, inv.seller
    if payee is None:
        return
    if syntax == "ubl":
        names = {n.raw for n in payee.party_names}
        seller_names = {n.raw for n in seller.party_names} if seller else set()
        ids = {i.raw for i in payee.identifiers}
        seller_ids = {i.raw for i in seller.identifiers} if seller else set()
        reg = {payee.registration_name.raw} if payee.registration_name is not None else set()
        seller_reg = {seller.registration_name.raw} if seller and seller.registration_name is not None else set()
        ok = bool(names) and not (names & seller_names) and not (ids & seller_ids) and not (reg & seller_reg)
    else:
        name = {payee.name.raw} if payee.name is not None else set()
        seller_name = {seller.name.raw} if seller and seller.name is not None else set()
        ids = {i.raw for i in payee.identifiers if i.el.tag == RAM + "ID"}
        seller_ids = {i.raw for i in seller.identifiers if i.el.tag == RAM + "ID"} if seller else set()
        reg = _legal_ids(payee)
        seller_reg = _legal_ids(seller) if seller else set()
        ok = bool(name) and not (name & seller_name) and not (ids & seller_ids) and not (reg & seller_reg)
    if not ok:
        out.append(
            fatal(
                "BR-17",
                "BT-59 Payee name is missing, or the payee (BG-10) repeats the seller: give the payee "
                "name only when the payee differs from the seller.",
                payee,
            )
        )


def _legal_ids(party: Party) -> set[str]:
    org = _child(party.el, RAM + "SpecifiedLegalOrganization")
    return {c.text or "" for c in _children(org, RAM + "ID")}


def _tax_representative(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    rep = inv.tax_representative
    if rep is None:
        return
    if syntax == "ubl":
        has_name = any(n.raw != "" for n in rep.party_names)
    else:
        has_name = rep.name is not None
    if not has_name:
        out.append(fatal("BR-18", "BT-62 Seller tax representative name is missing.", rep))
    if rep.address is None:
        out.append(fatal("BR-19", "BG-12 Seller tax representative postal address is missing.", rep))
    if syntax == "ubl":
        if rep.address is not None and not filled(rep.address.country, syntax):
            out.append(fatal("BR-20", "BT-69 Tax representative country code is missing.", rep.address))
    elif rep.address is None or rep.address.country is None:
        out.append(fatal("BR-20", "BT-69 Tax representative country code is missing.", rep.address or rep))
    if syntax == "ubl":
        ok = any(is_vat_scheme_text(s) for _, s in rep.tax_ids)
    else:
        ok = (
            rep.vat_id is not None
            and rep.vat_id.raw.strip() != ""
            or any(s == "VA" and f.raw.strip() != "" for f, s in rep.tax_ids)
        )
    if not ok:
        out.append(fatal("BR-56", "BT-63 Seller tax representative VAT identifier is missing.", rep))


def is_vat_scheme_text(scheme: str | None) -> bool:
    return scheme is not None and scheme.strip().upper() == "VAT"


def _electronic_addresses(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    for rule, party, label in (
        ("BR-62", inv.seller, "BT-34 Seller electronic address"),
        ("BR-63", inv.buyer, "BT-49 Buyer electronic address"),
    ):
        if party is None:
            continue
        if syntax == "ubl":
            ea = party.electronic_address
            if ea is not None and ea.el.get("schemeID") is None:
                out.append(fatal(rule, f"{label} has no scheme identifier (@schemeID).", ea))
        else:
            ea = party.electronic_address
            if (
                ea is not None
                and (ea.el.get("schemeID") or "").strip()
                and ea.el.getparent() is _child(party.el, RAM + "URIUniversalCommunication")
            ):
                continue
            comms = _children(party.el, RAM + "URIUniversalCommunication")
            if not comms:
                continue
            uri = _child(comms[0], RAM + "URIID")
            if uri is None or (uri.get("schemeID") or "").strip() == "":
                where = uri if uri is not None else comms[0]
                out.append(fatal(rule, f"{label} has no scheme identifier (@schemeID).", where))


def _deliver_to(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    d = inv.delivery
    if d is None or d.address is None:
        return
    if (d.address.country is None) if syntax == "ubl" else not filled(d.address.country, syntax):
        out.append(
            fatal("BR-57", "BT-80 Deliver to country code is missing from the deliver to address (BG-15).", d.address)
        )


# ------------------------------------------------------------------ lines
def _lines(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    for ln in inv.lines:
        if not filled(ln.id, syntax):
            out.append(fatal("BR-21", "BT-126 Invoice line identifier is missing.", ln))
        if ln.quantity is None:
            out.append(fatal("BR-22", "BT-129 Invoiced quantity is missing from the invoice line.", ln))
        if ln.quantity is None or ln.quantity.el.get("unitCode") is None:
            out.append(fatal("BR-23", "BT-130 Invoiced quantity unit of measure code is missing.", ln.quantity or ln))
        if ln.net_amount is None:
            out.append(fatal("BR-24", "BT-131 Invoice line net amount is missing.", ln))
        item = ln.item
        if not filled(item.name if item else None, syntax):
            out.append(fatal("BR-25", "BT-153 Item name is missing from the invoice line.", item or ln))
        price = ln.price
        net = price.net if price is not None else None
        if net is None:
            out.append(fatal("BR-26", "BT-146 Item net price is missing from the invoice line.", price or ln))
        if not _non_negative(net):
            out.append(fatal("BR-27", _not_negative("BT-146 Item net price", net), net or ln))
        gross_values = _gross_prices(ln, syntax) if price is not None else None
        if gross_values and not any(_non_negative(g) for g in gross_values):
            out.append(
                fatal(
                    "BR-28",
                    _not_negative("BT-148 Item gross price", gross_values[0]),
                    gross_values[0],
                )
            )
        if item is not None:
            for sid in item.standard_ids:
                if syntax == "ubl":
                    if sid.el.get("schemeID") is None:
                        out.append(fatal("BR-64", "BT-157 Item standard identifier has no scheme identifier.", sid))
            if syntax == "cii" and item.standard_ids and (item.standard_ids[0].el.get("schemeID") or "").strip() == "":
                out.append(
                    fatal("BR-64", "BT-157 Item standard identifier has no scheme identifier.", item.standard_ids[0])
                )
            _classifications(item, syntax, out)
            for attr in item.attributes:
                if attr.name is None or attr.value is None:
                    out.append(
                        fatal("BR-54", "An item attribute (BG-32) shall have both BT-160 name and BT-161 value.", attr)
                    )


def _non_negative(x: Field | None) -> bool:
    """``number(x) >= 0``; a decimal value answers without the conversion to a double (which only matters below 0:
    a tiny negative decimal is -0.0 as a double)."""
    v = getattr(x, "value", None)
    return (v is not None and v >= 0) or num(x) >= 0


def _gross_prices(ln: Any, syntax: str) -> list[Field]:
    price = ln.price
    if price is None:
        return []
    if syntax == "ubl":
        return [ac.base_amount for ac in price.allowance_charges if ac.base_amount is not None]
    return [price.gross] if price.gross is not None else []


def _classifications(item: Any, syntax: str, out: list[Finding]) -> None:
    if syntax == "ubl":
        for c in item.classifications:
            if c.el.get("listID") is None:
                out.append(
                    fatal("BR-65", "BT-158 Item classification identifier has no scheme identifier (@listID).", c)
                )
        return
    for code in item.classifications:  # the first ram:ClassCode of each ram:DesignatedProductClassification
        if (code.el.get("listID") or "").strip() == "":
            out.append(
                fatal("BR-65", "BT-158 Item classification identifier has no scheme identifier (@listID).", code)
            )


def _show(x: Field | None) -> str:
    return "missing" if x is None else (x.text or "empty")


def _not_negative(term: str, x: Field | None) -> str:
    """A missing or empty price is not described as a value given."""
    if x is None:
        return f"{term} is missing; it shall be given and not be negative."
    if not x.text:
        return f"{term} is empty; it shall be a number that is not negative."
    return f"{term} ({x.text}) shall not be negative."


# ------------------------------------------------------------------ periods
_START_DATE_TIME = RAM + "StartDateTime"
_END_DATE_TIME = RAM + "EndDateTime"
_DATE_TIME_STRING = UDT + "DateTimeString"


def _period_order(rule: str, period: Any, syntax: str, what: str, out: list[Finding]) -> None:
    if period is None:
        return
    s, e = period.start, period.end
    if syntax == "ubl":
        bad = s is not None and e is not None and s.value is not None and e.value is not None and e.value < s.value
    elif s is None and e is None:
        bad = False
    else:
        # the first wrappers (a date the reader kept sits in the first one)
        start_w = s.el.getparent() if s is not None else _child(period.el, _START_DATE_TIME)
        end_w = e.el.getparent() if e is not None else _child(period.el, _END_DATE_TIME)
        if start_w is None or end_w is None:
            bad = False
        else:
            ss = [c.text or "" for c in start_w if c.tag == _DATE_TIME_STRING and c.get("format") == "102"]
            es = [c.text or "" for c in end_w if c.tag == _DATE_TIME_STRING and c.get("format") == "102"]
            bad = not any(x >= y for x in es for y in ss)
    if bad:
        out.append(fatal(rule, f"The {what} end date ({_show(e)}) is before its start date ({_show(s)}).", e or period))


def _periods(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    _period_order("BR-29", inv.invoice_period, syntax, "invoicing period (BG-14)", out)
    for ln in inv.lines:
        if ln.period is not None:
            _period_order("BR-30", ln.period, syntax, "invoice line period (BG-26)", out)


# ------------------------------------------------------------------ allowances and charges
def _indicator_is(ac: AllowanceCharge, charge: bool, syntax: str) -> bool:
    if ac.indicator is None:
        return False
    if syntax == "ubl":
        return ac.is_charge is charge
    return ac.indicator.raw == ("true" if charge else "false")  # CII compares the udt:Indicator string


def _doc_allowance_charges(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    for ac in inv.allowance_charges:
        for charge, (amount_rule, vat_rule, reason_rule, what, amount_bt, vat_bt, reason_bt) in (
            (False, ("BR-31", "BR-32", "BR-33", "document level allowance (BG-20)", "BT-92", "BT-95", "BT-97/BT-98")),
            (True, ("BR-36", "BR-37", "BR-38", "document level charge (BG-21)", "BT-99", "BT-102", "BT-104/BT-105")),
        ):
            if not _indicator_is(ac, charge, syntax):
                continue
            if ac.amount is None:
                out.append(fatal(amount_rule, f"A {what} has no amount ({amount_bt}).", ac))
            if not (ac.vat_category is not None and is_vat_scheme(ac.vat_scheme, syntax)):
                out.append(fatal(vat_rule, f"A {what} has no VAT category code ({vat_bt}).", ac))
            if ac.reason is None and ac.reason_code is None:
                out.append(fatal(reason_rule, f"A {what} has neither a reason nor a reason code ({reason_bt}).", ac))


def _line_allowance_charges(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    for ln in inv.lines:
        for ac in ln.allowance_charges:
            for charge, (amount_rule, reason_rule, what, amount_bt, reason_bt) in (
                (False, ("BR-41", "BR-42", "invoice line allowance (BG-27)", "BT-136", "BT-139/BT-140")),
                (True, ("BR-43", "BR-44", "invoice line charge (BG-28)", "BT-141", "BT-144/BT-145")),
            ):
                if not _indicator_is(ac, charge, syntax):
                    continue
                if ac.amount is None:
                    out.append(fatal(amount_rule, f"An {what} has no amount ({amount_bt}).", ac))
                if ac.reason is None and ac.reason_code is None:
                    out.append(
                        fatal(reason_rule, f"An {what} has neither a reason nor a reason code ({reason_bt}).", ac)
                    )


# ------------------------------------------------------------------ VAT breakdown
def _vat_breakdown(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    for b in inv.vat_breakdown:
        if syntax == "cii" and cii_breakdown_shadowed(b.el):
            continue  # a category O/L/M breakdown is the context of BR-O/BR-AF/BR-AG, not of BR-45…48
        if b.taxable_amount is None:
            out.append(fatal("BR-45", "A VAT breakdown (BG-23) has no VAT category taxable amount (BT-116).", b))
        if b.tax_amount is None:
            out.append(fatal("BR-46", "A VAT breakdown (BG-23) has no VAT category tax amount (BT-117).", b))
        if syntax == "ubl":
            vat = is_vat_scheme(b.tax_scheme, syntax)
            has_code = vat and b.category is not None
            has_rate = vat and b.rate is not None
            is_o = vat and b.category is not None and b.category.raw.strip() == "O"
        else:
            has_code = b.category is not None
            has_rate = b.rate is not None
            is_o = b.category is not None and b.category.raw == "O"
        if not has_code:
            out.append(fatal("BR-47", "A VAT breakdown (BG-23) has no VAT category code (BT-118).", b))
        if not (has_rate or is_o):
            out.append(
                fatal(
                    "BR-48",
                    "A VAT breakdown (BG-23) has no VAT category rate (BT-119); only category O "
                    "(not subject to VAT) may omit it.",
                    b,
                )
            )


# ------------------------------------------------------------------ payment
_CREDIT_TRANSFER = ("30", "58")
# one wording for both syntaxes
_BR50 = "BT-84 Payment account identifier is missing from the credit transfer (BG-17)."
_BR61 = "Payment means {} (credit transfer) requires BT-84 Payment account identifier."


def _payments(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    for pi in inv.payment_instructions:
        if pi.code is None:
            out.append(fatal("BR-49", "A payment instruction (BG-16) has no payment means type code (BT-81).", pi))
        if syntax == "ubl":
            code_raw = pi.code.raw if pi.code is not None else None
            if code_raw in _CREDIT_TRANSFER:
                for ct in pi.transfers:
                    if not filled(ct.account, syntax):
                        out.append(fatal("BR-50", _BR50, ct))
            code = pi.code.text if pi.code is not None else ""
            if code in _CREDIT_TRANSFER and not any(ct.account is not None for ct in pi.transfers):
                out.append(fatal("BR-61", _BR61.format(code), pi))
            if pi.card is not None:
                pan = pi.card.pan.raw if pi.card.pan is not None else ""
                if len(pan) > 10:
                    out.append(
                        warning(
                            "BR-51",
                            "BT-87 Payment card primary account number shall not be given in full: "
                            "at most the first 6 and last 4 digits.",
                            pi.card.pan,
                        )
                    )
        else:
            if pi.code is not None and pi.code.raw in _CREDIT_TRANSFER:
                # release 1.3.16 binds BR-50/BR-61 to the payee (creditor) account
                for acct in _children(pi.el, RAM + "PayeePartyCreditorFinancialAccount"):
                    if _child(acct, RAM + "IBANID") is None and _child(acct, RAM + "ProprietaryID") is None:
                        out.append(fatal("BR-50", _BR50, acct))
                        out.append(fatal("BR-61", _BR61.format(pi.code.raw), acct))
            if pi.card is not None:
                pan = pi.card.pan.raw if pi.card.pan is not None else ""
                if len(pan) > 10:
                    out.append(
                        warning(
                            "BR-51",
                            "BT-87 Payment card primary account number shall not be given in full: "
                            "at most the first 6 and last 4 digits.",
                            pi.card.pan or pi.card,
                        )
                    )


# ------------------------------------------------------------------ references
def _references(inv: Invoice, syntax: str, out: list[Finding]) -> None:
    refs = list(inv.document_references)
    if syntax == "cii":
        for ln in inv.lines:
            refs.extend(ln.document_references)
    for ref in refs:
        if not filled(ref.id, syntax):
            out.append(
                fatal(
                    "BR-52",
                    "An additional supporting document (BG-24) has no supporting document reference (BT-122).",
                    ref,
                )
            )
    for pre in inv.preceding_invoices:
        ok = pre.number is not None if syntax == "ubl" else filled(pre.number, syntax)
        if not ok:
            out.append(
                fatal("BR-55", "A preceding invoice reference (BG-3) has no preceding invoice number (BT-25).", pre)
            )


CHECKS: tuple[Check, ...] = (
    _document_presence,
    _tax_currency,
    _totals_presence,
    _payee,
    _tax_representative,
    _electronic_addresses,
    _deliver_to,
    _lines,
    _periods,
    _doc_allowance_charges,
    _line_allowance_charges,
    _vat_breakdown,
    _payments,
    _references,
)


def check(doc: Document) -> Iterable[Finding]:
    inv: Invoice = doc.invoice
    syntax = doc.syntax
    out: list[Finding] = []
    for c in CHECKS:
        c(inv, syntax, out)
    return out


__all__ = ["check", "CHECKS", "filled", "is_vat_scheme", "is_vat_scheme_text"]
