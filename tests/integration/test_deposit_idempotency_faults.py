"""A deposit retried with its Idempotency-Key creates one invoice, whatever became of the first attempt (review
r16, F1): its original reached S3 but its answer was lost, or the idempotency table failed around it. The key's
record is the original itself (its id is derived from the supplier and the key, and it is written only if absent)."""

from __future__ import annotations

import json

import boto3
import pytest
from demo import SUPPLIER2_KEY, SUPPLIER_KEY, auth
from idem_faults import faults_fixture  # noqa: F401  (the `faults` fixture)
from invoices import SUPPLIER2_SIRET, ubl_invoice
from structured_invoices import json_invoice

from chalicelib.config import settings

XML = {"Content-Type": "application/xml"}


def keys(prefix: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=settings().invoice_bucket, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def deposit(client, body: bytes, key: str, api_key: str = SUPPLIER_KEY, content_type: str = "application/xml"):
    headers = auth(api_key, **{"Content-Type": content_type, "Idempotency-Key": key})
    return client.http.post("/v1/invoices", headers=headers, body=body)


def process(pump) -> None:
    while pump.deliver_sqs_once("validate_invoices"):
        pass


def decision(client, invoice_id: str) -> tuple[int | None, list[str]]:
    invoice = json.loads(client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(SUPPLIER_KEY)).body)
    return invoice["status"] and invoice["status"]["code"], [e["rule"] for e in invoice["errors"]]


def test_a_retry_after_the_original_landed_but_its_answer_was_lost_returns_that_invoice(client, pump, faults):
    """Before: the retry drew a new id and stored a second original, rejected 213 CHORALE-DUPLICATE, and the
    client knew only that one."""
    faults.lose_answer("PutObject", when=lambda p: p["Key"].startswith("originals/"))
    body = ubl_invoice("F-IDEM-LOST-1")
    first = deposit(client, body, "month-end-42")
    assert first.status_code >= 500  # the client cannot know the original is stored
    retry = deposit(client, body, "month-end-42")
    assert retry.status_code == 202, retry.body
    invoice_id = json.loads(retry.body)["id"]
    assert keys("originals/") == [f"originals/{invoice_id}"]
    process(pump)
    assert decision(client, invoice_id) == (203, [])


@pytest.mark.parametrize(
    "failure",
    [
        [("UpdateItem", "ProvisionedThroughputExceededException")],  # Powertools' "completed" write
        [("PutObject", "SlowDown"), ("DeleteItem", "ProvisionedThroughputExceededException")],  # its clean-up
    ],
    ids=["completion-throttled", "s3-failed-then-clean-up-throttled"],
)
def test_a_failing_idempotency_table_does_not_block_the_retry(client, pump, faults, failure):
    """Before: the key stayed "in progress" and the retry got 409 (then, once that expired, a second invoice)."""
    idempotency_table = settings().idempotency_table
    for operation, code in failure:
        when = (lambda p: p.get("TableName") == idempotency_table) if operation != "PutObject" else (lambda p: True)
        faults.fail(operation, code, when=when)
    body = ubl_invoice("F-IDEM-TABLE-1")
    attempts = [deposit(client, body, "month-end-43") for _ in range(2)]
    assert attempts[-1].status_code == 202, attempts[-1].body
    ids = {json.loads(a.body)["id"] for a in attempts if a.status_code == 202}
    assert len(ids) == 1 and keys("originals/") == [f"originals/{ids.pop()}"]


def test_a_keyed_replay_creates_nothing_and_another_body_is_refused(client, pump):
    body = json.dumps(json_invoice("J-IDEM-1")).encode()  # a JSON invoice: an original and its UBL rendition
    first = deposit(client, body, "erp-7", content_type="application/json")
    replay = deposit(client, body, "erp-7", content_type="application/json")
    assert first.status_code == replay.status_code == 202
    invoice_id = json.loads(first.body)["id"]
    assert json.loads(replay.body)["id"] == invoice_id
    rendition = boto3.client("s3").get_object(Bucket=settings().invoice_bucket, Key=f"renditions/{invoice_id}.xml")
    other = deposit(client, json.dumps(json_invoice("J-IDEM-2")).encode(), "erp-7", content_type="application/json")
    assert other.status_code == 409 and "Idempotency-Key" in json.loads(other.body)["detail"]
    assert keys("originals/") == [f"originals/{invoice_id}"]
    kept = boto3.client("s3").get_object(Bucket=settings().invoice_bucket, Key=f"renditions/{invoice_id}.xml")
    assert kept["ETag"] == rendition["ETag"]  # the first invoice's rendition is not replaced
    process(pump)
    assert decision(client, invoice_id) == (203, [])
    # A replay once decided answers the decided invoice; the same key is another supplier's own.
    assert json.loads(deposit(client, body, "erp-7", content_type="application/json").body)["status"]["code"] == 203
    theirs = deposit(client, ubl_invoice("F-IDEM-OTHER", seller=SUPPLIER2_SIRET), "erp-7", SUPPLIER2_KEY)
    assert theirs.status_code == 202 and json.loads(theirs.body)["id"] != invoice_id


def test_a_key_first_used_with_an_xml_body_refuses_a_json_one_and_leaves_no_rendition(client):
    first = deposit(client, ubl_invoice("F-IDEM-X"), "erp-8")
    assert first.status_code == 202
    other = deposit(client, json.dumps(json_invoice("J-IDEM-X")).encode(), "erp-8", content_type="application/json")
    assert other.status_code == 409
    assert keys("renditions/") == []


@pytest.fixture
def locked_stage(monkeypatch):
    """Before the moto resources (ask for it before `client`): the bucket is versioned and lock-enabled (prod)."""
    monkeypatch.setenv("OBJECT_LOCK_MODE", "GOVERNANCE")
    monkeypatch.setenv("OBJECT_LOCK_DAYS", "3650")
    settings.cache_clear()
    yield
    monkeypatch.undo()
    settings.cache_clear()


def test_the_conditional_write_works_on_a_locked_bucket(locked_stage, client, faults):
    faults.lose_answer("PutObject", when=lambda p: p["Key"].startswith("originals/"))
    body = ubl_invoice("F-IDEM-LOCK-1")
    assert deposit(client, body, "locked-1").status_code >= 500
    retry = deposit(client, body, "locked-1")
    assert retry.status_code == 202, retry.body
    invoice_id = json.loads(retry.body)["id"]
    s3 = boto3.client("s3")
    versions = s3.list_object_versions(Bucket=settings().invoice_bucket, Prefix="originals/")["Versions"]
    assert [v["Key"] for v in versions] == [f"originals/{invoice_id}"]  # one version: nothing was rewritten
    head = s3.head_object(Bucket=settings().invoice_bucket, Key=f"originals/{invoice_id}")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert deposit(client, ubl_invoice("F-IDEM-LOCK-2"), "locked-1").status_code == 409
