"""The name an attachment is recorded under (review r54 F3, F5): filename* wins over its ASCII fallback, is decoded
strictly in its charset, and every name is counted and stored in NFC."""

from __future__ import annotations

import json
import unicodedata
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from demo import SUPPLIER_KEY, auth
from invoices import ubl_invoice
from processing_support import deposit_processed_id

from chalicelib.services.lifecycle import MAX_ATTACHMENT_NAME

PDF = b"%PDF-1.4\n%%EOF\n"
# 49 characters in NFC, 52 in NFD (a Mac's file names): both within the limit once normalised
LONG_ACCENTED = "Procès-verbal de réception définitive lot n°3.pdf"


@pytest.fixture
def invoice_id(client, pump):
    return deposit_processed_id(client, pump, ubl_invoice("F-2026-NAMES"))


def attach(client, invoice_id: str, disposition: str | None = None, name: str | None = None):
    query = f"?name={quote(name)}" if name is not None else ""
    headers = {"Content-Type": "application/pdf", **({"Content-Disposition": disposition} if disposition else {})}
    return client.http.post(f"/v1/invoices/{invoice_id}/attachments{query}", headers=auth(SUPPLIER_KEY, **headers),
                            body=PDF)  # fmt: skip


def attached_name(response) -> str:
    assert response.status_code == 201, response.body
    return json.loads(response.body)["name"]


@pytest.mark.parametrize(
    "disposition",
    [
        "attachment; filename=\"PV r_ception.pdf\"; filename*=UTF-8''PV%20r%C3%A9ception.pdf",  # RFC 6266 Appendix D
        "attachment; filename*=UTF-8''PV%20r%C3%A9ception.pdf; filename=\"PV r_ception.pdf\"",
        "attachment; filename*=iso-8859-1'fr'PV%20r%E9ception.pdf; filename=\"PV r_ception.pdf\"",
    ],
    ids=["fallback-first", "fallback-last", "latin-1"],
)
def test_filename_star_wins_over_the_ascii_fallback_beside_it(client, invoice_id, disposition):
    """RFC 6266 §4.3: the fallback was kept, so "PV réception.pdf" was stored as "PV r_ception.pdf"."""
    assert attached_name(attach(client, invoice_id, disposition)) == "PV réception.pdf"


def test_a_download_s_content_disposition_sent_back_keeps_the_name(client, invoice_id):
    """Downloading an attachment and attaching it again with the download's Content-Disposition renamed it."""
    first = json.loads(attach(client, invoice_id, name="PV réception.pdf").body)
    download = client.http.get(f"/v1/invoices/{invoice_id}/attachments/{first['id']}", headers=auth(SUPPLIER_KEY))
    [disposition] = parse_qs(urlsplit(download.headers["Location"]).query)["response-content-disposition"]
    assert "filename=" in disposition and "filename*=" in disposition
    assert attached_name(attach(client, invoice_id, disposition)) == "PV réception.pdf"


@pytest.mark.parametrize(
    "disposition, declared",
    [
        ("attachment; filename*=UTF-8''devis%E9.pdf", "UTF-8"),  # Latin-1 bytes labelled UTF-8
        ("attachment; filename*=klingon''devis%E9.pdf", "klingon"),
        ("attachment; filename*=devis%E9.pdf", "none declared"),
        ("attachment; filename*=UTF-8''devis€.pdf", "UTF-8"),  # raw text, not percent-encoded: was a 500
    ],
    ids=["not-utf-8", "unknown-charset", "no-charset", "raw-non-latin-1"],
)
def test_a_filename_star_not_in_its_charset_is_refused_like_other_bad_names(client, invoice_id, disposition,
                                                                            declared):  # fmt: skip
    """It was stored as "devis\\ufffd.pdf", and the other party read "devis�.pdf". Refused only when nothing else
    names the file: see the test below."""
    refused = attach(client, invoice_id, disposition)
    assert refused.status_code == 400, refused.body
    assert refused.headers["Content-Type"] == "application/problem+json"
    problem = json.loads(refused.body)
    unnamed = json.loads(attach(client, invoice_id).body)  # the refusal of a missing name: the same problem type
    assert (problem["type"], problem["title"]) == (unnamed["type"], unnamed["title"])
    assert f"filename* is not a name in a charset it declares ({declared})" in problem["detail"]
    assert "filename*=UTF-8''" in problem["detail"]
    listed = json.loads(client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(SUPPLIER_KEY)).body)
    assert listed["attachments"] == []


@pytest.mark.parametrize(
    "disposition, query_name, expected",
    [
        ("attachment; filename*=UTF-8''; filename=\"pv.pdf\"", None, "pv.pdf"),  # blank: ignored for the fallback
        ("attachment; filename*=UTF-8''%20", "pv.pdf", "pv.pdf"),  # blank: it hid ?name=
        ("attachment; filename*=pv.pdf", None, "pv.pdf"),  # no charset: ASCII reads the same in any
        ("attachment; filename*=klingon''pv.pdf", None, "pv.pdf"),
        ("attachment; filename=\"devis.pdf\"; filename*=UTF-8''devis%E9.pdf", None, "devis.pdf"),  # RFC 6266 §4.3
        ("attachment; filename*=UTF-8''devis%E9.pdf", "devis.pdf", "devis.pdf"),
    ],
    ids=[
        "blank-beside-a-fallback",
        "blank-and-query",
        "no-charset-ascii",
        "unknown-charset-ascii",
        "not-utf-8-beside-a-fallback",
        "not-utf-8-and-query",
    ],  # fmt: skip
)
def test_a_filename_star_that_names_nothing_usable_gives_way_to_the_next_name(client, invoice_id, disposition,
                                                                               query_name, expected):  # fmt: skip
    """Review r59 F2: these were 400 (a blank or charset-less filename* beat a valid filename, or hid ?name=)
    where get_filename() had accepted them."""
    assert attached_name(attach(client, invoice_id, disposition, name=query_name)) == expected


def test_a_name_in_nfd_is_counted_and_stored_in_nfc(client, invoice_id):
    """A Mac's NFD name of 49 visible characters counted 52 and was refused by the 50-character limit; an accepted
    one was stored as sent, so the other party could get either form of the same name."""
    nfd = unicodedata.normalize("NFD", LONG_ACCENTED)
    assert len(LONG_ACCENTED) < MAX_ATTACHMENT_NAME < len(nfd)
    assert attached_name(attach(client, invoice_id, name=nfd)) == LONG_ACCENTED
    star = "attachment; filename*=UTF-8''" + quote(nfd)
    assert attached_name(attach(client, invoice_id, star)) == LONG_ACCENTED
    listed = json.loads(client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(SUPPLIER_KEY)).body)
    assert [a["name"] for a in listed["attachments"]] == [LONG_ACCENTED, LONG_ACCENTED]
