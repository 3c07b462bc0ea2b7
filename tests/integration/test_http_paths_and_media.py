"""What a client of the deployed API sees: file bodies registered as binary, paths under the stage on API
Gateway's own domain, a problem's instance naming the request, the platform's 415 on every JSON route."""

from __future__ import annotations

import json

import pytest
from chalice.local import LambdaEventConverter
from demo import ADMIN_KEY, SUPPLIER_KEY, auth
from invoices import ubl_invoice
from test_flows import make_tar_gz, make_zip

from chalicelib.entrypoints import media
from chalicelib.formats import sniffing
from chalicelib.services import deposit, lifecycle
from chalicelib.services import flows as flow_service

PROBLEM = "application/problem+json"
EXECUTE_API = {"domainName": "abc123.execute-api.eu-west-3.amazonaws.com", "stage": "api"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def execute_api(monkeypatch):
    """Requests as API Gateway passes them when called on https://<id>.execute-api.<region>.amazonaws.com/api/."""
    original = LambdaEventConverter.create_lambda_event

    def create_lambda_event(self, method, path, headers, body=None):
        event = original(self, method, path, headers, body)
        event["requestContext"].update(EXECUTE_API, path=f"/api{event['requestContext']['path']}")
        return event

    monkeypatch.setattr(LambdaEventConverter, "create_lambda_event", create_lambda_event)


@pytest.fixture
def invoice_id(client, pump) -> str:
    body = ubl_invoice("F-PATHS-1")
    headers = auth(SUPPLIER_KEY, **{"Content-Type": "application/xml"})
    created = json.loads(client.http.post("/v1/invoices", headers=headers, body=body).body)
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    return created["id"]


def attach(client, invoice_id: str, content_type: str | None, body: bytes = PNG, name: str = "pv.png"):
    headers = auth(SUPPLIER_KEY, **({"Content-Type": content_type} if content_type is not None else {}))
    return client.http.post(f"/v1/invoices/{invoice_id}/attachments?name={name}", headers=headers, body=body)


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"] == PROBLEM
    return json.loads(response.body)


# --- 1. binary media types ---------------------------------------------------------------------------------


def test_every_media_type_a_file_route_accepts_is_binary_and_json_is_not(app):
    accepted = {
        ("/v1/invoices", "POST"): set(deposit.SUPPORTED_MEDIA_TYPES),  # XML, PDF (Factur-X), JSON
        ("/v1/flows", "POST"): set(flow_service.ARCHIVE_MEDIA_TYPES),
        ("/v1/invoices/{invoice_id}/attachments", "POST"): {"application/octet-stream"}
        | set(lifecycle.ATTACHMENT_TYPES.values()),
    }
    assert set(media.FILE_ROUTES) == set(accepted)
    for route_key, types in accepted.items():
        assert route_key[0] in app.routes and route_key[1] in app.routes[route_key[0]]
        assert types <= set(media.FILE_ROUTES[route_key])
        assert set(media.FILE_ROUTES[route_key]) - {"application/json"} <= set(app.api.binary_types), route_key
    assert "application/pdf" in app.api.binary_types and "application/x-zip-compressed" in app.api.binary_types
    assert not {"application/json", "application/problem+json", "text/html"} & set(app.api.binary_types)


def test_json_routes_still_read_json(client, invoice_id):
    transitions = client.http.get(f"/v1/invoices/{invoice_id}/transitions", headers=auth(SUPPLIER_KEY))
    assert transitions.status_code == 200
    upload = client.http.post(
        f"/v1/invoices/{invoice_id}/attachments/uploads",
        headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/json"}),
        body=json.dumps({"name": "annexe.pdf"}),
    )
    assert upload.status_code == 201, upload.body


def test_every_route_reads_a_declared_type_the_same_way(client, invoice_id):
    """Case and parameters do not matter wherever a Content-Type is checked (one parser: sniffing.media_type)."""
    deposit = client.http.post(
        "/v1/invoices",
        headers=auth(SUPPLIER_KEY, **{"Content-Type": " Application/XML ; charset=UTF-8"}),
        body=ubl_invoice("F-PATHS-MEDIA"),
    )
    assert deposit.status_code == 202, deposit.body
    upload = client.http.post(
        f"/v1/invoices/{invoice_id}/attachments/uploads",
        headers=auth(SUPPLIER_KEY, **{"Content-Type": "APPLICATION/JSON;charset=utf-8"}),
        body=json.dumps({"name": "annexe.pdf"}),
    )
    assert upload.status_code == 201, upload.body
    csv = "siret,name,roles,active,requires_service_code\n73282932000074,Régie des Eaux,recipient,true,false\n"
    imported = client.http.post(
        "/v1/admin/imports", headers=auth(ADMIN_KEY, **{"Content-Type": "Text/CSV; charset=utf-8"}), body=csv
    )
    assert imported.status_code == 200, imported.body


@pytest.mark.parametrize("content_type", media.ATTACHMENT_MEDIA_TYPES)
def test_attachments_take_every_registered_type(client, invoice_id, content_type):
    assert attach(client, invoice_id, content_type).status_code == 201


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=x", "application/json", None])
def test_attachments_refuse_a_type_api_gateway_would_mangle(client, invoice_id, content_type):
    problem = problem_of(attach(client, invoice_id, content_type), 415)
    assert "application/octet-stream" in problem["detail"]
    assert problem["accepted"] == list(media.ATTACHMENT_MEDIA_TYPES)


@pytest.mark.parametrize("content_type", sniffing.MEDIA_TYPES[sniffing.GZIP])
def test_flows_accept_every_type_a_tar_gz_is_declared_with(client, app, content_type):
    """Sniffing knows a tar.gz as application/x-tar+gzip too: the route takes it, and API Gateway passes it intact."""
    assert content_type in app.api.binary_types
    response = client.http.post(
        "/v1/flows",
        headers=auth(SUPPLIER_KEY, **{"Content-Type": content_type}),
        body=make_tar_gz([("a.xml", ubl_invoice("F-PATHS-TGZ"))]),
    )
    assert response.status_code == 202, response.body


def test_flows_accept_the_zip_type_windows_sends(client):
    response = client.http.post(
        "/v1/flows",
        headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/x-zip-compressed"}),
        body=make_zip([("a.xml", ubl_invoice("F-PATHS-ZIP"))]),
    )
    assert response.status_code == 202, response.body


# --- 2. paths under the stage --------------------------------------------------------------------------------


def test_locations_and_links_carry_the_stage_on_the_execute_api_domain(client, invoice_id, execute_api):
    invoice = client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(SUPPLIER_KEY))
    links = json.loads(invoice.body)["links"]
    assert links["self"] == f"/api/v1/invoices/{invoice_id}" and links["file"].startswith("/api/v1/")
    created = attach(client, invoice_id, "application/octet-stream")
    attachment = json.loads(created.body)
    assert created.headers["Location"] == f"/api/v1/invoices/{invoice_id}/attachments/{attachment['id']}"
    assert attachment["links"]["file"] == created.headers["Location"]
    ticket = client.http.post(
        f"/v1/invoices/{invoice_id}/attachments/uploads",
        headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/json"}),
        body=json.dumps({"name": "annexe.pdf"}),
    )
    assert ticket.headers["Location"] == json.loads(ticket.body)["complete"]
    assert ticket.headers["Location"].startswith(f"/api/v1/invoices/{invoice_id}/attachments/uploads/")
    flow = client.http.post(
        "/v1/flows",
        headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/zip"}),
        body=make_zip([("a.xml", ubl_invoice("F-PATHS-2"))]),
    )
    flow_id = json.loads(flow.body)["id"]
    assert flow.headers["Location"] == json.loads(flow.body)["links"]["self"] == f"/api/v1/flows/{flow_id}"
    upload = json.loads(client.http.post("/v1/uploads", headers=auth(SUPPLIER_KEY)).body)
    assert upload["flow"] == f"/api/v1/flows/{upload['upload_id']}"
    deposited = client.http.post(
        "/v1/invoices", headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/xml"}), body=ubl_invoice("F-P3")
    )
    assert deposited.headers["Location"] == f"/api/v1/invoices/{json.loads(deposited.body)['id']}"
    # review r40 F1: no trailing slash, or generated clients request /api//v1/... (no route)
    servers = json.loads(client.http.get("/openapi.json").body)["servers"]
    assert servers == [{"url": "/api"}]


