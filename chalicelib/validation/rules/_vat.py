"""Shared machinery of the VAT category rule families (BR-S, BR-Z, BR-E, BR-AE, BR-IC, BR-G, BR-O, BR-AF, BR-AG, BR-B).

The ten families share one shape (EN 16931 § 6.4): for a VAT category code C,

* ``01`` – lines / allowances / charges of category C need a VAT breakdown (BG-23) for C;
* ``02``/``03``/``04`` – a line / document allowance / document charge of category C needs
  (or, for O, forbids) certain seller/buyer VAT identifiers;
* ``05``/``06``/``07`` – the VAT rate of such a line / allowance / charge;
* ``08`` – the breakdown's taxable amount (BT-116) equals Σ lines + charges − allowances of C;
* ``09`` – the breakdown's tax amount (BT-117);
* ``10`` – exemption reason (BT-120/BT-121) required or forbidden.

Each family module declares a :class:`Family` (which official id plays which role, which
variant of the test applies) and calls :func:`run`. The official validators (CEN/TC 434
artefacts 1.3.16) bind these rules differently in UBL and in CII, with quirks that decide
verdicts (which elements are filtered on the VAT tax scheme, ±1 tolerances, numeric vs
decimal comparison, rules whose context can never match...). Those quirks are reproduced
here on purpose and commented where they live.

Performance: the raw tree is read once per document (:func:`facts`, cached for the
document being validated), from the category elements the CII syntax pass hands over (UBL: one
C-level ``iter``), with plain child loops rather than lxml's ElementPath ``find`` (slow per call);
a line's BT-131 is the reader's Amount when it is the very element. Each family then only walks
the few records of its own category.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from lxml import etree

from ..findings import FATAL, Finding
from ..model import to_decimal, xpath_of
from ._helpers import pass_elements

CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"
RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"
RSM = "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}"
UDT = "{urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100}"

CATEGORY_NAMES = {
    "S": "Standard rated",
    "Z": "Zero rated",
    "E": "Exempt from VAT",
    "AE": "VAT reverse charge",
    "K": "Intra-community supply",
    "G": "Export outside the EU",
    "O": "Not subject to VAT",
    "L": "IGIC (Canary Islands)",
    "M": "IPSI (Ceuta and Melilla)",
    "B": "Split payment",
}


# --------------------------------------------------------------------------- value helpers
def text_of(el) -> str:
    """XPath string value of an element (all descendant text)."""
    if el is None:
        return ""
    if len(el):
        return "".join(el.itertext())
    return el.text or ""


def kid(el, tag: str):
    """First child element with this tag, or None (cheaper than find() or a filtered iterchildren())."""
    for ch in el:
        if ch.tag == tag:
            return ch
    return None


def kids(el, tag: str) -> Iterator:
    for ch in el[:]:
        if ch.tag == tag:
            yield ch


def find_path(el, tags: tuple[str, ...]):
    """``el.find("t1/t2/…")``: the first element at the end of the path in document order (every branch is followed,
    not only the first child of each step), without the cost of lxml's ElementPath (several us a call)."""
    head, rest = tags[0], tags[1:]
    for ch in el:
        if ch.tag == head:
            if not rest:
                return ch
            found = find_path(ch, rest)
            if found is not None:
                return found
    return None


def kid_path(el, *tags: str):
    for tag in tags:
        if el is None:
            return None
        el = kid(el, tag)
    return el


def norm(s: str) -> str:
    """XPath normalize-space()."""
    return " ".join(s.split())


# xs:decimal(raw) or None when the lexical form is not a decimal (the XSLT would stop): the model's one parser
to_dec = to_decimal


def to_num(raw: str | None) -> float | None:
    """Untyped value promoted to xs:double (general comparison / arithmetic), None if not numeric."""
    if raw is None:
        return None
    s = raw.strip()
    if not s.isascii():  # float() takes any Unicode digit ('２５０'), xs:double only ASCII ones
        return None
    whole, dot, frac = s.partition(".")
    if (whole.isdecimal() or (dot and not whole and frac)) and (not frac or frac.isdecimal()):
        return float(s)  # the usual digits[.digits], answered without the regex (ASCII: isdecimal() is [0-9])
    if s in _DOUBLE_SPECIAL:
        return _DOUBLE_SPECIAL[s]
    if not _DOUBLE.match(s):  # Python's float() also takes 'inf', 'nan', '1_0'...: xs:double does not
        return None
    return float(s)


_DOUBLE = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
_DOUBLE_SPECIAL = {"INF": math.inf, "+INF": math.inf, "-INF": -math.inf, "NaN": math.nan}


_HALF = Decimal("0.5")
_HUNDRED = Decimal(100)


def xp_round(d: Decimal) -> Decimal:
    """XPath round() on a decimal: half rounds towards positive infinity."""
    return (d + _HALF).to_integral_value(ROUND_FLOOR)


def round2(d: Decimal) -> Decimal:
    """round(d * 10 * 10) div 100 (xp_round inlined)."""
    return (d * _HUNDRED + _HALF).to_integral_value(ROUND_FLOOR) / _HUNDRED


def fround(x: float) -> float:
    """XPath round() on a double."""
    return math.floor(x + 0.5) if math.isfinite(x) else x


def as_bool(raw: str | None) -> bool | None:
    """untypedAtomic cast to xs:boolean ('true'/'1', 'false'/'0'); None when not a boolean."""
    if raw is None:
        return None
    s = raw.strip()
    if s in ("true", "1"):
        return True
    if s in ("false", "0"):
        return False
    return None


def fmt(v) -> str:
    if v is None:
        return "missing"
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


def location(el) -> str:
    return xpath_of(el) if el is not None else "/"


# --------------------------------------------------------------------------- extracted facts
@dataclass(slots=True)
class Cat:
    """One VAT category element: UBL cac:TaxCategory/cac:ClassifiedTaxCategory, CII ram:*TradeTax."""

    el: object
    codes: tuple[str, ...]  # raw texts of cbc:ID / ram:CategoryCode children (general comparison)
    code: str  # normalize-space of the first code (UBL) / first raw code (CII)
    vat: bool  # UBL: cac:TaxScheme/normalize-space(upper-case(cbc:ID)) = 'VAT'; CII: upper-case(TypeCode) = 'VAT'
    rates: tuple[str, ...]  # raw cbc:Percent / ram:RateApplicablePercent texts
    exemption: bool  # has an exemption reason (text or code)
    parent: object = None  # the line / allowance-charge / subtotal owning the category
    _rset: frozenset | None = None
    # the document's rate values by rates text (tuple: rate_set) or first rate text (str: rate_num): the lines mostly
    # repeat one rate, which is then converted (and its Decimal hashed) once per document
    values: dict | None = None

    @property
    def rate_set(self) -> frozenset:
        """xs:decimal values of the rates (for '[... xs:decimal(Percent) = $rate]' predicates)."""
        if self._rset is None:
            values = self.values
            rs = values.get(self.rates) if values is not None else None
            if rs is None:
                rs = frozenset(d for d in map(to_dec, self.rates) if d is not None)
                if values is not None:
                    values[self.rates] = rs
            self._rset = rs
        return self._rset

    def rate_dec(self) -> Decimal | None:
        return to_dec(self.rates[0]) if self.rates else None

    def rate_num(self) -> float | None:
        if not self.rates:
            return None
        raw = self.rates[0]
        values = self.values
        if values is None:
            return to_num(raw)
        try:
            return values[raw]
        except KeyError:
            v = values[raw] = to_num(raw)
            return v


