"""Review r42 §2 and §3: an identifier padded or grouped by spaces names what it reads as: a service code in an
administrator's path or a re-route, a SIRET as INSEE prints it, a padded schemeID."""

from __future__ import annotations

import json

import pytest
from demo import ADMIN_KEY, MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import MAIRIE_SIRET, SUPPLIER_SIRET, ubl_invoice
from lost_write_answers import made_available_fixture  # noqa: F401 (fixture)

XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}


def drain(pump) -> None:
    while pump.deliver_sqs_once("validate_invoices"):
        pass


def deposit(client, pump, body: bytes) -> dict:
    response = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=body)
    assert response.status_code == 202, response.body
    drain(pump)
    invoice_id = json.loads(response.body)["id"]
    return json.loads(client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(SUPPLIER_KEY)).body)


def put_service(client, code: str, body: dict):
    return client.http.put(f"/v1/admin/structures/{MAIRIE_SIRET}/services/{code}", headers=auth(ADMIN_KEY, **JSON),
                           body=json.dumps(body))  # fmt: skip


def test_closing_a_service_through_a_padded_code_closes_it(client, pump):
    """'SERV-TECH ' (a path's %20, decoded) added a second, closed SERV-TECH: invoices kept going to the open one."""
    answer = put_service(client, "SERV-TECH ", {"active": False})
    assert answer.status_code == 200, answer.body
    services = [(s["code"], s["active"]) for s in json.loads(answer.body)["services"]]
    assert sorted(services) == [("SERV-ECOLES", True), ("SERV-FERME", False), ("SERV-TECH", False)]
    invoice = deposit(client, pump, ubl_invoice("SVC-CLOSED-1"))
    assert invoice["status"]["code"] == 213


def test_a_percent_encoded_path_parameter_is_decoded_once(client):
    """API Gateway REST and the local gateway hand path parameters over as the client encoded them (r57 F5):
    `SERV-TECH%20` added a closed service named 'SERV-TECH%20' beside the open SERV-TECH."""
    answer = put_service(client, "SERV-TECH%20", {"active": False})
    assert answer.status_code == 200, answer.body
    services = [(s["code"], s["active"]) for s in json.loads(answer.body)["services"]]
    assert sorted(services) == [("SERV-ECOLES", True), ("SERV-FERME", False), ("SERV-TECH", False)]
    answer = put_service(client, "SERV%20R%C3%89SEAUX", {"name": "Réseaux"})
    assert answer.status_code == 200, answer.body
    assert "SERV RÉSEAUX" in [s["code"] for s in json.loads(answer.body)["services"]]


def test_a_path_parameter_that_is_no_utf8_is_a_400_naming_it(client):
    answer = put_service(client, "SERV-%FF", {"name": "Latin-1"})
    assert answer.status_code == 400, answer.body
    problem = json.loads(answer.body)
    assert "'code'" in problem["detail"] and "UTF-8" in problem["detail"]
    assert problem["instance"] == f"/v1/admin/structures/{MAIRIE_SIRET}/services/SERV-%EF%BF%BD"  # quoted once
    structure = json.loads(client.http.get(f"/v1/structures/{MAIRIE_SIRET}", headers=auth(ADMIN_KEY)).body)
    assert len(structure["services"]) == 3


def test_a_problem_instance_quotes_a_decoded_path_parameter_once(client):
    answer = client.http.get("/v1/flows/no%20such-flow", headers=auth(SUPPLIER_KEY))
    assert answer.status_code == 404, answer.body
    assert json.loads(answer.body)["instance"] == "/v1/flows/no%20such-flow"


@pytest.mark.parametrize("code", ["\u200b", "\u200b\u2060", "\u3164"])
def test_a_service_code_with_no_visible_character_is_refused(client, code):
    answer = put_service(client, code, {"name": "Invisible"})
    assert answer.status_code == 422, answer.body
    assert "visible character" in json.loads(answer.body)["detail"]
    structure = json.loads(client.http.get(f"/v1/structures/{MAIRIE_SIRET}", headers=auth(ADMIN_KEY)).body)
    assert len(structure["services"]) == 3


def to_routing_error(client, invoice_id: str) -> None:
    answer = client.http.post(f"/v1/invoices/{invoice_id}/status", headers=auth(MAIRIE_KEY, **JSON),
                              body=json.dumps({"code": 221}))  # fmt: skip
    assert answer.status_code == 200, answer.body


def reroute(client, invoice_id: str, body: dict):
    return client.http.post(f"/v1/invoices/{invoice_id}/reroute", headers=auth(SUPPLIER_KEY, **JSON),
                            body=json.dumps(body))  # fmt: skip


def test_a_re_route_reads_a_padded_service_code_as_a_deposit_does(client, made_available):
    invoice_id = made_available()
    to_routing_error(client, invoice_id)
    answer = reroute(client, invoice_id, {"service_code": " SERV-ECOLES ", "engagement_number": "EJ-1"})
    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body)["recipient"]["service_code"] == "SERV-ECOLES"


def test_a_re_route_takes_an_engagement_number_as_long_as_a_deposit_does(client, made_available):
    """A deposit takes 200 characters of BT-13; a re-route took 100."""
    invoice_id = made_available()
    to_routing_error(client, invoice_id)
    engagement = "EJ-" + "7" * 197
    answer = reroute(client, invoice_id, {"engagement_number": engagement})
    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body)["engagement_number"] == engagement
    refused = reroute(client, made_available(), {"engagement_number": engagement + "8"})
    assert refused.status_code == 422 and "at most 200 characters" in json.loads(refused.body)["detail"]


SPACED = {
    "buyer SIRET in groups": lambda xml: xml.replace(MAIRIE_SIRET.encode(), b"217 500 001 00011"),
    "buyer SIRET with no-break spaces": lambda xml: xml.replace(
        MAIRIE_SIRET.encode(), "217\u00a0500\u202f001 00011".encode()
    ),  # fmt: skip
    "seller SIRET in groups": lambda xml: xml.replace(SUPPLIER_SIRET.encode(), b"812 345 678 00013"),
    "padded schemeID": lambda xml: xml.replace(
        f'schemeID="0009">{MAIRIE_SIRET}'.encode(), f'schemeID=" 0009 ">{MAIRIE_SIRET}'.encode()
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", list(SPACED))
def test_a_siret_as_printed_routes_by_its_digits(client, pump, name):
    """Each was refused: 'not in the directory', 'not the depositing structure', or 'BT-47 is missing'."""
    invoice = deposit(client, pump, SPACED[name](ubl_invoice(f"SIRET-{len(name)}")))
    assert invoice["status"]["code"] == 203, invoice
    assert invoice["recipient"]["siret"] == MAIRIE_SIRET and invoice["supplier"]["siret"] == SUPPLIER_SIRET


def test_spaces_that_do_not_leave_a_siret_are_still_refused(client, pump):
    invoice = deposit(client, pump, ubl_invoice("SIRET-X").replace(MAIRIE_SIRET.encode(), b"217 500 001 0001"))
    assert invoice["status"]["code"] == 213
