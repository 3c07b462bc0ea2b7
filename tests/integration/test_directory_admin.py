"""Directory paging, imports and administration: what an integration review found (paging stopped early, imports
wiped services, unknown fields were ignored, admin keys acted as a structure)."""

from __future__ import annotations

import json

import pytest
from demo import ADMIN_KEY, MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import MAIRIE_SIRET, SUPPLIER_SIRET, ubl_invoice
from processing_support import deposit_processed_id

from chalicelib.domain.directory import luhn_ok

JSON = {"Content-Type": "application/json"}
CSV = {"Content-Type": "text/csv"}


def luhn_sirets(count: int, start: int = 5520325340) -> list[str]:
    """`count` valid SIRETs (14 digits, Luhn), none starting with La Poste's SIREN."""
    found, n = [], start * 10000
    while len(found) < count:
        n += 1
        if luhn_ok(str(n)):
            found.append(str(n))
    return found


def import_json(client, structures: list[dict]):
    return client.http.post(
        "/v1/admin/imports", headers=auth(ADMIN_KEY, **JSON), body=json.dumps({"structures": structures})
    )


def all_pages(client, query: str, limit: int) -> list[list[dict]]:
    chunks, cursor = [], None
    while True:
        url = f"/v1/structures?{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = client.http.get(url, headers=auth(SUPPLIER_KEY))
        assert response.status_code == 200, response.body
        body = json.loads(response.body)
        chunks.append(body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            return chunks
        assert len(chunks) < 50, "paging does not end"


# --- 1. paging through GET /v1/structures -------------------------------------------------------------------------


@pytest.fixture
def mairies(client) -> list[str]:
    """Six structures matching q=mairie (the demo's and five more), in name order."""
    sirets = luhn_sirets(5)
    structures = [
        {"siret": siret, "name": f"Mairie Paging {i:02d}", "roles": ["recipient" if i % 2 else "supplier"]}
        for i, siret in enumerate(sirets)
    ]
    assert import_json(client, structures).status_code == 200
    everything = json.loads(client.http.get("/v1/structures?q=mairie&limit=100", headers=auth(SUPPLIER_KEY)).body)
    assert everything["next_cursor"] is None
    listed = [s["siret"] for s in everything["items"]]
    assert sorted(listed) == sorted([MAIRIE_SIRET, *sirets])
    return listed


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 6, 7])
def test_structure_pages_have_no_gap_no_repeat_and_no_empty_last_page(client, mairies, limit):
    chunks = all_pages(client, "q=mairie", limit)
    sizes = [len(c) for c in chunks]
    full, rest = divmod(len(mairies), limit)
    assert sizes == [limit] * full + ([rest] if rest else [])  # exact multiples end without an empty page
    assert [s["siret"] for chunk in chunks for s in chunk] == mairies


@pytest.mark.parametrize("limit", [1, 2])
def test_structure_pages_with_a_role_filter(client, mairies, limit):
    chunks = all_pages(client, "q=mairie&role=recipient", limit)
    seen = [s["siret"] for chunk in chunks for s in chunk]
    every = json.loads(
        client.http.get("/v1/structures?q=mairie&role=recipient&limit=100", headers=auth(SUPPLIER_KEY)).body
    )["items"]
    assert seen == [s["siret"] for s in every] and len(seen) == 3
    assert all(chunk for chunk in chunks)


def test_a_cursor_of_another_search_is_refused(client, mairies):
    body = json.loads(client.http.get("/v1/structures?q=mairie&limit=1", headers=auth(SUPPLIER_KEY)).body)
    response = client.http.get(
        f"/v1/structures?q=centre&limit=1&cursor={body['next_cursor']}", headers=auth(SUPPLIER_KEY)
    )
    assert response.status_code == 400 and response.headers["Content-Type"] == "application/problem+json"


# --- 2. imports update in place ------------------------------------------------------------------------------------


def structure(client, siret: str) -> dict:
    return json.loads(client.http.get(f"/v1/structures/{siret}", headers=auth(SUPPLIER_KEY)).body)


