"""Invoices for tests, written from scratch (never copied from the conformance corpus)."""

from __future__ import annotations

from decimal import Decimal
from xml.sax.saxutils import escape

SUPPLIER_SIRET = "81234567800013"  # demo seed: Atelier Numérique SARL (supplier)
SUPPLIER2_SIRET = "82345678900010"  # Bureau d'Études Lumière SAS (supplier, recipient)
MAIRIE_SIRET = "21750000100011"  # recipient, requires a service code
CHR_SIRET = "13000123400017"  # recipient, requires an engagement number


def fr_vat(siret: str) -> str:
    siren = int(siret[:9])
    return f"FR{(12 + 3 * (siren % 97)) % 97:02d}{siret[:9]}"


def _party(siret: str, name: str, city: str) -> str:
    return f"""<cac:Party>
      <cbc:EndpointID schemeID="0009">{siret}</cbc:EndpointID>
      <cac:PartyIdentification><cbc:ID schemeID="0009">{siret}</cbc:ID></cac:PartyIdentification>
      <cac:PostalAddress>
        <cbc:StreetName>1 rue de la République</cbc:StreetName>
        <cbc:CityName>{city}</cbc:CityName>
        <cbc:PostalZone>69001</cbc:PostalZone>
        <cac:Country><cbc:IdentificationCode>FR</cbc:IdentificationCode></cac:Country>
      </cac:PostalAddress>
      <cac:PartyTaxScheme>
        <cbc:CompanyID>{fr_vat(siret)}</cbc:CompanyID>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:PartyTaxScheme>
      <cac:PartyLegalEntity>
        <cbc:RegistrationName>{escape(name)}</cbc:RegistrationName>
        <cbc:CompanyID schemeID="0009">{siret}</cbc:CompanyID>
      </cac:PartyLegalEntity>
    </cac:Party>"""


def ubl_invoice(
    number: str = "F-2026-0001",
    *,
    seller: str = SUPPLIER_SIRET,
    seller_name: str = "Atelier Numérique SARL",
    buyer: str = MAIRIE_SIRET,
    buyer_name: str = "Mairie de Saint-Étienne-du-Bois",
    service_code: str | None = "SERV-TECH",
    engagement: str | None = None,
    issue_date: str = "2026-11-20",
    quantity: str = "2",
    unit_price: str = "50.00",
    payable_override: str | None = None,
) -> bytes:
    """A complete, EN 16931-valid UBL 2.1 invoice (one line, VAT S 20 %). `payable_override` breaks BR-CO-16."""
    net = (Decimal(quantity) * Decimal(unit_price)).quantize(Decimal("0.01"))
    vat = (net * Decimal("0.20")).quantize(Decimal("0.01"))
    gross = net + vat
    payable = payable_override or f"{gross}"
    buyer_reference = f"\n  <cbc:BuyerReference>{escape(service_code)}</cbc:BuyerReference>" if service_code else ""
    order = f"\n  <cac:OrderReference><cbc:ID>{escape(engagement)}</cbc:ID></cac:OrderReference>" if engagement else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
         xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
         xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>
  <cbc:ID>{escape(number)}</cbc:ID>
  <cbc:IssueDate>{issue_date}</cbc:IssueDate>
  <cbc:DueDate>2026-12-20</cbc:DueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>{buyer_reference}{order}
  <cac:AccountingSupplierParty>
    {_party(seller, seller_name, "Lyon")}
  </cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty>
    {_party(buyer, buyer_name, "Saint-Étienne-du-Bois")}
  </cac:AccountingCustomerParty>
  <cac:PaymentMeans>
    <cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>
    <cac:PayeeFinancialAccount><cbc:ID>FR7630006000011234567890189</cbc:ID></cac:PayeeFinancialAccount>
  </cac:PaymentMeans>
  <cac:TaxTotal>
    <cbc:TaxAmount currencyID="EUR">{vat}</cbc:TaxAmount>
    <cac:TaxSubtotal>
      <cbc:TaxableAmount currencyID="EUR">{net}</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="EUR">{vat}</cbc:TaxAmount>
      <cac:TaxCategory>
        <cbc:ID>S</cbc:ID>
        <cbc:Percent>20</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:TaxCategory>
    </cac:TaxSubtotal>
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">{net}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">{net}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">{gross}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="EUR">{payable}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:InvoiceLine>
    <cbc:ID>1</cbc:ID>
    <cbc:InvoicedQuantity unitCode="C62">{quantity}</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">{net}</cbc:LineExtensionAmount>
    <cac:Item>
      <cbc:Name>Maintenance des équipements</cbc:Name>
      <cac:ClassifiedTaxCategory>
        <cbc:ID>S</cbc:ID>
        <cbc:Percent>20</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:ClassifiedTaxCategory>
    </cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">{unit_price}</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>
</Invoice>
""".encode()


def invalid_ubl_invoice(number: str = "F-2026-0666", **kwargs) -> bytes:
    """Well-formed, but the amount due is not the total with VAT (BR-CO-16 … fatal)."""
    return ubl_invoice(number, payable_override="999.99", **kwargs)
