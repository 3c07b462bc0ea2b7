"""The EN 16931 semantic model: one invoice as business terms (BT-n) and groups (BG-n).

Readers (``chalicelib.validation.readers``) build an :class:`Invoice` from UBL 2.1 or
UN/CEFACT CII D16B in one pass; rule families and the rest of the platform read it.

Shape
-----
Every *leaf* business term is a :class:`Field` (or a subclass) or ``None`` when the element
is absent. A present-but-empty element is a Field whose ``raw`` is ``""``: presence rules
("BR-06 … shall contain Seller name") test ``is not None``; content rules test ``text``.

* ``Field.raw``   – the element's text exactly as written (decimal-count rules need it)
* ``Field.text``  – ``raw`` with surrounding whitespace stripped
* ``Field.path``  – XPath of the element, computed on demand (for ``Finding.location``)
* ``Field.el``    – the lxml element (attributes, position) – read-only please
* ``Amount.value`` (``Decimal | None`` when unparseable), ``Amount.currency`` (``@currencyID``)
* ``Quantity.value``, ``Quantity.unit`` (``@unitCode``; ``None`` when the attribute is absent)
* ``DateField.value`` (``datetime.date | None``), ``DateField.format`` (CII ``@format``)
* ``Ident.scheme`` (``@schemeID`` or, for classifications, ``@listID``; ``None`` when absent)
* ``Percent`` is an Amount without currency (rates, percentages, multiplier factors).

Groups are dataclasses whose attributes are named after the business term, with the BT id
in the docstring/comment. Repeating groups are lists (possibly empty). Optional groups are
``None`` when absent. Every group keeps ``el`` (the element that carries it, or None) so
rules can locate group-level findings with :func:`xpath_of`.

Duplicates: when a cardinality-1 element is repeated, the first occurrence is kept in the
model (the syntax rules report the repetition on the raw tree).

Syntax-specific facts the rules need but that are not business terms are kept too and
documented where they live (e.g. ``Invoice.tax_totals`` keeps every UBL ``cac:TaxTotal``
or every CII ``ram:TaxTotalAmount``, with its currency).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "Address",
    "AllowanceCharge",
    "Amount",
    "Card",
    "Contact",
    "CreditTransfer",
    "DateField",
    "Delivery",
    "DirectDebit",
    "DocumentReference",
    "Field",
    "Ident",
    "Invoice",
    "Item",
    "LOCATION_NAMESPACES",
    "ItemAttribute",
    "Line",
    "LineVat",
    "Note",
    "Party",
    "PaymentInstruction",
    "Percent",
    "Period",
    "PrecedingInvoice",
    "Price",
    "Quantity",
    "SupportingDocument",
    "TaxTotal",
    "Totals",
    "UblDate",
    "VatBreakdown",
    "to_decimal",
    "xpath_of",
]

# The prefixes of finding locations (Finding.location, xpath_of), whatever prefixes the document itself uses:
# evaluate a location with these bindings. An element in any other namespace is written
# *[local-name()='X' and namespace-uri()='Y'] (as the official SVRL does); one in no namespace by its name.
LOCATION_NAMESPACES: dict[str, str] = {
    "ubl": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "ext": "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2",
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
_PREFIXES = {ns: prefix for prefix, ns in LOCATION_NAMESPACES.items()}


def _step(el: Any) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return "node()"
    if tag[0] == "{":
        ns, _, local = tag[1:].partition("}")
        prefix = _PREFIXES.get(ns)
        if prefix is None:  # the document's own prefix would be unbound for whoever evaluates the location
            return f"*[local-name()='{local}' and namespace-uri()={_string_literal(ns)}]"
        return f"{prefix}:{local}"
    return tag


def _string_literal(text: str) -> str:
    """An XPath 1.0 string literal of text (which has no escapes: concat() when both quotes occur)."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return "concat(" + ', "\'", '.join(f"'{part}'" for part in text.split("'")) + ")"


# Per-document memo of xpath_of: element -> path, active only while the engine validates one document (it sets a
# fresh dict and resets the variable afterwards: the findings of a document often share a location, e.g. the
# document element). The elements themselves are the keys (held, so no other node can take over a key).
XPATH_MEMO: ContextVar[dict | None] = ContextVar("xpath_memo", default=None)


def xpath_of(el: Any) -> str:
    """A readable XPath (prefixes cbc/cac/ram/…, positions only where siblings share a name)."""
    if el is None:
        return ""
    memo = XPATH_MEMO.get()
    if memo is None:
        return _xpath(el)
    path = memo.get(el)
    if path is None:
        path = _memo_xpath(el, memo)
    return path


def _xpath(el: Any) -> str:
    parts = []
    while el is not None:
        parent = el.getparent()
        parts.append(_step(el) + (_position(el, None) if parent is not None else ""))
        el = parent
    return "/" + "/".join(reversed(parts))


def _memo_xpath(el: Any, memo: dict) -> str:
    """xpath_of through the memo: each ancestor's path is computed once per document, so a document with many
    findings costs its depth per finding, not its depth times its siblings."""
    todo = []  # el and its ancestors not yet in the memo, innermost first
    path = ""
    while el is not None:
        known = memo.get(el)
        if known is not None:
            path = known
            break
        todo.append(el)
        el = el.getparent()
    for node in reversed(todo):
        parent = node.getparent()
        path = memo[node] = f"{path}/{_step(node)}{_position(node, memo) if parent is not None else ''}"
    return path


_SIBLING_WALK = 32  # beyond this many steps, a parent's positions are tabulated once (memo) instead of walked
_POSITIONS = object()  # memo key of the tables: parent -> {child: "[n]" or ""}


def _position(el: Any, memo: dict | None) -> str:
    """'[n]' when a sibling shares el's name, else ''."""
    # the usual case, few siblings: count the preceding same-name ones and look for a following one
    tag = el.tag
    n = 1
    steps = 0
    sibling = el.getprevious()
    while sibling is not None and steps < _SIBLING_WALK:
        if sibling.tag == tag:
            n += 1
        sibling = sibling.getprevious()
        steps += 1
    if sibling is None:
        if n > 1:
            return f"[{n}]"
        sibling = el.getnext()
        while sibling is not None and sibling.tag != tag and steps < _SIBLING_WALK:
            sibling = sibling.getnext()
            steps += 1
        if sibling is None:
            return ""
        if sibling.tag == tag:
            return "[1]"
    # many siblings (thousands of lines): walking them for each finding would be quadratic
    parent = el.getparent()
    if memo is None:
        return _sibling_positions(parent)[el]
    tables = memo.get(_POSITIONS)
    if tables is None:
        tables = memo[_POSITIONS] = {}
    table = tables.get(parent)
    if table is None:
        table = tables[parent] = _sibling_positions(parent)
    return table[el]


def _sibling_positions(parent: Any) -> dict:
    counts: dict = {}
    for child in parent:
        counts[child.tag] = counts.get(child.tag, 0) + 1
    seen: dict = {}
    table = {}
    for child in parent:
        tag = child.tag
        if counts[tag] > 1:
            seen[tag] = n = seen.get(tag, 0) + 1
            table[child] = f"[{n}]"
        else:
            table[child] = ""
    return table


def to_decimal(text: str | None) -> Decimal | None:
    """XSD decimal parsing (leading/trailing whitespace allowed, no exponent); None if invalid."""
    try:
        d = Decimal(text)  # accepts surrounding whitespace, like xs:decimal
    except (InvalidOperation, TypeError):
        return None
    if not d.is_finite() or "e" in text or "E" in text or "_" in text or not text.isascii():
        return None
    return d


def xs_boolean(text: str | None) -> bool | None:
    """xs:boolean cast of an indicator (true/1, false/0, surrounding whitespace ignored); None if invalid."""
    if text is None:
        return None
    t = text.strip()
    if t in ("true", "1"):
        return True
    if t in ("false", "0"):
        return False
    return None


class Field:
    """One business term occurrence: raw text, element (for attributes and XPath)."""

    __slots__ = ("el", "raw")

    def __init__(self, el: Any):
        self.el = el
        self.raw = el.text or ""

    @property
    def text(self) -> str:
        return self.raw.strip()

    @property
    def path(self) -> str:
        return xpath_of(self.el)

    def attr(self, name: str) -> str | None:
        return self.el.get(name)

    def __bool__(self) -> bool:  # a present element is truthy even when empty
        return True

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.raw!r})"


