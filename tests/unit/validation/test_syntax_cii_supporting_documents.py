"""CII-SR-474 (one invoiced object identifier, BT-128, per invoice line) and CII-SR-475/476 (one supporting document
description, BT-123, and one attached document, BT-125, among the header's supporting documents): warnings new in
release 1.3.16 of the CEN artefacts, counts over ram:AdditionalReferencedDocument[normalize-space(ram:TypeCode) = …]."""

from __future__ import annotations

from collections import Counter

from lxml import etree
from test_syntax_cii import cii, fired

from chalicelib.validation.document import Document
from chalicelib.validation.findings import WARNING
from chalicelib.validation.parsing import parse_xml
from chalicelib.validation.rules import syntax_cii

LINE_SETTLEMENT = "<ram:SpecifiedLineTradeSettlement>"
AFTER_BUYER = "</ram:BuyerTradeParty>"


def ard(type_code: str | None, extra: str = "", ref: str = "x") -> str:
    code = "" if type_code is None else f"<ram:TypeCode>{type_code}</ram:TypeCode>"
    return (
        f"<ram:AdditionalReferencedDocument><ram:IssuerAssignedID>{ref}</ram:IssuerAssignedID>{code}{extra}"
        "</ram:AdditionalReferencedDocument>"
    )


def binary(name: str = "a.pdf") -> str:
    return f'<ram:AttachmentBinaryObject mimeCode="application/pdf" filename="{name}">QUJD</ram:AttachmentBinaryObject>'


def edited(doc: Document, old: str, new: str, occurrence: int = 1) -> Document:
    """``doc`` with its ``occurrence``-th ``old`` (1-based) replaced by ``new``."""
    xml = etree.tostring(doc.root).decode()
    at = -1
    for _ in range(occurrence):
        at = xml.index(old, at + 1)
    return Document("cii", parse_xml((xml[:at] + new + xml[at + len(old) :]).encode()), None)


def with_line_documents(*documents: str, lines: int = 1, line: int = 1) -> Document:
    """An invoice whose ``line``-th line settlement (BG-25) starts with these ram:AdditionalReferencedDocument."""
    return edited(cii(lines=lines), LINE_SETTLEMENT, LINE_SETTLEMENT + "".join(documents), line)


def with_header_documents(*documents: str) -> Document:
    """An invoice whose header agreement ends with these ram:AdditionalReferencedDocument (BT-17, BT-18, BG-24)."""
    return edited(cii(), AFTER_BUYER, AFTER_BUYER + "".join(documents))


def findings(doc: Document, rule: str) -> list:
    return [f for f in syntax_cii.check(doc) if f.rule == rule]


# ----------------------------------------------------------------------------- CII-SR-474 (line, BT-128)
def test_two_invoiced_object_identifiers_on_one_line_are_a_warning_at_the_second():
    found = findings(with_line_documents(ard("130", ref="A"), ard("130", ref="B")), "CII-SR-474")
    assert [(f.rule, f.severity) for f in found] == [("CII-SR-474", WARNING)]
    assert found[0].location.endswith(
        "ram:IncludedSupplyChainTradeLineItem/ram:SpecifiedLineTradeSettlement/ram:AdditionalReferencedDocument[2]"
    )
    assert "BT-128" in found[0].message


def test_one_invoiced_object_identifier_per_line_is_fine():
    assert fired(with_line_documents(ard("130"))) == Counter()
    # one per line on two lines: the count is per line (the rule's context), not per invoice
    doc = edited(with_line_documents(ard("130"), lines=2), LINE_SETTLEMENT, LINE_SETTLEMENT + ard("130"), 2)
    assert fired(doc) == Counter()


def test_it_fires_once_per_line_and_only_on_the_line_concerned():
    three = with_line_documents(ard("130"), ard("130"), ard("130"))
    assert fired(three) == Counter({"CII-SR-474": 1})
    second = with_line_documents(ard("130"), ard("130"), lines=2, line=2)
    found = findings(second, "CII-SR-474")
    assert len(found) == 1
    assert "ram:IncludedSupplyChainTradeLineItem[2]/" in found[0].location
    both = edited(second, LINE_SETTLEMENT, LINE_SETTLEMENT + ard("130") + ard("130"), 1)
    assert fired(both) == Counter({"CII-SR-474": 2})


def test_the_type_code_is_compared_after_normalize_space():
    # (CII-DT-018 compares the raw text: ' 130 ' is no allowed type code there, a fatal of its own)
    spaced = with_line_documents(ard("130"), ard("\n  130 \t"))
    assert fired(spaced) == Counter({"CII-SR-474": 1, "CII-DT-018": 1})
    # inner spaces are not removed: '1 30' is another code
    assert fired(with_line_documents(ard("130"), ard("1 30"))) == Counter({"CII-DT-018": 1})


def test_only_documents_with_type_code_130_count():
    assert fired(with_line_documents(ard("130"), ard("916"))) == Counter()
    assert fired(with_line_documents(ard(None), ard(None))) == Counter()
    assert fired(with_line_documents(ard("130"), ard(None), ard("50"))) == Counter()