def test_a_csv_import_keeps_the_services_and_keys_of_an_existing_structure(client):
    before = structure(client, MAIRIE_SIRET)
    assert len(before["services"]) == 3
    csv = f"siret,name,roles,requires_engagement\n{MAIRIE_SIRET},Mairie de Saint-Étienne-du-Bois,recipient,true\n"
    response = client.http.post("/v1/admin/imports", headers=auth(ADMIN_KEY, **CSV), body=csv)
    assert response.status_code == 200, response.body
    after = structure(client, MAIRIE_SIRET)
    assert after["services"] == before["services"] and after["requires_engagement"] is True
    assert after["requires_service_code"] is True and after["updated_at"] > before["updated_at"]
    assert client.http.get("/v1/subscriptions", headers=auth(MAIRIE_KEY)).status_code == 200  # its key still works
    keys = json.loads(client.http.get(f"/v1/admin/structures/{MAIRIE_SIRET}/api-keys", headers=auth(ADMIN_KEY)).body)
    assert len(keys["keys"]) == 1


def test_a_json_import_replaces_only_the_fields_a_row_carries(client):
    response = import_json(client, [{"siret": MAIRIE_SIRET, "active": False}])
    assert response.status_code == 200
    after = structure(client, MAIRIE_SIRET)
    assert after["active"] is False and after["name"] == "Mairie de Saint-Étienne-du-Bois"
    assert len(after["services"]) == 3


def test_the_same_siret_twice_in_an_import_writes_nothing(client):
    [new] = luhn_sirets(1, start=4430618410)
    csv = f"siret,name,roles\n{new},Régie,recipient\n{MAIRIE_SIRET},Mairie,recipient\n{new},Régie bis,recipient\n"
    response = client.http.post("/v1/admin/imports", headers=auth(ADMIN_KEY, **CSV), body=csv)
    problem = json.loads(response.body)
    assert response.status_code == 422 and response.headers["Content-Type"] == "application/problem+json"
    assert new in problem["detail"] and "line 2, line 4" in problem["detail"]
    assert problem["duplicates"] == [{"siret": new, "rows": ["line 2", "line 4"]}]
    assert client.http.get(f"/v1/structures/{new}", headers=auth(SUPPLIER_KEY)).status_code == 404
    assert structure(client, MAIRIE_SIRET)["name"] == "Mairie de Saint-Étienne-du-Bois"


def test_an_import_does_not_move_a_key_of_another_structure(client):
    lumiere = {"siret": "82345678900010", "name": "Bureau d'Études Lumière SAS", "roles": ["supplier", "recipient"]}
    [new] = luhn_sirets(1, start=4430618420)
    rows = [{"siret": new, "name": "Nouvelle", "roles": ["supplier"]}, {**lumiere, "api_keys": [SUPPLIER_KEY]}]
    response = import_json(client, rows)
    problem = json.loads(response.body)
    assert response.status_code == 422 and response.headers["Content-Type"] == "application/problem+json"
    assert "structures[1]" in problem["detail"] and SUPPLIER_KEY.encode() not in response.body
    assert problem["taken_keys"] == [{"row": "structures[1]", "siret": "81234567800013"}]
    ticket = json.loads(client.http.post("/v1/uploads", headers=auth(SUPPLIER_KEY)).body)
    assert ticket["fields"]["x-amz-meta-supplier-siret"] == "81234567800013"  # still Atelier's key
    assert client.http.get(f"/v1/structures/{new}", headers=auth(SUPPLIER_KEY)).status_code == 404  # nothing written
    # The structure's own key again is no move: the import goes through.
    own = import_json(client, [{"siret": "81234567800013", "api_keys": [SUPPLIER_KEY]}])
    assert own.status_code == 200, own.body


def test_a_key_taken_in_a_race_is_not_moved_and_the_import_writes_nothing(aws):
    from chalicelib.adapters.directory import DynamoDirectory
    from chalicelib.domain.directory import Structure, hash_api_key
    from chalicelib.services.errors import Conflict

    directory = DynamoDirectory()
    [new] = luhn_sirets(1, start=4430618430)
    taken, fresh = hash_api_key(SUPPLIER_KEY), hash_api_key("a-fresh-key-of-the-new-structure")
    with pytest.raises(Conflict):  # the check before writing missed it: the conditional write holds
        directory.put_structures(
            [Structure(new, "Nouvelle", ("supplier",), updated_at="t")],
            [(fresh, new, "t"), (taken, "82345678900010", "t")],
        )
    assert directory.siret_for_key(taken) == "81234567800013"
    assert directory.siret_for_key(fresh) is None and directory.structure(new) is None
    with pytest.raises(Conflict):
        directory.put_api_key(taken, "82345678900010", "t")
    assert directory.siret_for_key(taken) == "81234567800013"


