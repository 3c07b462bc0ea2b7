"""Directory administration while AWS loses answers (review r16, F6): a write that landed is answered as done, not
409 "already exists" or 500."""

from __future__ import annotations

import json

import pytest
from aws_failures import answer_lost_fixture  # noqa: F401 - fixtures
from demo import ADMIN_KEY, SUPPLIER_KEY, auth
from invoices import MAIRIE_SIRET

from chalicelib.config import settings

JSON = {"Content-Type": "application/json"}
NEW_SIRET = "55203253400646"
LOST = [pytest.param(True, id="botocore retried the write"), pytest.param(False, id="every retry timed out")]


def create_structure(client, name: str = "Régie des eaux"):
    body = {"siret": NEW_SIRET, "name": name, "roles": ["recipient"], "services": [{"code": "EAU"}]}
    return client.http.post("/v1/admin/structures", headers=auth(ADMIN_KEY, **JSON), body=json.dumps(body))


def stored_structure(client, siret: str) -> dict:
    return json.loads(client.http.get(f"/v1/structures/{siret}", headers=auth(SUPPLIER_KEY)).body)


def key_ids(client, siret: str) -> list[str]:
    keys = client.http.get(f"/v1/admin/structures/{siret}/api-keys", headers=auth(ADMIN_KEY)).body
    return [k["key_id"] for k in json.loads(keys)["keys"]]


@pytest.mark.parametrize("retried", LOST)
def test_a_structure_whose_create_answer_was_lost_is_answered_created(client, answer_lost, retried):
    answer_lost("PutItem", settings().structure_table, retried=retried)

    created = create_structure(client)

    assert created.status_code == 201, created.body
    assert created.headers["Location"].endswith(f"/v1/structures/{NEW_SIRET}")
    assert json.loads(created.body) == stored_structure(client, NEW_SIRET)  # the body a first answer gives


def test_a_structure_that_exists_with_other_content_is_still_a_conflict(client):
    assert create_structure(client).status_code == 201

    again = create_structure(client, name="Autre régie")

    assert again.status_code == 409, again.body
    assert stored_structure(client, NEW_SIRET)["name"] == "Régie des eaux"


def test_a_structure_update_whose_answer_was_lost_is_answered_done(client, answer_lost):
    answer_lost("PutItem", settings().structure_table, retried=False)

    updated = client.http.patch(f"/v1/admin/structures/{MAIRIE_SIRET}", headers=auth(ADMIN_KEY, **JSON),
                                body=json.dumps({"name": "Mairie renommée"}))  # fmt: skip

    assert updated.status_code == 200, updated.body
    assert json.loads(updated.body) == stored_structure(client, MAIRIE_SIRET)


@pytest.mark.parametrize("retried", LOST)
def test_a_service_whose_write_answer_was_lost_is_answered_done(client, answer_lost, retried):
    answer_lost("PutItem", settings().structure_table, retried=retried)

    put = client.http.put(f"/v1/admin/structures/{MAIRIE_SIRET}/services/SERV-NEW", headers=auth(ADMIN_KEY, **JSON),
                          body=json.dumps({"name": "Nouveau service"}))  # fmt: skip

    assert put.status_code == 200, put.body
    stored = stored_structure(client, MAIRIE_SIRET)
    assert json.loads(put.body) == stored and [s["code"] for s in stored["services"]].count("SERV-NEW") == 1
