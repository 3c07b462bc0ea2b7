"""Content sniffing and the format checks of deposits (no AWS)."""

from __future__ import annotations

import json

import pytest
from invoices import ubl_invoice
from structured_invoices import blank_pdf, cii_invoice, facturx_pdf, json_invoice

from chalicelib.formats import facturx, sniffing
from chalicelib.services import intake
from chalicelib.services.errors import InvalidInput, Unprocessable, UnsupportedMediaType


@pytest.mark.parametrize(
    "data, kind",
    [
        (b'<?xml version="1.0"?><a/>', "xml"),
        (b"\xef\xbb\xbf  <a/>", "xml"),
        (b' {"a": 1}', "json"),
        (b"PK\x03\x04rest", "zip"),
        (b"\x1f\x8b\x08rest", "gzip"),
        (b"%PDF-1.7 no trailer", "unknown"),  # a PDF needs its header and its %%EOF
        (b"%PDF-1.7 %%EOF" + b"\0" * (sniffing.PDF_TRAILER_WINDOW - 5), "pdf"),  # bytes after %%EOF (review r33)
        (b"%PDF-1.7 %%EOF" + b"\0" * (sniffing.PDF_TRAILER_WINDOW - 4), "unknown"),  # the look is bounded
        (b"hello", "unknown"),
        (b"", "unknown"),
        # review finding: UTF-16 BE and UTF-32 XML passed a deposit's parser but not the sniffing of flows
        ('<?xml version="1.0"?><a/>'.encode("utf-16"), "xml"),
        (b"\xfe\xff" + " <a/>".encode("utf-16-be"), "xml"),
        ("<a/>".encode("utf-16-be"), "xml"),
        ("<a/>".encode("utf-16-le"), "xml"),
        ("\n<a/>".encode("utf-32"), "xml"),
        ('{"a": 1}'.encode("utf-16"), "json"),
    ],
)
def test_sniff(data, kind):
    assert sniffing.sniff(data) == kind


