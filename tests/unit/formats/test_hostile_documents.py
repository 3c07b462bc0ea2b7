"""Hostile documents are refused with a clear reason, within bounded memory: a Factur-X PDF whose embedded XML
inflates far beyond the XML limit, an XML over the one invoice document limit or its node cap."""

import io
import zlib

import pytest
from memory import refusal_and_peak
from structured_invoices import facturx_pdf, pdf_bomb, pdf_objstm_bomb, with_object_streams

from chalicelib.formats import facturx
from chalicelib.services import intake
from chalicelib.services.errors import InvalidInput, Unprocessable
from chalicelib.validation import parsing


def test_a_facturx_pdf_whose_xml_inflates_past_the_limit_is_refused_without_inflating_it():
    pdf = pdf_bomb(64 * parsing.MAX_XML_BYTES // 4)  # 64 MiB of XML in a PDF of a few hundred KB
    assert len(pdf) < 1024 * 1024
    refused, peak = refusal_and_peak(pdf, "application/pdf")
    assert refused.extra["reason"] == "too-large"
    assert "factur-x.xml" in refused.detail and str(parsing.MAX_XML_BYTES) in refused.detail
    assert peak < 4 * parsing.MAX_XML_BYTES  # never the whole 64 MiB


def test_an_embedded_xml_just_under_the_limit_is_still_read():
    pdf = pdf_bomb(parsing.MAX_XML_BYTES - 1024 * 1024)
    extracted = facturx.extract(pdf)  # a CII root (not a complete invoice: the rules will say so)
    assert extracted.filename == "factur-x.xml" and len(extracted.xml) < parsing.MAX_XML_BYTES


def test_a_pdf_of_many_object_streams_each_under_pypdfs_limit_is_refused_on_the_documents_budget():
    """pypdf's limits are per stream: 12 object streams of 16 MiB of padding (198 KB of PDF) took 21 s and +224 MiB,
    pypdf inflating and parsing each whole. The document's object streams share one budget."""
    pdf = pdf_objstm_bomb(3, 16 * 1024 * 1024 - 4096)
    assert len(pdf) < 64 * 1024
    refused, peak = refusal_and_peak(pdf, "application/pdf")
    assert peak < 4 * facturx.PDF_STRUCTURE_BUDGET  # never the 3 × 16 MiB: refused as the first stream passes it
    assert refused.extra["reason"] == "too-large"
    assert f"object streams inflate to more than {facturx.PDF_STRUCTURE_BUDGET} bytes" in refused.detail


class InflatedBytes:
    """Stands in for the zlib module of pypdf's filters, counting the bytes its decompressors give out."""

    def __init__(self):
        self.count = 0

    def __getattr__(self, name):
        return getattr(zlib, name)

    def decompressobj(self, *args, **kwargs):
        inner, counter = zlib.decompressobj(*args, **kwargs), self

        class Counted:
            def decompress(self, data, max_length=0):
                out = inner.decompress(data, max_length)
                counter.count += len(out)
                return out

            def __getattr__(self, name):
                return getattr(inner, name)

        return Counted()


def test_a_pdf_whose_xref_must_be_rebuilt_is_held_to_the_same_budget(monkeypatch):
    """With a broken startxref, pypdf rebuilds the xref by inflating every object stream of the file (16 MiB
    each, ~40 ms apiece: a 4 MiB deposit could hold ~250): those count against the document's budget too."""
    import pypdf.filters

    pdf = pdf_objstm_bomb(4, 16 * 1024 * 1024 - 4096)
    broken = pdf[: pdf.rindex(b"startxref")] + b"startxref\n999\n%%EOF\n"
    inflated = InflatedBytes()
    monkeypatch.setattr(pypdf.filters, "zlib", inflated)
    with pytest.raises(facturx.NoEmbeddedInvoice) as refused:
        facturx.extract(broken)
    assert refused.value.reason == "too-large" and "object streams" in refused.value.detail
    assert inflated.count <= facturx.PDF_STRUCTURE_BUDGET + 1024 * 1024  # not 4 × 16 MiB
    fine = with_object_streams(facturx_pdf(number="REBUILT-1"))
    assert b"REBUILT-1" in facturx.extract(fine[: fine.rindex(b"startxref")] + b"startxref\n999\n%%EOF\n").xml


def test_the_object_streams_budget_is_the_whole_documents(monkeypatch):
    """Streams each under the budget are refused once together they are over it; under it, the PDF is read."""
    monkeypatch.setattr(facturx, "PDF_STRUCTURE_BUDGET", 64 * 1024)
    with pytest.raises(facturx.NoEmbeddedInvoice) as refused:
        facturx.extract(pdf_objstm_bomb(4, 30 * 1024))
    assert refused.value.reason == "too-large" and "object streams" in refused.value.detail
    with pytest.raises(facturx.NoEmbeddedInvoice) as read:
        facturx.extract(pdf_objstm_bomb(2, 30 * 1024))
    assert read.value.reason == "no-embedded-invoice"  # read through: it simply embeds no invoice


def test_the_pdfs_of_a_flow_share_a_budget_and_none_is_read_once_it_is_spent(monkeypatch):
    """Each PDF is bounded alone (about a second of work), but a thousand such files in one archive would outlast
    the expanding function: a flow's PDFs share a budget of what they inflate to."""
    monkeypatch.setattr(facturx, "PDF_STRUCTURE_BUDGET", 64 * 1024)
    budget = facturx.FlowBudget(100 * 1024)
    reasons = []
    for pdf in [pdf_objstm_bomb(1, 60 * 1024)] * 2 + [facturx_pdf(number="AFTER-1")]:
        with budget.applied(), pytest.raises(facturx.NoEmbeddedInvoice) as refused:
            facturx.extract(pdf)
        reasons.append((refused.value.reason, "flow's PDF files" in refused.value.detail))
    assert reasons == [("no-embedded-invoice", False), ("no-embedded-invoice", False), ("too-large", True)]
    assert budget.left < 0
    assert facturx.extract(facturx_pdf(number="AFTER-1")).filename == "factur-x.xml"  # outside it: read


def test_a_facturx_pdf_whose_structure_is_in_object_streams_is_read():
    from pypdf import PdfReader

    pdf = with_object_streams(facturx_pdf(number="OBJSTM-1"))
    assert PdfReader(io.BytesIO(pdf)).xref_objStm  # the catalog, the name tree and the file spec are in them
    extracted = facturx.extract(pdf)
    assert extracted.filename == "factur-x.xml" and b"OBJSTM-1" in extracted.xml and extracted.complete


def test_xml_over_the_one_limit_is_refused_and_the_limit_fits_a_512_mb_function():
    assert parsing.MAX_XML_BYTES == 4 * 1024 * 1024
    with pytest.raises(parsing.UnreadableInvoice) as refused:
        parsing.parse_xml(b"<a>" + b" " * parsing.MAX_XML_BYTES + b"</a>")
    assert refused.value.code == "too-large"
    with pytest.raises(InvalidInput) as deposit:
        intake.prepare(b"<a>" + b" " * parsing.MAX_XML_BYTES + b"</a>", "application/xml")
    assert deposit.value.extra["reason"] == "too-large"


def test_a_json_invoice_over_the_same_limit_is_refused_before_it_is_read():
    body = b'{"number": "' + b"x" * parsing.MAX_XML_BYTES + b'"}'
    with pytest.raises(InvalidInput) as refused:
        intake.prepare(body, "application/json")
    assert refused.value.extra["reason"] == "too-large"


def test_dense_xml_is_refused_by_the_node_cap_as_a_deposit_an_archive_member_and_a_facturx_xml():
    dense = b"<a>" + b"<b/>" * parsing.MAX_XML_NODES + b"</a>"  # 1 MiB: far under the size limit
    for prepare in (lambda: intake.prepare(dense, "application/xml"), lambda: intake.prepare_member(dense)):
        with pytest.raises(InvalidInput) as refused:
            prepare()
        assert refused.value.extra["reason"] == "too-many-nodes" and str(parsing.MAX_XML_NODES) in refused.value.detail
    pdf = pdf_bomb(parsing.MAX_XML_BYTES // 2, filler=b"<a/>" * (1024 * 256))  # 512 k elements in 2 MiB
    with pytest.raises(Unprocessable) as refused:
        intake.prepare(pdf, "application/pdf")
    assert "factur-x.xml" in refused.value.detail and str(parsing.MAX_XML_NODES) in refused.value.detail


@pytest.mark.parametrize(
    "refused",
    [b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x/>', b'<Invoice xmlns="urn:ferd:CrossIndustryDocument"/>'],
    ids=["doctype", "zugferd-1-root"],
)
def test_a_refused_factur_x_xml_is_never_replaced_by_another_embedded_xml(refused):
    """Review finding: a credit note whose factur-x.xml was refused was validated as the invoice it credits, which
    it carried as facture-origine.xml (its verdict, summary, duplicate check and /xml were the other document's)."""
    from structured_invoices import cii_invoice, pdf_with_attachment

    pdf = pdf_with_attachment("factur-x.xml", refused, ("facture-origine.xml", cii_invoice(number="F-ORIGINE")))
    with pytest.raises(facturx.NoEmbeddedInvoice, match="embedded factur-x.xml"):
        facturx.extract(pdf)
    alone = pdf_with_attachment("invoice.xml", cii_invoice(number="F-OTHER-NAME"))  # no standard name: still read
    assert b"F-OTHER-NAME" in facturx.extract(alone).xml
