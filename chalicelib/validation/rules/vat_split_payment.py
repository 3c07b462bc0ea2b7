"""VAT category B, "Split payment" (Italy): BR-B-01, BR-B-02."""

from __future__ import annotations

from collections.abc import Iterable

from ..findings import FATAL, Finding
from . import _vat

_MSG_01 = (
    "BR-B-01: VAT category B (Split payment) may only be used in a domestic Italian invoice; this invoice has "
    "a country code other than IT."
)
_MSG_02 = (
    "BR-B-02: an invoice using VAT category B (Split payment) shall not also use VAT category S "
    "(Standard rated) on lines, allowances or charges."
)
_U_TAXCAT_ID = f"{_vat.CAC}TaxCategory/{_vat.CBC}ID"
_U_SUBTOTAL_CAT_ID = f"{_vat.CAC}TaxTotal/{_vat.CAC}TaxSubtotal/{_vat.CAC}TaxCategory/{_vat.CBC}ID"
_U_SUBTOTAL_ID = f"{_vat.CAC}TaxTotal/{_vat.CAC}TaxSubtotal/{_vat.CBC}ID"
_U_ALLOWANCE_CAT_ID = f"{_vat.CAC}AllowanceCharge/{_vat.CAC}TaxCategory/{_vat.CBC}ID"


def _any(root, path: str, value: str) -> bool:
    return any(_vat.text_of(el) == value for el in root.iterfind(path))


def check(doc) -> Iterable[Finding]:
    f = _vat.facts(doc)
    if "B" not in f.codes:  # every test needs a category code B somewhere
        return []
    root = f.root
    out: list[Finding] = []
    if f.syntax == "ubl":
        # raw comparisons (no normalize-space, no tax scheme filter)
        line_b = any("B" in x.codes for x in f.line_cats)  # //cac:ClassifiedTaxCategory/cbc:ID = 'B'
        if line_b or any("B" in x.codes for x in f.all_tax_cats):  # //cac:TaxCategory/cbc:ID = 'B'
            if any(_vat.text_of(el) != "IT" for el in root.iter(_vat.CBC + "IdentificationCode")):
                out.append(Finding("BR-B-01", FATAL, _MSG_01, _vat.location(root)))
        has_b = line_b or _any(root, _U_SUBTOTAL_CAT_ID, "B") or _any(root, _U_ALLOWANCE_CAT_ID, "B")
        # the official test looks for 'S' in cac:TaxSubtotal/cbc:ID (sic), root allowances/charges and lines
        if has_b and (
            any("S" in x.codes for x in f.line_cats)
            or _any(root, _U_SUBTOTAL_ID, "S")
            or _any(root, _U_ALLOWANCE_CAT_ID, "S")
        ):
            out.append(Finding("BR-B-02", FATAL, _MSG_02, _vat.location(root)))
        return out
    codes = {code for x in f.all_tax_cats for code in x.codes} | {code for x in f.charge_cats for code in x.codes}
    if "B" in codes:  # //ram:CategoryCode = 'B'
        if any(_vat.text_of(el) != "IT" for el in root.iter(_vat.RAM + "CountryID")):
            out.append(Finding("BR-B-01", FATAL, _MSG_01, _vat.location(root)))
        if "S" in codes:
            out.append(Finding("BR-B-02", FATAL, _MSG_02, _vat.location(root)))
    return out
