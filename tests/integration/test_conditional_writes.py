"""Conditional writes (moto): a false condition is an answer (False, None, a 409...), any other DynamoDB error is
an outage that must surface, never be taken for "nothing to do"."""

from __future__ import annotations

import json
from dataclasses import replace

import botocore.client
import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import DeleteError

from chalicelib.adapters.mail import OutboxMailer
from chalicelib.adapters.subscription_store import DynamoSubscriptionStore
from chalicelib.domain.subscriptions import Subscription
from chalicelib.domain.subscriptions_security import UrlPolicy
from chalicelib.entrypoints import dependencies
from chalicelib.services.errors import Conflict

SUPPLIER_KEY = "demo-supplier-atelier-key"
SUBSCRIPTION_ID = "01JDZ8Q6XW0000000000000000"


@pytest.fixture
def throttled(monkeypatch):
    """DynamoDB throttles every call of the listed operations (moto never does)."""
    operations: set[str] = set()
    original = botocore.client.BaseClient._make_api_call

    def make_api_call(self, operation_name, api_params):
        if operation_name in operations:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, operation_name
            )
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)
    return operations


@pytest.fixture
def local_policy(monkeypatch):
    """As on the local stack: http:// to loopback receivers (no DNS look-up of a receiver's name)."""
    monkeypatch.setattr(dependencies, "url_policy", lambda: UrlPolicy(local_stack=True))
    monkeypatch.setattr(dependencies, "mailer", lambda: OutboxMailer())
    dependencies.reset()
    yield
    dependencies.reset()


def a_subscription(siret: str = "12345678900011") -> Subscription:
    return Subscription(id=SUBSCRIPTION_ID, siret=siret, created_at="2026-11-27T00:00:00Z", url="https://a.example/h")


def test_deleting_a_subscription_says_whether_it_was_there(aws):
    store = DynamoSubscriptionStore()
    assert store.delete("12345678900011", SUBSCRIPTION_ID) is False
    store.add(a_subscription())
    assert store.delete("12345678900011", SUBSCRIPTION_ID) is True
    assert store.get("12345678900011", SUBSCRIPTION_ID) is None


def test_a_throttled_delete_is_an_error_not_an_absent_subscription(aws, throttled):
    store = DynamoSubscriptionStore()
    store.add(a_subscription())
    throttled.add("DeleteItem")
    with pytest.raises(DeleteError) as raised:
        store.delete("12345678900011", SUBSCRIPTION_ID)
    assert raised.value.cause_response_code == "ProvisionedThroughputExceededException"
    throttled.clear()
    assert store.get("12345678900011", SUBSCRIPTION_ID) is not None


def test_delete_subscription_route_does_not_answer_204_when_nothing_was_deleted(client, local_policy, throttled):
    headers = {"Authorization": f"Bearer {SUPPLIER_KEY}", "Content-Type": "application/json"}
    response = client.http.post("/v1/subscriptions", headers=headers, body=json.dumps({"url": "http://127.0.0.1:9/h"}))
    assert response.status_code == 201, response.body
    subscription_id = json.loads(response.body)["id"]
    throttled.add("DeleteItem")
    response = client.http.delete(f"/v1/subscriptions/{subscription_id}", headers=headers)
    # a throttle is an outage the client retries (503 + Retry-After), never a 204 for a subscription still there
    assert response.status_code == 503 and response.headers["Content-Type"] == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    throttled.clear()
    assert client.http.get(f"/v1/subscriptions/{subscription_id}", headers=headers).status_code == 200
    assert client.http.delete(f"/v1/subscriptions/{subscription_id}", headers=headers).status_code == 204


def test_a_throttled_mail_claim_is_an_error_not_a_recent_mail(aws, throttled):
    store = DynamoSubscriptionStore()
    siret = "21750000100011"
    assert store.claim_confirmation_mail("a@b.fr", siret, 1000.0, 60, 3) is None
    # mailed a moment ago
    assert store.claim_confirmation_mail("a@b.fr", siret, 1010.0, 60, 3) == ("structure", 1000.0, None)
    throttled.add("TransactWriteItems")
    with pytest.raises(ClientError):
        store.claim_confirmation_mail("c@d.fr", siret, 1000.0, 60, 3)


def test_conditional_failures_of_the_other_adapters_are_their_answers(aws):
    from chalicelib.adapters.directory import DynamoDirectory
    from chalicelib.domain.directory import Structure

    directory = DynamoDirectory()
    structure = Structure("21380185500015", "Mairie de Test", ("recipient",))
    directory.put_structure(structure, create_only=True)
    with pytest.raises(Conflict):  # another request's create (the same content would be this write, landed)
        directory.put_structure(replace(structure, updated_at="2026-01-01T00:00:00.000Z"), create_only=True)


def test_a_throttled_key_write_is_an_error_not_a_key_of_another_structure(aws, throttled):
    from pynamodb.exceptions import PutError

    from chalicelib.adapters.directory import DynamoDirectory
    from chalicelib.domain.directory import hash_api_key

    directory = DynamoDirectory()
    throttled.add("PutItem")
    with pytest.raises(PutError):  # not Conflict: nothing says the key belongs to anyone
        directory.put_api_key(hash_api_key("a-key-nobody-has-yet"), "21750000100011", "t")
