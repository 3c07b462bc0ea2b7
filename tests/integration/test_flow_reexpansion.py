"""A flow's interrupted expansion, redelivered after its depositor was deactivated (review r28, finding 2), and a
flow's invoice with a blank number (finding 1: flows go through the same controls)."""

from __future__ import annotations

import json

import boto3
import pytest
from demo import ADMIN_KEY, auth
from invoices import SUPPLIER_SIRET, ubl_invoice
from test_flows import files_by_name, get_flow, make_zip, post_flow, run_pipeline

from chalicelib.adapters.flow_repository import DynamoFlowRepository
from chalicelib.config import settings
from devstack.pump import EventPump

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def flow_pump(app, aws):
    boto3.client("sqs").purge_queue(QueueUrl=aws.queue_urls[settings().inbox_queue])  # S3's s3:TestEvent
    return EventPump(app, settings().region, {"publish_status_events": aws.invoice_stream_arn})


@pytest.fixture
def expansion_dies_once(monkeypatch):
    """The expansion Lambda dies after writing the files and bundles, before finish_expansion (a timeout)."""
    real, calls = DynamoFlowRepository.finish_expansion, []

    def dies_once(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("simulated Lambda timeout before finish_expansion")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(DynamoFlowRepository, "finish_expansion", dies_once)


def set_supplier_active(client, active: bool) -> None:
    response = client.http.patch(f"/v1/admin/structures/{SUPPLIER_SIRET}", headers=auth(ADMIN_KEY, **JSON),
                                 body=json.dumps({"active": active}))  # fmt: skip
    assert response.status_code == 200


def report_once_reactivated(client, flow_id: str) -> dict:
    """The flow's report as its supplier reads it (a deactivated structure's key is refused: reactivated first)."""
    set_supplier_active(client, True)
    return json.loads(get_flow(client, flow_id).body)


def interrupted_flow(client, flow_pump, numbers) -> str:
    response = post_flow(client, make_zip([(f"{n}.xml", ubl_invoice(n)) for n in numbers]))
    assert response.status_code == 202, response.body
    assert flow_pump.deliver_sqs_once("expand_inbox") == 1  # writes the files and the bundle, then dies
    return json.loads(response.body)["id"]


def test_a_redelivered_expansion_after_a_deactivation_keeps_the_invoices_already_delivered(
    client, flow_pump, expansion_dies_once
):
    """It said IN_REJETE, "The flow is not taken in", with both invoices 203 at the buyer."""
    flow_id = interrupted_flow(client, flow_pump, ["RX-1", "RX-2"])
    while flow_pump.deliver_sqs_once("validate_invoices"):  # the bundle is decided meanwhile
        pass
    set_supplier_active(client, False)
    run_pipeline(flow_pump)  # the redelivered expansion
    report = report_once_reactivated(client, flow_id)
    assert report["state"] == "IN_INTEGRE" and report["counts"]["accepted"] == 2
    assert not report.get("error")
    assert {f["status_code"] for f in report["files"]} == {203}


def test_a_redelivered_expansion_after_a_deactivation_rejects_the_invoices_not_yet_decided(
    client, flow_pump, expansion_dies_once
):
    flow_id = interrupted_flow(client, flow_pump, ["RY-1", "RY-2"])
    set_supplier_active(client, False)  # before the bundle is validated: processing's depositor control refuses
    run_pipeline(flow_pump)
    report = report_once_reactivated(client, flow_id)
    assert report["state"] == "IN_REJETE" and report["counts"]["rejected"] == 2
    assert all(f["status_code"] == 213 and f["errors"][0]["rule"] == "CHORALE-DEPOSITOR" for f in report["files"])


def test_a_flow_s_invoice_with_a_blank_number_is_refused_alone(client, flow_pump):
    response = post_flow(client, make_zip([("blank.xml", ubl_invoice(" ")), ("ok.xml", ubl_invoice("FN-1")),
                                           ("zwsp.xml", ubl_invoice("\u200b"))]))  # fmt: skip
    assert response.status_code == 202, response.body
    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, json.loads(response.body)["id"]).body)
    files = files_by_name(report)
    assert report["state"] == "IN_INTEGRE_PARTIEL" and files["ok.xml"]["status_code"] == 203
    for name in ("blank.xml", "zwsp.xml"):
        assert files[name]["status_code"] == 213 and files[name]["errors"][0]["rule"] == "CHORALE-NUMBER"