@dataclass(slots=True)
class Line:
    el: object
    amount_path: tuple[str, ...]  # child tags leading to BT-131 from el (read on first use)
    cats: list[Cat] = field(default_factory=list)
    credit: bool = False  # UBL cac:CreditNoteLine
    _amount: object = False
    # the reader's BT-131 Amount when it is the very element amount_path leads to (None: there is none), False when
    # it may not be: its Decimal is then shared instead of the element being looked up and converted again
    model_amount: object = False

    @property
    def amount(self) -> Decimal | None:  # BT-131
        if self._amount is False:
            a = self.model_amount
            if a is None:
                self._amount = None
            elif a is not False:
                self._amount = a.value if not len(a.el) else to_dec(text_of(a.el))  # (Amount reads el.text only)
            else:
                el = kid_path(self.el, *self.amount_path)
                self._amount = to_dec(text_of(el)) if el is not None else None
        return self._amount


@dataclass(slots=True)
class Charge:
    """An allowance or charge carrying VAT categories."""

    el: object
    indicator: bool | None  # ChargeIndicator (True = charge)
    document_level: bool
    amount_tag: str  # cbc:Amount / ram:ActualAmount (read on first use)
    cats: list[Cat] = field(default_factory=list)
    _amount: object = False

    @property
    def amount(self) -> Decimal | None:  # BT-92 / BT-99
        if self._amount is False:
            el = kid(self.el, self.amount_tag)
            self._amount = to_dec(text_of(el)) if el is not None else None
        return self._amount


@dataclass(slots=True)
class Breakdown:
    """One VAT breakdown (BG-23): UBL cac:TaxSubtotal (with its cac:TaxCategory), CII header ram:ApplicableTradeTax."""

    el: object  # the element carrying the amounts (TaxSubtotal / ApplicableTradeTax)
    cat: Cat | None
    taxable_raw: str | None  # BT-116
    tax_raw: str | None  # BT-117


@dataclass(slots=True)
class Facts:
    syntax: str
    root: object
    codes: set[str]  # every category code present (raw and, in UBL, normalized): a family absent here is skipped
    line_cats: list[Cat]  # every category of an invoice line (UBL: anywhere, with parent line when in a line)
    charges: list[Charge]
    charge_cats: list[Cat]  # every category of an allowance/charge, anywhere
    breakdowns: list[Breakdown]
    all_tax_cats: list[Cat]  # UBL: every cac:TaxCategory (allowances, subtotals...); CII: every ApplicableTradeTax
    charge_index: dict[int, Charge]  # id(allowance/charge element) -> Charge
    _lines: list[Line] | None = None
    invoice: object = None  # the semantic model read from the same tree (or None)
    _parties: dict[str, bool] | None = None
    _memo: dict = field(default_factory=dict)

    @property
    def lines(self) -> list[Line]:
        """Invoice lines with their categories (UBL: root cac:InvoiceLine/cac:CreditNoteLine; CII: line settlements)."""
        if self._lines is None:
            self._lines = _cii_lines(self)
        return self._lines

    @property
    def any_invoice_line(self) -> bool:  # UBL exists(//cac:InvoiceLine)
        return _U_INV_LINE in _ubl_root_children(self)

    @property
    def any_credit_line(self) -> bool:  # UBL exists(//cac:CreditNoteLine)
        return _U_CN_LINE in _ubl_root_children(self)

    @property
    def parties(self) -> dict[str, bool]:
        if self._parties is None:
            self._parties = _party_flags(self)
        return self._parties

    def memo(self, key, fn: Callable):
        try:
            return self._memo[key]
        except KeyError:
            v = self._memo[key] = fn()
            return v


def facts(doc) -> Facts:
    """Facts of ``doc``, extracted once per document (all VAT families share them, memoised in
    ``doc.scratch`` so they die with the document)."""
    f = doc.scratch.get("vat_facts")
    if f is None or f.root is not doc.root:
        if doc.syntax == "ubl":
            f = _ubl_facts(doc.root, doc.invoice, pass_elements(doc, "vat"))
        else:
            f = _cii_facts(doc.root, pass_elements(doc, "vat"))
            f.invoice = doc.invoice
        doc.scratch["vat_facts"] = f
    return f


# ---- UBL
_U_TAXCAT = CAC + "TaxCategory"
_U_CLASS = CAC + "ClassifiedTaxCategory"
_U_ID = CBC + "ID"
_U_PERCENT = CBC + "Percent"
_U_SCHEME = CAC + "TaxScheme"
_U_REASON = CBC + "TaxExemptionReason"
_U_REASON_CODE = CBC + "TaxExemptionReasonCode"
_U_AC = CAC + "AllowanceCharge"
_U_ITEM = CAC + "Item"
_U_INV_LINE = CAC + "InvoiceLine"
_U_CN_LINE = CAC + "CreditNoteLine"
_U_SUBTOTAL = CAC + "TaxSubtotal"
_U_TAXTOTAL = CAC + "TaxTotal"
_U_LEA = CBC + "LineExtensionAmount"
_U_AMOUNT = CBC + "Amount"
_U_IND = CBC + "ChargeIndicator"


def _ubl_cat(el) -> Cat:
    codes = []
    rates = []
    vat = False
    exemption = False
    for ch in el:  # one pass over the children: reading .tag is cheap, filtered lookups are not
        tag = ch.tag
        if tag == _U_ID:
            codes.append(ch.text or "" if not len(ch) else text_of(ch))
        elif tag == _U_PERCENT:
            rates.append(ch.text or "" if not len(ch) else text_of(ch))
        elif tag == _U_SCHEME:
            sid = kid(ch, _U_ID)
            if sid is not None:
                t = text_of(sid)
                if t == "VAT" or norm(t.upper()) == "VAT":  # (the usual spelling answers without normalising)
                    vat = True
        elif tag == _U_REASON or tag == _U_REASON_CODE:
            exemption = True
    return Cat(el, tuple(codes), norm(codes[0]) if codes else "", vat, tuple(rates), exemption)


def _ubl_root_children(f: Facts) -> dict[str, list]:
    """The root's children that the VAT rules read, by tag, from one pass (the root has many children)."""
    found = f._memo.get("root-children")
    if found is None:
        found = f._memo["root-children"] = {}
        for ch in f.root[:]:
            tag = ch.tag
            if tag in _U_ROOT_TAGS:
                found.setdefault(tag, []).append(ch)
    return found


_U_SUPPLIER = CAC + "AccountingSupplierParty"
_U_CUSTOMER = CAC + "AccountingCustomerParty"
_U_TAXREP = CAC + "TaxRepresentativeParty"
_U_ROOT_TAGS = frozenset((_U_SUPPLIER, _U_CUSTOMER, _U_TAXREP, _U_INV_LINE, _U_CN_LINE))


