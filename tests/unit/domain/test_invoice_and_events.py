"""The invoice record's platform transitions, events and directory rules (no AWS)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chalicelib.domain.directory import is_valid_siret, search_key
from chalicelib.domain.events import new_status_events
from chalicelib.domain.ids import is_ulid, new_id
from chalicelib.domain.invoice import MAX_STORED_ERRORS, Error, Invoice, InvoiceSummary, Totals


def pending() -> Invoice:
    return Invoice("01J00000000000000000000000", "81234567800013", "Atelier", "ubl", "application/xml",
                   "originals/x", 10, "ab", "2026-11-26T10:00:00.000Z", "2026-11-26T10:00:00.000Z")  # fmt: skip


SUMMARY = InvoiceSummary(
    number="F-1",
    issue_date=date(2026, 11, 20),
    currency="EUR",
    totals=Totals(Decimal("100.00"), Decimal("20.00"), Decimal("120.00"), Decimal("120.00")),
    seller_siret="81234567800013",
    buyer_siret="21750000100011",
)


def test_accept_records_200_then_203_and_routes_to_the_buyer():
    invoice = pending()
    invoice.accept(SUMMARY, "Mairie", [], "2026-11-26T10:00:01.000Z")
    assert [h.code for h in invoice.history] == [200, 203] and invoice.status.name == "MISE_A_DISPOSITION"
    assert invoice.processing == "done" and invoice.recipient_siret == "21750000100011"
    assert invoice.parties_of("21750000100011") == ("recipient",)
    with pytest.raises(ValueError):
        invoice.accept(SUMMARY, "Mairie", [], "2026-11-26T10:00:02.000Z")  # decided once


def test_reject_keeps_the_errors_fatal_first_and_capped():
    invoice = pending()
    errors = [Error(f"W-{i:03d}", "warning", "w", "/") for i in range(150)] + [Error("BR-CO-16", "fatal", "f", "/")]
    invoice.reject(SUMMARY, None, errors, "REJ_SEMAN", "EN 16931", "2026-11-26T10:00:01.000Z")
    assert invoice.status.code == 213 and invoice.history[-1].reason_code == "REJ_SEMAN"
    assert invoice.errors[0].rule == "BR-CO-16" and len(invoice.errors) == MAX_STORED_ERRORS
    assert invoice.errors_truncated == 151 - MAX_STORED_ERRORS
    assert invoice.recipient_siret is None and not invoice.is_party("21750000100011")


def test_one_event_per_new_history_entry_with_stable_ids():
    invoice = pending()
    before = list(invoice.history)
    invoice.accept(SUMMARY, "Mairie", [], "2026-11-26T10:00:01.000Z")
    events = new_status_events(before, invoice)
    assert [e.event_id for e in events] == [f"{invoice.id}-0", f"{invoice.id}-1"]
    assert events[1].previous.code == 200 and events[0].previous is None
    cloudevent = events[1].cloudevent()
    assert cloudevent["specversion"] == "1.0" and cloudevent["type"] == "invoice.status_changed"
    assert cloudevent["data"]["status"]["code"] == 203 and cloudevent["data"]["previous_status"]["code"] == 200
    assert events[1].attributes() == {
        "event_type": "invoice.status_changed",
        "status_code": "203",
        "supplier_siret": "81234567800013",
        "recipient_siret": "21750000100011",
    }
    assert new_status_events(list(invoice.history), invoice) == []  # nothing new, nothing published


@pytest.mark.parametrize(
    "siret, valid",
    [("81234567800013", True), ("81234567800014", False), ("1234", False), ("8123456780001a", False),
     ("35600000000015", True), ("35600000000016", False),
     ("35600000000048", True),  # La Poste's head office: a Luhn key, its digit sum (26) no multiple of 5
     ("35600000000049", False),
     ("８１２３４５６７８０００１３", False), ("٨١٢٣٤٥٦٧٨٠٠٠١٣", False), ("81234567800013\n", False)],
)  # fmt: skip
def test_siret_check(siret, valid):
    """14 ASCII digits: other scripts' digits pass \\d and int(), and would make a look-alike of a SIRET."""
    assert is_valid_siret(siret) is valid


