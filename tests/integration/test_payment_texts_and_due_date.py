"""Review r47: what the paying clerk reads (BT-84 account, BT-86 BIC, BT-31 VAT identifier, BT-1 number) displays as it
reads, and a due date (BT-9) that is not a date is refused rather than shown as none."""

from __future__ import annotations

import json

import pytest
from demo import SUPPLIER_KEY, auth
from invoices import SUPPLIER_SIRET, fr_vat, ubl_invoice
from processing_support import deposit_processed
from structured_invoices import cii_invoice, json_invoice

IBAN = "FR7630006000011234567890189"
ACCOUNT = f"<cac:PayeeFinancialAccount><cbc:ID>{IBAN}</cbc:ID></cac:PayeeFinancialAccount>"
CII_DUE = '<udt:DateTimeString format="102">20261220</udt:DateTimeString>'


def deposit(client, pump, body: bytes, content_type: str = "application/xml") -> dict:
    invoice = deposit_processed(client, pump, body, content_type)
    history = client.http.get(f"/v1/invoices/{invoice['id']}/history", headers=auth(SUPPLIER_KEY)).body
    return invoice | {"reason_code": json.loads(history)["history"][-1]["reason_code"]}


def ubl(number: str, *replacements: tuple[str, str]) -> bytes:
    xml = ubl_invoice(number).decode()
    for old, new in replacements:
        assert old in xml
        xml = xml.replace(old, new, 1)
    return xml.encode()


def refusal(invoice: dict) -> dict:
    """The first finding of a 213 REJ_SEMAN invoice: the control that refused it."""
    assert invoice["status"]["code"] == 213, invoice["errors"]
    assert invoice["reason_code"] == "REJ_SEMAN"
    return invoice["errors"][0]


@pytest.mark.parametrize(
    ("account", "character"),
    [
        ("FR76&#x202E;9810&#x202C;30006000011234567890189", "U+202E"),  # displayed as FR7601893000…
        ("&#x2067;FR7630006000011234567890189&#x2069;", "U+2067"),
        ("FR76&#x200B;3000&#x200B;6000011234567890189", "U+200B"),
        ("FR76&#x2060;30006000011234567890189", "U+2060"),
        ("FR76&#xFEFF;30006000011234567890189", "U+FEFF"),
        ("FR76&#x9B;31m30006000011234567890189", "U+009B"),
        ("FR76&#x85;30006000011234567890189", "U+0085"),
        ("FR76&#x7F;30006000011234567890189", "U+007F"),
        ("FR76 3000 6000\n0112 3456 7890 189", "U+000A"),
        ("FR76\t30006000011234567890189", "U+0009"),
        ("FR76&#x2028;30006000011234567890189", "U+2028"),
        ("FR76&#x3164;30006000011234567890189", "U+3164"),  # Hangul filler: blank, but a letter
        ("ＦＲ７６30006000011234567890189", "U+FF26"),  # full-width
        ("FR76300060000112345678901&#x417;9", "U+0417"),  # Cyrillic Ze, drawn as 3
        ("FR&#x667;&#x666;30006000011234567890189", "U+0667"),  # Arabic-Indic digits
    ],
)
def test_a_credit_transfer_account_that_would_not_display_as_it_reads_is_refused(client, pump, account, character):
    invoice = deposit(
        client, pump, ubl(f"F-ACC-{character}", (f"<cbc:ID>{IBAN}</cbc:ID>", f"<cbc:ID>{account}</cbc:ID>"))
    )
    error = refusal(invoice)
    assert error["rule"] == "CHORALE-PAYMENT-TEXT"
    assert error["message"].startswith(f"BT-84 Payment account identifier of payment means 1 holds {character}")
    assert error["location"].endswith("cac:PayeeFinancialAccount/cbc:ID")


