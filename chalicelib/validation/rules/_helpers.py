"""Shared shapes for rule families: findings, locations, presence, cardinality, sums, code lists,
and the XPath 2.0 arithmetic the official Schematron uses (so edge cases round the same way).

Families may import anything here. Nothing in this module allocates per invoice beyond the
Finding objects of failed rules.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from ..findings import FATAL, WARNING, Finding
from ..model import Field, xpath_of

ZERO = Decimal(0)
HUNDRED = Decimal(100)
HALF = Decimal("0.5")


# ------------------------------------------------------------------ findings and locations
def loc(x: Any) -> str:
    """XPath of a Field, of a model group (its ``el``) or of an lxml element; "" for None."""
    if x is None:
        return ""
    if isinstance(x, Field):
        return x.path
    el = getattr(x, "el", x)
    if el is None:
        return ""
    return xpath_of(el)


def fatal(rule: str, message: str, where: Any) -> Finding:
    return Finding(rule, FATAL, message, loc(where) if not isinstance(where, str) else where)


def warning(rule: str, message: str, where: Any) -> Finding:
    return Finding(rule, WARNING, message, loc(where) if not isinstance(where, str) else where)


def finding(rule: str, severity: str, message: str, where: Any) -> Finding:
    return Finding(rule, severity, message, loc(where) if not isinstance(where, str) else where)  # type: ignore[arg-type]


# ------------------------------------------------------------------ presence / cardinality
def exists(x: Any) -> bool:
    """XPath exists(): the element is there (an empty element counts)."""
    if x is None:
        return False
    if isinstance(x, (list, tuple)):
        return len(x) > 0
    return True


def text(x: Field | None) -> str | None:
    return x.text if x is not None else None


def has_text(x: Field | None) -> bool:
    """Present with non-whitespace content."""
    return x is not None and x.raw.strip() != ""


def count(items: Iterable[Any]) -> int:
    return sum(1 for _ in items)


def presence(rule: str, value: Any, message: str, where: Any, severity: str = FATAL) -> Iterator[Finding]:
    """Yield one finding when ``value`` is absent (None or an empty list)."""
    if not exists(value):
        yield finding(rule, severity, message, where)


def cardinality(rule: str, items: list[Any], low: int, high: int | None, message: str, where: Any) -> Iterator[Finding]:
    n = len(items)
    if n < low or (high is not None and n > high):
        yield fatal(rule, message, where)


def in_codes(value: Field | str | None, codes: frozenset[str] | set[str]) -> bool:
    """Code-list membership on the whitespace-normalised value (absent values are not members)."""
    if value is None:
        return False
    v = value.text if isinstance(value, Field) else value.strip()
    return v in codes


def codelist(
    rule: str, value: Field | None, codes: frozenset[str], message: str, severity: str = FATAL
) -> Iterator[Finding]:
    """Finding when a present value is not in the code list."""
    if value is not None and not in_codes(value, codes):
        yield finding(rule, severity, message, value)


# ------------------------------------------------------------------ numbers, XPath style
def dec(x: Any) -> Decimal | None:
    """The Decimal value of an Amount/Percent/Quantity (None when absent or not a number)."""
    if x is None:
        return None
    return getattr(x, "value", None)


def dec0(x: Any) -> Decimal:
    """Decimal value, 0 when absent (XPath sum() of an empty sequence)."""
    v = dec(x)
    return v if v is not None else ZERO


def num(x: Any) -> float:
    """XPath number() of an element: a double, NaN when absent or not numeric."""
    if x is None:
        return math.nan
    v = getattr(x, "value", None)
    if v is None:
        t = x.raw.strip() if isinstance(x, Field) else str(x).strip()
        try:
            # float() also takes Unicode digits ('２５０') and '1_000': XPath's number() gives NaN for them
            if not t or not t.isascii() or "_" in t or t.lower() in ("nan", "inf", "-inf", "+inf", "infinity"):
                return math.nan
            return float(t)
        except ValueError:
            return math.nan
    # float(v) from the text the decimal was read from: the same correctly rounded double (both are the exact
    # decimal value), without Decimal.__float__'s formatting of the decimal back to a string
    return float(x.raw)


def xround(d: Decimal, places: int = 0) -> Decimal:
    """XPath 2.0 fn:round on xs:decimal: half rounds towards positive infinity."""
    q = _ONE if places == 0 else Decimal(1).scaleb(-places)
    return ((d / q) + HALF).to_integral_value(ROUND_FLOOR) * q


_ONE = Decimal(1)


def round2(d: Decimal) -> Decimal:
    """The Schematron idiom ``round(x * 10 * 10) div 100`` on decimals."""
    return ((d * HUNDRED) + HALF).to_integral_value(ROUND_FLOOR) / HUNDRED


def fround(x: float) -> float:
    """XPath fn:round on xs:double (half towards +inf; NaN/inf unchanged)."""
    if math.isnan(x) or math.isinf(x):
        return x
    return math.floor(x + 0.5)


def fround2(x: float) -> float:
    """``round(x * 10 * 10) div 100`` evaluated in xs:double."""
    return fround(x * 10 * 10) / 100


def dsum(items: Iterable[Any]) -> Decimal:
    """XPath sum(xs:decimal(...)) over Amount-like items (absent ones skipped)."""
    total = ZERO
    for i in items:
        v = dec(i)
        if v is not None:
            total += v
    return total


def fmt(x: Any) -> str:
    """Render an amount for messages (raw text when available)."""
    if x is None:
        return "missing"
    if isinstance(x, Field):
        return x.text or "empty"
    if isinstance(x, float):
        if math.isnan(x):
            return "not a number"
        return f"{x:.2f}" if x == round(x, 2) else repr(x)
    if isinstance(x, Decimal):
        try:
            exact = x == x.quantize(Decimal("0.01"))
        except InvalidOperation:  # more digits than the context's precision (a hostile amount): as written
            return str(x)
        return f"{x:.2f}" if exact else str(x)
    return str(x)


def decimals(x: Field | None) -> int:
    """Number of characters after the decimal point in the raw text (BR-DEC semantics)."""
    if x is None:
        return 0
    t = x.raw.strip()
    i = t.find(".")
    return 0 if i < 0 else len(t) - i - 1


# ------------------------------------------------------------------ CII rule-context shadowing
_RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"
_CII_TRANSACTION = "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}SupplyChainTradeTransaction"
_CII_TYPE_CODE = _RAM + "TypeCode"
_CII_CATEGORY_CODE = _RAM + "CategoryCode"
_SHADOWING_CATEGORIES = ("O", "L", "M")


def _string_value(el: Any) -> str:
    return "".join(el.itertext()) if len(el) else (el.text or "")


def cii_breakdown_shadowed(att: Any) -> bool:
    """True when the official CII Schematron never evaluates the VAT breakdown rule on ``att``.

    In EN16931-CII-model.sch (1.3.16) the ``$VAT_breakdown`` rule (context
    ``//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax``: BR-45, BR-46, BR-47, BR-48, BR-CO-03,
    BR-CO-17, BR-DEC-19, BR-DEC-20) is the last rule of its pattern, and a node is the context of the
    first matching rule only. ``$VATO``, ``$VATAF`` and ``$VATAG`` come first with the very same node:
    ``//rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax
    [ram:CategoryCode = 'O' | 'L' | 'M'][upper-case(ram:TypeCode) = 'VAT']`` (raw comparison, any
    CategoryCode child; first TypeCode, upper-cased, no normalize-space). Such a breakdown is checked by the
    category rules (BR-O/BR-AF/BR-AG-08…10) only. ``att`` is a header ram:ApplicableTradeTax element.
    (The other categories' breakdown contexts are the ram:CategoryCode child, a different node.)"""
    type_code = None
    shadowing = False
    for c in att:  # one look at each child (cheaper than filtered iterchildren for a few children)
        tag = c.tag
        if tag == _CII_CATEGORY_CODE:
            shadowing = shadowing or _string_value(c) in _SHADOWING_CATEGORIES
        elif tag == _CII_TYPE_CODE and type_code is None:
            type_code = c
    if not shadowing or type_code is None or _string_value(type_code).upper() != "VAT":
        return False
    header = att.getparent()
    tx = header.getparent() if header is not None else None
    return tx is not None and tx.tag == _CII_TRANSACTION


# ------------------------------------------------------------------ elements gathered by the syntax pass
# The document's syntax pass (syntax_cii or syntax_ubl) visits every node once; it also hands over, per reader
# ("decimals", "vat", "calculations"), the elements with the tags that reader would otherwise find with its own
# root.iter(tags) (CII_SHARED_TAGS / UBL_SHARED_TAGS), in document order, via the document's scratch space (they
# die with the document). A reader run without that pass scans for itself.
_PASS_ELEMENTS = "syntax_pass.elements"


def share_elements(doc: Any, elements: dict[str, list]) -> None:
    doc.scratch[_PASS_ELEMENTS] = (doc.root, elements)


def pass_elements(doc: Any, reader: str) -> list | None:
    """The elements the syntax pass gathered for ``reader`` (exactly ``root.iter(*tags)`` of its shared tags), or
    None when the pass did not run on this document."""
    shared = doc.scratch.get(_PASS_ELEMENTS)
    if shared is None or shared[0] is not doc.root:
        return None
    return shared[1].get(reader)


# ------------------------------------------------------------------ the syntax passes' per-process tables
class BoundedTables:
    """The tables a syntax pass fills, per process, as documents show it tags and paths. Documents choose the tags,
    so at most ``limit`` entries are kept in all (``keep``), and the document after one that filled them starts
    from empty tables (``start_document``): a document of made-up tags would otherwise leave them full, every later
    document then building its entries element by element."""

    __slots__ = ("limit", "kept", "_clear")

    def __init__(self, clear: Callable[[], None], limit: int = 20000) -> None:
        self.limit = limit
        self.kept = 0
        self._clear = clear

    def keep(self) -> bool:
        """Whether one more entry may be kept (then counted)."""
        if self.kept < self.limit:
            self.kept += 1
            return True
        return False

    def start_document(self) -> None:
        if self.kept >= self.limit:
            self.forget()

    def forget(self) -> None:
        """Empty the tables."""
        self._clear()
        self.kept = 0
