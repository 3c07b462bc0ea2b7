"""Hostile XML beyond the API's own size limit: the parser refuses huge or node-dense documents by itself."""

import re

import pytest
from invoices import ubl_invoice

from chalicelib.validation import parsing, validate
from tests.unit.validation.conformance import MISSING, entries, read


def test_documents_over_the_parser_limit_are_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(parsing, "MAX_XML_BYTES", 1024)
    with pytest.raises(parsing.UnreadableInvoice) as refused:
        parsing.parse_xml(b"<a>" + b"x" * 2048 + b"</a>")
    assert refused.value.code == "too-large" and "1024" in refused.value.detail


def test_a_wide_but_legitimate_document_parses():
    root = parsing.parse_xml(b"<a>" + b"<b>x</b>" * 50_000 + b"</a>")
    assert len(root) == 50_000


def _dense(nodes: int) -> bytes:
    """`nodes` elements: the root and nodes - 1 empty children."""
    return b"<a>" + b"<b/>" * (nodes - 1) + b"</a>"


def test_a_document_with_more_nodes_than_the_cap_is_refused_before_parsing():
    cap = parsing.MAX_XML_NODES
    data = _dense(cap + 1)
    assert parsing.count_nodes(data) == cap + 1 and len(data) < parsing.MAX_XML_BYTES // 3
    with pytest.raises(parsing.UnreadableInvoice) as refused:
        parsing.parse_xml(data)
    assert refused.value.code == "too-many-nodes"
    assert str(cap) in refused.value.detail and str(cap + 1) in refused.value.detail
    report = validate(data)
    assert report.error["code"] == "too-many-nodes" and not report.valid and report.findings == []


def test_a_document_at_the_cap_parses():
    root = parsing.parse_xml(_dense(parsing.MAX_XML_NODES))
    assert len(root) == parsing.MAX_XML_NODES - 1


def test_end_tags_are_not_counted_as_elements():
    cap = parsing.MAX_XML_NODES
    at_cap = b"<a>" + b"<b>x</b>" * (cap - 1) + b"</a>"  # cap elements, 2 * cap '<'
    assert parsing.count_nodes(at_cap) == cap and len(parsing.parse_xml(at_cap)) == cap - 1
    over = b"<a>" + b"<b>x</b>" * cap + b"</a>"
    with pytest.raises(parsing.UnreadableInvoice) as refused:
        parsing.parse_xml(over)
    assert refused.value.code == "too-many-nodes" and str(cap + 1) in refused.value.detail


@pytest.mark.parametrize("hiding", [b"<![CDATA[%s]]>", b"<!--%s-->"], ids=["cdata", "comment"])
def test_end_tag_markers_in_text_do_not_hide_elements(hiding):
    cap = parsing.MAX_XML_NODES
    data = b"<a>" + hiding % (b"</" * cap) + b"<b/>" * cap + b"</a>"
    assert parsing.count_nodes(data) > cap
    with pytest.raises(parsing.UnreadableInvoice) as refused:
        parsing.parse_xml(data)
    assert refused.value.code == "too-many-nodes"


def test_attributes_count_as_nodes():
    attrs = b"".join(b" %s=''" % bytes([c]) for c in b"bcdefghijklmnopqrstuvwxyz")  # 25 a element
    count = parsing.MAX_XML_NODES // 26 + 1
    data = b"<r>" + (b"<a" + attrs + b"/>") * count + b"</r>"
    assert data.count(b"<") < parsing.MAX_XML_NODES < data.count(b"<") + data.count(b"=")
    with pytest.raises(parsing.UnreadableInvoice) as refused:
        parsing.parse_xml(data)
    assert refused.value.code == "too-many-nodes"


@pytest.mark.parametrize("compact", [False, True], ids=["indented", "unindented"])
def test_a_4_mib_invoice_of_ordinary_lines_is_under_the_cap(compact):
    invoice = ubl_invoice()
    if compact:
        invoice = re.sub(rb">\s+<", b"><", invoice)
    start, end = invoice.index(b"<cac:InvoiceLine>"), invoice.rindex(b"</cac:InvoiceLine>") + 18
    line = invoice[start:end]
    lines = (parsing.MAX_XML_BYTES - len(invoice) + len(line)) // len(line)
    data = invoice[:start] + line * lines + invoice[end:]
    assert parsing.MAX_XML_BYTES - len(line) < len(data) <= parsing.MAX_XML_BYTES
    root = parsing.parse_xml(data)
    assert parsing.detect_syntax(root) == ("ubl", "Invoice") and len(root) > lines
    assert parsing.count_nodes(data) < parsing.MAX_XML_NODES * 0.6  # a margin: such invoices are far from it