def test_search_key_folds_case_and_accents():
    assert search_key("  Mairie de Saint-ÉTIENNE ") == "mairie de saint-etienne"


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("l'oreal s", "L\u2019Oréal SA"),  # ’ right single quotation mark (word processors' apostrophe)
        ("l\u2019oréal", "L'Oreal"),
        ("l'oreal", "L\u2018Oréal"),  # ‘
        ("l'oreal", "L\u02bcOréal"),  # ʼ modifier letter apostrophe
        ("l'oreal", "L\u2032Oréal"),  # ′ prime
        ("l'oreal", "L`Oréal"),
        ("l'oreal", "L\u00b4Oréal"),  # ´ (NFKD alone would make it a space and a combining accent)
        ("l'oreal", "L\uff07Oréal"),  # fullwidth apostrophe (NFKD)
        ('"le petit"', "\u201cLe Petit\u201d"),  # “ ”
        ('" le petit "', "\u00ab\u00a0Le Petit\u00a0\u00bb"),  # « » with no-break spaces
        ('" le petit "', "\u00ab\u202fLe Petit\u202f\u00bb"),  # narrow no-break spaces (U+202F)
        ("saint-etienne - metropole", "Saint\u2010Étienne \u2014 Métropole"),  # ‐ —
        ("saint-etienne - metropole", "Saint\u2011Étienne \u2013 Métropole"),  # ‑ (NFKD: ‐) –
        ("a-b-c", "A\u2012B\u2212C"),  # ‒ −
        ("12 345", "12\u2009345"),  # thin space
    ],
)
def test_search_key_folds_typographic_punctuation_to_ascii(typed, stored):
    assert search_key(stored).startswith(search_key(typed)) and search_key(stored).isascii()
    assert search_key(stored).startswith(search_key(typed[:3]))  # a shorter typed prefix too


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("societe des oeuvres", "Société des Œuvres Sociales"),  # AZERTY has no œ key
        ("société des œuvres", "Societe des Oeuvres Sociales"),  # and the other way round
        ("laetitia", "Lætitia Conseil"),
        ("AE", "Æsop"),
        ("strasse", "Straße GmbH"),
        ("STRASSE", "STRA\u1e9eE"),  # capital sharp s
        ("moller", "Møller A/S"),
        ("lodz", "Łódź"),
        ("dokovic", "Đoković"),
    ],
)
def test_search_key_spells_out_ligatures_and_letters_with_a_stroke(typed, stored):
    """Review r54 F4: NFKD leaves œ æ ß ø ł đ whole, so "oeuvres" did not find "Œuvres"."""
    assert search_key(stored).startswith(search_key(typed)) and search_key(stored).isascii()


def test_search_key_keeps_what_is_not_a_typographic_variant():
    assert search_key("A&B (Lyon) 2/3 l'eau") == "a&b (lyon) 2/3 l'eau"
    assert search_key("日本") == "日本"


def test_ids_are_time_ordered_ulids():
    first, second = new_id(1_700_000_000_000), new_id(1_700_000_000_001)
    assert is_ulid(first) and first < second and len(first) == 26
    assert not is_ulid("../../etc/passwd")


def test_a_folded_name_is_cut_to_a_dynamodb_key_on_a_character_boundary():
    from chalicelib.domain.directory import MAX_SEARCH_KEY_BYTES

    expanded = search_key("\ufdfa" * 200)  # NFKD: 33 letters each
    assert len(expanded.encode()) <= MAX_SEARCH_KEY_BYTES and expanded.startswith(search_key("\ufdfa"))
    assert search_key("é" * 600) == "e" * 600 and len(search_key("日本" * 400).encode()) == 900  # 3-byte characters
    assert search_key("Mairie de Saint-Étienne") == "mairie de saint-etienne"


def test_findings_the_validation_did_not_list_count_as_truncated():
    invoice = pending()
    errors = [Error("BR-21", "fatal", "f", f"/l[{i}]") for i in range(120)]
    invoice.reject(SUMMARY, None, errors, "REJ_SEMAN", "EN 16931", "2026-11-26T10:00:01.000Z", unlisted=5000)
    assert len(invoice.errors) == MAX_STORED_ERRORS and invoice.errors_truncated == 20 + 5000


def test_a_payment_event_carries_its_amount_and_the_invoice_s_currency():
    invoice = pending()
    invoice.accept(SUMMARY, "Mairie", [], "2026-11-26T10:00:01.000Z")
    before = list(invoice.history)
    invoice.set_status(212, "supplier", None, None, "2026-11-27T10:00:00.000Z", Decimal("120.00"))
    data = new_status_events(before, invoice)[0].cloudevent()["data"]
    assert (data["amount"], data["currency"]) == ("120.00", "EUR")
