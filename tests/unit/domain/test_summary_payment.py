"""What a paying clerk reads from each deposit format: due date (BT-9), payment means (BG-16: BT-81, BT-84, BT-86)
and the seller's VAT identifier (BT-31), the same for UBL, CII, Factur-X and JSON (summarize). No AWS."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from invoices import SUPPLIER_SIRET, fr_vat, ubl_invoice
from structured_invoices import cii_invoice, facturx_pdf, json_invoice

from chalicelib.domain.invoice import PaymentMeans
from chalicelib.domain.summary import summarize
from chalicelib.formats.facturx import extract
from chalicelib.formats.ubl_writer import to_ubl
from chalicelib.validation import validate

IBAN = "FR7630006000011234567890189"


def read(xml: bytes):
    report = validate(xml)
    assert report.valid, report.findings
    return summarize(report.invoice)


FORMATS = {
    "ubl": lambda: ubl_invoice(),
    "cii": lambda: cii_invoice(),
    "facturx": lambda: extract(facturx_pdf()).xml,
    "json": lambda: to_ubl(json_invoice()),
}


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_gives_the_due_date_the_payment_means_and_the_seller_vat_id(name):
    summary = read(FORMATS[name]())
    assert summary.due_date == date(2026, 12, 20)
    assert summary.payment_means == (PaymentMeans("30", IBAN),)
    assert summary.seller_vat_id == fr_vat(SUPPLIER_SIRET)


def test_a_json_bic_and_a_credit_note_s_due_date_are_read():
    """A JSON credit note's BT-9 is written in the UBL CreditNote's PaymentMeans (EN 16931-3-2): read there too."""
    document = json_invoice(type_code="381")
    document["payment"] = {"means_code": "58", "account": IBAN, "bic": "AGRIFRPP882"}
    summary = read(to_ubl(document))
    assert summary.type == "credit_note" and summary.due_date == date(2026, 12, 20)
    assert summary.payment_means == (PaymentMeans("58", IBAN, "AGRIFRPP882"),)


def test_several_payment_instructions_are_each_kept_in_document_order():
    """UBL repeats cac:PaymentMeans (one means code, UBL-SR-47: e.g. two accounts); CII repeats its payment means."""
    other = (
        b"<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode><cac:PayeeFinancialAccount>"
        b"<cbc:ID>DE89370400440532013000</cbc:ID><cac:FinancialInstitutionBranch><cbc:ID>COBADEFFXXX</cbc:ID>"
        b"</cac:FinancialInstitutionBranch></cac:PayeeFinancialAccount></cac:PaymentMeans>"
    )
    xml = ubl_invoice().replace(b"</cac:PaymentMeans>", b"</cac:PaymentMeans>\n  " + other)
    assert read(xml).payment_means == (
        PaymentMeans("30", IBAN),
        PaymentMeans("30", "DE89370400440532013000", "COBADEFFXXX"),
    )
    second = b"""<ram:SpecifiedTradeSettlementPaymentMeans>
        <ram:TypeCode>30</ram:TypeCode>
        <ram:PayeePartyCreditorFinancialAccount><ram:IBANID>DE89370400440532013000</ram:IBANID></ram:PayeePartyCreditorFinancialAccount>
        <ram:PayeeSpecifiedCreditorFinancialInstitution><ram:BICID>COBADEFFXXX</ram:BICID></ram:PayeeSpecifiedCreditorFinancialInstitution>
      </ram:SpecifiedTradeSettlementPaymentMeans>
      <ram:ApplicableTradeTax>"""
    xml = cii_invoice().replace(
        b"<ram:ApplicableTradeTax>\n        <ram:CalculatedAmount>", second + b"\n        <ram:CalculatedAmount>", 1
    )
    assert read(xml).payment_means == (
        PaymentMeans("30", IBAN),
        PaymentMeans("30", "DE89370400440532013000", "COBADEFFXXX"),
    )


def test_an_invoice_without_due_date_nor_payment_means_has_none():
    document = copy.deepcopy(json_invoice())
    del document["due_date"], document["payment"]
    document["payment_terms"] = "30 jours fin de mois"  # BR-CO-25: a due date or payment terms when an amount is due
    summary = read(to_ubl(document))
    assert summary.due_date is None and summary.payment_means == ()


def _cii_means(*children: str) -> bytes:
    """The CII fixture with its payment means holding `children` after its type code (its FR IBAN replaced)."""
    account = _account(IBAN)
    xml = cii_invoice().decode()
    assert account in xml
    return xml.replace(account, "".join(children), 1).encode()


def _account(iban: str) -> str:
    return (
        "<ram:PayeePartyCreditorFinancialAccount>"
        f"<ram:IBANID>{iban}</ram:IBANID></ram:PayeePartyCreditorFinancialAccount>"
    )


def _institution(bic: str) -> str:
    return (
        "<ram:PayeeSpecifiedCreditorFinancialInstitution>"
        f"<ram:BICID>{bic}</ram:BICID></ram:PayeeSpecifiedCreditorFinancialInstitution>"
    )


def test_a_cii_bic_is_paired_with_the_account_of_its_position():
    """CII does not nest the BIC in the account: the second institution is the second account's, not dropped, and
    never the first account's."""
    de = "DE89370400440532013000"
    xml = _cii_means(_account(IBAN), _account(de), _institution("AGRIFRPP882"), _institution("COBADEFFXXX"))
    assert read(xml).payment_means == (PaymentMeans("30", IBAN, "AGRIFRPP882"), PaymentMeans("30", de, "COBADEFFXXX"))
    # one of each, in either order: one payment means
    for children in [(_account(IBAN), _institution("AGRIFRPP882")), (_institution("AGRIFRPP882"), _account(IBAN))]:
        assert read(_cii_means(*children)).payment_means == (PaymentMeans("30", IBAN, "AGRIFRPP882"),)
    # a BIC beyond the accounts is shown on its own
    xml = _cii_means(_account(IBAN), _institution("AGRIFRPP882"), _institution("COBADEFFXXX"))
    assert read(xml).payment_means == (
        PaymentMeans("30", IBAN, "AGRIFRPP882"),
        PaymentMeans("30", None, "COBADEFFXXX"),
    )