def test_a_zip_of_uncompressed_pdfs_is_a_zip_not_a_pdf():
    """Review finding: its first member's %PDF- and its last's %%EOF made it one PDF: the other invoices were lost."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for n in range(3):
            archive.writestr(f"invoice-{n}.pdf", blank_pdf())
    assert sniffing.sniff(buffer.getvalue()) == "zip"


def test_real_pdf_is_sniffed_as_pdf():
    assert sniffing.sniff(blank_pdf()) == "pdf"


@pytest.mark.parametrize("before", [b"", b"\r\n"])
@pytest.mark.parametrize("after", [b"\r\n" + b" " * 4096, b"\0" * 30_000, b"trailer of a signing tool " * 200])
def test_a_pdf_with_bytes_after_its_eof_is_a_pdf_in_a_flow_as_it_is_deposited(before, after):
    """Review r33 F5: more than 2 KB after %%EOF made the PDF "bytes of no recognised format" as an archive member,
    while POST /v1/invoices (application/pdf) took it."""
    pdf = before + facturx_pdf(number="FX-PAD") + after
    assert sniffing.sniff(pdf) == "pdf"
    assert intake.prepare_member(pdf).format == intake.prepare(pdf, "application/pdf").format == "facturx"


@pytest.mark.parametrize(
    "content_type, media",
    [
        (None, ""),  # no header
        ("", ""),
        ("   ", ""),
        (";charset=utf-8", ""),  # parameters without a type
        ("application/json", "application/json"),
        ("application/json; charset=utf-8", "application/json"),
        ("application/json;charset=utf-8;q=1", "application/json"),
        ('multipart/form-data; boundary="a;b"', "multipart/form-data"),
        ("Application/XML", "application/xml"),
        ("TEXT/XML; Charset=ISO-8859-1", "text/xml"),
        ("  application/pdf  ", "application/pdf"),
        ("\tapplication/zip ;charset=binary", "application/zip"),
        ("application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.text"),
    ],
)
def test_media_type_of_a_content_type_header(content_type, media):
    assert sniffing.media_type(content_type) == media


def test_prepare_each_format():
    assert intake.prepare(ubl_invoice(), "application/xml").format == "ubl"
    assert intake.prepare(cii_invoice(), "text/xml").format == "cii"
    pdf = intake.prepare(facturx_pdf(), "application/pdf")
    assert (
        pdf.format == "facturx"
        and pdf.rendition.startswith(b"<?xml")
        and pdf.metadata == {intake.META_PROFILE: "en16931"}
    )
    structured = intake.prepare(json.dumps(json_invoice()).encode(), "application/json")
    assert structured.format == "json" and b"<Invoice" in structured.rendition


def test_mismatch_is_415_with_what_was_found():
    with pytest.raises(UnsupportedMediaType) as refused:
        intake.prepare(json.dumps(json_invoice()).encode(), "application/xml")
    assert refused.value.extra == {"declared": "application/xml", "found": "json"}
    assert "send it as application/json" in refused.value.detail


def test_refusals():
    with pytest.raises(Unprocessable, match="factur-x.xml"):
        intake.prepare(blank_pdf(), "application/pdf")
    with pytest.raises(Unprocessable) as schema:
        intake.prepare(b'{"number": 1}', "application/json")
    assert {"pointer": "/number", "message": "1 is not of type 'string'", "keyword": "type"} in schema.value.extra[
        "errors"
    ]
    with pytest.raises(InvalidInput):
        intake.prepare(b"{", "application/json")
    with pytest.raises(UnsupportedMediaType, match="nested archives"):
        intake.prepare_member(b"PK\x03\x04....")


@pytest.mark.parametrize("profile, complete", [("minimum", False), ("basicwl", False), ("basic", True),
                                               ("en16931", True), ("extended", True)])  # fmt: skip
def test_facturx_profiles(profile, complete):
    extracted = facturx.extract(facturx_pdf(profile=profile))
    assert extracted.profile == profile and extracted.complete is complete
    assert (facturx.profile_refusal(extracted) is None) is complete


def test_the_routes_media_types_are_sniffing_s():
    """One list of what each kind is declared with: the deposit and flow routes cannot disagree with sniffing."""
    from chalicelib.services import deposit
    from chalicelib.services import flows as flow_service

    archive_types = sniffing.MEDIA_TYPES[sniffing.ZIP] + sniffing.MEDIA_TYPES[sniffing.GZIP]
    assert flow_service.ARCHIVE_MEDIA_TYPES == archive_types and "application/x-tar+gzip" in archive_types
    assert {sniffing.kind_of_media(m) for m in flow_service.ARCHIVE_MEDIA_TYPES} == {sniffing.ZIP, sniffing.GZIP}
    assert deposit.XML_MEDIA_TYPES == sniffing.MEDIA_TYPES[sniffing.XML]
    assert (intake.XML_MEDIA, intake.PDF_MEDIA, intake.JSON_MEDIA) == tuple(
        intake.media_for(kind) for kind in (sniffing.XML, sniffing.PDF, sniffing.JSON)
    )
    declared = {sniffing.kind_of_media(m) for m in deposit.SUPPORTED_MEDIA_TYPES}
    assert declared == set(intake.INVOICE_KINDS)


LATIN1_UBL = ubl_invoice().decode().replace('<?xml version="1.0" encoding="UTF-8"?>', "").encode("iso-8859-1")


@pytest.mark.parametrize(
    "charset, advice",
    [("ISO-8859-1", 'in the XML declaration (<?xml version="1.0" encoding="ISO-8859-1"?>) or send UTF-8.'),
     ("klingon", "Send UTF-8, or declare the encoding in the XML declaration.")],
)  # fmt: skip
def test_a_malformed_xml_body_whose_content_type_names_another_charset_says_that_charset_is_not_read(charset, advice):
    """Review finding (r24): Latin-1 bytes sent as `application/xml; charset=ISO-8859-1` got a bare 400 "Invalid
    bytes in character encoding": nothing said the charset parameter had been left unread."""
    assert b"\xe9" in LATIN1_UBL and not LATIN1_UBL.startswith(b"<?xml")
    with pytest.raises(InvalidInput) as refused:
        intake.prepare(LATIN1_UBL, "application/xml", charset)
    assert refused.value.extra["reason"] == "malformed"
    assert "Invalid bytes in character encoding" in refused.value.detail
    assert f"The Content-Type's charset parameter ({charset}) is not read" in refused.value.detail
    assert refused.value.detail.endswith(advice)


@pytest.mark.parametrize(
    "body, charset",
    [(LATIN1_UBL, None), (LATIN1_UBL, "UTF-8"), (LATIN1_UBL, "utf8"),
     (b'<?xml version="1.0" encoding="ISO-8859-1"?><Invoice><unclosed></Invoice>', "ISO-8859-1"),
     (b"<Order xmlns='urn:x'/>", "ISO-8859-1"),
     # review r29: ASCII (valid UTF-8) with a tag mismatch: the encoding is not what is wrong
     (b"<Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'><ID>1</Id></Invoice>", "ISO-8859-1")],
    ids=["no-charset", "utf-8", "utf8", "declared", "not-an-invoice", "utf-8-bytes-malformed"],
)  # fmt: skip
def test_the_charset_advice_is_only_given_when_the_charset_may_explain_the_refusal(body, charset):
    with pytest.raises(InvalidInput) as refused:
        intake.prepare(body, "application/xml", charset)
    assert "charset" not in refused.value.detail


@pytest.mark.parametrize(
    "content_type, charset",
    [("application/xml; charset=ISO-8859-1", "ISO-8859-1"), ('text/xml;CharSet="windows-1252" ', "windows-1252"),
     ("application/xml; foo=bar; charset = utf-8", "utf-8"), ("application/xml", None), (None, None),
     ("application/xml; charset=", None)],
)  # fmt: skip
def test_the_charset_parameter_of_a_content_type(content_type, charset):
    assert sniffing.charset_parameter(content_type) == charset
