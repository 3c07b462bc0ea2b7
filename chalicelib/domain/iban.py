"""ISO 13616 IBAN checks: what the platform warns a payer of in a credit transfer's account (BT-84)."""

from __future__ import annotations

import re
import unicodedata

# Characters of an IBAN by country code, from the SWIFT IBAN registry (ISO 13616 registration authority). A country
# absent from it has no IBAN: an account starting with its code is not checked.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29,
    "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    "YE": 30,
}  # fmt: skip

_IBAN_START = re.compile(r"[A-Z]{2}[0-9]{2}")
_IBAN_CHARACTERS = re.compile(r"[A-Z0-9]+")


def iban_defect(account: str | None) -> tuple[str, str] | None:
    """Why `account`, which looks like an IBAN (a registry country's code and two digits once its spaces are removed,
    lower case read as upper case), is not a valid one: ("characters", why) when it holds another character than
    letters, digits and grouping spaces (FR76-3000-...: a payment order takes no hyphen), ("length", why) when it has
    not its country's length, ("checksum", why) when it fails the mod-97 check. None for a valid IBAN and for any
    account that does not look like one (a bank's own number is no IBAN)."""
    if account is None:
        return None
    compact = "".join(c for c in account if not unicodedata.category(c).startswith("Z")).upper()
    country = compact[:2]
    if not _IBAN_START.match(compact) or country not in IBAN_LENGTHS:
        return None
    if not _IBAN_CHARACTERS.fullmatch(compact):
        others = "".join(dict.fromkeys(c for c in compact if not _IBAN_CHARACTERS.fullmatch(c)))
        return "characters", f"an IBAN has only letters and digits, grouped by spaces; this one holds {others!r}"
    if len(compact) != IBAN_LENGTHS[country]:
        return "length", f"a {country} IBAN has {IBAN_LENGTHS[country]} characters, not {len(compact)}"
    if _mod97(compact[4:] + compact[:4]) != 1:
        return "checksum", "its check digits do not match (ISO 13616 mod-97)"
    return None


def _mod97(alphanumeric: str) -> int:
    """ISO 7064 MOD 97-10 of an IBAN rearranged (country and check digits last), each letter read as 10 to 35."""
    return int("".join(str(int(c, 36)) for c in alphanumeric)) % 97
