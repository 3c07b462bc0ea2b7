"""An invoice whose recipient is deactivated before approving it is not stranded (review r43 F2).

The deactivated recipient gets 401 everywhere, so it cannot set 221. The supplier re-routes the invoice, same
number, from any status before approval; the platform writes the 221 (ROUTAGE_ERR) the recipient can no longer
write, then the re-route's 203. Whether the recipient is active is read at the re-route.
"""

from __future__ import annotations

import json

import pytest
from demo import ADMIN_KEY, CHR_KEY, MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import CHR_SIRET, MAIRIE_SIRET, ubl_invoice
from test_lifecycle import PATH_TO, set_status, walk

XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}
TO_CHR = {"recipient_siret": CHR_SIRET, "engagement_number": "EJ-2027-1", "comment": "La CHR reprend la Mairie"}


@pytest.fixture
def made_available(client, pump):
    """A fresh invoice to the Mairie's SERV-TECH, made available (203): its id per call."""
    counter = iter(range(10_000))

    def make() -> str:
        body = ubl_invoice(f"F-STRANDED-{next(counter)}")
        response = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=body)
        while pump.deliver_sqs_once("validate_invoices"):
            pass
        return json.loads(response.body)["id"]

    return make


def set_structure_active(client, active: bool) -> None:
    response = client.http.patch(
        f"/v1/admin/structures/{MAIRIE_SIRET}", headers=auth(ADMIN_KEY, **JSON), body=json.dumps({"active": active})
    )
    assert response.status_code == 200, response.body


def set_service_active(client, code: str, active: bool) -> None:
    response = client.http.put(
        f"/v1/admin/structures/{MAIRIE_SIRET}/services/{code}",
        headers=auth(ADMIN_KEY, **JSON),
        body=json.dumps({"active": active}),
    )
    assert response.status_code == 200, response.body


def reroute(client, invoice_id: str, body: dict):
    return client.http.post(
        f"/v1/invoices/{invoice_id}/reroute", headers=auth(SUPPLIER_KEY, **JSON), body=json.dumps(body)
    )


def history(client, invoice_id: str, key: str = SUPPLIER_KEY) -> list[dict]:
    response = client.http.get(f"/v1/invoices/{invoice_id}/history", headers=auth(key))
    assert response.status_code == 200, response.body
    return json.loads(response.body)["history"]


@pytest.mark.parametrize("start", [203, 204, 207, 208, 209])
def test_the_supplier_re_routes_an_unapproved_invoice_of_a_deactivated_recipient(client, made_available, start):
    invoice_id = made_available()
    walk(client, invoice_id, PATH_TO[start])
    set_structure_active(client, False)

    rerouted = reroute(client, invoice_id, TO_CHR)
    assert rerouted.status_code == 200, rerouted.body
    invoice = json.loads(rerouted.body)
    assert invoice["status"]["code"] == 203 and invoice["recipient"]["siret"] == CHR_SIRET
    assert invoice["number"].startswith("F-STRANDED-")  # the same invoice, the same number: nothing to re-issue
    platform_221, rerouting_203 = history(client, invoice_id)[-2:]
    assert (platform_221["code"], platform_221["actor"], platform_221["reason_code"]) == (
        221,
        "platform",
        "ROUTAGE_ERR",
    )
    assert MAIRIE_SIRET in platform_221["comment"] and "inactive" in platform_221["comment"]
    assert (rerouting_203["code"], rerouting_203["actor"], rerouting_203["comment"]) == (
        203,
        "supplier",
        "La CHR reprend la Mairie",
    )
    # The structure that took over reads it from the re-route on, and decides it.
    assert [h["code"] for h in history(client, invoice_id, CHR_KEY)] == [203]
    decided = client.http.post(
        f"/v1/invoices/{invoice_id}/status", headers=auth(CHR_KEY, **JSON), body=json.dumps({"code": 205})
    )
    assert decided.status_code == 200, decided.body


def test_the_platform_s_221_and_the_re_route_are_published(client, made_available, pump, events_queue):
    invoice_id = made_available()
    pump.deliver_stream_once("publish_status_events")
    events_queue()
    set_structure_active(client, False)
    assert reroute(client, invoice_id, TO_CHR).status_code == 200
    pump.deliver_stream_once("publish_status_events")
    events = [json.loads(m["Message"])["data"] for m in events_queue()]
    assert [(e["status"]["code"], e["actor"], e["reason_code"], e["recipient"]["siret"]) for e in events] == [
        (221, "platform", "ROUTAGE_ERR", MAIRIE_SIRET),
        (203, "supplier", None, CHR_SIRET),
    ]


