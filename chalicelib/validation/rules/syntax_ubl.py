"""UBL syntax binding rules: UBL-CR-* (elements EN 16931 does not use), UBL-SR-* (cardinalities of
the binding) and UBL-DT-* (data types), as in release 1.3.16 of the CEN artefacts.

The rules are data:

* ``_CR_TABLE``: one line per UBL-CR rule, ``<id> <path>``. A path is read from the document
  element (``cac:Delivery/cbc:ID``) or, when it starts with ``//``, anywhere in the document; a
  final ``@name`` step makes it an attribute rule. ``{L}`` stands for ``cac:InvoiceLine`` and for
  ``cac:CreditNoteLine``. Every UBL-CR rule is a warning except UBL-CR-666 and UBL-CR-673 (fatal),
  and, like the official rule, fires at most once per document (its context is the document).
* ``_ROOT_COUNTS``: the UBL-SR cardinalities checked on the document element (``_root_rules``, reading
  the elements at ``_ROOT_PATHS``).
* the per-context UBL-SR rules (``_CONTEXTS``): per context tag, a small function of a context
  element and of the elements at the child paths it reads; and the UBL-DT rules (amount decimals,
  binary object attributes, attributes that should not be used anywhere).

One pass per document over its nodes, in document order, does it all. An element's entry (``_entry``)
is looked up in its parent's table (``_Children``: one per path from the document element, built as
paths are met), and says what the pass does with it: which UBL-CR paths hold there (decided once per
path from its ancestors' tags, ``CRRule.matches_at``; only the predicates of ``_CR_PREDICATES`` and
"once per document" are left to the pass), its code-list rules for its parent, what it is collected
as for the document element's rules and for its context ancestors' (the context rules run after the
pass, on what was collected), the readers it is handed over to (``decimals`` and the VAT facts:
``UBL_SHARED_TAGS``, ``_helpers.pass_elements``). The pass knows each node's parent table from the
children counts of the open ancestors (no ``getparent()``); it also takes every element's attribute
names (the attribute rules, checked after the pass). The tables are bounded per process: a document
that fills them leaves them empty to the next (``_TABLES``, ``_helpers.BoundedTables``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..document import Document
from ..findings import FATAL, WARNING, Finding
from . import _vat, codelists, decimals
from ._helpers import BoundedTables, share_elements
from .codelists import XML_WS, path_of, string_value, xs_boolean

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
INVOICE = "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
CREDIT_NOTE = "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"
ROOTS = (INVOICE, CREDIT_NOTE)
_NS = {"cbc": CBC, "cac": CAC, "ext": EXT}


_CLARK: dict[str, str] = {}


def q(name: str) -> str:
    """'cac:Party' -> Clark notation (memoised: rules call it on every document)."""
    tag = _CLARK.get(name)
    if tag is None:
        prefix, _, local = name.partition(":")
        tag = _CLARK[name] = f"{{{_NS[prefix]}}}{local}"
    return tag


def _short(tag: str) -> str:
    return tag.rpartition("}")[2]


# ----------------------------------------------------------------------------- UBL-CR table
_DOC_REF = (
    "cbc:CopyIndicator cbc:UUID cbc:IssueDate cbc:IssueTime cbc:DocumentTypeCode cbc:DocumentType cbc:XPath "
    "cbc:LanguageID cbc:LocaleCode cbc:VersionID cbc:DocumentStatusCode cbc:DocumentDescription cac:Attachment "
    "cac:ValidityPeriod cac:IssuerParty cac:ResultOfVerification"
).split()
_ADDRESS = (
    "cbc:ID cbc:AddressTypeCode cbc:AddressFormatCode cbc:Postbox cbc:Floor cbc:Room cbc:BlockName "
    "cbc:BuildingName cbc:BuildingNumber cbc:InhouseMail cbc:Department cbc:MarkAttention cbc:MarkCare "
    "cbc:PlotIdentification cbc:CitySubdivisionName cbc:CountrySubentityCode cbc:Region cbc:District "
    "cbc:TimezoneOffset"
).split()


def _series(first: int, base: str, leaves: list[str]) -> str:
    """Consecutive rule ids for the same base path (the artefacts number them in schema order)."""
    return "\n".join(f"UBL-CR-{first + i:03d} {base}/{leaf}" for i, leaf in enumerate(leaves))


_ASP = "cac:AccountingSupplierParty"
_ACP = "cac:AccountingCustomerParty"
_TRP = "cac:TaxRepresentativeParty"
_PM = "cac:PaymentMeans"
_DL = "cac:Delivery/cac:DeliveryLocation"

_CR_TABLE = f"""
UBL-CR-001 ext:UBLExtensions
UBL-CR-003 cbc:ProfileExecutionID
UBL-CR-004 cbc:CopyIndicator
UBL-CR-005 cbc:UUID
UBL-CR-006 cbc:IssueTime
UBL-CR-007 cbc:PricingCurrencyCode
UBL-CR-008 cbc:PaymentCurrencyCode
UBL-CR-009 cbc:PaymentAlternativeCurrencyCode
UBL-CR-010 cbc:AccountingCostCode
UBL-CR-011 cbc:LineCountNumeric
UBL-CR-012 cac:InvoicePeriod/cbc:StartTime
UBL-CR-013 cac:InvoicePeriod/cbc:EndTime
UBL-CR-014 cac:InvoicePeriod/cbc:DurationMeasure
UBL-CR-015 cac:InvoicePeriod/cbc:Description
UBL-CR-016 cac:OrderReference/cbc:CopyIndicator
UBL-CR-017 cac:OrderReference/cbc:UUID
UBL-CR-018 cac:OrderReference/cbc:IssueDate
UBL-CR-019 cac:OrderReference/cbc:IssueTime
UBL-CR-020 cac:OrderReference/cbc:CustomerReference
UBL-CR-021 cac:OrderReference/cbc:OrderTypeCode
UBL-CR-022 cac:OrderReference/cac:DocumentReference
{_series(23, "cac:BillingReference/cac:InvoiceDocumentReference", [d for d in _DOC_REF if d != "cbc:IssueDate"])}
UBL-CR-038 cac:BillingReference/cac:SelfBilledInvoiceDocumentReference
UBL-CR-039 cac:BillingReference/cac:CreditNoteDocumentReference
UBL-CR-040 cac:BillingReference/cac:SelfBilledCreditNoteDocumentReference
UBL-CR-041 cac:BillingReference/cac:DebitNoteDocumentReference
UBL-CR-042 cac:BillingReference/cac:ReminderDocumentReference
UBL-CR-043 cac:BillingReference/cac:AdditionalDocumentReference
UBL-CR-044 cac:BillingReference/cac:BillingReferenceLine
{_series(45, "cac:DespatchDocumentReference", _DOC_REF)}
{_series(61, "cac:ReceiptDocumentReference", _DOC_REF)}
UBL-CR-077 cac:StatementDocumentReference
{_series(78, "cac:OriginatorDocumentReference", _DOC_REF)}
{_series(94, "cac:ContractDocumentReference", _DOC_REF)}
{_series(110, "cac:AdditionalDocumentReference", _DOC_REF[:4] + _DOC_REF[5:11])}
{
    _series(
        121,
        "cac:AdditionalDocumentReference/cac:Attachment/cac:ExternalReference",
        '''cbc:DocumentHash
 cbc:HashAlgorithmMethod cbc:ExpiryDate cbc:ExpiryTime cbc:MimeCode cbc:FormatCode cbc:EncodingCode
 cbc:CharacterSetCode cbc:FileName cbc:Description'''.split(),
    )
}
UBL-CR-131 cac:AdditionalDocumentReference/cac:ValidityPeriod
UBL-CR-132 cac:AdditionalDocumentReference/cac:IssuerParty
UBL-CR-133 cac:AdditionalDocumentReference/cac:ResultOfVerification
UBL-CR-134 cac:ProjectReference/cbc:UUID
UBL-CR-135 cac:ProjectReference/cbc:IssueDate
UBL-CR-136 cac:ProjectReference/cac:WorkPhaseReference
UBL-CR-137 cac:Signature
UBL-CR-138 {_ASP}/cbc:CustomerAssignedAccountID
UBL-CR-139 {_ASP}/cbc:AdditionalAccountID
UBL-CR-140 {_ASP}/cbc:DataSendingCapability
{
    _series(
        141,
        _ASP + "/cac:Party",
        '''cbc:MarkCareIndicator cbc:MarkAttentionIndicator cbc:WebsiteURI
 cbc:LogoReferenceID cbc:IndustryClassificationCode cac:Language'''.split(),
    )
}
{_series(147, _ASP + "/cac:Party/cac:PostalAddress", _ADDRESS + ["cac:Country/cbc:Name", "cac:LocationCoordinate"])}
UBL-CR-168 {_ASP}/cac:Party/cac:PhysicalLocation
{
    _series(
        169,
        _ASP + "/cac:Party/cac:PartyTaxScheme",
        '''cbc:RegistrationName cbc:TaxLevelCode
 cbc:ExemptionReasonCode cbc:ExemptionReason cac:RegistrationAddress cac:TaxScheme/cbc:Name
 cac:TaxScheme/cbc:TaxTypeCode cac:TaxScheme/cbc:CurrencyCode cac:TaxScheme/cac:JurisdictionRegionAddress'''.split(),
    )
}
{
    _series(
        178,
        _ASP + "/cac:Party/cac:PartyLegalEntity",
        '''cbc:RegistrationDate cbc:RegistrationExpirationDate
 cbc:CompanyLegalFormCode cbc:SoleProprietorshipIndicator cbc:CompanyLiquidationStatusCode
 cbc:CorporateStockAmount cbc:FullyPaidSharesIndicator cac:RegistrationAddress cac:CorporateRegistrationScheme
 cac:HeadOfficeParty cac:ShareholderParty'''.split(),
    )
}
{
    _series(
        189,
        _ASP + "/cac:Party",
        '''cac:Contact/cbc:ID cac:Contact/cbc:Telefax cac:Contact/cbc:Note
 cac:Contact/cac:OtherCommunication cac:Person cac:AgentParty cac:ServiceProviderParty cac:PowerOfAttorney
 cac:FinancialAccount'''.split(),
    )
}
UBL-CR-198 {_ASP}/cac:DespatchContact
UBL-CR-199 {_ASP}/cac:AccountingContact
UBL-CR-200 {_ASP}/cac:SellerContact
UBL-CR-201 {_ACP}/cbc:CustomerAssignedAccountID
UBL-CR-202 {_ACP}/cbc:SupplierAssignedAccountID
UBL-CR-203 {_ACP}/cbc:AdditionalAccountID
{
    _series(
        204,
        _ACP + "/cac:Party",
        '''cbc:MarkCareIndicator cbc:MarkAttentionIndicator cbc:WebsiteURI
 cbc:LogoReferenceID cbc:IndustryClassificationCode cac:Language'''.split(),
    )
}
{_series(210, _ACP + "/cac:Party/cac:PostalAddress", _ADDRESS + ["cac:Country/cbc:Name", "cac:LocationCoordinate"])}
UBL-CR-231 {_ACP}/cac:Party/cac:PhysicalLocation
{
    _series(
        232,
        _ACP + "/cac:Party/cac:PartyTaxScheme",
        '''cbc:RegistrationName cbc:TaxLevelCode
 cbc:ExemptionReasonCode cbc:ExemptionReason cac:RegistrationAddress cac:TaxScheme/cbc:Name
 cac:TaxScheme/cbc:TaxTypeCode cac:TaxScheme/cbc:CurrencyCode cac:TaxScheme/cac:JurisdictionRegionAddress'''.split(),
    )
}
{
    _series(
        241,
        _ACP + "/cac:Party/cac:PartyLegalEntity",
        '''cbc:RegistrationDate cbc:RegistrationExpirationDate
 cbc:CompanyLegalFormCode cbc:CompanyLegalForm cbc:SoleProprietorshipIndicator cbc:CompanyLiquidationStatusCode
 cbc:CorporateStockAmount cbc:FullyPaidSharesIndicator cac:RegistrationAddress cac:CorporateRegistrationScheme
 cac:HeadOfficeParty cac:ShareholderParty'''.split(),
    )
}
{
    _series(
        253,
        _ACP + "/cac:Party",
        '''cac:Contact/cbc:ID cac:Contact/cbc:Telefax cac:Contact/cbc:Note
 cac:Contact/cac:OtherCommunication cac:Person cac:AgentParty cac:ServiceProviderParty cac:PowerOfAttorney
 cac:FinancialAccount'''.split(),
    )
}
UBL-CR-262 {_ACP}/cac:DeliveryContact
UBL-CR-263 {_ACP}/cac:AccountingContact
UBL-CR-264 {_ACP}/cac:BuyerContact
{
    _series(
        265,
        "cac:PayeeParty",
        '''cbc:MarkCareIndicator cbc:MarkAttentionIndicator cbc:WebsiteURI
 cbc:LogoReferenceID cbc:EndpointID cbc:IndustryClassificationCode cac:Language cac:PostalAddress
 cac:PhysicalLocation cac:PartyTaxScheme'''.split(),
    )
}
{
    _series(
        275,
        "cac:PayeeParty/cac:PartyLegalEntity",
        '''cbc:RegistrationName cbc:RegistrationDate
 cbc:RegistrationExpirationDate cbc:CompanyLegalFormCode cbc:CompanyLegalForm cbc:SoleProprietorshipIndicator
 cbc:CompanyLiquidationStatusCode cbc:CorporateStockAmount cbc:FullyPaidSharesIndicator cac:RegistrationAddress
 cac:CorporateRegistrationScheme cac:HeadOfficeParty cac:ShareholderParty'''.split(),
    )
}
{
    _series(
        288,
        "cac:PayeeParty",
        '''cac:Contact cac:Person cac:AgentParty cac:ServiceProviderParty
 cac:PowerOfAttorney cac:FinancialAccount'''.split(),
    )
}
UBL-CR-294 cac:BuyerCustomerParty
UBL-CR-295 cac:SellerSupplierParty
{
    _series(
        296,
        _TRP,
        '''cbc:MarkCareIndicator cbc:MarkAttentionIndicator cbc:WebsiteURI cbc:LogoReferenceID
 cbc:EndpointID cbc:IndustryClassificationCode cac:PartyIdentification cac:Language'''.split(),
    )
}
{_series(304, _TRP + "/cac:PostalAddress", _ADDRESS + ["cac:Country/cbc:Name", "cac:LocationCoordinate"])}
UBL-CR-325 {_TRP}/cac:PhysicalLocation
{
    _series(
        326,
        _TRP + "/cac:PartyTaxScheme",
        '''cbc:RegistrationName cbc:TaxLevelCode cbc:ExemptionReasonCode
 cbc:ExemptionReason cac:RegistrationAddress cac:TaxScheme/cbc:Name cac:TaxScheme/cbc:TaxTypeCode
 cac:TaxScheme/cbc:CurrencyCode cac:TaxScheme/cac:JurisdictionRegionAddress'''.split(),
    )
}
{
    _series(
        335,
        _TRP,
        '''cac:PartyLegalEntity cac:Contact cac:Person cac:AgentParty cac:ServiceProviderParty
 cac:PowerOfAttorney cac:FinancialAccount'''.split(),
    )
}
{
    _series(
        342,
        "cac:Delivery",
        '''cbc:ID cbc:Quantity cbc:MinimumQuantity cbc:MaximumQuantity
 cbc:ActualDeliveryTime cbc:LatestDeliveryDate cbc:LatestDeliveryTime cbc:ReleaseID cbc:TrackingID'''.split(),
    )
}
{
    _series(
        351,
        _DL,
        '''cbc:Description cbc:Conditions cbc:CountrySubentity cbc:CountrySubentityCode
 cbc:LocationTypeCode cbc:InformationURI cbc:Name cac:ValidityPeriod'''.split(),
    )
}
{_series(359, _DL + "/cac:Address", _ADDRESS + ["cac:Country/cbc:Name", "cac:LocationCoordinate"])}
UBL-CR-380 {_DL}/cac:SubsidiaryLocation
UBL-CR-381 {_DL}/cac:LocationCoordinate
{
    _series(
        382,
        "cac:Delivery",
        '''cac:AlternativeDeliveryLocation cac:RequestedDeliveryPeriod
 cac:EstimatedDeliveryPeriod cac:CarrierParty'''.split(),
    )
}
{
    _series(
        386,
        "cac:Delivery/cac:DeliveryParty",
        '''cbc:MarkCareIndicator cbc:MarkAttentionIndicator
 cbc:WebsiteURI cbc:LogoReferenceID cbc:EndpointID cbc:IndustryClassificationCode cac:PartyIdentification
 cac:Language cac:PostalAddress cac:PhysicalLocation cac:PartyTaxScheme cac:PartyLegalEntity cac:Contact
 cac:Person cac:AgentParty cac:ServiceProviderParty cac:PowerOfAttorney cac:FinancialAccount'''.split(),
    )
}
{
    _series(
        404,
        "cac:Delivery",
        '''cac:NotifyParty cac:Despatch cac:DeliveryTerms cac:MinimumDeliveryUnit
 cac:MaximumDeliveryUnit cac:Shipment'''.split(),
    )
}
UBL-CR-410 cac:DeliveryTerms
UBL-CR-411 {_PM}/cbc:ID
UBL-CR-412 {_PM}/cbc:PaymentDueDate
UBL-CR-413 {_PM}/cbc:PaymentChannelCode
UBL-CR-414 {_PM}/cbc:InstructionID
{
    _series(
        415,
        _PM + "/cac:CardAccount",
        '''cbc:CardTypeCode cbc:ValidityStartDate cbc:ExpiryDate cbc:IssuerID
 cbc:IssueNumberID cbc:CV2ID cbc:CardChipCode cbc:ChipApplicationID'''.split(),
    )
}
{
    _series(
        424,
        _PM + "/cac:PayeeFinancialAccount",
        '''cbc:AliasName cbc:AccountTypeCode cbc:AccountFormatCode
 cbc:CurrencyCode cbc:PaymentNote cac:FinancialInstitutionBranch/cbc:Name
 cac:FinancialInstitutionBranch/cac:FinancialInstitution/cbc:Name
 cac:FinancialInstitutionBranch/cac:FinancialInstitution/cac:Address cac:FinancialInstitutionBranch/cac:Address
 cac:Country'''.split(),
    )
}
UBL-CR-434 {_PM}/cac:CreditAccount
{
    _series(
        435,
        _PM + "/cac:PaymentMandate",
        '''cbc:MandateTypeCode cbc:MaximumPaymentInstructionsNumeric
 cbc:MaximumPaidAmount cbc:SignatureID cac:PayerParty cac:PayerFinancialAccount/cbc:Name
 cac:PayerFinancialAccount/cbc:AliasName cac:PayerFinancialAccount/cbc:AccountTypeCode
 cac:PayerFinancialAccount/cbc:AccountFormatCode cac:PayerFinancialAccount/cbc:CurrencyCode
 cac:PayerFinancialAccount/cbc:PaymentNote cac:PayerFinancialAccount/cac:FinancialInstitutionBranch
 cac:PayerFinancialAccount/cac:Country cac:ValidityPeriod cac:PaymentReversalPeriod cac:Clause'''.split(),
    )
}
UBL-CR-451 {_PM}/cac:TradeFinancing
{
    _series(
        452,
        "cac:PaymentTerms",
        '''cbc:ID cbc:PaymentMeansID cbc:PrepaidPaymentReferenceID
 cbc:ReferenceEventCode cbc:SettlementDiscountPercent cbc:PenaltySurchargePercent cbc:PaymentPercent cbc:Amount
 cbc:SettlementDiscountAmount cbc:PenaltyAmount cbc:PaymentTermsDetailsURI cbc:PaymentDueDate
 cbc:InstallmentDueDate cbc:InvoicingPartyReference cac:SettlementPeriod cac:PenaltyPeriod cac:ExchangeRate
 cac:ValidityPeriod'''.split(),
    )
}
UBL-CR-470 cac:PrepaidPayment
{
    _series(
        471,
        "cac:AllowanceCharge",
        '''cbc:ID cbc:PrepaidIndicator cbc:SequenceNumeric cbc:AccountingCostCode
 cbc:AccountingCost cbc:PerUnitAmount cac:TaxCategory/cbc:Name cac:TaxCategory/cbc:BaseUnitMeasure
 cac:TaxCategory/cbc:PerUnitAmount cac:TaxCategory/cbc:TaxExemptionReasonCode cac:TaxCategory/cbc:TaxExemptionReason
 cac:TaxCategory/cbc:TierRange cac:TaxCategory/cbc:TierRatePercent cac:TaxCategory/cac:TaxScheme/cbc:Name
 cac:TaxCategory/cac:TaxScheme/cbc:TaxTypeCode cac:TaxCategory/cac:TaxScheme/cbc:CurrencyCode
 cac:TaxCategory/cac:TaxScheme/cac:JurisdictionRegionAddress cac:TaxTotal cac:PaymentMeans'''.split(),
    )
}
UBL-CR-490 cac:TaxExchangeRate
UBL-CR-491 cac:PricingExchangeRate
UBL-CR-492 cac:PaymentExchangeRate
UBL-CR-493 cac:PaymentAlternativeExchangeRate
{_series(494, "cac:TaxTotal", '''cbc:RoundingAmount cbc:TaxEvidenceIndicator cbc:TaxIncludedIndicator'''.split())}
{
    _series(
        497,
        "cac:TaxTotal/cac:TaxSubtotal",
        '''cbc:CalculationSequenceNumeric cbc:TransactionCurrencyTaxAmount
 cbc:Percent cbc:BaseUnitMeasure cbc:PerUnitAmount cbc:TierRange cbc:TierRatePercent cac:TaxCategory/cbc:Name
 cac:TaxCategory/cbc:BaseUnitMeasure cac:TaxCategory/cbc:PerUnitAmount cac:TaxCategory/cbc:TierRange
 cac:TaxCategory/cbc:TierRatePercent cac:TaxCategory/cac:TaxScheme/cbc:Name
 cac:TaxCategory/cac:TaxScheme/cbc:TaxTypeCode cac:TaxCategory/cac:TaxScheme/cbc:CurrencyCode
 cac:TaxCategory/cac:TaxScheme/cac:JurisdictionRegionAddress'''.split(),
    )
}
UBL-CR-513 cac:WithholdingTaxTotal
UBL-CR-514 cac:LegalMonetaryTotal/cbc:PayableAlternativeAmount
{
    _series(
        515,
        "{L}",
        '''cbc:UUID cbc:TaxPointDate cbc:AccountingCostCode cbc:PaymentPurposeCode
 cbc:FreeOfChargeIndicator cac:InvoicePeriod/cbc:StartTime cac:InvoicePeriod/cbc:EndTime
 cac:InvoicePeriod/cbc:DurationMeasure cac:InvoicePeriod/cbc:DescriptionCode cac:InvoicePeriod/cbc:Description
 cac:OrderLineReference/cbc:SalesOrderLineID cac:OrderLineReference/cbc:UUID
 cac:OrderLineReference/cbc:LineStatusCode cac:OrderLineReference/cac:OrderReference cac:DespatchLineReference
 cac:ReceiptLineReference cac:BillingReference'''.split(),
    )
}
{_series(532, "{L}/cac:DocumentReference", _DOC_REF[:4])}
{_series(537, "{L}/cac:DocumentReference", _DOC_REF[5:])}
{
    _series(
        548,
        "{L}",
        '''cac:PricingReference cac:OriginatorParty cac:Delivery cac:PaymentTerms
 cac:AllowanceCharge/cbc:ID cac:AllowanceCharge/cbc:PrepaidIndicator cac:AllowanceCharge/cbc:SequenceNumeric
 cac:AllowanceCharge/cbc:AccountingCostCode cac:AllowanceCharge/cbc:AccountingCost
 cac:AllowanceCharge/cbc:PerUnitAmount cac:AllowanceCharge/cac:TaxCategory cac:AllowanceCharge/cac:TaxTotal
 cac:AllowanceCharge/cac:PaymentMeans cac:TaxTotal cac:WithholdingTaxTotal'''.split(),
    )
}
{
    _series(
        563,
        "{L}/cac:Item",
        '''cbc:PackQuantity cbc:PackSizeNumeric cbc:CatalogueIndicator
 cbc:HazardousRiskIndicator cbc:AdditionalInformation cbc:Keyword cbc:BrandName cbc:ModelName
 cac:BuyersItemIdentification/cbc:ExtendedID cac:BuyersItemIdentification/cbc:BarcodeSymbologyID
 cac:BuyersItemIdentification/cac:PhysicalAttribute cac:BuyersItemIdentification/cac:MeasurementDimension
 cac:BuyersItemIdentification/cac:IssuerParty cac:SellersItemIdentification/cbc:ExtendedID
 cac:SellersItemIdentification/cbc:BarcodeSymbologyID cac:SellersItemIdentification/cac:PhysicalAttribute
 cac:SellersItemIdentification/cac:MeasurementDimension cac:SellersItemIdentification/cac:IssuerParty
 cac:ManufacturersItemIdentification cac:StandardItemIdentification/cbc:ExtendedID
 cac:StandardItemIdentification/cbc:BarcodeSymbologyID cac:StandardItemIdentification/cac:PhysicalAttribute
 cac:StandardItemIdentification/cac:MeasurementDimension cac:StandardItemIdentification/cac:IssuerParty
 cac:CatalogueItemIdentification cac:AdditionalItemIdentification cac:CatalogueDocumentReference
 cac:ItemSpecificationDocumentReference cac:OriginCountry/cbc:Name cac:CommodityClassification/cbc:NatureCode
 cac:CommodityClassification/cbc:CargoTypeCode cac:CommodityClassification/cbc:CommodityCode
 cac:TransactionConditions cac:HazardousItem cac:ClassifiedTaxCategory/cbc:Name
 cac:ClassifiedTaxCategory/cbc:BaseUnitMeasure cac:ClassifiedTaxCategory/cbc:PerUnitAmount
 cac:ClassifiedTaxCategory/cbc:TaxExemptionReasonCode cac:ClassifiedTaxCategory/cbc:TaxExemptionReason
 cac:ClassifiedTaxCategory/cbc:TierRange cac:ClassifiedTaxCategory/cbc:TierRatePercent
 cac:ClassifiedTaxCategory/cac:TaxScheme/cbc:Name cac:ClassifiedTaxCategory/cac:TaxScheme/cbc:TaxTypeCode
 cac:ClassifiedTaxCategory/cac:TaxScheme/cbc:CurrencyCode
 cac:ClassifiedTaxCategory/cac:TaxScheme/cac:JurisdictionRegionAddress cac:AdditionalItemProperty/cbc:ID
 cac:AdditionalItemProperty/cbc:NameCode cac:AdditionalItemProperty/cbc:TestMethod
 cac:AdditionalItemProperty/cbc:ValueQuantity cac:AdditionalItemProperty/cbc:ValueQualifier
 cac:AdditionalItemProperty/cbc:ImportanceCode cac:AdditionalItemProperty/cbc:ListValue
 cac:AdditionalItemProperty/cac:UsabilityPeriod cac:AdditionalItemProperty/cac:ItemPropertyGroup
 cac:AdditionalItemProperty/cac:RangeDimension cac:AdditionalItemProperty/cac:ItemPropertyRange
 cac:ManufacturerParty cac:InformationContentProviderParty cac:OriginAddress cac:ItemInstance cac:Certificate
 cac:Dimension'''.split(),
    )
}
{
    _series(
        625,
        "{L}/cac:Price",
        '''cbc:PriceChangeReason cbc:PriceTypeCode cbc:PriceType cbc:OrderableUnitFactorRate
 cbc:ValidityPeriod cbc:PriceList cbc:OrderableUnitFactorRate cac:AllowanceCharge/cbc:ID
 cac:AllowanceCharge/cbc:AllowanceChargeReasonCode cac:AllowanceCharge/cbc:AllowanceChargeReason
 cac:AllowanceCharge/cbc:MultiplierFactorNumeric cac:AllowanceCharge/cbc:PrepaidIndicator
 cac:AllowanceCharge/cbc:SequenceNumeric cac:AllowanceCharge/cbc:AccountingCostCode
 cac:AllowanceCharge/cbc:AccountingCost cac:AllowanceCharge/cbc:PerUnitAmount cac:AllowanceCharge/cac:TaxCategory
 cac:AllowanceCharge/cac:TaxTotal cac:AllowanceCharge/cac:PaymentMeans cac:PricingExchangeRate'''.split(),
    )
}
UBL-CR-645 {{L}}/cac:DeliveryTerms
UBL-CR-646 {{L}}/cac:SubInvoiceLine
UBL-CR-647 {{L}}/cac:ItemPriceExtension
UBL-CR-648 cbc:CustomizationID/@schemeID
UBL-CR-649 cbc:ProfileID/@schemeID
UBL-CR-650 cbc:ID/@schemeID
UBL-CR-651 cbc:SalesOrderID/@schemeID
UBL-CR-652 //cac:PartyTaxScheme/cbc:CompanyID/@schemeID
UBL-CR-653 {_PM}/cbc:PaymentID/@schemeID
UBL-CR-654 {_PM}/cac:PayeeFinancialAccount/cbc:ID/@schemeID
UBL-CR-655 {_PM}/cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID/@schemeID
UBL-CR-656 cbc:InvoiceTypeCode/@listID
UBL-CR-657 cbc:DocumentCurrencyCode/@listID
UBL-CR-658 cbc:TaxCurrencyCode/@listID
UBL-CR-659 cac:AdditionalDocumentReference/cbc:DocumentTypeCode/@listID
UBL-CR-660 //cac:Country/cbc:IdentificationCode/@listID
UBL-CR-661 {_PM}/cbc:PaymentMeansCode/@listID
UBL-CR-662 //cbc:AllowanceChargeReasonCode/@listID
UBL-CR-663 //@unitCodeListID
UBL-CR-664 //cac:FinancialInstitution
UBL-CR-665 //cac:AdditionalDocumentReference/cbc:ID/@schemeID
UBL-CR-666 //cac:AdditionalDocumentReference/cac:Attachment
UBL-CR-667 //cac:BuyersItemIdentification/cbc:ID/@schemeID
UBL-CR-668 //cac:SellersItemIdentification/cbc:ID/@schemeID
UBL-CR-669 //cac:Price/cac:AllowanceCharge/cbc:AllowanceChargeReasonCode
UBL-CR-670 //cac:Price/cac:AllowanceCharge/cbc:AllowanceChargeReason
UBL-CR-671 //cac:Price/cac:AllowanceCharge/cbc:MultiplierFactorNumeric
UBL-CR-672 cbc:CreditNoteTypeCode/@listID
UBL-CR-673 //cac:AdditionalDocumentReference/cbc:DocumentDescription
UBL-CR-674 //cbc:PrimaryAccountNumber/@schemeID
UBL-CR-675 //cac:CardAccount/cbc:NetworkID/@schemeID
UBL-CR-676 //cac:PaymentMandate/cbc:ID/@schemeID
UBL-CR-677 //cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID/@schemeID
UBL-CR-678 //cac:TaxCategory/cbc:ID/@schemeID
UBL-CR-679 //cac:ClassifiedTaxCategory/cbc:ID/@schemeID
UBL-CR-680 //cac:PaymentMeans/cac:PayerFinancialAccount
UBL-CR-681 {_PM}/cbc:InstructionNote
UBL-CR-682 cac:Delivery/cac:DeliveryAddress
"""

_CR_FATAL = frozenset({"UBL-CR-666", "UBL-CR-673"})
_CR_INVOICE_ONLY = frozenset({"UBL-CR-412"})  # "... or ../cn:CreditNote": credit notes may carry it


def _adr_is_object(adr) -> bool:
    """cac:AdditionalDocumentReference[cbc:DocumentTypeCode = '130']"""
    return any(string_value(c) == "130" for c in _kids(adr, q("cbc:DocumentTypeCode")))


def _adr_is_not_object(adr) -> bool:
    """cac:AdditionalDocumentReference[cbc:DocumentTypeCode != '130' or not(cbc:DocumentTypeCode)]"""
    codes = [string_value(c) for c in _kids(adr, q("cbc:DocumentTypeCode"))]
    return not codes or any(c != "130" for c in codes)


# predicate on the ancestor at index ``i`` of the path (0 = first step)
_CR_PREDICATES: dict[str, tuple[int, Callable]] = {
    "UBL-CR-665": (0, _adr_is_not_object),
    "UBL-CR-666": (0, _adr_is_object),
    "UBL-CR-673": (0, _adr_is_object),
}


@dataclass(frozen=True, slots=True)
class CRRule:
    rule: str
    severity: str
    steps: tuple[str, ...]  # Clark tags of the ancestors, first step first (without the leaf)
    anchored: bool  # True: the first step is a child of the document element
    attribute: str | None
    label: str

    def matches_at(self, ancestors: tuple[str, ...], depth: int) -> bool:
        """Whether the path holds for a leaf (the attribute owner for attribute rules) under these ancestors' tags
        (the last ones, parent last; ``depth``: how many it has in all, the whole chain when at most
        ``_ANCESTORS_KEPT``), but for the predicate (``_CR_PREDICATES``), which reads the document."""
        steps = self.steps
        n = len(steps)
        if depth < n or (n and ancestors[len(ancestors) - n :] != steps):
            return False
        if self.anchored:  # the first step is a child of the document element
            if depth != n + 1:
                return False
            if self.rule in _CR_INVOICE_ONLY and ancestors[0] != INVOICE:
                return False
        return True

    def predicate(self) -> tuple[int, Callable] | None:
        """(levels up from the leaf, function of that ancestor) when the path has a predicate."""
        pred = _CR_PREDICATES.get(self.rule)
        return None if pred is None else (len(self.steps) - pred[0], pred[1])


def _parse_cr_table() -> list[tuple[CRRule, str | None]]:
    """(rule, leaf Clark tag or None for '//@attr') for every line of the table."""
    parsed: list[tuple[CRRule, str | None]] = []
    for line in _CR_TABLE.strip().splitlines():
        rule, path = line.split()
        variants = [path.replace("{L}", "cac:InvoiceLine"), path.replace("{L}", "cac:CreditNoteLine")]
        for variant in dict.fromkeys(variants):
            anchored = not variant.startswith("//")
            steps = variant.lstrip("/").split("/")
            attribute = steps.pop()[1:] if steps[-1].startswith("@") else None
            leaf = q(steps.pop()) if steps else None
            label = path.replace("{L}", "cac:InvoiceLine").lstrip("/")
            severity = FATAL if rule in _CR_FATAL else WARNING
            parsed.append((CRRule(rule, severity, tuple(q(s) for s in steps), anchored, attribute, label), leaf))
    return parsed


_CR_RULES = _parse_cr_table()
# element rules by leaf tag, then by the tag of the leaf's parent (None: any parent)
_CR_BY_LEAF: dict[str, dict[str | None, list[CRRule]]] = {}
# attribute rules by attribute name, then by owner tag (None: any element)
_CR_BY_ATTR: dict[str, dict[str | None, list[CRRule]]] = {}
for _rule, _leaf in _CR_RULES:
    if _rule.attribute is not None:
        _CR_BY_ATTR.setdefault(_rule.attribute, {}).setdefault(_leaf, []).append(_rule)
    else:
        if _rule.steps:
            parents: tuple[str | None, ...] = (_rule.steps[-1],)
        else:
            parents = ROOTS if _rule.anchored else (None,)
        for _parent in parents:
            _CR_BY_LEAF.setdefault(_leaf, {}).setdefault(_parent, []).append(_rule)  # type: ignore[arg-type]


def _cr_message(rule: CRRule) -> str:
    what = rule.label + (f"/@{rule.attribute}" if rule.attribute and not rule.label.endswith(rule.attribute) else "")
    if rule.severity == FATAL:
        return (
            f"{what} is not allowed: an additional supporting document that is the invoiced object "
            "identifier (BT-18, DocumentTypeCode 130) carries neither an attachment nor a description."
        )
    return f"{what} should not be used: EN 16931 does not use this UBL information, the receiver ignores it."


# ----------------------------------------------------------------------------- UBL-DT attributes
# attributes that should not appear anywhere (UBL-DT-08 … UBL-DT-28, warnings); @name is UBL-DT-18
_DT_ATTRIBUTES = {
    "schemeName": "UBL-DT-08",
    "schemeAgencyName": "UBL-DT-09",
    "schemeDataURI": "UBL-DT-10",
    "schemeURI": "UBL-DT-11",
    "format": "UBL-DT-12",
    "unitCodeListIdentifier": "UBL-DT-13",
    "unitCodeListAgencyIdentifier": "UBL-DT-14",
    "unitCodeListAgencyName": "UBL-DT-15",
    "listAgencyName": "UBL-DT-16",
    "listName": "UBL-DT-17",
    "languageID": "UBL-DT-19",
    "listURI": "UBL-DT-20",
    "listSchemeURI": "UBL-DT-21",
    "languageLocaleID": "UBL-DT-22",
    "uri": "UBL-DT-23",
    "currencyCodeListVersionID": "UBL-DT-24",
    "characterSetCode": "UBL-DT-25",
    "encodingCode": "UBL-DT-26",
    "schemeAgencyID": "UBL-DT-27",
    "listAgencyID": "UBL-DT-28",
}


# ----------------------------------------------------------------------------- helpers
def _kids(el, tag: str) -> list:
    """The children of ``el`` with this tag (a plain loop: iterchildren(tag) builds a tag matcher per call)."""
    return [c for c in el[:] if c.tag == tag]


_STEPS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _path(el, *steps: str) -> list:
    """Elements reached from ``el`` by child steps (XPath ``a/b/c``)."""
    tags = _STEPS.get(steps)
    if tags is None:
        tags = _STEPS[steps] = tuple(q(s) for s in steps)
    nodes = [el]
    for tag in tags:
        if len(nodes) == 1:
            nodes = list(_kids(nodes[0], tag))
        else:
            nodes = [c for n in nodes for c in _kids(n, tag)]
        if not nodes:
            break
    return nodes


def _upper_scheme_id(party_tax_scheme) -> list[str]:
    """cac:TaxScheme/upper-case(cbc:ID): one value per cac:TaxScheme ('' when it has no ID)."""
    values = []
    for scheme in _kids(party_tax_scheme, q("cac:TaxScheme")):
        ids = list(_kids(scheme, q("cbc:ID")))
        values.append(string_value(ids[0]).upper() if ids else "")
    return values


def _fatal(rule: str, message: str, el) -> Finding:
    return Finding(rule, FATAL, message, path_of(el))


# ----------------------------------------------------------------------------- document element
# (rule, path from the document element, maximum, message)
_ROOT_COUNTS: tuple[tuple[str, tuple[str, ...], int, str], ...] = (
    ("UBL-SR-01", ("cac:ContractDocumentReference", "cbc:ID"), 1, "Contract reference (BT-12)"),
    ("UBL-SR-02", ("cac:ReceiptDocumentReference", "cbc:ID"), 1, "Receiving advice reference (BT-15)"),
    ("UBL-SR-03", ("cac:DespatchDocumentReference", "cbc:ID"), 1, "Despatch advice reference (BT-16)"),
    ("UBL-SR-05", ("cac:PaymentTerms", "cbc:Note"), 1, "Payment terms (BT-20)"),
    ("UBL-SR-08", ("cac:InvoicePeriod",), 1, "Invoicing period (BG-14)"),
    ("UBL-SR-09", (_ASP, "cac:Party", "cac:PartyLegalEntity", "cbc:RegistrationName"), 1, "Seller name (BT-27)"),
    ("UBL-SR-10", (_ASP, "cac:Party", "cac:PartyName", "cbc:Name"), 1, "Seller trading name (BT-28)"),
    (
        "UBL-SR-11",
        (_ASP, "cac:Party", "cac:PartyLegalEntity", "cbc:CompanyID"),
        1,
        "Seller legal registration identifier (BT-30)",
    ),
    (
        "UBL-SR-14",
        (_ASP, "cac:Party", "cac:PartyLegalEntity", "cbc:CompanyLegalForm"),
        1,
        "Seller additional legal information (BT-33)",
    ),
    ("UBL-SR-15", (_ACP, "cac:Party", "cac:PartyLegalEntity", "cbc:RegistrationName"), 1, "Buyer name (BT-44)"),
    ("UBL-SR-16", (_ACP, "cac:Party", "cac:PartyIdentification", "cbc:ID"), 1, "Buyer identifier (BT-46)"),
    (
        "UBL-SR-17",
        (_ACP, "cac:Party", "cac:PartyLegalEntity", "cbc:CompanyID"),
        1,
        "Buyer legal registration identifier (BT-47)",
    ),
    ("UBL-SR-24", ("cac:Delivery",), 1, "Delivery information (BG-13)"),
    ("UBL-SR-39", ("cac:ProjectReference", "cbc:ID"), 1, "Project reference (BT-11)"),
    ("UBL-SR-40", (_ACP, "cac:Party", "cac:PartyName", "cbc:Name"), 1, "Buyer trading name (BT-45)"),
    ("UBL-SR-45", (_PM, "cbc:PaymentDueDate"), 1, "Payment due date (BT-9) in the payment means"),
    ("UBL-SR-49", ("cac:InvoicePeriod", "cbc:DescriptionCode"), 1, "Value added tax point date code (BT-8)"),
    ("UBL-SR-54", (_PM, "cac:CardAccount"), 1, "Payment card information (BG-18)"),
    ("UBL-SR-55", (_PM, "cac:PaymentMandate"), 1, "Direct debit mandate (BG-19)"),
    ("UBL-SR-56", ("cac:OriginatorDocumentReference", "cbc:ID"), 1, "Tender or lot reference (BT-17)"),
)


# what _root_rules reads, by key: the pass collects it (the elements at these paths from the document element)
_ROOT_PATHS = {
    **{rule: steps for rule, steps, _most, _term in _ROOT_COUNTS},
    "adr": ("cac:AdditionalDocumentReference",),
    "adr_ids": ("cac:AdditionalDocumentReference", "cbc:ID"),  # (UBL-SR-04 needs two of them)
    "seller_schemes": (_ASP, "cac:Party", "cac:PartyTaxScheme"),
    "seller_company_ids": (_ASP, "cac:Party", "cac:PartyTaxScheme", "cbc:CompanyID"),  # (UBL-SR-12/13 need two)
    "buyer_schemes": (_ACP, "cac:Party", "cac:PartyTaxScheme"),
    "buyer_company_ids": (_ACP, "cac:Party", "cac:PartyTaxScheme", "cbc:CompanyID"),  # (UBL-SR-18 needs two)
    "means_codes": (_PM, "cbc:PaymentMeansCode"),
    "versions": ("cbc:UBLVersionID",),
}
_ROOT_KEYS: dict[tuple[str, ...], tuple[str, ...]] = {}
for _key, _steps in _ROOT_PATHS.items():
    _clark = tuple(q(step) for step in _steps)
    _ROOT_KEYS[_clark] = (*_ROOT_KEYS.get(_clark, ()), _key)
_NO_NODES: list = []


def _root_rules(found: dict[str, list]) -> list[Finding]:
    """The document element's rules, from the elements the pass collected (``_ROOT_PATHS``), by key."""
    out: list[Finding] = []
    if not found:
        return out
    for rule, _steps, most, term in _ROOT_COUNTS:
        nodes = found.get(rule, _NO_NODES)
        if len(nodes) > most:
            out.append(_fatal(rule, f"{term} occurs {len(nodes)} times; it shall occur at most once.", nodes[most]))
    objects = (
        [i for adr in found.get("adr", ()) if _adr_is_object(adr) for i in _kids(adr, q("cbc:ID"))]
        if len(found.get("adr_ids", _NO_NODES)) > 1
        else _NO_NODES
    )
    if len(objects) > 1:
        out.append(
            _fatal(
                "UBL-SR-04",
                "Invoiced object identifier (BT-18, DocumentTypeCode 130) occurs "
                f"{len(objects)} times; it shall occur at most once.",
                objects[1],
            )
        )
    seller_schemes = found.get("seller_schemes", _NO_NODES)
    if len(found.get("seller_company_ids", _NO_NODES)) > 1:
        company = q("cbc:CompanyID")
        vat = [c for s in seller_schemes if "VAT" in _upper_scheme_id(s) for c in _kids(s, company)]
        if len(vat) > 1:
            out.append(
                _fatal(
                    "UBL-SR-12",
                    f"Seller VAT identifier (BT-31) occurs {len(vat)} times; it shall occur at most once.",
                    vat[1],
                )
            )
        other = [c for s in seller_schemes if any(v != "VAT" for v in _upper_scheme_id(s)) for c in _kids(s, company)]
        if len(other) > 1:
            out.append(
                _fatal(
                    "UBL-SR-13",
                    f"Seller tax registration identifier (BT-32) occurs {len(other)} times; it shall occur at most "
                    "once.",
                    other[1],
                )
            )
    buyer_schemes = found.get("buyer_schemes", _NO_NODES)
    if len(found.get("buyer_company_ids", _NO_NODES)) > 1:
        buyer_vat = [c for s in buyer_schemes if "VAT" in _upper_scheme_id(s) for c in _kids(s, q("cbc:CompanyID"))]
        if len(buyer_vat) > 1:
            out.append(
                _fatal(
                    "UBL-SR-18",
                    f"Buyer VAT identifier (BT-48) occurs {len(buyer_vat)} times; it shall occur at most once.",
                    buyer_vat[1],
                )
            )
    with_name = [n for n in found.get("means_codes", ()) if n.get("name") is not None]
    if len(with_name) > 1:
        out.append(
            _fatal(
                "UBL-SR-46",
                "Payment means text (BT-82, PaymentMeansCode/@name) occurs "
                f"{len(with_name)} times; it shall occur at most once.",
                with_name[1],
            )
        )
    versions = found.get("versions")
    if versions and not any(string_value(v) == "2.1" for v in versions):
        out.append(
            Finding(
                "UBL-CR-002",
                WARNING,
                f"UBLVersionID '{string_value(versions[0])}' should be 2.1 or be left out.",
                path_of(versions[0]),
            )
        )
    return out


