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


_DELIVERY_DATE = f"{_vat.CAC}Delivery/{_vat.CBC}ActualDeliveryDate"
_INVOICE_PERIOD = f"{_vat.CAC}InvoicePeriod/*"
_DELIVER_TO_COUNTRY = (
    f"{_vat.CAC}Delivery/{_vat.CAC}DeliveryLocation/{_vat.CAC}Address/{_vat.CAC}Country/{_vat.CBC}IdentificationCode"
)
_CII_DELIVERY = f"{_vat.RSM}SupplyChainTradeTransaction/{_vat.RAM}ApplicableHeaderTradeDelivery/"
_CII_DELIVERY_DATE = (
    f"{_CII_DELIVERY}{_vat.RAM}ActualDeliverySupplyChainEvent/{_vat.RAM}OccurrenceDateTime/{_vat.UDT}DateTimeString"
)
_CII_DELIVER_TO_COUNTRY = f"{_CII_DELIVERY}{_vat.RAM}ShipToTradeParty/{_vat.RAM}PostalTradeAddress/{_vat.RAM}CountryID"
_CII_PERIOD = (
    f"{_vat.RAM}BillingSpecifiedPeriod/{_vat.RAM}StartDateTime",
    f"{_vat.RAM}BillingSpecifiedPeriod/{_vat.RAM}EndDateTime",
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
            date = root.find(_DELIVERY_DATE)
            if not (date is not None and len(_vat.text_of(date)) > 1) and root.find(_INVOICE_PERIOD) is None:
                out.append(Finding("BR-IC-11", FATAL, _MSG_11, _vat.location(root)))
            country = root.find(_DELIVER_TO_COUNTRY)
            if not (country is not None and len(_vat.text_of(country)) > 1):
                out.append(Finding("BR-IC-12", FATAL, _MSG_12, _vat.location(root)))
        return out
    # CII: once per ram:CategoryCode[. = 'K'] of a header ram:ApplicableTradeTax with TypeCode VAT
    for b in f.breakdowns:
        if not (b.cat.vat and "K" in b.cat.codes and _vat.cii_in_transaction(b)):
            continue
        settlement = b.cat.parent
        has_date = root.find(_CII_DELIVERY_DATE) is not None or any(settlement.find(p) is not None for p in _CII_PERIOD)
        has_country = root.find(_CII_DELIVER_TO_COUNTRY) is not None
        for code_el in b.el.iterfind(f"{_vat.RAM}CategoryCode"):
            if _vat.text_of(code_el) != "K":
                continue
            if not has_date:
                out.append(Finding("BR-IC-11", FATAL, _MSG_11, _vat.location(code_el)))
            if not has_country:
                out.append(Finding("BR-IC-12", FATAL, _MSG_12, _vat.location(code_el)))
    return out