class Amount(Field):
    """Monetary amount: ``value`` Decimal (None if not a decimal), ``currency`` = @currencyID."""

    __slots__ = ("value",)

    def __init__(self, el: Any):
        self.el = el
        self.raw = raw = el.text or ""
        try:  # to_decimal(raw), inlined: one Amount per amount element of every invoice
            d = Decimal(raw)
        except InvalidOperation:
            d = None
        else:
            # Decimal also takes any Unicode digit ('２５０', '٢٥٠'); xs:decimal and number() only ASCII ones
            if not d.is_finite() or "e" in raw or "E" in raw or "_" in raw or not raw.isascii():
                d = None
        self.value = d

    @property
    def currency(self) -> str | None:
        return self.el.get("currencyID")


class Percent(Amount):
    """A rate or percentage (BT-94, BT-96, BT-119, BT-152 …): ``value`` Decimal or None."""

    __slots__ = ()


class Quantity(Amount):
    """Quantity (BT-129, BT-149): ``value`` Decimal, ``unit`` = @unitCode (BT-130/BT-150)."""

    __slots__ = ()

    @property
    def unit(self) -> str | None:
        return self.el.get("unitCode")


class DateField(Field):
    """A date. UBL: YYYY-MM-DD text; CII: ``udt:DateTimeString`` (``format`` 102 = YYYYMMDD).

    ``value`` is a ``date`` or None when the text is not a valid date in its format.
    """

    __slots__ = ("value",)

    def __init__(self, el: Any):
        self.el = el
        self.raw = raw = el.text or ""
        self.value = _parse_date(raw.strip())

    @property
    def format(self) -> str | None:
        return self.el.get("format")