# ----------------------------------------------------------------------------- context rules
def _address(el, found: dict[str, list]) -> Iterable[Finding]:
    lines = found.get("lines", _NO_NODES)
    if len(lines) > 1:
        yield _fatal(
            "UBL-SR-51",
            f"An address has {len(lines)} AddressLine elements; only one third address line "
            "(BT-162, BT-163, BT-164, BT-165) is allowed.",
            lines[1],
        )


def _party(el, found: dict[str, list]) -> Iterable[Finding]:
    schemes = found.get("schemes", _NO_NODES)
    if len(schemes) <= 2:
        return
    parent = el.getparent()
    if parent is None or parent.tag != q(_ASP):
        return
    if len(schemes) > 2:
        yield _fatal(
            "UBL-SR-42",
            f"The seller has {len(schemes)} PartyTaxScheme elements; at most two (VAT "
            "identifier BT-31 and tax registration BT-32) are allowed.",
            schemes[2],
        )


def _additional_document(el, found: dict[str, list]) -> Iterable[Finding]:
    descriptions = found.get("descriptions", _NO_NODES)
    if len(descriptions) > 1:
        yield _fatal("UBL-SR-33", "Supporting document description (BT-123) shall occur at most once.", descriptions[1])
    codes = [string_value(c) for c in found.get("codes", _NO_NODES)]
    is_credit_note = el.getroottree().getroot().tag == CREDIT_NOTE
    has_scheme = any(i.get("schemeID") is not None for i in found.get("ids", _NO_NODES))
    if not ("130" in codes or (is_credit_note and "50" in codes) or (not has_scheme and not codes)):
        yield _fatal(
            "UBL-SR-43",
            "A scheme identifier (ID/@schemeID) or a DocumentTypeCode may only be used for the "
            "invoiced object identifier (BT-18, code 130) or, in a credit note, the project "
            "reference (BT-11, code 50).",
            el,
        )


