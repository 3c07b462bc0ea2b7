"""model.xpath_of counts the same-name siblings by walking them: the paths must be those of the reference (a list of
the parent's children with the same tag), for elements, comments and processing instructions alike."""

from __future__ import annotations

from typing import Any

from lxml import etree

from chalicelib.validation.model import _step, xpath_of
from chalicelib.validation.parsing import parse_xml
from tests.unit.validation.conformance import entries, read
from tests.unit.validation.samples import cii, ubl


def _reference(el: Any) -> str:
    parts = []
    while el is not None:
        parent = el.getparent()
        step = _step(el)
        if parent is not None:
            same = [c for c in parent if c.tag == el.tag]
            if len(same) > 1:
                step += f"[{same.index(el) + 1}]"
        parts.append(step)
        el = parent
    return "/" + "/".join(reversed(parts))


def test_mixed_siblings():
    root = etree.fromstring(
        b'<r xmlns:a="urn:a"><?p x?><x/><a:x/><!--c--><x><y/><!--d--><y/><z/></x><?p y?><!--e--><x/><a:w/></r>'
    )
    for el in root.iter():
        assert xpath_of(el) == _reference(el)
    assert xpath_of(root[4][2]) == "/r/x[2]/y[2]"
    assert xpath_of(root[6]) == "/r/node()[2]"  # the second comment
    assert xpath_of(None) == ""


def test_every_node_of_the_samples_and_the_corpus():
    documents = [ubl(), cii(), *(read(e) for e in entries() if e.get("kind") != "unit")]
    for data in documents:
        for el in parse_xml(data).iter():
            assert xpath_of(el) == _reference(el)


def test_the_per_document_memo_answers_the_same_and_ends_with_the_validation():
    from chalicelib.validation import engine
    from chalicelib.validation.model import XPATH_MEMO

    root = parse_xml(cii())
    token = XPATH_MEMO.set({})
    try:
        for _ in range(2):  # computed, then remembered
            for el in root.iter():
                assert xpath_of(el) == _reference(el)
    finally:
        XPATH_MEMO.reset(token)
    report = engine.validate(ubl().replace(b"<cbc:ID>", b"<cbc:ID/><cbc:ID>", 1))
    assert report.findings
    assert XPATH_MEMO.get() is None  # nothing remembered outside a validation
