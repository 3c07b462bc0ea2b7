"""The validation gives up while DynamoDB is failing too (review r16, F8): marking the invoices failed fails, and
that must neither replace the cause nor keep the give-up's other steps from running; the DLQ's redrive, once the
outage is over, decides the invoice."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import boto3
from aws_failures import fail_fixture, on_table  # noqa: F401 - fixtures
from demo import SUPPLIER_KEY, auth
from invoices import ubl_invoice

from chalicelib.config import settings
from chalicelib.entrypoints import events
from chalicelib.services import layout, processing


def test_a_give_up_during_a_table_outage_logs_its_cause_and_still_tells_the_flow(client, pump, fail, monkeypatch,
                                                                                 caplog):  # fmt: skip
    headers = auth(SUPPLIER_KEY, **{"Content-Type": "application/xml"})
    invoice_id = json.loads(client.http.post("/v1/invoices", headers=headers, body=ubl_invoice("F-GIVE-UP")).body)["id"]
    key = layout.original_key(invoice_id)
    real_validator, told = processing.validate_en16931, []
    monkeypatch.setattr(processing, "validate_en16931", lambda data: 1 / 0)  # the cause: a validator bug
    fail["PutItem"] = on_table(settings().invoice_table, "ProvisionedThroughputExceededException")  # and an outage
    real_object_processed = events.flow_service.object_processed

    def object_processed(key, decided, **ports):
        told.append((key, decided, ports["originals"] is not None))
        return real_object_processed(key, decided, **ports)

    monkeypatch.setattr(events.flow_service, "object_processed", object_processed)

    caplog.set_level(logging.INFO, logger=events.logger.service)  # the tests' POWERTOOLS_LOG_LEVEL is CRITICAL
    for _ in range(settings().validation_max_receives):
        assert pump.deliver_sqs_once("validate_invoices") == 1
    assert pump.deliver_sqs_once("validate_invoices") == 0  # in the DLQ

    [given_up] = [r for r in caplog.records if r.getMessage() == f"giving up on {key}: the message goes to the DLQ"]
    assert given_up.exc_info[0] is ZeroDivisionError  # the cause, not the failed marking
    [unmarked] = [r for r in caplog.records if r.getMessage().startswith(f"could not mark the invoices of {key}")]
    assert unmarked.levelno == logging.ERROR and unmarked.invoice_ids == [invoice_id]
    assert told == [(key, [], True)]  # the flow's give-up step ran (a lone deposit: no flow)
    invoice = json.loads(client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(SUPPLIER_KEY)).body)
    assert invoice["processing"] == "pending"  # what operations.md tells the operator to redrive

    fail.clear()
    monkeypatch.setattr(processing, "validate_en16931", real_validator)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "infra"))
    from redrive import redrive

    assert redrive(boto3.client("sqs"), settings().validation_queue) == 1
    assert pump.deliver_sqs_once("validate_invoices") == 1
    invoice = json.loads(client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(SUPPLIER_KEY)).body)
    assert invoice["processing"] != "pending" and invoice["status"]["code"] == 203
