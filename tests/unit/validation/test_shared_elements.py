"""The syntax pass (UBL or CII) hands the elements other families read over to them (_helpers.pass_elements): the
lists must be exactly what those families would find with their own scan, and the families must answer the same
either way."""

from __future__ import annotations

import pytest

from chalicelib.validation.document import Document
from chalicelib.validation.parsing import detect_syntax, parse_xml
from chalicelib.validation.readers import read_invoice
from chalicelib.validation.rules import _helpers, _vat, decimals, syntax_cii, syntax_ubl
from tests.unit.validation.conformance import MISSING, entries, read
from tests.unit.validation.samples import cii, ubl

# per syntax: its pass, the elements it hands over, a sample, and the sample with a comment and a PI in the way
PASSES = {
    "ubl": (syntax_ubl, syntax_ubl.UBL_SHARED_TAGS, ubl, (b"<cbc:ID>", b"<!-- a comment --><?pi x?><cbc:ID>")),
    "cii": (
        syntax_cii,
        syntax_cii.CII_SHARED_TAGS,
        cii,
        (b"<rsm:ExchangedDocument>", b"<!-- a comment --><?pi x?><rsm:ExchangedDocument>"),
    ),
}


def _document(data: bytes) -> Document:
    root = parse_xml(data)
    syntax, name = detect_syntax(root)
    return Document(syntax=syntax, root=root, invoice=read_invoice(root, syntax, name), nodes=list(root.iter()))


def _findings(findings) -> list[tuple]:
    return sorted((f.rule, f.severity, f.message, f.location) for f in findings)


def _samples(syntax: str) -> list[bytes]:
    _, _, sample, (before, after) = PASSES[syntax]
    return [sample(), sample().replace(before, after, 1)]


def _assert_handed_over_as_scanned(syntax: str, data: bytes) -> None:
    check, shared_tags = PASSES[syntax][0].check, PASSES[syntax][1]
    with_pass = _document(data)
    check(with_pass)
    alone = _document(data)
    for reader, tags in shared_tags.items():
        assert _helpers.pass_elements(with_pass, reader) == list(with_pass.root.iter(*tags)), reader
    assert _findings(decimals.check(with_pass)) == _findings(decimals.check(alone))
    facts, own = _vat.facts(with_pass), _vat.facts(alone)
    assert [c.codes for c in facts.all_tax_cats] == [c.codes for c in own.all_tax_cats]
    assert [c.codes for c in facts.line_cats] == [c.codes for c in own.line_cats]
    assert [c.codes for c in facts.charge_cats] == [c.codes for c in own.charge_cats]
    raw = [(b.taxable_raw, b.tax_raw) for b in facts.breakdowns]
    assert raw == [(b.taxable_raw, b.tax_raw) for b in own.breakdowns]
    assert facts.codes == own.codes


@pytest.mark.parametrize("syntax", PASSES)
def test_a_family_run_without_the_pass_scans_for_itself(syntax):
    doc = _document(_samples(syntax)[0])
    assert _helpers.pass_elements(doc, "decimals") is None
    assert _helpers.pass_elements(doc, "vat") is None


@pytest.mark.parametrize("syntax", PASSES)
@pytest.mark.parametrize("sample", [0, 1], ids=["sample", "with-comment"])
def test_handed_over_elements_are_the_readers_own_scan(syntax, sample):
    _assert_handed_over_as_scanned(syntax, _samples(syntax)[sample])


@pytest.mark.parametrize("syntax", PASSES)
def test_handed_over_elements_on_the_corpus(syntax):
    documents = [read(e) for e in entries() if e.get("syntax") == syntax]
    if not documents:
        pytest.skip(MISSING)
    for data in documents:
        _assert_handed_over_as_scanned(syntax, data)
