"""VAT category G, "Export outside the EU" (BR-G-01 … BR-G-10)."""

from __future__ import annotations

from collections.abc import Iterable

from ..findings import Finding
from . import _vat

FAMILY = _vat.Family(
    code="G",
    breakdown_required="BR-G-01",
    line_parties="BR-G-02",
    allowance_parties="BR-G-03",
    charge_parties="BR-G-04",
    line_rate="BR-G-05",
    allowance_rate="BR-G-06",
    charge_rate="BR-G-07",
    taxable_amount="BR-G-08",
    tax_amount="BR-G-09",
    exemption_reason="BR-G-10",
    parties=_vat.SELLER_VAT,
    rate=_vat.ZERO,
    taxable=_vat.WHOLE_CATEGORY,
    tax=_vat.ZERO_TAX,
    reason=_vat.REASON_REQUIRED,
)


def check(doc) -> Iterable[Finding]:
    return _vat.run(FAMILY, doc)
