"""Over HTTP on the local stack: a 200-invoice flow mixing valid and invalid files, reported file by file;
a presigned upload to the AWS stand-in."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import time
import zipfile

import pytest
import requests
from invoices import invalid_ubl_invoice, ubl_invoice
from structured_invoices import cii_invoice, json_invoice
from webhook_support import Receiver, validate_event

from devstack.launcher import DEMO_SEED, start_local_stack

SUPPLIER_KEY = "demo-supplier-atelier-key"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory):
    """The e2e stack, with a longer grace on SIGTERM: after a 200-invoice flow the pump's stream pollers are
    slower to wind down (moto's stream reads grow with the stream), and the shared fixture allows 15 s."""
    seed = tmp_path_factory.mktemp("seed") / "seed.json"
    seed.write_text(DEMO_SEED.read_text(encoding="utf-8"), encoding="utf-8")
    stack = start_local_stack(seed)
    yield stack
    stack.process.send_signal(signal.SIGTERM)
    try:
        assert stack.process.wait(timeout=90) == 0, "the local stack must stop cleanly on SIGTERM"
    except subprocess.TimeoutExpired:
        stack.process.kill()
        raise


def flow_files(count: int) -> tuple[list[tuple[str, bytes]], dict[str, str]]:
    """`count` files and the expected outcome of each: valid UBL/CII/JSON, invalid UBL, non-invoices."""
    files, expected = [], {}
    for i in range(count):
        if i % 10 == 3:
            name, data, outcome = f"invalid-{i:04d}.xml", invalid_ubl_invoice(f"E2E-FL-{i}"), "rejected"
        elif i % 25 == 7:
            name, data, outcome = f"notes-{i:04d}.txt", b"not an invoice", "rejected"
        elif i % 10 == 5:
            name, data, outcome = f"cii-{i:04d}.xml", cii_invoice(f"E2E-FL-{i}"), "accepted"
        elif i % 10 == 8:
            name, data, outcome = f"json-{i:04d}.json", json.dumps(json_invoice(f"E2E-FL-{i}")).encode(), "accepted"
        else:
            name, data, outcome = f"ubl-{i:04d}.xml", ubl_invoice(f"E2E-FL-{i}"), "accepted"
        files.append((name, data))
        expected[name] = outcome
    return files, expected


def zipped(files) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return out.getvalue()


def finished(stack, flow_id: str):
    flow = stack.request("GET", f"/v1/flows/{flow_id}", SUPPLIER_KEY).json()
    return flow if flow["state"] not in ("IN_RECU", "IN_EN_COURS_TRAITEMENT") else None


def test_flow_of_200_invoices_is_reported_file_by_file(local_stack):
    files, expected = flow_files(200)
    started = time.monotonic()
    headers = {"Content-Type": "application/zip"}
    response = local_stack.request("POST", "/v1/flows", SUPPLIER_KEY, zipped(files), headers)
    assert response.status == 202, response.body
    flow = local_stack.wait_for(lambda: finished(local_stack, response.json()["id"]), timeout=240, interval=0.5)
    elapsed = time.monotonic() - started
    assert flow["state"] == "IN_INTEGRE_PARTIEL"
    assert [f["name"] for f in flow["files"]] == [name for name, _ in files]
    assert {f["name"]: f["status"] for f in flow["files"]} == expected
    accepted = sum(1 for v in expected.values() if v == "accepted")
    assert flow["counts"] == {"files": 200, "accepted": accepted, "rejected": 200 - accepted, "pending": 0}
    for entry in flow["files"]:
        if entry["name"].startswith("invalid-"):
            assert entry["status_code"] == 213 and "BR-CO-16" in {e["rule"] for e in entry["errors"]}
        elif entry["name"].startswith("notes-"):
            assert entry["invoice_id"] is None and "not an invoice" in entry["errors"][0]["message"]
        else:
            assert entry["status_code"] == 203 and entry["errors"] == []
    # Spot-check that the report's invoices are the pipeline's invoices.
    sample = next(f for f in flow["files"] if f["name"].startswith("json-"))
    invoice = local_stack.request("GET", f"/v1/invoices/{sample['invoice_id']}", SUPPLIER_KEY).json()
    assert invoice["format"] == "json" and invoice["status"]["code"] == 203
    print(f"200-file flow processed in {elapsed:.1f} s on the local stack")


def test_presigned_upload_to_the_local_aws_stand_in_and_the_flow_completed_event(local_stack):
    with Receiver() as receiver:
        subscription = json.dumps({"url": receiver.url, "events": ["flow.completed"]}).encode()
        created = local_stack.request("POST", "/v1/subscriptions", SUPPLIER_KEY, subscription, JSON)
        assert created.status == 201, created.body
        receiver.secret = created.json()["secret"]
        ticket = local_stack.request("POST", "/v1/uploads", SUPPLIER_KEY).json()
        body = zipped([("a.xml", ubl_invoice("E2E-UP-1")), ("b.xml", invalid_ubl_invoice("E2E-UP-2"))])
        posted = requests.post(ticket["url"], data=ticket["fields"], files={"file": ("batch.zip", body)}, timeout=10)
        assert posted.status_code in (200, 201, 204), posted.text
        flow = local_stack.wait_for(lambda: finished(local_stack, ticket["upload_id"]), timeout=60, interval=0.3)
        assert [(f["name"], f["status"]) for f in flow["files"]] == [("a.xml", "accepted"), ("b.xml", "rejected")]
        # The supplier is told without polling: one signed flow.completed event with the report's counts.
        event_id = f"{ticket['upload_id']}-completed"
        local_stack.wait_for(lambda: event_id in receiver.events(), timeout=30)
        event = receiver.events()[event_id]
        validate_event(event)
        assert receiver.refused == [] and event["data"]["state"] == "IN_INTEGRE_PARTIEL"
        assert event["data"]["counts"] == flow["counts"]
