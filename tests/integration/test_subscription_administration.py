"""An administrator lists and deletes a structure's subscriptions (review r20): after a key theft, the structure's
revoked keys cannot delete the thief's webhook, so the operator finds it and removes it."""

from __future__ import annotations

import json

from demo import ADMIN_KEY, MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import MAIRIE_SIRET, SUPPLIER_SIRET
from test_webhook_delivery_moto import created, local_policy  # noqa: F401

PROBLEM = "application/problem+json"
UNKNOWN_ID = "01JD0000000000000000000000"


def listed(client, siret: str, key: str = ADMIN_KEY):
    return client.http.get(f"/v1/admin/structures/{siret}/subscriptions", headers=auth(key))


def test_an_administrator_lists_and_deletes_a_structure_s_subscriptions(client, local_policy):  # noqa: F811
    hook = created(client, SUPPLIER_KEY, {"url": "http://127.0.0.1:9/thief"})
    mail = created(client, SUPPLIER_KEY, {"email": "compta@atelier.example.fr"})
    created(client, MAIRIE_KEY, {"url": "http://127.0.0.1:9/mairie"})  # another structure's: never listed

    response = listed(client, SUPPLIER_SIRET)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = json.loads(response.body)
    assert body["siret"] == SUPPLIER_SIRET
    assert [(s["id"], s["url"], s["status"]) for s in body["subscriptions"]] == sorted(
        [(hook["id"], "http://127.0.0.1:9/thief", "active"), (mail["id"], None, "pending_confirmation")]
    )
    assert all("secret" not in s and "links" not in s for s in body["subscriptions"])

    path = f"/v1/admin/structures/{SUPPLIER_SIRET}/subscriptions/{hook['id']}"
    deleted = client.http.delete(path, headers=auth(ADMIN_KEY))
    assert deleted.status_code == 200, deleted.body
    assert json.loads(deleted.body) == {"siret": SUPPLIER_SIRET, "subscription_id": hook["id"], "deleted": True}
    assert [s["id"] for s in json.loads(listed(client, SUPPLIER_SIRET).body)["subscriptions"]] == [mail["id"]]
    assert client.http.get(f"/v1/subscriptions/{hook['id']}", headers=auth(SUPPLIER_KEY)).status_code == 404
    again = client.http.delete(path, headers=auth(ADMIN_KEY))
    assert again.status_code == 404 and again.headers["Content-Type"] == PROBLEM


def test_only_administrators_and_only_existing_structures_and_subscriptions(client, local_policy):  # noqa: F811
    hook = created(client, MAIRIE_KEY, {"url": "http://127.0.0.1:9/mairie"})
    path = f"/v1/admin/structures/{MAIRIE_SIRET}/subscriptions/{hook['id']}"
    for response in (listed(client, MAIRIE_SIRET, MAIRIE_KEY), client.http.delete(path, headers=auth(MAIRIE_KEY))):
        assert response.status_code == 403 and response.headers["Content-Type"] == PROBLEM
    for response in (
        listed(client, "99999999999999"),
        listed(client, "x" * 3000),
        client.http.delete(
            f"/v1/admin/structures/{SUPPLIER_SIRET}/subscriptions/{hook['id']}", headers=auth(ADMIN_KEY)
        ),
        client.http.delete(f"/v1/admin/structures/{MAIRIE_SIRET}/subscriptions/{UNKNOWN_ID}", headers=auth(ADMIN_KEY)),
        client.http.delete(f"/v1/admin/structures/{MAIRIE_SIRET}/subscriptions/not-an-id", headers=auth(ADMIN_KEY)),
        client.http.delete(f"/v1/admin/structures/{'9' * 3000}/subscriptions/{UNKNOWN_ID}", headers=auth(ADMIN_KEY)),
    ):
        assert response.status_code == 404 and response.headers["Content-Type"] == PROBLEM, response.body
    assert client.http.get(f"/v1/subscriptions/{hook['id']}", headers=auth(MAIRIE_KEY)).status_code == 200
