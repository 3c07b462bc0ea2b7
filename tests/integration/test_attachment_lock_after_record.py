"""On a stage that locks its legal records, an attachment sent in the body is written unlocked and locked once its
record is written (review r16 F9): a file recorded nowhere leaves no locked version, kept and billed for the whole
retention."""

from __future__ import annotations

import json
import logging

import boto3
import pytest
from aws_failures import fail_fixture  # noqa: F401 (fixture)
from lost_write_answers import invoice_writes_fixture, made_available_fixture  # noqa: F401 (fixtures)
from test_lost_write_answers import attach, attachment_files, recorded_attachments
from test_object_lock import assert_locked, lock_of, locked_stage  # noqa: F401 - locked_stage: autouse, a lock-enabled bucket

from chalicelib.config import settings


def locked_versions(invoice_id: str) -> list[str]:
    s3, bucket, prefix = boto3.client("s3"), settings().invoice_bucket, f"attachments/{invoice_id}/"
    versions = s3.list_object_versions(Bucket=bucket, Prefix=prefix).get("Versions", [])
    return [v["Key"] for v in versions
            if s3.head_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"]).get("ObjectLockMode")]  # fmt: skip


@pytest.mark.parametrize("key", ["erp-pj-1", None])
def test_a_throttled_attachment_leaves_no_locked_version(client, made_available, invoice_writes, key):
    invoice_id = made_available()
    invoice_writes.throttled()
    refused = attach(client, invoice_id, key=key)
    assert refused.status_code >= 500, refused.body
    assert recorded_attachments(client, invoice_id) == attachment_files(invoice_id) == []
    assert locked_versions(invoice_id) == []  # the deleted file's version is free to expire


def test_a_recorded_attachment_is_locked(client, made_available):
    invoice_id = made_available()
    answer = attach(client, invoice_id, key=None)
    assert answer.status_code == 201, answer.body
    assert_locked(f"attachments/{invoice_id}/{json.loads(answer.body)['id']}")


def test_the_retry_of_an_attachment_recorded_but_not_locked_locks_it(client, made_available, invoice_writes):
    """The first attempt's record landed, its answer was lost (a 5xx): it never reached the lock."""
    invoice_id = made_available()
    invoice_writes.committed_then_timed_out_and_unreadable()
    assert attach(client, invoice_id).status_code >= 500
    [landed] = recorded_attachments(client, invoice_id)
    assert lock_of(f"attachments/{invoice_id}/{landed}") == (None, None)
    retry = attach(client, invoice_id)
    assert retry.status_code == 201 and json.loads(retry.body)["id"] == landed, retry.body
    assert_locked(f"attachments/{invoice_id}/{landed}")


def test_an_attachment_whose_lock_fails_is_201_and_logged_for_an_operator(client, made_available, fail, caplog):
    invoice_id = made_available()
    fail["PutObjectRetention"] = "InternalError"
    with caplog.at_level(logging.ERROR, logger="chalicelib.services.lifecycle"):
        answer = attach(client, invoice_id, key=None)
    assert answer.status_code == 201, answer.body
    key = f"attachments/{invoice_id}/{json.loads(answer.body)['id']}"
    assert recorded_attachments(client, invoice_id) == attachment_files(invoice_id) == [key.rsplit("/", 1)[-1]]
    assert lock_of(key) == (None, None)
    assert [r.levelno for r in caplog.records if key in r.getMessage()] == [logging.ERROR]


def test_an_attachment_costs_one_put_object_retention(client, made_available, fail):
    invoice_id = made_available()
    calls = []
    fail["PutObjectRetention"] = lambda params: calls.append(params["Key"])
    assert attach(client, invoice_id, key=None).status_code == 201
    assert calls == [f"attachments/{invoice_id}/{attachment_files(invoice_id)[0]}"]
