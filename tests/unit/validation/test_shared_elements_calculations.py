"""BR-CO-03 (calculations) takes the TaxPointDate/DueDateTypeCode elements the CII syntax pass hands over
(_helpers.pass_elements): it must answer exactly as with its own walk of the tree."""

from __future__ import annotations

from chalicelib.validation.document import Document
from chalicelib.validation.parsing import detect_syntax, parse_xml
from chalicelib.validation.readers import read_invoice
from chalicelib.validation.rules import _helpers, calculations, syntax_cii
from tests.unit.validation.conformance import entries, read
from tests.unit.validation.samples import cii

_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"


def _document(data: bytes) -> Document:
    root = parse_xml(data)
    syntax, name = detect_syntax(root)
    return Document(syntax=syntax, root=root, invoice=read_invoice(root, syntax, name), nodes=list(root.iter()))


def _br_co_03(doc: Document, elements) -> list[tuple]:
    out: list = []
    calculations._tax_point(doc.invoice, "cii", out, elements)
    return sorted((f.rule, f.severity, f.message, f.location) for f in out)


def _variants() -> list[bytes]:
    base = cii()
    settlement = b"<ram:ApplicableTradeTax>"
    both = base.replace(
        settlement,
        b"<ram:ApplicableTradeTax><ram:TaxPointDate><udt:DateString format='102'>20240101</udt:DateString>"
        b"</ram:TaxPointDate><ram:DueDateTypeCode>5</ram:DueDateTypeCode>",
        1,
    )
    one = base.replace(settlement, b"<ram:ApplicableTradeTax><ram:DueDateTypeCode>5</ram:DueDateTypeCode>", 1)
    corpus = [read(e) for e in entries() if e.get("syntax") == "cii"]
    return [base, both, one, *corpus]


def test_br_co_03_answers_the_same_with_the_handed_over_elements():
    fired = 0
    for data in _variants():
        doc = _document(data)
        syntax_cii.check(doc)
        shared = _helpers.pass_elements(doc, "calculations")
        assert shared == list(doc.root.iter(*calculations.CII_TAGS))
        with_pass = _br_co_03(doc, shared)
        assert with_pass == _br_co_03(doc, None)
        fired += bool(with_pass)
    assert fired  # the variant with both elements fails BR-CO-03


def test_calculations_runs_after_the_cii_syntax_pass():
    from chalicelib.validation.rules import FAMILIES

    assert FAMILIES.index("calculations") > FAMILIES.index("syntax_cii")
