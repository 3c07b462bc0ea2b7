"""Number claims (the DOUBLON control) are only ever held by an invoice that is, or may still be, accepted: an
attempt that claimed and then died leaves no claim behind once its invoice is decided 213 (review r14), and no
rejection removes another invoice's claim."""

from __future__ import annotations

import json

import pytest
from demo import ADMIN_KEY, SUPPLIER_KEY, auth
from invoices import MAIRIE_SIRET, SUPPLIER_SIRET, ubl_invoice

from chalicelib.adapters import tables
from chalicelib.adapters.invoice_repository import DynamoInvoiceRepository
from chalicelib.services import processing

XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}


def claim_key(number: str, year: int = 2026) -> str:
    return f"{SUPPLIER_SIRET}#{year}#{number}"


def holder(number: str) -> str | None:
    """The invoice holding that number's claim (None: free)."""
    try:
        return tables.NumberClaimRecord.get(claim_key(number), consistent_read=True).invoice_id
    except tables.NumberClaimRecord.DoesNotExist:
        return None


def drain(pump) -> None:
    while pump.deliver_sqs_once("validate_invoices"):
        pass


def post(client, body: bytes) -> str:
    response = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=body)
    assert response.status_code == 202, response.body
    return json.loads(response.body)["id"]


def decided(client, invoice_id: str) -> tuple[int, str | None]:
    """(status code, reason code of the last status) as the supplier reads them."""
    headers = auth(SUPPLIER_KEY)
    status = json.loads(client.http.get(f"/v1/invoices/{invoice_id}", headers=headers).body)["status"]["code"]
    history = json.loads(client.http.get(f"/v1/invoices/{invoice_id}/history", headers=headers).body)["history"]
    return status, history[-1]["reason_code"]


def close_service(client, code: str = "SERV-TECH") -> None:
    response = client.http.put(f"/v1/admin/structures/{MAIRIE_SIRET}/services/{code}", headers=auth(ADMIN_KEY, **JSON),
                               body=json.dumps({"active": False}))  # fmt: skip
    assert response.status_code == 200, response.body


@pytest.fixture
def record_write_dies_once(monkeypatch):
    """The first invoice record write fails (a Lambda timeout or crash after the number claim)."""
    real_save = tables.InvoiceRecord.save
    calls = []

    def save(self, *args, **kwargs):
        calls.append(self.id)
        if len(calls) == 1:
            raise RuntimeError("simulated crash after the number claim")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(tables.InvoiceRecord, "save", save)
    return calls


def corrected(number: str) -> bytes:
    """The same number, routed to a service still open."""
    return ubl_invoice(number, service_code="SERV-ECOLES", engagement="EJ-1")


def test_a_claim_left_by_a_crashed_attempt_is_released_when_the_retry_rejects_the_invoice(
    client, pump, record_write_dies_once
):
    first = post(client, ubl_invoice("ORPHAN-1"))
    assert pump.deliver_sqs_once("validate_invoices") == 1  # claims ORPHAN-1, then dies before its record
    assert holder("ORPHAN-1") == first
    close_service(client)  # meanwhile: the retry's routing control now rejects the invoice
    drain(pump)
    assert decided(client, first) == (213, "REJ_ADR")
    assert holder("ORPHAN-1") is None  # a 213 invoice claims nothing

    second = post(client, corrected("ORPHAN-1"))  # the supplier's corrected re-deposit
    drain(pump)
    assert decided(client, second)[0] == 203 and holder("ORPHAN-1") == second
    third = post(client, corrected("ORPHAN-1"))  # a true duplicate is still one
    drain(pump)
    assert decided(client, third) == (213, "DOUBLON") and holder("ORPHAN-1") == second


def test_a_retry_that_rejects_never_releases_another_invoice_s_claim(client, pump, monkeypatch):
    holder_id = post(client, ubl_invoice("KEPT-1"))
    drain(pump)
    assert decided(client, holder_id)[0] == 203
    real_validate, calls = processing.validate_en16931, []

    def validate_dies_once(data):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("simulated crash before any claim")
        return real_validate(data)

    monkeypatch.setattr(processing, "validate_en16931", validate_dies_once)
    same_number = post(client, ubl_invoice("KEPT-1"))
    assert pump.deliver_sqs_once("validate_invoices") == 1  # dies: the message comes back
    close_service(client)
    drain(pump)  # the retry rejects it for its routing, and gives back only a claim of its own
    assert decided(client, same_number) == (213, "REJ_ADR")
    assert holder("KEPT-1") == holder_id
    duplicate = post(client, corrected("KEPT-1"))
    drain(pump)
    assert decided(client, duplicate) == (213, "DOUBLON")


def test_a_claim_left_by_a_crash_between_the_213_and_its_release_is_given_back_by_the_redelivery(
    client, pump, record_write_dies_once, monkeypatch
):
    real_release, releases = DynamoInvoiceRepository.release_number, []

    def release_dies_once(self, claim_number, invoice_id):
        releases.append(invoice_id)
        if len(releases) == 1:
            raise RuntimeError("simulated crash after the 213 was saved")
        return real_release(self, claim_number, invoice_id)

    monkeypatch.setattr(DynamoInvoiceRepository, "release_number", release_dies_once)
    first = post(client, ubl_invoice("ORPHAN-2"))
    pump.deliver_sqs_once("validate_invoices")  # claims, dies before its record
    close_service(client)
    pump.deliver_sqs_once("validate_invoices")  # saves the 213, dies before giving the claim back
    assert decided(client, first) == (213, "REJ_ADR") and holder("ORPHAN-2") == first
    drain(pump)  # the next redelivery finds the 213 and gives the claim back
    assert holder("ORPHAN-2") is None and releases == [first, first]
    second = post(client, corrected("ORPHAN-2"))
    drain(pump)
    assert decided(client, second)[0] == 203


def test_a_claim_is_released_only_by_the_invoice_holding_it(aws):
    repository = DynamoInvoiceRepository()
    key = claim_key("MINE-1")
    tables.NumberClaimRecord(key, invoice_id="holder").save()
    assert repository.release_number(key, "another") is False
    assert holder("MINE-1") == "holder"
    assert repository.release_number(key, "holder") is True
    assert holder("MINE-1") is None
    assert repository.release_number(key, "holder") is False  # already free: nothing to do, no error
