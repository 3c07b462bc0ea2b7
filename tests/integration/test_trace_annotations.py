"""X-Ray annotations name the invoice (and the flow) as the logs do (review r56, F3): `annotation.invoice_id = "…"`
finds an invoice's deposit and validation traces. Tracing is off in tests: a recording provider stands for X-Ray's
recorder."""

from __future__ import annotations

import json
from contextlib import contextmanager

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core import xray_recorder
from demo import SUPPLIER_KEY, auth
from invoices import ubl_invoice
from json_logs import json_logs_fixture  # noqa: F401 - fixture
from processing_support import fail_validation_of
from test_failed_attempt_logs import inbox_event
from test_give_up_bundle import flow_of

from chalicelib.config import settings
from chalicelib.entrypoints import dependencies as deps
from chalicelib.entrypoints import events
from chalicelib.entrypoints.observability import annotate_invoice, tracer
from chalicelib.services import flows as flow_service
from chalicelib.services import layout, processing
from devstack.pump import LambdaContext

DEPOSIT = auth(SUPPLIER_KEY, **{"Content-Type": "application/xml"})


class RecordingSubsegment:
    def __init__(self, name: str, annotations: list):
        self.name, self._annotations = name, annotations

    def put_annotation(self, key, value):
        self._annotations.append((self.name, key, value))

    def __getattr__(self, name):  # metadata, exceptions: not what is checked here
        return lambda *args, **kwargs: None


class RecordingProvider:
    """(subsegment, key, value) of every annotation; the current subsegment as X-Ray's recorder keeps it."""

    def __init__(self):
        self.annotations: list[tuple[str, str, object]] = []
        self._open: list[RecordingSubsegment] = []

    @contextmanager
    def in_subsegment(self, name=None, **kwargs):
        self._open.append(RecordingSubsegment(name, self.annotations))
        try:
            yield self._open[-1]
        finally:
            self._open.pop()

    def put_annotation(self, key, value):
        self._open[-1].put_annotation(key, value)

    def of(self, key: str) -> list[tuple[str, object]]:
        return [(name, value) for name, k, value in self.annotations if k == key]


@pytest.fixture
def xray(monkeypatch):
    provider = RecordingProvider()
    monkeypatch.setattr(tracer, "provider", provider)
    monkeypatch.setattr(tracer, "disabled", False)
    return provider


def _deposit(client, number: str) -> str:
    response = client.http.post("/v1/invoices", headers=DEPOSIT, body=ubl_invoice(number))
    assert response.status_code == 202, response.body
    return json.loads(response.body)["id"]


def test_a_deposit_s_trace_is_annotated_with_its_invoice_id(client, xray):
    invoice_id = _deposit(client, "F-TRACE-1")
    assert [value for _, value in xray.of("invoice_id")] == [invoice_id]


def test_each_invoice_of_a_validation_batch_has_its_own_annotation_given_up_or_decided(client, pump, xray,
                                                                                         monkeypatch):  # fmt: skip
    decided, poison = _deposit(client, "F-TRACE-OK"), _deposit(client, "F-TRACE-POISON")
    fail_validation_of(monkeypatch, b"F-TRACE-POISON")
    xray.annotations.clear()
    for _ in range(settings().validation_max_receives):
        pump.deliver_sqs_once("validate_invoices")
    # one subsegment each: a segment keeps one value per key, so a shared one would name only the batch's last
    assert sorted(xray.of("invoice_id")) == sorted([("## invoice", decided), ("## invoice", poison)])


def test_an_inbox_expansion_s_trace_is_annotated_with_its_flow_id(app, xray, monkeypatch):
    flow_id = "01M8GSF1W0000000000000000B"

    def read_timeout(key, **ports):
        raise ConnectionError("Read timeout on endpoint URL")

    monkeypatch.setattr(flow_service, "expand_inbox", read_timeout)
    with pytest.raises(BatchProcessingError):
        app.handler_map["expand_inbox"](inbox_event(layout.inbox_key(flow_id), 1), LambdaContext("expand_inbox", 256))
    assert [value for _, value in xray.of("flow_id")] == [flow_id]


@contextmanager
def xray_sdk_without_segment(monkeypatch):
    """The real X-Ray SDK, on, with no segment open: no recorder stands in for it. Lambda always opens one (and
    Powertools' capture_lambda_handler, app.py's middleware, fails without), so the handlers are called past it."""
    enabled = global_sdk_config.sdk_enabled()
    global_sdk_config.set_sdk_enabled(True)
    monkeypatch.setattr(tracer, "disabled", False)
    try:
        assert xray_recorder.current_segment() is None  # the SDK logs it, as it will on each call
        yield
    finally:
        global_sdk_config.set_sdk_enabled(enabled)
        monkeypatch.setattr(tracer, "disabled", True)


def test_a_give_up_without_a_trace_segment_still_marks_and_announces_its_flow(client, pump, monkeypatch):
    """Review r59 F3: the annotation raised AttributeError (no subsegment) before the flow was told."""
    sqs = boto3.client("sqs")
    sqs.purge_queue(QueueUrl=sqs.get_queue_url(QueueName=settings().inbox_queue)["QueueUrl"])  # S3's s3:TestEvent
    flow_id = flow_of(client, 2)
    assert pump.deliver_sqs_once("expand_inbox") == 1
    monkeypatch.setattr(processing, "validate_en16931", lambda data: 1 / 0)  # a validator bug
    last_receive = SQSRecord(
        inbox_event(layout.bundle_key(flow_id, 1), settings().validation_max_receives)["Records"][0]
    )
    with xray_sdk_without_segment(monkeypatch), pytest.raises(processing.BundleIncomplete):  # the cause
        events.validate_message(SQSRecord(last_receive))
    flow = deps.flows().get(flow_id)
    assert flow.state == "IN_REJETE" and flow.noted_counts == (0, 2)  # its given-up object done: announced
    assert {deps.invoice_records().get(f.invoice_id).processing for f in flow.files} == {"failed"}


def test_an_annotation_the_sdk_refuses_is_logged_not_raised(monkeypatch, json_logs):
    with xray_sdk_without_segment(monkeypatch):
        monkeypatch.setattr(xray_recorder.context, "_context_missing", "RUNTIME_ERROR")  # the SDK raises
        annotate_invoice("01M8GSF1W0000000000000000D")
    [line] = [r for r in json_logs.records() if r["message"].startswith("could not annotate")]
    assert line["level"] == "WARNING" and line["invoice_id"] == "01M8GSF1W0000000000000000D"
    assert "SegmentNotFoundException" in line["exception"]


def test_no_annotation_is_attempted_while_tracing_is_disabled(monkeypatch):
    monkeypatch.setattr(tracer, "disabled", True)
    monkeypatch.setattr(tracer, "provider", None)  # any use of it would raise
    annotate_invoice("01M8GSF1W0000000000000000E")