def _delivery(el, found: dict[str, list]) -> Iterable[Finding]:
    names = found.get("names", _NO_NODES)
    if len(names) > 1:
        yield _fatal("UBL-SR-25", "Deliver to party name (BT-70) shall occur at most once.", names[1])


def _allowance_charge(el, found: dict[str, list]) -> Iterable[Finding]:
    reasons = found.get("reasons", _NO_NODES)
    if len(reasons) <= 1:
        return  # (whatever the indicators)
    indicators = [xs_boolean(string_value(c)) for c in found.get("indicators", _NO_NODES)]
    if None in indicators or not indicators:
        return  # the official context pattern does not match (cast error or no indicator)
    if len(reasons) > 1:
        if False in indicators:
            yield _fatal("UBL-SR-30", "Allowance reason (BT-97, BT-139) shall occur at most once.", reasons[1])
        else:
            yield _fatal("UBL-SR-31", "Charge reason (BT-104, BT-144) shall occur at most once.", reasons[1])


def _party_tax_scheme(el, found: dict[str, list]) -> Iterable[Finding]:
    if not (found.get("scheme_ids") and found.get("company_ids")):
        yield _fatal(
            "UBL-SR-53",
            "A PartyTaxScheme shall carry both the identifier (CompanyID: BT-31, BT-32, BT-48 "
            "or BT-63) and its tax scheme (TaxScheme/ID).",
            el,
        )


