"""A replay of a re-routed invoice's window publishes each event as its first publication did (the stream's)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from demo import CHR_KEY, MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import CHR_SIRET, ubl_invoice

from chalicelib.adapters.invoice_repository import DynamoInvoiceRepository
from chalicelib.entrypoints import dependencies

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "infra"))
from replay_events import replay  # noqa: E402

JSON = {"Content-Type": "application/json"}


def published(events_queue) -> dict:
    return {
        (event := json.loads(m["Message"]))["id"]: (event, {k: v["Value"] for k, v in m["MessageAttributes"].items()})
        for m in events_queue()
    }


def test_replayed_events_of_a_re_routed_invoice_equal_their_first_publication(client, pump, events_queue):
    before = datetime.now(UTC) - timedelta(seconds=1)
    # The document names the buyer otherwise than the directory, whose name the first publication carries.
    body = ubl_invoice("F-REROUTED-REPLAY", buyer_name="MAIRIE ST ETIENNE (document)")
    response = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/xml"}),
                                body=body)  # fmt: skip
    invoice_id = json.loads(response.body)["id"]
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    pump.deliver_stream_once("publish_status_events")
    status = f"/v1/invoices/{invoice_id}/status"
    for key, path, change in (
        (MAIRIE_KEY, status, {"code": 204}),
        (MAIRIE_KEY, status, {"code": 221, "reason_code": "CODE_ROUTAGE_ERR", "comment": "pas nous"}),
        (SUPPLIER_KEY, f"/v1/invoices/{invoice_id}/reroute",
         {"recipient_siret": CHR_SIRET, "service_code": None, "engagement_number": "EJ-1"}),
        (CHR_KEY, status, {"code": 204}),
    ):  # fmt: skip
        response = client.http.post(path, headers=auth(key, **JSON), body=json.dumps(change))
        assert response.status_code == 200, response.body
        pump.deliver_stream_once("publish_status_events")
    first = published(events_queue)
    assert len(first) == 6
    assert first[f"{invoice_id}-0"][0]["data"]["recipient"]["name"] != "MAIRIE ST ETIENNE (document)"
    after = datetime.now(UTC) + timedelta(seconds=1)
    assert replay(before, after, invoices=DynamoInvoiceRepository(), publisher=dependencies.publisher()) == 6
    assert published(events_queue) == first
