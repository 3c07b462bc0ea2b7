"""Subscription requests at the same instant (review r52): the second request runs inside the first one's write
(monkeypatched), so the interleaving is fixed, not timed."""

from __future__ import annotations

import json

import boto3
import pytest
from demo import SUPPLIER_KEY, auth
from invoices import SUPPLIER_SIRET
from test_subscription_failures import confirmation_jobs, local_receivers, subscriptions  # noqa: F401

from chalicelib.adapters.subscription_store import DynamoSubscriptionStore, _mail_partition
from chalicelib.config import settings
from chalicelib.services import subscriptions as service

HOOK = {"url": "http://127.0.0.1:9/h"}
MAIL = {"email": "compta@mairie.example.fr"}


@pytest.fixture(autouse=True)
def _receivers(local_receivers):  # noqa: F811 - the imported fixture
    """127.0.0.1 webhooks are accepted, as on the local stack."""


def create(client, body, key=None):
    headers = {"Content-Type": "application/json", **({"Idempotency-Key": key} if key else {})}
    return client.http.post("/v1/subscriptions", headers=auth(SUPPLIER_KEY, **headers), body=json.dumps(body))


def rotate(client, sid):
    return client.http.post(f"/v1/subscriptions/{sid}/rotate-secret", headers=auth(SUPPLIER_KEY))


def after_rotation_read(monkeypatch, meanwhile):
    """Run `meanwhile(store)` once, between a rotation's read of the subscription and its write."""
    real = DynamoSubscriptionStore.get
    ran = []

    def get(self, siret, subscription_id):
        read = real(self, siret, subscription_id)
        if not ran:
            ran.append(None)  # before: `meanwhile` may rotate too
            ran[0] = meanwhile(self)
        return read

    monkeypatch.setattr(DynamoSubscriptionStore, "get", get)
    return ran


def test_two_rotations_at_once_both_secrets_sign(client, monkeypatch):
    """Two admins, or a client retrying a rotation that timed out: both answers' secrets are kept, in the order the
    rotations took effect (the later current, the earlier previous), as if they had been sent one after the other."""
    created = json.loads(create(client, HOOK).body)
    sid = created["id"]
    inner = after_rotation_read(monkeypatch, lambda store: rotate(client, sid))

    outer = rotate(client, sid)

    assert (outer.status_code, inner[0].status_code) == (200, 200), outer.body
    outer_secret, inner_secret = json.loads(outer.body)["secret"], json.loads(inner[0].body)["secret"]
    stored = DynamoSubscriptionStore().get(SUPPLIER_SIRET, sid)
    assert (stored.secret, stored.previous_secret) == (outer_secret, inner_secret)
    assert created["secret"] not in stored.signing_secrets(stored.previous_secret_expires - 1)


def test_a_rotation_losing_every_race_is_a_409_that_changes_nothing(client, monkeypatch):
    sid = json.loads(create(client, HOOK).body)["id"]
    secrets_written = []

    def always_rotated_meanwhile(self, rotated, replaced_secret):
        secrets_written.append(rotated.secret)
        return False

    monkeypatch.setattr(DynamoSubscriptionStore, "save_rotation", always_rotated_meanwhile)

    answer = rotate(client, sid)

    assert answer.status_code == 409, answer.body
    assert json.loads(answer.body)["title"] == "Concurrent update"
    assert len(secrets_written) == service.ROTATION_ATTEMPTS


def test_a_rotation_keeps_a_failing_mark_made_meanwhile(client, monkeypatch):
    """A delivery given up on between the rotation's read and its write: the subscription stays failing."""
    sid = json.loads(create(client, HOOK).body)["id"]
    after_rotation_read(
        monkeypatch, lambda store: store.mark_failing(SUPPLIER_SIRET, sid, "2026-11-28T07:00:00Z", "evt-1: HTTP 500")
    )

    assert rotate(client, sid).status_code == 200

    stored = DynamoSubscriptionStore().get(SUPPLIER_SIRET, sid)
    assert (stored.state, stored.failing_since, stored.last_error) == (
        "failing",
        "2026-11-28T07:00:00Z",
        "evt-1: HTTP 500",
    )


def test_a_rotation_keeps_an_active_mark_made_meanwhile(client, monkeypatch):
    sid = json.loads(create(client, HOOK).body)["id"]
    store = DynamoSubscriptionStore()
    store.mark_failing(SUPPLIER_SIRET, sid, "2026-11-28T07:00:00Z", "evt-1: HTTP 500")
    after_rotation_read(monkeypatch, lambda store: store.mark_active(SUPPLIER_SIRET, sid))

    assert rotate(client, sid).status_code == 200

    stored = store.get(SUPPLIER_SIRET, sid)
    assert (stored.state, stored.failing_since, stored.last_error) == ("active", None, None)


def test_a_rotation_of_a_subscription_deleted_meanwhile_is_a_404(client, monkeypatch):
    sid = json.loads(create(client, HOOK).body)["id"]
    after_rotation_read(monkeypatch, lambda store: store.delete(SUPPLIER_SIRET, sid))

    assert rotate(client, sid).status_code == 404
    assert DynamoSubscriptionStore().get(SUPPLIER_SIRET, sid) is None


def test_a_keyed_mail_subscription_retried_while_its_first_attempt_runs_is_told_to_retry_shortly(client, monkeypatch):
    """The client timed out and retried with the same key while the first attempt, past its mail claim, had not
    stored the subscription yet: not the 24 h 429 (the first attempt does create it and mail the link)."""
    real_add = DynamoSubscriptionStore.add
    retries = []

    def add(self, subscription):
        if not retries:
            retries.append(None)  # before: the retry adds too
            retries[0] = create(client, MAIL, key="k1")
        return real_add(self, subscription)

    monkeypatch.setattr(DynamoSubscriptionStore, "add", add)

    first = create(client, MAIL, key="k1")

    retry = retries[0]
    assert first.status_code == 201, first.body
    assert retry.status_code == 409, retry.body
    assert json.loads(retry.body)["title"] == "Request in progress"
    assert retry.headers["Retry-After"] == "2"
    monkeypatch.setattr(DynamoSubscriptionStore, "add", real_add)
    again = create(client, MAIL, key="k1")  # a moment later: the first attempt's subscription, mailed once
    assert (again.status_code, json.loads(again.body)["id"]) == (201, json.loads(first.body)["id"])
    assert confirmation_jobs() == 1


def test_an_address_asked_again_after_a_request_s_time_is_still_the_24_h_429(client):
    """The 409 is for a claim younger than a request can run; the per-address window is unchanged beyond."""
    assert create(client, MAIL, key="k1").status_code == 201
    elapsed = service.CREATE_IN_PROGRESS_SECONDS
    claims = boto3.resource("dynamodb").Table(settings().subscription_table)
    claims.update_item(  # the claim made `elapsed` seconds ago
        Key={"siret": _mail_partition(MAIL["email"])["S"], "id": f"confirmation#{SUPPLIER_SIRET}"},
        UpdateExpression="ADD sent_at :earlier",
        ExpressionAttributeValues={":earlier": -elapsed},
    )

    again = create(client, MAIL, key="k2")

    assert again.status_code == 429, again.body
    assert 24 * 3600 - elapsed - 5 <= int(again.headers["Retry-After"]) <= 24 * 3600 - elapsed
