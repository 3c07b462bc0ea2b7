"""CII syntax binding rules: CII-SR-* (elements EN 16931 does not use, cardinalities) and CII-DT-*
(data types), as in release 1.3.16 of the CEN artefacts (EN16931-CII-syntax.sch).

The rules are data:

* ``_PRESENCE``: per context, one line per rule ``<id> <W|F> <path>``: the rule fires (once per
  context element) when the path, relative to the context and optionally ending in ``@attribute``,
  exists.
* ``_COUNTS``: cardinalities ``<id> <W|F> <max1|eq1> <path>`` per context, and ``_KEYS``: the
  elements the rules with a condition of their own read (functions in ``_SPECIAL``).
* the data-type rules on attributes (``_attribute_rules``), checked from the elements with
  attributes met in the pass whose tag such a rule can apply to (``_attributes_checked``; the few
  elements they tell apart by their position are ``_ATTRIBUTE_KEYS``), and the "anywhere" data-type
  contexts (``ram:*ReferencedDocument``, ``ram:*TradeTax``, ``ram:BillingSpecifiedPeriod``,
  ``ram:PostalTradeAddress`` …).

One pass over the document's nodes, in document order, does it all. Every path these tables name,
from the document element, is a node of one tree of positions (``_Position``): an element's
position comes from its parent's (no look up its ancestors), and says which presence rule it
breaks, which context it is and what the count and conditional rules of its context collect. A
context element's rules then run only when what was collected under it can break one (a key
collected twice, an exactly-once key missing, a trigger of its conditional rules:
``_SPECIAL_TRIGGERS``, ``_DECIDED_AT_END``). The per-tag work (the anywhere contexts, the code
lists, handed over to ``codelists`` through ``Document.scratch``, what the document-wide rules
read, ``_GATHER``: CII-SR-462, 467, 468, 469, the elements handed over to ``decimals``, the VAT
facts and BR-CO-03, ``CII_SHARED_TAGS``, ``_helpers.pass_elements``, and which attribute names
can break a data-type rule, ``_attribute_names``) is looked up once per (parent, tag) in tables
built as elements are met (``_Children``, ``_entry``). The pass knows each node's parent table
from the children counts of the open ancestors (no ``getparent()``), and the tables are bounded
per process: a document that fills them leaves them empty to the next (``_TABLES``, ``_helpers.BoundedTables``).

Contexts follow the official ones: most are absolute paths from the document element (the header
groups, the invoice lines), the others match anywhere. As in the compiled Schematron, an element
is the context of the first matching rule only: the four identifiers of ``IDTypeNoAttributes``
answer CII-DT-001…007 and never CII-DT-101…104, and the document type code answers
CII-DT-008/009, so CII-DT-010…012 can never fire. CII-SR-464's test is always true.

CII-SR-474 (per invoice line settlement: at most one ram:AdditionalReferencedDocument with TypeCode 130, BT-128),
475 and 476 (header agreement: at most one ram:Name, BT-123, and one ram:AttachmentBinaryObject, BT-125, counted
over every supporting document, TypeCode 916, and within one), warnings new in 1.3.16, compare
normalize-space(ram:TypeCode), read from a document's first TypeCode; CII-DT-018/021/022 compare the raw text, so
a " 916 " counts here and breaks those. They are conditional rules of their contexts (``_line_settlement``,
``_supporting_document_counts``) on keys of ``_KEYS`` that need no trigger: they can only fire once a key is collected
twice, which flags the context.

Severity per rule is the official flag (most "should not be present" rules are warnings).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..document import Document
from ..findings import FATAL, WARNING, Finding
from . import _vat, calculations, codelists, decimals
from ._helpers import BoundedTables, share_elements
from .codelists import XML_WS, normalize_space, path_of, string_value, xs_boolean

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
_NS = {"rsm": RSM, "ram": RAM, "udt": UDT}
_RAM_PREFIX = f"{{{RAM}}}"


_CLARK: dict[str, str] = {}


def q(name: str) -> str:
    """'ram:ID' -> Clark notation (memoised: rules call it on every document)."""
    tag = _CLARK.get(name)
    if tag is None:
        prefix, _, local = name.partition(":")
        tag = _CLARK[name] = f"{{{_NS[prefix]}}}{local}"
    return tag


# ----------------------------------------------------------------------------- contexts
# name -> path of child steps from the document element
_CONTEXTS: dict[str, tuple[str, ...]] = {
    "root": (),
    "document_context": ("rsm:ExchangedDocumentContext",),
    "exchanged_document": ("rsm:ExchangedDocument",),
    "document_note": ("rsm:ExchangedDocument", "ram:IncludedNote"),
    "line": ("rsm:SupplyChainTradeTransaction", "ram:IncludedSupplyChainTradeLineItem"),
    "line_document": (
        "rsm:SupplyChainTradeTransaction",
        "ram:IncludedSupplyChainTradeLineItem",
        "ram:AssociatedDocumentLineDocument",
    ),
    "product": ("rsm:SupplyChainTradeTransaction", "ram:IncludedSupplyChainTradeLineItem", "ram:SpecifiedTradeProduct"),
    "characteristic": (
        "rsm:SupplyChainTradeTransaction",
        "ram:IncludedSupplyChainTradeLineItem",
        "ram:SpecifiedTradeProduct",
        "ram:ApplicableProductCharacteristic",
    ),
    "line_agreement": (
        "rsm:SupplyChainTradeTransaction",
        "ram:IncludedSupplyChainTradeLineItem",
        "ram:SpecifiedLineTradeAgreement",
    ),
    "line_delivery": (
        "rsm:SupplyChainTradeTransaction",
        "ram:IncludedSupplyChainTradeLineItem",
        "ram:SpecifiedLineTradeDelivery",
    ),
    "line_settlement": (
        "rsm:SupplyChainTradeTransaction",
        "ram:IncludedSupplyChainTradeLineItem",
        "ram:SpecifiedLineTradeSettlement",
    ),
    "agreement": ("rsm:SupplyChainTradeTransaction", "ram:ApplicableHeaderTradeAgreement"),
    "delivery": ("rsm:SupplyChainTradeTransaction", "ram:ApplicableHeaderTradeDelivery"),
    "settlement": ("rsm:SupplyChainTradeTransaction", "ram:ApplicableHeaderTradeSettlement"),
    "summation": (
        "rsm:SupplyChainTradeTransaction",
        "ram:ApplicableHeaderTradeSettlement",
        "ram:SpecifiedTradeSettlementHeaderMonetarySummation",
    ),
}


_GP = "ram:GrossPriceProductTradePrice"
_GPAC = _GP + "/ram:AppliedTradeAllowanceCharge"
_NP = "ram:NetPriceProductTradePrice"
_PC = "ram:ApplicableProductCharacteristic"
_DPC = "ram:DesignatedProductClassification"
_STAC = "ram:SpecifiedTradeAllowanceCharge"
_SUM = "ram:SpecifiedTradeSettlementLineMonetarySummation"
_RSTAA = "ram:ReceivableSpecifiedTradeAccountingAccount"
_STP = "ram:SellerTradeParty"
_BTP = "ram:BuyerTradeParty"
_SLO = "ram:SpecifiedLegalOrganization"
_DTC = "ram:DefinedTradeContact"
_STRP = "ram:SellerTaxRepresentativeTradeParty"
_STTP = "ram:ShipToTradeParty"
_ADSCE = "ram:ActualDeliverySupplyChainEvent"
_PTP = "ram:PayeeTradeParty"
_PM = "ram:SpecifiedTradeSettlementPaymentMeans"
_CARD = _PM + "/ram:ApplicableTradeSettlementFinancialCard"
_STPT = "ram:SpecifiedTradePaymentTerms"


def _contact_rules(first: int, party: str) -> str:
    leaves = (
        "ram:ID ram:TypeCode ram:JobTitle ram:Responsibility ram:PersonID "
        "ram:TelephoneUniversalCommunication/ram:URIID "
        "ram:TelephoneUniversalCommunication/ram:ChannelCode ram:DirectTelephoneUniversalCommunication "
        "ram:MobileTelephoneUniversalCommunication ram:FaxUniversalCommunication "
        "ram:EmailURIUniversalCommunication/ram:ChannelCode ram:EmailURIUniversalCommunication/ram:CompleteNumber "
        "ram:TelexUniversalCommunication ram:VOIPUniversalCommunication ram:InstantMessagingUniversalCommunication "
        "ram:SpecifiedNote ram:SpecifiedContactPerson"
    ).split()
    return "\n".join(f"CII-SR-{first + i:03d} W {party}/{_DTC}/{leaf}" for i, leaf in enumerate(leaves))


def _series(first: int, base: str, leaves: str, flag: str = "W") -> str:
    prefix = base + "/" if base else ""
    return "\n".join(f"CII-SR-{first + i:03d} {flag} {prefix}{leaf}" for i, leaf in enumerate(leaves.split()))


_PRESENCE: dict[str, str] = {
    "root": "CII-SR-438 W ram:ValuationBreakdownStatement",
    "document_context": """
CII-SR-001 W ram:SpecifiedTransactionID
CII-SR-002 W ram:TestIndicator
CII-SR-006 W ram:BIMSpecifiedDocumentContextParameter
CII-SR-007 W ram:ScenarioSpecifiedDocumentContextParameter
CII-SR-008 W ram:ApplicationSpecifiedDocumentContextParameter
CII-SR-011 W ram:SubsetSpecifiedDocumentContextParameter
CII-SR-012 W ram:MessageStandardSpecifiedDocumentContextParameter
""",
    "exchanged_document": f"""
CII-SR-013 W ram:Name
CII-SR-015 W ram:IssueDateTime/udt:DateTime
{
        _series(
            16,
            "",
            "ram:CopyIndicator ram:Purpose ram:ControlRequirementIndicator ram:LanguageID ram:PurposeCode "
            "ram:RevisionDateTime ram:VersionID ram:GlobalID ram:RevisionID ram:PreviousRevisionID ram:CategoryCode "
            "ram:IncludedNote/ram:Subject ram:IncludedNote/ram:ContentCode",
        )
    }
CII-SR-032 W ram:IncludedNote/ram:ID
CII-SR-033 W ram:EffectiveSpecifiedPeriod
CII-SR-034 W ram:IssuerTradeParty
""",
    "line": """
CII-SR-035 W ram:DescriptionCode
CII-SR-036 W ram:ParentLineID
CII-SR-037 W ram:LineStatusCode
CII-SR-038 W ram:LineStatusReasonCode
CII-SR-221 W ram:IncludedSubordinateTradeLineItem
""",
    "line_document": _series(41, "ram:IncludedNote", "ram:SubjectCode ram:ID ram:Subject ram:ContentCode"),
    "product": f"""
