"""Directory administration while AWS loses answers (review r16, F6): a write that landed is answered as done, not
409 "already exists" or 500; an API key whose write cannot be confirmed does not stay registered unseen."""

from __future__ import annotations

import json
import logging

import pytest
from aws_failures import When, answer_lost_fixture, fail_fixture  # noqa: F401 - fixtures
from demo import ADMIN_KEY, MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import MAIRIE_SIRET

from chalicelib.config import settings
from chalicelib.domain.directory import hash_api_key
from chalicelib.services import directory as directory_service

JSON = {"Content-Type": "application/json"}
NEW_SIRET = "55203253400646"
LOST = [pytest.param(True, id="botocore retried the write"), pytest.param(False, id="every retry timed out")]
THROTTLED = "ProvisionedThroughputExceededException"


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


def issue_key(client, siret: str = MAIRIE_SIRET):
    return client.http.post(f"/v1/admin/structures/{siret}/api-keys", headers=auth(ADMIN_KEY, **JSON), body="{}")


@pytest.mark.parametrize("retried", LOST)
def test_an_api_key_whose_write_answer_was_lost_is_shown(client, answer_lost, retried):
    before = key_ids(client, MAIRIE_SIRET)
    answer_lost("PutItem", settings().api_key_table, retried=retried)

    issued = issue_key(client)

    assert issued.status_code == 201, issued.body
    key = json.loads(issued.body)
    assert sorted(key_ids(client, MAIRIE_SIRET)) == sorted([*before, key["key_id"]])
    assert client.http.get(f"/v1/structures/{MAIRIE_SIRET}", headers=auth(key["api_key"])).status_code == 200


def other_keys_than(*keys: str, operation_fails=THROTTLED) -> When:
    """Every call on the API key table about a key other than `keys` fails (the callers' keys still authenticate)."""
    hashes = {hash_api_key(k) for k in keys}
    return When(lambda params: operation_fails if params.get("TableName") == settings().api_key_table
                and params["Key"]["key_hash"]["S"] not in hashes else None)  # fmt: skip


def test_an_api_key_that_cannot_be_confirmed_is_deleted(client, fail, answer_lost):
    before = key_ids(client, MAIRIE_SIRET)
    answer_lost("PutItem", settings().api_key_table, retried=False)
    fail["GetItem"] = other_keys_than(ADMIN_KEY, MAIRIE_KEY)  # the read-back fails

    assert issue_key(client).status_code >= 500

    fail.clear()
    assert key_ids(client, MAIRIE_SIRET) == before  # no key whose secret nobody was shown


def test_an_api_key_that_can_be_neither_confirmed_nor_deleted_is_logged_for_revocation(client, fail, answer_lost,
                                                                                       caplog):  # fmt: skip
    before = key_ids(client, MAIRIE_SIRET)
    answer_lost("PutItem", settings().api_key_table, retried=False)
    fail["GetItem"] = other_keys_than(ADMIN_KEY, MAIRIE_KEY)
    fail["DeleteItem"] = other_keys_than(ADMIN_KEY, MAIRIE_KEY)
    caplog.set_level(logging.ERROR, logger=directory_service.__name__)

    assert issue_key(client).status_code >= 500

    fail.clear()
    [left] = [k for k in key_ids(client, MAIRIE_SIRET) if k not in before]
    [logged] = [r for r in caplog.records if r.name == directory_service.__name__]
    assert logged.levelno == logging.ERROR and logged.key_id == left and "revoke" in logged.getMessage()


@pytest.mark.parametrize("table", ["structure_table", "api_key_table"])
def test_an_import_whose_write_answer_was_lost_is_answered_done(client, answer_lost, table):
    key = "an-imported-key-of-the-regie"
    answer_lost("PutItem", getattr(settings(), table), retried=False)

    imported = client.http.post("/v1/admin/imports", headers=auth(ADMIN_KEY, **JSON), body=json.dumps(
        {"structures": [{"siret": NEW_SIRET, "name": "Régie des eaux", "roles": ["supplier"], "api_keys": [key]}]}
    ))  # fmt: skip

    assert imported.status_code == 200, imported.body
    assert stored_structure(client, NEW_SIRET)["name"] == "Régie des eaux"
    assert client.http.get(f"/v1/structures/{NEW_SIRET}", headers=auth(key)).status_code == 200


def test_a_key_revocation_whose_answer_was_lost_is_answered_revoked(client, answer_lost):
    key_id = json.loads(issue_key(client).body)["key_id"]
    answer_lost("DeleteItem", settings().api_key_table, retried=False)

    revoked = client.http.delete(f"/v1/admin/structures/{MAIRIE_SIRET}/api-keys/{key_id}", headers=auth(ADMIN_KEY))

    assert revoked.status_code == 200, revoked.body
    assert json.loads(revoked.body)["revoked"] is True and key_id not in key_ids(client, MAIRIE_SIRET)