# The party facts are five existence tests on a handful of elements under the root (_UBL_PARTY_TESTS,
# _CII_PARTY_TESTS), evaluated by a walk down the few elements on their paths (_ubl_party_flags, _cii_party_flags):
# cheaper than evaluating the XPath (the engine holds the proxies already; tests compare both).
_NS = {"cac": CAC[1:-1], "cbc": CBC[1:-1], "rsm": RSM[1:-1], "ram": RAM[1:-1]}
_UPPER = "translate(., 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')"
# [cac:TaxScheme/normalize-space(upper-case(cbc:ID)) = 'VAT']
_VAT_SCHEME = f"[cac:TaxScheme/cbc:ID[normalize-space({_UPPER}) = 'VAT']]"
_UBL_PARTY_TESTS = {
    "seller_any": "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID",  # any tax scheme
    "seller_vat": f"cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme{_VAT_SCHEME}/cbc:CompanyID",  # BT-31
    "taxrep_vat": f"cac:TaxRepresentativeParty/cac:PartyTaxScheme{_VAT_SCHEME}/cbc:CompanyID",  # BT-63
    "buyer_vat": f"cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme{_VAT_SCHEME}/cbc:CompanyID",  # BT-48
    "buyer_legal": "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID",  # BT-47
}
_AGREEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/"
_REG = "/ram:SpecifiedTaxRegistration/ram:ID"
_CII_PARTY_TESTS = {
    "seller_va_fc": f"{_AGREEMENT}ram:SellerTradeParty{_REG}[@schemeID = 'VA' or @schemeID = 'FC']",
    "seller_va": f"{_AGREEMENT}ram:SellerTradeParty{_REG}[@schemeID = 'VA']",
    "taxrep_va": f"{_AGREEMENT}ram:SellerTaxRepresentativeTradeParty{_REG}[@schemeID = 'VA']",
    # //ram:BuyerTradeParty in the official tests: the agreement is the only place CII D16B allows it
    "buyer_va": f"{_AGREEMENT}ram:BuyerTradeParty{_REG}[@schemeID = 'VA']",
    "buyer_legal": f"{_AGREEMENT}ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:ID",
}


def flags_xpath(tests: dict[str, str]) -> etree.XPath:
    """The tests as one XPath 1.0 expression answering "0"/"1" per test (the reference the walks are tested against)."""
    return etree.XPath("concat(" + ", ".join(f"number(boolean({t}))" for t in tests.values()) + ")", namespaces=_NS)


def _party_flags(f: Facts) -> dict[str, bool]:
    if f.syntax != "ubl":
        return _cii_party_flags(f.root)
    return _ubl_party_flags(_ubl_root_children(f))


_U_PARTY = CAC + "Party"
_U_PARTY_TAX_SCHEME = CAC + "PartyTaxScheme"
_U_PARTY_LEGAL_ENTITY = CAC + "PartyLegalEntity"
_U_COMPANY_ID = CBC + "CompanyID"
_XML_SPACE = " \t\r\n"  # what XPath normalize-space() strips
_VAT_SPELLINGS = frozenset({"VAT", "VAt", "VaT", "Vat", "vAT", "vAt", "vaT", "vat"})  # translate(., a-z, A-Z) = 'VAT'


def _ubl_vat_scheme(party_tax_scheme) -> bool:
    """[cac:TaxScheme/cbc:ID[normalize-space(translate(., 'a…z', 'A…Z')) = 'VAT']]"""
    for scheme in party_tax_scheme[:]:
        if scheme.tag == _U_SCHEME:
            for ident in scheme[:]:
                if ident.tag == _U_ID and text_of(ident).strip(_XML_SPACE) in _VAT_SPELLINGS:
                    return True
    return False


def _ubl_party_flags(children: dict[str, list]) -> dict[str, bool]:
    """_UBL_PARTY_TESTS evaluated on the root's children (by tag)."""
    flags = dict.fromkeys(_UBL_PARTY_TESTS, False)
    for role, tag in (("seller", _U_SUPPLIER), ("buyer", _U_CUSTOMER), ("taxrep", _U_TAXREP)):
        for holder in children.get(tag, ()):
            # the seller and buyer carry cac:Party, the tax representative is the party itself
            parties = [holder] if role == "taxrep" else [p for p in holder[:] if p.tag == _U_PARTY]
            for party in parties:
                for ch in party[:]:
                    tag = ch.tag
                    if tag == _U_PARTY_TAX_SCHEME:
                        if kid(ch, _U_COMPANY_ID) is None or (role != "seller" and flags[f"{role}_vat"]):
                            continue
                        if role == "seller":
                            flags["seller_any"] = True
                        if _ubl_vat_scheme(ch):
                            flags[f"{role}_vat"] = True
                    elif tag == _U_PARTY_LEGAL_ENTITY and role == "buyer":
                        if kid(ch, _U_COMPANY_ID) is not None:
                            flags["buyer_legal"] = True
    return flags


_C_PARTY_ROLES = {
    RAM + "SellerTradeParty": "seller",
    RAM + "SellerTaxRepresentativeTradeParty": "taxrep",
    RAM + "BuyerTradeParty": "buyer",
}


def _cii_party_flags(root) -> dict[str, bool]:
    """_CII_PARTY_TESTS evaluated from the root: every ram:ID of every ram:SpecifiedTaxRegistration (and, for the
    buyer, ram:SpecifiedLegalOrganization) of the parties of every header agreement of every transaction."""
    flags = dict.fromkeys(_CII_PARTY_TESTS, False)
    for tx in root[:]:
        if tx.tag != _C_SCTT:
            continue
        for agreement in tx[:]:
            if agreement.tag != _C_AGREEMENT:
                continue
            for party in agreement[:]:
                role = _C_PARTY_ROLES.get(party.tag)
                if role is None:
                    continue
                for child in party[:]:
                    tag = child.tag
                    if tag == _C_TAX_REGISTRATION:
                        for ident in child[:]:
                            if ident.tag != _C_ID:
                                continue
                            scheme = ident.get("schemeID")  # @schemeID = 'VA': the raw attribute value
                            if scheme == "VA":
                                flags[f"{role}_va"] = True
                                if role == "seller":
                                    flags["seller_va_fc"] = True
                            elif scheme == "FC" and role == "seller":
                                flags["seller_va_fc"] = True
                    elif tag == _C_LEGAL_ORGANIZATION and role == "buyer":
                        if any(ident.tag == _C_ID for ident in child[:]):
                            flags["buyer_legal"] = True
    return flags


def _model_lines(inv) -> dict[int, object]:
    """id(line element) -> the model's line (UBL cac:InvoiceLine / CreditNoteLine, CII line item)."""
    return {id(m.el): m for m in inv.lines} if inv is not None else {}


UBL_TAGS = (_U_TAXCAT, _U_CLASS)  # what _ubl_facts reads (syntax_ubl gathers them: _helpers.pass_elements)