class UblDate(DateField):
    """A UBL date: an xs:date, ``YYYY-MM-DD`` with an optional time zone (``Z``, ``+01:00``). Any other text (a
    date-time, ``YYYYMMDD``, trailing characters) is not a date: ``value`` None, as the schema would refuse it."""

    __slots__ = ()

    def __init__(self, el: Any):
        self.el = el
        self.raw = raw = el.text or ""
        match = _XS_DATE.fullmatch(raw.strip())
        self.value = _parse_date(match.group(1)) if match is not None else None


# xs:date's lexical form (ASCII digits: \d would take any Unicode digit); a time zone is at most 14 hours away
_XS_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))?")


def _parse_date(t: str) -> date | None:
    if not t.isascii():  # int() takes any Unicode digit, xs:date only ASCII ones
        return None
    try:
        if len(t) == 8 and t.isdigit():
            return date(int(t[:4]), int(t[4:6]), int(t[6:]))
        if len(t) >= 10 and t[4] == "-" and t[7] == "-":
            return date(int(t[:4]), int(t[5:7]), int(t[8:10]))
    except ValueError:
        return None
    return None


class Ident(Field):
    """An identifier with an optional scheme: ``scheme`` = @schemeID (@listID for BT-158)."""

    __slots__ = ()

    @property
    def scheme(self) -> str | None:
        el = self.el
        return el.get("schemeID") if "schemeID" in el.attrib else el.get("listID")


# ---------------------------------------------------------------------------- groups


