"""An administrator key a redeploy removed stops administering at once, while API Gateway still caches its
authorization (60 s): every administration write re-checks the key against the configured ones
(services.authentication.require_current_administrator). Nothing is written; the new key does the same request.
"""

from __future__ import annotations

import json

import pytest
from demo import ADMIN_KEY, MAIRIE_KEY, auth
from invoices import MAIRIE_SIRET
from test_deactivation import everything_written
from test_directory_admin import luhn_sirets

from chalicelib.config import settings
from chalicelib.domain.directory import hash_api_key
from chalicelib.entrypoints import api as api_module
from chalicelib.services.authentication import bearer_token

NEW_ADMIN_KEY = "rotated-admin-key"
JSON = {"Content-Type": "application/json"}
NO_LONGER = "The administrator key is unknown or no longer configured."


@pytest.fixture
def removed_admin_key(monkeypatch):
    """A redeploy replaced ADMIN_KEY by NEW_ADMIN_KEY; API Gateway's cache still lets the old key through the
    authorizer (the real authorizer refuses it)."""
    monkeypatch.setenv("ADMIN_KEY_HASHES", hash_api_key(NEW_ADMIN_KEY))
    settings.cache_clear()
    monkeypatch.setattr(
        api_module,
        "is_administrator_key",
        lambda authorization, _: bearer_token(authorization) in (ADMIN_KEY, NEW_ADMIN_KEY),
    )
    yield
    monkeypatch.undo()  # the deployed keys again, before the settings are read afresh
    settings.cache_clear()


def _subscription_id(client) -> str:
    response = client.http.post(
        "/v1/subscriptions", headers=auth(MAIRIE_KEY, **JSON), body=json.dumps({"email": "compta@mairie.example.fr"})
    )
    assert response.status_code == 201, response.body
    return json.loads(response.body)["id"]


def _issued_key_id(client) -> str:
    response = client.http.post(f"/v1/admin/structures/{MAIRIE_SIRET}/api-keys", headers=auth(NEW_ADMIN_KEY))
    assert response.status_code == 201, response.body
    return json.loads(response.body)["key_id"]


[NEW_SIRET] = luhn_sirets(1, start=5420511900)

# (method, path, body) of every administration write
ADMIN_WRITES = {
    ("post", "/v1/admin/structures"): lambda client: (
        "/v1/admin/structures",
        {"siret": NEW_SIRET, "name": "Nouvelle", "roles": ["recipient"]},
    ),
    ("patch", "/v1/admin/structures/{siret}"): lambda client: (
        f"/v1/admin/structures/{MAIRIE_SIRET}",
        {"active": False},
    ),
    ("put", "/v1/admin/structures/{siret}/services/{code}"): lambda client: (
        f"/v1/admin/structures/{MAIRIE_SIRET}/services/SERV-NEW",
        {"name": "Nouveau service"},
    ),
    ("post", "/v1/admin/structures/{siret}/api-keys"): lambda client: (
        f"/v1/admin/structures/{MAIRIE_SIRET}/api-keys",
        None,
    ),
    ("delete", "/v1/admin/structures/{siret}/api-keys/{key_id}"): lambda client: (
        f"/v1/admin/structures/{MAIRIE_SIRET}/api-keys/{_issued_key_id(client)}",
        None,
    ),
    ("delete", "/v1/admin/structures/{siret}/subscriptions/{subscription_id}"): lambda client: (
        f"/v1/admin/structures/{MAIRIE_SIRET}/subscriptions/{_subscription_id(client)}",
        None,
    ),
    ("post", "/v1/admin/imports"): lambda client: (
        "/v1/admin/imports",
        {"structures": [{"siret": NEW_SIRET, "name": "Importée", "roles": ["recipient"]}]},
    ),
}


@pytest.mark.parametrize("write", sorted(ADMIN_WRITES), ids=lambda w: f"{w[0].upper()} {w[1]}")
def test_a_removed_administrator_key_writes_nothing_while_its_authorization_is_cached(client, removed_admin_key, write):
    method, _ = write
    path, body = ADMIN_WRITES[write](client)
    send = getattr(client.http, method)

    def request(key: str):
        headers = auth(key, **JSON) if body is not None else auth(key)
        return send(path, headers=headers, body=json.dumps(body) if body is not None else b"")

    before = everything_written()
    refused = request(ADMIN_KEY)
    assert refused.status_code == 401, refused.body
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert json.loads(refused.body)["detail"] == NO_LONGER
    assert everything_written() == before
    done = request(NEW_ADMIN_KEY)
    assert done.status_code in (200, 201), done.body


def test_every_administration_write_is_covered(app):
    routes = {
        (method.lower(), path)
        for path, entry in app.routes.items()
        if path.startswith("/v1/admin/")
        for method in entry
        if method != "GET"
    }
    assert routes == set(ADMIN_WRITES)


def test_an_import_refuses_a_removed_key_before_reading_its_body(client, removed_admin_key):
    for headers, body in (({"Content-Type": "text/plain"}, b"x"), ({"Content-Type": "text/csv"}, b"\xff\xfe")):
        refused = client.http.post("/v1/admin/imports", headers=auth(ADMIN_KEY, **headers), body=body)
        assert refused.status_code == 401 and json.loads(refused.body)["detail"] == NO_LONGER


def test_administrator_reads_trust_the_cached_authorization(client, removed_admin_key):
    response = client.http.get(f"/v1/admin/structures/{MAIRIE_SIRET}/api-keys", headers=auth(ADMIN_KEY))
    assert response.status_code == 200, response.body
