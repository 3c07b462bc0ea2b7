"""VAT category S, "Standard rated" (BR-S-01 … BR-S-10)."""

from __future__ import annotations

from collections.abc import Iterable

from ..findings import Finding
from . import _vat

FAMILY = _vat.Family(
    code="S",
    breakdown_required="BR-S-01",
    line_parties="BR-S-02",
    allowance_parties="BR-S-03",
    charge_parties="BR-S-04",
    line_rate="BR-S-05",
    allowance_rate="BR-S-06",
    charge_rate="BR-S-07",
    taxable_amount="BR-S-08",
    tax_amount="BR-S-09",
    exemption_reason="BR-S-10",
    parties=_vat.SELLER,
    rate=_vat.POSITIVE,
    taxable=_vat.PER_RATE,
    tax=_vat.RATE_PRODUCT,
    reason=_vat.REASON_FORBIDDEN,
)


def check(doc) -> Iterable[Finding]:
    return _vat.run(FAMILY, doc)
