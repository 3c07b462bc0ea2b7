"""Numbers and dates are ASCII: XPath's number() and xs:decimal/xs:date casts reject full-width or Arabic-Indic
digits (NaN, a failed cast), which Python's Decimal, float and int accept."""

from __future__ import annotations

import math

import pytest
from lxml import etree

from chalicelib.validation import validate
from chalicelib.validation.model import Amount, to_decimal
from chalicelib.validation.rules._helpers import num
from chalicelib.validation.rules._vat import to_dec, to_num
from tests.unit.validation.samples import cii, ubl

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize("digits", [FULLWIDTH, ARABIC_INDIC], ids=["fullwidth", "arabic-indic"])
def test_ubl_amounts_in_non_ascii_digits_are_not_numbers(digits):
    amount = "1200.00".translate(digits)
    report = validate(ubl(incl=amount, payable=amount))
    assert not report.valid
    assert {"BR-CO-15", "BR-CO-16"} <= set(report.fatal)
    assert report.invoice.totals.payable.value is None and report.invoice.totals.tax_inclusive.value is None


@pytest.mark.parametrize("digits", [FULLWIDTH, ARABIC_INDIC], ids=["fullwidth", "arabic-indic"])
def test_cii_amounts_in_non_ascii_digits_are_not_numbers(digits):
    amount = "1200.00".translate(digits)
    report = validate(cii(incl=amount, payable=amount))
    assert not report.valid
    assert report.invoice.totals.payable.value is None and report.invoice.totals.tax_inclusive.value is None


def test_dates_in_non_ascii_digits_are_not_dates():
    ubl_report = validate(ubl().replace(b"2026-03-14", "2026-03-14".translate(FULLWIDTH).encode()))
    assert ubl_report.invoice.issue_date.value is None
    cii_report = validate(cii().replace(b">20260314<", (">" + "20260314".translate(FULLWIDTH) + "<").encode()))
    assert cii_report.invoice.issue_date.value is None


@pytest.mark.parametrize("text", ["２５０.３３", "٢٥٠.٣٣", " 2٥0 "])
def test_numeric_readers_refuse_non_ascii_digits(text):
    assert to_decimal(text) is None and to_dec(text) is None and to_num(text) is None


def test_ascii_numbers_still_read():
    assert str(to_decimal(" 250.33 ")) == str(to_dec("250.33")) == "250.33" and to_num(".5") == 0.5
    assert validate(ubl()).valid and validate(cii()).valid


@pytest.mark.parametrize("text", ["２５０.３３", "٢٥٠.٣٣", "1_000"])
def test_xpath_number_of_non_ascii_or_underscored_text_is_nan(text):
    el = etree.fromstring(f"<a>{text}</a>")
    assert math.isnan(num(Amount(el))) and math.isnan(num(text))
    assert num(Amount(etree.fromstring("<a> 1e2 </a>"))) == 100.0