_LINE_COUNTS = (
    ("UBL-SR-34", ("cbc:Note",), "Invoice line note (BT-127)"),
    ("UBL-SR-35", ("cac:OrderLineReference", "cbc:LineID"), "Referenced purchase order line reference (BT-132)"),
    ("UBL-SR-36", ("cac:InvoicePeriod",), "Invoice line period (BG-26)"),
    ("UBL-SR-37", ("cac:Price", "cac:AllowanceCharge", "cbc:Amount"), "Item price discount (BT-147)"),
    ("UBL-SR-50", ("cac:Item", "cbc:Description"), "Item description (BT-154)"),
    ("UBL-SR-52", ("cac:DocumentReference",), "Invoice line object identifier (BT-128) document reference"),
)
_LINE_READS = {
    **{rule: steps for rule, steps, _term in _LINE_COUNTS},
    "UBL-SR-48": ("cac:Item", "cac:ClassifiedTaxCategory"),
}


def _line(el, found: dict[str, list]) -> list[Finding]:
    """An invoice line's rules, from the elements the pass collected under it (``_LINE_READS``), by key."""
    out = []
    for rule, _steps, term in _LINE_COUNTS:
        nodes = found.get(rule)
        if nodes and len(nodes) > 1:
            out.append(
                _fatal(
                    rule, f"{term} occurs {len(nodes)} times in an invoice line; it shall occur at most once.", nodes[1]
                )
            )
    categories = found.get("UBL-SR-48", _NO_NODES)
    if len(categories) != 1:
        out.append(
            _fatal(
                "UBL-SR-48",
                "An invoice line shall have exactly one item VAT category (ClassifiedTaxCategory, BT-151); it has "
                f"{len(categories)}.",
                el,
            )
        )
    return out


