"""A comment or processing instruction inside a value is not part of it: XPath's string value, which the official
rules read, skips both, so the engine and its semantic model read the whole value around them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from chalicelib.validation import validate
from chalicelib.validation.parsing import parse_xml
from tests.unit.validation.conformance import entries, read
from tests.unit.validation.samples import cii, ubl


@pytest.mark.parametrize("inside", ["<!-- our ref -->", "<?pi x?>"])
def test_ubl_value_with_a_comment_or_pi_reads_whole(inside):
    data = (
        ubl(payable="12" + inside + "00.00")
        .replace(b"<cbc:ID>F-2026-001", b"<cbc:ID>" + inside.encode() + b"F-2026-001", 1)
        .replace(b"<cbc:BuyerReference>SERVICE-42", b"<cbc:BuyerReference>SERVICE" + inside.encode() + b"-42", 1)
    )
    report = validate(data)
    assert report.fatal == [] and report.valid
    assert report.invoice.number.text == "F-2026-001"
    assert report.invoice.buyer_reference.text == "SERVICE-42"
    assert report.invoice.totals.payable.value == Decimal("1200.00")


@pytest.mark.parametrize("inside", ["<!-- no. -->", "<?pi x?>"])
def test_cii_value_with_a_comment_or_pi_reads_whole(inside):
    report = validate(cii(number=inside + "F-2026-002", payable="1200" + inside + ".00"))
    assert report.fatal == [] and report.valid
    assert report.invoice.number.text == "F-2026-002"
    assert report.invoice.totals.payable.value == Decimal("1200.00")


def test_comments_and_pis_are_dropped_and_text_merged():
    root = parse_xml(b"<a>12<!--c-->500<?pi x?>7<b/></a>")
    assert root.text == "125007" and [child.tag for child in root] == ["b"]


def _comment_in_every_value(data: bytes) -> bytes:
    """The document with a comment after the first character of every element's text of two or more characters."""
    root = etree.fromstring(data)
    for el in root.iter():
        if isinstance(el.tag, str) and el.text and len(el.text.strip()) > 1:
            text = el.text
            el.text = text[:1]
            comment = etree.Comment(" c ")
            comment.tail = text[1:]
            el.insert(0, comment)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.mark.skipif(not entries(), reason="conformance corpus not available")
def test_corpus_verdicts_do_not_change_with_a_comment_in_every_value():
    complete = [e for e in entries() if e.get("kind") != "unit"]
    assert complete
    for entry in complete:
        data = read(entry)
        before, after = validate(data), validate(_comment_in_every_value(data))
        assert (after.fatal, after.warnings) == (before.fatal, before.warnings), entry