@dataclass(slots=True, eq=False)
class Address:
    """BG-5 / BG-8 / BG-12 / BG-15 postal address."""

    el: Any = None
    line1: Field | None = None  # BT-35 / BT-50 / BT-64 / BT-75
    line2: Field | None = None  # BT-36 / BT-51 / BT-65 / BT-76
    line3: Field | None = None  # BT-162 / BT-163 / BT-164 / BT-165
    city: Field | None = None  # BT-37 / BT-52 / BT-66 / BT-77
    postcode: Field | None = None  # BT-38 / BT-53 / BT-67 / BT-78
    subdivision: Field | None = None  # BT-39 / BT-54 / BT-68 / BT-79
    country: Field | None = None  # BT-40 / BT-55 / BT-69 / BT-80 (ISO 3166-1 alpha-2)


@dataclass(slots=True, eq=False)
class Contact:
    """BG-6 / BG-9 contact."""

    el: Any = None
    name: Field | None = None  # BT-41 / BT-56
    telephone: Field | None = None  # BT-42 / BT-57
    email: Field | None = None  # BT-43 / BT-58


@dataclass(slots=True, eq=False)
class Party:
    """BG-4 Seller, BG-7 Buyer, BG-10 Payee, BG-11 Seller tax representative.

    ``tax_ids`` keeps every tax registration as (identifier, scheme) where the scheme is the
    UBL ``cac:TaxScheme/cbc:ID`` (e.g. "VAT") or the CII ``@schemeID`` ("VA", "FC").
    """

    el: Any = None
    name: Field | None = None  # BT-27 / BT-44 / BT-59 / BT-62 (UBL: RegistrationName; payee/taxrep: PartyName)
    trading_name: Field | None = None  # BT-28 / BT-45 (UBL: PartyName/Name)
    identifiers: list[Ident] = field(default_factory=list)  # BT-29 / BT-46 / BT-60 (with scheme)
    legal_registration: Ident | None = None  # BT-30 / BT-47 / BT-61 (scheme 0009 SIRET, 0002 SIREN)
    vat_id: Field | None = None  # BT-31 / BT-48 / BT-63
    tax_registration: Field | None = None  # BT-32 (seller tax registration, not VAT)
    tax_ids: list[tuple[Field, str | None]] = field(default_factory=list)
    legal_info: Field | None = None  # BT-33 Seller additional legal information
    electronic_address: Ident | None = None  # BT-34 / BT-49 (scheme = BT-34-1 / BT-49-1)
    address: Address | None = None  # BG-5 / BG-8 / BG-12
    contact: Contact | None = None  # BG-6 / BG-9
    # UBL only: cac:PartyName/cbc:Name elements present (BR-17/BR-18 test these)
    party_names: list[Field] = field(default_factory=list)
    # UBL only: cac:PartyLegalEntity/cbc:RegistrationName (BT-27/BT-44; kept apart for payee/tax rep)
    registration_name: Field | None = None

    @property
    def ids(self) -> list[tuple[str, str | None]]:
        """Every BT-29-like identifier as (value, scheme)."""
        return [(i.text, i.scheme) for i in self.identifiers]

    def identifier(self, scheme: str) -> str | None:
        """The first BT-29/BT-46 identifier with the given scheme (e.g. "0009" SIRET)."""
        for i in self.identifiers:
            if i.scheme == scheme:
                return i.text
        if self.legal_registration is not None and self.legal_registration.scheme == scheme:
            return self.legal_registration.text
        return None

    @property
    def siret(self) -> str | None:
        return self.identifier("0009")

    @property
    def siren(self) -> str | None:
        return self.identifier("0002")

    @property
    def country(self) -> str | None:
        if self.address is not None and self.address.country is not None:
            return self.address.country.text
        return None


@dataclass(slots=True, eq=False)
class Note:
    """BG-1 Invoice note."""

    el: Any = None
    subject_code: Field | None = None  # BT-21
    text: Field | None = None  # BT-22


@dataclass(slots=True, eq=False)
class DocumentReference:
    """A simple document reference (BT-11 … BT-18, BT-128): identifier with scheme."""

    el: Any = None
    id: Ident | None = None
    type_code: Field | None = None