def test_a_structure_is_written_only_over_the_version_it_was_read_at(aws):
    """Two administrators' read-change-write never overwrite each other (services/directory.py retries on this)."""
    from dataclasses import replace

    import boto3

    from chalicelib.adapters.directory import DynamoDirectory
    from chalicelib.config import settings
    from chalicelib.domain.directory import Structure
    from chalicelib.services.errors import ConcurrentUpdate

    directory = DynamoDirectory()
    first, second, legacy = luhn_sirets(3, start=4430618440)
    directory.put_structure(Structure(first, "Première", ("supplier",), updated_at="t0"), create_only=True)
    read = directory.structure(first)
    directory.put_structure(replace(read, name="Changed by the first", updated_at="t1"))
    with pytest.raises(ConcurrentUpdate):  # made on the version both read
        directory.put_structure(replace(read, active=False, updated_at="t2"))
    assert directory.structure(first).name == "Changed by the first" and directory.structure(first).active is True

    directory.put_structure(Structure(second, "Seconde", ("supplier",), updated_at="t0"), create_only=True)
    stale, current = directory.structure(first), directory.structure(second)
    directory.put_structure(replace(stale, name="Again", updated_at="t3"))
    changed = directory.put_structures([replace(stale, name="Import", updated_at="t4"),
                                        replace(current, name="Seconde importée", updated_at="t4")])  # fmt: skip
    assert changed == [first] and directory.structure(first).name == "Again"
    assert directory.structure(second).name == "Seconde importée"

    table = boto3.resource("dynamodb").Table(settings().structure_table)  # a record from before versions existed
    table.put_item(Item={"siret": legacy, "name": "Ancienne", "name_key": "ancienne", "name_initial": "a",
                         "name_sort": f"ancienne#{legacy}", "roles": ["recipient"], "active": True,
                         "updated_at": "t0"})  # fmt: skip
    old = directory.structure(legacy)
    assert old.version is None
    directory.put_structure(replace(old, active=False, updated_at="t1"))
    with pytest.raises(ConcurrentUpdate):
        directory.put_structure(replace(old, name="Stale", updated_at="t2"))
    assert directory.structure(legacy).active is False and directory.structure(legacy).version == 1


def test_imports_over_the_row_cap_are_refused_and_the_cap_is_imported_in_batches(client):
    from chalicelib.services.directory import MAX_IMPORT_ROWS

    sirets = luhn_sirets(MAX_IMPORT_ROWS + 1, start=3801298660)
    rows = [{"siret": s, "name": f"Bulk {i:04d}", "roles": ["supplier"]} for i, s in enumerate(sirets)]
    response = import_json(client, rows)
    problem = json.loads(response.body)
    assert response.status_code == 413 and "split" in problem["detail"] and problem["max_rows"] == MAX_IMPORT_ROWS
    assert client.http.get(f"/v1/structures/{sirets[0]}", headers=auth(SUPPLIER_KEY)).status_code == 404
    response = import_json(client, rows[:-1])
    assert response.status_code == 200 and json.loads(response.body)["imported"] == MAX_IMPORT_ROWS
    assert structure(client, sirets[-2])["name"] == f"Bulk {MAX_IMPORT_ROWS - 1:04d}"


# --- 3. unknown fields and API keys in administration bodies ------------------------------------------------------


def test_create_refuses_api_keys_and_points_to_the_key_route(client):
    [siret] = luhn_sirets(1, start=5420511800)
    body = {"siret": siret, "name": "Nouvelle", "roles": ["supplier"], "api_keys": ["a-key-i-chose-myself"]}
    response = client.http.post("/v1/admin/structures", headers=auth(ADMIN_KEY, **JSON), body=json.dumps(body))
    problem = json.loads(response.body)
    assert response.status_code == 422 and "POST /v1/admin/structures/{siret}/api-keys" in problem["detail"]
    assert client.http.get(f"/v1/structures/{siret}", headers=auth(SUPPLIER_KEY)).status_code == 404
    assert client.http.get("/v1/subscriptions", headers=auth("a-key-i-chose-myself")).status_code == 401


def test_create_and_update_refuse_unknown_fields(client):
    [siret] = luhn_sirets(1, start=5420511800)
    body = {"siret": siret, "name": "Nouvelle", "roles": ["supplier"], "bogus": 1}
    response = client.http.post("/v1/admin/structures", headers=auth(ADMIN_KEY, **JSON), body=json.dumps(body))
    assert response.status_code == 422 and json.loads(response.body)["unknown_fields"] == ["bogus"]
    for patch in ({"bogus": 1}, {"active": False, "colour": "red", "bogus": 1}):
        url = f"/v1/admin/structures/{MAIRIE_SIRET}"
        response = client.http.patch(url, headers=auth(ADMIN_KEY, **JSON), body=json.dumps(patch))
        problem = json.loads(response.body)
        assert response.status_code == 422 and "bogus" in problem["detail"], response.body
        assert response.headers["Content-Type"] == "application/problem+json"
    assert structure(client, MAIRIE_SIRET)["active"] is True  # nothing was written


