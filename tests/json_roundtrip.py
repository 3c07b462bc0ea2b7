"""The way back from a semantic model to structured JSON, for the round-trip test (JSON → UBL → semantic model →
JSON is the identity): only the business terms the schema has."""

from __future__ import annotations

from chalicelib.formats.ubl_writer import EN16931
from chalicelib.validation.model import Invoice as SemanticInvoice
from chalicelib.validation.model import Party


def _t(field) -> str | None:
    return field.text if field is not None else None


def _put(out: dict, key: str, value) -> None:
    if value not in (None, "", [], {}):
        out[key] = value


def _ident(ident) -> dict | None:
    if ident is None:
        return None
    out = {"id": ident.text}
    _put(out, "scheme", ident.scheme)
    return out


def _address(a) -> dict | None:
    if a is None:
        return None
    address: dict = {}
    for key, field in (
        ("line1", a.line1),
        ("line2", a.line2),
        ("city", a.city),
        ("postcode", a.postcode),
        ("subdivision", a.subdivision),
        ("country_code", a.country),
    ):
        _put(address, key, _t(field))
    return address


def _party(party: Party | None) -> dict | None:
    if party is None:
        return None
    out: dict = {}
    _put(out, "name", _t(party.name))
    _put(out, "trading_name", _t(party.trading_name))
    _put(out, "identifiers", [_ident(i) for i in party.identifiers])
    _put(out, "legal_registration", _ident(party.legal_registration))
    _put(out, "vat_id", _t(party.vat_id))
    _put(out, "electronic_address", _ident(party.electronic_address))
    _put(out, "address", _address(party.address))
    if party.contact is not None:
        c = party.contact
        contact: dict = {}
        for key, field in (("name", c.name), ("telephone", c.telephone), ("email", c.email)):
            _put(contact, key, _t(field))
        _put(out, "contact", contact)
    return out


def _period(period) -> dict | None:
    if period is None:
        return None
    out: dict = {}
    _put(out, "start", _t(period.start))
    _put(out, "end", _t(period.end))
    return out


def _allowance_charge(ac) -> dict:
    out: dict = {}
    for key, field in (
        ("amount", ac.amount),
        ("base_amount", ac.base_amount),
        ("percent", ac.percent),
        ("vat_category", ac.vat_category),
        ("vat_rate", ac.vat_rate),
        ("reason", ac.reason),
        ("reason_code", ac.reason_code),
    ):
        _put(out, key, _t(field))
    return out


def _note(note) -> dict:
    text = _t(note.text) or ""
    code = _t(note.subject_code)
    if code is None and text.startswith("#") and text.count("#") >= 2:  # UBL carries BT-21 as "#CODE#text"
        code, _, text = text[1:].partition("#")
    out: dict = {}
    _put(out, "subject_code", code)
    out["text"] = text
    return out


def from_model(model: SemanticInvoice) -> dict:
    """The structured JSON of a semantic model (only the business terms the schema has)."""
    out: dict = {}
    spec = _t(model.customization_id)
    if spec and spec != EN16931:
        out["specification_id"] = spec
    _put(out, "business_process", _t(model.profile_id))
    _put(out, "number", _t(model.number))
    _put(out, "issue_date", _t(model.issue_date))
    _put(out, "type_code", _t(model.type_code))
    _put(out, "currency", _t(model.currency))
    _put(out, "tax_point_date", _t(model.tax_point_date))
    _put(out, "due_date", _t(model.due_date))
    for key, attr in (
        ("buyer_reference", "buyer_reference"),
        ("project_reference", "project_reference"),
        ("contract_reference", "contract_reference"),
        ("purchase_order", "purchase_order"),
        ("buyer_accounting_reference", "buyer_accounting_reference"),
        ("payment_terms", "payment_terms"),
    ):
        _put(out, key, _t(getattr(model, attr)))
    _put(out, "notes", [_note(n) for n in model.notes])
    preceding = []
    for p in model.preceding_invoices:
        entry: dict = {}
        _put(entry, "number", _t(p.number))
        _put(entry, "issue_date", _t(p.issue_date))
        preceding.append(entry)
    _put(out, "preceding_invoices", preceding)
    _put(out, "seller", _party(model.seller))
    _put(out, "buyer", _party(model.buyer))
    _put(out, "invoice_period", _period(model.invoice_period))
    if model.delivery is not None:
        delivery: dict = {}
        _put(delivery, "date", _t(model.delivery.date))
        _put(delivery, "name", _t(model.delivery.name))
        _put(delivery, "location_id", _ident(model.delivery.location_id))
        _put(delivery, "address", _address(model.delivery.address))
        _put(out, "delivery", delivery)
    if model.payment_instructions:
        pi = model.payment_instructions[0]
        payment: dict = {}
        _put(payment, "means_code", _t(pi.code))
        _put(payment, "remittance", _t(pi.remittance))
        if pi.transfers:
            transfer = pi.transfers[0]
            _put(payment, "account", _t(transfer.account))
            _put(payment, "account_name", _t(transfer.name))
            _put(payment, "bic", _t(transfer.bic))
        _put(out, "payment", payment)
    _put(out, "allowances", [_allowance_charge(a) for a in model.allowances])
    _put(out, "charges", [_allowance_charge(c) for c in model.charges])
    if model.totals is not None:
        t = model.totals
        totals: dict = {}
        for key, field in (
            ("line_total", t.line_total),
            ("allowance_total", t.allowance_total),
            ("charge_total", t.charge_total),
            ("without_vat", t.tax_exclusive),
            ("vat", t.tax_amount),
            ("with_vat", t.tax_inclusive),
            ("prepaid", t.prepaid),
            ("rounding", t.rounding),
            ("amount_due", t.payable),
        ):
            _put(totals, key, _t(field))
        _put(out, "totals", totals)
    breakdown = []
    for v in model.vat_breakdown:
        entry = {}
        for key, field in (
            ("taxable_amount", v.taxable_amount),
            ("tax_amount", v.tax_amount),
            ("category", v.category),
            ("rate", v.rate),
            ("exemption_reason", v.exemption_reason),
            ("exemption_code", v.exemption_code),
        ):
            _put(entry, key, _t(field))
        breakdown.append(entry)
    _put(out, "vat_breakdown", breakdown)
    _put(out, "lines", [_line(line) for line in model.lines])
    return out


def _line(line) -> dict:
    out: dict = {}
    _put(out, "id", _t(line.id))
    _put(out, "note", _t(line.note))
    _put(out, "quantity", _t(line.quantity))
    _put(out, "unit_code", line.quantity.unit if line.quantity is not None else None)
    _put(out, "net_amount", _t(line.net_amount))
    _put(out, "order_line_reference", _t(line.order_line_ref))
    _put(out, "accounting_reference", _t(line.accounting_ref))
    _put(out, "period", _period(line.period))
    if line.price is not None:
        price: dict = {}
        _put(price, "net", _t(line.price.net))
        _put(price, "base_quantity", _t(line.price.base_quantity))
        _put(out, "price", price)
    if line.vat is not None:
        vat: dict = {}
        _put(vat, "category", _t(line.vat.category))
        _put(vat, "rate", _t(line.vat.rate))
        _put(out, "vat", vat)
    if line.item is not None:
        i = line.item
        item: dict = {}
        for key, field in (
            ("name", i.name),
            ("description", i.description),
            ("seller_id", i.seller_id),
            ("buyer_id", i.buyer_id),
            ("origin_country", i.origin_country),
        ):
            _put(item, key, _t(field))
        _put(out, "item", item)
    return out
