"""Status changes and re-routes take an Idempotency-Key: a retry of a change already made is answered with the
invoice (200), not refused as a transition from the status it set (409), even when the first attempt's answer and
its re-read were both lost (a 503 to the client)."""

from __future__ import annotations

import json

import pytest
from demo import MAIRIE_KEY, SUPPLIER_KEY, auth
from lost_write_answers import invoice_writes_fixture, made_available_fixture  # noqa: F401 (fixtures)

from chalicelib.adapters.invoice_repository import DynamoInvoiceRepository

JSON = {"Content-Type": "application/json"}
APPROVE = {"code": 205, "comment": "service fait"}


def post(client, invoice_id: str, action: str, key: str, body: dict, idempotency_key: str | None = None):
    headers = auth(key, **JSON)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return client.http.post(f"/v1/invoices/{invoice_id}/{action}", headers=headers, body=json.dumps(body))


def codes(client, invoice_id: str) -> list[int]:
    answer = client.http.get(f"/v1/invoices/{invoice_id}/history", headers=auth(SUPPLIER_KEY))
    return [h["code"] for h in json.loads(answer.body)["history"]]


def test_a_keyed_status_change_s_retry_is_answered_with_the_invoice_and_written_once(client, made_available):
    invoice_id = made_available()
    first = post(client, invoice_id, "status", MAIRIE_KEY, APPROVE, "erp-approve-1")
    again = post(client, invoice_id, "status", MAIRIE_KEY, APPROVE, "erp-approve-1")
    assert first.status_code == again.status_code == 200, again.body
    assert json.loads(again.body) == json.loads(first.body)
    assert codes(client, invoice_id) == [200, 203, 205]
    # without the key, the same request is a transition from the status it set
    assert post(client, invoice_id, "status", MAIRIE_KEY, APPROVE).status_code == 409


def test_a_key_used_again_with_another_body_is_a_409_and_writes_nothing(client, made_available):
    invoice_id = made_available()
    assert post(client, invoice_id, "status", MAIRIE_KEY, {"code": 204}, "erp-1").status_code == 200
    other = post(client, invoice_id, "status", MAIRIE_KEY, {"code": 205}, "erp-1")
    assert other.status_code == 409, other.body
    assert json.loads(other.body)["detail"].startswith("This Idempotency-Key was already used with a different")
    assert other.headers["Content-Type"] == "application/problem+json"
    assert codes(client, invoice_id) == [200, 203, 204]
    # a new key makes the change
    assert post(client, invoice_id, "status", MAIRIE_KEY, {"code": 205}, "erp-2").status_code == 200
    assert codes(client, invoice_id) == [200, 203, 204, 205]


def test_a_key_is_the_structure_s_own(client, made_available):
    """The supplier's key does not answer the recipient's change, nor the other way round."""
    invoice_id = made_available()
    assert post(client, invoice_id, "status", MAIRIE_KEY, {"code": 221}, "k").status_code == 200
    rerouted = post(client, invoice_id, "reroute", SUPPLIER_KEY, {"comment": "bon service"}, "k")
    assert rerouted.status_code == 200, rerouted.body
    assert codes(client, invoice_id) == [200, 203, 221, 203]


def test_a_change_whose_answer_and_re_read_were_lost_is_answered_200_on_its_keyed_retry(
    client, made_available, invoice_writes
):
    invoice_id = made_available()
    invoice_writes.committed_then_timed_out_and_unreadable()
    lost = post(client, invoice_id, "status", MAIRIE_KEY, APPROVE, "erp-approve-2")
    assert lost.status_code == 503, lost.body  # the client cannot know the change was made
    retry = post(client, invoice_id, "status", MAIRIE_KEY, APPROVE, "erp-approve-2")
    assert retry.status_code == 200, retry.body
    assert json.loads(retry.body)["status"]["code"] == 205
    assert codes(client, invoice_id) == [200, 203, 205]


def test_a_keyed_re_route_s_retry_is_answered_200(client, made_available, invoice_writes):
    invoice_id = made_available()
    assert post(client, invoice_id, "status", MAIRIE_KEY, {"code": 221}).status_code == 200
    body = {"service_code": "SERV-TECH", "comment": "bon service"}
    invoice_writes.committed_then_timed_out_and_unreadable()
    assert post(client, invoice_id, "reroute", SUPPLIER_KEY, body, "erp-reroute").status_code == 503
    retry = post(client, invoice_id, "reroute", SUPPLIER_KEY, body, "erp-reroute")
    assert retry.status_code == 200, retry.body
    assert codes(client, invoice_id) == [200, 203, 221, 203]
    assert post(client, invoice_id, "reroute", SUPPLIER_KEY, {"comment": "autre"}, "erp-reroute").status_code == 409


@pytest.mark.parametrize("same_key", [True, False])
def test_a_same_key_attempt_that_won_the_race_answers_the_loser(client, made_available, monkeypatch, same_key):
    """Two attempts of one keyed change run at once: the loser's save fails the version check, and its re-read finds
    the winner's write under its key, so it answers 200. Without the key's match it stays a 409."""
    invoice_id = made_available()
    real_save = DynamoInvoiceRepository.save
    racing = []

    def the_other_attempt_lands_first(self, invoice, claim_number=None):
        if not racing:
            racing.append(self.get(invoice_id))
            # the same change, made a millisecond apart (so its entry differs from the loser's)
            racing[0].set_status(205, "recipient", None, "service fait", "2026-11-27T10:00:00.001Z")
            racing[0].request_keys = list(invoice.request_keys) if same_key else []
            real_save(self, racing[0])
        return real_save(self, invoice, claim_number)

    monkeypatch.setattr(DynamoInvoiceRepository, "save", the_other_attempt_lands_first)
    answer = post(client, invoice_id, "status", MAIRIE_KEY, APPROVE, "erp-race")
    assert answer.status_code == (200 if same_key else 409), answer.body
    assert codes(client, invoice_id) == [200, 203, 205]


def test_the_openapi_document_and_a_blank_key_say_the_routes_take_one(client, made_available):
    spec = json.loads(client.http.get("/openapi.json").body)
    for path in ("/v1/invoices/{invoice_id}/status", "/v1/invoices/{invoice_id}/reroute"):
        assert "Idempotency-Key" in [p["name"] for p in spec["paths"][path]["post"]["parameters"]], path
    invoice_id = made_available()
    blank = post(client, invoice_id, "status", MAIRIE_KEY, APPROVE, " ")
    assert blank.status_code == 400, blank.body
    assert codes(client, invoice_id) == [200, 203]


def test_a_key_holding_a_lone_surrogate_is_a_400_not_a_500(client, made_available):
    """Review r23, finding 6: no digest can be taken of it."""
    invoice_id = made_available()
    answer = post(client, invoice_id, "status", MAIRIE_KEY, APPROVE, "k\ud800")
    assert answer.status_code == 400, answer.body
    assert codes(client, invoice_id) == [200, 203]
