"""Review r33 (format fidelity), fixed: each format gets the verdict the others give for the same content."""

from __future__ import annotations

import io
import json

import pytest
from demo import MAIRIE_KEY
from structured_invoices import cii_invoice, facturx_pdf, json_invoice, pdf_with_attachment
from test_flows import files_by_name, flow_pump, get_flow, make_zip, post_flow, run_pipeline  # noqa: F401 - flow_pump is a fixture
from test_formats import download, invoice, post, process

from chalicelib.formats import facturx


@pytest.mark.parametrize(
    "old, new",
    [
        (b"urn:factur-x.eu:1p0:minimum<", b"\n  urn:factur-x.eu:1p0:minimum\n<"),  # pretty-printed
        (b"urn:factur-x.eu:1p0:minimum<", b"urn:factur-x.eu:1p0:MINIMUM<"),  # the level in upper case
    ],
)
def test_f2_a_minimum_guideline_with_blanks_or_in_upper_case_is_213_as_a_pdf_and_as_xml(client, pump, old, new):
    """It was 203: the profile came out "unknown", so the MINIMUM document passed for a complete invoice."""
    cii = cii_invoice("FX-MIN", profile="minimum").replace(old, new)
    assert new in cii
    deposits = [
        post(client, pdf_with_attachment("factur-x.xml", cii), "application/pdf"),
        post(client, cii, "application/xml"),
    ]
    ids = [json.loads(d.body)["id"] for d in deposits]
    process(pump)
    for invoice_id in ids:
        done = invoice(client, invoice_id)
        assert done["status"]["code"] == 213 and [e["rule"] for e in done["errors"]] == [facturx.PROFILE_RULE]


def test_f3_a_note_subject_code_a_cii_would_have_rejected_is_a_422_in_json(client, pump):
    """It was 203 (and "AAI#PMT" was written <cbc:Note>#AAI#PMT#Maintenance</cbc:Note>)."""
    for code in ("QQQ", "AAI#PMT"):
        doc = json_invoice(f"J-NOTE-{code}")
        doc["notes"] = [{"subject_code": code, "text": "Maintenance"}]
        response = post(client, json.dumps(doc).encode(), "application/json")
        assert response.status_code == 422, response.body
        assert "/notes/0/subject_code" in {e["pointer"] for e in json.loads(response.body)["errors"]}
    doc = json_invoice("J-NOTE-OK")
    doc["notes"] = [{"subject_code": "PMT", "text": "Maintenance"}]
    created = json.loads(post(client, json.dumps(doc).encode(), "application/json").body)
    process(pump)
    assert invoice(client, created["id"])["status"]["code"] == 203
    assert b"<cbc:Note>#PMT#Maintenance</cbc:Note>" in download(client, f"/v1/invoices/{created['id']}/xml", MAIRIE_KEY)


def _rekeyed(pdf: bytes, key: str) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import TextStringObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer._root_object["/Names"]["/EmbeddedFiles"]["/Names"][0] = TextStringObject(key)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_f4_a_facturx_pdf_keyed_otherwise_in_its_name_tree_is_read_by_its_file_name(client, pump):
    """It was a 422 "The PDF has no embedded factur-x.xml" (/F and /UF named it; the name-tree key did not)."""
    response = post(client, _rekeyed(facturx_pdf(number="FX-KEY"), "Attachment1"), "application/pdf")
    assert response.status_code == 202, response.body
    process(pump)
    done = invoice(client, json.loads(response.body)["id"])
    assert done["status"]["code"] == 203 and done["number"] == "FX-KEY"


def test_f5_a_pdf_padded_after_its_eof_is_an_invoice_in_a_flow_as_it_is_deposited(client, flow_pump):  # noqa: F811
    """It was "bytes of no recognised format" in a flow (%%EOF was looked for in the last 2 KB only)."""
    padded = facturx_pdf(number="FX-PAD") + b"\r\n" + b" " * 4096
    flow = json.loads(post_flow(client, make_zip([("padded.pdf", padded)])).body)
    run_pipeline(flow_pump)
    files = files_by_name(json.loads(get_flow(client, flow["id"]).body))
    assert files["padded.pdf"]["status_code"] == 203, files["padded.pdf"]
