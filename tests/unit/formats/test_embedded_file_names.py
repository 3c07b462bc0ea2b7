"""Factur-X extraction finds the invoice by its file name (/UF, /F) as well as by its name-tree key (review r33 F4).
No AWS."""

from __future__ import annotations

import io

import pytest
from invoices import ubl_invoice
from structured_invoices import cii_invoice, facturx_pdf, pdf_with_attachment

from chalicelib.formats import facturx


def _rekeyed(pdf: bytes, key: str) -> bytes:
    """The PDF with its first embedded file keyed `key` in the EmbeddedFiles name tree; /F and /UF unchanged."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import TextStringObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer._root_object["/Names"]["/EmbeddedFiles"]["/Names"][0] = TextStringObject(key)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("key", ["Attachment1", "invoice.xml"])
def test_the_invoice_is_found_by_its_file_name_whatever_its_name_tree_key(key):
    """The PDF allows any key; Factur-X names the file by /F and /UF. Keyed otherwise, it was "no embedded
    factur-x.xml", or read as any *.xml rather than as the file the standard names."""
    extracted = facturx.extract(_rekeyed(facturx_pdf(number="FX-KEY"), key))
    assert extracted.filename == "factur-x.xml" and b"FX-KEY" in extracted.xml


def test_a_refused_file_is_named_by_its_file_name_and_is_not_replaced_by_another_xml():
    pdf = _rekeyed(pdf_with_attachment("factur-x.xml", ubl_invoice("U-1"), ("zz-other.xml", b"<a/>")), "Attachment1")
    with pytest.raises(facturx.NoEmbeddedInvoice, match="embedded factur-x.xml is not a CII invoice"):
        facturx.extract(pdf)


def test_a_file_named_neither_way_as_xml_is_not_read():
    pdf = _rekeyed(pdf_with_attachment("notes.txt", b"hello"), "Attachment1")
    with pytest.raises(facturx.NoEmbeddedInvoice, match="has no embedded factur-x.xml"):
        facturx.extract(pdf)


@pytest.mark.parametrize("invoice_name", ["factur-x.xml", "ZUGFeRD-invoice.xml"])
def test_the_standard_named_invoice_wins_over_another_cii_listed_before_it(invoice_name):
    """A Factur-X PDF also embedding another CII (an order, an earlier invoice) under a name that
    sorts first: the invoice read is the file the standard names (in any letter case), not the first *.xml."""
    pdf = pdf_with_attachment("0-earlier-invoice.xml", cii_invoice("OTHER-1"), (invoice_name, cii_invoice("FX-REAL")))
    extracted = facturx.extract(pdf)
    assert extracted.filename == invoice_name and b"FX-REAL" in extracted.xml


def test_an_upper_case_xml_extension_is_read():
    """'FACTUR-X.XML' (as some Windows tools write it) is the invoice, not 'no embedded invoice'."""
    extracted = facturx.extract(pdf_with_attachment("FACTUR-X.XML", cii_invoice("FX-UPPER")))
    assert extracted.filename == "FACTUR-X.XML" and b"FX-UPPER" in extracted.xml


def test_only_the_first_eight_embedded_xml_files_are_read():
    """a PDF of many non-invoice XMLs costs at most MAX_CANDIDATES reads: a 9th is never looked at."""
    junk = [(f"{i:02d}.xml", b"<a/>") for i in range(8)]  # the documented 8, not the constant
    pdf = pdf_with_attachment(*junk[0], *junk[1:], ("zz.xml", cii_invoice("FX-NINTH")))
    with pytest.raises(facturx.NoEmbeddedInvoice):
        facturx.extract(pdf)
