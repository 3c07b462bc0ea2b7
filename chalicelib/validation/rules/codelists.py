"""BR-CL-*: code-list rules, on the raw XML of each syntax (release 1.3.16 of the CEN artefacts).

Each rule is one row of ``_UBL_RULES`` / ``_CII_RULES``: the element it applies to (its tag, plus
a parent or ancestor condition where the official context has one), where the code is read (the
element's text or one of its attributes) and the code list (``chalicelib.validation.codes``).

Membership is tested the way the official artefacts test it: the code, stripped of XML
whitespace, must be one whole entry of the list (a value with inner whitespace never is), and a
missing attribute counts as an empty value, so e.g. a UBL amount without ``@currencyID`` fails
BR-CL-03. Each rule fires once per offending element.

Each element is checked against the (usually single) rule registered for its tag and parent tag.
The syntax families (syntax_ubl, syntax_cii) already visit every element once: they evaluate these
rules in that pass and hand the findings over (``share``, in ``Document.scratch``), so ``check``
only returns them. Without such a pass (another order, a family run alone) ``check`` does its own:
``root.iter(*tags)`` filters the elements in C.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .. import codes
from ..document import Document
from ..findings import FATAL, Finding
from ..model import xpath_of

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"

_PREFIXES = {"cbc": CBC, "cac": CAC, "ram": RAM, "rsm": RSM, "udt": UDT}

# XPath whitespace is exactly these four characters (Python's str.split() knows more).
XML_WS = " \t\r\n"
_WS_RUN = re.compile(r"[ \t\r\n]+")


def clark(name: str) -> str:
    """'cbc:ID' -> '{urn:...CommonBasicComponents-2}ID'."""
    prefix, _, local = name.partition(":")
    return f"{{{_PREFIXES[prefix]}}}{local}"


def local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def string_value(el) -> str:
    """XPath string value of an element: all descendant text, comments and PIs excluded."""
    if len(el):
        return "".join(el.itertext())
    return el.text or ""


def normalize_space(value: str) -> str:
    """XPath normalize-space()."""
    value = value.strip(XML_WS)
    if "  " in value or "\t" in value or "\n" in value or "\r" in value:
        value = _WS_RUN.sub(" ", value)
    return value


def xs_boolean(value: str) -> bool | None:
    """An untyped value cast to xs:boolean, None when the cast fails (a pattern then does not match)."""
    value = value.strip(XML_WS)
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    return None


def path_of(el) -> str:
    """The location of a finding, written like the other families' (computed only when a rule fires)."""
    return xpath_of(el)


def has_ancestor(el, tags: frozenset[str]) -> bool:
    node = el.getparent()  # (a getparent() loop: iterancestors() costs twice as much on the held proxies)
    while node is not None:
        if node.tag in tags:
            return True
        node = node.getparent()
    return False


def compile_tree(paths: dict) -> dict:
    """{key: child steps (Clark tags)} -> {tag: (keys ending at this element, subtree)} for ``collect``."""
    tree: dict = {}
    for key, steps in paths.items():
        node = tree
        for i, step in enumerate(steps):
            keys, sub = node.setdefault(step, ([], {}))
            if i == len(steps) - 1:
                keys.append(key)
            node = sub
    return tree


def collect(el, tree: dict, found: dict) -> dict:
    """Every element reached from ``el`` by the paths of ``tree``, by key, in document order.

    One look at each child of each element on the way, so all the paths of a context together
    cost about what one of them costs."""
    for child in el[:]:
        entry = tree.get(child.tag)
        if entry is not None:
            keys, sub = entry
            for key in keys:
                found.setdefault(key, []).append(child)
            if sub:
                collect(child, sub, found)
    return found


