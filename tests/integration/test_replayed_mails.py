"""A replay (or a redriven fan-out) mails nobody twice: a mailbox cannot drop the copy a webhook receiver does."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from invoices import ubl_invoice
from test_webhook_delivery_moto import (  # noqa: F401 - local_policy is a fixture
    MAIRIE_KEY,
    confirmed_email,
    deliveries,
    deposit,
    local_policy,
    run_pipeline,
)

from chalicelib.adapters.invoice_repository import DynamoInvoiceRepository
from chalicelib.adapters.mail import OutboxMailer
from chalicelib.adapters.subscription_store import DynamoDeliveryLog
from chalicelib.entrypoints import dependencies

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "infra"))
from replay_events import replay  # noqa: E402


def test_a_replayed_window_mails_no_event_twice(client, pump, local_policy):  # noqa: F811
    address = "compta@mairie.example.fr"
    subscription = confirmed_email(client, MAIRIE_KEY, pump, address, {})
    before = datetime.now(UTC) - timedelta(seconds=1)
    invoice_id = deposit(client, ubl_invoice("F-MAIL-ONCE"))
    run_pipeline(pump)
    first = [m["subject"] for m in OutboxMailer.messages(address) if invoice_id in m["text"]]
    assert len(first) == 2  # Déposée, Mise à disposition
    after = datetime.now(UTC) + timedelta(seconds=1)
    assert replay(before, after, invoices=DynamoInvoiceRepository(), publisher=dependencies.publisher()) == 2
    run_pipeline(pump)
    assert [m["subject"] for m in OutboxMailer.messages(address) if invoice_id in m["text"]] == first
    # The skipped copies are not delivery attempts: the log still shows the two mails (and the confirmation).
    logged = [d for d in deliveries(client, MAIRIE_KEY, subscription["id"]) if d["event_id"].startswith(invoice_id)]
    assert [d["outcome"] for d in logged] == ["delivered", "delivered"]


def test_the_mail_claim_is_one_conditional_write_per_subscription_and_event(aws):
    log = DynamoDeliveryLog()
    assert log.claim_mail("sub-1", "ev-1", 100.0, 1)
    assert not log.claim_mail("sub-1", "ev-1", 200.5, 1)  # another job: a replay, a redriven fan-out
    assert log.claim_mail("sub-1", "ev-1", 100.0, 1)  # the same job again (redelivered)
    assert log.claim_mail("sub-1", "ev-1", 100.0, 2)  # its next attempt, after a failed send
    assert not log.claim_mail("sub-1", "ev-1", 100.0, 1)  # an attempt older than the claim's
    assert log.claim_mail("sub-2", "ev-1", 200.5, 1) and log.claim_mail("sub-1", "ev-2", 200.5, 1)
    log.release_mail("sub-1", "ev-1", 200.5)  # not that job's claim: it stays
    assert not log.claim_mail("sub-1", "ev-1", 300.0, 1)
    log.release_mail("sub-1", "ev-1", 100.0)  # given up, never mailed: a redriven job may mail it
    assert log.claim_mail("sub-1", "ev-1", 300.0, 5)
    assert log.recent("sub-1", 10) == []  # the claims are not delivery attempts
