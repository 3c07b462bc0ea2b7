"""The OpenAPI document describes what the admin routes answer (review r21): a client generated from it must keep
the API key shown once, and every Idempotency-Key is described as the routes check it."""

from __future__ import annotations

import re

from chalicelib.entrypoints.openapi import openapi_document


def _schema(operation: dict, status: str) -> dict:
    return operation["responses"][status]["content"]["application/json"]["schema"]


def test_admin_answers_have_their_bodies():
    paths = openapi_document()["paths"]
    issued = _schema(paths["/v1/admin/structures/{siret}/api-keys"]["post"], "201")
    assert {"api_key", "key_id", "siret"} <= set(issued["properties"])
    assert _schema(paths["/v1/admin/structures"]["post"], "201") == {"$ref": "#/components/schemas/Structure"}
    assert "Location" in paths["/v1/admin/structures"]["post"]["responses"]["201"]["headers"]
    service = paths["/v1/admin/structures/{siret}/services/{code}"]["put"]
    assert _schema(service, "200") == {"$ref": "#/components/schemas/Structure"}
    assert "revoked" in _schema(paths["/v1/admin/structures/{siret}/api-keys/{key_id}"]["delete"], "200")["properties"]
    assert {"imported", "sirets"} <= set(_schema(paths["/v1/admin/imports"]["post"], "200")["properties"])


def test_every_idempotency_key_is_described_as_checked():
    keyed = [
        (path, parameter["schema"])
        for path, operations in openapi_document()["paths"].items()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "Idempotency-Key"
    ]
    assert len(keyed) == 6, keyed  # deposits, flows, attachments, status changes, re-routes, subscriptions
    for path, schema in keyed:
        assert schema["minLength"] == 1 and schema["maxLength"] == 255, path
        pattern = re.compile(schema["pattern"])
        assert not pattern.search("   ") and pattern.search(" k "), path


def test_a_key_id_is_described_as_no_key_nor_its_hash_and_search_items_as_invoices():
    """Review r35: key_id was the key's stored hash, undescribed; search items were untyped for generated clients."""
    paths = openapi_document()["paths"]
    issued = _schema(paths["/v1/admin/structures/{siret}/api-keys"]["post"], "201")["properties"]["key_id"]
    listed = _schema(paths["/v1/admin/structures/{siret}/api-keys"]["get"], "200")["properties"]["keys"]["items"]
    revoke = paths["/v1/admin/structures/{siret}/api-keys/{key_id}"]["delete"]
    [path_key_id] = [p["schema"] for p in revoke["parameters"] if p["name"] == "key_id"]
    for key_id in (issued, listed["properties"]["key_id"], path_key_id):
        assert "16 hex characters" in key_id["description"] and "neither the key nor that hash" in key_id["description"]
    search = _schema(paths["/v1/invoices"]["get"], "200")
    assert search["properties"]["items"] == {"type": "array", "items": {"$ref": "#/components/schemas/Invoice"}}