# --- 4. administrator keys do not act as a structure ---------------------------------------------------------------

XML = {"Content-Type": "application/xml"}
STRUCTURE_SCOPED = [
    ("post", "/v1/invoices", XML, ubl_invoice()),
    ("get", "/v1/invoices?role=supplier", {}, None),
    ("get", "/v1/invoices/inv-unknown", {}, None),
    ("get", "/v1/invoices/inv-unknown/xml", {}, None),
    ("post", "/v1/invoices/inv-unknown/status", JSON, json.dumps({"code": 204})),
    ("post", "/v1/invoices/inv-unknown/reroute", JSON, json.dumps({"service_code": "SERV-ECOLES"})),
    ("post", "/v1/invoices/inv-unknown/attachments?name=pv.pdf", {"Content-Type": "application/pdf"}, b"%PDF-1.4"),
    ("post", "/v1/invoices/inv-unknown/attachments/uploads", JSON, json.dumps({"name": "annexe.pdf"})),
    ("post", "/v1/invoices/inv-unknown/attachments/uploads/01JDZ8Q6XW0000000000000000", {}, None),
    ("post", "/v1/subscriptions", JSON, json.dumps({"channel": "webhook", "url": "https://example.org/hook"})),
    ("get", "/v1/subscriptions", {}, None),
    ("delete", "/v1/subscriptions/01JDZ8Q6XW0000000000000000", {}, None),
    ("post", "/v1/subscriptions/01JDZ8Q6XW0000000000000000/test", {}, None),
    ("post", "/v1/subscriptions/01JDZ8Q6XW0000000000000000/rotate-secret", {}, None),
    ("post", "/v1/flows", XML, ubl_invoice()),
    ("get", "/v1/flows/flow-unknown", {}, None),
    ("post", "/v1/uploads", JSON, json.dumps({"name": "invoices.zip"})),
]


@pytest.mark.parametrize("method, path, headers, body", STRUCTURE_SCOPED)
def test_an_administrator_key_cannot_act_as_a_structure(client, method, path, headers, body):
    kwargs = {"headers": auth(ADMIN_KEY, **headers), **({"body": body} if body is not None else {})}
    response = getattr(client.http, method)(path, **kwargs)
    problem = json.loads(response.body)
    assert response.status_code == 403 and response.headers["Content-Type"] == "application/problem+json"
    assert "administrator key cannot act as a structure" in problem["detail"]
    assert "/v1/admin/structures/{siret}/api-keys" in problem["detail"]


def test_the_administrator_keeps_its_routes_and_structure_keys_theirs(client):
    assert client.http.get("/v1/structures?q=mairie", headers=auth(ADMIN_KEY)).status_code == 200
    assert client.http.get(f"/v1/structures/{MAIRIE_SIRET}", headers=auth(ADMIN_KEY)).status_code == 200
    listed = client.http.get(f"/v1/admin/structures/{MAIRIE_SIRET}/api-keys", headers=auth(ADMIN_KEY))
    assert listed.status_code == 200
    # an unknown structure has no key list (as issuing one is a 404), not an empty one (review finding)
    unknown = client.http.get("/v1/admin/structures/99999999999999/api-keys", headers=auth(ADMIN_KEY))
    assert unknown.status_code == 404 and unknown.headers["Content-Type"] == "application/problem+json"
    deposit = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=ubl_invoice())
    assert deposit.status_code == 202  # structure keys are unaffected


def test_a_seed_of_more_structures_than_one_import_takes_is_loaded_in_imports(aws, tmp_path):
    """Review finding: `make run SEED=` refused a seed of 1,001 structures, telling to split a file it takes whole."""
    from chalicelib.adapters.directory import DynamoDirectory
    from devstack.seed import load_seed

    sirets = luhn_sirets(1001, start=5520325341)
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"structures": [
        {"siret": s, "name": f"Structure {i}", "roles": ["recipient"], "active": True} for i, s in enumerate(sirets)
    ]}))  # fmt: skip
    loaded = load_seed(seed)
    assert [s.siret for s, _keys in loaded] == sirets
    assert DynamoDirectory().structure(sirets[-1]) is not None and DynamoDirectory().structure(sirets[0]) is not None


