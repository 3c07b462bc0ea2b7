"""VAT category M, IPSI, Ceuta and Melilla (BR-AG-01 … BR-AG-10; the standard calls them BR-IP-*)."""

from __future__ import annotations

from collections.abc import Iterable

from ..findings import Finding
from . import _vat

FAMILY = _vat.Family(
    code="M",
    breakdown_required="BR-AG-01",
    line_parties="BR-AG-02",
    allowance_parties="BR-AG-03",
    charge_parties="BR-AG-04",
    line_rate="BR-AG-05",
    allowance_rate="BR-AG-06",
    charge_rate="BR-AG-07",
    taxable_amount="BR-AG-08",
    tax_amount="BR-AG-09",
    exemption_reason="BR-AG-10",
    parties=_vat.SELLER,
    rate=_vat.NON_NEGATIVE,
    taxable=_vat.PER_RATE,
    tax=_vat.RATE_PRODUCT,
    reason=_vat.REASON_FORBIDDEN,
)


def check(doc) -> Iterable[Finding]:
    return _vat.run(FAMILY, doc)