def _ubl_facts(root, inv=None, elements: list | None = None) -> Facts:
    lines: dict[int, Line] = {}
    models = None
    charges: dict[int, Charge] = {}
    line_cats: list[Cat] = []
    charge_cats: list[Cat] = []
    breakdowns: list[Breakdown] = []
    all_tax_cats: list[Cat] = []
    values: dict = {}
    for el in elements if elements is not None else root.iter(*UBL_TAGS):
        cat = _ubl_cat(el)
        cat.values = values
        parent = el.getparent()
        if el.tag == _U_CLASS:
            line_cats.append(cat)
            if parent is not None and parent.tag == _U_ITEM:
                line_el = parent.getparent()
                if line_el is not None and line_el.tag in (_U_INV_LINE, _U_CN_LINE):
                    cat.parent = line_el
                    if line_el.getparent() is root:
                        ln = lines.get(id(line_el))
                        if ln is None:
                            ln = lines[id(line_el)] = Line(line_el, (_U_LEA,), credit=line_el.tag == _U_CN_LINE)
                            if models is None:
                                models = _model_lines(inv)
                            model = models.get(id(line_el))
                            if model is not None:  # its BT-131 is the line's first cbc:LineExtensionAmount
                                ln.model_amount = model.net_amount
                        ln.cats.append(cat)
            continue
        all_tax_cats.append(cat)
        if parent is None:
            continue
        if parent.tag == _U_AC:
            cat.parent = parent
            charge_cats.append(cat)
            ch = charges.get(id(parent))
            if ch is None:
                ind = kid(parent, _U_IND)
                b = as_bool(text_of(ind)) if ind is not None else None
                ch = charges[id(parent)] = Charge(parent, b, parent.getparent() is root, _U_AMOUNT)
            ch.cats.append(cat)
        elif parent.tag == _U_SUBTOTAL:
            total = parent.getparent()
            if total is not None and total.tag == _U_TAXTOTAL and total.getparent() is root:
                cat.parent = parent
                ta = kid(parent, CBC + "TaxableAmount")
                tx = kid(parent, CBC + "TaxAmount")
                breakdowns.append(
                    Breakdown(
                        parent, cat, text_of(ta) if ta is not None else None, text_of(tx) if tx is not None else None
                    )
                )
    codes = set()
    for cat in line_cats:
        codes.update(cat.codes)
        codes.add(cat.code)
    for cat in all_tax_cats:
        codes.update(cat.codes)
        if len(cat.codes) == 1:
            codes.add(cat.code)  # (its code is the normalised first one)
        else:
            codes.update(norm(c) for c in cat.codes)
    return Facts(
        "ubl",
        root,
        codes,
        line_cats,
        list(charges.values()),
        charge_cats,
        breakdowns,
        all_tax_cats,
        charges,
        list(lines.values()),
    )


# ---- CII
_C_ATT = RAM + "ApplicableTradeTax"
_C_CTT = RAM + "CategoryTradeTax"
_C_CODE = RAM + "CategoryCode"
_C_TYPE = RAM + "TypeCode"
_C_RATE = RAM + "RateApplicablePercent"
_C_REASON = RAM + "ExemptionReason"
_C_REASON_CODE = RAM + "ExemptionReasonCode"
_C_HEADER = RAM + "ApplicableHeaderTradeSettlement"
_C_LINE_SETTLEMENT = RAM + "SpecifiedLineTradeSettlement"
_C_AC = RAM + "SpecifiedTradeAllowanceCharge"
_C_LINE_ITEM = RAM + "IncludedSupplyChainTradeLineItem"
_C_SCTT = RSM + "SupplyChainTradeTransaction"


def _cii_cat(el) -> tuple[Cat, object, object]:
    """The category of a ram:ApplicableTradeTax / ram:CategoryTradeTax, with its first ram:BasisAmount and
    ram:CalculatedAmount (or None; a breakdown's BT-116/BT-117), found in the same pass over the children."""
    codes = []
    rates = []
    first_type = None  # (only the first ram:TypeCode counts)
    exemption = False
    basis = calculated = None
    for ch in el[:]:
        tag = ch.tag
        if tag == _C_CODE:
            codes.append(ch.text or "" if not len(ch) else text_of(ch))
        elif tag == _C_RATE:
            rates.append(ch.text or "" if not len(ch) else text_of(ch))
        elif tag == _C_TYPE:
            if first_type is None:
                first_type = ch.text or "" if not len(ch) else text_of(ch)
        elif tag == _C_REASON or tag == _C_REASON_CODE:
            exemption = True
        elif tag == _C_BASIS:
            basis = basis if basis is not None else ch
        elif tag == _C_CALCULATED:
            calculated = calculated if calculated is not None else ch
    vat = first_type is not None and first_type.upper() == "VAT"
    return Cat(el, tuple(codes), codes[0] if codes else "", vat, tuple(rates), exemption), basis, calculated


_C_TAX_REGISTRATION = RAM + "SpecifiedTaxRegistration"
_C_LEGAL_ORGANIZATION = RAM + "SpecifiedLegalOrganization"
_C_AGREEMENT = RAM + "ApplicableHeaderTradeAgreement"
_C_ID = RAM + "ID"
_C_BASIS = RAM + "BasisAmount"
_C_CALCULATED = RAM + "CalculatedAmount"
_C_CHARGE_INDICATOR = RAM + "ChargeIndicator"
_C_INDICATOR = UDT + "Indicator"
_C_ACTUAL_AMOUNT = RAM + "ActualAmount"


CII_TAGS = (_C_ATT, _C_CTT)  # what _cii_facts reads (syntax_cii gathers them: _helpers.pass_elements)


def _cii_facts(root, elements: list | None = None) -> Facts:
    line_cats: list[Cat] = []
    charges: dict[int, Charge] = {}
    charge_cats: list[Cat] = []
    breakdowns: list[Breakdown] = []
    all_att: list[Cat] = []
    values: dict = {}
    for el in elements if elements is not None else root.iter(*CII_TAGS):
        cat, ba, ca = _cii_cat(el)
        cat.values = values
        parent = el.getparent()
        if el.tag == _C_ATT:
            all_att.append(cat)
            if parent is None:
                continue
            if parent.tag == _C_HEADER:
                cat.parent = parent
                breakdowns.append(
                    Breakdown(el, cat, text_of(ba) if ba is not None else None, text_of(ca) if ca is not None else None)
                )
            elif parent.tag == _C_LINE_SETTLEMENT:
                cat.parent = parent
                line_cats.append(cat)
            continue
        if parent is None or parent.tag != _C_AC:
            continue
        cat.parent = parent
        charge_cats.append(cat)
        ch = charges.get(id(parent))
        if ch is None:
            ind = kid_path(parent, _C_CHARGE_INDICATOR, _C_INDICATOR)
            gp = parent.getparent()
            ch = charges[id(parent)] = Charge(
                parent,
                as_bool(text_of(ind)) if ind is not None else None,
                gp is not None and gp.tag == _C_HEADER,
                _C_ACTUAL_AMOUNT,
            )
        ch.cats.append(cat)
    codes = set()
    for cat in all_att:
        codes.update(cat.codes)
    for cat in charge_cats:
        codes.update(cat.codes)
    return Facts("cii", root, codes, line_cats, list(charges.values()), charge_cats, breakdowns, all_att, charges)


_C_LINE_TOTAL = (RAM + "SpecifiedTradeSettlementLineMonetarySummation", RAM + "LineTotalAmount")


def _cii_lines(f: Facts) -> list[Line]:
    """Settlements of /rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem
    that carry a VAT category (a line without one never enters a category sum)."""
    lines: dict[int, Line] = {}
    root = f.root
    models = _model_lines(f.invoice) if f.line_cats else {}
    for cat in f.line_cats:
        settlement = cat.parent
        ln = lines.get(id(settlement))
        if ln is None:
            item = settlement.getparent()
            tx = item.getparent() if item is not None else None
            if item is None or item.tag != _C_LINE_ITEM or tx is None or tx.tag != _C_SCTT:
                continue
            if tx.getparent() is not root:
                continue
            ln = lines[id(settlement)] = Line(settlement, _C_LINE_TOTAL)
            ln.model_amount = _cii_model_amount(settlement, models.get(id(item)))
        ln.cats.append(cat)
    return list(lines.values())


