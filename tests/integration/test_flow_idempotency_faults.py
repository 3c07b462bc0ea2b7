"""POST /v1/flows takes an archive in once (review r16, F2): once the archive is in the inbox the flow exists, even
if its record could not be written; and a retry with its Idempotency-Key finds the same flow."""

from __future__ import annotations

import json

import boto3
import pytest
from demo import SUPPLIER_KEY, auth
from idem_faults import faults_fixture  # noqa: F401  (the `faults` fixture)
from invoices import ubl_invoice
from test_flows import get_flow, make_zip, run_pipeline

from chalicelib.config import settings
from devstack.pump import EventPump


@pytest.fixture
def flow_pump(app, aws):
    boto3.client("sqs").purge_queue(QueueUrl=aws.queue_urls[settings().inbox_queue])  # S3's s3:TestEvent
    return EventPump(app, settings().region, {"publish_status_events": aws.invoice_stream_arn})


def inbox() -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=settings().invoice_bucket, Prefix="inbox/")
    return [o["Key"] for o in listed.get("Contents", [])]


def post(client, body: bytes, key: str | None = None):
    headers = auth(SUPPLIER_KEY, **{"Content-Type": "application/zip", **({"Idempotency-Key": key} if key else {})})
    return client.http.post("/v1/flows", headers=headers, body=body)


def outcome(client, flow_id: str) -> tuple[str, dict]:
    flow = json.loads(get_flow(client, flow_id).body)
    return flow["state"], {k: flow["counts"][k] for k in ("files", "accepted", "rejected")}


def test_a_flow_whose_record_write_fails_is_taken_in_and_answered(client, flow_pump, faults):
    """Before: 500, though the archive was in the inbox and later processed; the client's retry made a second flow
    whose files were all rejected as duplicates of the first's."""
    faults.fail("PutItem", "ProvisionedThroughputExceededException",
                when=lambda p: p.get("TableName") == settings().flow_table)  # fmt: skip
    answer = post(client, make_zip([("1.xml", ubl_invoice("FL-REC-1")), ("2.xml", ubl_invoice("FL-REC-2"))]))
    assert answer.status_code == 202, answer.body
    flow_id = json.loads(answer.body)["id"]
    assert answer.headers["Location"].endswith(f"/v1/flows/{flow_id}") and inbox() == [f"inbox/{flow_id}"]
    assert outcome(client, flow_id)[0] == "IN_RECU"  # read from the inbox object until the expansion
    run_pipeline(flow_pump)
    assert outcome(client, flow_id) == ("IN_INTEGRE", {"files": 2, "accepted": 2, "rejected": 0})


def test_a_keyed_retry_after_the_archive_landed_but_its_answer_was_lost_returns_that_flow(client, flow_pump, faults):
    faults.lose_answer("PutObject", when=lambda p: p["Key"].startswith("inbox/"))
    body = make_zip([("1.xml", ubl_invoice("FL-KEY-1")), ("2.xml", ubl_invoice("FL-KEY-2"))])
    assert post(client, body, "flow-42").status_code >= 500
    retry = post(client, body, "flow-42")
    assert retry.status_code == 202, retry.body
    flow_id = json.loads(retry.body)["id"]
    assert inbox() == [f"inbox/{flow_id}"]
    run_pipeline(flow_pump)
    assert outcome(client, flow_id) == ("IN_INTEGRE", {"files": 2, "accepted": 2, "rejected": 0})
    # A replay once processed answers the flow as it is; the same key with another archive is refused.
    replay = json.loads(post(client, body, "flow-42").body)
    assert replay["id"] == flow_id and replay["state"] == "IN_INTEGRE" and replay["counts"]["accepted"] == 2
    other = post(client, make_zip([("3.xml", ubl_invoice("FL-KEY-3"))]), "flow-42")
    assert other.status_code == 409 and "Idempotency-Key" in json.loads(other.body)["detail"]
    assert inbox() == [f"inbox/{flow_id}"]