def test_the_first_type_code_of_a_document_is_the_one_compared():
    # two ram:TypeCode in one document (schema-invalid): the first is read, as for the VAT breakdowns' TypeCode
    first_130 = "<ram:TypeCode>916</ram:TypeCode>"
    assert fired(with_line_documents(ard("130", first_130), ard("130"))) == Counter({"CII-SR-474": 1})
    second_130 = "<ram:TypeCode>130</ram:TypeCode>"
    assert fired(with_line_documents(ard("916", second_130), ard("130"))) == Counter()


def test_header_invoiced_object_identifiers_are_not_line_ones():
    # two BT-18 in the header agreement: CII-SR-458 (an existing rule), never CII-SR-474
    assert fired(with_header_documents(ard("130"), ard("130"))) == Counter({"CII-SR-458": 1})


# ----------------------------------------------------------------------------- CII-SR-475/476 (header, BG-24)
def test_two_supporting_document_descriptions_are_a_warning_at_the_second():
    doc = with_header_documents(ard("916", "<ram:Name>RIB</ram:Name>"), ard("916", "<ram:Name>Note</ram:Name>"))
    found = findings(doc, "CII-SR-475")
    assert [(f.rule, f.severity) for f in found] == [("CII-SR-475", WARNING)]
    assert found[0].location.endswith("ram:ApplicableHeaderTradeAgreement/ram:AdditionalReferencedDocument[2]/ram:Name")
    assert "BT-123" in found[0].message
    assert fired(doc) == Counter({"CII-SR-475": 1})


def test_two_attached_documents_are_a_warning_at_the_second():
    doc = with_header_documents(ard("916", binary("a.pdf")), ard("916", binary("b.pdf")))
    found = findings(doc, "CII-SR-476")
    assert [(f.rule, f.severity) for f in found] == [("CII-SR-476", WARNING)]
    assert found[0].location.endswith(
        "ram:ApplicableHeaderTradeAgreement/ram:AdditionalReferencedDocument[2]/ram:AttachmentBinaryObject"
    )
    assert "BT-125" in found[0].message
    assert fired(doc) == Counter({"CII-SR-476": 1})


def test_one_supporting_document_with_a_description_and_an_attachment_is_fine():
    assert fired(with_header_documents(ard("916", "<ram:Name>RIB</ram:Name>" + binary()))) == Counter()
    # and so is one document with a description beside one with an attachment
    doc = with_header_documents(ard("916", "<ram:Name>RIB</ram:Name>"), ard("916", binary()))
    assert fired(doc) == Counter()


def test_the_counts_run_over_every_supporting_document_and_within_one():
    # the official test counts ram:AdditionalReferencedDocument[…916]/ram:Name: two descriptions in one document
    # count as much as one in each of two documents
    one = with_header_documents(ard("916", "<ram:Name>A</ram:Name><ram:Name>B</ram:Name>" + binary() + binary()))
    assert fired(one) == Counter({"CII-SR-475": 1, "CII-SR-476": 1})
    both = with_header_documents(
        ard("916", "<ram:Name>A</ram:Name>" + binary()), ard("916", "<ram:Name>B</ram:Name>" + binary())
    )
    assert fired(both) == Counter({"CII-SR-475": 1, "CII-SR-476": 1})
    three = with_header_documents(*(ard("916", "<ram:Name>A</ram:Name>") for _ in range(3)))
    assert fired(three) == Counter({"CII-SR-475": 1})


def test_supporting_documents_are_told_by_their_normalized_type_code():
    doc = with_header_documents(ard("916", "<ram:Name>A</ram:Name>"), ard(" 916\n", "<ram:Name>B</ram:Name>"))
    # (CII-DT-018 and CII-DT-021 compare the raw text: ' 916 ' is no supporting document there, fatals of their own)
    assert fired(doc) == Counter({"CII-SR-475": 1, "CII-DT-018": 1, "CII-DT-021": 1})
    # a description on a document of another type is CII-DT-021's (fatal), not counted here
    other = with_header_documents(ard("916", "<ram:Name>A</ram:Name>"), ard("130", "<ram:Name>B</ram:Name>"))
    assert fired(other) == Counter({"CII-DT-021": 1})
    untyped = with_header_documents(ard("916", binary()), ard(None, binary()))
    assert fired(untyped) == Counter({"CII-DT-022": 1})


def test_line_documents_are_not_supporting_documents():
    # BG-24 is the header's; on a line, ram:Name and an attachment are CII-DT-021/022 (fatal) only
    line = with_line_documents(ard("916", "<ram:Name>A</ram:Name>"), ard("916", "<ram:Name>B</ram:Name>"))
    assert "CII-SR-475" not in fired(line)


def test_the_rules_pass_the_suspect_filter_and_clean_invoices_skip_them(monkeypatch):
    # the line settlement's and the header agreement's rules run only when what the pass collected can break one
    checked = []
    part_rules = syntax_cii._part_rules
    monkeypatch.setattr(syntax_cii, "_part_rules", lambda name, *args: checked.append(name) or part_rules(name, *args))
    assert fired(with_line_documents(ard("130"), lines=2)) == Counter()
    assert fired(with_header_documents(ard("916", "<ram:Name>A</ram:Name>" + binary()))) == Counter()
    assert "line_settlement" not in checked