def _cii_model_amount(settlement, model):
    """The reader's BT-131 when it is what Line.amount reads from this settlement (the first LineTotalAmount of its
    first line monetary summation), None when that is absent, False when it may be another element. (The reader
    keeps the first LineTotalAmount of the first summation that has one, over all the item's settlements.)"""
    if model is None:
        return False
    a = model.net_amount
    if a is None:  # no summation of any settlement of the item has one
        return None
    summation = a.el.getparent()
    if summation.getparent() is not settlement:
        return False
    sibling = summation.getprevious()  # (a few steps: cheaper than setting up itersiblings(tag, preceding=True))
    while sibling is not None:
        if sibling.tag == summation.tag:  # not the first summation
            return False
        sibling = sibling.getprevious()
    return a


# --------------------------------------------------------------------------- the family shape
# party requirement variants (rules 02/03/04)
SELLER = "seller"  # S, Z, E, AF, AG: seller VAT id / tax registration id, or tax representative VAT id
SELLER_AND_BUYER = "seller+buyer"  # AE: ... and buyer VAT id or buyer legal registration id
SELLER_VAT_AND_BUYER_VAT = "seller-vat+buyer-vat"  # IC: seller or tax representative VAT id, and buyer VAT id
SELLER_VAT = "seller-vat"  # G: seller or tax representative VAT id
NO_VAT_IDS = "no-vat-ids"  # O: none of seller, tax representative, buyer VAT ids

# rate variants (rules 05/06/07)
POSITIVE = "> 0"
ZERO = "= 0"
NON_NEGATIVE = ">= 0"
ABSENT = "absent"

# taxable-amount variants (rule 08)
PER_RATE = "per-rate"  # S, AF, AG: per VAT rate, ±1 tolerance
WHOLE_CATEGORY = "category"  # others: whole category, exact (UBL) or ±1 (CII, except O)

# tax-amount variants (rule 09)
RATE_PRODUCT = "rate-product"
ZERO_TAX = "zero-tax"

# exemption-reason variants (rule 10)
REASON_FORBIDDEN = "forbidden"
REASON_REQUIRED = "required"

PARTY_TEXT = {
    SELLER: "the Seller VAT identifier (BT-31), the Seller tax registration identifier (BT-32) "
    "or the Seller tax representative VAT identifier (BT-63)",
    SELLER_AND_BUYER: "the Seller VAT identifier (BT-31), tax registration identifier (BT-32) or tax representative "
    "VAT identifier (BT-63), and the Buyer VAT identifier (BT-48) or legal registration identifier (BT-47)",
    SELLER_VAT_AND_BUYER_VAT: "the Seller VAT identifier (BT-31) or the Seller tax representative VAT identifier "
    "(BT-63), and the Buyer VAT identifier (BT-48)",
    SELLER_VAT: "the Seller VAT identifier (BT-31) or the Seller tax representative VAT identifier (BT-63)",
}


@dataclass(frozen=True, slots=True)
class Family:
    """Which official rule id plays which role for one VAT category code."""

    code: str
    breakdown_required: str  # -01
    line_parties: str  # -02
    allowance_parties: str  # -03
    charge_parties: str  # -04
    line_rate: str  # -05
    allowance_rate: str  # -06
    charge_rate: str  # -07
    taxable_amount: str  # -08
    tax_amount: str  # -09
    exemption_reason: str  # -10
    parties: str
    rate: str
    taxable: str
    tax: str
    reason: str
    cii_rate: str | None = None  # when CII binds the rate test differently (IGIC: > 0)

    @property
    def name(self) -> str:
        return f"{self.code} ({CATEGORY_NAMES[self.code]})"


def _finding(rule: str, message: str, el) -> Finding:
    return Finding(rule, FATAL, message, location(el))


def run(fam: Family, doc) -> list[Finding]:
    f = facts(doc)
    if fam.code not in f.codes:  # no category element with this code anywhere: every rule of the family holds
        return []
    if f.syntax == "ubl":
        return _run_ubl(fam, f)
    return _run_cii(fam, f)


def _rate_ok(variant: str, cat: Cat) -> bool:
    if variant == ABSENT:
        return not cat.rates
    if variant == ZERO and not cat.rates:
        return False
    if variant == ZERO:
        d = cat.rate_dec()  # UBL xs:decimal(Percent) = 0 ; CII Percent = 0 (as double): same verdict
        return d is not None and d == 0
    v = cat.rate_num()
    if v is None:
        return False
    return v > 0 if variant == POSITIVE else v >= 0


def _rate_message(rule: str, fam: Family, variant: str, what: str, bt: str, cat: Cat) -> str:
    raw = cat.rates[0].strip() if cat.rates else None
    if variant == ABSENT:  # "found 0" alone reads as a count
        found = raw or "(empty)"
        return f"{rule}: {what} with VAT category {fam.name} shall not have a VAT rate ({bt}); found VAT rate {found}."
    want = {POSITIVE: "greater than 0", ZERO: "0", NON_NEGATIVE: "0 or greater"}[variant]
    if not raw:  # not a value given: say so
        state = "missing" if raw is None else "empty"
        return f"{rule}: {bt} VAT rate of {what} with VAT category {fam.name} is {state}; it shall be {want}."
    return f"{rule}: {bt} VAT rate ({raw}) of {what} with VAT category {fam.name} shall be {want}."


def _party_ok(variant: str, p: dict[str, bool], syntax: str) -> bool:
    if syntax == "ubl":
        seller = p["seller_any"] or p["taxrep_vat"]
        seller_vat = p["seller_vat"] or p["taxrep_vat"]
        if variant == SELLER:
            return seller
        if variant == SELLER_AND_BUYER:
            return seller and (p["buyer_vat"] or p["buyer_legal"])
        if variant == SELLER_VAT_AND_BUYER_VAT:
            return seller_vat and p["buyer_vat"]
        if variant == SELLER_VAT:
            return seller_vat
        return not (p["seller_vat"] or p["taxrep_vat"] or p["buyer_vat"])
    seller = p["seller_va_fc"] or p["taxrep_va"]
    seller_vat = p["seller_va"] or p["taxrep_va"]
    if variant == SELLER:
        return seller
    if variant == SELLER_AND_BUYER:
        return seller and (p["buyer_va"] or p["buyer_legal"])
    if variant == SELLER_VAT_AND_BUYER_VAT:
        return seller_vat and p["buyer_va"]
    if variant == SELLER_VAT:
        return seller_vat
    return not (p["seller_va"] or p["taxrep_va"] or p["buyer_va"])


def _party_message(rule: str, fam: Family, what: str) -> str:
    if fam.parties == NO_VAT_IDS:
        return (
            f"{rule}: an invoice with {what} of VAT category {fam.name} shall not contain the Seller VAT "
            "identifier (BT-31), the Seller tax representative VAT identifier (BT-63) or the Buyer VAT "
            "identifier (BT-48)."
        )
    return f"{rule}: an invoice with {what} of VAT category {fam.name} shall contain {PARTY_TEXT[fam.parties]}."


WHAT = {
    "line": ("an invoice line (BG-25)", "BT-152"),
    "allowance": ("a document level allowance (BG-20)", "BT-96"),
    "charge": ("a document level charge (BG-21)", "BT-103"),
}