def test_a_deactivated_service_s_invoice_stays_with_its_active_structure(client, made_available):
    """Review r44 F1: only a deactivated or absent structure cannot set 221. With only its service inactive, the
    recipient still acts: the supplier's re-route is a 409 until the recipient sets 221 itself."""
    invoice_id = made_available()  # to the Mairie's SERV-TECH
    set_service_active(client, "SERV-TECH", False)
    for body in ({"service_code": "SERV-ECOLES", "engagement_number": "EJ-5"}, TO_CHR):
        refused = reroute(client, invoice_id, body)
        assert refused.status_code == 409, refused.body
        assert f"{MAIRIE_SIRET} is active" in json.loads(refused.body)["detail"]
    assert [h["code"] for h in history(client, invoice_id)] == [200, 203]
    # The Mairie sets 221 for the routing it cannot handle; the supplier then re-routes within it.
    assert set_status(client, invoice_id, MAIRIE_KEY, 221).status_code == 200
    rerouted = reroute(client, invoice_id, {"service_code": "SERV-ECOLES", "engagement_number": "EJ-5"})
    assert rerouted.status_code == 200, rerouted.body
    assert json.loads(rerouted.body)["recipient"]["service_code"] == "SERV-ECOLES"
    assert [(h["code"], h["actor"]) for h in history(client, invoice_id, MAIRIE_KEY)][-3:] == [
        (203, "platform"),
        (221, "recipient"),
        (203, "supplier"),
    ]


def test_a_disputed_invoice_of_a_deactivated_service_is_not_taken_from_its_recipient(client, made_available):
    """Review r44 F1 repro: the Mairie disputed the invoice (207), then one of its services was deactivated. The
    supplier could re-route it to the CHR, and the Mairie lost it for good (404 even after the reactivation)."""
    invoice_id = made_available()
    walk(client, invoice_id, PATH_TO[207])
    set_service_active(client, "SERV-TECH", False)
    transitions = client.http.get(f"/v1/invoices/{invoice_id}/transitions", headers=auth(MAIRIE_KEY))
    assert transitions.status_code == 200 and json.loads(transitions.body)["allowed"]  # the Mairie still acts
    assert reroute(client, invoice_id, TO_CHR).status_code == 409
    set_service_active(client, "SERV-TECH", True)
    kept = client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(MAIRIE_KEY))
    assert kept.status_code == 200, kept.body
    invoice = json.loads(kept.body)
    assert (invoice["status"]["code"], invoice["recipient"]["siret"]) == (207, MAIRIE_SIRET)


def test_an_active_recipient_s_invoice_is_still_re_routed_only_from_221(client, made_available):
    invoice_id = made_available()
    refused = reroute(client, invoice_id, TO_CHR)
    assert refused.status_code == 409
    problem = json.loads(refused.body)
    assert "no longer active" in problem["detail"] and f"{MAIRIE_SIRET} is active" in problem["detail"]
    # Read at the re-route: deactivated then reactivated, the recipient decides again.
    set_structure_active(client, False)
    set_structure_active(client, True)
    assert reroute(client, invoice_id, TO_CHR).status_code == 409
    assert [h["code"] for h in history(client, invoice_id)] == [200, 203]


@pytest.mark.parametrize("start", [205, 206, 210, 211, 220])
def test_an_approved_or_closed_invoice_is_not_re_routed_even_when_its_recipient_is_gone(client, made_available, start):
    invoice_id = made_available()
    walk(client, invoice_id, PATH_TO[start])
    set_structure_active(client, False)
    refused = reroute(client, invoice_id, TO_CHR)
    assert refused.status_code == 409
    assert "whose recipient structure is no longer active" in json.loads(refused.body)["detail"]
    assert history(client, invoice_id)[-1]["code"] == start


def test_a_re_route_refused_by_the_directory_writes_no_221(client, made_available):
    invoice_id = made_available()
    set_structure_active(client, False)
    refused = reroute(client, invoice_id, {"recipient_siret": CHR_SIRET})  # the CHR requires an engagement number
    assert refused.status_code == 422 and json.loads(refused.body)["reason_code"] == "REJ_CONT_B2G"
    assert [h["code"] for h in history(client, invoice_id)] == [200, 203]
