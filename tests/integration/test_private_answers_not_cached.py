"""Private answers are never stored by a browser, a proxy or a console's cache: an issued API key, a structure's
invoices, searches, flows and subscriptions (webhook URLs often embed a token), and every problem. The public
documents keep their own caching (review r20)."""

from __future__ import annotations

import json

from demo import ADMIN_KEY, MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import MAIRIE_SIRET, ubl_invoice

NO_STORE = "no-store"


def test_an_issued_api_key_is_not_stored(client):
    issued = client.http.post(f"/v1/admin/structures/{MAIRIE_SIRET}/api-keys", headers=auth(ADMIN_KEY))
    assert issued.status_code == 201 and "api_key" in json.loads(issued.body)
    assert issued.headers["Cache-Control"] == NO_STORE


def test_private_reads_and_writes_are_not_stored(client):
    deposited = client.http.post(
        "/v1/invoices", headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/xml"}), body=ubl_invoice("F-CC-1")
    )
    assert deposited.status_code == 202 and deposited.headers["Cache-Control"] == NO_STORE
    invoice_id = json.loads(deposited.body)["id"]
    for key, path in [
        (SUPPLIER_KEY, f"/v1/invoices/{invoice_id}"),
        (SUPPLIER_KEY, f"/v1/invoices/{invoice_id}/history"),
        (SUPPLIER_KEY, "/v1/invoices?role=supplier"),
        (MAIRIE_KEY, "/v1/subscriptions"),
        (SUPPLIER_KEY, f"/v1/structures/{MAIRIE_SIRET}"),
        (ADMIN_KEY, f"/v1/admin/structures/{MAIRIE_SIRET}/api-keys"),
    ]:
        response = client.http.get(path, headers=auth(key))
        assert response.status_code == 200, (path, response.body)
        assert response.headers.get("Cache-Control") == NO_STORE, path


def test_problems_are_not_stored(client):
    unknown = client.http.get("/v1/invoices/01JD0000000000000000000000", headers=auth(SUPPLIER_KEY))
    assert unknown.status_code == 404 and unknown.headers["Content-Type"] == "application/problem+json"
    assert unknown.headers["Cache-Control"] == NO_STORE
    bad = client.http.post("/v1/subscriptions", headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/json"}),
                           body=b"{not json")  # fmt: skip
    assert bad.status_code == 400 and bad.headers["Cache-Control"] == NO_STORE


def test_public_documents_keep_their_caching(client):
    assert "Cache-Control" not in client.http.get("/v1/health").headers
    assert "Cache-Control" not in client.http.get("/openapi.json").headers
    assert client.http.get("/v1/schemas/invoice.json").headers["Cache-Control"] == "public, max-age=3600"