def _breakdown_required_message(fam: Family, used: bool, found: int) -> str:
    """BR-x-01 in both syntaxes: ``found`` VAT breakdowns of the category, ``used`` by a line, allowance or charge."""
    rule = fam.breakdown_required
    if not used:
        return (
            f"{rule}: the VAT breakdown (BG-23) has VAT category {fam.name} "
            "but no invoice line, allowance or charge uses it."
        )
    want = "at least one" if fam.code in ("S", "L", "M") else "exactly one"
    return (
        f"{rule}: lines, allowances or charges use VAT category {fam.name}, so the VAT breakdown (BG-23) "
        f"shall contain {want} VAT category code (BT-118) {fam.code}; found {found}."
    )


# ---- UBL
def _run_ubl(fam: Family, f: Facts) -> list[Finding]:
    out: list[Finding] = []
    c = fam.code
    p = f.parties
    root = f.root

    line_cats = [x for x in f.line_cats if x.code == c]  # normalize-space(cbc:ID) = C, any tax scheme
    line_vat = [x for x in line_cats if x.vat]
    ac_cats = [x for x in f.charge_cats if x.code == c]
    allow_vat = [x for x in ac_cats if x.vat and _indicator(f, x) is False]
    charge_vat = [x for x in ac_cats if x.vat and _indicator(f, x) is True]
    bd = [b for b in f.breakdowns if b.cat is not None and b.cat.code == c]

    # -01: in the Invoice context.
    if c in ("L", "M"):
        # count(//AllowanceCharge/TaxCategory[C][VAT]) + count(//ClassifiedTaxCategory[C][VAT]) > 0 needs a subtotal
        # TaxCategory[cbc:ID = C] (raw ID; IGIC without, IPSI with the VAT scheme filter); with none, none with [C][VAT]
        used = len(line_vat) + sum(1 for x in ac_cats if x.vat)
        if c == "L":
            raw = sum(1 for b in f.breakdowns if c in b.cat.codes)
        else:
            raw = sum(1 for b in f.breakdowns if b.cat is not None and b.cat.vat and c in b.cat.codes)
        ok = (used > 0 and raw > 0) or (used == 0 and not any(b.cat.vat for b in bd))
    elif c == "S":
        # no tax scheme filter at all in BR-S-01
        used = len(line_cats) + len(ac_cats)
        ok = (used > 0) == (len(bd) > 0)
    else:
        # exists(//cac:TaxCategory[VAT]/cbc:ID[normalize-space(.) = C]) or exists(//cac:ClassifiedTaxCategory[...]),
        # then count(cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory[VAT]/cbc:ID[normalize-space(.) = C]) = 1
        used = any(x.vat and _any_code(x, c) for x in f.all_tax_cats) or any(
            x.vat and _any_code(x, c) for x in f.line_cats
        )
        n = sum(1 for b in f.breakdowns if b.cat.vat for code in b.cat.codes if norm(code) == c)
        ok = (not used) or n == 1
    if not ok:
        n_bd = sum(1 for b in bd if b.cat.vat)
        out.append(_finding(fam.breakdown_required, _breakdown_required_message(fam, bool(used), n_bd), root))

    # -02/-03/-04: in the Invoice context, once per document.
    party_ok = _party_ok(fam.parties, p, "ubl")
    if fam.parties == NO_VAT_IDS:
        allow_scope = [x for x in allow_vat if _charge(f, x).document_level]
        charge_scope = [x for x in charge_vat if _charge(f, x).document_level]
    else:
        allow_scope, charge_scope = allow_vat, charge_vat
    if c == "S":
        # BR-S-02: (exists(//ClassifiedTaxCategory[S][VAT]) and seller ids) or not(exists(//ClassifiedTaxCategory[S]))
        line_fires = bool(line_cats) and not (line_vat and party_ok)
    else:
        line_fires = bool(line_vat) and not party_ok
    if line_fires:
        out.append(_finding(fam.line_parties, _party_message(fam.line_parties, fam, "an invoice line"), root))
    if c == "L":
        # BR-AF-04's 'otherwise' branch tests the raw cbc:ID = 'L'
        charge_raw = [x for x in f.charge_cats if x.vat and c in x.codes and _indicator(f, x) is True]
        charge_fires = bool(charge_raw) and not (charge_scope and party_ok)
    else:
        charge_fires = bool(charge_scope) and not party_ok
    if allow_scope and not party_ok:
        out.append(
            _finding(
                fam.allowance_parties, _party_message(fam.allowance_parties, fam, "a document level allowance"), root
            )
        )
    if charge_fires:
        out.append(
            _finding(fam.charge_parties, _party_message(fam.charge_parties, fam, "a document level charge"), root)
        )

    # -05/-06/-07: one per category element (line: cac:InvoiceLine|CreditNoteLine/cac:Item/cac:ClassifiedTaxCategory)
    for kind, rule, cats in (
        ("line", fam.line_rate, [x for x in line_vat if x.parent is not None]),
        ("allowance", fam.allowance_rate, allow_vat),
        ("charge", fam.charge_rate, charge_vat),
    ):
        for x in cats:
            if not _rate_ok(fam.rate, x):
                what, bt = WHAT[kind]
                out.append(_finding(rule, _rate_message(rule, fam, fam.rate, what, bt, x), x.el))

    # -08/-09/-10: one per /*/cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory[C][VAT]
    for b in bd:
        cat = b.cat
        if not cat.vat:
            continue
        out.extend(_ubl_taxable(fam, f, b))
        out.extend(_ubl_tax(fam, b))
        if (fam.reason == REASON_REQUIRED) != cat.exemption:
            out.append(_finding(fam.exemption_reason, _reason_message(fam), cat.el))
    return out


def _any_code(cat: Cat, c: str) -> bool:
    return any(norm(code) == c for code in cat.codes)


def _charge(f: Facts, cat: Cat) -> Charge:
    return f.charge_index[id(cat.parent)]


def _indicator(f: Facts, cat: Cat) -> bool | None:
    return _charge(f, cat).indicator


def _reason_message(fam: Family) -> str:
    if fam.reason == REASON_REQUIRED:
        return (
            f"{fam.exemption_reason}: the VAT breakdown (BG-23) for VAT category {fam.name} shall have a VAT "
            "exemption reason text (BT-120) or code (BT-121)."
        )
    return (
        f"{fam.exemption_reason}: the VAT breakdown (BG-23) for VAT category {fam.name} shall not have a VAT "
        "exemption reason text (BT-120) or code (BT-121)."
    )


def _ubl_line_matches(ln: Line, c: str, rate: Decimal | None) -> bool:
    """[cac:Item/cac:ClassifiedTaxCategory/normalize-space(cbc:ID) = C][... xs:decimal(cbc:Percent) = $rate]"""
    return _cats_match(ln.cats, c, rate)


def _ubl_ac_matches(ch: Charge, c: str, rate: Decimal | None) -> bool:
    return _cats_match(ch.cats, c, rate)


def _cats_match(cats: list[Cat], c: str, rate: Decimal | None) -> bool:
    """Some category has code C and (some, maybe another) has the rate: both predicates are existential."""
    if len(cats) == 1:  # the usual case, without the generators
        x = cats[0]
        return x.code == c and (rate is None or rate in x.rate_set)
    if not any(x.code == c for x in cats):
        return False
    return rate is None or any(rate in x.rate_set for x in cats)