@dataclass(slots=True, eq=False)
class SupportingDocument:
    """BG-24 Additional supporting document."""

    el: Any = None
    id: Ident | None = None  # BT-122
    description: Field | None = None  # BT-123
    uri: Field | None = None  # BT-124 External document location
    attachment: Field | None = None  # BT-125 (mimeCode BT-125-1, filename BT-125-2 as attributes)
    type_code: Field | None = None  # UBL DocumentTypeCode / CII TypeCode (916)


@dataclass(slots=True, eq=False)
class PrecedingInvoice:
    """BG-3 Preceding invoice reference."""

    el: Any = None
    number: Field | None = None  # BT-25
    issue_date: DateField | None = None  # BT-26


@dataclass(slots=True, eq=False)
class Period:
    """BG-14 Invoicing period / BG-26 Invoice line period."""

    el: Any = None
    start: DateField | None = None  # BT-73 / BT-134
    end: DateField | None = None  # BT-74 / BT-135
    description_code: Field | None = None  # BT-8 (UBL: InvoicePeriod/DescriptionCode)


@dataclass(slots=True, eq=False)
class Delivery:
    """BG-13 Delivery information (with BG-15 Deliver to address)."""

    el: Any = None
    name: Field | None = None  # BT-70
    location_id: Ident | None = None  # BT-71
    date: DateField | None = None  # BT-72 Actual delivery date
    address: Address | None = None  # BG-15


@dataclass(slots=True, eq=False)
class CreditTransfer:
    """BG-17 Credit transfer."""

    el: Any = None
    account: Field | None = None  # BT-84 Payment account identifier (IBAN or proprietary)
    name: Field | None = None  # BT-85
    bic: Field | None = None  # BT-86


@dataclass(slots=True, eq=False)
class Card:
    """BG-18 Payment card information."""

    el: Any = None
    pan: Field | None = None  # BT-87 Payment card primary account number
    holder: Field | None = None  # BT-88


@dataclass(slots=True, eq=False)
class DirectDebit:
    """BG-19 Direct debit."""

    el: Any = None
    mandate: Field | None = None  # BT-89
    creditor_id: Field | None = None  # BT-90 Bank assigned creditor identifier
    debited_account: Field | None = None  # BT-91


@dataclass(slots=True, eq=False)
class PaymentInstruction:
    """BG-16 Payment instructions (one per UBL PaymentMeans / CII SpecifiedTradeSettlementPaymentMeans)."""

    el: Any = None
    code: Field | None = None  # BT-81 Payment means type code
    text: Field | None = None  # BT-82
    remittance: Field | None = None  # BT-83 Remittance information
    transfers: list[CreditTransfer] = field(default_factory=list)  # BG-17
    card: Card | None = None  # BG-18
    direct_debit: DirectDebit | None = None  # BG-19


@dataclass(slots=True, eq=False)
class AllowanceCharge:
    """BG-20 / BG-21 document level, BG-27 / BG-28 line level allowance or charge.

    ``is_charge``: True (charge), False (allowance) or None when the indicator is missing or
    not one of true/false. ``indicator`` keeps the raw indicator element.
    """

    el: Any = None
    indicator: Field | None = None
    is_charge: bool | None = None
    amount: Amount | None = None  # BT-92 / BT-99 / BT-136 / BT-141
    base_amount: Amount | None = None  # BT-93 / BT-100 / BT-137 / BT-142
    percent: Percent | None = None  # BT-94 / BT-101 / BT-138 / BT-143
    vat_category: Field | None = None  # BT-95 / BT-102 (document level only)
    vat_rate: Percent | None = None  # BT-96 / BT-103
    vat_scheme: Field | None = None  # UBL TaxCategory/TaxScheme/ID, CII TypeCode
    reason: Field | None = None  # BT-97 / BT-104 / BT-139 / BT-144
    reason_code: Field | None = None  # BT-98 / BT-105 / BT-140 / BT-145
    tax_category_el: Any = None  # UBL cac:TaxCategory / CII ram:CategoryTradeTax element