def _payee(el, _found: dict[str, list]) -> Iterable[Finding]:
    names = [string_value(n) for n in _path(el, "cac:PartyName", "cbc:Name")]
    parent = el.getparent()
    seller = (
        [string_value(n) for n in _path(parent, _ASP, "cac:Party", "cac:PartyLegalEntity", "cbc:RegistrationName")]
        if parent is not None
        else []
    )
    differs = any(a != b for a in names for b in seller)  # XPath general comparison '!='
    why = "the payee name (BT-59) is missing or equal to the seller name (BT-27)" if not differs else ""
    if len(names) > 1 or not differs:
        yield _fatal(
            "UBL-SR-19",
            "Payee name (BT-59) shall occur exactly once and the payee shall differ from the "
            f"seller{': ' + why if why else ''}.",
            el,
        )
    ids = [i for i in _path(el, "cac:PartyIdentification", "cbc:ID") if (i.get("schemeID") or "").upper() != "SEPA"]
    if len(ids) > 1 or not differs:
        yield _fatal(
            "UBL-SR-20",
            "Payee identifier (BT-60) shall occur at most once and the payee shall differ from "
            f"the seller{': ' + why if why else ''}.",
            el,
        )
    legal = _path(el, "cac:PartyLegalEntity", "cbc:CompanyID")
    if len(legal) > 1 or not differs:
        yield _fatal(
            "UBL-SR-21",
            "Payee legal registration identifier (BT-61) shall occur at most once and the payee "
            f"shall differ from the seller{': ' + why if why else ''}.",
            el,
        )