# ----------------------------------------------------------------------------- rule table
@dataclass(frozen=True, slots=True)
class CodeRule:
    rule: str
    tags: tuple[str, ...]
    term: str  # what the supplier reads: the business term and the list
    accepted: frozenset[str]
    attribute: str | None = None  # the code is this attribute; None: the element's text
    required_attribute: bool = False  # context has [@attr]: elements without it are not checked
    absent: str = ""  # the message when the attribute is absent (checked as '' when not required_attribute)
    parents: tuple[str, ...] = ()  # context is parent/element: the parent's tag is one of these
    applies: Callable | None = None  # extra context condition on the element
    upper: bool = False  # compared upper-cased (VATEX)
    exact: bool = False  # compared without normalisation (MIME codes)
    # the element's text, trimmed, in the list, any context: evaluate() takes a short cut (most rules)
    simple: bool = field(init=False, default=False)
    # the code is an attribute compared trimmed (no upper-casing, not exact): evaluate() inlines it
    plain_attribute: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        simple = self.attribute is None and self.applies is None and not self.upper and not self.exact
        object.__setattr__(self, "simple", simple)
        plain = self.attribute is not None and not self.upper and not self.exact
        object.__setattr__(self, "plain_attribute", plain)

    def value(self, el) -> str | None:
        """The code to test, or None when the element is not in this rule's context."""
        if self.attribute is not None:
            raw = el.get(self.attribute)
            if raw is None:
                if self.required_attribute:
                    return None
                raw = ""
        else:
            raw = string_value(el)
        if self.applies is not None and not self.applies(el):
            return None
        return raw

    def accepts(self, raw: str) -> bool:
        if self.exact:
            return raw in self.accepted
        value = raw.strip(XML_WS)
        if self.upper:
            if any(c in value for c in XML_WS):
                return False
            value = value.upper()
        return value in self.accepted


def _ubl_object_reference(el) -> bool:
    """cac:AdditionalDocumentReference[cbc:DocumentTypeCode = '130'] (or cac:DocumentReference)."""
    parent = el.getparent()
    if parent is None or parent.tag not in _UBL_DOCREF:
        return False
    return any(string_value(c) == "130" for c in parent[:] if c.tag == _CBC_DOCTYPE)


_UBL_DOCREF = frozenset({clark("cac:AdditionalDocumentReference"), clark("cac:DocumentReference")})
_CBC_DOCTYPE = clark("cbc:DocumentTypeCode")
_UBL_SEPA_PARTIES = frozenset({clark("cac:AccountingSupplierParty"), clark("cac:PayeeParty")})


def _ubl_charge_indicator(expected: bool) -> Callable:
    """Parent is cac:AllowanceCharge[cbc:ChargeIndicator = expected]."""
    ac_tag = clark("cac:AllowanceCharge")
    ind_tag = clark("cbc:ChargeIndicator")

    def check(el) -> bool:
        parent = el.getparent()
        if parent is None or parent.tag != ac_tag:
            return False
        values = [xs_boolean(string_value(c)) for c in parent[:] if c.tag == ind_tag]
        if None in values:
            return False
        return expected in values

    return check


def _cii_charge_indicator(expected: bool) -> Callable:
    """Parent is ram:SpecifiedTradeAllowanceCharge[ram:ChargeIndicator/udt:Indicator = expected]."""
    ac_tag = clark("ram:SpecifiedTradeAllowanceCharge")
    ci_tag = clark("ram:ChargeIndicator")
    ind_tag = clark("udt:Indicator")

    def check(el) -> bool:
        parent = el.getparent()
        if parent is None or parent.tag != ac_tag:
            return False
        # (plain loops over children: a filtered iterchildren() builds a tag matcher at each call)
        values = [xs_boolean(string_value(i)) for c in parent[:] if c.tag == ci_tag for i in c[:] if i.tag == ind_tag]
        if None in values:
            return False
        return expected in values

    return check


def _not_within(*names: str) -> Callable:
    tags = frozenset(clark(n) for n in names)
    return lambda el: not has_ancestor(el, tags)


def _cii_ship_to_global_id(el) -> bool:
    parent = el.getparent()
    if parent is None or parent.tag != clark("ram:ShipToTradeParty"):
        return False
    grand = parent.getparent()
    return grand is not None and grand.tag == clark("ram:ApplicableHeaderTradeDelivery")


ICD = codes.members(codes.ISO_6523_ICD)
CURRENCIES = codes.members(codes.ISO_4217)

_UBL_AMOUNTS = tuple(
    f"cbc:{n}"
    for n in (
        "Amount BaseAmount PriceAmount TaxAmount TaxableAmount LineExtensionAmount TaxExclusiveAmount "
        "TaxInclusiveAmount AllowanceTotalAmount ChargeTotalAmount PrepaidAmount PayableRoundingAmount "
        "PayableAmount"
    ).split()
)


