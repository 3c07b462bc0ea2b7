"""VAT category Z, "Zero rated" (BR-Z-01 … BR-Z-10)."""

from __future__ import annotations

from collections.abc import Iterable

from ..findings import Finding
from . import _vat

FAMILY = _vat.Family(
    code="Z",
    breakdown_required="BR-Z-01",
    line_parties="BR-Z-02",
    allowance_parties="BR-Z-03",
    charge_parties="BR-Z-04",
    line_rate="BR-Z-05",
    allowance_rate="BR-Z-06",
    charge_rate="BR-Z-07",
    taxable_amount="BR-Z-08",
    tax_amount="BR-Z-09",
    exemption_reason="BR-Z-10",
    parties=_vat.SELLER,
    rate=_vat.ZERO,
    taxable=_vat.WHOLE_CATEGORY,
    tax=_vat.ZERO_TAX,
    reason=_vat.REASON_FORBIDDEN,
)


def check(doc) -> Iterable[Finding]:
    return _vat.run(FAMILY, doc)
