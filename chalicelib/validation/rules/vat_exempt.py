"""VAT category E, "Exempt from VAT" (BR-E-01 … BR-E-10)."""

from __future__ import annotations

from collections.abc import Iterable

from ..findings import Finding
from . import _vat

FAMILY = _vat.Family(
    code="E",
    breakdown_required="BR-E-01",
    line_parties="BR-E-02",
    allowance_parties="BR-E-03",
    charge_parties="BR-E-04",
    line_rate="BR-E-05",
    allowance_rate="BR-E-06",
    charge_rate="BR-E-07",
    taxable_amount="BR-E-08",
    tax_amount="BR-E-09",
    exemption_reason="BR-E-10",
    parties=_vat.SELLER,
    rate=_vat.ZERO,
    taxable=_vat.WHOLE_CATEGORY,
    tax=_vat.ZERO_TAX,
    reason=_vat.REASON_REQUIRED,
)


def check(doc) -> Iterable[Finding]:
    return _vat.run(FAMILY, doc)
