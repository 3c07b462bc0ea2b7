"""The CII syntax pass's walk and its per-process tables (syntax_cii._entry and the tables it fills)."""

from __future__ import annotations

from collections import Counter

from lxml import etree
from test_syntax_cii import NS, cii, fired

from chalicelib.validation.document import Document
from chalicelib.validation.parsing import parse_xml
from chalicelib.validation.rules import syntax_cii

RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"


def _made_up_tags(count: int) -> Document:
    body = "".join(f"<ram:Made{i}ID schemeName='x'><ram:Up{i}/></ram:Made{i}ID>" for i in range(count))
    return Document(
        "cii", parse_xml(f"<rsm:CrossIndustryInvoice {NS}>{body}</rsm:CrossIndustryInvoice>".encode()), None
    )


def test_a_document_full_of_made_up_tags_does_not_leave_the_tables_full(monkeypatch):
    # the tables are bounded; a document that fills them leaves them to the next one empty, so an invoice validated
    # after it is back to cached entries from its second validation on
    monkeypatch.setattr(syntax_cii._TABLES, "limit", 300)
    syntax_cii._TABLES.forget()
    try:
        assert fired(_made_up_tags(400)) == Counter({"CII-DT-101": 400})
        assert syntax_cii._TABLES.kept == 300  # full
        assert fired(cii(lines=2)) == Counter()
        assert syntax_cii._TABLES.kept < 300
        built = []
        entry = syntax_cii._entry
        monkeypatch.setattr(syntax_cii, "_entry", lambda *args: built.append(args[2]) or entry(*args))
        assert fired(cii(lines=2)) == Counter()
        assert built == []
        # and the made-up tags are reported the same from emptied tables
        assert fired(_made_up_tags(400)) == Counter({"CII-DT-101": 400})
    finally:
        syntax_cii._TABLES.forget()


def test_the_walk_counts_comments_and_processing_instructions_among_the_children():
    # the pass tells each node's parent from the children counts: comments and processing instructions (last children
    # included) must not shift the elements after them to another parent
    plain = cii(lines=2, product="<ram:BrandName>A</ram:BrandName>")
    expected = fired(plain)
    assert expected == Counter({"CII-SR-058": 2})
    root = plain.root
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        el.append(etree.Comment("last"))
        el.insert(0, etree.ProcessingInstruction("pi", "first"))
    noisy = Document("cii", parse_xml(etree.tostring(root)), None)
    assert fired(noisy) == expected
    # a document element with a parent starts at no position (so no line BilledQuantity tells its @unitCode apart)
    wrapper = etree.Element(f"{{{RAM}}}Wrapper")
    wrapper.append(parse_xml(etree.tostring(cii(tax_type="GST").root)))
    wrapper.append(etree.Comment("after"))
    assert Counter(f.rule for f in syntax_cii._check_cii(wrapper[0])) == Counter({"CII-DT-037": 1, "CII-DT-033": 1})
