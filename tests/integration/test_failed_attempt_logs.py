"""Each failed attempt of a queued message leaves a line naming its object and invoices (review r56, F1 and F2):
a partial batch failure is no Lambda error, so before the give-up that line is the on-call's only trace."""

from __future__ import annotations

import json

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from demo import SUPPLIER_KEY, auth
from invoices import ubl_invoice
from json_logs import json_logs_fixture  # noqa: F401 - fixture
from processing_support import fail_validation_of

from chalicelib.config import settings
from chalicelib.entrypoints import dependencies as deps
from chalicelib.entrypoints.observability import logger
from chalicelib.services import flows as flow_service
from chalicelib.services import layout
from devstack.pump import LambdaContext

DEPOSIT = auth(SUPPLIER_KEY, **{"Content-Type": "application/xml"})


def _deposit(client, number: str) -> str:
    return json.loads(client.http.post("/v1/invoices", headers=DEPOSIT, body=ubl_invoice(number)).body)["id"]


def test_a_failed_validation_attempt_logs_a_warning_per_receive_and_the_give_up_once(client, pump, json_logs,
                                                                                      monkeypatch):  # fmt: skip
    poison = _deposit(client, "F-POISON")
    key = layout.original_key(poison)
    fail_validation_of(monkeypatch, b"F-POISON")
    last = settings().validation_max_receives
    for receive in range(1, last + 1):
        good = _deposit(client, f"F-GOOD-{receive}")  # succeeds in the same batch: no Lambda error
        json_logs.clear()
        assert pump.deliver_sqs_once("validate_invoices") == 2
        naming_poison = [r for r in json_logs.records() if r.get("object_key") == key]
        assert [(r["level"], r["invoice_ids"]) for r in naming_poison] == [
            ("ERROR" if receive == last else "WARNING", [poison])
        ]
        [line] = naming_poison
        assert "RuntimeError: validator bug" in line["exception"]
        if receive < last:
            assert line["receive_count"] == receive
        # the good invoice's line names its own object, not the poison's (keys do not leak between records)
        [processed] = [r for r in json_logs.records() if r.get("invoice_id") == good]
        assert processed["object_key"] == layout.original_key(good)
    json_logs.clear()
    pump.deliver_sqs_once("validate_invoices")
    assert all("object_key" not in r for r in json_logs.records())  # nothing carried into the next invocation


def test_a_bundle_s_failed_attempt_lists_the_invoices_it_could_not_decide(client, pump, json_logs, monkeypatch):
    """Review r59 F4: a bulk flow's bundle logged `invoice_ids: []`, so the runbook's search by invoice id missed it."""
    from test_give_up_bundle import bundle_invoice_ids, flow_of

    sqs = boto3.client("sqs")
    sqs.purge_queue(QueueUrl=sqs.get_queue_url(QueueName=settings().inbox_queue)["QueueUrl"])  # S3's s3:TestEvent
    flow_id = flow_of(client, 3)
    assert pump.deliver_sqs_once("expand_inbox") == 1
    key = layout.bundle_key(flow_id, 1)
    fail_validation_of(monkeypatch, b"F-BUNDLE-1")
    json_logs.clear()
    assert pump.deliver_sqs_once("validate_invoices") == 1
    [line] = [r for r in json_logs.records() if r.get("object_key") == key and r["level"] == "WARNING"]
    undecided = [i for i in bundle_invoice_ids(key) if deps.invoice_records().get(i) is None]  # no record yet
    assert len(undecided) == 1 and line["invoice_ids"] == undecided


def inbox_event(key: str, receive: int) -> dict:
    s3 = {"bucket": {"name": settings().invoice_bucket}, "object": {"key": key, "size": 10}}
    notification = {"Records": [{"eventName": "ObjectCreated:Put", "s3": s3}]}
    return {"Records": [{"messageId": f"m-{receive}", "receiptHandle": "r", "body": json.dumps(notification),
                         "attributes": {"ApproximateReceiveCount": str(receive)}, "messageAttributes": {},
                         "md5OfBody": "", "eventSource": "aws:sqs", "awsRegion": settings().region,
                         "eventSourceARN": f"arn:aws:sqs:{settings().region}:123456789012:inbox"}]}  # fmt: skip


@pytest.fixture(params=[3, 8])
def receives_settings(request, monkeypatch):
    """A stage whose inbox and validation queues dead-letter at different receives, either way round."""
    monkeypatch.setenv("INBOX_MAX_RECEIVES", "6")
    monkeypatch.setenv("VALIDATION_MAX_RECEIVES", str(request.param))
    settings.cache_clear()
    yield
    monkeypatch.undo()
    settings.cache_clear()


def test_a_failed_inbox_expansion_logs_its_inbox_key_and_flow_then_gives_up_on_the_last_receive(
    app, json_logs, monkeypatch, receives_settings
):
    """The give-up follows the inbox queue's own count, not the validation queue's (review r59 F1)."""
    flow_id = "01M8GSF1W0000000000000000A"
    key = layout.inbox_key(flow_id)

    def read_timeout(key, **ports):  # a cause whose text does not name the key
        raise ConnectionError("Read timeout on endpoint URL")

    monkeypatch.setattr(flow_service, "expand_inbox", read_timeout)
    last = settings().inbox_max_receives
    attempts = [(1, "WARNING"), (3, "WARNING"), (last - 1, "WARNING"), (last, "ERROR")]
    for receive, level in attempts:
        json_logs.clear()
        with pytest.raises(BatchProcessingError):
            app.handler_map["expand_inbox"](inbox_event(key, receive), LambdaContext("expand_inbox", 256))
        logger.info("after the record")
        *failed, after = json_logs.records()
        assert [(r["level"], r["object_key"], r["flow_id"]) for r in failed] == [(level, key, flow_id)]
        assert "ConnectionError: Read timeout" in failed[0]["exception"]
        assert "object_key" not in after and "flow_id" not in after  # the keys end with the record
