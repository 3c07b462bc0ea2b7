"""On a stage that locks its legal records, an attachment whose record was certainly not written leaves no current
file (review r16 F9), and no locked version either: the file is written unlocked and locked only once recorded
(test_attachment_lock_after_record.py), so the deleted file's bytes, a noncurrent version, expire with the bucket's
lifecycle rules. A retry records the file and locks it."""

from __future__ import annotations

import json

import boto3
from demo import SUPPLIER_KEY, auth
from lost_write_answers import invoice_writes_fixture, made_available_fixture  # noqa: F401 (fixtures)
from test_lost_write_answers import attach, attachment_files, recorded_attachments
from test_object_lock import locked_stage  # noqa: F401 - autouse: a lock-enabled bucket

from chalicelib.config import settings


def test_a_throttled_attachment_on_a_locked_stage_leaves_no_current_file(client, made_available, invoice_writes):
    invoice_id = made_available()
    invoice_writes.throttled()
    refused = attach(client, invoice_id)
    assert refused.status_code >= 500, refused.body
    assert recorded_attachments(client, invoice_id) == [] and attachment_files(invoice_id) == []
    retry = attach(client, invoice_id)
    assert retry.status_code == 201, retry.body
    [recorded] = recorded_attachments(client, invoice_id)
    assert attachment_files(invoice_id) == [recorded] == [json.loads(retry.body)["id"]]
    head = boto3.client("s3").head_object(Bucket=settings().invoice_bucket, Key=f"attachments/{invoice_id}/{recorded}")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    download = client.http.get(f"/v1/invoices/{invoice_id}/attachments/{recorded}", headers=auth(SUPPLIER_KEY))
    assert download.status_code == 302
