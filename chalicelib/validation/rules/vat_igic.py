"""VAT category L, IGIC, Canary Islands (BR-AF-01 … BR-AF-10; the standard calls them BR-IG-*)."""

from __future__ import annotations

from collections.abc import Iterable

from ..findings import Finding
from . import _vat

FAMILY = _vat.Family(
    code="L",
    breakdown_required="BR-AF-01",
    line_parties="BR-AF-02",
    allowance_parties="BR-AF-03",
    charge_parties="BR-AF-04",
    line_rate="BR-AF-05",
    allowance_rate="BR-AF-06",
    charge_rate="BR-AF-07",
    taxable_amount="BR-AF-08",
    tax_amount="BR-AF-09",
    exemption_reason="BR-AF-10",
    parties=_vat.SELLER,
    rate=_vat.NON_NEGATIVE,
    taxable=_vat.PER_RATE,
    tax=_vat.RATE_PRODUCT,
    reason=_vat.REASON_FORBIDDEN,
    cii_rate=_vat.POSITIVE,  # the CII binding of BR-AF-05/06/07 tests "> 0", the UBL one ">= 0"
)


def check(doc) -> Iterable[Finding]:
    return _vat.run(FAMILY, doc)