_PAYMENT_MEANS_COUNTS = (
    ("UBL-SR-26", ("cbc:PaymentID",), "Remittance information (BT-83)"),
    ("UBL-SR-27", ("cbc:PaymentMeansCode",), "Payment means type code (BT-81)"),
    ("UBL-SR-28", ("cac:PaymentMandate", "cbc:ID"), "Mandate reference identifier (BT-89)"),
)


def _payment_means(el, found: dict[str, list]) -> Iterable[Finding]:
    for rule, _steps, term in _PAYMENT_MEANS_COUNTS:
        nodes = found.get(rule, _NO_NODES)
        if len(nodes) > 1:
            yield _fatal(
                rule, f"{term} occurs {len(nodes)} times in one payment means; it shall occur at most once.", nodes[1]
            )


def _billing_reference(el, found: dict[str, list]) -> Iterable[Finding]:
    refs = found.get("refs", _NO_NODES)
    if len(refs) > 1:
        yield _fatal(
            "UBL-SR-06", "Preceding invoice reference (BG-3) shall occur at most once per BillingReference.", refs[1]
        )
    if not found.get("ref_ids"):
        yield _fatal(
            "UBL-SR-07",
            "A billing reference shall contain the preceding invoice number (BT-25) in InvoiceDocumentReference/ID.",
            el,
        )


def _tax_representative(el, found: dict[str, list]) -> Iterable[Finding]:
    names = found.get("names", _NO_NODES)
    if len(names) > 1:
        yield _fatal("UBL-SR-22", "Seller tax representative name (BT-62) shall occur at most once.", names[1])
    ids = found.get("ids", _NO_NODES)
    if len(ids) > 1:
        yield _fatal("UBL-SR-23", "Seller tax representative VAT identifier (BT-63) shall occur at most once.", ids[1])


def _tax_subtotal(el, found: dict[str, list]) -> Iterable[Finding]:
    reasons = found.get("reasons", _NO_NODES)
    if len(reasons) > 1:
        yield _fatal(
            "UBL-SR-32", "VAT exemption reason text (BT-120) shall occur at most once per VAT breakdown.", reasons[1]
        )


