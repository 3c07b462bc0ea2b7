"""POST /v1/subscriptions with an Idempotency-Key: a retry answers the subscription its key created (its secret
included) instead of creating a second one, whatever became of the first attempt's answer; another body is a 409."""

from __future__ import annotations

import hashlib
import json

import boto3
import pytest
from aws_failures import answer_lost_fixture, fail_fixture  # noqa: F401 - fixtures
from demo import SUPPLIER2_KEY, SUPPLIER_KEY, auth
from test_subscription_failures import confirmation_jobs, create, local_receivers, subscriptions  # noqa: F401

from chalicelib.config import settings
from chalicelib.domain.subscriptions import MAX_SUBSCRIPTIONS_PER_STRUCTURE, Subscription

HOOK = {"url": "http://127.0.0.1:9/h", "filter": {"status_codes": [203]}}
MAIL = {"email": "compta@mairie.example.fr"}
THROTTLED = "ProvisionedThroughputExceededException"


def keyed(client, body, key: str = "sub-1", raw: str | None = None):
    headers = auth(SUPPLIER_KEY, **{"Content-Type": "application/json", "Idempotency-Key": key})
    return client.http.post("/v1/subscriptions", headers=headers, body=raw or json.dumps(body))


def stored_items() -> list[dict]:
    table = boto3.resource("dynamodb").Table(settings().subscription_table)
    return [i for i in table.scan()["Items"] if not i["siret"].startswith("mail#")]  # not the mail claims


@pytest.fixture(autouse=True)
def _receivers(local_receivers):  # noqa: F811 - the imported fixture
    """127.0.0.1 webhooks are accepted, as on the local stack."""


def test_a_replay_with_the_same_key_and_body_answers_the_same_subscription_and_its_secret(client):
    first = keyed(client, HOOK)
    assert first.status_code == 201, first.body
    # The same body, its keys in another order and spaced otherwise: the same request.
    again = keyed(client, None, raw='{ "filter": {"status_codes": [203]}, "url": "http://127.0.0.1:9/h" }')

    assert again.status_code == 201, again.body
    created, replayed = json.loads(first.body), json.loads(again.body)
    assert replayed["id"] == created["id"] and replayed["secret"] == created["secret"]
    assert again.headers["Location"] == first.headers["Location"]
    assert [s["id"] for s in subscriptions(client)] == [created["id"]]
    assert len(stored_items()) == 1


def test_the_same_key_with_another_body_is_a_409_and_stores_nothing(client):
    first = json.loads(keyed(client, HOOK).body)

    other = keyed(client, {**HOOK, "filter": {"status_codes": [210]}})

    assert other.status_code == 409, other.body
    assert other.headers["Content-Type"].startswith("application/problem+json")
    assert "already used with a different request" in json.loads(other.body)["detail"]
    assert keyed(client, MAIL).status_code == 409  # another channel too
    assert [(s["id"], s["filter"]["status_codes"]) for s in subscriptions(client)] == [(first["id"], [203])]


def test_a_key_is_per_structure(client):
    mine = json.loads(keyed(client, HOOK).body)
    headers = auth(SUPPLIER2_KEY, **{"Content-Type": "application/json", "Idempotency-Key": "sub-1"})
    theirs = client.http.post("/v1/subscriptions", headers=headers, body=json.dumps(HOOK))

    assert theirs.status_code == 201, theirs.body
    assert json.loads(theirs.body)["id"] != mine["id"] and json.loads(theirs.body)["secret"] != mine["secret"]


def test_a_create_whose_write_landed_but_failed_is_answered_by_its_retry_with_the_same_key(client, fail, answer_lost):
    """The known gap: the write landed, its answer was lost, and neither the look nor the undo could reach
    DynamoDB. Without a key the client's retry made a second subscription; with it, the retry gets the first."""
    table = settings().subscription_table
    lookups = iter([None])  # the first look (is the key's subscription there?) passes; the next ones fail

    def subscription_reads(params):
        return next(lookups, THROTTLED) if params.get("TableName") == table else None

    answer_lost("PutItem", table, retried=False)
    fail["GetItem"] = subscription_reads
    fail["DeleteItem"] = lambda params: THROTTLED if params.get("TableName") == table else None
    assert keyed(client, HOOK).status_code >= 500  # no answer: the client cannot know whether it was created
    fail.clear()

    retry = keyed(client, HOOK)

    assert retry.status_code == 201, retry.body
    [listed] = subscriptions(client)
    [item] = stored_items()
    assert json.loads(retry.body)["id"] == listed["id"] and json.loads(retry.body)["secret"] == item["secret"]


