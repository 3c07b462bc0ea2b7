"""A passing AWS failure (throttling, an AWS 5xx, a timeout) is a 503 with Retry-After that clients and SDKs retry,
not a 500 they take for a bug (review r16, F4); an AWS error no retry cures (AccessDenied…) stays a 500."""

from __future__ import annotations

import json

import pytest
from aws_failures import fail_fixture, on_table  # noqa: F401 - fixtures
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from demo import ADMIN_KEY, SUPPLIER_KEY, auth
from invoices import ubl_invoice

from chalicelib.config import settings
from chalicelib.entrypoints.middleware import UNAVAILABLE_RETRY_AFTER_SECONDS

XML = {"Content-Type": "application/xml"}
UNKNOWN_INVOICE = "01M8EVD1JPNFWSRTHT18MEB5Y2"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def outage(fail):
    return fail


def assert_unavailable(response) -> dict:
    assert response.status_code == 503, response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Retry-After"] == str(UNAVAILABLE_RETRY_AFTER_SECONDS)
    body = json.loads(response.body)
    assert body["type"] == "https://chorale.dev/problems/service-unavailable"
    assert body["title"] == "Service Unavailable" and body["status"] == 503
    assert body["retry_after_seconds"] == UNAVAILABLE_RETRY_AFTER_SECONDS and "Retry it" in body["detail"]
    assert "injected" not in response.body.decode() and "botocore" not in response.body.decode()  # no leak
    return body


def processed_invoice(client, pump) -> str:
    created = deposit(client)
    assert created.status_code == 202, created.body
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    return json.loads(created.body)["id"]


def attach(client, invoice_id: str, key: str):
    headers = auth(SUPPLIER_KEY, **{"Content-Type": "application/octet-stream", "Idempotency-Key": key})
    return client.http.post(f"/v1/invoices/{invoice_id}/attachments?name=pv.png", headers=headers, body=PNG)


def deposit(client, headers=None):
    return client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML, **(headers or {})), body=ubl_invoice())


def test_a_deposit_on_s3_slowdown_is_a_503_that_suggests_an_idempotency_key(client, outage):
    outage["PutObject"] = "SlowDown"
    body = assert_unavailable(deposit(client))
    assert "Idempotency-Key" in body["detail"] and body["instance"] == "/v1/invoices"


def test_a_deposit_with_a_key_is_told_to_retry_with_the_same_key(client, outage):
    outage["PutObject"] = ReadTimeoutError(endpoint_url="https://s3.eu-west-3.amazonaws.com")
    body = assert_unavailable(deposit(client, {"Idempotency-Key": "k-503"}))
    assert "with the same Idempotency-Key" in body["detail"]
    outage.clear()
    assert deposit(client, {"Idempotency-Key": "k-503"}).status_code == 202  # the retry the 503 asks for


def test_a_read_on_a_throttled_table_is_a_503(client, outage):
    outage["GetItem"] = on_table(settings().invoice_table, "ProvisionedThroughputExceededException")
    body = assert_unavailable(client.http.get(f"/v1/invoices/{UNKNOWN_INVOICE}", headers=auth(SUPPLIER_KEY)))
    assert "Idempotency-Key" not in body["detail"]  # a read takes none


def test_a_search_on_a_throttled_index_is_a_503(client, outage):
    outage["Query"] = on_table(settings().invoice_table, "ProvisionedThroughputExceededException")
    assert_unavailable(client.http.get("/v1/invoices", headers=auth(SUPPLIER_KEY)))


def test_an_idempotency_store_throttled_through_powertools_is_a_503(client, pump, outage):
    invoice_id = processed_invoice(client, pump)
    outage["PutItem"] = on_table(settings().idempotency_table, "ThrottlingException")
    body = assert_unavailable(attach(client, invoice_id, "k-503-powertools"))
    assert "with the same Idempotency-Key" in body["detail"]
    outage.clear()
    assert attach(client, invoice_id, "k-503-powertools").status_code == 201


def test_a_directory_write_on_an_aws_internal_error_is_a_503(client, outage):
    outage["PutItem"] = on_table(settings().structure_table, "InternalServerError")
    structure = {"siret": "21380185500015", "name": "Mairie de Test", "roles": ["recipient"]}
    response = client.http.post(
        "/v1/admin/structures",
        headers=auth(ADMIN_KEY, **{"Content-Type": "application/json"}),
        body=json.dumps(structure),
    )
    assert_unavailable(response)


def test_an_unreachable_endpoint_is_a_503(client, outage):
    outage["Query"] = on_table(settings().invoice_table, EndpointConnectionError(endpoint_url="https://dynamodb"))
    assert_unavailable(client.http.get("/v1/invoices", headers=auth(SUPPLIER_KEY)))


@pytest.mark.parametrize(
    "operation,code",
    [("PutObject", "AccessDenied"), ("GetItem", "ValidationException"), ("GetItem", "ResourceNotFoundException")],
)
def test_an_aws_error_no_retry_cures_stays_a_500(client, outage, operation, code):
    if operation == "GetItem":
        outage[operation] = on_table(settings().invoice_table, code)
        response = client.http.get(f"/v1/invoices/{UNKNOWN_INVOICE}", headers=auth(SUPPLIER_KEY))
    else:
        outage[operation] = code
        response = deposit(client)
    assert response.status_code == 500 and "Retry-After" not in response.headers
    body = json.loads(response.body)
    assert body["type"] == "https://chorale.dev/problems/internal-server-error" and code not in response.body.decode()


def test_the_openapi_documents_the_503_on_every_route_that_calls_aws(client):
    document = json.loads(client.http.get("/openapi.json").body)
    assert document["components"]["responses"]["ServiceUnavailable"]["headers"]["Retry-After"]
    ref = {"$ref": "#/components/responses/ServiceUnavailable"}
    assert document["paths"]["/v1/invoices"]["post"]["responses"]["503"] == ref
    assert document["paths"]["/v1/invoices/{invoice_id}"]["get"]["responses"]["503"] == ref
    assert "503" not in document["paths"]["/v1/health"]["get"]["responses"]
    attach_409 = document["paths"]["/v1/invoices/{invoice_id}/attachments"]["post"]["responses"]["409"]
    assert "in progress" in attach_409["description"] and "Retry-After" in attach_409["headers"]


def test_a_retry_while_the_first_attempt_is_in_progress_gets_a_409_with_retry_after(client, pump, outage):
    invoice_id = processed_invoice(client, pump)
    outage["UpdateItem"] = on_table(settings().idempotency_table, "ProvisionedThroughputExceededException")
    assert_unavailable(attach(client, invoice_id, "k-503-in-progress"))  # its key is left in progress (Powertools)
    outage.clear()
    response = attach(client, invoice_id, "k-503-in-progress")
    assert response.status_code == 409 and "still being processed" in json.loads(response.body)["detail"]
    assert int(response.headers["Retry-After"]) > 0
