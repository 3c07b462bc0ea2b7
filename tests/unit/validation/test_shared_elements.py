"""The CII syntax pass hands the elements other families read over to them (_helpers.pass_elements): the lists must
be exactly what those families would find with their own scan, and the families must answer the same either way."""

from __future__ import annotations

import pytest

from chalicelib.validation.document import Document
from chalicelib.validation.parsing import detect_syntax, parse_xml
from chalicelib.validation.readers import read_invoice
from chalicelib.validation.rules import _helpers, _vat, decimals, syntax_cii
from tests.unit.validation.conformance import MISSING, entries, read
from tests.unit.validation.samples import cii

COMMENTED = cii().replace(b"<rsm:ExchangedDocument>", b"<!-- a comment --><?pi x?><rsm:ExchangedDocument>", 1)


def _document(data: bytes) -> Document:
    root = parse_xml(data)
    syntax, name = detect_syntax(root)
    return Document(syntax=syntax, root=root, invoice=read_invoice(root, syntax, name), nodes=list(root.iter()))


def _cii_documents() -> list[bytes]:
    corpus = [read(e) for e in entries() if e.get("syntax") == "cii"]
    return [cii(), COMMENTED, *corpus]


def _findings(findings) -> list[tuple]:
    return sorted((f.rule, f.severity, f.message, f.location) for f in findings)


def test_a_family_run_without_the_pass_scans_for_itself():
    doc = _document(cii())
    assert _helpers.pass_elements(doc, "decimals") is None
    assert _helpers.pass_elements(doc, "vat") is None


@pytest.mark.parametrize("data", _cii_documents()[:2], ids=["sample", "with-comment"])
def test_handed_over_elements_are_the_readers_own_scan(data):
    doc = _document(data)
    syntax_cii.check(doc)
    for reader, tags in syntax_cii.CII_SHARED_TAGS.items():
        assert _helpers.pass_elements(doc, reader) == list(doc.root.iter(*tags)), reader


def test_handed_over_elements_on_the_corpus():
    documents = _cii_documents()[2:]
    if not documents:
        pytest.skip(MISSING)
    for data in documents:
        with_pass = _document(data)
        syntax_cii.check(with_pass)
        alone = _document(data)
        for reader, tags in syntax_cii.CII_SHARED_TAGS.items():
            assert _helpers.pass_elements(with_pass, reader) == list(with_pass.root.iter(*tags)), reader
        assert _findings(decimals.check(with_pass)) == _findings(decimals.check(alone))
        facts, own = _vat.facts(with_pass), _vat.facts(alone)
        assert [c.codes for c in facts.all_tax_cats] == [c.codes for c in own.all_tax_cats]
        assert [c.codes for c in facts.charge_cats] == [c.codes for c in own.charge_cats]
        assert [(b.taxable_raw, b.tax_raw) for b in facts.breakdowns] == [
            (b.taxable_raw, b.tax_raw) for b in own.breakdowns
        ]
        assert facts.codes == own.codes
