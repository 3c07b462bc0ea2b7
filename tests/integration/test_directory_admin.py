"""Directory paging, imports and administration: what an integration review found (paging stopped early, imports
wiped services, unknown fields were ignored, admin keys acted as a structure)."""

from __future__ import annotations

import json

import pytest
from demo import ADMIN_KEY, SUPPLIER_KEY, auth
from invoices import MAIRIE_SIRET

from chalicelib.domain.directory import luhn_ok

JSON = {"Content-Type": "application/json"}


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