@dataclass(slots=True, eq=False)
class TaxTotal:
    """UBL cac:TaxTotal (amount = its cbc:TaxAmount) or CII ram:TaxTotalAmount.

    ``subtotals`` (UBL only) are the VAT breakdowns inside this TaxTotal.
    """

    el: Any = None
    amount: Amount | None = None
    subtotals: list[VatBreakdown] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class VatBreakdown:
    """BG-23 VAT breakdown (UBL cac:TaxSubtotal, CII header ram:ApplicableTradeTax)."""

    el: Any = None
    taxable_amount: Amount | None = None  # BT-116
    tax_amount: Amount | None = None  # BT-117
    category: Field | None = None  # BT-118
    rate: Percent | None = None  # BT-119
    exemption_reason: Field | None = None  # BT-120
    exemption_code: Field | None = None  # BT-121
    tax_scheme: Field | None = None  # UBL TaxScheme/ID, CII TypeCode ("VAT")
    category_el: Any = None  # UBL cac:TaxCategory element (None in CII)
    tax_point_date: DateField | None = None  # CII only: BT-7 carried by this ram:ApplicableTradeTax
    tax_point_date_code: Field | None = None  # CII only: BT-8 (ram:DueDateTypeCode) of this breakdown


@dataclass(slots=True, eq=False)
class Totals:
    """BG-22 Document totals (UBL cac:LegalMonetaryTotal, CII header monetary summation).

    ``tax_amount`` (BT-110) / ``tax_amount_accounting`` (BT-111) are resolved by currency from
    ``Invoice.tax_totals`` (BT-110 in BT-5, BT-111 in BT-6).
    """

    el: Any = None
    line_total: Amount | None = None  # BT-106 Sum of Invoice line net amount
    allowance_total: Amount | None = None  # BT-107
    charge_total: Amount | None = None  # BT-108
    tax_exclusive: Amount | None = None  # BT-109 Invoice total amount without VAT
    tax_amount: Amount | None = None  # BT-110 Invoice total VAT amount
    tax_amount_accounting: Amount | None = None  # BT-111 Invoice total VAT amount in accounting currency
    tax_inclusive: Amount | None = None  # BT-112 Invoice total amount with VAT
    prepaid: Amount | None = None  # BT-113 Paid amount
    rounding: Amount | None = None  # BT-114 Rounding amount
    payable: Amount | None = None  # BT-115 Amount due for payment


@dataclass(slots=True, eq=False)
class LineVat:
    """BG-30 Line VAT information (UBL ClassifiedTaxCategory, CII line ApplicableTradeTax)."""

    el: Any = None
    category: Field | None = None  # BT-151
    rate: Percent | None = None  # BT-152
    tax_scheme: Field | None = None


@dataclass(slots=True, eq=False)
class Price:
    """BG-29 Price details."""

    el: Any = None
    net: Amount | None = None  # BT-146 Item net price
    discount: Amount | None = None  # BT-147 Item price discount
    gross: Amount | None = None  # BT-148 Item gross price
    base_quantity: Quantity | None = None  # BT-149 (unit = BT-150)
    # UBL cac:Price/cac:AllowanceCharge or CII gross price allowance elements (BT-147/148 carriers)
    allowance_charges: list[AllowanceCharge] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class ItemAttribute:
    """BG-32 Item attributes."""

    el: Any = None
    name: Field | None = None  # BT-160
    value: Field | None = None  # BT-161


@dataclass(slots=True, eq=False)
class Item:
    """BG-31 Item information."""

    el: Any = None
    name: Field | None = None  # BT-153
    description: Field | None = None  # BT-154
    seller_id: Field | None = None  # BT-155
    buyer_id: Field | None = None  # BT-156
    standard_ids: list[Ident] = field(default_factory=list)  # BT-157 (scheme BT-157-1)
    classifications: list[Ident] = field(default_factory=list)  # BT-158 (scheme = @listID)
    origin_country: Field | None = None  # BT-159
    attributes: list[ItemAttribute] = field(default_factory=list)  # BG-32


