"""A decision slowed by its number claim (throttled, retried for seconds) is timed after it: its updated_at is when
its record is written, so a poller overlapping by less than the delay still finds it (review r36)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from demo import SUPPLIER_KEY, auth
from invoices import MAIRIE_SIRET, ubl_invoice

from chalicelib.adapters import invoice_repository
from chalicelib.domain.directory import Principal
from chalicelib.services import clock, lifecycle, search

XML = {"Content-Type": "application/xml"}
MAIRIE = Principal(MAIRIE_SIRET, "M", ("recipient",))


def test_a_decision_saved_late_carries_the_time_of_its_save(client, pump, monkeypatch):
    t = [datetime(2026, 11, 26, 8, 0, 0, tzinfo=UTC)]

    class FakeDateTime(datetime):
        @classmethod
        def now(cls, tz=None):
            return t[0]

    monkeypatch.setattr(clock, "datetime", FakeDateTime)
    repo = invoice_repository.DynamoInvoiceRepository()

    def deposit(number):
        answer = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=ubl_invoice(number))
        return json.loads(answer.body)["id"]

    b = deposit("F-LATE-B")
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    t[0] += timedelta(seconds=10)  # 08:00:10
    a = deposit("F-LATE-A")
    polled = {}
    real_claim = invoice_repository.DynamoInvoiceRepository.claim_number

    def throttled_claim(claim_number, invoice_id):
        t[0] += timedelta(seconds=6)  # meanwhile another Lambda changes B, and the recipient polls
        lifecycle.change_status(MAIRIE, b, {"code": 204}, invoices=repo)
        page, _ = search.search_invoices(MAIRIE, {"role": "recipient", "updated_since": "2026-11-26T08:00:05Z"},
                                         invoices=repo)  # fmt: skip
        polled.update({i.id: i.updated_at for i in page})
        return real_claim(claim_number, invoice_id)

    monkeypatch.setattr(invoice_repository.DynamoInvoiceRepository, "claim_number", staticmethod(throttled_claim))
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    assert a not in polled and polled[b] == "2026-11-26T08:00:16.000Z"
    stored = repo.get(a)
    assert stored.status.code == 203 and stored.updated_at == "2026-11-26T08:00:16.000Z"  # after its claim
    since = "2026-11-26T08:00:11.000Z"  # the newest seen minus even 5 s
    page, _ = search.search_invoices(MAIRIE, {"role": "recipient", "updated_since": since}, invoices=repo)
    assert a in [i.id for i in page]