def test_a_seed_field_unknown_is_refused_listing_api_keys_among_the_accepted(aws, tmp_path):
    """Review r35: the seed accepts api_keys, and its unknown-field error listed a structure's fields without it."""
    from devstack.seed import SeedError, load_seed

    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"structures": [
        {"siret": "21750000100011", "name": "Mairie", "roles": ["recipient"], "api_key": "k" * 16}
    ]}))  # fmt: skip
    with pytest.raises(SeedError) as refused:
        load_seed(seed)
    assert str(refused.value) == (
        "structures[0]: Unknown or read-only fields ['api_key']: a seed's structure accepts ['siret', 'name', "
        "'roles', 'active', 'requires_service_code', 'requires_engagement', 'services', 'api_keys']."
    )


@pytest.mark.parametrize(
    "top_level, entry_fields, refusal",
    [
        ({"structurs": []}, {}, "Unknown or read-only fields ['structurs']: a seed accepts ['structures']."),
        ({}, {"api_keys": None}, "structures[0]: 'api_keys' must be a list"),
        ({}, {"services": [{"code": "A"}, {"code": "A", "active": False}]}, "structures[0]: A service code may appear"),
    ],
    ids=["a misspelt top-level key", "api_keys null", "a service code twice"],
)
def test_a_seed_is_held_to_the_import_contract(aws, tmp_path, top_level, entry_fields, refusal):
    """Review r57 F2, F6: a seed's misspelt top-level key was ignored (its list never loaded), api_keys null taken,
    a service code stored twice."""
    from devstack.seed import SeedError, load_seed

    entry = {"siret": luhn_sirets(1, start=5520325342)[0], "name": "Seeded", "roles": ["recipient"], **entry_fields}
    path = tmp_path / "seed.json"
    path.write_text(json.dumps({"structures": [entry], **top_level}))
    with pytest.raises(SeedError) as refused:
        load_seed(path)
    assert str(refused.value).startswith(refusal)


def test_a_change_that_changes_nothing_keeps_the_stored_structure_and_its_updated_at(client, aws):
    """Review r57 F4: a re-imported file, PATCH {} and PUT …/services/X {} rewrote the structure (updated_at and its
    version moved, a write unit spent) though nothing changed."""
    from chalicelib.adapters.directory import StructureRecord

    def stored():
        record = StructureRecord.get(MAIRIE_SIRET, consistent_read=True)
        return record.updated_at, record.version

    before = stored()
    csv = f"siret,name,roles\n{MAIRIE_SIRET},Mairie de Saint-Étienne-du-Bois,recipient\n"
    response = client.http.post("/v1/admin/imports", headers=auth(ADMIN_KEY, **CSV), body=csv)
    assert response.status_code == 200 and json.loads(response.body)["sirets"] == [MAIRIE_SIRET]
    path = f"/v1/admin/structures/{MAIRIE_SIRET}"
    patched = client.http.patch(path, headers=auth(ADMIN_KEY, **JSON), body="{}")
    put = client.http.put(f"{path}/services/SERV-TECH", headers=auth(ADMIN_KEY, **JSON), body="{}")
    assert patched.status_code == put.status_code == 200
    assert json.loads(patched.body)["updated_at"] == json.loads(put.body)["updated_at"] == before[0]
    assert stored() == before


def test_a_renamed_structure_shows_its_new_name_while_its_invoices_keep_the_names_of_their_time(client, pump):
    """README "Directory": listings show the new name at once; an invoice keeps its deposit's and its routing's."""
    invoice_id = deposit_processed_id(client, pump, ubl_invoice("F-RENAME-1"), "application/xml")
    for siret, name in ((MAIRIE_SIRET, "Mairie nouvelle"), (SUPPLIER_SIRET, "Atelier Nouveau")):
        answer = client.http.patch(f"/v1/admin/structures/{siret}", headers=auth(ADMIN_KEY, **JSON),
                                   body=json.dumps({"name": name}))  # fmt: skip
        assert answer.status_code == 200, answer.body
        assert structure(client, siret)["name"] == name
    invoice = json.loads(client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(MAIRIE_KEY)).body)
    assert (invoice["supplier"]["name"], invoice["recipient"]["name"]) == (
        "Atelier Numérique SARL",
        "Mairie de Saint-Étienne-du-Bois",
    )