def test_a_windows_1252_account_declared_iso_8859_1_is_refused_with_a_hint_at_its_encoding(client, pump):
    """Review r54 F6: a windows-1252 export declared ISO-8859-1 whose account holds a ’ (byte 0x92, read as U+0092)."""
    xml = ubl("F-ACC-1252", (IBAN, "FR76’30006000011234567890189")).decode()
    body = xml.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"', 1).encode("cp1252")
    error = refusal(deposit(client, pump, body))
    assert error["rule"] == "CHORALE-PAYMENT-TEXT"
    assert error["message"] == (
        "BT-84 Payment account identifier of payment means 1 holds U+0092, a control, format or invisible character: "
        "it would not display as it reads; in a document declared ISO-8859-1, U+0080 to U+009F usually mean it is "
        'written in windows-1252: declare encoding="windows-1252".'
    )


def test_an_iban_in_groups_of_spaces_and_a_proprietary_non_ascii_account_are_taken(client, pump):
    grouped = deposit(client, pump, ubl("F-ACC-G", (IBAN, "FR76 3000 6000\u00a00112 3456 7890 189")))
    assert grouped["status"]["code"] == 203 and grouped["payment_means"][0]["account"].startswith("FR76 3000")
    # A means that is not a credit transfer (here 1, not defined) may have any visible text as its account
    other = deposit(client, pump, ubl("F-ACC-P", ("<cbc:PaymentMeansCode>30<", "<cbc:PaymentMeansCode>1<"),
                                       (IBAN, "Compte n° 12")))  # fmt: skip
    assert other["status"]["code"] == 203, other["errors"]


def test_every_payment_means_bic_and_the_seller_vat_id_are_controlled(client, pump):
    second = ACCOUNT.replace(IBAN, "DE89370400440532013000").replace(
        "</cbc:ID>",
        "</cbc:ID><cac:FinancialInstitutionBranch><cbc:ID>COBA&#x202E;DEFF</cbc:ID></cac:FinancialInstitutionBranch>",
    )
    means = "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>" + second + "</cac:PaymentMeans>"
    bic = refusal(deposit(client, pump, ubl("F-BIC-1", ("</cac:PaymentMeans>", "</cac:PaymentMeans>" + means))))
    assert bic["rule"] == "CHORALE-PAYMENT-TEXT"
    assert bic["message"].startswith("BT-86 Payment service provider identifier of payment means 2 holds U+202E")
    assert bic["location"].endswith("cac:FinancialInstitutionBranch/cbc:ID")

    vat = f"<cbc:CompanyID>{fr_vat(SUPPLIER_SIRET)}</cbc:CompanyID>"
    seller = refusal(
        deposit(client, pump, ubl("F-VAT-1", (vat, "<cbc:CompanyID>FR&#x202E;12345678901</cbc:CompanyID>")))
    )
    assert seller["rule"] == "CHORALE-PAYMENT-TEXT"
    assert seller["message"].startswith("BT-31 Seller VAT identifier holds U+202E")
    assert seller["location"].endswith("cbc:CompanyID")


def test_cii_and_json_accounts_are_controlled_too(client, pump):
    cii = cii_invoice("C-ACC-1").decode().replace(IBAN, "FR76&#x200B;30006000011234567890189")
    assert refusal(deposit(client, pump, cii.encode()))["rule"] == "CHORALE-PAYMENT-TEXT"
    doc = json_invoice("J-ACC-1")
    doc["payment"]["account"] = "FR76\u202e9810\u202c30006000011234567890189"
    assert (
        refusal(deposit(client, pump, json.dumps(doc).encode(), "application/json"))["rule"] == "CHORALE-PAYMENT-TEXT"
    )


def test_an_invoice_number_with_a_bidi_override_is_refused(client, pump):
    error = refusal(deposit(client, pump, ubl("F-NUM", ("<cbc:ID>F-NUM</cbc:ID>", "<cbc:ID>F-&#x202E;1-R47</cbc:ID>"))))
    assert error["rule"] == "CHORALE-NUMBER" and error["message"].startswith("BT-1 Invoice number holds U+202E")


