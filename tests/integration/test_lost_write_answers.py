"""A change whose invoice write landed but whose answer was lost is answered as the write it is (review r16, F3, F6,
F9): botocore resends a write whose answer timed out, and the resend fails the version check the first one moved."""

from __future__ import annotations

import json

import pytest
from demo import MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import ubl_invoice
from lost_write_answers import invoice_writes_fixture  # noqa: F401 (the invoice_writes fixture)

from chalicelib.adapters.invoice_repository import DynamoInvoiceRepository

XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def made_available(client, pump):
    counter = iter(range(10_000))

    def make() -> str:
        body = ubl_invoice(f"F-LOST-{next(counter)}")
        deposited = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=body)
        while pump.deliver_sqs_once("validate_invoices"):
            pass
        return json.loads(deposited.body)["id"]

    return make


def post_status(client, invoice_id: str, key: str, body: dict):
    return client.http.post(f"/v1/invoices/{invoice_id}/status", headers=auth(key, **JSON), body=json.dumps(body))


def history(client, invoice_id: str) -> list[dict]:
    return json.loads(client.http.get(f"/v1/invoices/{invoice_id}/history", headers=auth(SUPPLIER_KEY)).body)["history"]


@pytest.mark.parametrize("failure", ["committed_then_resent", "committed_then_timed_out"])
def test_a_status_change_whose_answer_was_lost_is_answered_200(client, made_available, invoice_writes, failure):
    invoice_id = made_available()
    getattr(invoice_writes, failure)()
    answer = post_status(client, invoice_id, MAIRIE_KEY, {"code": 207, "reason_code": "NON_CONFORME", "comment": "vu"})
    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body)["status"]["code"] == 207
    assert [(h["code"], h["actor"], h["comment"]) for h in history(client, invoice_id)][-1] == (207, "recipient", "vu")
    assert len(history(client, invoice_id)) == 3  # written once


def test_a_status_change_that_lost_to_another_party_s_is_still_a_409(client, made_available, monkeypatch):
    """The re-read tells the two apart: another change in its place is someone else's."""
    invoice_id = made_available()
    real_save = DynamoInvoiceRepository.save
    racing = []

    def another_change_lands_first(self, invoice, claim_number=None):
        if not racing:  # the supplier's cancellation, decided on the same 203 and saved first
            racing.append(self.get(invoice_id))
            racing[0].set_status(220, "supplier", None, "annulée", "2026-11-27T10:00:00.000Z")
            real_save(self, racing[0])
        return real_save(self, invoice, claim_number)

    monkeypatch.setattr(DynamoInvoiceRepository, "save", another_change_lands_first)
    answer = post_status(client, invoice_id, MAIRIE_KEY, {"code": 204})
    assert answer.status_code == 409 and json.loads(answer.body)["title"] == "Concurrent update", answer.body
    assert [h["code"] for h in history(client, invoice_id)] == [200, 203, 220]


def test_a_re_route_whose_answer_was_lost_is_answered_200(client, made_available, invoice_writes):
    invoice_id = made_available()
    assert post_status(client, invoice_id, MAIRIE_KEY, {"code": 221}).status_code == 200
    invoice_writes.committed_then_resent()
    body = {"service_code": "SERV-TECH", "comment": "bon service"}
    answer = client.http.post(f"/v1/invoices/{invoice_id}/reroute", headers=auth(SUPPLIER_KEY, **JSON),
                              body=json.dumps(body))  # fmt: skip
    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body)["status"]["code"] == 203
    assert [(h["code"], h["comment"]) for h in history(client, invoice_id)][-2:] == [(221, None), (203, "bon service")]
