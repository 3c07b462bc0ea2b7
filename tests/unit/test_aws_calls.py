"""The IAM-call recorder of the tests (tests/aws_calls.py): how it reads calls and whose calls they are."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import aws_calls


def test_calls_are_recorded_per_function_with_their_resources():
    """The recorder's reading of calls: actions named as IAM names them, resources by setting, keys by folder."""
    assert aws_calls.accesses("s3", "HeadObject", {"Bucket": "chorale-invoices", "Key": "originals/01ABC/x.xml"}) == [
        ("s3:GetObject", "INVOICE_BUCKET", "originals/*/")
    ]
    assert aws_calls.accesses("s3", "GetObject", {"Bucket": "chorale-invoices", "Key": "a/b", "VersionId": "v"}) == [
        ("s3:GetObjectVersion", "INVOICE_BUCKET", "a/")
    ]
    copied = aws_calls.accesses(
        "s3",
        "CopyObject",
        {
            "Bucket": "chorale-invoices",
            "Key": "attachments/1/f",
            "CopySource": {"Bucket": "chorale-invoices", "Key": "uploads/attachments/1/f"},
        },
    )
    assert copied == [
        ("s3:PutObject", "INVOICE_BUCKET", "attachments/*/"),
        ("s3:GetObject", "INVOICE_BUCKET", "uploads/attachments/*/"),
    ]
    assert aws_calls.accesses("dynamodb", "Query", {"TableName": "chorale-invoices", "IndexName": "by-recipient"}) == [
        ("dynamodb:Query", "INVOICE_TABLE", "by-recipient")
    ]
    assert aws_calls.accesses(
        "dynamodb", "TransactWriteItems", {"TransactItems": [{"ConditionCheck": {"TableName": "chorale-structures"}}]}
    ) == [("dynamodb:ConditionCheckItem", "STRUCTURE_TABLE", "")]
    queue = "https://sqs.eu-west-3.amazonaws.com/123456789012/chorale-webhook-deliveries-dlq"
    assert aws_calls.accesses("sqs", "SendMessageBatch", {"QueueUrl": queue}) == [
        ("sqs:SendMessage", "WEBHOOK_DELIVERY_QUEUE:dlq", "")
    ]


def test_each_handler_s_calls_are_its_own_even_when_two_run_at_once_with_worker_threads(monkeypatch):
    """Review r29: the running function was one list shared by every thread: two handlers running at once got each
    other's calls. A handler's pool workers make its calls (the webhook deliveries run in a pool)."""
    monkeypatch.setattr(aws_calls, "_calls", set())

    class Handler:
        def __init__(self, name):
            self.name = name

        @aws_calls._as(lambda handler: handler.name)
        def __call__(self, both_inside: threading.Barrier, table: str):
            both_inside.wait(5)  # the other handler is running too
            aws_calls._record("dynamodb", "GetItem", {"TableName": table})
            with ThreadPoolExecutor(2) as pool:
                pool.submit(aws_calls._record, "dynamodb", "PutItem", {"TableName": table}).result()

    barrier = threading.Barrier(2)
    threads = [
        threading.Thread(target=Handler("FunctionA"), args=(barrier, "chorale-invoices")),
        threading.Thread(target=Handler("FunctionB"), args=(barrier, "chorale-structures")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(aws_calls.calls()) == [
        ["FunctionA", "dynamodb:GetItem", "INVOICE_TABLE", ""],
        ["FunctionA", "dynamodb:PutItem", "INVOICE_TABLE", ""],
        ["FunctionB", "dynamodb:GetItem", "STRUCTURE_TABLE", ""],
        ["FunctionB", "dynamodb:PutItem", "STRUCTURE_TABLE", ""],
    ]
    aws_calls._record("dynamodb", "GetItem", {"TableName": "chorale-invoices"})  # outside any handler: not recorded
    assert len(aws_calls.calls()) == 4


def test_a_session_s_calls_are_added_to_the_record(monkeypatch, tmp_path):
    """Review r29: a run of one integration file replaced the record of a full run with its few calls."""
    monkeypatch.setattr(aws_calls, "RECORD", tmp_path / "calls.json")
    monkeypatch.setattr(aws_calls, "_calls", {("FunctionA", "sns:Publish", "EVENTS_TOPIC_ARN", "")})
    aws_calls.write()
    monkeypatch.setattr(aws_calls, "_calls", {("FunctionB", "sqs:SendMessage", "INBOX_QUEUE", "")})
    aws_calls.write()
    assert json.loads((tmp_path / "calls.json").read_text())["calls"] == [
        ["FunctionA", "sns:Publish", "EVENTS_TOPIC_ARN", ""],
        ["FunctionB", "sqs:SendMessage", "INBOX_QUEUE", ""],
    ]