# the context rules: context tag -> (function of a context element and of what the pass collected under it by key,
# {key: the child steps to it}); a context is any element with that tag
_ADDRESS_READS = {"lines": ("cac:AddressLine",)}
_CONTEXTS: dict[str, tuple[Callable[..., Iterable[Finding]], dict[str, tuple[str, ...]]]] = {
    q("cac:PostalAddress"): (_address, _ADDRESS_READS),
    q("cac:Address"): (_address, _ADDRESS_READS),
    q("cac:Party"): (_party, {"schemes": ("cac:PartyTaxScheme",)}),
    q("cac:AdditionalDocumentReference"): (
        _additional_document,
        {"descriptions": ("cbc:DocumentDescription",), "codes": ("cbc:DocumentTypeCode",), "ids": ("cbc:ID",)},
    ),
    q("cac:Delivery"): (_delivery, {"names": ("cac:DeliveryParty", "cac:PartyName", "cbc:Name")}),
    q("cac:AllowanceCharge"): (
        _allowance_charge,
        {"indicators": ("cbc:ChargeIndicator",), "reasons": ("cbc:AllowanceChargeReason",)},
    ),
    q("cac:PartyTaxScheme"): (
        _party_tax_scheme,
        {"scheme_ids": ("cac:TaxScheme", "cbc:ID"), "company_ids": ("cbc:CompanyID",)},
    ),
    q("cac:InvoiceLine"): (_line, _LINE_READS),
    q("cac:CreditNoteLine"): (_line, _LINE_READS),
    q("cac:PayeeParty"): (_payee, {}),  # (it reads its parent's seller too)
    q("cac:PaymentMeans"): (_payment_means, {rule: steps for rule, steps, _term in _PAYMENT_MEANS_COUNTS}),
    q("cac:BillingReference"): (
        _billing_reference,
        {"refs": ("cac:InvoiceDocumentReference",), "ref_ids": ("cac:InvoiceDocumentReference", "cbc:ID")},
    ),
    q("cac:TaxRepresentativeParty"): (
        _tax_representative,
        {"names": ("cac:PartyName", "cbc:Name"), "ids": ("cac:Party", "cac:PartyTaxScheme", "cbc:CompanyID")},
    ),
    q("cac:TaxSubtotal"): (_tax_subtotal, {"reasons": ("cac:TaxCategory", "cbc:TaxExemptionReason")}),
}
# context tag -> {key: Clark tags of the steps}
_CONTEXT_READS = {
    tag: {key: tuple(q(step) for step in steps) for key, steps in reads.items()}
    for tag, (_f, reads) in _CONTEXTS.items()
}
_CONTEXT_READS_DEPTH = max(len(path) for reads in _CONTEXT_READS.values() for path in reads.values())


# ----------------------------------------------------------------------------- the pass
_CODES = codelists.index_for("ubl")
_DISTINCT_TAGS = {q("cbc:PaymentID"): "UBL-SR-44", q("cbc:PaymentMeansCode"): "UBL-SR-47"}
# elements other families read, handed over by the pass (see _helpers.pass_elements), so that they need no tree walk of
# their own: reader -> tags, and tag -> the readers' names
UBL_SHARED_TAGS = {"decimals": decimals.UBL_TAGS, "vat": _vat.UBL_TAGS}
_SHARED_BY_TAG: dict[str, tuple[str, ...]] = {}
for _reader, _tags in UBL_SHARED_TAGS.items():
    for _tag in _tags:
        _SHARED_BY_TAG[_tag] = (*_SHARED_BY_TAG.get(_tag, ()), _reader)
_PAYMENT_MEANS_CODE = q("cbc:PaymentMeansCode")
_PARTY_ID = (q("cac:PartyIdentification"), q("cbc:ID"))  # (parent, tag) of the SEPA creditor identifiers (UBL-SR-29)
# the ancestors' tags an entry is built from (the last ones): enough for every UBL-CR path, anchored ones with the
# document element, for the paths of _ROOT_KEYS and for those the context rules read
_ANCESTORS_KEPT = max(
    max(len(rule.steps) + rule.anchored for rule, _leaf in _CR_RULES),
    max(len(path) for path in _ROOT_KEYS),
    _CONTEXT_READS_DEPTH,
)


class _Children(dict):
    """Child tag -> the pass's entry (``_entry``) for such a child of the elements at one path from the document
    element: built the first time the tag is met there."""

    __slots__ = ("above", "ptag", "ancestors", "depth", "top", "reads", "attribute_rules")

    # (no dict.__init__ call: an element's table is made with its entry, mostly for a leaf that never uses it)
    def __init__(self, above: tuple[str, ...], ptag: str | None, depth: int, top: int = 0) -> None:
        self.above = above  # the parent's ancestors (see ancestors)
        self.ptag = ptag  # the parent's tag (None: above the document element)
        self.ancestors: tuple[str, ...] | None = None  # the last _ANCESTORS_KEPT tags of the path, the parent's last
        self.depth = depth  # the length of the path (0: above the document element)
        self.top = top  # the depth of the pass's root: that of _root_rules' paths (0 unless it has a parent)
        # (levels up, _CONTEXT_READS) of the context ancestors a child can be read by
        self.reads: tuple[tuple[int, dict[str, tuple[str, ...]]], ...] = ()
        # the parent's UBL-CR attribute rules whose path holds, by attribute name (_attribute_cr_rules)
        self.attribute_rules: dict[str, tuple | None] | None = None

    def __missing__(self, tag) -> tuple:
        if tag.__class__ is not str:
            return _NOTHING  # comments, processing instructions
        if self.ancestors is None:  # (the first child met here)
            ancestors = self.ancestors = (*self.above, self.ptag)[-_ANCESTORS_KEPT:]
            self.reads = tuple(
                (up, _CONTEXT_READS[ancestors[-up]])
                for up in range(1, min(self.depth - self.top, _CONTEXT_READS_DEPTH) + 1)  # (contexts the pass meets)
                if ancestors[-up] in _CONTEXT_READS
            )
        return _entry(self, tag)


# The tables the pass fills as it meets paths (per process, bounded: _TABLES): the entries of the children at each
# path, from _TOP (above the document element).
_TOP = _Children((), None, 0)
_TOP.ancestors = ()
_TABLES = BoundedTables(_TOP.clear)


# an entry: (the entries of the element's children, what the pass does with it or None, its attribute flags) (see
# _entry); that of comments and processing instructions
_NO_ACTION = (None, None, None, None, None)
# (whether @name is UBL-DT-18 on it, whether it is a SEPA creditor identifier's place): one tuple each
_ATTRIBUTE_FLAGS = {(dt_18, sepa): (dt_18, sepa) for dt_18 in (False, True) for sepa in (False, True)}
_NOTHING = (None, None, _ATTRIBUTE_FLAGS[False, False])
_UNKNOWN = object()


def _cr_matches(rules: Iterable[CRRule], ancestors: tuple[str, ...], depth: int) -> tuple | None:
    """(rule, predicate) of the UBL-CR rules whose path holds at this place, in the order given, or None."""
    found = tuple(
        dict.fromkeys((rule, rule.predicate()) for rule in rules if rule.matches_at(ancestors, depth))  # type: ignore[misc]
    )
    return found or None


# the tags some table names (an element of another tag can only be an amount or a binary object, by its name)
_TAGS_NAMED = frozenset(
    (
        *_SHARED_BY_TAG,
        *_CODES,
        *_CR_BY_LEAF,
        *_CONTEXTS,
        *_DISTINCT_TAGS,
        *(path[-1] for path in _ROOT_KEYS),
        *(path[-1] for reads in _CONTEXT_READS.values() for path in reads.values()),
    )
)


def _attribute_cr_rules(name: str, by_owner: dict, below: _Children) -> tuple | None:
    """_cr_matches of the UBL-CR rules of an attribute name (``_CR_BY_ATTR``) on an element, from the table of its
    children (``below``: its tag, its ancestors' tags, its depth); kept there."""
    tag = below.ptag
    matched = _cr_matches((*by_owner.get(tag, ()), *by_owner.get(None, ())), below.above, below.depth - 1)
    if below.attribute_rules is None:
        below.attribute_rules = {}
    below.attribute_rules[name] = matched
    return matched


def _code_check(rules: tuple) -> tuple:
    """(rules, attribute, accepted): the usual cases of the first rule the pass answers without evaluate()'s call.
    attribute None: the element's trimmed string value in ``accepted`` (None: no short cut); else that attribute's,
    trimmed (the rule applies to every such element)."""
    rule = rules[0]
    if rule.simple:
        return rules, None, rule.accepted
    if rule.plain_attribute and rule.applies is None:
        return rules, rule.attribute, rule.accepted
    return rules, None, None


def _entry(table: _Children, tag: str) -> tuple:
    """The entry of an element with this tag at ``table``'s path, kept in ``table`` (see _NOTHING). What the pass does
    with the element: (readers it is handed over to, its code rules for its parent (``_code_check``), the UBL-CR rules
    whose path holds there (``_cr_matches``), what it is collected as (its _ROOT_KEYS, its (depth of the line, key)
    of _LINE_PATHS, its depth when it is an invoice line), (amount, binary object, context rule, distinct
    rule) or None). Its attribute flags: _ATTRIBUTE_FLAGS (its UBL-CR attribute rules are matched as names are
    met: _attribute_cr_rules)."""
    ancestors, depth = table.ancestors, table.depth
    ptag = ancestors[-1] if depth else None
    local = tag.rpartition("}")[2]
    amount = local.endswith("Amount") and not local.endswith("PriceAmount")
    binary = local.endswith("BinaryObject")
    attributes = _ATTRIBUTE_FLAGS[tag != _PAYMENT_MEANS_CODE, (ptag, tag) == _PARTY_ID]
    below = _Children(ancestors, tag, depth + 1, table.top)
    if tag in _TAGS_NAMED:
        action = _action(table, tag, ptag, amount, binary)
    else:  # (a tag no table names: made-up tags cost little)
        action = (None, None, None, None, (amount, binary, None)) if amount or binary else None
    entry = (below, action, attributes)
    if _TABLES.keep():
        table[tag] = entry
    return entry


