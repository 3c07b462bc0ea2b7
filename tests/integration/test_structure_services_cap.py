"""A structure's services live in its one DynamoDB item (400 KB): their number is capped on every path that adds
them, and a write DynamoDB refuses as too large is a 422 naming the cause, not a 500 (review r30, finding 2)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from demo import ADMIN_KEY, SUPPLIER_KEY, auth
from invoices import MAIRIE_SIRET
from test_directory_admin import import_json, luhn_sirets

from chalicelib.services.directory import MAX_SERVICES
from chalicelib.services.errors import Unprocessable

ADMIN_JSON = auth(ADMIN_KEY, **{"Content-Type": "application/json"})


def services(count: int, name: str = "Service n° {i}") -> list[dict]:
    return [{"code": f"SERV-{i:05d}", "name": name.format(i=i)} for i in range(count)]


def patch(client, body: dict):
    return client.http.patch(f"/v1/admin/structures/{MAIRIE_SIRET}", headers=ADMIN_JSON, body=json.dumps(body))


def put_service(client, code: str, body: dict):
    return client.http.put(
        f"/v1/admin/structures/{MAIRIE_SIRET}/services/{code}", headers=ADMIN_JSON, body=json.dumps(body)
    )


def stored_services(client) -> list[dict]:
    return json.loads(client.http.get(f"/v1/structures/{MAIRIE_SIRET}", headers=auth(SUPPLIER_KEY)).body)["services"]


def assert_too_many(response, count: int) -> None:
    problem = json.loads(response.body)
    assert response.status_code == 422, response.body[:300]
    assert problem["reason"] == "too_many_services" and problem["max_services"] == MAX_SERVICES
    assert problem["services"] == count and f"at most {MAX_SERVICES} services" in problem["detail"]


def test_a_structure_takes_the_cap_of_services_and_no_more_on_update_and_service_put(client):
    assert_too_many(patch(client, {"services": services(MAX_SERVICES + 1)}), MAX_SERVICES + 1)
    assert len(stored_services(client)) < MAX_SERVICES  # nothing written

    assert patch(client, {"services": services(MAX_SERVICES)}).status_code == 200
    assert_too_many(put_service(client, "NEW-1", {"name": "Nouveau service"}), MAX_SERVICES + 1)
    # A full structure's services can still be changed and deactivated.
    response = put_service(client, "SERV-00007", {"name": "Service renommé", "active": False})
    assert response.status_code == 200, response.body[:300]
    kept = stored_services(client)
    assert len(kept) == MAX_SERVICES and "NEW-1" not in {s["code"] for s in kept}
    assert {"code": "SERV-00007", "name": "Service renommé", "active": False}.items() <= next(
        s for s in kept if s["code"] == "SERV-00007"
    ).items()


def test_create_and_import_refuse_a_structure_over_the_cap(client):
    new, imported = luhn_sirets(2, start=3801298770)
    body = {"siret": new, "name": "Grande administration", "roles": ["recipient"], "services": services(1001)}
    response = client.http.post("/v1/admin/structures", headers=ADMIN_JSON, body=json.dumps(body))
    assert_too_many(response, MAX_SERVICES + 1)
    assert client.http.get(f"/v1/structures/{new}", headers=auth(SUPPLIER_KEY)).status_code == 404

    row = {"siret": imported, "name": "Grande administration", "roles": ["recipient"]}
    response = import_json(client, [row, {"siret": MAIRIE_SIRET, "services": services(MAX_SERVICES + 1)}])
    assert_too_many(response, MAX_SERVICES + 1)
    assert json.loads(response.body)["detail"].startswith("structures[1]: ")
    assert client.http.get(f"/v1/structures/{imported}", headers=auth(SUPPLIER_KEY)).status_code == 404


def test_a_structure_record_over_the_item_size_is_a_422_not_a_500(client):
    # Within the cap, but names of 200 four-byte characters: ~1.2 MB, past DynamoDB's (and moto's) 400 KB.
    response = patch(client, {"services": services(MAX_SERVICES, name="\U0001f3db" * 200)})
    problem = json.loads(response.body)
    assert response.status_code == 422, response.body[:300]
    assert problem["reason"] == "structure_full" and "400 KB" in problem["detail"]
    assert len(stored_services(client)) < MAX_SERVICES


@pytest.mark.parametrize("create_only", [False, True])
def test_the_directory_refuses_a_record_over_the_item_size_as_unprocessable(aws, create_only):
    from chalicelib.adapters.directory import DynamoDirectory
    from chalicelib.domain.directory import Service

    directory = DynamoDirectory()
    mairie = directory.structure(MAIRIE_SIRET)
    names = "Direction régionale des affaires culturelles — service n° {i}"
    many = tuple(Service(f"SERV-{i:05d}", names.format(i=i)) for i in range(6000))
    big = replace(mairie, services=many)
    if create_only:
        big = replace(big, siret=luhn_sirets(1, start=3801298880)[0], version=None)
    with pytest.raises(Unprocessable) as refused:
        directory.put_structure(big, create_only=create_only)
    assert refused.value.extra["reason"] == "structure_full"


def test_an_import_with_a_row_over_the_item_size_writes_no_row(client):
    """A row within the services cap but over 400 KB (four-byte names) was refused by DynamoDB only when its turn
    came, after the import's other rows were written (a known gap). Every row's record is now sized first."""
    imported = luhn_sirets(1, start=3801298990)[0]
    rows = [
        {"siret": imported, "name": "Petite administration", "roles": ["recipient"]},
        {"siret": MAIRIE_SIRET, "services": services(MAX_SERVICES, name="\U0001f3db" * 200)},
    ]
    response = import_json(client, rows)
    problem = json.loads(response.body)
    assert response.status_code == 422, response.body[:300]
    assert problem["reason"] == "structure_full" and problem["sirets"] == [MAIRIE_SIRET]
    assert "Nothing was written" in problem["detail"]
    assert client.http.get(f"/v1/structures/{imported}", headers=auth(SUPPLIER_KEY)).status_code == 404
    assert len(stored_services(client)) < MAX_SERVICES
