"""The ISO 13616 check behind the CHORALE-IBAN warning: a credit transfer's account that looks like an IBAN."""

from __future__ import annotations

import pytest

from chalicelib.domain.iban import IBAN_LENGTHS, iban_defect


@pytest.mark.parametrize(
    "account",
    [
        "FR7630006000011234567890189",
        "FR1420041010050500013M02606",  # a letter in the national part
        "DE89370400440532013000",
        "BE68539007547034",
        "fr76 3000 6000 0112 3456 7890 189",  # lower case, grouped by spaces
        "DE89\u00a03704\u00a00044\u00a00532\u00a00130\u00a000",  # no-break spaces
    ],
)
def test_a_valid_iban_has_no_defect(account):
    assert iban_defect(account) is None


def test_a_wrong_check_digit_is_a_checksum_defect():
    assert iban_defect("FR7630006000011234567890188") == (
        "checksum",
        "its check digits do not match (ISO 13616 mod-97)",
    )
    assert iban_defect("DE88370400440532013000")[0] == "checksum"


def test_a_character_an_iban_has_not_is_named_before_the_length_is_counted():
    # r51: a valid IBAN written with hyphens was told "a FR IBAN has 27 characters, not 33"
    why = "an IBAN has only letters and digits, grouped by spaces; this one holds '-'"
    assert iban_defect("DE8937040044053201300-") == ("characters", why)
    assert iban_defect("FR76-3000-6000-0112-3456-7890-189") == ("characters", why)
    assert iban_defect("fr76.3000.6000.0112.3456.7890.189")[0] == "characters"


@pytest.mark.parametrize(
    ("account", "why"),
    [
        ("FR763000600001123456789018", "a FR IBAN has 27 characters, not 26"),  # a digit short
        ("BE685390075470345", "a BE IBAN has 16 characters, not 17"),
        ("DE8937040044053201300", "a DE IBAN has 22 characters, not 21"),
    ],
)
def test_a_length_other_than_the_country_s_is_a_length_defect(account, why):
    assert iban_defect(account) == ("length", why)


@pytest.mark.parametrize(
    "account",
    [None, "", "12345678901", "Compte n° 12", "RIB 30006 00001 12345678901 89", "US12345678901234", "F7630006000"],
)
def test_an_account_that_does_not_look_like_an_iban_is_not_checked(account):
    # a bank's own number, or a code that no IBAN country has (US): no IBAN to check
    assert iban_defect(account) is None


def test_the_length_table_covers_the_sepa_countries():
    sepa = {"AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20,
            "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26,
            "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
            "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "VA": 22}  # fmt: skip
    assert {country: IBAN_LENGTHS.get(country) for country in sepa} == sepa
