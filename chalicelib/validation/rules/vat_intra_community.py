"""VAT category K, "Intra-community supply" (BR-IC-01 … BR-IC-12)."""

from __future__ import annotations

from collections.abc import Iterable

from ..findings import FATAL, Finding
from . import _vat

FAMILY = _vat.Family(
    code="K",
    breakdown_required="BR-IC-01",
    line_parties="BR-IC-02",
    allowance_parties="BR-IC-03",
    charge_parties="BR-IC-04",
    line_rate="BR-IC-05",
    allowance_rate="BR-IC-06",
    charge_rate="BR-IC-07",
    taxable_amount="BR-IC-08",
    tax_amount="BR-IC-09",
    exemption_reason="BR-IC-10",
    parties=_vat.SELLER_VAT_AND_BUYER_VAT,
    rate=_vat.ZERO,
    taxable=_vat.WHOLE_CATEGORY,
    tax=_vat.ZERO_TAX,
    reason=_vat.REASON_REQUIRED,
)


# element paths (_vat.find_path: the first match in document order, like find("a/b/…"))
_CAC, _CBC, _RAM = _vat.CAC, _vat.CBC, _vat.RAM
_DELIVERY_DATE = (_CAC + "Delivery", _CBC + "ActualDeliveryDate")
_INVOICE_PERIOD = f"{_vat.CAC}InvoicePeriod/*"
_DELIVER_TO_COUNTRY = tuple(
    p + t
    for p, t in (
        (_CAC, "Delivery"),
        (_CAC, "DeliveryLocation"),
        (_CAC, "Address"),
        (_CAC, "Country"),
        (_CBC, "IdentificationCode"),
    )
)
_CII_DELIVERY = (_vat.RSM + "SupplyChainTradeTransaction", _RAM + "ApplicableHeaderTradeDelivery")
_CII_DELIVERY_DATE = (
    *_CII_DELIVERY,
    _RAM + "ActualDeliverySupplyChainEvent",
    _RAM + "OccurrenceDateTime",
    _vat.UDT + "DateTimeString",
)
_CII_DELIVER_TO_COUNTRY = (*_CII_DELIVERY, _RAM + "ShipToTradeParty", _RAM + "PostalTradeAddress", _RAM + "CountryID")
_CII_PERIOD = (
    (_RAM + "BillingSpecifiedPeriod", _RAM + "StartDateTime"),
    (_RAM + "BillingSpecifiedPeriod", _RAM + "EndDateTime"),
)

_MSG_11 = (
    "BR-IC-11: an invoice with a VAT breakdown (BG-23) for VAT category K (Intra-community supply) shall "
    "give the Actual delivery date (BT-72) or the Invoicing period (BG-14)."
)
_MSG_12 = (
    "BR-IC-12: an invoice with a VAT breakdown (BG-23) for VAT category K (Intra-community supply) shall "
    "give the Deliver to country code (BT-80)."
)


def check(doc) -> Iterable[Finding]:
    f = _vat.facts(doc)
    if "K" not in f.codes:
        return []
    out = _vat.run(FAMILY, doc)
    root = f.root
    if f.syntax == "ubl":
        # Invoice context: exists(cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory[VAT]/cbc:ID[normalize-space(.) = 'K'])
        if any(b.cat.vat and any(_vat.norm(c) == "K" for c in b.cat.codes) for b in f.breakdowns):
            date = _vat.find_path(root, _DELIVERY_DATE)
            if not (date is not None and len(_vat.text_of(date)) > 1) and root.find(_INVOICE_PERIOD) is None:
                out.append(Finding("BR-IC-11", FATAL, _MSG_11, _vat.location(root)))
            country = _vat.find_path(root, _DELIVER_TO_COUNTRY)
            if not (country is not None and len(_vat.text_of(country)) > 1):
                out.append(Finding("BR-IC-12", FATAL, _MSG_12, _vat.location(root)))
        return out
    # CII: once per ram:CategoryCode[. = 'K'] of a header ram:ApplicableTradeTax with TypeCode VAT
    delivery_date = has_country = None  # (the same for every breakdown: looked up once)
    for b in f.breakdowns:
        if not (b.cat.vat and "K" in b.cat.codes and _vat.cii_in_transaction(b)):
            continue
        if has_country is None:
            delivery_date = _vat.find_path(root, _CII_DELIVERY_DATE) is not None
            has_country = _vat.find_path(root, _CII_DELIVER_TO_COUNTRY) is not None
        settlement = b.cat.parent
        has_date = delivery_date or any(_vat.find_path(settlement, p) is not None for p in _CII_PERIOD)
        for code_el in _vat.kids(b.el, _vat.RAM + "CategoryCode"):
            if _vat.text_of(code_el) != "K":
                continue
            if not has_date:
                out.append(Finding("BR-IC-11", FATAL, _MSG_11, _vat.location(code_el)))
            if not has_country:
                out.append(Finding("BR-IC-12", FATAL, _MSG_12, _vat.location(code_el)))
    return out