def _action(table: _Children, tag: str, ptag: str | None, amount: bool, binary: bool) -> tuple | None:
    """What the pass does with an element of a tag some table names (see _entry)."""
    ancestors, depth = table.ancestors, table.depth
    shared = _SHARED_BY_TAG.get(tag)
    code = None
    code_rules = _CODES.get(tag)
    if code_rules is not None:
        rules, by_code_parent = code_rules
        if by_code_parent and ptag is not None:
            rules = by_code_parent.get(ptag, rules)
        if rules:  # (none for this parent: nothing to evaluate)
            code = _code_check(rules)
    crs = None
    by_parent = _CR_BY_LEAF.get(tag)
    if by_parent is not None:
        crs = _cr_matches((*by_parent.get(ptag, ()), *by_parent.get(None, ())), ancestors, depth)
    below_root = depth - table.top  # (the steps from the pass's root)
    root_keys = (
        _ROOT_KEYS.get((*ancestors[len(ancestors) - below_root + 1 :], tag))
        if 1 <= below_root <= _ANCESTORS_KEPT
        else None
    )
    context_keys = tuple(
        (depth - up, key)  # (the context is the ancestor ``up`` levels up)
        for up, reads in table.reads
        for key, path in reads.items()
        if len(path) == up and path[-1] == tag and path[:-1] == ancestors[len(ancestors) - up + 1 :]
    )
    rules = _CONTEXTS.get(tag)
    context = (rules[0], depth) if rules is not None else None
    collected = (root_keys, context_keys, context) if root_keys or context_keys or context is not None else None
    distinct = _DISTINCT_TAGS.get(tag)
    rare = (amount, binary, distinct) if amount or binary or distinct else None
    action = (shared, code, crs, collected, rare)
    return None if action == _NO_ACTION else action


_PRICE = q("cac:Price")
_PRICE_AC = q("cac:AllowanceCharge")


def _in_price_allowance(el) -> bool:
    """ancestor::cac:Price/cac:AllowanceCharge exists."""
    for anc in el.iterancestors(_PRICE):
        if _kids(anc, _PRICE_AC):
            return True
    return False


def _holds(el, predicate: tuple[int, Callable]) -> bool:
    up, test = predicate
    for _ in range(up):
        el = el.getparent()
    return test(el)


def _amount_rule(el, value: str) -> list[Finding]:
    """UBL-DT-01, for an amount whose value has more than two decimals."""
    if _in_price_allowance(el):
        return []
    return [
        _fatal(
            "UBL-DT-01",
            f"{_short(el.tag)} '{value}' has more than two decimals; amounts shall have at most two fraction digits.",
            el,
        )
    ]


def _binary_rules(el) -> list[Finding]:
    """UBL-DT-06/07: a binary object's MIME code and file name."""
    out: list[Finding] = []
    if el.get("mimeCode") is None:
        out.append(
            _fatal(
                "UBL-DT-06",
                f"{_short(el.tag)} has no mimeCode attribute; attached documents shall "
                "state their MIME code (BT-125-1).",
                el,
            )
        )
    if el.get("filename") is None:
        out.append(
            _fatal(
                "UBL-DT-07",
                f"{_short(el.tag)} has no filename attribute; attached documents shall "
                "state their file name (BT-125-2).",
                el,
            )
        )
    return out


def _start(root) -> _Children:
    """The table of the root's path: _TOP, unless it has a parent (then built for its ancestors: the UBL-CR paths are
    read from the document element, _root_rules' from the root)."""
    if root.getparent() is None:
        return _TOP
    tags = [a.tag for a in root.iterancestors()][::-1]
    return _Children(tuple(tags[:-1]), tags[-1], len(tags), len(tags))


def _check_ubl(root, doc: Document | None = None) -> list[Finding]:
    _TABLES.start_document()
    out: list[Finding] = []
    found: dict[str, list] = {}  # what _root_rules reads, by key
    contexts: list = []  # (context element, its rules function, what was collected under it by key)
    collections: dict[int, dict] = {}  # depth -> what is collected under the latest context element at that depth
    cr_hits: dict[str, tuple[CRRule, object]] = {}
    distinct: dict[str, dict[str, object]] = {"UBL-SR-44": {}, "UBL-SR-47": {}}
    code_findings: list[Finding] = []
    elements: dict[str, list] = {reader: [] for reader in UBL_SHARED_TAGS}  # handed over to other families
    owners: list = []  # (element, its attribute names, its children's table, its attribute flags) with attributes

    # The nodes come in document order: an element's children follow it, so the entries of the current parent's
    # children (``table``) and how many of them are still to come (``remaining``) say where each node is, without
    # getparent(); ``stack`` holds those of the open ancestors (the same walk as syntax_cii's, written inline in
    # both: it runs once per node).
    table = _start(root)
    remaining = 1
    stack: list = []
    for el in doc.iter_nodes() if doc is not None else root.iter():
        below, action, attributes = table[el.tag]
        names = el.keys()
        if names:  # (any element's attributes can break a rule: see the loop over them below)
            owners.append((el, names, below, attributes))
        children = len(el)  # (comments and processing instructions included, like the nodes)
        if action is not None:
            shared, code, crs, collected, rare = action
            if shared is not None:
                for reader in shared:
                    elements[reader].append(el)
            if collected is not None:
                root_keys, context_keys, context = collected
                if root_keys:
                    for key in root_keys:
                        found.setdefault(key, []).append(el)
                for depth, key in context_keys:  # (the context element at that depth is the latest met: an ancestor)
                    collections[depth].setdefault(key, []).append(el)
                if context is not None:
                    function, depth = context
                    collections[depth] = collection = {}
                    contexts.append((el, function, collection))
            if rare is not None:
                amount, binary, distinct_rule = rare
                if amount:  # (only a value with more than two decimals can break UBL-DT-01)
                    value = el.text or "" if not children else string_value(el)
                    if "." in value and len(value.partition(".")[2]) > 2:
                        out.extend(_amount_rule(el, value))
                if binary:
                    out.extend(_binary_rules(el))
                if distinct_rule is not None:
                    distinct[distinct_rule].setdefault(el.text or "" if not children else string_value(el), el)
            if code is not None:
                # the usual cases of the first rule answered inline (evaluate()'s short cuts, without the call): an
                # accepted string value, or an accepted attribute of a rule that applies to every such element
                rules, attribute, accepted = code
                if attribute is None:
                    ok = (
                        accepted is not None
                        and (el.text or "" if not children else string_value(el)).strip(XML_WS) in accepted
                    )
                else:
                    raw = el.get(attribute)
                    ok = raw is not None and raw.strip(XML_WS) in accepted
                if not ok:
                    finding = codelists.evaluate(el, rules, True)
                    if finding is not None:
                        code_findings.append(finding)
            if crs is not None:
                for rule, predicate in crs:
                    if rule.rule not in cr_hits and (predicate is None or _holds(el, predicate)):
                        cr_hits[rule.rule] = (rule, el)
        if children:
            stack.append(remaining - 1)
            stack.append(table)
            table = below
            remaining = children
        elif remaining > 1:
            remaining -= 1
        else:  # the last child: back to the first ancestor with children still to come
            while stack:
                table = stack.pop()
                remaining = stack.pop()
                if remaining:
                    break
    out[:0] = _root_rules(found)
    for context, function, collection in contexts:  # (after the pass: what they read is collected)
        out.extend(function(context, collection))

    attr_hits: dict[str, object] = {}
    sepa: list = []
    # every attribute in document order, like //@* (read from the names the pass took: an XPath building one result
    # object per attribute cost twice as much)
    for owner, names, below, (dt_18, sepa_place) in owners:
        for name in names:
            if name in _DT_ATTRIBUTES:
                attr_hits.setdefault(_DT_ATTRIBUTES[name], owner)
                continue
            if name == "name":
                if dt_18:
                    attr_hits.setdefault("UBL-DT-18", owner)
            elif name == "schemeID" and sepa_place and owner.get(name).upper() == "SEPA":
                sepa.append(owner)
            by_owner = _CR_BY_ATTR.get(name)
            if by_owner is None:
                continue
            cached = below.attribute_rules
            matched = cached.get(name, _UNKNOWN) if cached is not None else _UNKNOWN
            if matched is _UNKNOWN:
                matched = _attribute_cr_rules(name, by_owner, below)
            if matched is not None:
                for rule, predicate in matched:
                    if rule.rule not in cr_hits and (predicate is None or _holds(owner, predicate)):
                        cr_hits[rule.rule] = (rule, owner)

    for rule_id, values in distinct.items():
        if len(values) > 1:
            second = list(values.values())[1]
            if rule_id == "UBL-SR-44":
                msg = (
                    f"The invoice has {len(values)} different remittance information values (BT-83); "
                    "only one is allowed."
                )
            else:
                msg = f"The invoice has {len(values)} different payment means type codes (BT-81); only one is allowed."
            out.append(_fatal(rule_id, msg, second))
    if len(sepa) > 1:
        out.append(
            _fatal(
                "UBL-SR-29",
                "Bank assigned creditor identifier (BT-90, schemeID SEPA) shall occur at most once.",
                sepa[1],
            )
        )
    for rule_id, owner in attr_hits.items():
        attribute = "name" if rule_id == "UBL-DT-18" else next(k for k, v in _DT_ATTRIBUTES.items() if v == rule_id)
        out.append(
            Finding(
                rule_id,
                WARNING,
                f"The attribute @{attribute} should not be used in an EN 16931 UBL invoice.",
                path_of(owner),
            )
        )
    for rule, el in cr_hits.values():
        out.append(Finding(rule.rule, rule.severity, _cr_message(rule), path_of(el)))
    if doc is not None:
        codelists.share(doc, code_findings)
        share_elements(doc, elements)
    return out


def check(doc: Document) -> Iterable[Finding]:
    if doc.syntax != "ubl":
        return ()
    return _check_ubl(doc.root, doc)
