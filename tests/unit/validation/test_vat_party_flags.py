"""The VAT families' party facts (_vat.Facts.parties) are a walk down the party elements: it must answer exactly
what the XPath of _UBL_PARTY_TESTS / _CII_PARTY_TESTS answers, on the corpus and on variants of its party elements."""

from __future__ import annotations

import copy
import random

import pytest
from lxml import etree

from chalicelib.validation.document import Document
from chalicelib.validation.parsing import detect_syntax, parse_xml
from chalicelib.validation.rules import _vat
from tests.unit.validation.conformance import MISSING, entries, read
from tests.unit.validation.samples import cii, ubl


def _reference(root, syntax: str) -> dict[str, bool]:
    tests = _vat._UBL_PARTY_TESTS if syntax == "ubl" else _vat._CII_PARTY_TESTS
    bits = _vat.flags_xpath(tests)(root)
    return {name: bit == "1" for name, bit in zip(tests, bits, strict=True)}


def _walk(root, syntax: str) -> dict[str, bool]:
    doc = Document(syntax=syntax, root=root, invoice=None, nodes=list(root.iter()))
    return _vat.facts(doc).parties


_VALUES = ["VAT", " vat\n", "VaT", "V AT", "VAT\u00a0", "\tVAT ", "GST", "", "VA", "FC", "va"]


def _variants(data: bytes, seed: int, n: int = 12) -> list[bytes]:
    """Copies whose party elements are removed, duplicated or given other texts / scheme attributes."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        root = etree.fromstring(data)
        party_els = [
            el
            for el in root.iter()
            if isinstance(el.tag, str)
            and any(
                el.tag.endswith(t) for t in ("Party", "TaxScheme", "ID", "Registration", "Organization", "LegalEntity")
            )
        ]
        for el in rng.sample(party_els, min(len(party_els), rng.randint(1, 4))):
            op = rng.randrange(4)
            parent = el.getparent()
            if op == 0 and parent is not None:
                parent.remove(el)
            elif op == 1 and parent is not None:
                parent.insert(parent.index(el), copy.deepcopy(el))
            elif op == 2 and not len(el):
                el.text = rng.choice(_VALUES)
            else:
                el.set("schemeID", rng.choice(_VALUES))
        out.append(etree.tostring(root))
    return out


def _documents() -> list[bytes]:
    corpus = [read(e) for e in entries()]
    return [ubl(), cii(), *corpus]


@pytest.mark.skipif(not entries(), reason=MISSING)
def test_party_walk_matches_xpath_on_corpus_and_variants():
    checked = 0
    for i, data in enumerate(_documents()):
        for variant in [data, *(_variants(data, i, 3) if i % 7 == 0 else [])]:
            try:
                root = parse_xml(variant)
                syntax, _ = detect_syntax(root)
            except Exception:  # noqa: BLE001 - not an invoice any more
                continue
            assert _walk(root, syntax) == _reference(root, syntax), variant[:200]
            checked += 1
    assert checked > 1000


@pytest.mark.parametrize("make", [ubl, cii])
def test_party_walk_matches_xpath_on_samples(make):
    for data in [make(), *_variants(make(), 1, 200)]:
        root = parse_xml(data)
        syntax, _ = detect_syntax(root)
        assert _walk(root, syntax) == _reference(root, syntax)


@pytest.mark.parametrize("make", [ubl, cii])
def test_party_walk_matches_xpath_for_every_scheme_spelling(make):
    data = make()
    root = etree.fromstring(data)
    targets = [
        i
        for i, el in enumerate(root.iter())
        if el.tag in (_vat.CBC + "ID", _vat.RAM + "ID") and el.getparent().tag.endswith(("TaxScheme", "Registration"))
    ]
    assert targets
    for index in targets:
        for value in _VALUES:
            for where in ("text", "schemeID"):
                variant = etree.fromstring(data)
                el = list(variant.iter())[index]
                if where == "text":
                    el.text = value
                else:
                    el.set("schemeID", value)
                assert _walk(variant, make.__name__) == _reference(variant, make.__name__), (index, value, where)
