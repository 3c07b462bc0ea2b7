"""Hostile or broken input never reaches the rules: parse_xml refuses it, the engine reports it."""

from __future__ import annotations

import pytest

from chalicelib.validation import UnreadableInvoice, validate
from chalicelib.validation.parsing import detect_syntax, parse_xml

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&xxe;</Invoice>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<lolz>&lol4;</lolz>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice SYSTEM "http://example.invalid/evil.dtd">
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>"""

DEEP = b"<a>" * 5000 + b"</a>" * 5000

DENSE = b"<Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'>" + b"<a/>" * 300_000 + b"</Invoice>"


@pytest.mark.parametrize(
    "data, code",
    [
        (XXE, "doctype"),
        (LAUGHS, "doctype"),
        (EXTERNAL_DTD, "doctype"),
        (DEEP, "too-deep"),
        (DENSE, "too-many-nodes"),
        (b"<Invoice><unclosed></Invoice>", "malformed"),
        (b"", "empty"),
        (b"   \n ", "empty"),
        (b"\xff\xfe garbage", "malformed"),
    ],
)
def test_refused_before_any_rule(data, code):
    with pytest.raises(UnreadableInvoice) as exc:
        parse_xml(data)
    assert exc.value.code == code
    report = validate(data)
    assert report.error["code"] == code and report.valid is False
    assert report.syntax is None and report.invoice is None and report.findings == []


def test_wrong_root_is_not_an_invoice():
    for data in (b"<Order xmlns='urn:oasis:names:specification:ubl:schema:xsd:Order-2'/>", b"<Invoice/>"):
        with pytest.raises(UnreadableInvoice) as exc:
            detect_syntax(parse_xml(data))
        assert exc.value.code == "not-an-invoice"
        report = validate(data)
        assert report.error["code"] == "not-an-invoice" and not report.valid


def test_entities_are_never_expanded_or_fetched(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    data = XXE.replace(b"file:///etc/passwd", secret.as_uri().encode())
    report = validate(data)
    assert report.error is not None and "TOP-SECRET" not in str(report.error)