@dataclass(slots=True, eq=False)
class Line:
    """BG-25 Invoice line (UBL InvoiceLine/CreditNoteLine, CII IncludedSupplyChainTradeLineItem)."""

    el: Any = None
    id: Field | None = None  # BT-126
    note: Field | None = None  # BT-127
    object_id: Ident | None = None  # BT-128
    quantity: Quantity | None = None  # BT-129 (unit = BT-130)
    net_amount: Amount | None = None  # BT-131
    order_line_ref: Field | None = None  # BT-132
    accounting_ref: Field | None = None  # BT-133
    period: Period | None = None  # BG-26
    allowances: list[AllowanceCharge] = field(default_factory=list)  # BG-27
    charges: list[AllowanceCharge] = field(default_factory=list)  # BG-28
    # every line allowance/charge in document order, including those with a bad indicator
    allowance_charges: list[AllowanceCharge] = field(default_factory=list)
    price: Price | None = None  # BG-29
    # CII only: every line ram:AdditionalReferencedDocument (BT-128 carriers)
    document_references: list[SupportingDocument] = field(default_factory=list)
    vat: LineVat | None = None  # BG-30
    item: Item | None = None  # BG-31

    @property
    def vat_category(self) -> str | None:
        c = self.vat.category if self.vat is not None else None
        return c.text if c is not None else None

    @property
    def vat_rate(self) -> Decimal | None:
        r = self.vat.rate if self.vat is not None else None
        return r.value if r is not None else None