_UBL_RULES: tuple[CodeRule, ...] = (
    CodeRule(
        "BR-CL-01",
        ("cbc:InvoiceTypeCode",),
        "Invoice type code (BT-3) is not in the UNTDID 1001 invoice subset",
        codes.members(codes.UNTDID_1001_UBL_INVOICE),
    ),
    CodeRule(
        "BR-CL-01",
        ("cbc:CreditNoteTypeCode",),
        "Credit note type code (BT-3) is not in the UNTDID 1001 credit note subset",
        codes.members(codes.UNTDID_1001_UBL_CREDIT_NOTE),
    ),
    CodeRule(
        "BR-CL-03",
        _UBL_AMOUNTS,
        "Amount currency (@currencyID) is not an ISO 4217 alpha-3 code",
        CURRENCIES,
        attribute="currencyID",
        absent="Amount has no currency (@currencyID); it shall be an ISO 4217 alpha-3 code",
    ),
    CodeRule(
        "BR-CL-04",
        ("cbc:DocumentCurrencyCode",),
        "Invoice currency code (BT-5) is not an ISO 4217 alpha-3 code",
        CURRENCIES,
    ),
    CodeRule(
        "BR-CL-05",
        ("cbc:TaxCurrencyCode",),
        "VAT accounting currency code (BT-6) is not an ISO 4217 alpha-3 code",
        CURRENCIES,
    ),
    CodeRule(
        "BR-CL-06",
        ("cbc:DescriptionCode",),
        "Value added tax point date code (BT-8) is not one of 3, 35, 432 (UNTDID 2005)",
        codes.members(codes.UNTDID_2005_SUBSET),
        parents=("cac:InvoicePeriod",),
    ),
    CodeRule(
        "BR-CL-07",
        ("cbc:ID",),
        "Invoiced object identifier scheme (BT-18-1) is not in UNTDID 1153",
        codes.members(codes.UNTDID_1153),
        attribute="schemeID",
        required_attribute=True,
        parents=("cac:AdditionalDocumentReference", "cac:DocumentReference"),
        applies=_ubl_object_reference,
    ),
    CodeRule(
        "BR-CL-10",
        ("cbc:ID",),
        "Party identifier scheme (BT-29-1, BT-46-1, BT-60-1) is not in the ISO 6523 ICD list",
        ICD,
        attribute="schemeID",
        required_attribute=True,
        parents=("cac:PartyIdentification",),
    ),
    CodeRule(
        "BR-CL-11",
        ("cbc:CompanyID",),
        "Legal registration identifier scheme (BT-30-1, BT-47-1, BT-61-1) is not in the ISO 6523 ICD list",
        ICD,
        attribute="schemeID",
        required_attribute=True,
        parents=("cac:PartyLegalEntity",),
    ),
    CodeRule(
        "BR-CL-13",
        ("cbc:ItemClassificationCode",),
        "Item classification scheme (BT-158-1) is not in UNTDID 7143",
        codes.members(codes.UNTDID_7143),
        attribute="listID",
        required_attribute=True,
        parents=("cac:CommodityClassification",),
    ),
    CodeRule(
        "BR-CL-14",
        ("cbc:IdentificationCode",),
        "Country code is not an ISO 3166-1 alpha-2 code",
        codes.members(codes.ISO_3166_UBL),
        parents=("cac:Country",),
    ),
    CodeRule(
        "BR-CL-15",
        ("cbc:IdentificationCode",),
        "Item country of origin (BT-159) is not an ISO 3166-1 alpha-2 code",
        codes.members(codes.ISO_3166_UBL),
        parents=("cac:OriginCountry",),
    ),
    CodeRule(
        "BR-CL-16",
        ("cbc:PaymentMeansCode",),
        "Payment means type code (BT-81) is not in UNTDID 4461",
        codes.members(codes.UNTDID_4461),
        parents=("cac:PaymentMeans",),
    ),
    CodeRule(
        "BR-CL-17",
        ("cbc:ID",),
        "VAT category code (BT-95, BT-102, BT-118) is not in UNTDID 5305",
        codes.members(codes.UNTDID_5305),
        parents=("cac:TaxCategory",),
    ),
    CodeRule(
        "BR-CL-18",
        ("cbc:ID",),
        "Invoiced item VAT category code (BT-151) is not in UNTDID 5305",
        codes.members(codes.UNTDID_5305),
        parents=("cac:ClassifiedTaxCategory",),
    ),
    CodeRule(
        "BR-CL-19",
        ("cbc:AllowanceChargeReasonCode",),
        "Allowance reason code (BT-98, BT-140) is not in UNTDID 5189",
        codes.members(codes.UNTDID_5189),
        parents=("cac:AllowanceCharge",),
        applies=_ubl_charge_indicator(False),
    ),
    CodeRule(
        "BR-CL-20",
        ("cbc:AllowanceChargeReasonCode",),
        "Charge reason code (BT-105, BT-145) is not in UNTDID 7161",
        codes.members(codes.UNTDID_7161),
        parents=("cac:AllowanceCharge",),
        applies=_ubl_charge_indicator(True),
    ),
    CodeRule(
        "BR-CL-21",
        ("cbc:ID",),
        "Item standard identifier scheme (BT-157-1) is not in the ISO 6523 ICD list",
        ICD,
        attribute="schemeID",
        required_attribute=True,
        parents=("cac:StandardItemIdentification",),
    ),
    CodeRule(
        "BR-CL-22",
        ("cbc:TaxExemptionReasonCode",),
        "VAT exemption reason code (BT-121) is not in the CEF VATEX list",
        codes.members(codes.VATEX),
        upper=True,
    ),
    CodeRule(
        "BR-CL-23",
        ("cbc:InvoicedQuantity", "cbc:BaseQuantity", "cbc:CreditedQuantity"),
        "Unit of measure (BT-130, BT-150) is not in UN/ECE Recommendation 20/21",
        codes.members(codes.UNECE_REC20_21),
        attribute="unitCode",
        required_attribute=True,
    ),
    CodeRule(
        "BR-CL-24",
        ("cbc:EmbeddedDocumentBinaryObject",),
        "Attachment MIME code (BT-125-1) is not one of the allowed MIME types",
        codes.MIME_CODES,
        attribute="mimeCode",
        required_attribute=True,
        exact=True,
    ),
    CodeRule(
        "BR-CL-25",
        ("cbc:EndpointID",),
        "Electronic address scheme (BT-34-1, BT-49-1) is not in the CEF EAS list",
        codes.members(codes.EAS),
        attribute="schemeID",
        required_attribute=True,
    ),
    CodeRule(
        "BR-CL-26",
        ("cbc:ID",),
        "Deliver to location identifier scheme (BT-71-1) is not in the ISO 6523 ICD list",
        ICD,
        attribute="schemeID",
        required_attribute=True,
        parents=("cac:DeliveryLocation",),
    ),
)

