"""The UBL reader follows EN 16931-3-2's CreditNote bindings where they differ from the Invoice's.

A UBL 2.1 CreditNote has no cbc:DueDate and no cac:ProjectReference: BT-9 is cac:PaymentMeans/cbc:PaymentDueDate and
BT-11 a cac:AdditionalDocumentReference of cbc:DocumentTypeCode 50 (as in the official CreditNote-Max_content test
file). BT-17 is cac:OriginatorDocumentReference in both documents.
"""

from __future__ import annotations

from datetime import date

from chalicelib.validation.parsing import detect_syntax, parse_xml
from chalicelib.validation.readers import read_invoice

NS = (
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"'
)
PROJECT = "<cac:AdditionalDocumentReference><cbc:ID>PRJ-7</cbc:ID><cbc:DocumentTypeCode>50</cbc:DocumentTypeCode>"
PROJECT += "</cac:AdditionalDocumentReference>"
TENDER = "<cac:OriginatorDocumentReference><cbc:ID>LOT-3</cbc:ID></cac:OriginatorDocumentReference>"
MEANS = "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>{due}</cac:PaymentMeans>"


def _read(document: str, body: str):
    xmlns = f"urn:oasis:names:specification:ubl:schema:xsd:{document}-2"
    root = parse_xml(f'<{document} xmlns="{xmlns}" {NS}><cbc:ID>N-1</cbc:ID>{body}</{document}>'.encode())
    return read_invoice(root, *detect_syntax(root))


def test_a_credit_note_reads_bt9_from_its_payment_means():
    inv = _read(
        "CreditNote",
        MEANS.format(due="")
        + MEANS.format(due="<cbc:PaymentDueDate>2026-05-31</cbc:PaymentDueDate>")
        + MEANS.format(due="<cbc:PaymentDueDate>2026-06-30</cbc:PaymentDueDate>"),
    )
    assert inv.due_date.value == date(2026, 5, 31)  # the first one given
    assert inv.due_date.el.tag.endswith("PaymentDueDate")


def test_an_invoice_reads_bt9_from_its_due_date_only():
    due = "<cbc:PaymentDueDate>2026-05-31</cbc:PaymentDueDate>"  # not bound in an Invoice (UBL-CR-412)
    assert _read("Invoice", MEANS.format(due=due)).due_date is None
    inv = _read("Invoice", "<cbc:DueDate>2026-04-30</cbc:DueDate>" + MEANS.format(due=due))
    assert inv.due_date.value == date(2026, 4, 30)


def test_a_credit_note_reads_a_document_reference_of_type_50_as_its_project_reference_bt11():
    inv = _read("CreditNote", PROJECT + TENDER)
    assert inv.project_reference.text == "PRJ-7"
    assert inv.tender_reference.text == "LOT-3"  # BT-17
    assert inv.supporting_documents == []
    assert [d.id.text for d in inv.document_references] == ["PRJ-7"]


def test_an_invoice_reads_bt11_from_its_project_reference_and_a_type_50_reference_as_a_supporting_document():
    project = "<cac:ProjectReference><cbc:ID>PRJ-8</cbc:ID></cac:ProjectReference>"
    inv = _read("Invoice", PROJECT + TENDER + project)
    assert inv.project_reference.text == "PRJ-8"
    assert inv.tender_reference.text == "LOT-3"
    assert [(d.id.text, d.type_code.text) for d in inv.supporting_documents] == [("PRJ-7", "50")]