def test_the_conformance_corpus_is_far_under_the_cap():
    if not entries():
        pytest.skip(MISSING)
    densest = max(parsing.count_nodes(data) for data in map(read, entries()))
    assert 250 < densest < parsing.MAX_XML_NODES // 100


def test_only_encodings_whose_markup_the_node_count_sees_are_read():
    dense_utf7 = (b"<Invoice>" + b"<a/>" * 300_000 + b"</Invoice>").replace(b"<", b"+ADw-")
    for declaration in (b'<?xml version="1.0" encoding="UTF-7"?>', b"<?xml version='1.0' encoding='utf-7' ?>"):
        with pytest.raises(parsing.UnreadableInvoice) as refused:
            parsing.parse_xml(declaration + dense_utf7)
        assert refused.value.code == "unsupported-encoding" and "utf-7" in refused.value.detail
    for encoding in ("UTF-8", "utf-8", "ISO-8859-15", "windows-1252", "US-ASCII"):
        text = "e" if encoding == "US-ASCII" else "é"
        assert (
            parsing.parse_xml(f'<?xml version="1.0" encoding="{encoding}"?><a>{text}</a>'.encode(encoding)).text == text
        )
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16")
    assert parsing.declared_encoding(utf16) is None and parsing.parse_xml(utf16).tag == "a"  # its '<' are counted
    assert parsing.declared_encoding(b"\xef\xbb\xbf<?xml version='1.0' encoding='UTF-8'?><a/>") == "utf-8"


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: text.encode("utf-16"),  # with its byte order mark
        lambda text: text.encode("utf-16-le"),
        lambda text: "\ufeff".encode("utf-16-be") + text.encode("utf-16-be"),
        lambda text: '<?xml version="1.0" encoding="UTF-16BE"?>'.encode("utf-16-be") + text.encode("utf-16-be"),
        lambda text: text.encode("utf-32"),
    ],
    ids=["utf-8", "utf-16", "utf-16le", "utf-16be-bom", "utf-16be-declared", "utf-32"],
)
def test_no_encoding_hides_start_tags_from_the_count(monkeypatch, encode):
    """In UTF-16BE a name from U+2F00 puts the byte '/' right after a start tag's '<': no end tag is discounted."""
    monkeypatch.setattr(parsing, "MAX_XML_NODES", 100)
    name = "\u2f00"  # a valid XML name character
    data = encode(f"<a>{f'<{name}/>' * 1000}</a>")
    assert parsing.count_nodes(data) > 1000
    with pytest.raises(parsing.UnreadableInvoice) as refused:
        parsing.parse_xml(data)
    assert refused.value.code == "too-many-nodes"


@pytest.mark.parametrize(
    "declaration",
    [
        b'<?xml version="1.0"' + b" " * 300 + b'encoding="UTF-7"?>',
        b'<?xml version="1.' + b"0" * 300 + b'" encoding="UTF-7"?>',
        b"<?xml version='1.0' standalone=\"encoding='utf-8'\" encoding='UTF-7'?>",
    ],
    ids=["padded", "long-version", "encoding-inside-a-value"],
)
def test_the_whole_xml_declaration_is_read_for_its_encoding(declaration):
    data = declaration + b"<a>" + b"+ADw_/>" * 20 + b"</a>"
    with pytest.raises(parsing.UnreadableInvoice) as refused:
        parsing.parse_xml(data)
    assert refused.value.code == "unsupported-encoding" and "utf-7" in refused.value.detail


def test_an_xml_declaration_that_does_not_end_is_refused():
    data = b'<?xml version="1.0"' + b" " * parsing.MAX_DECLARATION_BYTES + b'encoding="UTF-7"?><a/>'
    with pytest.raises(parsing.UnreadableInvoice) as refused:
        parsing.parse_xml(data)
    assert refused.value.code == "malformed" and str(parsing.MAX_DECLARATION_BYTES) in refused.value.detail