CII-SR-045 W ram:ID
{
        _series(
            48,
            "",
            "ram:ManufacturerAssignedID ram:TradeName ram:TypeCode ram:NetWeightMeasure ram:GrossWeightMeasure "
            "ram:ProductGroupID ram:EndItemTypeCode ram:EndItemName ram:AreaDensityMeasure ram:UseDescription "
            "ram:BrandName ram:SubBrandName ram:DrainedNetWeightMeasure ram:VariableMeasureIndicator ram:ColourCode "
            "ram:ColourDescription ram:Designation ram:FormattedCancellationAnnouncedLaunchDateTime "
            "ram:FormattedLatestProductDataChangeDateTime",
        )
    }
CII-SR-067 W {_PC}/ram:ID
CII-SR-068 W {_PC}/ram:TypeCode
CII-SR-070 W {_PC}/ram:ValueMeasure
CII-SR-071 W {_PC}/ram:MeasurementMethodCode
{
        _series(
            73,
            _PC,
            "ram:ValueCode ram:ValueDateTime ram:ValueIndicator ram:ContentTypeCode "
            "ram:ValueSpecifiedBinaryFile ram:ApplicableProductCharacteristicCondition "
            "ram:ApplicableReferencedStandard",
        )
    }
CII-SR-080 W ram:ApplicableMaterialGoodsCharacteristic
{
        _series(
            81,
            _DPC,
            "ram:SystemID ram:SystemName ram:ClassName ram:SubClassCode ram:ClassProductCharacteristic "
            "ram:ApplicableReferencedStandard",
        )
    }
CII-SR-087 W ram:IndividualTradeProductInstance
CII-SR-088 W ram:CertificationEvidenceReferenceReferencedDocument
CII-SR-089 W ram:InspectionReferenceReferencedDocument
CII-SR-091 W ram:OriginTradeCountry/ram:Name
CII-SR-092 W ram:OriginTradeCountry/ram:SubordinateTradeCountrySubDivision
{
        _series(
            93,
            "",
            "ram:LinearSpatialDimension ram:MinimumLinearSpatialDimension ram:MaximumLinearSpatialDimension "
            "ram:ManufacturerTradeParty ram:PresentationSpecifiedBinaryFile ram:MSDSReferenceReferencedDocument "
            "ram:AdditionalReferenceReferencedDocument ram:LegalRightsOwnerTradeParty ram:BrandOwnerTradeParty "
            "ram:IncludedReferencedProduct ram:InformationNote",
        )
    }
""",
    "line_agreement": f"""
{
        _series(
            104,
            "",
            "ram:BuyerReference ram:BuyerRequisitionerTradeParty ram:ApplicableTradeDeliveryTerms "
            "ram:SellerOrderReferencedDocument ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID "
            "ram:QuotationReferencedDocument ram:ContractReferencedDocument ram:DemandForecastReferencedDocument "
            "ram:PromotionalDealReferencedDocument ram:AdditionalReferencedDocument",
        )
    }
{
        _series(
            114,
            _GP,
            "ram:TypeCode ram:MinimumQuantity ram:MaximumQuantity ram:ChangeReason "
            "ram:OrderUnitConversionFactorNumeric",
        )
    }
{
        _series(
            120,
            _GPAC,
            "ram:ID ram:SequenceNumeric ram:CalculationPercent ram:BasisAmount ram:BasisQuantity "
            "ram:PrepaidIndicator ram:UnitBasisAmount ram:ReasonCode ram:Reason ram:TypeCode ram:CategoryTradeTax "
            "ram:ActualTradeCurrencyExchange",
        )
    }
CII-SR-445 W {_GP}/ram:IncludedTradeTax
{
        _series(
            132,
            _GP,
            "ram:ValiditySpecifiedPeriod ram:DeliveryTradeLocation ram:TradeComparisonReferencePrice "
            "ram:AssociatedReferencedDocument",
        )
    }
CII-SR-136 W {_NP}/ram:TypeCode
{
        _series(
            138,
            _NP,
            "ram:MinimumQuantity ram:MaximumQuantity ram:ChangeReason ram:OrderUnitConversionFactorNumeric "
            "ram:AppliedTradeAllowanceCharge",
        )
    }
CII-SR-446 W {_NP}/ram:IncludedTradeTax
{
        _series(
            143,
            _NP,
            "ram:ValiditySpecifiedPeriod ram:DeliveryTradeLocation ram:TradeComparisonReferencePrice "
            "ram:AssociatedReferencedDocument",
        )
    }
{
        _series(
            147,
            "",
            "ram:RequisitionerReferencedDocument ram:ItemSellerTradeParty ram:ItemBuyerTradeParty "
            "ram:IncludedSpecifiedMarketplace",
        )
    }
CII-SR-447 W ram:UltimateCustomerOrderReferencedDocument
""",
    "line_delivery": _series(
        151,
        "",
        "ram:RequestedQuantity ram:ReceivedQuantity ram:ChargeFreeQuantity ram:PackageQuantity ram:ProductUnitQuantity "
        "ram:PerPackageUnitQuantity ram:NetWeightMeasure ram:GrossWeightMeasure ram:TheoreticalWeightMeasure "
        "ram:DespatchedQuantity ram:SpecifiedDeliveryAdjustment ram:IncludedSupplyChainPackaging "
        "ram:RelatedSupplyChainConsignment ram:ShipToTradeParty ram:UltimateShipToTradeParty ram:ShipFromTradeParty "
        "ram:ActualDespatchSupplyChainEvent ram:ActualPickUpSupplyChainEvent ram:RequestedDeliverySupplyChainEvent "
        "ram:ActualDeliverySupplyChainEvent ram:ActualReceiptSupplyChainEvent ram:AdditionalReferencedDocument "
        "ram:DespatchAdviceReferencedDocument ram:ReceivingAdviceReferencedDocument ram:DeliveryNoteReferencedDocument "
        "ram:ConsumptionReportReferencedDocument ram:PackingListReferencedDocument",
    ),
    "line_settlement": f"""
{
        _series(
            178,
            "",
            "ram:PaymentReference ram:InvoiceIssuerReference ram:TotalAdjustmentAmount ram:DiscountIndicator "
            "ram:ApplicableTradeTax/ram:CalculatedAmount",
        )
    }
CII-SR-183 W {_STAC}/ram:ChargeIndicator/udt:IndicatorString
{
        _series(
            184,
            _STAC,
            "ram:ID ram:SequenceNumeric ram:CalculationPercent/@format ram:BasisQuantity "
            "ram:PrepaidIndicator ram:UnitBasisAmount ram:TypeCode ram:CategoryTradeTax "
            "ram:ActualTradeCurrencyExchange "
            "ram:ID",
        )
    }
{_series(194, "", "ram:SubtotalCalculatedTradeTax ram:SpecifiedLogisticsServiceCharge ram:SpecifiedTradePaymentTerms")}
{
        _series(
            197,
            _SUM,
            "ram:ChargeTotalAmount ram:AllowanceTotalAmount ram:TaxBasisTotalAmount ram:TaxTotalAmount "
            "ram:GrandTotalAmount ram:InformationAmount ram:TotalAllowanceChargeAmount "
            "ram:TotalRetailValueInformationAmount ram:GrossLineTotalAmount ram:NetLineTotalAmount "
            "ram:NetIncludingTaxesLineTotalAmount ram:ProductWeightLossInformationAmount",
        )
    }
CII-SR-209 W ram:SpecifiedFinancialAdjustment
CII-SR-210 W ram:InvoiceReferencedDocument
CII-SR-212 W ram:PayableSpecifiedTradeAccountingAccount
{_series(213, _RSTAA, "ram:SetTriggerCode ram:TypeCode ram:AmountTypeCode ram:Name ram:CostReferenceDimensionPattern")}
{
        _series(
            218,
            "",
            "ram:PurchaseSpecifiedTradeAccountingAccount ram:SalesSpecifiedTradeAccountingAccount "
            "ram:SpecifiedTradeSettlementFinancialCard",
        )
    }
""",
    "agreement": f"""
CII-SR-442 W ram:Reference
CII-SR-222 W {_STP}/ram:RoleCode
{
        _series(
            223,
            _STP + "/" + _SLO,
            "ram:LegalClassificationCode ram:Name ram:PostalTradeAddress ram:AuthorizedLegalRegistration",
        )
    }
{_contact_rules(227, _STP)}
{
        _series(
            244,
            _STP,
            "ram:URIUniversalCommunication/ram:ChannelCode ram:URIUniversalCommunication/ram:CompleteNumber "
            "ram:SpecifiedTaxRegistration/ram:AssociatedRegisteredTax ram:EndPointURIUniversalCommunication "
            "ram:LogoAssociatedSpecifiedBinaryFile ",
        )
    }
CII-SR-249 W {_BTP}/ram:RoleCode
CII-SR-250 W {_BTP}/ram:Description
CII-SR-251 W {_BTP}/{_SLO}/ram:LegalClassificationCode
CII-SR-252 W {_BTP}/{_SLO}/ram:Name
CII-SR-254 W {_BTP}/{_SLO}/ram:PostalTradeAddress
CII-SR-255 W {_BTP}/{_SLO}/ram:AuthorizedLegalRegistration
{_contact_rules(256, _BTP)}
{
        _series(
            273,
            _BTP,
            "ram:URIUniversalCommunication/ram:ChannelCode ram:URIUniversalCommunication/ram:CompleteNumber "
            "ram:SpecifiedTaxRegistration/ram:AssociatedRegisteredTax ram:EndPointURIUniversalCommunication "
            "ram:LogoAssociatedSpecifiedBinaryFile",
        )
    }
{
        _series(
            278,
            "",
            "ram:SalesAgentTradeParty ram:BuyerRequisitionerTradeParty ram:BuyerAssignedAccountantTradeParty "
            "ram:SellerAssignedAccountantTradeParty ram:BuyerTaxRepresentativeTradeParty",
        )
    }
{
        _series(
            283,
            _STRP,
            "ram:GlobalID ram:RoleCode ram:Description ram:SpecifiedLegalOrganization "
            "ram:DefinedTradeContact ram:URIUniversalCommunication "
            "ram:SpecifiedTaxRegistration/ram:AssociatedRegisteredTax "
            "ram:EndPointURIUniversalCommunication ram:LogoAssociatedSpecifiedBinaryFile",
        )
    }
{
        _series(
            292,
            "",
            "ram:ProductEndUserTradeParty ram:ApplicableTradeDeliveryTerms "
            "ram:SellerOrderReferencedDocument/ram:LineID ram:BuyerOrderReferencedDocument/ram:LineID "
            "ram:QuotationReferencedDocument ram:OrderResponseReferencedDocument "
            "ram:ContractReferencedDocument/ram:LineID "
            "ram:DemandForecastReferencedDocument ram:SupplyInstructionReferencedDocument "
            "ram:PromotionalDealReferencedDocument ram:PriceListReferencedDocument "
            "ram:AdditionalReferencedDocument/ram:LineID ram:RequisitionerReferencedDocument ram:BuyerAgentTradeParty "
            "ram:PurchaseConditionsReferencedDocument ram:SpecifiedProcuringProject/ram:Description",
        )
    }
