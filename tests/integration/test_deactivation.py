"""A structure deactivated while API Gateway still caches its key's authorization (60 s) stops writing at once.

Every state-changing route of a structure re-reads it (services.authentication.require_active): a deactivated
structure gets a 401 problem and nothing is written anywhere (tables, objects, queues); reactivated, the very same
request succeeds (so the 401 was the deactivation's). Reads trust the cached authorization.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import boto3
import pytest
from demo import ADMIN_KEY, MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import MAIRIE_SIRET, SUPPLIER_SIRET, ubl_invoice
from test_flows import make_zip

from chalicelib.domain.directory import Principal, hash_api_key
from chalicelib.domain.subscriptions_security import UrlPolicy
from chalicelib.entrypoints import api as api_module
from chalicelib.entrypoints import dependencies as deps
from chalicelib.services import lifecycle
from chalicelib.services.authentication import bearer_token

JSON = {"Content-Type": "application/json"}
XML = {"Content-Type": "application/xml"}
PROBLEM = "application/problem+json"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
INACTIVE = "The API key is unknown, revoked or its structure inactive."


@pytest.fixture
def cached_authorization(monkeypatch):
    """The authorizer answers as API Gateway's cache does for up to a minute after a deactivation: the key's
    structure, active or not (the real authorizer refuses a deactivated structure's key)."""

    def authenticate(authorization, directory):
        siret = directory.siret_for_key(hash_api_key(bearer_token(authorization) or ""))
        structure = directory.structure(siret) if siret else None
        return Principal(structure.siret, structure.name, structure.roles) if structure else None

    monkeypatch.setattr(api_module, "authenticate", authenticate)


@pytest.fixture
def local_receivers(monkeypatch):
    """Webhook URLs to 127.0.0.1 are accepted (as on the local stack): no DNS, no receiver needed."""
    monkeypatch.setattr(deps, "url_policy", lambda: UrlPolicy(local_stack=True))


def set_active(client, siret: str, active: bool) -> None:
    response = client.http.patch(
        f"/v1/admin/structures/{siret}", headers=auth(ADMIN_KEY, **JSON), body=json.dumps({"active": active})
    )
    assert response.status_code == 200, response.body


def everything_written() -> dict:
    """What the platform has written: every table's items, every object version, every queue's messages."""
    dynamodb, s3, sqs = boto3.client("dynamodb"), boto3.client("s3"), boto3.client("sqs")
    tables = {
        name: sorted(json.dumps(item, sort_keys=True, default=str) for item in dynamodb.scan(TableName=name)["Items"])
        for name in dynamodb.list_tables()["TableNames"]
    }
    objects = {
        bucket["Name"]: sorted(
            (v["Key"], v["VersionId"], v["ETag"])
            for v in s3.list_object_versions(Bucket=bucket["Name"]).get("Versions", [])
        )
        for bucket in s3.list_buckets()["Buckets"]
    }
    depth = (
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    )
    queues = {
        url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(depth))["Attributes"]
        for url in sqs.list_queues().get("QueueUrls", [])
    }
    return {"tables": tables, "objects": objects, "queues": queues}


def available_invoice(client, pump, number: str) -> str:
    """A valid invoice of Atelier (supplier) to the Mairie (recipient), processed: status 203."""
    created = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=ubl_invoice(number))
    assert created.status_code == 202, created.body
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    return json.loads(created.body)["id"]


def webhook(client) -> str:
    body = json.dumps({"url": "http://127.0.0.1:9/hook"})
    created = client.http.post("/v1/subscriptions", headers=auth(SUPPLIER_KEY, **JSON), body=body)
    assert created.status_code == 201, created.body
    return json.loads(created.body)["id"]


@dataclass(frozen=True)
class Write:
    """A request that succeeds while the structure is active."""

    siret: str  # the structure acting
    method: str
    path: str
    headers: dict
    body: bytes | str | None
    succeeds_with: int


