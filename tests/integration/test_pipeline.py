"""The invoice path through the real handlers on moto: API → S3 → SQS → validation → DynamoDB → stream → SNS."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from demo import CHR_KEY, MAIRIE_KEY, SUPPLIER2_KEY, SUPPLIER_KEY, auth
from invoices import MAIRIE_SIRET, SUPPLIER_SIRET, fr_vat, invalid_ubl_invoice, ubl_invoice

from chalicelib.adapters.invoice_repository import DynamoInvoiceRepository
from chalicelib.config import settings
from chalicelib.services import layout

ROOT = Path(__file__).resolve().parents[2]
XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}


def deposit(client, body: bytes, key: str = SUPPLIER_KEY, **headers):
    return client.http.post("/v1/invoices", headers=auth(key, **XML, **headers), body=body)


def get_invoice(client, invoice_id: str, key: str = SUPPLIER_KEY):
    return client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(key))


def process(pump) -> None:
    while pump.deliver_sqs_once("validate_invoices"):
        pass


def test_valid_invoice_reaches_203_and_each_change_is_published_once(client, pump, events_queue):
    body = ubl_invoice("F-PIPE-1")
    response = deposit(client, body)
    assert response.status_code == 202
    created = json.loads(response.body)
    assert response.headers["Location"] == f"/v1/invoices/{created['id']}"
    assert created["processing"] == "pending" and created["status"] is None
    assert created["supplier"] == {
        "siret": SUPPLIER_SIRET,
        "name": "Atelier Numérique SARL",
        "invoiced_name": None,  # not read yet
        "vat_id": None,
    }
    assert created["due_date"] is None and created["payment_means"] is None  # not read yet

    stored = boto3.client("s3").get_object(Bucket=settings().invoice_bucket, Key=layout.original_key(created["id"]))
    assert stored["Body"].read() == body  # the original, byte for byte, before any processing
    assert stored["ServerSideEncryption"] == "AES256"

    process(pump)
    invoice = json.loads(get_invoice(client, created["id"]).body)
    assert invoice["processing"] == "done"
    assert invoice["status"] == {
        "code": 203,
        "name": "MISE_A_DISPOSITION",
        "label": "Mise à disposition",
        "chorus_pro": "MISE_A_DISPOSITION",
    }
    assert invoice["number"] == "F-PIPE-1" and invoice["issue_date"] == "2026-11-20" and invoice["type"] == "invoice"
    assert invoice["totals"] == {"without_vat": "100.00", "vat": "20.00", "with_vat": "120.00", "amount_due": "120.00"}
    assert invoice["recipient"] == {
        "siret": MAIRIE_SIRET,
        "name": "Mairie de Saint-Étienne-du-Bois",
        "service_code": "SERV-TECH",
        "active": True,  # (the detail's alone: a directory read)
    }
    history = json.loads(client.http.get(f"/v1/invoices/{created['id']}/history", headers=auth(SUPPLIER_KEY)).body)
    assert [(h["code"], h["actor"]) for h in history["history"]] == [(200, "platform"), (203, "platform")]

    assert pump.deliver_stream_once("publish_status_events") >= 1
    pump.deliver_stream_once("publish_status_events")  # nothing new: nothing published twice
    messages = events_queue()
    assert [m["MessageAttributes"]["status_code"]["Value"] for m in messages] == ["200", "203"]
    first = messages[0]["MessageAttributes"]
    assert first["event_type"]["Value"] == "invoice.status_changed"
    assert first["supplier_siret"]["Value"] == SUPPLIER_SIRET and first["recipient_siret"]["Value"] == MAIRIE_SIRET
    event = json.loads(messages[1]["Message"])
    assert event["type"] == "invoice.status_changed" and event["subject"] == created["id"]
    assert event["data"]["status"]["code"] == 203 and event["data"]["previous_status"]["code"] == 200
    assert event["data"]["links"] == {"invoice": f"/v1/invoices/{created['id']}"}  # no public address configured


def test_invalid_invoice_is_rejected_213_with_its_findings(client, pump):
    created = json.loads(deposit(client, invalid_ubl_invoice()).body)
    process(pump)
    invoice = json.loads(get_invoice(client, created["id"]).body)
    assert invoice["status"]["code"] == 213 and invoice["status"]["name"] == "REJETEE"
    rules = {e["rule"] for e in invoice["errors"] if e["severity"] == "fatal"}
    assert "BR-CO-16" in rules
    assert all(e["message"] and e["location"].startswith("/") for e in invoice["errors"])
    history = json.loads(client.http.get(f"/v1/invoices/{created['id']}/history", headers=auth(SUPPLIER_KEY)).body)
    [entry] = history["history"]
    assert entry["code"] == 213 and entry["reason_code"] == "REJ_SEMAN" and "BR-CO-16" in entry["comment"]


def test_redelivered_message_changes_nothing(client, pump, app):
    created = json.loads(deposit(client, ubl_invoice("F-REDELIVER")).body)
    key = layout.original_key(created["id"])
    notification = {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": key.replace("/", "%2F")}}}]}
    process(pump)
    before = DynamoInvoiceRepository().get(created["id"])
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=settings().validation_queue)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(notification))  # the same S3 event, again
    assert pump.deliver_sqs_once("validate_invoices") == 1
    after = DynamoInvoiceRepository().get(created["id"])
    assert after.version == before.version and after.history == before.history


def test_a_crash_after_the_s3_write_loses_nothing(client, pump, monkeypatch):
    real = layout.deposited_invoice
    monkeypatch.setattr(layout, "deposited_invoice", lambda *args, **kwargs: 1 / 0)  # after originals.put
    response = deposit(client, ubl_invoice("F-CRASH"))
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/problem+json"
    monkeypatch.setattr(layout, "deposited_invoice", real)

    [obj] = boto3.client("s3").list_objects_v2(Bucket=settings().invoice_bucket)["Contents"]
    invoice_id = layout.invoice_id_from_key(obj["Key"])
    process(pump)  # the notification drives processing, which writes the record from the object's metadata
    invoice = json.loads(get_invoice(client, invoice_id).body)
    assert invoice["status"]["code"] == 203 and invoice["number"] == "F-CRASH"
    assert invoice["supplier"] == {
        "siret": SUPPLIER_SIRET,
        "name": "Atelier Numérique SARL",
        "invoiced_name": "Atelier Numérique SARL",
        "vat_id": fr_vat(SUPPLIER_SIRET),
    }


def test_poison_message_ends_in_the_dlq_with_its_invoice_marked(client, pump, monkeypatch):
    from chalicelib.services import processing

    def explode(data):
        raise RuntimeError("validator crashed")

    monkeypatch.setattr(processing, "validate_en16931", explode)
    created = json.loads(deposit(client, ubl_invoice("F-POISON")).body)
    for _ in range(settings().validation_max_receives):
        assert pump.deliver_sqs_once("validate_invoices") == 1
    assert pump.deliver_sqs_once("validate_invoices") == 0  # moved to the DLQ on the next receive
    sqs = boto3.client("sqs")
    dlq = sqs.get_queue_url(QueueName=f"{settings().validation_queue}-dlq")["QueueUrl"]
    [dead] = sqs.receive_message(QueueUrl=dlq).get("Messages", [])
    assert layout.original_key(created["id"]).replace("/", "%2F") in dead["Body"]
    invoice = json.loads(get_invoice(client, created["id"]).body)
    assert invoice["processing"] == "failed" and invoice["status"] is None
    assert boto3.client("s3").get_object(Bucket=settings().invoice_bucket, Key=layout.original_key(created["id"]))


def test_an_object_is_not_started_without_time_left_and_comes_back(client, pump, monkeypatch):
    """Review finding: a batch that reached the Lambda timeout failed whole at every retry, at the same point, and
    its invoices stayed pending. An object is now started only with VALIDATION_RESERVE_MS left; the redelivery
    reads the record first, so what an earlier attempt decided is not validated again."""
    from chalicelib.entrypoints import dependencies as deps
    from chalicelib.entrypoints import events
    from chalicelib.services import processing

    created = json.loads(deposit(client, ubl_invoice("F-NO-TIME")).body)
    monkeypatch.setattr(events, "VALIDATION_RESERVE_MS", 10**9)  # more than any invocation has
    assert pump.deliver_sqs_once("validate_invoices") == 1
    assert json.loads(get_invoice(client, created["id"]).body)["processing"] == "pending"

    monkeypatch.setattr(events, "VALIDATION_RESERVE_MS", 30_000)
    assert pump.deliver_sqs_once("validate_invoices") == 1  # the same message, received a second time
    assert json.loads(get_invoice(client, created["id"]).body)["status"]["code"] == 203

    validated = []
    real = processing.validate_en16931
    monkeypatch.setattr(processing, "validate_en16931", lambda data: validated.append(1) or real(data))
    key = layout.original_key(created["id"])
    again = processing.process_object(key, invoices=deps.invoice_records(), originals=deps.originals(),
                                      directory=deps.directory(), look_first=True)  # fmt: skip
    assert validated == [] and [i.status.code for i in again.invoices] == [203] and again.decided_now == []


def test_dead_letters_redriven_after_the_fix_are_decided(client, pump, monkeypatch):
    import sys

    sys.path.insert(0, str(ROOT / "infra"))
    from redrive import redrive

    from chalicelib.services import processing

    real = processing.validate_en16931
    monkeypatch.setattr(processing, "validate_en16931", lambda data: 1 / 0)
    created = [json.loads(deposit(client, ubl_invoice(f"F-REDRIVE-{n}")).body)["id"] for n in range(3)]
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    assert {json.loads(get_invoice(client, i).body)["processing"] for i in created} == {"failed"}
    sqs = boto3.client("sqs")
    assert redrive(sqs, settings().validation_queue, dry_run=True) == 3

    monkeypatch.setattr(processing, "validate_en16931", real)  # the fix is deployed
    assert redrive(sqs, settings().validation_queue, limit=2) == 2
    assert redrive(sqs, settings().validation_queue) == 1
    assert redrive(sqs, settings().validation_queue) == 0  # the dead-letter queue is empty
    process(pump)
    decided = [json.loads(get_invoice(client, i).body) for i in created]
    assert [(d["processing"], d["status"]["code"]) for d in decided] == [("done", 203)] * 3


def test_s3_test_event_and_foreign_keys_are_ignored(pump):
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=settings().validation_queue)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"Event": "s3:TestEvent", "Service": "Amazon S3"}))
    foreign = {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": "elsewhere%2Fx"}}}]}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(foreign))
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    assert (
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "0"
    )


@pytest.mark.parametrize("key", [MAIRIE_KEY, CHR_KEY])
def test_only_parties_see_an_invoice(client, pump, key):
    created = json.loads(deposit(client, ubl_invoice("F-VISIBLE")).body)
    process(pump)
    visible = get_invoice(client, created["id"], key)
    assert visible.status_code == (200 if key == MAIRIE_KEY else 404)
    other_supplier = get_invoice(client, created["id"], SUPPLIER2_KEY)
    assert other_supplier.status_code == 404
    assert other_supplier.headers["Content-Type"] == "application/problem+json"


def test_an_event_over_the_sns_limit_is_published_trimmed_and_the_stream_goes_on(client, pump, events_queue):
    """Review r1 §1: a record from before the length controls, with a 300 KB BT-1, made every event of the shard
    wait behind its own, which SNS refused every time."""
    from dataclasses import replace

    from chalicelib.domain.events import TRIMMED_MARKER

    def deposit(number: str) -> str:
        created = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=ubl_invoice(number))
        while pump.deliver_sqs_once("validate_invoices"):
            pass
        return json.loads(created.body)["id"]

    legacy = deposit("F-LEGACY")
    records = DynamoInvoiceRepository()
    invoice = records.get(legacy)
    invoice.summary = replace(invoice.summary, number="9" * 300_000)  # as stored before the controls
    records.save(invoice)
    pump.deliver_stream_once("publish_status_events")
    events_queue()
    taken = client.http.post(f"/v1/invoices/{legacy}/status", headers=auth(MAIRIE_KEY, **JSON), body='{"code": 204}')
    assert taken.status_code == 200
    later = deposit("F-AFTER-LEGACY")
    for _ in range(5):  # before the fix, the shard retried the refused event without end
        if not pump.deliver_stream_once("publish_status_events"):
            break
    events = [json.loads(m["Message"]) for m in events_queue()]
    assert [(e["subject"], e["data"]["status"]["code"]) for e in events] == [(legacy, 204), (later, 200), (later, 203)]
    assert events[0]["data"]["number"] == "9" * 1000 + TRIMMED_MARKER
    assert events[0]["data"]["links"] == {"invoice": f"/v1/invoices/{legacy}"}