CII-SR-448 W ram:UltimateCustomerOrderReferencedDocument
""",
    "delivery": f"""
CII-SR-308 W ram:RelatedSupplyChainConsignment
{
        _series(
            309,
            _STTP,
            "ram:RoleCode ram:Description ram:SpecifiedLegalOrganization ram:DefinedTradeContact "
            "ram:URIUniversalCommunication ram:SpecifiedTaxRegistration ram:EndPointURIUniversalCommunication "
            "ram:LogoAssociatedSpecifiedBinaryFile",
        )
    }
{
        _series(
            317,
            "",
            "ram:UltimateShipToTradeParty ram:ShipFromTradeParty ram:ActualDespatchSupplyChainEvent "
            "ram:ActualPickUpSupplyChainEvent",
        )
    }
{
        _series(
            321,
            _ADSCE,
            "ram:ID ram:OccurrenceDateTime/udt:DateTime ram:TypeCode ram:Description "
            "ram:DescriptionBinaryObject ram:UnitQuantity ram:LatestOccurrenceDateTime ram:EarliestOccurrenceDateTime "
            "ram:OccurrenceSpecifiedPeriod ram:OccurrenceLogisticsLocation",
        )
    }
{
        _series(
            331,
            "",
            "ram:ActualReceiptSupplyChainEvent ram:AdditionalReferencedDocument "
            "ram:DespatchAdviceReferencedDocument/ram:LineID ram:DespatchAdviceReferencedDocument/ram:LineID "
            "ram:DeliveryNoteReferencedDocument ram:ConsumptionReportReferencedDocument "
            "ram:PreviousDeliverySupplyChainEvent ram:PackingListReferencedDocument",
        )
    }
""",
    "settlement": f"""
{
        _series(
            339,
            "",
            "ram:DuePayableAmount ram:CreditorReferenceTypeCode ram:CreditorReferenceType "
            "ram:CreditorReferenceIssuerID",
        )
    }
{
        _series(
            344,
            "",
            "ram:PaymentCurrencyCode ram:InvoiceIssuerReference ram:InvoiceDateTime ram:NextInvoiceDateTime "
            "ram:CreditReasonCode ram:CreditReason ram:InvoicerTradeParty ram:InvoiceeTradeParty",
        )
    }
CII-SR-352 W {_PTP}/ram:RoleCode
CII-SR-353 W {_PTP}/ram:Description
{
        _series(
            354,
            _PTP + "/" + _SLO,
            "ram:LegalClassificationCode ram:Name ram:TradingBusinessName "
            "ram:PostalTradeAddress ram:AuthorizedLegalRegistration",
        )
    }
{
        _series(
            359,
            _PTP,
            "ram:DefinedTradeContact ram:PostalTradeAddress ram:URIUniversalCommunication "
            "ram:SpecifiedTaxRegistration ram:EndPointURIUniversalCommunication ram:LogoAssociatedSpecifiedBinaryFile",
        )
    }
{
        _series(
            365,
            "",
            "ram:PayerTradeParty ram:TaxApplicableTradeCurrencyExchange "
            "ram:InvoiceApplicableTradeCurrencyExchange ram:PaymentApplicableTradeCurrencyExchange",
        )
    }
{_series(369, _PM, "ram:PaymentChannelCode ram:GuaranteeMethodCode ram:PaymentMethodCode")}
CII-SR-443 W {_PM}/ram:ID
CII-SR-372 W {_CARD}/ram:MicrochipIndicator
CII-SR-373 W {_CARD}/ram:TypeCode
{
        _series(
            375,
            _CARD,
            "ram:ExpiryDate ram:VerificationNumeric ram:ValidFromDateTime ram:CreditLimitAmount "
            "ram:CreditAvailableAmount ram:InterestRatePercent ram:Description",
        )
    }
CII-SR-382 W {_PM}/ram:PayerPartyDebtorFinancialAccount/ram:AccountName
CII-SR-444 W {_PM}/ram:PayerPartyDebtorFinancialAccount/ram:ProprietaryID
{
        _series(
            384,
            _PM + "/ram:PayerSpecifiedDebtorFinancialInstitution",
            "ram:ClearingSystemName ram:Name ram:LocationFinancialInstitutionAddress",
        )
    }
{
        _series(
            388,
            _STAC,
            "ram:ID ram:SequenceNumeric ram:BasisQuantity ram:PrepaidIndicator ram:UnitBasisAmount "
            "ram:TypeCode ram:ActualTradeCurrencyExchange",
        )
    }
CII-SR-395 W ram:SubtotalCalculatedTradeTax
CII-SR-396 W ram:SpecifiedLogisticsServiceCharge
{
        _series(
            397,
            _STPT,
            "ram:ID ram:FromEventCode ram:SettlementPeriodMeasure ram:DueDateDateTime/udt:DateTime "
            "ram:TypeCode ram:InstructionTypeCode",
        )
    }
{
        _series(
            404,
            _STPT,
            "ram:PartialPaymentPercent ram:PaymentMeansID ram:PartialPaymentAmount "
            "ram:ApplicableTradePaymentPenaltyTerms ram:ApplicableTradePaymentDiscountTerms ram:PayeeTradeParty",
        )
    }
{
        _series(
            421,
            "",
            "ram:SpecifiedFinancialAdjustment ram:InvoiceReferencedDocument/ram:LineID "
            "ram:ProFormaInvoiceReferencedDocument ram:LetterOfCreditReferencedDocument "
            "ram:FactoringAgreementReferencedDocument ram:FactoringListReferencedDocument "
            "ram:PayableSpecifiedTradeAccountingAccount",
        )
    }
{_series(428, _RSTAA, "ram:SetTriggerCode ram:TypeCode ram:AmountTypeCode ram:Name ram:CostReferenceDimensionPattern")}
{
        _series(
            433,
            "",
            "ram:PurchaseSpecifiedTradeAccountingAccount ram:SalesSpecifiedTradeAccountingAccount "
            "ram:SpecifiedTradeSettlementFinancialCard ram:SpecifiedAdvancePayment ram:UltimatePayeeTradeParty",
        )
    }
