"""CHORALE-IBAN: a credit transfer's account (BT-84) that looks like an IBAN but is not a valid one is taken, with a
warning naming BT-84, its payment means and why; a valid IBAN and a bank's own account number are taken without."""

from __future__ import annotations

import json

from invoices import ubl_invoice
from processing_support import deposit_processed as deposit
from structured_invoices import cii_invoice, json_invoice

IBAN = "FR7630006000011234567890189"


def iban_warnings(invoice: dict) -> list[dict]:
    return [e for e in invoice["errors"] if e["rule"] == "CHORALE-IBAN"]


def test_an_account_failing_the_iban_checksum_is_taken_with_a_warning(client, pump):
    bad = IBAN[:-1] + "8"
    invoice = deposit(client, pump, ubl_invoice("F-IBAN-1").decode().replace(IBAN, bad).encode())
    assert invoice["status"]["code"] == 203, invoice["errors"]
    assert invoice["payment_means"][0]["account"] == bad  # shown as written: the payer decides
    [warning] = iban_warnings(invoice)
    assert warning == {
        "rule": "CHORALE-IBAN",
        "severity": "warning",
        "message": "BT-84 Payment account identifier of payment means 1 is not a valid IBAN (checksum): its check "
        "digits do not match (ISO 13616 mod-97).",
        "location": warning["location"],
    }
    assert warning["location"].endswith("cac:PayeeFinancialAccount/cbc:ID")


def test_a_second_means_of_the_wrong_length_is_named_by_its_position(client, pump):
    short = "DE8937040044053201300"
    means = (f"<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode><cac:PayeeFinancialAccount>"
             f"<cbc:ID>{short}</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>")  # fmt: skip
    xml = ubl_invoice("F-IBAN-2").decode().replace("</cac:PaymentMeans>", "</cac:PaymentMeans>" + means, 1)
    invoice = deposit(client, pump, xml.encode())
    assert invoice["status"]["code"] == 203, invoice["errors"]
    [warning] = iban_warnings(invoice)
    assert warning["message"] == (
        "BT-84 Payment account identifier of payment means 2 is not a valid IBAN (length): a DE IBAN has 22 "
        "characters, not 21."
    )
    assert "cac:PaymentMeans[2]" in warning["location"]


def test_cii_and_json_accounts_are_checked_too(client, pump):
    cii = cii_invoice("C-IBAN-1").decode().replace(IBAN, "fr76 3000 6000 0112 3456 7890 18")
    invoice = deposit(client, pump, cii.encode())
    assert invoice["status"]["code"] == 203
    assert [w["message"].split(": ")[0] for w in iban_warnings(invoice)] == [
        "BT-84 Payment account identifier of payment means 1 is not a valid IBAN (length)"
    ]
    doc = json_invoice("J-IBAN-1")
    doc["payment"]["account"] = "FR7630006000011234567890180"
    invoice = deposit(client, pump, json.dumps(doc).encode(), "application/json")
    assert invoice["status"]["code"] == 203 and len(iban_warnings(invoice)) == 1


def test_a_valid_iban_a_lower_case_one_and_a_bank_s_own_number_carry_no_warning(client, pump):
    for number, account in [("F-IBAN-3", IBAN), ("F-IBAN-4", "fr76 3000 6000 0112 3456 7890 189"),
                            ("F-IBAN-5", "30006 00001 12345678901 89")]:  # fmt: skip
        invoice = deposit(client, pump, ubl_invoice(number).decode().replace(IBAN, account).encode())
        assert invoice["status"]["code"] == 203 and iban_warnings(invoice) == [], invoice["errors"]


def test_a_direct_debit_s_account_is_not_checked(client, pump):
    xml = ubl_invoice("F-IBAN-6").decode().replace(IBAN, IBAN[:-1] + "8")
    xml = xml.replace("<cbc:PaymentMeansCode>30<", "<cbc:PaymentMeansCode>49<", 1)
    invoice = deposit(client, pump, xml.encode())
    assert invoice["status"]["code"] == 203 and iban_warnings(invoice) == [], invoice["errors"]
