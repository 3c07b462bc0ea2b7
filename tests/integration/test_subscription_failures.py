"""Creating a subscription while AWS fails (review r16, F5 and F6): a failed attempt leaves nothing behind that
refuses or surprises the client's retry, and a write that landed is not answered as a failure."""

from __future__ import annotations

import json

import boto3
import pytest
from aws_failures import answer_lost_fixture, fail_fixture, on_table  # noqa: F401 - fixtures
from demo import SUPPLIER_KEY, auth

from chalicelib.config import settings

JSON = {"Content-Type": "application/json"}


def create(client, body: dict):
    return client.http.post("/v1/subscriptions", headers=auth(SUPPLIER_KEY, **JSON), body=json.dumps(body))


def subscriptions(client) -> list[dict]:
    return json.loads(client.http.get("/v1/subscriptions", headers=auth(SUPPLIER_KEY)).body)["subscriptions"]


def confirmation_jobs() -> int:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=settings().webhook_delivery_queue)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(("SendMessageBatch", "ThrottlingException"), id="confirmation job not queued"),
        pytest.param(("PutItem", "subscriptions"), id="subscription write throttled"),
    ],
)
def test_a_failed_email_subscription_does_not_refuse_its_retry(client, fail, failure):
    operation, what = failure
    if what == "subscriptions":
        fail[operation] = on_table(settings().subscription_table, "ProvisionedThroughputExceededException")
    else:
        fail[operation] = [what]
    assert create(client, {"email": "compta@mairie.example.fr"}).status_code >= 500
    fail.clear()
    assert subscriptions(client) == []
    assert confirmation_jobs() == 0

    retry = create(client, {"email": "compta@mairie.example.fr"})

    assert retry.status_code == 201, retry.body
    assert [s["status"] for s in subscriptions(client)] == ["pending_confirmation"]
    assert confirmation_jobs() == 1


def test_a_confirmation_claim_whose_answer_was_lost_is_released(client, answer_lost):
    answer_lost("TransactWriteItems", retried=False)  # the markers are written, the caller gets a timeout
    assert create(client, {"email": "compta@mairie.example.fr"}).status_code >= 500

    retry = create(client, {"email": "compta@mairie.example.fr"})

    assert retry.status_code == 201, retry.body
    assert confirmation_jobs() == 1


def test_releasing_a_confirmation_claim_undoes_exactly_that_claim(aws):
    from chalicelib.adapters.subscription_store import DynamoSubscriptionStore

    store, now, day, address = DynamoSubscriptionStore(), 1_000_000.0, 86400, "someone@example.fr"
    assert store.claim_confirmation_mail(address, "81234567800013", now, day, 3) is None
    assert store.release_confirmation_mail(address, "81234567800013", now + 1) is False  # not this claim
    assert store.claim_confirmation_mail(address, "81234567800013", now + 60, day, 3) == ("structure", now, None)
    assert store.release_confirmation_mail(address, "82345678900010", now) is False  # nothing claimed by it

    assert store.release_confirmation_mail(address, "81234567800013", now) is True
    assert store.release_confirmation_mail(address, "81234567800013", now) is False  # once

    # The marker is gone and the address's day count is back to 0: three structures may still have it mailed.
    for siret in ("81234567800013", "82345678900010", "13000123400017"):
        assert store.claim_confirmation_mail(address, siret, now + 60, day, 3) is None
    assert store.claim_confirmation_mail(address, "21750001600019", now + 60, day, 3) == ("address", now + 60, None)


@pytest.fixture
def local_receivers(monkeypatch):
    from chalicelib.domain.subscriptions_security import UrlPolicy
    from chalicelib.entrypoints import dependencies

    monkeypatch.setattr(dependencies, "url_policy", lambda: UrlPolicy(local_stack=True))


@pytest.mark.parametrize("retried", [True, False], ids=["botocore retried the write", "every retry timed out"])
def test_a_webhook_subscription_whose_answer_was_lost_is_answered_created(client, answer_lost, local_receivers,
                                                                           retried):  # fmt: skip
    answer_lost("PutItem", settings().subscription_table, retried=retried)

    first = create(client, {"url": "http://127.0.0.1:9/h"})

    assert first.status_code == 201, first.body
    created = json.loads(first.body)
    assert [s["id"] for s in subscriptions(client)] == [created["id"]]  # the one whose secret the client has


def test_a_webhook_subscription_that_cannot_be_confirmed_is_not_left_behind(client, fail, answer_lost,
                                                                           local_receivers):  # fmt: skip
    answer_lost("PutItem", settings().subscription_table, retried=False)
    fail["GetItem"] = on_table(settings().subscription_table, "ProvisionedThroughputExceededException")

    assert create(client, {"url": "http://127.0.0.1:9/h"}).status_code >= 500

    fail.clear()
    assert subscriptions(client) == []  # no subscription whose secret nobody was shown


def test_a_failed_email_subscription_that_cannot_be_deleted_keeps_its_claim(client, fail):
    """While the pending subscription may remain, its confirmation job may have been queued (an answer lost): the
    claim stands, so the address is mailed at most once a day for this structure whatever fails."""
    fail["SendMessageBatch"] = ["ThrottlingException"]
    fail["DeleteItem"] = on_table(settings().subscription_table, "ProvisionedThroughputExceededException")
    assert create(client, {"email": "compta@mairie.example.fr"}).status_code >= 500
    fail.clear()
    assert [s["status"] for s in subscriptions(client)] == ["pending_confirmation"]  # the client can delete it

    assert create(client, {"email": "compta@mairie.example.fr"}).status_code == 429
