"""A UBL CreditNote's BT-9 is cac:PaymentMeans/cbc:PaymentDueDate (EN 16931-3-2): the UBL 2.1 CreditNote has no
cbc:DueDate, and one is refused (213 REJ_SEMAN, CHORALE-CARDINALITY) as the syntax's XSD refuses it, instead of
being shown as the due date, or winning over the bound element (review r55 F2)."""

from __future__ import annotations

import json

import pytest
from demo import SUPPLIER_KEY, auth
from processing_support import deposit_processed
from structured_invoices import json_invoice
from ubl_xsd import xsd_errors

from chalicelib.formats.ubl_writer import to_ubl

MESSAGE = "cbc:DueDate is not an element of a UBL 2.1 CreditNote; BT-9 goes in cac:PaymentMeans/cbc:PaymentDueDate."


def credit_note(number: str, *, payment_due_date: bool = True, due_date: str | None = None) -> bytes:
    """A UBL CreditNote (a JSON 381's rendition: BT-9 2026-12-20 in its payment means), with a cbc:DueDate if asked."""
    document = json_invoice(number, type_code="381")
    if not payment_due_date:
        del document["due_date"]
    xml = to_ubl(document).decode()
    if due_date:
        issue = xml.index("</cbc:IssueDate>") + len("</cbc:IssueDate>")
        xml = f"{xml[:issue]}<cbc:DueDate>{due_date}</cbc:DueDate>{xml[issue:]}"
    return xml.encode()


def test_a_credit_note_s_due_date_is_read_from_its_payment_means():
    invoice = credit_note("AV-DUE-0")
    assert b"<cbc:PaymentDueDate>2026-12-20</cbc:PaymentDueDate>" in invoice and b"cbc:DueDate" not in invoice
    assert not xsd_errors(invoice)


@pytest.mark.parametrize("payment_due_date", [False, True], ids=["alone", "with-payment-due-date"])
def test_a_credit_note_with_a_cbc_due_date_is_refused(client, pump, payment_due_date):
    body = credit_note(f"AV-DUE-{int(payment_due_date)}", payment_due_date=payment_due_date, due_date="2026-12-31")
    assert xsd_errors(body)  # the official XSD refuses it too
    invoice = deposit_processed(client, pump, body)
    assert invoice["status"]["code"] == 213 and invoice["type"] == "credit_note"
    [error] = [e for e in invoice["errors"] if e["severity"] == "fatal"]
    assert (error["rule"], error["message"]) == ("CHORALE-CARDINALITY", MESSAGE)
    assert error["location"] == "/cn:CreditNote/cbc:DueDate"
    history = json.loads(client.http.get(f"/v1/invoices/{invoice['id']}/history", headers=auth(SUPPLIER_KEY)).body)
    assert history["history"][0]["reason_code"] == "REJ_SEMAN"


def test_a_credit_note_with_its_due_date_in_its_payment_means_is_accepted(client, pump):
    invoice = deposit_processed(client, pump, credit_note("AV-DUE-OK"))
    assert invoice["status"]["code"] == 203 and invoice["due_date"] == "2026-12-20"
