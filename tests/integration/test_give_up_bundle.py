"""Giving up on a bundle of a flow's originals: each of its invoices is marked failed on its own, so one that
cannot be saved does not leave the others of the bundle pending."""

from __future__ import annotations

import io
import json
import logging
import zipfile

import boto3
from aws_failures import When, fail_fixture  # noqa: F401 - fixtures
from demo import SUPPLIER_KEY, auth
from invoices import ubl_invoice

from chalicelib.config import settings
from chalicelib.entrypoints import dependencies as deps
from chalicelib.formats import bundles
from chalicelib.services import layout, processing


def flow_of(client, count: int) -> str:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for i in range(count):
            zipped.writestr(f"{i}.xml", ubl_invoice(f"F-BUNDLE-{i}"))
    headers = auth(SUPPLIER_KEY, **{"Content-Type": "application/zip"})
    return json.loads(client.http.post("/v1/flows", headers=headers, body=archive.getvalue()).body)["id"]


def bundle_invoice_ids(key: str) -> list[str]:
    data = boto3.client("s3").get_object(Bucket=settings().invoice_bucket, Key=key)["Body"].read()
    return [member.name for member in bundles.read_bundle(data)]


def test_a_bundle_whose_first_invoice_cannot_be_marked_failed_still_marks_the_others(client, pump, fail, monkeypatch,
                                                                                     caplog):  # fmt: skip
    boto3.client("sqs").purge_queue(QueueUrl=boto3.client("sqs").get_queue_url(
        QueueName=settings().inbox_queue)["QueueUrl"])  # S3's s3:TestEvent  # fmt: skip
    flow_of(client, 3)
    assert pump.deliver_sqs_once("expand_inbox") == 1
    [key] = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=settings().invoice_bucket)["Contents"]
             if layout.is_bundle_key(o["Key"])]  # fmt: skip
    first, *others = bundle_invoice_ids(key)
    assert len(others) == 2
    monkeypatch.setattr(processing, "validate_en16931", lambda data: 1 / 0)  # every receive fails
    # The give-up's save of the first invoice fails (its table throttled for that item alone).
    fail["PutItem"] = When(lambda params: "ProvisionedThroughputExceededException"
                           if params.get("TableName") == settings().invoice_table
                           and params["Item"]["id"]["S"] == first else None)  # fmt: skip

    caplog.set_level(logging.ERROR, logger=processing.__name__)
    for _ in range(settings().validation_max_receives):
        assert pump.deliver_sqs_once("validate_invoices") == 1
    assert pump.deliver_sqs_once("validate_invoices") == 0  # in the DLQ

    fail.clear()
    records = deps.invoice_records()
    processing_of = {
        invoice_id: getattr(records.get(invoice_id), "processing", None) for invoice_id in (first, *others)
    }
    assert processing_of == {first: None, others[0]: "failed", others[1]: "failed"}  # the first: no record yet
    [unmarked] = [r for r in caplog.records if r.name == processing.__name__]
    assert unmarked.levelno == logging.ERROR and unmarked.invoice_id == first and key in unmarked.getMessage()