def test_the_local_stack_s_paths_have_no_stage(client, invoice_id):
    created = attach(client, invoice_id, "application/octet-stream")
    assert created.headers["Location"].startswith(f"/v1/invoices/{invoice_id}/attachments/")
    invoice = json.loads(client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(SUPPLIER_KEY)).body)
    assert invoice["links"]["self"] == f"/v1/invoices/{invoice_id}"
    assert json.loads(client.http.get("/openapi.json").body)["servers"] == [{"url": "/"}]


# --- 3. the platform's 415 on subscriptions ------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_subscriptions_answer_the_platform_s_415(client, content_type):
    headers = auth(SUPPLIER_KEY, **({"Content-Type": content_type} if content_type else {}))
    body = json.dumps({"channel": "webhook", "url": "https://example.com/hook"})
    problem = problem_of(client.http.post("/v1/subscriptions", headers=headers, body=body), 415)
    assert problem["accepted"] == ["application/json"] and problem["instance"] == "/v1/subscriptions"


def test_a_subscription_body_that_is_not_a_json_object_is_400(client):
    headers = auth(SUPPLIER_KEY, **{"Content-Type": "application/json"})
    for body in ("{not json", "[1, 2]"):
        problem_of(client.http.post("/v1/subscriptions", headers=headers, body=body), 400)


# --- 5. a problem's instance --------------------------------------------------------------------------------


def test_a_problem_s_instance_is_the_request_path(client, invoice_id):
    response = client.http.post(
        f"/v1/invoices/{invoice_id}/status?debug=1",
        headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/json"}),
        body=json.dumps({"code": 999}),
    )
    assert problem_of(response, 422)["instance"] == f"/v1/invoices/{invoice_id}/status"
    missing = problem_of(client.http.get("/v1/invoices/01J0000000000000000000000", headers=auth(SUPPLIER_KEY)), 404)
    assert missing["instance"] == "/v1/invoices/01J0000000000000000000000"


def test_chalice_s_own_errors_get_an_instance_too(client):
    problem = problem_of(client.http.request("DELETE", "/v1/health"), 405)
    assert problem["instance"] == "/v1/health"


def test_an_instance_carries_the_stage_and_never_a_confirmation_token(client, execute_api):
    missing = problem_of(client.http.get("/v1/flows/nope", headers=auth(SUPPLIER_KEY)), 404)
    assert missing["instance"] == "/api/v1/flows/nope"
    bad_link = client.http.get("/v1/subscription-confirmations/secret-token-value")
    assert bad_link.status_code == 404
    assert "secret-token-value" not in bad_link.body.decode()
    assert json.loads(bad_link.body)["instance"] == "/api/v1/subscription-confirmations/{token}"
