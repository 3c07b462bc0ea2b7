"""The production mailer (SES v2, what dependencies.mailer() returns outside the local stack) against moto's SES.

The other integration and e2e tests read the outbox table of the local stack's OutboxMailer instead.
"""

from __future__ import annotations

from dataclasses import replace

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from webhook_support import FakeLog, FakeQueue, FakeSender, FakeStore, static_resolver

from chalicelib.adapters import mail
from chalicelib.adapters.mail import SesMailer
from chalicelib.config import settings
from chalicelib.domain.subscriptions import RetrySchedule, Subscription
from chalicelib.domain.subscriptions_security import UrlPolicy
from chalicelib.entrypoints import dependencies
from chalicelib.services.subscriptions_ports import DeliveryJob, MailMessage
from chalicelib.services.webhooks import DeliveryContext, deliver, mail_for

SENDER = "notifications@chorale.example.org"
TO = "compta@mairie.example.fr"
SUPPLIER, RECIPIENT = "81234567800013", "21750000100011"
INVOICE_ID = "01JD0000000000000000000000"
LINK = f"https://api.example.org/v1/invoices/{INVOICE_ID}"


def status_event() -> dict:
    return {
        "specversion": "1.0",
        "id": f"{INVOICE_ID}-2",
        "source": "urn:chorale:invoices",
        "type": "invoice.status_changed",
        "time": "2026-11-26T10:00:00.000Z",
        "subject": INVOICE_ID,
        "datacontenttype": "application/json",
        "data": {
            "invoice_id": INVOICE_ID,
            "number": "F-2026-0042",
            "supplier": {"siret": SUPPLIER, "name": "Atelier"},
            "recipient": {"siret": RECIPIENT, "name": "Mairie"},
            "status": {"code": 203, "name": "MISE_A_DISPOSITION", "label": "Mise à disposition", "chorus_pro": "X"},
            "previous_status": {"code": 200, "name": "DEPOSEE", "label": "Déposée", "chorus_pro": "DEPOSEE"},
            "reason_code": None,
            "comment": None,
            "actor": "platform",
            "links": {"invoice": LINK},
        },
    }


@pytest.fixture
def ses():
    """moto's SES (v1 backend, which SES v2 records into), with the sender verified; clients made inside it."""
    with mock_aws():
        dependencies.reset()
        boto3.client("sesv2", region_name=settings().region).create_email_identity(EmailIdentity=SENDER)
        yield ses_backends[DEFAULT_ACCOUNT_ID][settings().region]
        dependencies.reset()


def test_a_status_mail_is_sent_through_ses_with_its_subject_and_invoice_link(ses):
    subject, text = mail_for(status_event())
    SesMailer(SENDER).send(MailMessage(TO, subject, text, {"Chorale-Event-Id": f"{INVOICE_ID}-2"}))

    [sent] = ses.sent_messages
    assert sent.source == SENDER
    assert sent.destinations == {"ToAddresses": [TO]}
    assert sent.subject == subject == "[Chorale] Facture F-2026-0042 : Mise à disposition"
    assert sent.body == text and f"Détail : GET {LINK}" in sent.body


def test_the_sender_defaults_to_the_configured_mail_sender(ses, monkeypatch):
    configured = replace(settings(), mail_sender=SENDER)
    monkeypatch.setattr(mail, "settings", lambda: configured)
    SesMailer().send(MailMessage(TO, "s", "t"))
    [sent] = ses.sent_messages
    assert sent.source == SENDER


def email_delivery(mailer):
    store, queue, log = FakeStore(), FakeQueue(), FakeLog()
    store.add(Subscription("sub1", RECIPIENT, "2026-11-26T10:00:00.000Z", email=TO))
    context = DeliveryContext(
        store=store,
        log=log,
        queue=queue,
        sender=FakeSender(),
        mailer=mailer,
        resolver=static_resolver({}),
        policy=UrlPolicy(),
        schedule=RetrySchedule(1, 10, 3600),
        clock=lambda: 1_000_000.0,
        now=lambda: "2026-11-26T10:00:00.000Z",
        rand=lambda: 0.0,
    )
    attempt = deliver(DeliveryJob("sub1", RECIPIENT, status_event(), 1, 1_000_000.0), context)
    return attempt, queue


def test_an_email_subscription_s_delivery_goes_out_through_ses(ses):
    attempt, queue = email_delivery(SesMailer(SENDER))
    assert attempt.outcome == "delivered" and queue.queued == []
    [sent] = ses.sent_messages
    assert sent.destinations == {"ToAddresses": [TO]} and LINK in sent.body


def test_a_mail_ses_refuses_is_retried_like_a_failed_webhook(ses):
    attempt, queue = email_delivery(SesMailer("unverified@chorale.example.org"))
    assert attempt.outcome == "retrying" and attempt.error.startswith("mail: ")
    assert "not verified" in attempt.error
    assert ses.sent_messages == [] and [job.attempt for job, _ in queue.queued] == [2]
