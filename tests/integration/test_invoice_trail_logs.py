"""One invoice id follows an invoice through the logs and to its API request (review r56, F4): `invoice_id` is a key
of the publication, fan-out and delivery lines (not only a prefix of their event ids), and the deposit's metric
line names the API request."""

from __future__ import annotations

from chalice.local import LambdaEventConverter
from invoices import ubl_invoice
from json_logs import json_logs_fixture  # noqa: F401 - fixture
from test_webhook_delivery_moto import MAIRIE_KEY, SUPPLIER_KEY, created, deposit, local_policy, run_pipeline  # noqa: F401
from webhook_support import Receiver

from chalicelib.entrypoints import api as api_module


def test_publication_fan_out_and_delivery_lines_name_their_invoice(client, pump, local_policy, json_logs):  # noqa: F811
    with Receiver() as receiver:
        created(client, SUPPLIER_KEY, {"url": receiver.url})
        first, second = deposit(client, ubl_invoice("F-TRAIL-1")), deposit(client, ubl_invoice("F-TRAIL-2"))
        json_logs.clear()
        run_pipeline(pump)
    lines = json_logs.records()
    for invoice_id in (first, second):
        of_invoice = [r for r in lines if r.get("invoice_id") == invoice_id]
        messages = {r["message"] for r in of_invoice}
        assert {"invoice processed", "published", "fanned out", "webhook attempt"} <= messages
        # one stream batch published both: each line holds only its invoice's events
        [published] = [r for r in of_invoice if r["message"] == "published"]
        assert published["event_ids"] and all(e.startswith(f"{invoice_id}-") for e in published["event_ids"])
        assert all(r["event_id"].startswith(f"{invoice_id}-") for r in of_invoice if "event_id" in r)


def test_the_deposit_metric_line_names_its_api_request(client, monkeypatch):
    create_event = LambdaEventConverter.create_lambda_event

    def with_request_id(self, *args, **kwargs):  # as API Gateway's event (chalice's local one has no requestId)
        event = create_event(self, *args, **kwargs)
        event["requestContext"]["requestId"] = "c0ffee00-0000-4000-8000-000000000001"
        return event

    monkeypatch.setattr(LambdaEventConverter, "create_lambda_event", with_request_id)
    metadata = {}
    add_metadata = api_module.metrics.add_metadata
    monkeypatch.setattr(api_module.metrics, "add_metadata",
                        lambda key, value: metadata.update({key: value}) or add_metadata(key, value))  # fmt: skip
    invoice_id = deposit(client, ubl_invoice("F-TRAIL-REQ"))
    assert metadata == {"invoice_id": invoice_id, "request_id": "c0ffee00-0000-4000-8000-000000000001"}
