"""Hostile XML beyond the API's own size limit: the parser refuses huge documents by itself."""

import pytest

from chalicelib.validation import parsing


def test_documents_over_the_parser_limit_are_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(parsing, "MAX_XML_BYTES", 1024)
    with pytest.raises(parsing.UnreadableInvoice) as refused:
        parsing.parse_xml(b"<a>" + b"x" * 2048 + b"</a>")
    assert refused.value.code == "too-large" and "1024" in refused.value.detail


def test_a_wide_but_legitimate_document_parses():
    root = parsing.parse_xml(b"<a>" + b"<b>x</b>" * 50_000 + b"</a>")
    assert len(root) == 50_000
