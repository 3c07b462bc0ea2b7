"""VAT category O, "Not subject to VAT" (BR-O-01 … BR-O-14)."""

from __future__ import annotations

from collections.abc import Iterable

from ..findings import FATAL, Finding
from . import _vat

FAMILY = _vat.Family(
    code="O",
    breakdown_required="BR-O-01",
    line_parties="BR-O-02",
    allowance_parties="BR-O-03",
    charge_parties="BR-O-04",
    line_rate="BR-O-05",
    allowance_rate="BR-O-06",
    charge_rate="BR-O-07",
    taxable_amount="BR-O-08",
    tax_amount="BR-O-09",
    exemption_reason="BR-O-10",
    parties=_vat.NO_VAT_IDS,
    rate=_vat.ABSENT,
    taxable=_vat.WHOLE_CATEGORY,
    tax=_vat.ZERO_TAX,
    reason=_vat.REASON_REQUIRED,
)


_MSG = {
    "BR-O-11": "BR-O-11: an invoice with a VAT breakdown (BG-23) for VAT category O (Not subject to VAT) shall not "
    "contain other VAT breakdowns.",
    "BR-O-12": "BR-O-12: an invoice with a VAT breakdown (BG-23) for VAT category O (Not subject to VAT) shall not "
    "contain invoice lines whose VAT category code (BT-151) is not O.",
    "BR-O-13": "BR-O-13: an invoice with a VAT breakdown (BG-23) for VAT category O (Not subject to VAT) shall not "
    "contain document level allowances whose VAT category code (BT-95) is not O.",
    "BR-O-14": "BR-O-14: an invoice with a VAT breakdown (BG-23) for VAT category O (Not subject to VAT) shall not "
    "contain document level charges whose VAT category code (BT-102) is not O.",
}


def check(doc) -> Iterable[Finding]:
    f = _vat.facts(doc)
    if "O" not in f.codes:
        return []
    out = _vat.run(FAMILY, doc)
    if f.syntax == "ubl":
        # Invoice context, once: exists(cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory[VAT]/cbc:ID[normalize-space()='O'])
        if not any(b.cat.vat and any(_vat.norm(c) == "O" for c in b.cat.codes) for b in f.breakdowns):
            return out
        fired = []
        if any(b.cat.vat and b.cat.code != "O" for b in f.breakdowns):
            fired.append("BR-O-11")
        if any(x.vat and x.code != "O" for x in f.line_cats):  # //cac:ClassifiedTaxCategory, anywhere
            fired.append("BR-O-12")
        for x in f.charge_cats:  # //cac:AllowanceCharge[ChargeIndicator]/cac:TaxCategory, anywhere
            if x.vat and x.code != "O":
                rule = {False: "BR-O-13", True: "BR-O-14"}.get(f.charge_index[id(x.parent)].indicator)
                if rule and rule not in fired:
                    fired.append(rule)
        out.extend(Finding(rule, FATAL, _MSG[rule], _vat.location(f.root)) for rule in sorted(fired))
        return out
    # CII: once per header ram:ApplicableTradeTax[CategoryCode = 'O'][upper-case(TypeCode) = 'VAT'];
    # BR-O-11/12 hold iff no ram:ApplicableTradeTax anywhere (header or line) has a CategoryCode other than O,
    # BR-O-13/14 iff no ram:CategoryTradeTax anywhere has one.
    contexts = [b for b in f.breakdowns if b.cat.vat and "O" in b.cat.codes and _vat.cii_in_transaction(b)]
    if not contexts:
        return out
    other_tax = any(code != "O" for x in f.all_tax_cats for code in x.codes)
    other_charge = any(code != "O" for x in f.charge_cats for code in x.codes)
    for b in contexts:
        loc = _vat.location(b.el)
        if other_tax:
            out.append(Finding("BR-O-11", FATAL, _MSG["BR-O-11"], loc))
            out.append(Finding("BR-O-12", FATAL, _MSG["BR-O-12"], loc))
        if other_charge:
            out.append(Finding("BR-O-13", FATAL, _MSG["BR-O-13"], loc))
            out.append(Finding("BR-O-14", FATAL, _MSG["BR-O-14"], loc))
    return out
