"""An attachment sent with an Idempotency-Key is attached once whatever became of its first attempt: its id is
derived from (invoice, caller, key), so a retry finds the first attempt's record, or its file never recorded."""

from __future__ import annotations

import json

import boto3
import pytest
from aws_failures import client_error, fail_fixture  # noqa: F401 (fixture)
from botocore.exceptions import ReadTimeoutError
from demo import SUPPLIER_KEY, auth
from lost_write_answers import invoice_writes_fixture, made_available_fixture  # noqa: F401 (fixtures)
from test_lost_write_answers import PDF, attach, attachment_files, recorded_attachments

from chalicelib.config import settings


def attach_file(client, invoice_id: str, body: bytes, name: str = "bon.pdf", key: str = "erp-pj-1"):
    headers = {"Content-Type": "application/octet-stream", "Content-Disposition": f'attachment; filename="{name}"',
               "Idempotency-Key": key}  # fmt: skip
    return client.http.post(f"/v1/invoices/{invoice_id}/attachments", headers=auth(SUPPLIER_KEY, **headers), body=body)


def unrecorded_write_of_unknown_outcome(fail) -> None:
    """The next invoice write times out without landing, and the re-read that would tell is throttled: the attempt
    ends in a 5xx with its file stored but recorded nowhere (as when the Lambda dies between the two)."""
    table, left = settings().invoice_table, {"PutItem": 1, "GetItem": 0}

    def invoice_write(params):
        if params.get("TableName") != table or not left["PutItem"]:
            return None
        left["PutItem"], left["GetItem"] = 0, 1
        return ReadTimeoutError(endpoint_url="https://dynamodb.eu-west-3.amazonaws.com")

    def re_read(params):
        if params.get("TableName") != table or not left["GetItem"]:
            return None
        left["GetItem"] = 0
        return client_error("ProvisionedThroughputExceededException", "GetItem")

    fail["PutItem"], fail["GetItem"] = invoice_write, re_read


def test_a_retry_after_a_5xx_whose_record_landed_answers_the_same_attachment(client, made_available, invoice_writes):
    """The write landed, its answer timed out and the re-read failed: the client got a 5xx and Powertools freed
    the key. The retry used to attach the file a second time, under a new id."""
    invoice_id = made_available()
    invoice_writes.committed_then_timed_out_and_unreadable()
    first = attach(client, invoice_id)
    assert first.status_code >= 500, first.body
    [landed] = recorded_attachments(client, invoice_id)
    retry = attach(client, invoice_id)
    assert retry.status_code == 201, retry.body
    assert json.loads(retry.body)["id"] == landed
    assert recorded_attachments(client, invoice_id) == attachment_files(invoice_id) == [landed]


def test_a_retry_records_the_file_its_first_attempt_stored_but_never_recorded(client, made_available, fail):
    invoice_id = made_available()
    unrecorded_write_of_unknown_outcome(fail)
    first = attach(client, invoice_id)
    assert first.status_code >= 500, first.body
    assert recorded_attachments(client, invoice_id) == []
    [stored] = attachment_files(invoice_id)  # kept: the platform could not tell it was not recorded
    retry = attach(client, invoice_id)
    assert retry.status_code == 201, retry.body
    assert json.loads(retry.body)["id"] == stored
    assert recorded_attachments(client, invoice_id) == attachment_files(invoice_id) == [stored]
    download = client.http.get(f"/v1/invoices/{invoice_id}/attachments/{stored}", headers=auth(SUPPLIER_KEY))
    assert download.status_code == 302


@pytest.mark.parametrize("other", [{"body": PDF + b" (v2)"}, {"name": "autre.pdf"}])
def test_the_key_of_a_stored_unrecorded_file_with_another_file_or_name_is_a_409(client, made_available, fail, other):
    invoice_id = made_available()
    unrecorded_write_of_unknown_outcome(fail)
    assert attach(client, invoice_id).status_code >= 500
    [stored] = attachment_files(invoice_id)
    reused = attach_file(client, invoice_id, **{"body": PDF, **other})
    assert reused.status_code == 409, reused.body
    assert recorded_attachments(client, invoice_id) == []
    body = boto3.client("s3").get_object(Bucket=settings().invoice_bucket, Key=f"attachments/{invoice_id}/{stored}")
    assert body["Body"].read() == PDF  # the first attempt's file is not replaced


@pytest.mark.parametrize("other", [{"body": PDF + b" (v2)"}, {"name": "autre.pdf"}])
def test_the_key_of_a_recorded_attachment_with_another_file_or_name_is_a_409(
    client, made_available, invoice_writes, other
):
    invoice_id = made_available()
    invoice_writes.committed_then_timed_out_and_unreadable()  # recorded, and the key is free in Powertools
    assert attach(client, invoice_id).status_code >= 500
    [landed] = recorded_attachments(client, invoice_id)
    reused = attach_file(client, invoice_id, **{"body": PDF, **other})
    assert reused.status_code == 409, reused.body
    assert recorded_attachments(client, invoice_id) == attachment_files(invoice_id) == [landed]


def test_the_same_key_on_another_invoice_is_another_attachment(client, made_available):
    first, second = made_available(), made_available()
    one, other = attach(client, first), attach(client, second)
    assert one.status_code == other.status_code == 201
    assert json.loads(one.body)["id"] != json.loads(other.body)["id"]


def test_an_attachment_on_a_stage_without_lock_sends_no_put_object_retention(client, made_available, fail):
    invoice_id = made_available()
    calls = []
    fail["PutObjectRetention"] = lambda params: calls.append(params["Key"])
    assert attach(client, invoice_id).status_code == 201
    assert calls == []  # locking after the record costs a request only where records are locked