def _grouped(f: Facts, c: str) -> dict:
    """Per VAT rate (and None = whole category): [Σ invoice lines, Σ credit note lines, Σ charges, Σ allowances]
    over root lines and document level allowances/charges whose categories include C (the rate predicate is
    existential over all their categories, as in the official tests). Built once per document for all codes."""
    groups = f._memo.get("groups")
    if groups is None:
        groups = f._memo["groups"] = _build_groups(f)
    return groups.get(c, {})


def _build_groups(f: Facts) -> dict:
    ubl = f.syntax == "ubl"
    groups: dict = {}
    items = [(ln.cats, 1 if ln.credit else 0, ln) for ln in f.lines if ln.cats]
    items += [
        (ch.cats, 2 if ch.indicator else 3, ch)
        for ch in f.charges
        if ch.document_level and ch.indicator is not None and ch.cats
    ]
    for cats, slot, owner in items:
        amount = owner.amount
        if amount is None:
            continue
        if len(cats) == 1:  # the usual case: one category per line / allowance / charge
            cat = cats[0]
            codes = (cat.code,) if ubl else cat.codes
            rates = cat.rate_set
        else:
            codes = {x.code for x in cats} if ubl else {code for x in cats for code in x.codes}
            rates = frozenset().union(*(x.rate_set for x in cats))
        for code in codes:
            sums = groups.get(code)
            if sums is None:
                sums = groups[code] = {}
            for key in (None, *rates):
                acc = sums.get(key)
                if acc is None:
                    acc = sums[key] = list(_ZERO4)  # (Decimals are immutable: += rebinds the slot)
                acc[slot] += amount
    return groups


_ZERO_SUM = Decimal(0)
_ZERO4 = (_ZERO_SUM,) * 4  # one object: a sum nothing was added to is recognised by identity


def _ubl_sum(f: Facts, c: str, rate: Decimal | None, credit: bool) -> Decimal:
    acc = _grouped(f, c).get(rate, _ZERO4)
    return acc[1 if credit else 0] + acc[2] - acc[3]


def _ubl_taxable(fam: Family, f: Facts, b: Breakdown) -> list[Finding]:
    c = fam.code
    rule = fam.taxable_amount
    if fam.taxable == PER_RATE:
        rates = [to_dec(r) for r in b.cat.rates]
        taxable = to_num(b.taxable_raw)  # ../xs:decimal(cbc:TaxableAmount - 1): untyped arithmetic, as double
        for rate in rates:
            if rate is None:
                continue
            if c == "S":
                # S also requires an invoice (credit note) line or an allowance/charge (anywhere) with that S rate
                ac_used = any(_ubl_ac_matches(ch, c, rate) for ch in f.charges)
            ok = False
            for credit in (False, True):
                if taxable is None:
                    break
                if c == "S":  # (the credit note lines are looked at only when the invoice lines do not answer)
                    allowed = ac_used or any(_ubl_line_matches(ln, c, rate) for ln in f.lines if ln.credit is credit)
                else:
                    allowed = f.any_credit_line if credit else f.any_invoice_line
                if not allowed:
                    continue
                expected = _ubl_sum(f, c, rate, credit)
                if taxable - 1 < float(expected) < taxable + 1:
                    ok = True
                    break
            if not ok:
                expected = _ubl_sum(f, c, rate, f.any_credit_line and not f.any_invoice_line)
                return [
                    _finding(
                        rule,
                        (
                            f"{rule}: BT-116 VAT category taxable amount "
                            f"({fmt(b.taxable_raw and b.taxable_raw.strip())}) "
                            f"≠ Σ line net amounts + charges − allowances ({expected}) for VAT category {fam.name} "
                            f"at {rate}%."
                        ),
                        b.cat.el,
                    )
                ]
        return []
    taxable = to_dec(b.taxable_raw)
    ok = False
    for credit, present in ((False, f.any_invoice_line), (True, f.any_credit_line)):
        if present and taxable is not None and taxable == _ubl_sum(f, c, None, credit):
            ok = True
    if ok:
        return []
    expected = _ubl_sum(f, c, None, f.any_credit_line and not f.any_invoice_line)
    return [
        _finding(
            rule,
            (
                f"{rule}: BT-116 VAT category taxable amount ({fmt(b.taxable_raw and b.taxable_raw.strip())}) "
                f"≠ Σ line net amounts + charges − allowances ({expected}) for VAT category {fam.name}."
            ),
            b.cat.el,
        )
    ]


def _ubl_tax(fam: Family, b: Breakdown) -> list[Finding]:
    rule = fam.tax_amount
    tax = to_dec(b.tax_raw)
    if fam.tax == ZERO_TAX:
        if tax is not None and tax == 0:
            return []
        return [
            _finding(
                rule,
                f"{rule}: BT-117 VAT category tax amount ({fmt(b.tax_raw and b.tax_raw.strip())}) "
                f"shall be 0 for VAT category {fam.name}.",
                b.cat.el,
            )
        ]
    taxable = to_dec(b.taxable_raw)
    rate = b.cat.rate_dec()
    if tax is not None and taxable is not None and rate is not None:
        expected = round2(abs(taxable) * (rate / 100))
        if abs(tax) - 1 < expected < abs(tax) + 1:
            return []
        exp_text, tolerance = _signed_expected(expected, taxable < 0), _TOLERANCE
    else:
        exp_text, tolerance = "not computable", ""
    return [
        _finding(
            rule,
            (
                f"{rule}: BT-117 VAT category tax amount ({fmt(b.tax_raw and b.tax_raw.strip())}) ≠ BT-116 × BT-119 "
                f"({exp_text}) for VAT category {fam.name}{_rate_phrase(b.cat)}{tolerance}."
            ),
            b.cat.el,
        )
    ]


_TOLERANCE = " (a difference of less than 1 is tolerated)"


def _signed_expected(expected: Decimal | float, negative_base: bool) -> str:
    """The expected tax amount with the base's sign (the rules compare absolute values)."""
    return f"{-expected if negative_base and expected else expected:.2f}"


def _rate_phrase(cat) -> str:
    """' 25%', or what is wrong with the category's rate (BT-119) when it has none to show."""
    raw = cat.rates[0].strip() if cat.rates else None
    if raw is None:
        return ", whose VAT rate (BT-119) is missing"
    if not raw:
        return ", whose VAT rate (BT-119) is empty"
    return f" {raw}%"