def test_a_replayed_email_subscription_mails_no_second_confirmation_nor_uses_the_quota(client):
    first = keyed(client, MAIL)
    assert first.status_code == 201, first.body
    assert confirmation_jobs() == 1

    again = keyed(client, MAIL)

    assert again.status_code == 201, again.body  # not the 429 of a second confirmation mail
    assert json.loads(again.body)["id"] == json.loads(first.body)["id"]
    assert json.loads(again.body)["status"] == "pending_confirmation"
    assert confirmation_jobs() == 1
    address = hashlib.sha256(MAIL["email"].encode()).hexdigest()
    table = boto3.resource("dynamodb").Table(settings().subscription_table)
    [count] = [i for i in table.scan()["Items"] if i["siret"] == f"mail#{address}" and i["id"].startswith("count#")]
    assert count["mails"] == 1  # the address's day count: the first mail only


def test_the_subscription_limit_does_not_refuse_a_replay(client):
    for n in range(MAX_SUBSCRIPTIONS_PER_STRUCTURE - 1):
        assert create(client, {"url": f"http://127.0.0.1:9/h{n}"}).status_code == 201
    first = keyed(client, HOOK)
    assert first.status_code == 201, first.body
    assert keyed(client, {"url": "http://127.0.0.1:9/other"}, key="sub-2").status_code == 409  # the limit holds

    again = keyed(client, HOOK)

    assert again.status_code == 201, again.body
    assert json.loads(again.body)["id"] == json.loads(first.body)["id"]
    assert len(subscriptions(client)) == MAX_SUBSCRIPTIONS_PER_STRUCTURE


def test_a_key_whose_subscription_was_deleted_creates_it_again(client):
    first = json.loads(keyed(client, HOOK).body)
    headers = auth(SUPPLIER_KEY)
    assert client.http.delete(f"/v1/subscriptions/{first['id']}", headers=headers).status_code == 204

    again = keyed(client, HOOK)

    assert again.status_code == 201, again.body
    recreated = json.loads(again.body)
    assert recreated["id"] == first["id"] and recreated["secret"] != first["secret"]  # a new one: a new secret
    assert [s["id"] for s in subscriptions(client)] == [first["id"]]


def test_without_a_key_each_create_is_a_new_subscription(client):
    first, second = create(client, HOOK), create(client, HOOK)

    assert first.status_code == second.status_code == 201
    assert json.loads(first.body)["id"] != json.loads(second.body)["id"]
    assert len(subscriptions(client)) == 2


def test_a_write_that_finds_the_id_taken_answers_the_stored_subscription(aws):
    """Two attempts with one key at once: the second's conditional write finds the first's subscription."""
    from chalicelib.adapters.subscription_store import DynamoSubscriptionStore

    store = DynamoSubscriptionStore()
    first = Subscription("01JD0000000000000000000000", "81234567800013", "2026-11-27T10:00:00.000Z",
                         url="https://a.example/h", secret="whsec_first")  # fmt: skip
    twin = Subscription(first.id, first.siret, "2026-11-27T10:00:00.001Z", url="https://a.example/h",
                        secret="whsec_twin")  # fmt: skip

    assert store.add(first) is None
    assert store.add(twin) == first
    assert store.get(first.siret, first.id) == first


def test_a_replay_shows_the_secret_only_within_a_day_of_the_create_and_never_after_a_rotation(client, monkeypatch):
    """The key is no second way to read a secret (review r23, finding 2): a late replay, or one after a rotation,
    answers the subscription without it."""
    from chalicelib.services import subscriptions as service

    created = json.loads(keyed(client, HOOK, key="sub-secret").body)
    assert json.loads(keyed(client, HOOK, key="sub-secret").body)["secret"] == created["secret"]

    monkeypatch.setattr(service, "REPLAYED_SECRET_SECONDS", -1)  # as if a day had passed since the create
    late = keyed(client, HOOK, key="sub-secret")
    assert late.status_code == 201 and "secret" not in json.loads(late.body), late.body
    monkeypatch.undo()

    headers = auth(SUPPLIER_KEY, **{"Content-Type": "application/json"})
    rotated = client.http.post(f"/v1/subscriptions/{created['id']}/rotate-secret", headers=headers, body="{}")
    assert rotated.status_code == 200, rotated.body
    after = json.loads(keyed(client, HOOK, key="sub-secret").body)
    assert after["id"] == created["id"] and "secret" not in after