@pytest.mark.parametrize("due", ["2026-02-30", "2026-13-45", "tomorrow", "20261220"])
def test_a_ubl_due_date_that_is_not_a_date_is_refused(client, pump, due):
    invoice = deposit(client, pump, ubl(f"F-DUE-{due}", ("<cbc:DueDate>2026-12-20<", f"<cbc:DueDate>{due}<")))
    error = refusal(invoice)
    assert error["rule"] == "CHORALE-DUE-DATE"
    assert error["message"] == f"BT-9 Payment due date {due!r} is not a valid calendar date."
    assert error["location"].endswith("cbc:DueDate")


def test_a_cii_due_date_that_is_not_a_date_is_refused(client, pump):
    cii = cii_invoice("C-DUE-1").decode().replace(CII_DUE, CII_DUE.replace("20261220", "20260230"))
    error = refusal(deposit(client, pump, cii.encode()))
    assert error["rule"] == "CHORALE-DUE-DATE" and "'20260230'" in error["message"]


@pytest.mark.parametrize(("code", "text"), [("610", "202701"), ("616", "202701"), ("610", "20270115")])
def test_a_cii_due_date_in_another_format_than_102_is_refused_naming_the_format(client, pump, code, text):
    """Only format 102 (YYYYMMDD) is a CII date in EN 16931: 610 (YYYYMM) is refused, even when its digits would read
    as a day, rather than shown as a due date the document does not state."""
    due = f'<udt:DateTimeString format="{code}">{text}</udt:DateTimeString>'
    invoice = deposit(client, pump, cii_invoice(f"C-DUE-{code}-{text}").decode().replace(CII_DUE, due).encode())
    error = refusal(invoice)
    assert error["rule"] == "CHORALE-DUE-DATE"
    assert error["message"] == (
        f"BT-9 Payment due date '{text}' is written in format '{code}': a CII date is format 102 (YYYYMMDD)."
    )
    assert invoice["due_date"] is None


def test_a_cii_issue_date_in_another_format_than_102_is_not_shown_as_a_date(client, pump):
    """BR-03 reads BT-2 in format 102 only: the invoice it rejects for a missing issue date shows none either."""
    issue = '<udt:DateTimeString format="102">20261120</udt:DateTimeString></ram:IssueDateTime>'
    cii = cii_invoice("C-ISSUE-610").decode()
    assert issue in cii
    invoice = deposit(client, pump, cii.replace(issue, issue.replace('"102"', '"610"')).encode())
    assert invoice["status"]["code"] == 213 and "BR-03" in [e["rule"] for e in invoice["errors"]]
    assert invoice["issue_date"] is None


def test_a_valid_due_date_with_a_time_zone_is_taken(client, pump):
    invoice = deposit(client, pump, ubl("F-DUE-Z", ("<cbc:DueDate>2026-12-20<", "<cbc:DueDate>2026-12-20+01:00<")))
    assert invoice["status"]["code"] == 203 and invoice["due_date"] == "2026-12-20"


@pytest.mark.parametrize(
    ("name", "character"),
    [("Atelier Numérique SARL\u202e LRAS", "U+202E"), ("\u2066Atelier\u2069", "U+2066"), ("Caf\x82", "U+0082")],
)
def test_a_seller_name_that_would_not_display_as_it_reads_is_refused(client, pump, name, character):
    """r62 L2: BT-27 is shown to the payer as supplier.invoiced_name; an RLO reordered it on an accepted invoice."""
    invoice = deposit(client, pump, ubl_invoice("F-NAME-RLO", seller_name=name))
    error = refusal(invoice)
    assert error["rule"] == "CHORALE-SELLER-NAME" and character in error["message"] and "BT-27" in error["message"]
    assert error["location"].startswith("/")


def test_a_seller_name_on_two_lines_is_taken_as_bt_1_is():
    from chalicelib.domain.invoice import InvoiceSummary
    from chalicelib.services.controls import seller_name_failure

    assert seller_name_failure(InvoiceSummary(seller_name="Atelier Numérique\nSARL")) is None
    assert seller_name_failure(InvoiceSummary(seller_name=None)) is None
