"""Review r53 §3: the 409 Request in progress is for the Idempotency-Key whose mail claim refused the request; another
key's, a keyless request's or a claim noted before claims named their key is the 24 h 429 at once (retrying it with
the same key would never answer a subscription)."""

from __future__ import annotations

import json

import boto3
import pytest
from invoices import SUPPLIER_SIRET
from test_subscription_failures import confirmation_jobs, local_receivers, subscriptions  # noqa: F401
from test_subscription_races import MAIL, _receivers, create  # noqa: F401

from chalicelib.adapters.subscription_store import DynamoSubscriptionStore, _mail_partition
from chalicelib.config import settings

DAY = 24 * 3600


def assert_the_24_h_429(response):
    assert response.status_code == 429, response.body
    assert json.loads(response.body)["title"] == "Too many requests"
    assert DAY - 5 <= int(response.headers["Retry-After"]) <= DAY


@pytest.mark.parametrize("first_key", ["onboarding-invoices", None])
def test_another_request_for_an_address_claimed_a_moment_ago_is_the_24_h_429(client, first_key):
    """The r53 scenario: one subscription per event type, each under its own key, a second apart."""
    assert create(client, MAIL, key=first_key).status_code == 201

    for _ in range(2):  # as a client told "retry with the same key" would
        assert_the_24_h_429(create(client, {**MAIL, "events": ["invoice.status_changed"]}, key="onboarding-2"))
    assert len(subscriptions(client)) == 1
    assert confirmation_jobs() == 1


def test_a_claim_noted_before_claims_named_their_key_is_the_429(client):
    """A marker written before r53 carries no key: nothing says the retry's own attempt made it."""
    first = create(client, MAIL, key="k1")
    assert first.status_code == 201
    marker = {"siret": _mail_partition(MAIL["email"])["S"], "id": f"confirmation#{SUPPLIER_SIRET}"}
    boto3.resource("dynamodb").Table(settings().subscription_table).update_item(
        Key=marker, UpdateExpression="REMOVE claimed_by"
    )
    DynamoSubscriptionStore().delete(SUPPLIER_SIRET, json.loads(first.body)["id"])  # else the key's replay answers

    assert_the_24_h_429(create(client, MAIL, key="k1"))


def test_the_mail_claim_notes_whose_request_made_it(aws):
    store, now = DynamoSubscriptionStore(), 1_000_000.0
    assert store.claim_confirmation_mail("a@b.fr", SUPPLIER_SIRET, now, DAY, 3, claimed_by="SUB1") is None
    refused = store.claim_confirmation_mail("a@b.fr", SUPPLIER_SIRET, now + 1, DAY, 3, claimed_by="SUB2")
    assert refused == ("structure", now, "SUB1")
    # a claim noted while the address's day is full (unmailed) names its request too
    for siret in ("21750001600019", "13000123400017"):
        assert store.claim_confirmation_mail("a@b.fr", siret, now, DAY, 3) is None
    assert store.claim_confirmation_mail("a@b.fr", "82345678900010", now, DAY, 3, claimed_by="SUB3").reason == "address"
    assert store.claim_confirmation_mail("a@b.fr", "82345678900010", now + 1, DAY, 3) == ("structure", now, "SUB3")