# (route path, method) → how to make a valid request on it (with the client and the pump, before deactivating).
WRITES: dict[tuple[str, str], Callable[..., Write]] = {
    ("/v1/invoices", "post"): lambda client, pump: Write(
        SUPPLIER_SIRET, "post", "/v1/invoices", auth(SUPPLIER_KEY, **XML), ubl_invoice("F-DEACT-DEPOSIT"), 202
    ),
    ("/v1/flows", "post"): lambda client, pump: Write(
        SUPPLIER_SIRET,
        "post",
        "/v1/flows",
        auth(SUPPLIER_KEY, **{"Content-Type": "application/zip"}),
        make_zip([("a.xml", ubl_invoice("F-DEACT-FLOW"))]),
        202,
    ),
    ("/v1/uploads", "post"): lambda client, pump: Write(
        SUPPLIER_SIRET, "post", "/v1/uploads", auth(SUPPLIER_KEY), None, 201
    ),
    ("/v1/invoices/{invoice_id}/status", "post"): lambda client, pump: Write(
        MAIRIE_SIRET,  # the recipient approves
        "post",
        f"/v1/invoices/{available_invoice(client, pump, 'F-DEACT-STATUS')}/status",
        auth(MAIRIE_KEY, **JSON),
        json.dumps({"code": 205}),
        200,
    ),
    ("/v1/invoices/{invoice_id}/reroute", "post"): lambda client, pump: reroute(client, pump),
    ("/v1/invoices/{invoice_id}/attachments", "post"): lambda client, pump: Write(
        SUPPLIER_SIRET,
        "post",
        f"/v1/invoices/{available_invoice(client, pump, 'F-DEACT-ATTACH')}/attachments?name=pv.png",
        auth(SUPPLIER_KEY, **{"Content-Type": "application/octet-stream"}),
        PNG,
        201,
    ),
    ("/v1/invoices/{invoice_id}/attachments/uploads", "post"): lambda client, pump: Write(
        SUPPLIER_SIRET,
        "post",
        f"/v1/invoices/{available_invoice(client, pump, 'F-DEACT-TICKET')}/attachments/uploads",
        auth(SUPPLIER_KEY, **JSON),
        json.dumps({"name": "annexe.pdf"}),
        201,
    ),
    ("/v1/invoices/{invoice_id}/attachments/uploads/{upload_id}", "post"): lambda client, pump: uploaded(client, pump),
    ("/v1/subscriptions", "post"): lambda client, pump: Write(
        SUPPLIER_SIRET,
        "post",
        "/v1/subscriptions",
        auth(SUPPLIER_KEY, **JSON),
        json.dumps({"url": "http://127.0.0.1:9/hook"}),
        201,
    ),
    ("/v1/subscriptions/{subscription_id}", "delete"): lambda client, pump: Write(
        SUPPLIER_SIRET, "delete", f"/v1/subscriptions/{webhook(client)}", auth(SUPPLIER_KEY), None, 204
    ),
    ("/v1/subscriptions/{subscription_id}/test", "post"): lambda client, pump: Write(
        SUPPLIER_SIRET, "post", f"/v1/subscriptions/{webhook(client)}/test", auth(SUPPLIER_KEY), None, 202
    ),
    ("/v1/subscriptions/{subscription_id}/rotate-secret", "post"): lambda client, pump: Write(
        SUPPLIER_SIRET, "post", f"/v1/subscriptions/{webhook(client)}/rotate-secret", auth(SUPPLIER_KEY), None, 200
    ),
}


def reroute(client, pump) -> Write:
    """The supplier re-routes an invoice the Mairie put in 221 (routing error)."""
    invoice_id = available_invoice(client, pump, "F-DEACT-REROUTE")
    refused = client.http.post(
        f"/v1/invoices/{invoice_id}/status", headers=auth(MAIRIE_KEY, **JSON), body=json.dumps({"code": 221})
    )
    assert refused.status_code == 200, refused.body
    body = json.dumps({"service_code": "SERV-ECOLES", "engagement_number": "EJ-77"})
    return Write(SUPPLIER_SIRET, "post", f"/v1/invoices/{invoice_id}/reroute", auth(SUPPLIER_KEY, **JSON), body, 200)


