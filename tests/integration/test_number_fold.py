"""Review r42 §1: the duplicate control and the search by number compare numbers as a reader does
(domain/invoice.number_key): the same invoice is not accepted again under a number that reads the same."""

from __future__ import annotations

import json
import unicodedata
import urllib.parse

import pytest
from demo import MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import ubl_invoice

XML = {"Content-Type": "application/xml"}


def post(client, body: bytes) -> str:
    response = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=body)
    assert response.status_code == 202, response.body
    return json.loads(response.body)["id"]


def drain(pump) -> None:
    while pump.deliver_sqs_once("validate_invoices"):
        pass


def decision(client, invoice_id: str) -> tuple[int, str | None]:
    headers = auth(SUPPLIER_KEY)
    code = json.loads(client.http.get(f"/v1/invoices/{invoice_id}", headers=headers).body)["status"]["code"]
    history = json.loads(client.http.get(f"/v1/invoices/{invoice_id}/history", headers=headers).body)["history"]
    return code, history[-1]["reason_code"]


VARIANTS = {
    "lower case": "fac-é-4",
    "NFD": unicodedata.normalize("NFD", "FAC-É-4"),
    "full-width digit": "FAC-É-\uff14",
    "non-breaking hyphen U+2011": "FAC\u2011É\u20114",
    "en dash": "FAC\u2013É\u20134",
    "minus sign": "FAC\u2212É\u22124",
    "Cyrillic А and С": "F\u0410\u0421-É-4",
    "Greek Alpha": "F\u0391C-É-4",
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_a_number_that_reads_the_same_is_a_duplicate(client, pump, name):
    first = post(client, ubl_invoice("FAC-É-4"))
    drain(pump)
    second = post(client, ubl_invoice(VARIANTS[name]))
    drain(pump)
    assert decision(client, first) == (203, None)
    assert decision(client, second) == (213, "DOUBLON")


def test_no_break_spaces_inside_a_number_are_spaces(client, pump):
    first = post(client, ubl_invoice("FAC É 11"))
    second = post(client, ubl_invoice("FAC\u00a0É\u2002\u00a011"))
    drain(pump)
    assert sorted([decision(client, first), decision(client, second)]) == [(203, None), (213, "DOUBLON")]


@pytest.mark.parametrize("separator", ["\t", "\n", "\r\n"])
def test_a_tab_or_line_break_inside_a_number_is_a_space(client, pump, separator):
    """Review r54 F1: 'F\\t2026\\t77' was accepted beside 'F 2026 77' (an e-mail shows both as 'F 2026 77')."""
    first = post(client, ubl_invoice("F 2026 77"))
    drain(pump)
    second = post(client, ubl_invoice(f"F{separator}2026{separator}77"))
    drain(pump)
    assert decision(client, first) == (203, None)
    assert decision(client, second) == (213, "DOUBLON")
    detail = json.loads(client.http.get(f"/v1/invoices/{second}", headers=auth(SUPPLIER_KEY)).body)
    assert [error["rule"] for error in detail["errors"]] == ["CHORALE-DUPLICATE"]
    assert search(client, SUPPLIER_KEY, "supplier", f"F{separator}2026 77") == sorted([first, second])


def test_leading_zeros_make_another_number(client, pump):
    first = post(client, ubl_invoice("FAC-É-10"))
    second = post(client, ubl_invoice("FAC-É-0010"))
    drain(pump)
    assert decision(client, first) == decision(client, second) == (203, None)


def search(client, key: str, role: str, number: str) -> list[str]:
    query = urllib.parse.urlencode({"role": role, "number": number})
    response = client.http.get(f"/v1/invoices?{query}", headers=auth(key))
    assert response.status_code == 200, response.body
    return sorted(item["id"] for item in json.loads(response.body)["items"])


def test_a_search_by_number_finds_every_form_of_it(client, pump):
    """The buyer searched the exact text: an invoice deposited as 'fac‑é‑5' was not found by 'FAC-É-5'."""
    accepted = [
        post(client, ubl_invoice("fac\u2011e\u0301\u20115", issue_date="2025-11-20")),
        post(client, ubl_invoice("FAC-É-5")),
    ]
    drain(pump)
    refused = post(client, ubl_invoice("F\u0410C-É-5"))  # the 2026 one again
    other = post(client, ubl_invoice("FAC-É-50"))
    drain(pump)
    assert decision(client, refused) == (213, "DOUBLON") and decision(client, other) == (203, None)
    for number in ("FAC-É-5", "fac-é-5", "FAC\u2013E\u0301\u20135"):
        assert search(client, MAIRIE_KEY, "recipient", number) == sorted(accepted)
        assert search(client, SUPPLIER_KEY, "supplier", number) == sorted([*accepted, refused])


def test_a_small_letter_is_not_a_duplicate_of_the_latin_letter_its_capital_looks_like(client, pump):
    """Review r44 F3: 'LOT-5M' was refused as a duplicate of 'LOT-5µ' (µ upper-cased to Greek Mu, drawn M), and a
    search for 'LOT-5M' listed both."""
    micro = post(client, ubl_invoice("LOT-5\u00b5"))
    drain(pump)
    latin = post(client, ubl_invoice("LOT-5M"))
    drain(pump)
    assert decision(client, micro) == decision(client, latin) == (203, None)
    assert search(client, SUPPLIER_KEY, "supplier", "LOT-5M") == [latin]
    assert search(client, SUPPLIER_KEY, "supplier", "LOT-5\u00b5") == [micro]
