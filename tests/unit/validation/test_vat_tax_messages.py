"""BR-CO-17 and BR-x-09 messages: the expected VAT category tax amount carries the base's sign (the rules compare
absolute values; a negative invoice's tax is negative), and a missing rate is said to be missing."""

from __future__ import annotations

import pytest

from chalicelib.validation import validate
from tests.unit.validation.samples import cii, ubl

NEGATIVE = dict(
    tax="-300.00",
    sub_tax="-300.00",
    taxable="-1000.00",
    line_total="-1000.00",
    excl="-1000.00",
    incl="-1300.00",
    payable="-1300.00",
)


def _messages(report, rule: str) -> list[str]:
    return [f.message for f in report.findings if f.rule == rule]


@pytest.mark.parametrize("make", [ubl, cii], ids=["ubl", "cii"])
def test_expected_tax_of_a_negative_base_is_negative(make):
    data = make(**NEGATIVE, qty="-10") if make is ubl else make(**NEGATIVE)
    report = validate(data)
    [co17] = _messages(report, "BR-CO-17")
    assert "= -200.00, rounded to two decimals" in co17
    [s09] = _messages(report, "BR-S-09")
    assert (
        "(-200.00) for VAT category" in s09
        and s09.endswith("(a difference of less than 1 is tolerated).")
        and "2167" not in s09
    )


def test_expected_tax_of_a_positive_base_stays_positive():
    report = validate(ubl(tax="300.00", sub_tax="300.00", incl="1300.00", payable="1300.00"))
    assert "= 200.00, rounded" in _messages(report, "BR-CO-17")[0]
    assert "(200.00) for VAT category" in _messages(report, "BR-S-09")[0]


def test_a_missing_rate_is_said_to_be_missing():
    report = validate(ubl().replace(b"<cbc:Percent>20</cbc:Percent>", b"", 1))  # the breakdown's rate (BT-119)
    [s09] = _messages(report, "BR-S-09")
    assert "missing%" not in s09 and "whose VAT rate (BT-119) is missing" in s09
