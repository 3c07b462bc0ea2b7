"""VAT category AE, "VAT reverse charge" (BR-AE-01 … BR-AE-10)."""

from __future__ import annotations

from collections.abc import Iterable

from ..findings import Finding
from . import _vat

FAMILY = _vat.Family(
    code="AE",
    breakdown_required="BR-AE-01",
    line_parties="BR-AE-02",
    allowance_parties="BR-AE-03",
    charge_parties="BR-AE-04",
    line_rate="BR-AE-05",
    allowance_rate="BR-AE-06",
    charge_rate="BR-AE-07",
    taxable_amount="BR-AE-08",
    tax_amount="BR-AE-09",
    exemption_reason="BR-AE-10",
    parties=_vat.SELLER_AND_BUYER,
    rate=_vat.ZERO,
    taxable=_vat.WHOLE_CATEGORY,
    tax=_vat.ZERO_TAX,
    reason=_vat.REASON_REQUIRED,
)


def check(doc) -> Iterable[Finding]:
    return _vat.run(FAMILY, doc)