_CII_RULES: tuple[CodeRule, ...] = (
    CodeRule(
        "BR-CL-01",
        ("ram:TypeCode",),
        "Invoice type code (BT-3) is not in the UNTDID 1001 invoice subset",
        codes.members(codes.UNTDID_1001_CII),
        parents=("rsm:ExchangedDocument",),
    ),
    CodeRule(
        "BR-CL-03",
        ("ram:TaxTotalAmount",),
        "Amount currency (@currencyID) is not an ISO 4217 alpha-3 code",
        CURRENCIES,
        attribute="currencyID",
        required_attribute=True,
    ),
    CodeRule(
        "BR-CL-04",
        ("ram:InvoiceCurrencyCode",),
        "Invoice currency code (BT-5) is not an ISO 4217 alpha-3 code",
        CURRENCIES,
    ),
    CodeRule(
        "BR-CL-05",
        ("ram:TaxCurrencyCode",),
        "VAT accounting currency code (BT-6) is not an ISO 4217 alpha-3 code",
        CURRENCIES,
    ),
    CodeRule(
        "BR-CL-06",
        ("ram:DueDateTypeCode",),
        "Value added tax point date code (BT-8) is not one of 5, 29, 72 (UNTDID 2475)",
        codes.members(codes.UNTDID_2475_SUBSET),
    ),
    CodeRule(
        "BR-CL-07",
        ("ram:ReferenceTypeCode",),
        "Invoiced object identifier scheme (BT-18-1) is not in UNTDID 1153",
        codes.members(codes.UNTDID_1153),
    ),
    CodeRule(
        "BR-CL-08",
        ("ram:SubjectCode",),
        "Invoice note subject code (BT-21) is not in UNTDID 4451",
        codes.members(codes.UNTDID_4451),
    ),
    CodeRule(
        "BR-CL-10",
        ("ram:GlobalID",),
        "Party identifier scheme (BT-29-1, BT-46-1, BT-60-1) is not in the ISO 6523 ICD list",
        ICD,
        attribute="schemeID",
        required_attribute=True,
        applies=_not_within("ram:SpecifiedTradeProduct", "ram:ShipToTradeParty"),
    ),
    CodeRule(
        "BR-CL-11",
        ("ram:ID",),
        "Legal registration identifier scheme (BT-30-1, BT-47-1, BT-61-1) is not in the ISO 6523 ICD list",
        ICD,
        attribute="schemeID",
        required_attribute=True,
        applies=_not_within("ram:SpecifiedTaxRegistration"),
    ),
    CodeRule(
        "BR-CL-13",
        ("ram:ClassCode",),
        "Item classification scheme (BT-158-1) is not in UNTDID 7143",
        codes.members(codes.UNTDID_7143),
        attribute="listID",
        required_attribute=True,
    ),
    CodeRule(
        "BR-CL-14",
        ("ram:CountryID",),
        "Country code is not an ISO 3166-1 alpha-2 code",
        codes.members(codes.ISO_3166_CII),
    ),
    CodeRule(
        "BR-CL-15",
        ("ram:ID",),
        "Item country of origin (BT-159) is not an ISO 3166-1 alpha-2 code",
        codes.members(codes.ISO_3166_CII),
        parents=("ram:OriginTradeCountry",),
    ),
    CodeRule(
        "BR-CL-16",
        ("ram:TypeCode",),
        "Payment means type code (BT-81) is not in UNTDID 4461",
        codes.members(codes.UNTDID_4461),
        parents=("ram:SpecifiedTradeSettlementPaymentMeans",),
    ),
    CodeRule(
        "BR-CL-17",
        ("ram:CategoryCode",),
        "VAT category code (BT-95, BT-102) is not in UNTDID 5305",
        codes.members(codes.UNTDID_5305),
        parents=("ram:CategoryTradeTax",),
    ),
    CodeRule(
        "BR-CL-18",
        ("ram:CategoryCode",),
        "VAT category code (BT-118, BT-151) is not in UNTDID 5305",
        codes.members(codes.UNTDID_5305),
        parents=("ram:ApplicableTradeTax",),
    ),
    CodeRule(
        "BR-CL-19",
        ("ram:ReasonCode",),
        "Allowance reason code (BT-98, BT-140) is not in UNTDID 5189",
        codes.members(codes.UNTDID_5189),
        parents=("ram:SpecifiedTradeAllowanceCharge",),
        applies=_cii_charge_indicator(False),
    ),
    CodeRule(
        "BR-CL-20",
        ("ram:ReasonCode",),
        "Charge reason code (BT-105, BT-145) is not in UNTDID 7161",
        codes.members(codes.UNTDID_7161),
        parents=("ram:SpecifiedTradeAllowanceCharge",),
        applies=_cii_charge_indicator(True),
    ),
    CodeRule(
        "BR-CL-21",
        ("ram:GlobalID",),
        "Item standard identifier scheme (BT-157-1) is not in the ISO 6523 ICD list",
        ICD,
        attribute="schemeID",
        required_attribute=True,
        parents=("ram:SpecifiedTradeProduct",),
    ),
    CodeRule(
        "BR-CL-22",
        ("ram:ExemptionReasonCode",),
        "VAT exemption reason code (BT-121) is not in the CEF VATEX list",
        codes.members(codes.VATEX),
        upper=True,
    ),
    CodeRule(
        "BR-CL-23",
        ("ram:BasisQuantity", "ram:BilledQuantity"),
        "Unit of measure (BT-130, BT-150) is not in UN/ECE Recommendation 20/21",
        codes.members(codes.UNECE_REC20_21),
        attribute="unitCode",
        required_attribute=True,
    ),
    CodeRule(
        "BR-CL-24",
        ("ram:AttachmentBinaryObject",),
        "Attachment MIME code (BT-125-1) is not one of the allowed MIME types",
        codes.MIME_CODES,
        attribute="mimeCode",
        required_attribute=True,
        exact=True,
    ),
    CodeRule(
        "BR-CL-25",
        ("ram:URIID",),
        "Electronic address scheme (BT-34-1, BT-49-1) is not in the CEF EAS list",
        codes.members(codes.EAS),
        attribute="schemeID",
        required_attribute=True,
        parents=("ram:URIUniversalCommunication",),
    ),
    CodeRule(
        "BR-CL-26",
        ("ram:GlobalID",),
        "Deliver to location identifier scheme (BT-71-1) is not in the ISO 6523 ICD list",
        ICD,
        attribute="schemeID",
        required_attribute=True,
        parents=("ram:ShipToTradeParty",),
        applies=_cii_ship_to_global_id,
    ),
)


