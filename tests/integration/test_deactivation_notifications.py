"""Deactivating a structure stops its webhooks and e-mails, through the real handlers on moto (review r20).

The documented containment of a stolen key (revoke the keys, deactivate the structure) left the thief's
subscription receiving every status change, comments included, and the structure's revoked keys cannot delete it.
Now the fan-out drops an inactive structure's jobs (its subscriptions kept, not failing), a reactivated structure
gets the later events, and its pending e-mail address cannot be confirmed meanwhile.
"""

from __future__ import annotations

import json

from demo import ADMIN_KEY, MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import MAIRIE_SIRET, SUPPLIER_SIRET, ubl_invoice
from test_webhook_delivery_moto import confirmation_path, created, deposit, local_policy, run_pipeline  # noqa: F401
from webhook_support import Receiver

from chalicelib.adapters.mail import OutboxMailer

JSON = {"Content-Type": "application/json"}


def set_active(client, siret: str, active: bool) -> None:
    response = client.http.patch(
        f"/v1/admin/structures/{siret}", headers=auth(ADMIN_KEY, **JSON), body=json.dumps({"active": active})
    )
    assert response.status_code == 200, response.body


def test_a_deactivated_structure_gets_no_webhook_until_it_is_reactivated(client, pump, local_policy):  # noqa: F811
    with Receiver() as supplier_rx, Receiver() as mairie_rx:
        supplier_sub = created(client, SUPPLIER_KEY, {"url": supplier_rx.url})
        supplier_rx.secret = supplier_sub["secret"]
        mairie_rx.secret = created(client, MAIRIE_KEY, {"url": mairie_rx.url})["secret"]
        invoice_id = deposit(client, ubl_invoice("F-DEACT-1"))
        run_pipeline(pump)
        assert sorted(supplier_rx.events()) == [f"{invoice_id}-0", f"{invoice_id}-1"]

        set_active(client, SUPPLIER_SIRET, False)
        disputed = client.http.post(
            f"/v1/invoices/{invoice_id}/status",
            headers=auth(MAIRIE_KEY, **JSON),
            body=json.dumps({"code": 207, "reason_code": "NON_CONFORME", "comment": "confidentiel: litige"}),
        )
        assert disputed.status_code == 200, disputed.body
        run_pipeline(pump)
        assert sorted(supplier_rx.events()) == [f"{invoice_id}-0", f"{invoice_id}-1"]  # nothing after
        assert f"{invoice_id}-2" in mairie_rx.events()  # the active party still gets it

        set_active(client, SUPPLIER_SIRET, True)
        listed = client.http.get(f"/v1/subscriptions/{supplier_sub['id']}", headers=auth(SUPPLIER_KEY))
        assert json.loads(listed.body)["status"] == "active"  # skipping did not make it failing
        second = deposit(client, ubl_invoice("F-DEACT-2"))
        run_pipeline(pump)
        assert {f"{second}-0", f"{second}-1"} <= set(supplier_rx.events())
        assert f"{invoice_id}-2" not in supplier_rx.events()  # what happened while inactive is not sent later


def test_an_inactive_structure_s_email_address_cannot_be_confirmed(client, pump, local_policy):  # noqa: F811
    address = "compta@mairie.example.fr"
    created(client, MAIRIE_KEY, {"email": address})
    run_pipeline(pump)  # the confirmation mail
    path = confirmation_path(address)

    set_active(client, MAIRIE_SIRET, False)
    refused = client.http.post(path)
    assert refused.status_code == 409 and refused.headers["Content-Type"] == "application/problem+json"
    assert f"structure {MAIRIE_SIRET} is not active" in json.loads(refused.body)["detail"]
    assert json.loads(client.http.get(path).body)["status"] == "pending_confirmation"

    set_active(client, MAIRIE_SIRET, True)
    confirmed = client.http.post(path)
    assert confirmed.status_code == 200 and json.loads(confirmed.body)["status"] == "active"
    set_active(client, MAIRIE_SIRET, False)
    deposit(client, ubl_invoice("F-DEACT-MAIL"))
    run_pipeline(pump)
    assert len(OutboxMailer.messages(address)) == 1  # the confirmation only: no invoice mail while inactive


def test_a_retry_queued_before_a_deactivation_is_not_sent_after_it(client, pump, local_policy):  # noqa: F811
    """Known gap closed: the fan-out's check was made when the first attempt was queued, so a retry (or a redriven
    job) queued before the deactivation still reached the cut-off structure's webhook, hours later."""
    with Receiver(mode="fail") as receiver:
        subscription = created(client, SUPPLIER_KEY, {"url": receiver.url})
        receiver.secret = subscription["secret"]
        deposit(client, ubl_invoice("F-DEACT-RETRY"))
        assert pump.deliver_sqs_once("validate_invoices") and pump.deliver_stream_once("publish_status_events")
        while pump.deliver_sqs_once("fan_out_events"):
            pass
        assert pump.deliver_sqs_once("deliver_webhooks") == 2  # both events failed once: their retries are queued
        assert receiver.attempts == 2

        set_active(client, SUPPLIER_SIRET, False)
        receiver.mode = "ok"
        while pump.deliver_sqs_once("deliver_webhooks"):
            pass
        assert receiver.attempts == 2 and not receiver.events()  # the retries were dropped, not sent

        set_active(client, SUPPLIER_SIRET, True)
        while pump.deliver_sqs_once("deliver_webhooks"):
            pass
        # dropped for good: reactivated, it gets the events from then on
        assert not receiver.events() and receiver.attempts == 2
        state = json.loads(client.http.get(f"/v1/subscriptions/{subscription['id']}", headers=auth(SUPPLIER_KEY)).body)
        assert state["status"] == "active"  # skipping did not make it failing


def test_a_first_attempt_queued_before_a_deactivation_is_not_sent_after_it(client, pump, local_policy):  # noqa: F811
    """Review r29: only retries read the structure again, so a first attempt waiting in the queue (a backlog, or a
    dead letter SQS redrives unchanged) still reached the cut-off structure."""
    with Receiver() as receiver:
        receiver.secret = created(client, SUPPLIER_KEY, {"url": receiver.url})["secret"]
        deposit(client, ubl_invoice("F-DEACT-QUEUED"))
        assert pump.deliver_sqs_once("validate_invoices") and pump.deliver_stream_once("publish_status_events")
        while pump.deliver_sqs_once("fan_out_events"):
            pass  # the first attempts are queued, not yet delivered
        set_active(client, SUPPLIER_SIRET, False)
        while pump.deliver_sqs_once("deliver_webhooks"):
            pass
        assert receiver.attempts == 0 and not receiver.events()
