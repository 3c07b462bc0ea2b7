"""A JSON invoice note's subject code (BT-21) is a UNTDID 4451 code, as the engine checks it in a CII (BR-CL-08);
review r33 F3. No AWS."""

from __future__ import annotations

import json

import pytest
from structured_invoices import cii_invoice, json_invoice

from chalicelib.formats import json_invoice as json_format
from chalicelib.formats import ubl_writer
from chalicelib.services import intake
from chalicelib.services.errors import Unprocessable
from chalicelib.validation import codes, validate


def test_the_schema_s_note_subject_codes_are_the_engine_s_list():
    """One list: the schema's enum is the engine's UNTDID 4451 list (BR-CL-08), code for code."""
    enum = json_format.schema()["$defs"]["note_subject_code"]["enum"]
    assert enum == sorted(codes.members(codes.UNTDID_4451))
    note = json_format.schema()["properties"]["notes"]["items"]["properties"]["subject_code"]
    assert note["$ref"] == "#/$defs/note_subject_code"


def _with_note(code: str) -> dict:
    document = json_invoice("J-NOTE")
    document["notes"] = [{"subject_code": code, "text": "Maintenance"}]
    return document


@pytest.mark.parametrize("code", ["QQQ", "AAI#PMT", "aai", " AAI", "#", ""])
def test_a_note_subject_code_outside_untdid_4451_is_a_422_with_its_pointer(code):
    """It was taken (203) while the same note in a CII is a 213 (BR-CL-08); and "AAI#PMT" was written
    <cbc:Note>#AAI#PMT#Maintenance</cbc:Note>, which the #code# convention reads as code AAI, text PMT#Maintenance."""
    errors = json_format.schema_errors(_with_note(code))
    assert [(e.pointer, e.keyword) for e in errors] == [("/notes/0/subject_code", "enum")]
    assert "UNTDID 4451" in errors[0].message and len(errors[0].message) < json_format.MAX_ERROR_TEXT
    with pytest.raises(Unprocessable):
        intake.prepare(json.dumps(_with_note(code)).encode(), "application/json")


def test_the_same_code_is_refused_in_a_cii_by_the_engine():
    cii = cii_invoice("C-NOTE").replace(
        b"</ram:IssueDateTime>",
        b"</ram:IssueDateTime><ram:IncludedNote><ram:Content>Maintenance</ram:Content>"
        b"<ram:SubjectCode>QQQ</ram:SubjectCode></ram:IncludedNote>",
    )
    assert "BR-CL-08" in {f.rule for f in validate(cii).findings}


def test_a_code_of_the_list_is_written_as_the_hash_code_hash_note():
    assert json_format.schema_errors(_with_note("PMT")) == []
    assert b"<cbc:Note>#PMT#Maintenance</cbc:Note>" in ubl_writer.to_ubl(_with_note("PMT"))
