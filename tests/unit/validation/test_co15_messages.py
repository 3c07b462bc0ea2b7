"""BR-CO-15's message says what failed: the sum BT-109 + BT-110, or the number of VAT totals (BT-110) in the
invoice currency (UBL requires exactly one; CII without one compares BT-112 with BT-109), never 'missing' for
terms that are present."""

from __future__ import annotations

from chalicelib.validation import validate
from tests.unit.validation.samples import cii, ubl

SECOND_TAX_TOTAL = b'<cac:TaxTotal><cbc:TaxAmount currencyID="EUR">0.00</cbc:TaxAmount></cac:TaxTotal>'


def _co15(report) -> str:
    [message] = [f.message for f in report.findings if f.rule == "BR-CO-15"]
    return message


def test_ubl_two_vat_totals_in_the_invoice_currency():
    data = ubl().replace(b"<cac:LegalMonetaryTotal>", SECOND_TAX_TOTAL + b"<cac:LegalMonetaryTotal>", 1)
    message = _co15(validate(data))
    assert "missing" not in message
    assert "2 VAT totals (BT-110) in its currency BT-5 'EUR'" in message and "exactly one is required" in message


def test_ubl_mistyped_invoice_currency():
    data = ubl().replace(b"<cbc:DocumentCurrencyCode>EUR<", b"<cbc:DocumentCurrencyCode>EURO<", 1)
    message = _co15(validate(data))
    assert "missing" not in message and "0 VAT totals (BT-110) in its currency BT-5 'EURO'" in message


def test_cii_without_vat_total_compares_with_bt_109():
    data = cii(incl="1300.00", payable="1300.00").replace(
        b'<ram:TaxTotalAmount currencyID="EUR">200.00</ram:TaxTotalAmount>', b"", 1
    )
    message = _co15(validate(data))
    assert "missing" not in message
    assert message.startswith("BT-112 Invoice total amount with VAT (1300.00) ≠ BT-109 ")
    assert "(1000.00)" in message and "0 VAT totals" in message


def test_a_wrong_sum_still_shows_the_expected_sum():
    message = _co15(validate(ubl(incl="1250.00", payable="1250.00")))
    assert message == "BT-112 Invoice total amount with VAT (1250.00) ≠ BT-109 + BT-110 (1200.00)."
