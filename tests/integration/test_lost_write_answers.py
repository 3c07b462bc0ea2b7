"""A change whose invoice write landed but whose answer was lost is answered as the write it is (review r16, F3, F6,
F9): botocore resends a write whose answer timed out, and the resend fails the version check the first one moved."""

from __future__ import annotations

import json

import boto3
import pytest
from demo import MAIRIE_KEY, SUPPLIER_KEY, auth
from lost_write_answers import invoice_writes_fixture, made_available_fixture  # noqa: F401 (fixtures)

from chalicelib.adapters.invoice_repository import DynamoInvoiceRepository
from chalicelib.config import settings

JSON = {"Content-Type": "application/json"}


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


PDF = b"%PDF-1.4 bon de livraison"


def attach(client, invoice_id: str, key: str | None = "erp-pj-1"):
    headers = {"Content-Type": "application/octet-stream", "Content-Disposition": 'attachment; filename="bon.pdf"'}
    if key:
        headers["Idempotency-Key"] = key
    return client.http.post(f"/v1/invoices/{invoice_id}/attachments", headers=auth(SUPPLIER_KEY, **headers), body=PDF)


def recorded_attachments(client, invoice_id: str) -> list[str]:
    invoice = json.loads(client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(SUPPLIER_KEY)).body)
    return [a["id"] for a in invoice["attachments"]]


def attachment_files(invoice_id: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=settings().invoice_bucket, Prefix=f"attachments/{invoice_id}/")
    return [o["Key"].rsplit("/", 1)[-1] for o in listed.get("Contents", [])]


@pytest.mark.parametrize("failure", ["committed_then_resent", "committed_then_timed_out"])
def test_an_attachment_whose_answer_was_lost_is_answered_201_once_and_keeps_its_file(
    client, made_available, invoice_writes, failure
):
    invoice_id = made_available()
    getattr(invoice_writes, failure)()
    first = attach(client, invoice_id)
    assert first.status_code == 201, first.body
    attachment_id = json.loads(first.body)["id"]
    assert recorded_attachments(client, invoice_id) == [attachment_id]
    assert attachment_files(invoice_id) == [attachment_id]  # the other party's download finds it
    retry = attach(client, invoice_id)
    assert retry.status_code == 201 and json.loads(retry.body)["id"] == attachment_id, retry.body
    assert recorded_attachments(client, invoice_id) == [attachment_id]


def test_an_attachment_without_a_key_whose_answer_was_lost_keeps_its_file(client, made_available, invoice_writes):
    invoice_id = made_available()
    invoice_writes.committed_then_resent()
    first = attach(client, invoice_id, key=None)
    assert first.status_code == 201, first.body
    assert attachment_files(invoice_id) == recorded_attachments(client, invoice_id) == [json.loads(first.body)["id"]]


def test_an_attachment_that_lost_to_another_change_is_a_409_and_leaves_no_file(client, made_available, monkeypatch):
    invoice_id = made_available()
    real_save = DynamoInvoiceRepository.save
    racing = []

    def another_change_lands_first(self, invoice, claim_number=None):
        if not racing:
            racing.append(self.get(invoice_id))
            racing[0].set_status(204, "recipient", None, None, "2026-11-27T10:00:00.000Z")
            real_save(self, racing[0])
        return real_save(self, invoice, claim_number)

    monkeypatch.setattr(DynamoInvoiceRepository, "save", another_change_lands_first)
    answer = attach(client, invoice_id)
    assert answer.status_code == 409, answer.body
    assert recorded_attachments(client, invoice_id) == [] and attachment_files(invoice_id) == []


def test_an_attachment_whose_save_and_re_read_both_fail_keeps_its_file(client, made_available, invoice_writes):
    """The outcome is unknown: the file stays (here the record does hold it, and its download works)."""
    invoice_id = made_available()
    invoice_writes.committed_then_timed_out_and_unreadable()
    first = attach(client, invoice_id)
    assert first.status_code >= 500, first.body
    assert attachment_files(invoice_id) == recorded_attachments(client, invoice_id) != []


def test_a_throttled_attachment_records_nothing_and_leaves_no_file(client, made_available, invoice_writes):
    invoice_id = made_available()
    invoice_writes.throttled()
    first = attach(client, invoice_id)
    assert first.status_code >= 500, first.body
    assert recorded_attachments(client, invoice_id) == [] and attachment_files(invoice_id) == []
    retry = attach(client, invoice_id)  # the failed attempt left its key free
    assert retry.status_code == 201
    assert attachment_files(invoice_id) == recorded_attachments(client, invoice_id) == [json.loads(retry.body)["id"]]