Index = dict[str, tuple[tuple[CodeRule, ...], dict[str, tuple[CodeRule, ...]]]]


def _index(rules: Iterable[CodeRule]) -> Index:
    """Clark tag -> (rules for any parent, rules by parent tag), each in the artefact's rule order.

    Rules for any parent come first: where both kinds exist for a tag (CII ram:ID: BR-CL-11, then
    BR-CL-15 under ram:OriginTradeCountry) that is also the official order.
    """
    general: dict[str, list[CodeRule]] = {}
    by_parent: dict[str, dict[str, list[CodeRule]]] = {}
    for rule in rules:
        for tag in map(clark, rule.tags):
            general.setdefault(tag, [])
            by_parent.setdefault(tag, {})
            if rule.parents:
                for parent in map(clark, rule.parents):
                    by_parent[tag].setdefault(parent, []).append(rule)
            else:
                general[tag].append(rule)
    return {
        tag: (tuple(general[tag]), {p: tuple(general[tag]) + tuple(rs) for p, rs in by_parent[tag].items()})
        for tag in general
    }


_BY_SYNTAX = {"ubl": _index(_UBL_RULES), "cii": _index(_CII_RULES)}
_TAGS = {syntax: tuple(index) for syntax, index in _BY_SYNTAX.items()}


