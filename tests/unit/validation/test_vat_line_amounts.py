"""The VAT families read a line's BT-131 from the reader's Amount when it is the very element they would read
(_vat.Line.model_amount): the value must be exactly what reading the element answers, in odd shapes too."""

from __future__ import annotations

import copy

import pytest
from lxml import etree

from chalicelib.validation.document import Document
from chalicelib.validation.parsing import detect_syntax, parse_xml
from chalicelib.validation.readers import read_invoice
from chalicelib.validation.rules import _vat
from tests.unit.validation.samples import cii, ubl

RAM = _vat.RAM
CBC = _vat.CBC


def _amounts(data: bytes) -> list:
    root = parse_xml(data)
    syntax, name = detect_syntax(root)
    doc = Document(syntax=syntax, root=root, invoice=read_invoice(root, syntax, name), nodes=list(root.iter()))
    lines = _vat.facts(doc).lines
    assert lines
    out = []
    for ln in lines:
        el = _vat.kid_path(ln.el, *ln.amount_path)  # what Line.amount reads without the model
        expected = _vat.to_dec(_vat.text_of(el)) if el is not None else None
        got = ln.amount
        assert (got, str(got)) == (expected, str(expected))
        out.append(got)
    return out


def _edit(data: bytes, fn) -> bytes:
    root = etree.fromstring(data)
    fn(root)
    return etree.tostring(root)


def _first(root, tag):
    return next(root.iter(tag))


def _cii_variants() -> list[bytes]:
    summation = RAM + "SpecifiedTradeSettlementLineMonetarySummation"
    settlement = RAM + "SpecifiedLineTradeSettlement"
    total = RAM + "LineTotalAmount"

    def empty_first_summation(root):  # the reader's amount is in the second summation: not the one read here
        s = _first(root, summation)
        s.addprevious(etree.Element(summation))

    def second_settlement_first(root):  # a settlement without a total before the one with it
        st = _first(root, settlement)
        twin = copy.deepcopy(st)
        for el in list(twin.iter(summation)):
            el.getparent().remove(el)
        st.addprevious(twin)

    def duplicate_total(root):
        t = _first(root, total)
        twin = copy.deepcopy(t)
        twin.text = "999.99"
        t.addnext(twin)

    def total_with_child(root):
        t = _first(root, total)
        t.text = "1"
        child = etree.SubElement(t, RAM + "X")
        child.tail = "0.5"

    def no_total(root):
        t = _first(root, total)
        t.getparent().remove(t)

    def bad_total(root):
        _first(root, total).text = " 1e3 "

    return [
        cii(),
        *(_edit(cii(), f) for f in (empty_first_summation, second_settlement_first, duplicate_total, total_with_child)),
        *(_edit(cii(), f) for f in (no_total, bad_total)),
    ]


def _ubl_variants() -> list[bytes]:
    lea = CBC + "LineExtensionAmount"
    line = _vat.CAC + "InvoiceLine"

    def first_line_lea(root):
        return next(el for el in _first(root, line) if el.tag == lea)

    def duplicate(root):
        el = first_line_lea(root)
        twin = copy.deepcopy(el)
        twin.text = "999.99"
        el.addnext(twin)

    def with_child(root):
        el = first_line_lea(root)
        el.text = "2"
        etree.SubElement(el, CBC + "X").tail = ".25"

    def missing(root):
        el = first_line_lea(root)
        el.getparent().remove(el)

    return [ubl(), *(_edit(ubl(), f) for f in (duplicate, with_child, missing))]


@pytest.mark.parametrize("data", [*_cii_variants(), *_ubl_variants()])
def test_line_amount_is_what_the_element_reads(data):
    _amounts(data)


def test_line_amount_without_a_model():
    root = parse_xml(cii())
    doc = Document(syntax="cii", root=root, invoice=None, nodes=list(root.iter()))
    assert all(ln.model_amount is False for ln in _vat.facts(doc).lines)
