"""The UBL syntax pass's walk and its per-process tables (syntax_ubl._entry and the tables it fills)."""

from __future__ import annotations

from collections import Counter

from lxml import etree
from test_syntax_ubl import LINE, NS, SELLER, fired, ubl

from chalicelib.validation.document import Document
from chalicelib.validation.parsing import parse_xml
from chalicelib.validation.rules import syntax_ubl

# one UBL-CR rule of each kind: anchored at the document element (UBL-CR-005), below a line (UBL-CR-565), under a
# seller's party (UBL-CR-143), under the payee (UBL-CR-272), anywhere with a predicate on an ancestor (UBL-CR-666),
# an attribute (UBL-CR-663); and context rules (UBL-SR-08 from the document element, UBL-SR-34 in a line, UBL-SR-51
# in an address, UBL-SR-19/20/21 of the payee)
NOISY = (
    "<cbc:UUID>u</cbc:UUID><cac:InvoicePeriod/><cac:InvoicePeriod/>"
    + SELLER.replace("<cac:Party>", "<cac:Party><cbc:WebsiteURI>w</cbc:WebsiteURI>")
    + "<cac:AdditionalDocumentReference><cbc:ID>1</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode>"
    "<cac:Attachment/></cac:AdditionalDocumentReference>"
    + "<cac:PayeeParty><cac:PostalAddress><cac:AddressLine/><cac:AddressLine/></cac:PostalAddress></cac:PayeeParty>"
    + LINE.replace(
        "<cbc:Name>Item</cbc:Name>", "<cbc:Name>Item</cbc:Name><cbc:CatalogueIndicator>1</cbc:CatalogueIndicator>"
    ).replace(
        "<cbc:ID>1</cbc:ID>", '<cbc:ID>1</cbc:ID><cbc:Note>a</cbc:Note><cbc:Note unitCodeListID="x">b</cbc:Note>', 1
    )
)
EXPECTED = Counter(
    {
        "UBL-CR-005": 1,
        "UBL-CR-143": 1,
        "UBL-CR-272": 1,
        "UBL-CR-565": 1,
        "UBL-CR-663": 1,
        "UBL-CR-666": 1,
        "UBL-SR-08": 1,
        "UBL-SR-19": 1,
        "UBL-SR-20": 1,
        "UBL-SR-21": 1,
        "UBL-SR-34": 1,
        "UBL-SR-51": 1,
    }
)


def _made_up_tags(count: int) -> Document:
    return ubl("".join(f"<cbc:Made{i} schemeName='x'><cbc:Up{i}/></cbc:Made{i}>" for i in range(count)))


def test_a_document_full_of_made_up_tags_does_not_leave_the_tables_full(monkeypatch):
    # the tables are bounded; a document that fills them leaves them to the next one empty, so an invoice validated
    # after it is back to cached entries from its second validation on
    monkeypatch.setattr(syntax_ubl._TABLES, "limit", 300)
    syntax_ubl._TABLES.forget()
    try:
        assert fired(_made_up_tags(400)) == Counter({"UBL-DT-08": 1})
        assert syntax_ubl._TABLES.kept == 300  # full
        assert fired(ubl(NOISY)) == EXPECTED
        assert syntax_ubl._TABLES.kept < 300
        built = []
        entry = syntax_ubl._entry
        monkeypatch.setattr(syntax_ubl, "_entry", lambda *args: built.append(args[1]) or entry(*args))
        assert fired(ubl(NOISY)) == EXPECTED
        assert built == []
        # and the same findings from full tables (entries built element by element) and from emptied ones
        assert fired(_made_up_tags(400)) == Counter({"UBL-DT-08": 1})
        assert fired(ubl(NOISY)) == EXPECTED
        assert fired(_made_up_tags(400)) == Counter({"UBL-DT-08": 1})
    finally:
        syntax_ubl._TABLES.forget()


def test_the_walk_counts_comments_and_processing_instructions_among_the_children():
    # the pass tells each node's parent from the children counts: comments and processing instructions (last children
    # included) must not shift the elements after them to another parent
    plain = ubl(NOISY)
    assert fired(plain) == EXPECTED
    root = plain.root
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        el.append(etree.Comment("last"))
        el.insert(0, etree.ProcessingInstruction("pi", "first"))
    assert fired(Document("ubl", parse_xml(etree.tostring(root)), None)) == EXPECTED


def test_a_root_with_a_parent_reads_the_cr_paths_from_the_document_element():
    # anchored UBL-CR paths start at the document element (here the wrapper: none holds), the document element's
    # cardinalities at the root the pass is given; the wrapper, a context tag, is no context (the pass does not meet it)
    wrapper = etree.Element("{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}Party")
    wrapper.append(
        parse_xml(f'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" {NS}/>'.encode())
    )
    wrapper[0].append(etree.Comment("c"))
    for child in ubl(NOISY + "<cac:PartyTaxScheme/><cac:PartyTaxScheme/><cac:PartyTaxScheme/>").root:
        wrapper[0].append(child)
    wrapper.append(etree.Comment("after"))
    found = Counter(f.rule for f in syntax_ubl._check_ubl(wrapper[0]))
    assert found == EXPECTED - Counter({"UBL-CR-005": 1, "UBL-CR-143": 1, "UBL-CR-272": 1, "UBL-CR-565": 1}) + Counter(
        {"UBL-SR-53": 3}
    )


def test_a_credit_note_line_is_a_line_and_a_credit_note_may_carry_a_payment_due_date_in_its_payment_means():
    means = (
        "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>"
        "<cbc:PaymentDueDate>2020-01-01</cbc:PaymentDueDate></cac:PaymentMeans>"
    )
    line = LINE.replace("InvoiceLine", "CreditNoteLine").replace(
        "<cbc:Name>", "<cbc:PackQuantity>1</cbc:PackQuantity><cbc:Name>"
    )
    assert fired(ubl(means + LINE))["UBL-CR-412"] == 1
    credit = fired(ubl(means + line, root="CreditNote"))
    assert credit["UBL-CR-412"] == 0
    assert credit["UBL-CR-563"] == 1
