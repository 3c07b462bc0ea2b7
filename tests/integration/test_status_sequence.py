"""`sequence`: the position of a status in the history, the n of its event's id (`<invoice id>-<n>`), on the invoice,
in the listing and on every history entry, so that a receiver can merge polling with webhooks (review r49: a 211
retried after the receiver had polled the 212 set its status back: the poll gave no position to compare)."""

from __future__ import annotations

import json

from demo import CHR_KEY, MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import CHR_SIRET, ubl_invoice

XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}


def _post(client, key: str, path: str, body: dict):
    return client.http.post(path, headers=auth(key, **JSON), body=json.dumps(body))


def _get(client, key: str, path: str) -> dict:
    response = client.http.get(path, headers=auth(key))
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def _events(events_queue) -> dict[str, dict]:
    return {e["id"]: e for e in (json.loads(m["Message"]) for m in events_queue())}


def test_the_invoice_its_listing_and_its_history_give_each_status_s_event_position(client, pump, events_queue):
    created = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=ubl_invoice("F-SEQ-1"))
    invoice_id = json.loads(created.body)["id"]
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    for code in (204, 205, 211):
        body = {"code": code, **({"amount": "100.00"} if code == 211 else {})}
        response = _post(client, MAIRIE_KEY, f"/v1/invoices/{invoice_id}/status", body)
        assert response.status_code == 200, response.body
    pump.deliver_stream_once("publish_status_events")
    events = _events(events_queue)

    invoice = _get(client, SUPPLIER_KEY, f"/v1/invoices/{invoice_id}")
    history = _get(client, SUPPLIER_KEY, f"/v1/invoices/{invoice_id}/history")["history"]
    assert [h["sequence"] for h in history] == list(range(len(history)))
    for entry in history:  # each entry's position is its event's n, for the same status
        assert events[f"{invoice_id}-{entry['sequence']}"]["data"]["status"]["code"] == entry["code"]
    assert invoice["status"]["code"] == 211 and invoice["sequence"] == history[-1]["sequence"] == len(history) - 1
    [listed] = [i for i in _get(client, SUPPLIER_KEY, "/v1/invoices?role=supplier")["items"] if i["id"] == invoice_id]
    assert listed["sequence"] == invoice["sequence"]


def test_a_new_recipient_after_a_re_route_reads_the_positions_of_the_whole_history(client, pump, events_queue):
    created = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=ubl_invoice("F-SEQ-2"))
    invoice_id = json.loads(created.body)["id"]
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    assert _post(client, MAIRIE_KEY, f"/v1/invoices/{invoice_id}/status", {"code": 221}).status_code == 200
    moved = _post(client, SUPPLIER_KEY, f"/v1/invoices/{invoice_id}/reroute",
                  {"recipient_siret": CHR_SIRET, "service_code": None, "engagement_number": "EJ-9"})  # fmt: skip
    assert moved.status_code == 200, moved.body
    assert _post(client, CHR_KEY, f"/v1/invoices/{invoice_id}/status", {"code": 204}).status_code == 200
    pump.deliver_stream_once("publish_status_events")
    events = _events(events_queue)

    whole = _get(client, SUPPLIER_KEY, f"/v1/invoices/{invoice_id}/history")["history"]
    mine = _get(client, CHR_KEY, f"/v1/invoices/{invoice_id}/history")["history"]
    assert [h["code"] for h in mine] == [203, 204] and len(whole) > len(mine)
    assert [h["sequence"] for h in mine] == [len(whole) - 2, len(whole) - 1]  # not from 0: its event ids' n
    for entry in mine:
        assert events[f"{invoice_id}-{entry['sequence']}"]["data"]["status"]["code"] == entry["code"]
    assert _get(client, CHR_KEY, f"/v1/invoices/{invoice_id}")["sequence"] == len(whole) - 1
