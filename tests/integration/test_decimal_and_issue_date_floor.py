"""CHORALE-DECIMAL: a quantity or price EN 16931's schematron does not type (BT-129, BT-146, BT-148, BT-149), written
as no xs:decimal (NaN, 1e5, INF, abc), is refused as the syntax's XSD would. CHORALE-ISSUE-DATE-PAST: an issue date
more than 10 years before the deposit (0001-01-01, .NET's DateTime.MinValue) is refused. Both are 213 REJ_SEMAN."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from demo import SUPPLIER_KEY, auth
from invoices import ubl_invoice
from processing_support import deposit_processed as deposit
from structured_invoices import cii_invoice, json_invoice

from chalicelib.services.controls import ISSUE_DATE_MAX_AGE_YEARS, _years_before

XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}


def history(client, invoice_id: str) -> list[dict]:
    return json.loads(client.http.get(f"/v1/invoices/{invoice_id}/history", headers=auth(SUPPLIER_KEY)).body)["history"]


def _with_text(xml: bytes, element: str, text: str) -> bytes:
    """xml with the text of its first `element` (a qualified tag name) replaced."""
    written, count = re.subn(rf"(<{element}[^>]*>)[^<]*(</{element}>)", rf"\g<1>{text}\g<2>", xml.decode(), count=1)
    assert count == 1, element
    return written.encode()


@pytest.mark.parametrize("value", ["NaN", "1e5", "INF", "abc"])
def test_a_ubl_invoiced_quantity_that_is_no_decimal_is_refused_naming_bt_129(client, pump, value):
    invoice = deposit(client, pump, _with_text(ubl_invoice(f"F-DEC-{value}"), "cbc:InvoicedQuantity", value))
    assert invoice["status"]["code"] == 213, invoice["errors"]
    assert history(client, invoice["id"])[-1]["reason_code"] == "REJ_SEMAN"
    finding = invoice["errors"][0]
    assert finding == {
        "rule": "CHORALE-DECIMAL",
        "severity": "fatal",
        "message": f"BT-129 Invoiced quantity of line 1 {value!r} is not a decimal number (xs:decimal: digits, an "
        "optional sign and '.', no exponent, NaN or INF).",
        "location": "/ubl:Invoice/cac:InvoiceLine/cbc:InvoicedQuantity",
    }
    assert [e["rule"] for e in invoice["errors"] if e["severity"] == "fatal"] == ["CHORALE-DECIMAL"]  # alone


def test_cii_prices_and_base_quantity_are_checked_too(client, pump):
    net = "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem/ram:SpecifiedLineTradeAgreement"
    price = _with_text(cii_invoice("C-DEC-1"), "ram:ChargeAmount", "5E1")  # BT-146, 50 in value: BR-27 passes
    invoice = deposit(client, pump, price)
    assert invoice["status"]["code"] == 213
    assert invoice["errors"][0]["rule"] == "CHORALE-DECIMAL"
    assert invoice["errors"][0]["message"].startswith("BT-146 Item net price of line 1 '5E1' is not a decimal")
    assert invoice["errors"][0]["location"] == (
        f"/rsm:CrossIndustryInvoice/{net}/ram:NetPriceProductTradePrice/ram:ChargeAmount"
    )
    base = cii_invoice("C-DEC-2").replace(
        b"50.00</ram:ChargeAmount>",
        b'50.00</ram:ChargeAmount><ram:BasisQuantity unitCode="C62">1e0</ram:BasisQuantity>',
    )
    invoice = deposit(client, pump, base)
    assert invoice["status"]["code"] == 213
    assert invoice["errors"][0]["message"].startswith("BT-149 Item price base quantity of line 1 '1e0' is not")


def test_a_decimal_with_a_sign_surrounding_spaces_or_a_trailing_point_is_taken(client, pump):
    for number, quantity in [("F-DEC-OK-1", "+2"), ("F-DEC-OK-2", " 2.\n"), ("F-DEC-OK-3", "2.0000")]:
        invoice = deposit(client, pump, _with_text(ubl_invoice(number), "cbc:InvoicedQuantity", quantity))
        assert invoice["status"]["code"] == 203, invoice["errors"]


def test_a_json_deposit_refuses_such_a_quantity_at_deposit(client):
    for quantity in ["NaN", "1e5", "INF", "abc"]:
        document = json_invoice("J-DEC-1")
        document["lines"][0]["quantity"] = quantity
        refused = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **JSON), body=json.dumps(document))
        assert refused.status_code == 422, refused.body
        assert json.loads(refused.body)["errors"][0]["pointer"] == "/lines/0/quantity"


def test_an_issue_date_more_than_10_years_before_the_deposit_is_refused(client, pump):
    for invoice in [
        deposit(client, pump, ubl_invoice("F-MIN-1", issue_date="0001-01-01")),
        deposit(
            client,
            pump,
            json.dumps(json_invoice("J-MIN-1") | {"issue_date": "0001-01-01"}).encode(),
            "application/json",
        ),
    ]:
        deposit_day = date.fromisoformat(invoice["created_at"][:10])
        bound = _years_before(deposit_day, ISSUE_DATE_MAX_AGE_YEARS)  # 28 February for a 29 February
        assert invoice["status"]["code"] == 213, invoice["errors"]
        assert history(client, invoice["id"])[-1]["reason_code"] == "REJ_SEMAN"
        finding = invoice["errors"][0]
        assert finding["rule"] == "CHORALE-ISSUE-DATE-PAST"
        assert finding["message"] == (
            f"BT-2 Invoice issue date 0001-01-01 is more than 10 years before the deposit date "
            f"({deposit_day.isoformat()}): an invoice cannot be dated before {bound.isoformat()}."
        )
        assert "IssueDate" in finding["location"]


def test_an_amount_the_official_rules_refuse_gets_their_finding_only(client, pump):
    invoice = deposit(client, pump, _with_text(ubl_invoice("F-DEC-PAY"), "cbc:PayableAmount", "NaN"))
    assert invoice["status"]["code"] == 213
    rules = {e["rule"] for e in invoice["errors"]}
    assert "BR-CO-16" in rules and "CHORALE-DECIMAL" not in rules