# ---- CII
def _run_cii(fam: Family, f: Facts) -> list[Finding]:
    out: list[Finding] = []
    c = fam.code
    root = f.root

    # -01 (Invoice context). Raw ram:CategoryCode = C comparisons, no TypeCode filter.
    n_line = sum(1 for x in f.line_cats if c in x.codes)
    n_head = sum(1 for b in f.breakdowns if c in b.cat.codes)
    n_ac = f.memo(("ctt", c), lambda: sum(1 for x in f.charge_cats if c in x.codes))
    if c in ("S", "L", "M"):
        # (lines + breakdowns >= 2 or no line) and (allowances/charges + breakdowns >= 2 or none)
        ok = (n_line + n_head >= 2 or n_line == 0) and (n_ac + n_head >= 2 or n_ac == 0)
    elif c == "O":
        ok = n_head == 0 or (n_head == 1 and (n_line > 0 or n_ac > 0))
    else:
        ok = (n_head == 0 and n_line == 0 and n_ac == 0) or (n_head == 1 and (n_line > 0 or n_ac > 0))
    if not ok:
        out.append(_finding(fam.breakdown_required, _breakdown_required_message(fam, n_line + n_ac > 0, n_head), root))

    # -02..-07: per category element, in the line / allowance / charge contexts
    party_ok = _party_ok(fam.parties, f.parties, "cii")
    rate_variant = fam.cii_rate or fam.rate
    line_ctx = [x for x in f.line_cats if c in x.codes and x.vat and _cii_in_main_line(x)]
    allow_ctx = []
    charge_ctx = []
    for x in f.charge_cats:
        if c in x.codes and x.vat:
            ind = _charge(f, x).indicator
            if ind is False:
                allow_ctx.append(x)
            elif ind is True:
                charge_ctx.append(x)
    for kind, party_rule, rate_rule, cats in (
        ("line", fam.line_parties, fam.line_rate, line_ctx),
        ("allowance", fam.allowance_parties, fam.allowance_rate, allow_ctx),
        ("charge", fam.charge_parties, fam.charge_rate, charge_ctx),
    ):
        what, bt = WHAT[kind]
        for x in cats:
            if not party_ok:
                out.append(_finding(party_rule, _party_message(party_rule, fam, what), x.el))
            if not _rate_ok(rate_variant, x):
                out.append(_finding(rate_rule, _rate_message(rate_rule, fam, rate_variant, what, bt, x), x.el))

    # -08..-10 and extras: breakdown contexts
    for b in f.breakdowns:
        cat = b.cat
        if c in ("O", "L", "M"):
            # context: the ram:ApplicableTradeTax[CategoryCode = C][upper-case(TypeCode) = 'VAT'] itself
            if not (c in cat.codes and cat.vat and cii_in_transaction(b)):
                continue
            if c == "O":
                out.extend(_cii_taxable_o(fam, f, b))
                out.extend(_cii_zero_tax(fam, b, b.el))
            # BR-AF-08/BR-AG-08 read ../ram:RateApplicablePercent from that context: never present, always hold;
            # BR-AF-09/BR-AG-09 are bound to true() (BR-CO-17 covers them).
            if (fam.reason == REASON_REQUIRED) != cat.exemption:
                out.append(_finding(fam.exemption_reason, _reason_message(fam), b.el))
            continue
        # context: ram:CategoryCode[. = C] (S, Z: any TypeCode; others: upper-case(../TypeCode) = 'VAT')
        for code_el in kids(b.el, _C_CODE):
            if text_of(code_el) != c:
                continue
            if c not in ("S", "Z") and not (cat.vat and cii_in_transaction(b)):
                continue
            if fam.taxable == PER_RATE:
                out.extend(_cii_taxable_per_rate(fam, f, b, code_el))
                out.extend(_cii_rate_product(fam, b, code_el))
            else:
                out.extend(_cii_taxable_category(fam, f, b, code_el))
                out.extend(_cii_zero_tax(fam, b, code_el))
            if (fam.reason == REASON_REQUIRED) != cat.exemption:
                out.append(_finding(fam.exemption_reason, _reason_message(fam), code_el))
    return out


def _cii_in_main_line(cat: Cat) -> bool:
    """//rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem/ram:SpecifiedLineTradeSettlement/..."""
    item = cat.parent.getparent() if cat.parent is not None else None
    if item is None or item.tag != _C_LINE_ITEM:
        return False
    tx = item.getparent()
    return tx is not None and tx.tag == _C_SCTT


def cii_in_transaction(b: Breakdown) -> bool:
    """//rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"""
    tx = b.cat.parent.getparent()
    return tx is not None and tx.tag == _C_SCTT


def _cii_sums(f: Facts, c: str, rate: Decimal | None) -> Decimal:
    """round(Σ lines) + round(Σ charges) − round(Σ allowances), each rounded to 2 decimals (CII bindings)."""
    acc = _grouped(f, c).get(rate, _ZERO4)
    return _round2(acc[0]) + _round2(acc[2]) - _round2(acc[3])


_ROUNDED_ZERO = round2(_ZERO_SUM)


def _round2(d: Decimal) -> Decimal:
    """round2(d), answered at once for a sum nothing was added to (most invoices have no allowances or charges)."""
    return _ROUNDED_ZERO if d is _ZERO_SUM else round2(d)


def _basis_message(rule: str, fam: Family, raw: str | None, expected, rate=None) -> str:
    at = f" at {rate}%" if rate is not None else ""
    return (
        f"{rule}: BT-116 VAT category taxable amount ({fmt(raw and raw.strip())}) ≠ Σ line net amounts + charges "
        f"− allowances ({expected}) for VAT category {fam.name}{at}."
    )


def _cii_taxable_per_rate(fam: Family, f: Facts, b: Breakdown, ctx) -> list[Finding]:
    basis = to_num(b.taxable_raw)
    for raw_rate in b.cat.rates:
        rate = to_dec(raw_rate)
        if rate is None:
            continue
        expected = _cii_sums(f, fam.code, rate)
        if basis is None or basis != float(expected):  # untyped BasisAmount = decimal: compared as doubles
            return [
                _finding(
                    fam.taxable_amount, _basis_message(fam.taxable_amount, fam, b.taxable_raw, expected, rate), ctx
                )
            ]
    return []


def _cii_taxable_category(fam: Family, f: Facts, b: Breakdown, ctx) -> list[Finding]:
    basis = to_num(b.taxable_raw)
    expected = _cii_sums(f, fam.code, None)
    if basis is not None and basis - 1 < float(expected) < basis + 1:
        return []
    return [_finding(fam.taxable_amount, _basis_message(fam.taxable_amount, fam, b.taxable_raw, expected), ctx)]


def _cii_taxable_o(fam: Family, f: Facts, b: Breakdown) -> list[Finding]:
    basis = to_num(b.taxable_raw)
    expected = _cii_sums(f, fam.code, None)
    if basis is not None and basis == float(expected):
        return []
    return [_finding(fam.taxable_amount, _basis_message(fam.taxable_amount, fam, b.taxable_raw, expected), b.el)]


def _cii_zero_tax(fam: Family, b: Breakdown, ctx) -> list[Finding]:
    v = to_num(b.tax_raw)
    if v is not None and v == 0:
        return []
    return [
        _finding(
            fam.tax_amount,
            f"{fam.tax_amount}: BT-117 VAT category tax amount "
            f"({fmt(b.tax_raw and b.tax_raw.strip())}) shall be 0 for VAT category "
            f"{fam.name}.",
            ctx,
        )
    ]


def _cii_rate_product(fam: Family, b: Breakdown, ctx) -> list[Finding]:
    tax = to_dec(b.tax_raw)
    basis = to_dec(b.taxable_raw)
    rate = b.cat.rate_num()
    if tax is not None and basis is not None and rate is not None:
        # round(abs(xs:decimal(BasisAmount)) * RateApplicablePercent) div 100: double arithmetic
        expected = fround(float(abs(basis)) * rate) / 100
        if float(abs(tax)) - 1 < expected < float(abs(tax)) + 1:
            return []
        exp_text, tolerance = _signed_expected(expected, basis < 0), _TOLERANCE
    else:
        exp_text, tolerance = "not computable", ""
    return [
        _finding(
            fam.tax_amount,
            (
                f"{fam.tax_amount}: BT-117 VAT category tax amount ({fmt(b.tax_raw and b.tax_raw.strip())}) ≠ BT-116 × "
                f"BT-119 ({exp_text}) for VAT category {fam.name}{_rate_phrase(b.cat)}{tolerance}."
            ),
            ctx,
        )
    ]
