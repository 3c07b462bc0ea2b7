"""X-Ray annotations name the invoice (and the flow) as the logs do (review r56, F3): `annotation.invoice_id = "…"`
finds an invoice's deposit and validation traces. Tracing is off in tests: a recording provider stands for X-Ray's
recorder."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from demo import SUPPLIER_KEY, auth
from invoices import ubl_invoice
from test_failed_attempt_logs import inbox_event

from chalicelib.config import settings
from chalicelib.entrypoints.observability import tracer
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
    real_validator = processing.validate_en16931

    def validator_bug(data, *args, **kwargs):
        if b"F-TRACE-POISON" in data:
            raise RuntimeError("validator bug")
        return real_validator(data, *args, **kwargs)

    monkeypatch.setattr(processing, "validate_en16931", validator_bug)
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