def _sepa_ok(el, raw: str) -> bool:
    """UBL BR-CL-10 also accepts 'SEPA' on identifiers of the seller or the payee."""
    return raw.strip(XML_WS) == "SEPA" and has_ancestor(el, _UBL_SEPA_PARTIES)


def evaluate(el, rules: tuple[CodeRule, ...], ubl: bool) -> Finding | None:
    """The finding of the first rule whose context ``el`` is, if its code is not in the list."""
    for rule in rules:
        if rule.simple:  # value(): the string value; accepts(): trimmed, in the list
            raw = el.text or "" if not len(el) else "".join(el.itertext())
            if raw.strip(XML_WS) in rule.accepted:
                return None
        elif rule.plain_attribute:  # value() and accepts() inlined: most other rules read an attribute
            raw = el.get(rule.attribute)
            if raw is None:
                if rule.required_attribute:
                    continue
                raw = ""
            if rule.applies is not None and not rule.applies(el):
                continue
            if raw.strip(XML_WS) in rule.accepted:
                return None
        else:
            raw = rule.value(el)
            if raw is None:
                continue  # not this rule's context: the next rule for the tag may match
            if rule.accepts(raw):
                return None
        if ubl and rule.rule == "BR-CL-10" and _sepa_ok(el, raw):
            return None
        if rule.absent and el.get(rule.attribute) is None:  # not an empty code: none at all
            return Finding(rule.rule, FATAL, f"{rule.absent}.", path_of(el))
        shown = raw if rule.exact else raw.strip(XML_WS)
        return Finding(rule.rule, FATAL, f"{rule.term}: '{shown}'.", path_of(el))
    return None


def index_for(syntax: str) -> Index:
    """Tag -> (rules for any parent, rules by parent tag): for a syntax family that checks the code
    lists in its own pass over the document (see ``share``)."""
    return _BY_SYNTAX[syntax]


def _check(root, syntax: str) -> list[Finding]:
    out: list[Finding] = []
    index = _BY_SYNTAX[syntax]
    ubl = syntax == "ubl"
    for el in root.iter(*_TAGS[syntax]):
        rules, by_parent = index[el.tag]
        if by_parent:
            parent = el.getparent()
            if parent is not None:
                rules = by_parent.get(parent.tag, rules)
        finding = evaluate(el, rules, ubl)
        if finding is not None:
            out.append(finding)
    return out


# The syntax families walk every element anyway: they evaluate the code lists in the same pass and
# leave the findings in the document's scratch space for check() (they die with the document).
_SCRATCH_KEY = "codelists.findings"


def share(doc: Document, findings: list[Finding]) -> None:
    doc.scratch[_SCRATCH_KEY] = (doc.root, findings)


def _take(doc: Document) -> list[Finding] | None:
    shared = doc.scratch.pop(_SCRATCH_KEY, None)
    if shared is not None and shared[0] is doc.root:
        return shared[1]
    return None


def check(doc: Document) -> Iterable[Finding]:
    if doc.syntax not in _BY_SYNTAX:
        return ()
    shared = _take(doc)
    if shared is not None:
        return shared
    return _check(doc.root, doc.syntax)