@dataclass(slots=True, eq=False)
class Invoice:
    """BG-0 the invoice. ``syntax`` "ubl"|"cii", ``document`` the root element's local name."""

    syntax: str = ""
    document: str = ""
    el: Any = None
    customization_id: Field | None = None  # BT-24 Specification identifier
    profile_id: Field | None = None  # BT-23 Business process type
    number: Field | None = None  # BT-1 Invoice number
    issue_date: DateField | None = None  # BT-2
    type_code: Field | None = None  # BT-3 (UBL InvoiceTypeCode/CreditNoteTypeCode, CII TypeCode)
    currency: Field | None = None  # BT-5 Invoice currency code
    tax_currency: Field | None = None  # BT-6 VAT accounting currency code
    tax_point_date: DateField | None = None  # BT-7
    tax_point_date_code: Field | None = None  # BT-8 Value added tax point date code
    due_date: DateField | None = None  # BT-9 Payment due date
    buyer_reference: Field | None = None  # BT-10
    project_reference: Field | None = None  # BT-11
    contract_reference: Field | None = None  # BT-12
    purchase_order: Field | None = None  # BT-13 Purchase order reference
    sales_order: Field | None = None  # BT-14
    receiving_advice: Field | None = None  # BT-15
    despatch_advice: Field | None = None  # BT-16
    tender_reference: Field | None = None  # BT-17 Tender or lot reference
    invoiced_object: Ident | None = None  # BT-18 Invoiced object identifier (scheme BT-18-1)
    buyer_accounting_reference: Field | None = None  # BT-19
    payment_terms: Field | None = None  # BT-20 (first; all in payment_terms_all)
    payment_terms_all: list[Field] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # BG-1
    process_control: Field | None = None  # BG-2 = BT-23 + BT-24 (see above)
    preceding_invoices: list[PrecedingInvoice] = field(default_factory=list)  # BG-3
    seller: Party | None = None  # BG-4
    buyer: Party | None = None  # BG-7
    payee: Party | None = None  # BG-10
    tax_representative: Party | None = None  # BG-11
    delivery: Delivery | None = None  # BG-13
    invoice_period: Period | None = None  # BG-14
    payment_instructions: list[PaymentInstruction] = field(default_factory=list)  # BG-16
    allowances: list[AllowanceCharge] = field(default_factory=list)  # BG-20
    charges: list[AllowanceCharge] = field(default_factory=list)  # BG-21
    # every document level allowance/charge in order, including those with a bad indicator
    allowance_charges: list[AllowanceCharge] = field(default_factory=list)
    totals: Totals | None = None  # BG-22
    tax_totals: list[TaxTotal] = field(default_factory=list)  # every VAT total with its currency
    vat_breakdown: list[VatBreakdown] = field(default_factory=list)  # BG-23
    supporting_documents: list[SupportingDocument] = field(default_factory=list)  # BG-24
    # every UBL cac:AdditionalDocumentReference / CII header ram:AdditionalReferencedDocument, whatever
    # its type code (BG-24, BT-18 invoiced object 130, code 50: BT-17 tender in CII, BT-11 project in a UBL
    # CreditNote), in document order
    document_references: list[SupportingDocument] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)  # BG-25

    # ------------------------------------------------------------------ accessors
    @property
    def is_credit_note(self) -> bool:
        """A credit note: UBL CreditNote document or type code 381 / 261 / 262 / 296 / 308 / 396 / 420 / 458 / 532."""
        if self.document == "CreditNote":
            return True
        return self.type_code is not None and self.type_code.text in _CREDIT_NOTE_CODES

    @property
    def invoice_number(self) -> str | None:
        return _t(self.number)

    @property
    def issue_date_value(self) -> date | None:
        return self.issue_date.value if self.issue_date is not None else None

    @property
    def currency_code(self) -> str | None:
        return _t(self.currency)

    @property
    def type_code_value(self) -> str | None:
        return _t(self.type_code)

    @property
    def total_with_vat(self) -> Decimal | None:
        return _v(self.totals.tax_inclusive) if self.totals else None

    @property
    def total_without_vat(self) -> Decimal | None:
        return _v(self.totals.tax_exclusive) if self.totals else None

    @property
    def total_vat(self) -> Decimal | None:
        return _v(self.totals.tax_amount) if self.totals else None

    @property
    def amount_due(self) -> Decimal | None:
        return _v(self.totals.payable) if self.totals else None

    def all_allowance_charges(self) -> Iterator[AllowanceCharge]:
        """Document level and line level allowances/charges (line ones after document ones)."""
        yield from self.allowance_charges
        for line in self.lines:
            yield from line.allowance_charges

    def summary(self) -> dict[str, Any]:
        """The platform-facing essentials as plain JSON-able values."""

        def party(p: Party | None) -> dict[str, Any] | None:
            if p is None:
                return None
            return {
                "name": _t(p.name),
                "ids": p.ids,
                "legal_registration": (
                    (p.legal_registration.text, p.legal_registration.scheme) if p.legal_registration else None
                ),
                "vat_id": _t(p.vat_id),
                "country": p.country,
            }

        t = self.totals
        return {
            "number": self.invoice_number,
            "issue_date": self.issue_date_value.isoformat() if self.issue_date_value else None,
            "type_code": self.type_code_value,
            "credit_note": self.is_credit_note,
            "currency": self.currency_code,
            "buyer_reference": _t(self.buyer_reference),
            "purchase_order": _t(self.purchase_order),
            "seller": party(self.seller),
            "buyer": party(self.buyer),
            "totals": None
            if t is None
            else {
                k: (str(_v(getattr(t, k))) if _v(getattr(t, k)) is not None else None)
                for k in (
                    "line_total",
                    "allowance_total",
                    "charge_total",
                    "tax_exclusive",
                    "tax_amount",
                    "tax_inclusive",
                    "prepaid",
                    "rounding",
                    "payable",
                )
            },
            "lines": len(self.lines),
        }


_CREDIT_NOTE_CODES = frozenset({"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"})


def _t(f: Field | None) -> str | None:
    return f.text if f is not None else None


def _v(f: Amount | None) -> Decimal | None:
    return f.value if f is not None else None
