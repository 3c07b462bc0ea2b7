"""Review r41: personal data is kept no longer than the retention, and a structure learns nothing of others' requests.

- Invoice, flow and number-claim items expire (DynamoDB TTL on `expires`) the retention after their deposit, as the
  S3 lifecycle expires the originals.
- An unconfirmed e-mail address is purged by the subscriptions table's TTL, and hidden once its link has expired.
- The per-address confirmation quota no longer tells a structure that other structures subscribed the address.
- A previous webhook secret does not stay at rest after its grace period.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import boto3
import pytest
from demo import CHR_KEY, MAIRIE_KEY, SUPPLIER2_KEY, SUPPLIER_KEY, auth
from invoices import ubl_invoice
from test_flows import flow_pump, get_flow, make_zip, post_flow, run_pipeline  # noqa: F401 - flow_pump: a fixture

from chalicelib.config import settings
from chalicelib.domain.subscriptions import CONFIRMATION_SECONDS, PENDING_PURGE_MARGIN_SECONDS, Subscription

RETENTION_DAYS = 90  # the dev stage's


@pytest.fixture(autouse=True)
def dev_retention(monkeypatch):
    monkeypatch.setenv("RETENTION_DAYS", str(RETENTION_DAYS))
    settings.cache_clear()
    yield
    monkeypatch.undo()
    settings.cache_clear()


def scan(table: str) -> list[dict]:
    return boto3.client("dynamodb").scan(TableName=table)["Items"]


def retention_after(iso: str) -> int:
    return int((datetime.fromisoformat(iso.replace("Z", "+00:00")) + timedelta(days=RETENTION_DAYS)).timestamp())


def test_an_invoice_record_and_its_number_claim_expire_with_the_original(client, pump):
    deposited = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/xml"}),
                                 body=ubl_invoice("F-R41-RET"))  # fmt: skip
    invoice_id = json.loads(deposited.body)["id"]
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    invoice = json.loads(client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(SUPPLIER_KEY)).body)

    (record,) = scan(settings().invoice_table)
    assert int(record["expires"]["N"]) == retention_after(invoice["created_at"])
    (claim,) = scan(settings().number_table)
    assert claim["invoice_id"]["S"] == invoice_id
    # claimed at the decision, after the deposit: never gone while the invoice's record is there
    assert retention_after(invoice["created_at"]) <= int(claim["expires"]["N"]) <= time.time() + RETENTION_DAYS * 86400


def test_a_status_change_keeps_the_record_s_expiry(client, pump):
    deposited = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/xml"}),
                                 body=ubl_invoice("F-R41-RET2"))  # fmt: skip
    invoice_id = json.loads(deposited.body)["id"]
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    (before,) = scan(settings().invoice_table)
    changed = client.http.post(f"/v1/invoices/{invoice_id}/status",
                               headers=auth(MAIRIE_KEY, **{"Content-Type": "application/json"}),
                               body=json.dumps({"code": 204}))  # fmt: skip
    assert changed.status_code == 200, changed.body
    (after,) = scan(settings().invoice_table)
    assert after["version"] != before["version"] and after["expires"] == before["expires"]


def test_every_item_of_a_flow_expires_with_it(client, flow_pump):  # noqa: F811 - the fixture
    flow = json.loads(post_flow(client, make_zip([("a.xml", ubl_invoice("FR-1")), ("b.xml", b"<x/>")])).body)
    run_pipeline(flow_pump)
    created_at = json.loads(get_flow(client, flow["id"]).body)["created_at"]

    items = scan(settings().flow_table)
    assert {i["sk"]["S"] for i in items} == {"#", "files#file#00001"}  # the header and its files
    assert {int(i["expires"]["N"]) for i in items} == {retention_after(created_at)}


def pending_item(address: str) -> dict:
    (item,) = [i for i in scan(settings().subscription_table) if i.get("email", {}).get("S") == address]
    return item


def create(client, key: str, body: dict):
    return client.http.post("/v1/subscriptions", headers=auth(key, **{"Content-Type": "application/json"}),
                            body=json.dumps(body))  # fmt: skip


def test_an_unconfirmed_address_is_purged_by_ttl_and_hidden_once_its_link_expired(client):
    created = create(client, SUPPLIER_KEY, {"email": "jean.dupont@perso.example"})
    assert created.status_code == 201
    item = pending_item("jean.dupont@perso.example")
    expires_at = float(item["confirmation_expires"]["N"])
    assert int(item["expires"]["N"]) == int(expires_at + PENDING_PURGE_MARGIN_SECONDS)
    assert expires_at <= time.time() + CONFIRMATION_SECONDS

    # The link expires; the table's TTL may take up to 48 h more to delete the item: it is no longer listed.
    boto3.client("dynamodb").update_item(
        TableName=settings().subscription_table, Key={"siret": item["siret"], "id": item["id"]},
        UpdateExpression="SET confirmation_expires = :past", ExpressionAttributeValues={":past": {"N": "1000"}},
    )  # fmt: skip
    listed = json.loads(client.http.get("/v1/subscriptions", headers=auth(SUPPLIER_KEY)).body)
    assert listed["subscriptions"] == []


def test_a_confirmed_address_is_kept_no_expiry(aws):
    from chalicelib.adapters.subscription_store import DynamoSubscriptionStore

    store = DynamoSubscriptionStore()
    pending = Subscription("01M8G2T613JX52T9V7AAAAAAAA", "81234567800013", "2026-11-28T00:00:00.000Z",
                           email="a@b.fr", state="pending_confirmation", confirmation_hash="h",
                           confirmation_expires=2_000_000_000.0)  # fmt: skip
    store.add(pending)
    assert int(pending_item("a@b.fr")["expires"]["N"]) == 2_000_000_000 + PENDING_PURGE_MARGIN_SECONDS
    store.save(pending.confirmed())
    assert "expires" not in pending_item("a@b.fr")
    assert store.get(pending.siret, pending.id).state == "active"


def confirmation_jobs(aws) -> int:
    sqs = boto3.client("sqs")
    url = aws.queue_urls[settings().webhook_delivery_queue]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_the_address_quota_tells_a_structure_nothing_of_other_structures_requests(client, aws):
    address = "marie.martin@perso.example"
    answers = [create(client, key, {"email": address}) for key in (SUPPLIER_KEY, SUPPLIER2_KEY, MAIRIE_KEY, CHR_KEY)]
    # The fourth today: answered as the three others (it was a 429 naming the address's day of mails)
    assert [a.status_code for a in answers] == [201] * 4
    bodies = [json.loads(a.body) for a in answers]
    assert {b["status"] for b in bodies} == {"pending_confirmation"}
    assert set(bodies[3]) == set(bodies[0])
    assert confirmation_jobs(aws) == 3  # and the address was not mailed a fourth time
    # Asked again, the CHR is refused as a structure whose mail went out is, and told nothing about the others.
    again = create(client, CHR_KEY, {"email": address})
    assert again.status_code == 429
    problem = json.loads(again.body)
    assert "for this structure" in problem["detail"] and "today" not in problem["detail"]
    assert "already mailed" not in problem["detail"]  # review r44 F4: no mail went out, none is claimed
    assert confirmation_jobs(aws) == 3


def test_an_unmailed_claim_is_released_alone(aws):
    from chalicelib.adapters.subscription_store import DynamoSubscriptionStore

    store, now, day, address = DynamoSubscriptionStore(), 1_000_000.0, 86400, "someone@example.fr"
    for siret in ("81234567800013", "82345678900010", "13000123400017"):
        assert store.claim_confirmation_mail(address, siret, now, day, 3) is None
    # noted, unmailed
    assert store.claim_confirmation_mail(address, "21750001600019", now + 1, day, 3) == ("address", now + 1, None)
    assert store.claim_confirmation_mail(address, "21750001600019", now + 2, day, 3) == ("structure", now + 1, None)
    assert store.release_confirmation_mail(address, "21750001600019", now) is False  # not this claim
    assert store.release_confirmation_mail(address, "21750001600019", now + 1) is True
    # Its marker is gone and the address's count is untouched (still full): noted again, still unmailed.
    assert store.claim_confirmation_mail(address, "21750001600019", now + 3, day, 3) == ("address", now + 3, None)
    assert store.release_confirmation_mail(address, "81234567800013", now) is True  # a mailed one: counted down
    assert store.claim_confirmation_mail(address, "81234567800013", now + 4, day, 3) is None


def raw_subscription(siret: str, subscription_id: str) -> dict:
    key = {"siret": {"S": siret}, "id": {"S": subscription_id}}
    return boto3.client("dynamodb").get_item(TableName=settings().subscription_table, Key=key)["Item"]


def test_a_previous_secret_past_its_grace_is_removed_at_the_next_read(aws):
    from chalicelib.adapters.subscription_store import DynamoSubscriptionStore

    store, now = DynamoSubscriptionStore(), time.time()
    webhook = Subscription("01M8G2T613JX52T9V7BBBBBBBB", "81234567800013", "2026-11-20T00:00:00.000Z",
                           url="https://example.fr/h", secret="whsec_leaked")  # fmt: skip
    lapsed = webhook.rotated("whsec_new", now - 2 * 86400, 86400)  # its day of grace ended yesterday
    store.add(lapsed)
    assert raw_subscription(webhook.siret, webhook.id)["previous_secret"]["S"] == "whsec_leaked"

    read = store.get(webhook.siret, webhook.id)

    assert read.secret == "whsec_new" and read.previous_secret is None and read.previous_secret_expires is None
    item = raw_subscription(webhook.siret, webhook.id)
    assert "previous_secret" not in item and "previous_secret_expires" not in item  # no longer at rest
    assert item["secret"]["S"] == "whsec_new"


def test_a_previous_secret_within_its_grace_is_kept(aws):
    from chalicelib.adapters.subscription_store import DynamoSubscriptionStore

    store = DynamoSubscriptionStore()
    webhook = Subscription("01M8G2T613JX52T9V7CCCCCCCC", "81234567800013", "2026-11-20T00:00:00.000Z",
                           url="https://example.fr/h", secret="whsec_old")  # fmt: skip
    store.add(webhook.rotated("whsec_new", time.time(), 86400))
    read = store.get(webhook.siret, webhook.id)
    assert read.previous_secret == "whsec_old"
    assert raw_subscription(webhook.siret, webhook.id)["previous_secret"]["S"] == "whsec_old"