def test_two_accounts_in_one_ubl_payment_means_are_both_listed_each_with_its_own_bic():
    """UBL's schema allows one cac:PayeeFinancialAccount per cac:PaymentMeans, the official rules take two (and the
    platform runs no XSD): both are listed, each with the BIC nested in it, as two UBL payment means would be."""
    de = (
        b"<cac:PayeeFinancialAccount><cbc:ID>DE89370400440532013000</cbc:ID><cac:FinancialInstitutionBranch>"
        b"<cbc:ID>COBADEFFXXX</cbc:ID></cac:FinancialInstitutionBranch></cac:PayeeFinancialAccount>"
    )
    xml = ubl_invoice().replace(b"</cac:PayeeFinancialAccount>", b"</cac:PayeeFinancialAccount>" + de, 1)
    assert read(xml).payment_means == (
        PaymentMeans("30", IBAN),
        PaymentMeans("30", "DE89370400440532013000", "COBADEFFXXX"),
    )


def test_a_repeated_ubl_due_date_is_read_as_its_first():
    """The reader keeps the first cbc:DueDate and no official rule counts them: the platform's CHORALE-CARDINALITY
    refuses the invoice (tests/unit/services/test_controls_cardinality.py)."""
    xml = ubl_invoice().replace(
        b"<cbc:DueDate>2026-12-20</cbc:DueDate>",
        b"<cbc:DueDate>2026-12-20</cbc:DueDate><cbc:DueDate>2027-01-20</cbc:DueDate>",
    )
    assert read(xml).due_date == date(2026, 12, 20)