""",
    "summation": _series(
        411,
        "",
        "ram:InformationAmount ram:TotalDiscountAmount ram:TotalAllowanceChargeAmount "
        "ram:RetailValueExcludingTaxInformationAmount ram:TotalDepositFeeInformationAmount "
        "ram:ProductValueExcludingTobaccoTaxInformationAmount ram:TotalRetailValueInformationAmount "
        "ram:GrossLineTotalAmount ram:NetLineTotalAmount ram:NetIncludingTaxesLineTotalAmount",
    ),
}

# context -> (rule, flag, op, path)
_COUNTS_TABLE = f"""
document_context CII-SR-003 W max1 ram:BusinessProcessSpecifiedDocumentContextParameter
document_context CII-SR-009 F eq1 ram:GuidelineSpecifiedDocumentContextParameter
document_context CII-SR-010 F eq1 ram:GuidelineSpecifiedDocumentContextParameter/ram:ID
exchanged_document CII-SR-014 F eq1 ram:TypeCode
document_note CII-SR-030 W max1 ram:Content
line_document CII-SR-039 W max1 ram:IncludedNote
line_document CII-SR-040 W max1 ram:IncludedNote/ram:Content
characteristic CII-SR-069 F eq1 ram:Description
characteristic CII-SR-072 F eq1 ram:Value
line_agreement CII-SR-439 F eq1 {_NP}/ram:ChargeAmount
line_agreement CII-SR-441 F max1 {_NP}/ram:ChargeAmount
line_settlement CII-SR-454 W eq1 ram:ApplicableTradeTax
agreement CII-SR-455 F max1 {_STP}/{_DTC}
agreement CII-SR-456 F max1 {_BTP}/{_DTC}
agreement CII-SR-459 F max1 {_STP}/ram:URIUniversalCommunication
agreement CII-SR-460 F max1 {_BTP}/ram:URIUniversalCommunication
settlement CII-SR-452 W max1 {_STPT}
settlement CII-SR-453 W max1 {_STPT}/ram:Description
settlement CII-SR-461 F max1 ram:ApplicableTradeTax/ram:TaxPointDate
""" + "\n".join(
    f"summation CII-SR-{477 + i} F max1 ram:{leaf}"
    for i, leaf in enumerate(
        "LineTotalAmount ChargeTotalAmount AllowanceTotalAmount TaxBasisTotalAmount RoundingAmount GrandTotalAmount "
        "InformationAmount TotalPrepaidAmount TotalDiscountAmount TotalAllowanceChargeAmount DuePayableAmount "
        "RetailValueExcludingTaxInformationAmount TotalDepositFeeInformationAmount "
        "ProductValueExcludingTobaccoTaxInformationAmount TotalRetailValueInformationAmount GrossLineTotalAmount "
        "NetLineTotalAmount NetIncludingTaxesLineTotalAmount".split()
    )
)


def _severity(flag: str) -> str:
    return FATAL if flag == "F" else WARNING


def _steps(path: str) -> tuple[tuple[str, ...], str | None]:
    parts = path.split("/")
    attribute = parts.pop()[1:] if parts[-1].startswith("@") else None
    return tuple(q(p) for p in parts), attribute


_ROOT_TAG = q("rsm:CrossIndustryInvoice")


@dataclass(frozen=True, slots=True)
class _Presence:
    """A "should not be present" rule: the path from the document element to the element, the
    depth of its context element on that path (-1: the document element) and an optional attribute."""

    rule: str
    severity: str
    label: str
    attribute: str | None
    chain: tuple[str, ...]  # ancestors of the element, from the document element's child down
    context_depth: int


def _presence_rules() -> list[tuple[_Presence, str]]:
    """Every presence rule with the tag of the element it ends at."""
    rules: list[tuple[_Presence, str]] = []
    for context, table in _PRESENCE.items():
        context_steps = tuple(q(step) for step in _CONTEXTS[context])
        for line in table.strip().splitlines():
            if not line.strip():
                continue
            rule, flag, path = line.split()
            steps, attribute = _steps(path)
            chain = context_steps + steps[:-1]
            rules.append((_Presence(rule, _severity(flag), path, attribute, chain, len(context_steps) - 1), steps[-1]))
    return rules


# context -> {key: path}: elements the rules with a condition of their own read (collected in the same walk)
_KEYS: dict[str, dict[str, str]] = {
    "product": {
        "gid": "ram:GlobalID",
        "otc": "ram:OriginTradeCountry",
        "otc_id": "ram:OriginTradeCountry/ram:ID",
    },
    "line_settlement": {"ard": "ram:AdditionalReferencedDocument"},  # CII-SR-474
    "line_agreement": {
        "gpac": _GPAC,
        "gpac_ci": _GPAC + "/ram:ChargeIndicator",
        "gpac_ind": _GPAC + "/ram:ChargeIndicator/udt:Indicator",
        "gpac_amt": _GPAC + "/ram:ActualAmount",
    },
    "agreement": {
        "btp_id": _BTP + "/ram:ID",
        "btp_gid": _BTP + "/ram:GlobalID",
        "ard": "ram:AdditionalReferencedDocument",
        "ard_name": "ram:AdditionalReferencedDocument/ram:Name",  # CII-SR-475
        "ard_binary": "ram:AdditionalReferencedDocument/ram:AttachmentBinaryObject",  # CII-SR-476
        "CII-SR-465.c": f"{_STP}/{_DTC}",
        "CII-SR-465.p": f"{_STP}/{_DTC}/ram:PersonName",
        "CII-SR-465.d": f"{_STP}/{_DTC}/ram:DepartmentName",
        "CII-SR-466.c": f"{_BTP}/{_DTC}",
        "CII-SR-466.p": f"{_BTP}/{_DTC}/ram:PersonName",
        "CII-SR-466.d": f"{_BTP}/{_DTC}/ram:DepartmentName",
    },
    "delivery": {"sttp_id": _STTP + "/ram:ID", "sttp_gid": _STTP + "/ram:GlobalID"},
    "settlement": {"ptp_id": _PTP + "/ram:ID", "ptp_gid": _PTP + "/ram:GlobalID", "pm": _PM},
}


def _collected_paths() -> dict[str, dict[str, tuple[str, ...]]]:
    """context -> {key: child steps (Clark tags) from the context element}: what the pass collects per context
    element. A key is a count rule id (the rule counts the elements) or a name a conditional rule reads."""
    paths: dict[str, dict[str, tuple[str, ...]]] = {}
    for line in _COUNTS_TABLE.strip().splitlines():
        context, rule, _flag, _op, path = line.split()
        paths.setdefault(context, {})[rule] = _steps(path)[0]
    for context, keys in _KEYS.items():
        for key, path in keys.items():
            paths.setdefault(context, {})[key] = _steps(path)[0]
    return paths


# context -> [(rule, severity, op, path)]
_COUNTS: dict[str, list[tuple[str, str, str, str]]] = {}
for _line in _COUNTS_TABLE.strip().splitlines():
    _ctx, _rule, _flag, _op, _path_text = _line.split()
    _COUNTS.setdefault(_ctx, []).append((_rule, _severity(_flag), _op, _path_text))


def _first_child(el, tag: str):
    for child in el[:]:
        if child.tag == tag:
            return child
    return None


def _kids(el, tag: str) -> list:
    """The children of ``el`` with this tag (a plain loop: iterchildren(tag) builds a tag matcher per call)."""
    return [c for c in el[:] if c.tag == tag]


def _short(tag: str) -> str:
    return tag.rpartition("}")[2]


_NO_NODES: list = []


# ----------------------------------------------------------------------------- rules with conditions
def _product(ctx, found: dict, shared: dict) -> list[Finding]:
    out = []
    ids = found.get("gid")
    if ids and not any(i.get("schemeID") is not None for i in ids):
        out.append(
            Finding(
                "CII-SR-046",
                FATAL,
                "Item standard identifier (BT-157, GlobalID) has no scheme identifier (@schemeID, BT-157-1).",
                path_of(ids[0]),
            )
        )
    countries = found.get("otc")
    if countries:
        n = len(found.get("otc_id", _NO_NODES))
        if n != 1:
            out.append(
                Finding(
                    "CII-SR-090",
                    FATAL,
                    f"Item country of origin (BT-159) shall occur exactly once in OriginTradeCountry; it occurs {n} "
                    "times.",
                    path_of(countries[0]),
                )
            )
    return out


def _line_agreement(ctx, found: dict, shared: dict) -> list[Finding]:
    charges = found.get("gpac")
    if not charges:
        return []
    indicators = found.get("gpac_ci")
    amounts = found.get("gpac_amt")
    allowance = any(xs_boolean(string_value(i)) is False for i in found.get("gpac_ind", _NO_NODES))
    if (allowance and amounts) or (not indicators and not amounts):
        return []
    return [
        Finding(
            "CII-SR-119",
            WARNING,
            "Only an allowance (ChargeIndicator false) with an amount (BT-147) should be given on the item gross "
            "price.",
            path_of(charges[0]),
        )
    ]


def _type_code_of(document) -> str | None:
    """normalize-space(ram:TypeCode) of a referenced document: its first TypeCode (as the VAT breakdowns' TypeCode
    is read; a second one is schema-invalid), None without one."""
    for child in document[:]:
        if child.tag == _TYPE_CODE_TAG:
            return normalize_space(string_value(child))
    return None


def _line_settlement(ctx, found: dict, shared: dict) -> list[Finding]:
    documents = found.get("ard")
    if not documents or len(documents) < 2:
        return []
    objects = [d for d in documents if _type_code_of(d) == "130"]
    if len(objects) < 2:
        return []
    return [
        Finding(
            "CII-SR-474",
            WARNING,
            f"An invoice line should have at most one invoiced object identifier (BT-128, AdditionalReferencedDocument "
            f"with TypeCode 130); it has {len(objects)}.",
            path_of(objects[1]),
        )
    ]


# (key, rule, the term counted among the supporting documents (BG-24), AdditionalReferencedDocument with TypeCode 916)
_SUPPORTING_DOCUMENT_COUNTS = (
    ("ard_name", "CII-SR-475", "Supporting document description (BT-123, Name)"),
    ("ard_binary", "CII-SR-476", "Attached document (BT-125, AttachmentBinaryObject)"),
)


def _supporting_document_counts(found: dict) -> list[Finding]:
    out = []
    supporting: dict = {}  # id(document) -> whether its TypeCode is 916
    for key, rule, term in _SUPPORTING_DOCUMENT_COUNTS:
        nodes = found.get(key)
        if not nodes or len(nodes) < 2:
            continue
        counted = []
        for node in nodes:
            document = node.getparent()
            is_supporting = supporting.get(id(document))
            if is_supporting is None:
                is_supporting = supporting[id(document)] = _type_code_of(document) == "916"
            if is_supporting:
                counted.append(node)
        if len(counted) > 1:
            out.append(
                Finding(
                    rule,
                    WARNING,
                    f"{term} should occur at most once among the additional supporting documents "
                    f"(AdditionalReferencedDocument with TypeCode 916); it occurs {len(counted)} times.",
                    path_of(counted[1]),
                )
            )
    return out


def _agreement(ctx, found: dict, shared: dict) -> list[Finding]:
    out = []
    if found.get("btp_id") and found.get("btp_gid"):
        out.append(
            Finding(
                "CII-SR-450",
                WARNING,
                "Only one buyer identifier (BT-46) should be present: either ID or GlobalID.",
                path_of(ctx),
            )
        )
    documents = found.get("ard")
    if documents and len(documents) > 1:
        type_code = q("ram:TypeCode")
        for rule, code, term in (
            ("CII-SR-457", "50", "Tender or lot reference (BT-17)"),
            ("CII-SR-458", "130", "Invoiced object identifier (BT-18)"),
        ):
            docs = [d for d in documents if any(string_value(t) == code for t in _kids(d, type_code))]
            if len(docs) > 1:
                out.append(
                    Finding(
                        rule,
                        WARNING,
                        f"{term} should occur at most once (AdditionalReferencedDocument with TypeCode {code}).",
                        path_of(docs[1]),
                    )
                )
    if "ard_name" in found or "ard_binary" in found:
        out.extend(_supporting_document_counts(found))
    for rule, term in (("CII-SR-465", "BT-41"), ("CII-SR-466", "BT-56")):
        if found.get(rule + ".p") and found.get(rule + ".d"):
            out.append(
                Finding(
                    rule,
                    WARNING,
                    f"Only one contact point ({term}) should be given: PersonName or DepartmentName, not both.",
                    path_of(found[rule + ".c"][0]),
                )
            )
    return out


def _delivery(ctx, found: dict, shared: dict) -> list[Finding]:
    if found.get("sttp_id") and found.get("sttp_gid"):
        return [
            Finding(
                "CII-SR-449",
                WARNING,
                "Only one deliver to location identifier (BT-71) should be present: either ID or GlobalID.",
                path_of(ctx),
            )
        ]
    return []


_DUE_DATE_TYPE_CODE = q("ram:DueDateTypeCode")
_APPLICABLE_TRADE_TAX_TAG = q("ram:ApplicableTradeTax")


_PM_TAG = q(_PM)
_PM_CODE = q("ram:TypeCode")
_CREDIT_TRANSFER = ("30", "58")
_PAYEE_ACCOUNT = q("ram:PayeePartyCreditorFinancialAccount")
_ACCOUNT_IDS = frozenset({q("ram:IBANID"), q("ram:ProprietaryID")})


def _settlement(ctx, found: dict, shared: dict) -> list[Finding]:
    out = []
    if found.get("ptp_id") and found.get("ptp_gid"):
        out.append(
            Finding(
                "CII-SR-451",
                WARNING,
                "Only one payee identifier (BT-60) should be present: either ID or GlobalID.",
                path_of(ctx),
            )
        )
    codes = set()
    for code in shared.get(_DUE_DATE_TYPE_CODE, _NO_NODES):  # every ram:DueDateTypeCode (gathered by the pass)
        parent = code.getparent()
        if parent is not None and parent.tag == _APPLICABLE_TRADE_TAX_TAG:
            codes.add(string_value(code))
    if len(codes) > 1:
        out.append(
            Finding(
                "CII-SR-462",
                FATAL,
                "Value added tax point date code (BT-8) shall have one value in all VAT breakdowns; found "
                f"{', '.join(sorted(codes))}.",
                path_of(ctx),
            )
        )
    for means in found.get("pm", _NO_NODES):
        children = means[:]
        for child in children:
            if child.tag == _PM_CODE and normalize_space(string_value(child)) in _CREDIT_TRANSFER:
                break
        else:
            continue
        if not any(
            account.tag == _PAYEE_ACCOUNT and any(c.tag in _ACCOUNT_IDS for c in account[:]) for account in children
        ):
            out.append(
                Finding(
                    "CII-SR-470",
                    FATAL,
                    "A credit transfer (BT-81 = 30 or 58) shall give the payment account identifier (BT-84) as "
                    "IBANID or ProprietaryID.",
                    path_of(means),
                )
            )
            break
    return out


_PM_TEXT = q("ram:Information")
_HEADER_SETTLEMENT_TAG = q("ram:ApplicableHeaderTradeSettlement")
_PAYMENT_REFERENCE = q("ram:PaymentReference")


def _root(ctx, found: dict, shared: dict) -> list[Finding]:
    out = []
    codes: list[str] = []
    texts: list[str] = []
    for means in shared.get(_PM_TAG, _NO_NODES):  # every payment means, in document order (gathered by the pass)
        for child in means[:]:
            if child.tag == _PM_CODE:
                codes.append(normalize_space(string_value(child)))
            elif child.tag == _PM_TEXT:
                texts.append(normalize_space(string_value(child)))
    for rule, values, term in (
        ("CII-SR-467", codes, "Payment means type code (BT-81)"),
        ("CII-SR-468", texts, "Payment means text (BT-82)"),
    ):
        if len(set(values)) > 1:  # (not all the same)
            out.append(
                Finding(
                    rule,
                    FATAL,
                    f"All payment instructions shall have the same {term}; found {', '.join(dict.fromkeys(values))}.",
                    path_of(ctx),
                )
            )
    references = shared.get(_PAYMENT_REFERENCE, _NO_NODES)
    refs = (
        [r for r in references if (parent := r.getparent()) is not None and parent.tag == _HEADER_SETTLEMENT_TAG]
        if len(references) > 1
        else _NO_NODES
    )
    if len(refs) > 1:
        out.append(
            Finding(
                "CII-SR-469",
                FATAL,
                f"Remittance information (BT-83, PaymentReference) occurs {len(refs)} times; it shall occur at most "
                "once.",
                path_of(refs[1]),
            )
        )
    return out


_SPECIAL = {
    "product": _product,
    "line_agreement": _line_agreement,
    "line_settlement": _line_settlement,
    "agreement": _agreement,
    "delivery": _delivery,
    "settlement": _settlement,
    "root": _root,
}


# ----------------------------------------------------------------------------- anywhere contexts (elements)
_AC_INDICATOR = q("ram:ChargeIndicator")
_AC_SINGLE = {
    q("ram:RateApplicablePercent"): ("CII-SR-471", "RateApplicablePercent"),
    q("ram:CategoryTradeTax"): ("CII-SR-472", "CategoryTradeTax (VAT category BT-95/BT-102)"),
    q("ram:ActualAmount"): ("CII-SR-473", "ActualAmount (BT-92/BT-99)"),
}


def _allowance_charge(el) -> list[Finding]:
    out = []
    indicator = False
    seen: dict[str, int] = {}
    for child in el[:]:
        tag = child.tag
        if tag == _AC_INDICATOR:
            indicator = True
        elif tag in _AC_SINGLE:
            seen[tag] = seen.get(tag, 0) + 1
            if seen[tag] == 2:
                rule, term = _AC_SINGLE[tag]
                out.append(
                    Finding(rule, FATAL, f"An allowance or charge shall contain at most one {term}.", path_of(child))
                )
    if not indicator:
        out.append(
            Finding(
                "CII-SR-463",
                FATAL,
                "Each allowance or charge (BG-20, BG-21, BG-27, BG-28) shall contain a ChargeIndicator.",
                path_of(el),
            )
        )
    return out


_GP_TAG = q(_GP)
_ACTUAL_AMOUNT = q("ram:ActualAmount")


def _price_allowance(el) -> list[Finding]:
    parent = el.getparent()
    if parent is None or parent.tag != _GP_TAG:
        return []
    found = [child for child in el[:] if child.tag == _ACTUAL_AMOUNT]
    if len(found) > 1:
        return [
            Finding(
                "CII-SR-440",
                FATAL,
                "Item price discount (BT-147, ActualAmount) shall occur at most once.",
                path_of(found[1]),
            )
        ]
    return []


_DCP_VALUE = q("ram:Value")
_DCP_VERSION = q("ram:SpecifiedDocumentVersion")


def _document_context_parameter(el) -> list[Finding]:
    # the official ids are written CII-SR-04 and CII-SR-05 (not CII-SR-004/005)
    out = []
    value = version = None
    for child in el[:]:  # (a plain loop: iterchildren(tag) builds a tag matcher per call)
        tag = child.tag
        if tag == _DCP_VALUE:
            value = value if value is not None else child
        elif tag == _DCP_VERSION:
            version = version if version is not None else child
    if value is not None:
        out.append(
            Finding(
                "CII-SR-04", WARNING, "Value should not be present in a document context parameter.", path_of(value)
            )
        )
    if version is not None:
        out.append(
            Finding(
                "CII-SR-05",
                WARNING,
                "SpecifiedDocumentVersion should not be present in a document context parameter.",
                path_of(version),
            )
        )
    return out


def _type_code_is(el, *codes: str) -> bool:
    return any(string_value(t) in codes for t in el[:] if t.tag == _TYPE_CODE_TAG)


_ARD = q("ram:AdditionalReferencedDocument")
_IRD = q("ram:InvoiceReferencedDocument")
# (rule, child, the referenced document where that child is allowed, with one of these type codes (None: any))
_REFDOC_RULES: tuple[tuple[str, str, str | None, tuple[str, ...] | None], ...] = (
    ("CII-DT-015", "ram:URIID", _ARD, ("916",)),
    ("CII-DT-016", "ram:StatusCode", None, None),
    ("CII-DT-017", "ram:CopyIndicator", None, None),
    ("CII-DT-018", "ram:TypeCode", _ARD, ("50", "130", "916")),
    ("CII-DT-019", "ram:GlobalID", None, None),
    ("CII-DT-020", "ram:RevisionID", None, None),
    ("CII-DT-021", "ram:Name", _ARD, ("916",)),
    ("CII-DT-022", "ram:AttachmentBinaryObject", _ARD, ("916",)),
    ("CII-DT-023", "ram:Information", None, None),
    ("CII-DT-024", "ram:ReferenceTypeCode", _ARD, ("130",)),
    ("CII-DT-025", "ram:SectionName", None, None),
    ("CII-DT-026", "ram:PreviousRevisionID", None, None),
    ("CII-DT-027", "ram:FormattedIssueDateTime", _IRD, None),
    ("CII-DT-028", "ram:EffectiveSpecifiedPeriod", None, None),
    ("CII-DT-029", "ram:IssuerTradeParty", None, None),
    ("CII-DT-030", "ram:AttachedSpecifiedBinaryFile", None, None),
)
_REFDOC_BY_TAG = {q(leaf): (rule, allowed_in, codes) for rule, leaf, allowed_in, codes in _REFDOC_RULES}


def _referenced_document(el) -> list[Finding]:
    out: list[Finding] = []
    fired: set[str] = set()
    for child in el[:]:
        tag = child.tag
        entry = _REFDOC_BY_TAG.get(tag)
        if entry is None or entry[0] in fired:
            continue
        rule, allowed_in, codes = entry
        if el.tag == allowed_in and (codes is None or _type_code_is(el, *codes)):
            continue
        fired.add(rule)
        out.append(Finding(rule, FATAL, f"{_short(tag)} shall not be used in {_short(el.tag)}.", path_of(child)))
    return out


_HEADER_SETTLEMENT = q("ram:ApplicableHeaderTradeSettlement")
_TRADE_TAX_RULES: tuple[tuple[str, str, str, str | None], ...] = (
    # (rule, flag, child, exception: 'self' = allowed in ram:ApplicableTradeTax, 'header' = under the header settlement)
    ("CII-DT-038", "W", "ram:CalculatedRate", None),
    ("CII-DT-039", "W", "ram:CalculationSequenceNumeric", None),
    ("CII-DT-040", "W", "ram:BasisQuantity", None),
    ("CII-DT-041", "W", "ram:BasisAmount", "header"),
    ("CII-DT-042", "W", "ram:UnitBasisAmount", None),
    ("CII-DT-043", "W", "ram:LineTotalBasisAmount", None),
    ("CII-DT-044", "W", "ram:AllowanceChargeBasisAmount", None),
    ("CII-DT-049", "W", "ram:CurrencyCode", None),
    ("CII-DT-050", "W", "ram:Jurisdiction", None),
    ("CII-DT-051", "W", "ram:CustomsDutyIndicator", None),
    ("CII-DT-052", "W", "ram:ExemptionReasonCode", "self"),
    ("CII-DT-098", "W", "ram:ExemptionReason", "self"),
    ("CII-DT-053", "W", "ram:TaxBasisAllowanceRate", None),
    ("CII-DT-054", "W", "ram:TaxPointDate", "header"),
    ("CII-DT-055", "W", "ram:Type", None),
    ("CII-DT-056", "W", "ram:InformationAmount", None),
    ("CII-DT-057", "W", "ram:CategoryName", None),
    ("CII-DT-058", "W", "ram:DueDateTypeCode", "header"),
    ("CII-DT-060", "W", "ram:SpecifiedTradeAccountingAccount", None),
    ("CII-DT-061", "W", "ram:ServiceSupplyTradeCountry", None),
    ("CII-DT-062", "W", "ram:BuyerRepayableTaxSpecifiedTradeAccountingAccount", None),
    ("CII-DT-063", "W", "ram:SellerPayableTaxSpecifiedTradeAccountingAccount", None),
    ("CII-DT-064", "W", "ram:SellerRefundableTaxSpecifiedTradeAccountingAccount", None),
    ("CII-DT-065", "W", "ram:BuyerDeductibleTaxSpecifiedTradeAccountingAccount", None),
    ("CII-DT-066", "W", "ram:BuyerNonDeductibleTaxSpecifiedTradeAccountingAccount", None),
    ("CII-DT-067", "W", "ram:PlaceApplicableTradeLocation", None),
)
_TRADE_TAX_BY_TAG = {q(child): (rule, exception) for rule, _flag, child, exception in _TRADE_TAX_RULES}
_APPLICABLE_TRADE_TAX = q("ram:ApplicableTradeTax")
_RATE = q("ram:RateApplicablePercent")


_TYPE_CODE_TAG = q("ram:TypeCode")


def _under_header_settlement(el) -> bool:
    """A ram:ApplicableHeaderTradeSettlement is an ancestor (getparent() returns the proxies the engine holds)."""
    node = el.getparent()
    while node is not None:
        if node.tag == _HEADER_SETTLEMENT:
            return True
        node = node.getparent()
    return False


def _trade_tax(el) -> list[Finding]:
    out: list[Finding] = []
    types: list[str] = []
    fired: set[str] = set()
    is_applicable: bool | None = None
    header: bool | None = None
    for child in el[:]:
        tag = child.tag
        if tag == _TYPE_CODE_TAG:
            types.append(string_value(child))
            continue
        if tag == _RATE:
            if child.get("format") is not None and "CII-DT-059" not in fired:
                fired.add("CII-DT-059")
                out.append(
                    Finding(
                        "CII-DT-059", WARNING, "RateApplicablePercent/@format should not be present.", path_of(child)
                    )
                )
            continue
        entry = _TRADE_TAX_BY_TAG.get(tag)
        if entry is None or entry[0] in fired:
            continue
        rule, exception = entry
        if exception == "self":
            if is_applicable is None:
                is_applicable = el.tag == _APPLICABLE_TRADE_TAX
            if is_applicable:
                continue
        elif exception == "header":
            if header is None:
                header = _under_header_settlement(el)
            if header:
                continue
        fired.add(rule)
        out.append(Finding(rule, WARNING, f"{_short(tag)} should not be present in {_short(el.tag)}.", path_of(child)))
    if types and "VAT" not in types:
        out.insert(0, Finding("CII-DT-037", FATAL, f"Tax type code '{types[0]}' shall be 'VAT'.", path_of(el)))
    return out


_PERIOD_RULES = {
    q("ram:DurationMeasure"): "CII-DT-069",
    q("ram:InclusiveIndicator"): "CII-DT-070",
    q("ram:Description"): "CII-DT-071",
    q("ram:CompleteDateTime"): "CII-DT-073",
    q("ram:OpenIndicator"): "CII-DT-074",
    q("ram:SeasonCode"): "CII-DT-075",
    q("ram:ID"): "CII-DT-076",
    q("ram:Name"): "CII-DT-077",
    q("ram:SequenceNumeric"): "CII-DT-078",
    q("ram:StartDateFlexibilityCode"): "CII-DT-079",
    q("ram:ContinuousIndicator"): "CII-DT-080",
    q("ram:PurposeCode"): "CII-DT-081",
}
_PERIOD_DATETIME = {q("ram:StartDateTime"): "CII-DT-068", q("ram:EndDateTime"): "CII-DT-072"}
_UDT_DATETIME = q("udt:DateTime")


def _billing_period(el) -> Iterable[Finding]:
    fired = set()
    for child in el[:]:
        rule = _PERIOD_RULES.get(child.tag)
        target = child
        if rule is None:
            rule = _PERIOD_DATETIME.get(child.tag)
            if rule is None:
                continue
            target = _first_child(child, _UDT_DATETIME)
            if target is None:
                continue
        if rule not in fired:
            fired.add(rule)
            yield Finding(
                rule, FATAL, f"{_short(target.tag)} shall not be used in the invoicing period.", path_of(target)
            )


_ADDRESS_RULES = {
    q(f"ram:{leaf}"): f"CII-DT-{number:03d}"
    for leaf, number in (
        ("ID", 82),
        ("PostOfficeBox", 83),
        ("BuildingName", 84),
        ("LineFour", 86),
        ("LineFive", 87),
        ("StreetName", 88),
        ("CitySubDivisionName", 89),
        ("CountryName", 90),
        ("CountrySubDivisionID", 91),
        ("AttentionOf", 92),
        ("CareOf", 93),
        ("BuildingNumber", 94),
        ("DepartmentName", 95),
        ("AdditionalStreetName", 96),
    )
}


def _postal_address(el) -> Iterable[Finding]:
    fired = set()
    for child in el[:]:
        rule = _ADDRESS_RULES.get(child.tag)
        if rule is not None and rule not in fired:
            fired.add(rule)
            yield Finding(
                rule,
                FATAL,
                f"{_short(child.tag)} shall not be used in a postal address (EN 16931 uses "
                "LineOne, LineTwo, LineThree, CityName, PostcodeCode, CountryID and "
                "CountrySubDivisionName).",
                path_of(child),
            )


# ----------------------------------------------------------------------------- attributes
_ID_NO_ATTRIBUTES = (
    "schemeName",
    "schemeAgencyName",
    "schemeDataURI",
    "schemeURI",
    "schemeID",
    "schemeAgencyID",
    "schemeVersionID",
)
_ID_NO_ATTRIBUTES_RULES = {name: f"CII-DT-{i + 1:03d}" for i, name in enumerate(_ID_NO_ATTRIBUTES)}
_ID_RULES = {
    "schemeName": "CII-DT-101",
    "schemeAgencyName": "CII-DT-102",
    "schemeDataURI": "CII-DT-103",
    "schemeURI": "CII-DT-104",
}
_TYPE_CODE_RULES = {"name": "CII-DT-008", "listURI": "CII-DT-009"}
_CATEGORY_CODE_RULES = {
    "listID": "CII-DT-045",
    "listAgencyID": "CII-DT-046",
    "listVersionID": "CII-DT-047",
    "listURI": "CII-DT-048",
}
_AMOUNT_RULES = {"currencyID": "CII-DT-031", "currencyCodeListVersionID": "CII-DT-032"}
_QUANTITY_RULES = {
    "unitCode": "CII-DT-033",
    "unitCodeListID": "CII-DT-034",
    "unitCodeListAgencyID": "CII-DT-035",
    "unitCodeListAgencyName": "CII-DT-036",
}
_ROOT_RULES = {"languageID": "CII-DT-013", "languageLocaleID": "CII-DT-014"}
_DATE_102 = re.compile(r"[ \t\n\r]*(\d{4})(1[0-2]|0[1-9])(3[01]|[12][0-9]|0[1-9])[ \t\n\r]*")
_DATE_TIME_STRING = q("udt:DateTimeString")
_TYPE_CODE = q("ram:TypeCode")
_TAX_TOTAL_AMOUNT = q("ram:TaxTotalAmount")
_ID_NO_ATTRIBUTE_KEYS = ("id_guideline", "id_document", "id_line", "id_seller_item")
# the elements whose attribute rules depend on their position: key -> path of child steps from the document element
_ATTRIBUTE_KEYS: dict[str, tuple[str, ...]] = {
    "id_guideline": (*_CONTEXTS["document_context"], "ram:GuidelineSpecifiedDocumentContextParameter", "ram:ID"),
    "id_document": (*_CONTEXTS["exchanged_document"], "ram:ID"),
    "id_line": (*_CONTEXTS["line_document"], "ram:LineID"),
    "id_seller_item": (*_CONTEXTS["product"], "ram:SellerAssignedID"),
    "billed_quantity": (*_CONTEXTS["line_delivery"], "ram:BilledQuantity"),
    "line_category_code": (*_CONTEXTS["line_settlement"], "ram:ApplicableTradeTax", "ram:CategoryCode"),
}
_ATTRIBUTE_KEY_TAGS = frozenset(q(path[-1]) for path in _ATTRIBUTE_KEYS.values())


# ----------------------------------------------------------------------------- positions
class _Children(dict):
    """Child tag -> the pass's entry (``_entry``) for such a child, of the elements at one position or, off the
    positions, of the elements with one tag (``ptag``): built the first time the tag is met under them."""

    __slots__ = ("position", "ptag")

    def __init__(self, position: _Position | None, ptag: str | None) -> None:
        super().__init__()
        self.position = position
        self.ptag = ptag

    def __missing__(self, tag) -> tuple:
        if tag.__class__ is not str:
            return _NOTHING  # comments, processing instructions
        return _entry(self.position, self.ptag, tag, self)


class _Position:
    """An element's place on a path from the document element that a rule reads: one node of a tree of every such
    path (contexts, what the count and conditional rules collect, presence rules, attribute keys). The pass walks
    the document down this tree, so an element's position comes from its parent's: no look up its ancestors."""

    __slots__ = ("path", "children", "entries", "context", "decided", "keys", "presence", "attribute_key", "busy")

    def __init__(self, path: tuple[str, ...] = ()) -> None:
        self.path = path  # tags from the document element down to here
        self.children: dict[str, _Position] = {}
        self.entries = _Children(self, path[-1] if path else None)  # the pass's entries of the children (_entry)
        self.context: str | None = None  # an element here is a context element of these count/conditional rules
        self.decided = False  # its context's rules are decided once the pass is over (_DECIDED_AT_END)
        # (context, key, whether it triggers the context's conditional rules): collected for the context element
        self.keys: list[tuple[str, str, bool]] = []
        self.presence: list[tuple[_Presence, int]] = []  # presence rules ending here, levels up to their context
        self.attribute_key: str | None = None  # _ATTRIBUTE_KEYS
        self.busy = False  # context, keys or presence


def _positions() -> _Position:
    """The tree of positions, from above the document element (its one child is the document element)."""
    top = _Position()

    def at(steps: tuple[str, ...]) -> _Position:
        node = top
        for step in (_ROOT_TAG, *steps):
            child = node.children.get(step)
            if child is None:
                child = node.children[step] = _Position((*node.path, step))
            node = child
        return node

    collected = _collected_paths()
    for name, steps in _CONTEXTS.items():
        if name != "root" and (name in collected or name in _SPECIAL):
            at(tuple(q(step) for step in steps)).context = name
    for name, keys in collected.items():
        context_steps = tuple(q(step) for step in _CONTEXTS[name])
        for key, steps in keys.items():
            at(context_steps + steps).keys.append((name, key, key in (_SPECIAL_TRIGGERS.get(name) or ())))
    for presence, tag in _presence_rules():
        at((*presence.chain, tag)).presence.append((presence, len(presence.chain) - presence.context_depth))
    for key, path in _ATTRIBUTE_KEYS.items():
        at(tuple(q(step) for step in path)).attribute_key = key
    stack = [top]
    while stack:
        node = stack.pop()
        node.busy = bool(node.context or node.keys or node.presence)
        node.decided = node.context in _DECIDED_AT_END
        stack.extend(node.children.values())
    return top


# the keys without which a context's conditional rules cannot fire (one of them at least is collected when they can;
# None: they always run, as CII-SR-462 in the settlement reads the DueDateTypeCodes the pass gathers)
_SPECIAL_TRIGGERS: dict[str, tuple[str, ...] | None] = {
    "product": ("gid", "otc"),  # CII-SR-046, 090
    "line_agreement": ("gpac",),  # CII-SR-119
    "line_settlement": (),  # CII-SR-474: two documents at least (a key collected twice flags the context)
    # CII-SR-450, 457/458, 465, 466 (475/476: two names or attachments at least, a key collected twice)
    "agreement": ("btp_gid", "ard", "CII-SR-465.d", "CII-SR-466.d"),
    "delivery": ("sttp_gid",),  # CII-SR-449
    "settlement": None,  # CII-SR-451, 462, 470
}
assert set(_SPECIAL) - {"root"} == set(_SPECIAL_TRIGGERS), "a context's conditional rules: say what triggers them"
# context -> the keys of its exactly-once rules
_EXACTLY_ONE = {
    name: frozenset(rule for rule, _severity, op, _path in _COUNTS.get(name, ()) if op == "eq1") for name in _CONTEXTS
}
# the contexts whose rules are decided once the pass is over (an exactly-once key can be missing, or they always run);
# the others' run when a key of theirs is flagged (collected twice, or a trigger of their conditional rules)
_ALWAYS_RUN = frozenset(name for name in _CONTEXTS if _SPECIAL_TRIGGERS.get(name, ()) is None)
_DECIDED_AT_END = frozenset(name for name in _CONTEXTS if _EXACTLY_ONE[name] or name in _ALWAYS_RUN)
assert "root" not in _COUNTS and "root" not in _KEYS, "the document element's rules: only _root"
_TOP = _positions()


def _part_rules(name: str, ctx, found: dict, shared: dict) -> list[Finding]:
    """Count rules and conditional rules of one context element, from what the pass collected under it."""
    out: list[Finding] = []
    counts = _COUNTS_BY_CONTEXT.get(name)
    if counts:
        exactly_one, at_most_one = counts
        for rule, severity, label in exactly_one:
            nodes = found.get(rule, _NO_NODES)
            if len(nodes) != 1:
                out.append(_count_finding(rule, severity, label, "exactly once", nodes, ctx))
        for key, nodes in found.items():
            if len(nodes) > 1 and key in at_most_one:
                severity, label = at_most_one[key]
                out.append(_count_finding(key, severity, label, "at most once", nodes, ctx))
    special = _SPECIAL.get(name)
    if special is not None:
        out.extend(special(ctx, found, shared))
    return out


def _count_finding(rule: str, severity: str, label: str, expected: str, nodes: list, ctx) -> Finding:
    n = len(nodes)
    return Finding(
        rule,
        severity,
        f"{label.replace('ram:', '')} occurs {n} times; it shall occur {expected}.",
        path_of(nodes[1] if n > 1 else ctx),
    )


# context -> (eq1 rules [(rule, severity, path)], max1 rules {rule: (severity, path)})
_COUNTS_BY_CONTEXT: dict[str, tuple[list, dict]] = {}
for _name, _rules in _COUNTS.items():
    _COUNTS_BY_CONTEXT[_name] = (
        [(rule, severity, label) for rule, severity, op, label in _rules if op == "eq1"],
        {rule: (severity, label) for rule, severity, op, label in _rules if op == "max1"},
    )


def _attribute_rules(root, owners: list) -> list[Finding]:
    """The data-type rules on attributes; ``owners``: (element, tag, its _ATTRIBUTE_KEYS key or None, its attribute
    names) of the elements whose tag ``_attributes_checked`` accepts with an attribute of ``_attribute_names``, in
    document order (gathered by the pass; the names come from ``el.keys()``, like ``//@*`` without xmlns)."""
    out: list[Finding] = []
    if not owners:
        return out
    billed_unit = False
    for _owner, _tag, key, names in owners:
        if key == "billed_quantity" and "unitCode" in names:
            billed_unit = True
            break
    verdicts = _ATTRIBUTE_VERDICTS
    for owner, tag, key, names in owners:
        if owner is root and (key is not None or not tag.startswith(_RAM_PREFIX)):
            for name in names:  # (a ram: document element at no key's position is read as any ram: element)
                _attribute_rule(out, root, owner, tag, name, key, billed_unit)
            continue
        for name in names:  # the verdict depends on the tag, the key and the name only
            verdict = verdicts.get((tag, key, name), _NONE)
            if verdict is _NONE:
                verdict = _attribute_verdict(tag, key, name)
                if _TABLES.keep():
                    verdicts[(tag, key, name)] = verdict
            if verdict is None:
                continue
            if verdict.__class__ is str:
                if not (verdict == "CII-DT-033" and billed_unit):
                    out.append(Finding(verdict, FATAL, f"@{name} shall not be used on {_short(tag)}.", path_of(owner)))
            elif verdict is _DATE_FORMAT:
                if owner.get(name) == "102":
                    _check_date_102(out, owner)
            else:
                out.append(_category_code_finding(verdict[0], name, owner))
    return out


_DATE_FORMAT = object()


def _attribute_verdict(tag: str, key: str | None, name: str):
    """What an attribute of an element other than the document element breaks (see _attribute_rule): None, a rule
    (fatal), (rule,) for the line VAT category code's (a warning), or _DATE_FORMAT (a date's format, read then)."""
    if tag.startswith(_RAM_PREFIX):
        if key in _ID_NO_ATTRIBUTE_KEYS:
            return _ID_NO_ATTRIBUTES_RULES.get(name)
        if key == "line_category_code":
            rule = _CATEGORY_CODE_RULES.get(name)
            return None if rule is None else (rule,)
        return _ram_attribute_rule(tag, name)
    if tag == _DATE_TIME_STRING and name == "format":
        return _DATE_FORMAT
    return None


def _category_code_finding(rule: str, name: str, owner) -> Finding:
    return Finding(
        rule,
        WARNING,
        f"@{name} should not be present on the invoiced item VAT category code (BT-151).",
        path_of(owner),
    )


def _check_date_102(out: list[Finding], owner) -> None:
    value = string_value(owner)
    if not _DATE_102.fullmatch(value):
        out.append(
            Finding("CII-DT-097", FATAL, f"Date '{value}' with format 102 shall be written YYYYMMDD.", path_of(owner))
        )


def _ram_attribute_rule(tag: str, name: str) -> str | None:
    """The rule an attribute of a ram: element breaks, for an element at no position of ``_ATTRIBUTE_KEYS`` (the
    identifiers without attributes and the line VAT category code are told apart by their position)."""
    local = tag[len(_RAM_PREFIX) :]
    if local.endswith("ID"):
        return _ID_RULES.get(name)
    if tag == _TYPE_CODE:
        return _TYPE_CODE_RULES.get(name)
    if local.endswith("Amount") and tag != _TAX_TOTAL_AMOUNT:
        return _AMOUNT_RULES.get(name)
    if local.endswith("Quantity"):
        return _QUANTITY_RULES.get(name)  # CII-DT-033 is then dropped when a line's BilledQuantity has @unitCode
    return None


def _attribute_rule(out: list[Finding], root, owner, tag: str, name: str, key: str | None, billed_unit: bool) -> None:
    rule = None
    if owner is root:
        rule = _ROOT_RULES.get(name)
    elif tag.startswith(_RAM_PREFIX):
        if key in _ID_NO_ATTRIBUTE_KEYS:
            rule = _ID_NO_ATTRIBUTES_RULES.get(name)
        elif key == "line_category_code":  # a ram:CategoryCode: neither an *ID nor ram:TypeCode
            rule = _CATEGORY_CODE_RULES.get(name)
            if rule is not None:
                out.append(_category_code_finding(rule, name, owner))
            return
        else:
            rule = _ram_attribute_rule(tag, name)
            if rule == "CII-DT-033" and billed_unit:
                rule = None
    elif tag == _DATE_TIME_STRING and name == "format" and owner.get(name) == "102":
        _check_date_102(out, owner)
        return
    if rule is not None:
        out.append(Finding(rule, FATAL, f"@{name} shall not be used on {_short(tag)}.", path_of(owner)))


# ----------------------------------------------------------------------------- the pass
_ELEMENT_CONTEXTS = {
    q("ram:SpecifiedTradeAllowanceCharge"): _allowance_charge,
    q("ram:AppliedTradeAllowanceCharge"): _price_allowance,
    q("ram:BillingSpecifiedPeriod"): _billing_period,
    q("ram:PostalTradeAddress"): _postal_address,
}


def _handler_of(tag: str):
    """The anywhere context's function for an element with this tag, or None."""
    handler = _ELEMENT_CONTEXTS.get(tag)
    if handler is None:
        local = tag.rpartition("}")[2]
        if local.endswith("DocumentContextParameter"):
            handler = _document_context_parameter
        elif tag.startswith(_RAM_PREFIX):
            if local.endswith("ReferencedDocument"):
                handler = _referenced_document
            elif local.endswith("TradeTax"):
                handler = _trade_tax
    return handler


# anywhere contexts whose rules fire only because of some children: run when such a child is met (_child_trigger)
_CHILD_TRIGGERED = frozenset({_postal_address, _document_context_parameter, _referenced_document, _trade_tax})


def _child_trigger(position: _Position | None, ptag: str, tag: str):
    """(function, attribute, usual text) when a child with this tag of a ``ptag`` element at ``position`` can make
    that element's anywhere context fire, else None. The function is then run on the parent (once) when the child
    has that attribute (None: any child) and another text than the usual one (None: any text)."""
    handler = _handler_of(ptag)
    if handler is _postal_address:
        return (handler, None, None) if tag in _ADDRESS_RULES else None
    if handler is _document_context_parameter:
        return (handler, None, None) if tag == _DCP_VALUE or tag == _DCP_VERSION else None
    if handler is _referenced_document:
        rule = _REFDOC_BY_TAG.get(tag)
        return None if rule is None or (rule[1] == ptag and rule[2] is None) else (handler, None, None)
    if handler is _trade_tax:
        if tag == _TYPE_CODE_TAG:
            return handler, None, "VAT"  # CII-DT-037
        if tag == _RATE:
            return handler, "format", None  # CII-DT-059
        rule = _TRADE_TAX_BY_TAG.get(tag)
        if rule is None:
            return None
        exception = rule[1]
        if exception == "self" and ptag == _APPLICABLE_TRADE_TAX:
            return None
        if exception == "header" and position is not None and _HEADER_SETTLEMENT in position.path:
            return None
        return handler, None, None
    return None


_CODES = codelists.index_for("cii")
# elements the rules with a document-wide condition read (CII-SR-462, 467, 468, 469): gathered by the pass
_GATHER = frozenset({_PM_TAG, _PAYMENT_REFERENCE, _DUE_DATE_TYPE_CODE})
# elements other families read, handed over by the pass (see _helpers.pass_elements): tag -> the readers' names
CII_SHARED_TAGS = {"decimals": decimals.CII_TAGS, "vat": _vat.CII_TAGS, "calculations": calculations.CII_TAGS}
_SHARED_BY_TAG: dict[str, tuple[str, ...]] = {}
for _reader, _tags in CII_SHARED_TAGS.items():
    for _tag in _tags:
        _SHARED_BY_TAG[_tag] = (*_SHARED_BY_TAG.get(_tag, ()), _reader)
_NONE = object()

# The tables the pass fills as it meets tags (per process, bounded: _TABLES): tag -> _plan; the entries of the
# children of the elements at each position (_Position.entries) and, off the positions, per parent tag
# (_OFF_ENTRIES); (tag, key, attribute name) -> _attribute_verdict.
_PLAN: dict[str, object] = {}
_OFF_ENTRIES: dict[str, _Children] = {}
_ATTRIBUTE_VERDICTS: dict[tuple, object] = {}


def _clear_tables() -> None:
    _PLAN.clear()
    _OFF_ENTRIES.clear()
    _ATTRIBUTE_VERDICTS.clear()
    stack = [_TOP]
    while stack:
        node = stack.pop()
        node.entries.clear()
        stack.extend(node.children.values())


_TABLES = BoundedTables(_clear_tables)


def _plan(tag: str):
    """(function of the anywhere context unless its children trigger it, code rules, gathered, attributes checked,
    readers it is handed over to) for an element tag, or _NONE when the pass has nothing to do with such an element
    wherever it is."""
    handler = _handler_of(tag)
    if handler in _CHILD_TRIGGERED:
        handler = None  # (its children trigger it)
    code = _CODES.get(tag)
    gather = tag in _GATHER
    attributes = _attributes_checked(tag)
    shared = _SHARED_BY_TAG.get(tag)
    if handler is None and code is None and not gather and not attributes and not shared:
        plan = _NONE
    else:
        plan = (handler, code, gather, attributes, shared)
    if _TABLES.keep():
        _PLAN[tag] = plan
    return plan


def _entries_below(tag: str) -> _Children:
    """The entries of the children of an element with this tag at no position."""
    below = _OFF_ENTRIES.get(tag)
    if below is None:
        below = _Children(None, tag)
        if _TABLES.keep():
            _OFF_ENTRIES[tag] = below
    return below


# an entry, what the pass does with an element (see _entry), and the entry of comments and processing instructions
_NOTHING = (None, None, None)


def _entry(position: _Position | None, ptag: str | None, tag: str, entries: _Children) -> tuple:
    """The entry of an element with this tag, under a parent with tag ``ptag`` at ``position`` (None: at no
    position), cached in ``entries``, the parent's table: (the entries of its children, what the pass does with the
    element wherever it is or None, its position when busy or None). What it does: (the attribute names that can
    break a rule on it, ``_attribute_names``, or None when its attributes are not checked; its ``_ATTRIBUTE_KEYS``
    key; its code rules for that parent (``_code_check``); the readers it is handed over to; (function of its
    anywhere context, gathered, the trigger of the parent's anywhere context: ``_child_trigger``) or None)."""
    child = position.children.get(tag) if position is not None else None
    matter = key = code = shared = rare = None
    plan = _PLAN.get(tag) or _plan(tag)
    handler = None
    gather = False
    if plan is not _NONE:
        handler, code_rules, gather, attributes, shared = plan
        if code_rules is not None:
            rules, by_parent = code_rules
            if by_parent and ptag is not None:
                rules = by_parent.get(ptag, rules)
            code = _code_check(rules) if rules else None  # (none for this parent: ram:TypeCode of a VAT breakdown)
        if attributes:
            key = child.attribute_key if child is not None else None
            matter = _attribute_names(tag, key)
    trigger = _child_trigger(position, ptag, tag) if ptag is not None else None
    if handler is not None or gather or trigger is not None:
        rare = (handler, gather, trigger)
    below = child.entries if child is not None else _entries_below(tag)
    action = (
        None
        if matter is None and code is None and shared is None and rare is None
        else (matter, key, code, shared, rare)
    )
    entry = (below, action, child if child is not None and child.busy else None)
    if _TABLES.keep():
        entries[tag] = entry
    return entry


def _code_check(rules: tuple) -> tuple:
    """(rules, attribute, accepted): how the pass tests an element's code-list rules without evaluate()'s call in
    the usual cases. attribute None: the first rule's accepted text (``accepted``; None: no short cut). Else every
    rule reads that attribute and needs it (an element without it is no rule's context); present, it is accepted
    when in ``accepted``, the codes all these rules accept (whatever their extra conditions: each rule then either
    does not apply or accepts it)."""
    first = rules[0]
    if first.simple:
        return rules, None, first.accepted
    attribute = first.attribute
    if all(rule.plain_attribute and rule.required_attribute and rule.attribute == attribute for rule in rules):
        return rules, attribute, frozenset.intersection(*(rule.accepted for rule in rules))
    return rules, None, None


_RAM_ATTRIBUTE_NAMES = frozenset((*_ID_RULES, *_TYPE_CODE_RULES, *_AMOUNT_RULES, *_QUANTITY_RULES))


def _attributes_checked(tag: str) -> bool:
    """Whether an attribute of an element with this tag can break a rule of ``_attribute_rule`` (the document
    element, dates, the keys' tags, and the ram: elements ``_ram_attribute_rule`` answers for): the pass reads the
    attribute names of these elements only."""
    if tag == _ROOT_TAG or tag == _DATE_TIME_STRING or tag in _ATTRIBUTE_KEY_TAGS:
        return True
    return tag.startswith(_RAM_PREFIX) and any(_ram_attribute_rule(tag, n) for n in _RAM_ATTRIBUTE_NAMES)


def _attribute_names(tag: str, key: str | None) -> frozenset[str]:
    """The attribute names ``_attribute_rules`` can report on an element with this tag at this key's position (those
    of the document element too: the document element is told apart there): an element with none of them is left
    out of ``owners``."""
    names = set(_ROOT_RULES)
    if tag == _DATE_TIME_STRING:
        names.add("format")
    elif tag.startswith(_RAM_PREFIX):
        if key in _ID_NO_ATTRIBUTE_KEYS:
            names.update(_ID_NO_ATTRIBUTES_RULES)
        elif key == "line_category_code":
            names.update(_CATEGORY_CODE_RULES)
        else:
            names.update(name for name in _RAM_ATTRIBUTE_NAMES if _ram_attribute_rule(tag, name))
    return frozenset(names)


def _presence_findings(hits: dict) -> list[Finding]:
    return [
        Finding(
            rule.rule,
            rule.severity,
            f"{rule.label.replace('ram:', '')} should not be present: EN 16931 does not use it.",
            path_of(el),
        )
        for (rule, _context_id), (_context, el) in hits.items()
    ]


def _check_cii(root, doc: Document | None = None) -> list[Finding]:
    _TABLES.start_document()
    gathered: dict = {}  # what the document-wide rules read (_GATHER), by tag
    out: list[Finding] = []
    hits: dict = {}  # (presence rule, id of its context element) -> (context element, first element)
    code_findings: list[Finding] = []
    owners: list = []  # (element, tag, attribute key, attribute names) of the elements whose attributes rules read
    elements: dict[str, list] = {reader: [] for reader in CII_SHARED_TAGS}  # handed over to other families
    contexts: list = []  # (context name, context element, what was collected under it by key)
    current: dict = {}  # context name -> (name, its latest context element, what is collected under it)
    flagged: set = set()  # ids of the collections with a key collected twice or a trigger
    triggered: set = set()  # the elements whose anywhere context a child has triggered

    # The nodes come in document order: an element's children follow it, so the entries of the current parent's
    # children (``table``) and how many of them are still to come (``remaining``) say where each node is, without
    # getparent(); ``stack`` holds those of the open ancestors (the same walk as syntax_ubl's, written inline in
    # both: it runs once per node). The document element's parent is the start (at the top position when the
    # document element has no parent).
    parent = root.getparent()
    table = _TOP.entries if parent is None else _entries_below(parent.tag)
    remaining = 1
    stack: list = []
    for el in doc.iter_nodes() if doc is not None else root.iter():
        tag = el.tag
        below, action, busy = table[tag]
        if action is not None:
            matter, key, code, shared, rare = action
            if matter is not None:
                names = el.keys()
                if names and not matter.isdisjoint(names):
                    owners.append((el, tag, key, names))
            if shared is not None:
                for reader in shared:
                    elements[reader].append(el)
            if rare is not None:
                handler, gather, trigger = rare
                if gather:
                    gathered.setdefault(tag, []).append(el)
                if handler is not None:
                    out.extend(handler(el))
                if trigger is not None:
                    react, attribute, usual = trigger  # the parent's anywhere context
                    if (attribute is None or el.get(attribute) is not None) and (
                        usual is None or (el.text or "" if not len(el) else string_value(el)) != usual
                    ):
                        parent = el.getparent()
                        if parent not in triggered:
                            triggered.add(parent)
                            out.extend(react(parent))
            if code is not None:  # the usual cases without evaluate()'s call (see _code_check)
                rules, attribute, accepted = code
                if attribute is None:
                    value = el.text or "" if not len(el) else string_value(el)
                    undecided = accepted is None or value.strip(XML_WS) not in accepted
                else:
                    value = el.get(attribute)
                    undecided = value is not None and value.strip(XML_WS) not in accepted
                if undecided:
                    finding = codelists.evaluate(el, rules, False)
                    if finding is not None:
                        code_findings.append(finding)
        if busy is not None:
            name = busy.context
            if name is not None:
                current[name] = instance = (name, el, {})
                if busy.decided:
                    contexts.append(instance)
            for name, key, trigger in busy.keys:
                instance = current[name]
                collected = instance[2]
                nodes = collected.get(key)
                if nodes is None:
                    collected[key] = [el]
                    if not trigger:
                        continue
                else:
                    nodes.append(el)
                if id(collected) not in flagged:  # a key collected twice, or a trigger of the conditional rules
                    flagged.add(id(collected))
                    if name not in _DECIDED_AT_END:
                        contexts.append(instance)
            for rule, up in busy.presence:
                if rule.attribute is None or el.get(rule.attribute) is not None:
                    context = el
                    for _ in range(up):
                        context = context.getparent()
                    hits.setdefault((rule, id(context)), (context, el))
        children = len(el)  # (comments and processing instructions included, like the nodes)
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
    if hits:
        out.extend(_presence_findings(hits))
    # the context rules, once the pass has gathered what the document-wide conditions read; a context element's
    # count rules can only fire when a key holds several elements or an exactly-once key is missing, its conditional
    # rules only with one of their triggers
    out.extend(_root(root, {}, gathered))
    for name, ctx, collected in contexts:
        if id(collected) in flagged or not collected.keys() >= _EXACTLY_ONE[name] or name in _ALWAYS_RUN:
            out.extend(_part_rules(name, ctx, collected, gathered))
    out.extend(_attribute_rules(root, owners))
    if doc is not None:
        codelists.share(doc, code_findings)
        share_elements(doc, elements)
    return out


def check(doc: Document) -> Iterable[Finding]:
    if doc.syntax != "cii":
        return ()
    return _check_cii(doc.root, doc)