def uploaded(client, pump) -> Write:
    """An attachment upload whose file is in S3 (as the presigned POST leaves it), to be completed."""
    invoice_id = available_invoice(client, pump, "F-DEACT-COMPLETE")
    ticket = client.http.post(
        f"/v1/invoices/{invoice_id}/attachments/uploads",
        headers=auth(SUPPLIER_KEY, **JSON),
        body=json.dumps({"name": "annexe.pdf"}),
    )
    assert ticket.status_code == 201, ticket.body
    upload_id = json.loads(ticket.body)["upload_id"]
    metadata = {
        lifecycle.META_INVOICE_ID: invoice_id,
        lifecycle.META_UPLOADED_BY: SUPPLIER_SIRET,
        lifecycle.META_NAME: quote("annexe.pdf", safe=""),
    }
    deps.originals().put(lifecycle.attachment_upload_key(invoice_id, upload_id), PDF, "application/pdf", metadata)
    path = f"/v1/invoices/{invoice_id}/attachments/uploads/{upload_id}"
    return Write(SUPPLIER_SIRET, "post", path, auth(SUPPLIER_KEY), None, 201)


def send(client, write: Write):
    kwargs = {"headers": write.headers, **({"body": write.body} if write.body is not None else {})}
    return getattr(client.http, write.method)(write.path, **kwargs)


def test_every_state_changing_route_of_a_structure_is_covered(app):
    """A new write route of a structure must be added to WRITES (and call require_active). (`app`: every route
    module is imported, so STRUCTURE_ROUTES is complete.)"""
    writes = {(path, method) for path, method in api_module.STRUCTURE_ROUTES if method not in ("get", "head")}
    assert writes == set(WRITES)


@pytest.mark.parametrize("route_key", list(WRITES), ids=[f"{m.upper()} {p}" for p, m in WRITES])
def test_a_structure_deactivated_under_a_cached_authorization_writes_nothing(
    client, pump, cached_authorization, local_receivers, route_key
):
    write = WRITES[route_key](client, pump)
    set_active(client, write.siret, False)
    before = everything_written()

    refused = send(client, write)

    assert refused.status_code == 401, refused.body
    assert refused.headers["Content-Type"] == PROBLEM
    problem = json.loads(refused.body)
    assert problem["status"] == 401 and problem["detail"] == INACTIVE
    assert problem["instance"] == write.path.split("?")[0]  # the route answered, not the authorizer
    assert everything_written() == before  # no record, history, attachment, object, subscription or message

    set_active(client, write.siret, True)
    accepted = send(client, write)
    assert accepted.status_code == write.succeeds_with, accepted.body


def test_reads_trust_the_cached_authorization(client, pump, cached_authorization):
    """Reads are not re-checked: a deactivated structure reads for as long as API Gateway caches its key (60 s)."""
    invoice_id = available_invoice(client, pump, "F-DEACT-READ")
    set_active(client, SUPPLIER_SIRET, False)
    for path in (f"/v1/invoices/{invoice_id}", f"/v1/invoices/{invoice_id}/history", "/v1/subscriptions"):
        assert client.http.get(path, headers=auth(SUPPLIER_KEY)).status_code == 200, path


@pytest.fixture
def authorizer_cache(monkeypatch):
    """API Gateway's cache of the authorizer: a key's first answer is kept (for a minute on AWS), whatever the
    directory says afterwards."""
    real, answers = api_module.authenticate, {}

    def authenticate(authorization, directory):
        if authorization not in answers:
            answers[authorization] = real(authorization, directory)
        return answers[authorization]

    monkeypatch.setattr(api_module, "authenticate", authenticate)


@pytest.mark.parametrize("route_key", [("/v1/invoices", "post"), ("/v1/invoices/{invoice_id}/status", "post")])
def test_a_revoked_key_writes_nothing_under_a_cached_authorization(client, pump, authorizer_cache, route_key):
    write = WRITES[route_key](client, pump)
    key_only = {"Authorization": write.headers["Authorization"]}
    assert client.http.get("/v1/subscriptions", headers=key_only).status_code == 200  # the key's answer is cached
    listed = json.loads(client.http.get(f"/v1/admin/structures/{write.siret}/api-keys", headers=auth(ADMIN_KEY)).body)
    for key in listed["keys"]:  # the structure stays active; its keys (the one sending the write among them) go
        path = f"/v1/admin/structures/{write.siret}/api-keys/{key['key_id']}"
        assert client.http.delete(path, headers=auth(ADMIN_KEY)).status_code == 200
    before = everything_written()

    refused = send(client, write)

    assert refused.status_code == 401 and json.loads(refused.body)["detail"] == INACTIVE, refused.body
    assert everything_written() == before
    assert client.http.get("/v1/subscriptions", headers=key_only).status_code == 200  # reads trust the cache
