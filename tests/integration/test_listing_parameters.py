"""Review r43 F1: a listing's query parameters are all it reads. An unknown or repeated parameter is a 400, never
ignored (a clerk's "filtered" inbox was the whole inbox); the invoice search's `status` takes a comma-separated
list, `counterpart` must be a SIRET, and `service_code` filters by the recipient's service."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from demo import ADMIN_KEY, MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import ubl_invoice
from test_search_and_directory import deposit_all, numbers_of, pages

from chalicelib.services.errors import MAX_UNKNOWN_FIELDS_LISTED

JSON = {"Content-Type": "application/json"}


def problem(client, url: str, key: str = SUPPLIER_KEY) -> dict:
    response = client.http.get(url, headers=auth(key))
    assert response.status_code == 400, response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    return json.loads(response.body)


@pytest.fixture
def two_services(client, pump) -> dict[str, str]:
    """Two invoices to the Mairie: one for its technical services, one for its schools (which need an EJ)."""
    tech, schools = deposit_all(
        client,
        pump,
        [ubl_invoice("F-TECH"), ubl_invoice("F-ECOLES", service_code="SERV-ECOLES", engagement="EJ-1")],
    )
    return {"tech": tech, "schools": schools}


@pytest.mark.parametrize(
    ("url", "unknown"),
    [
        ("/v1/invoices?supplier=00000000000000", ["supplier"]),
        ("/v1/invoices?statut=210&role=recipient", ["statut"]),
        ("/v1/invoices?idServiceExecutant=1&listeFournisseurs=2", ["idServiceExecutant", "listeFournisseurs"]),
        ("/v1/structures?q=mairie&name=x", ["name"]),
        ("/v1/flows/01JDZ8Q6XW0000000000000000?page=2", ["page"]),
    ],
)
def test_an_unknown_query_parameter_is_a_400_naming_it(client, two_services, url, unknown):
    body = problem(client, url, MAIRIE_KEY)
    assert body["unknown_parameters"] == sorted(unknown)
    assert "limit" in body["accepted"] and "cursor" in body["accepted"]
    assert all(f"'{name}'" in body["detail"] for name in unknown)


def test_invoice_search_lists_what_it_accepts(client):
    body = problem(client, "/v1/invoices?supplier=1")
    assert body["accepted"] == [
        "role", "status", "number", "counterpart", "service_code", "issued_from", "issued_to", "updated_since",
        "limit", "cursor",
    ]  # fmt: skip


def test_many_unknown_parameters_are_listed_within_bounds(client):
    names = [f"p{i:02d}" for i in range(MAX_UNKNOWN_FIELDS_LISTED + 5)]
    body = problem(client, "/v1/invoices?" + "&".join(f"{n}=1" for n in names))
    assert body["unknown_parameters"] == names[:MAX_UNKNOWN_FIELDS_LISTED]
    assert body["unknown_parameters_count"] == len(names)


@pytest.mark.parametrize(
    ("url", "repeated"),
    [
        ("/v1/invoices?role=recipient&status=203&status=210", ["status"]),
        ("/v1/invoices?number=F-TECH&number=F-ECOLES&limit=5&limit=5", ["limit", "number"]),
        ("/v1/structures?q=mairie&q=chr", ["q"]),
        ("/v1/flows/01JDZ8Q6XW0000000000000000?limit=1&limit=2", ["limit"]),
    ],
)
def test_a_repeated_query_parameter_is_a_400_naming_it(client, url, repeated):
    body = problem(client, url, MAIRIE_KEY)
    assert body["repeated_parameters"] == repeated


def posted_flow(client, *numbers: str) -> str:
    """The id of a flow of the supplier's invoices with these numbers."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for n, number in enumerate(numbers):
            z.writestr(f"{n}.xml", ubl_invoice(number))
    posted = client.http.post(
        "/v1/flows", headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/zip"}), body=archive.getvalue()
    )
    assert posted.status_code == 202, posted.body
    return json.loads(posted.body)["id"]


def test_a_flow_report_still_pages_with_its_parameters(client):
    """The flow route reads its limit and cursor through the same rule (a known, single parameter still works)."""
    flow_id = posted_flow(client, "F-FLOW-1", "F-FLOW-2")
    response = client.http.get(f"/v1/flows/{flow_id}?limit=1", headers=auth(SUPPLIER_KEY))
    assert response.status_code == 200, response.body


def test_status_takes_a_comma_separated_list(client, pump, two_services):
    mairie = MAIRIE_KEY
    client.http.post(
        f"/v1/invoices/{two_services['tech']}/status", headers=auth(mairie, **JSON), body=json.dumps({"code": 204})
    )
    assert numbers_of(pages(client, mairie, "role=recipient&status=203")) == {"F-ECOLES"}
    assert numbers_of(pages(client, mairie, "role=recipient&status=203,204")) == {"F-TECH", "F-ECOLES"}
    assert numbers_of(pages(client, mairie, "role=recipient&status=204,210&limit=1")) == {"F-TECH"}
    body = problem(client, "/v1/invoices?role=recipient&status=203,", mairie)
    assert "comma-separated" in body["detail"]


def test_a_status_list_pages_through_each_invoice_once_and_binds_its_cursor(client, two_services):
    chunks = pages(client, MAIRIE_KEY, "role=recipient&status=203,204&limit=1")
    found = [i["number"] for chunk in chunks for i in chunk]
    assert sorted(found) == ["F-ECOLES", "F-TECH"]
    first = json.loads(
        client.http.get("/v1/invoices?role=recipient&status=203,204&limit=1", headers=auth(MAIRIE_KEY)).body
    )
    assert first["next_cursor"]
    # the same list in another order is the same query; another list is not
    same = client.http.get(
        f"/v1/invoices?role=recipient&status=204,203&limit=1&cursor={first['next_cursor']}", headers=auth(MAIRIE_KEY)
    )
    assert same.status_code == 200
    other = problem(client, f"/v1/invoices?role=recipient&status=203&cursor={first['next_cursor']}", MAIRIE_KEY)
    assert "another query" in other["detail"]


@pytest.mark.parametrize("counterpart", ["Atelier", "81234567800014", "8123456780001", "%C2%B2" * 14])
def test_a_counterpart_that_is_not_a_siret_is_a_400(client, counterpart):
    body = problem(client, f"/v1/invoices?role=recipient&counterpart={counterpart}", MAIRIE_KEY)
    assert "SIRET" in body["detail"]


def test_service_code_lists_that_services_invoices_only(client, two_services):
    mairie = MAIRIE_KEY
    assert numbers_of(pages(client, mairie, "role=recipient&service_code=SERV-ECOLES")) == {"F-ECOLES"}
    assert numbers_of(pages(client, mairie, "role=recipient&service_code=SERV-TECH&limit=1")) == {"F-TECH"}
    assert numbers_of(pages(client, mairie, "role=recipient&service_code=SERV-NONE")) == set()
    # with another filter, and for the supplier (the buyer's service its invoice is routed to)
    assert numbers_of(pages(client, mairie, "role=recipient&service_code=SERV-TECH&status=203")) == {"F-TECH"}
    assert numbers_of(pages(client, SUPPLIER_KEY, "role=supplier&service_code=SERV-ECOLES")) == {"F-ECOLES"}


def test_service_code_follows_a_reroute(client, two_services):
    """The service is read on the invoice: a re-routed invoice is listed under its new service."""
    mairie, tech = MAIRIE_KEY, two_services["tech"]
    status = client.http.post(f"/v1/invoices/{tech}/status", headers=auth(mairie, **JSON), body='{"code": 221}')
    assert status.status_code == 200, status.body
    rerouted = client.http.post(
        f"/v1/invoices/{tech}/reroute",
        headers=auth(SUPPLIER_KEY, **JSON),
        body=json.dumps({"service_code": "SERV-ECOLES", "engagement_number": "EJ-2"}),
    )
    assert rerouted.status_code == 200, rerouted.body
    assert numbers_of(pages(client, mairie, "role=recipient&service_code=SERV-ECOLES")) == {"F-TECH", "F-ECOLES"}
    assert numbers_of(pages(client, mairie, "role=recipient&service_code=SERV-TECH")) == set()


def test_a_cursor_is_bound_to_its_service_code(client, two_services):
    first = json.loads(client.http.get("/v1/invoices?role=recipient&limit=1", headers=auth(MAIRIE_KEY)).body)
    assert first["next_cursor"]
    body = problem(
        client, f"/v1/invoices?role=recipient&limit=1&service_code=SERV-TECH&cursor={first['next_cursor']}", MAIRIE_KEY
    )
    assert "another query" in body["detail"]


def test_every_listing_ignores_a_cache_buster_and_still_refuses_other_names(client):
    """Review r44 F2: jQuery's `cache: false` (and axios interceptors) add `_=<ms>` to every GET."""
    listings = [
        "/v1/invoices?role=supplier",
        "/v1/structures?q=mairie",
        f"/v1/flows/{posted_flow(client, 'F-FLOW-1')}?limit=1",
    ]
    for url in listings:
        response = client.http.get(f"{url}&_=1764302400123", headers=auth(SUPPLIER_KEY))
        assert response.status_code == 200, (url, response.body)
        for name in ("__", "x"):
            assert problem(client, f"{url}&{name}=1")["unknown_parameters"] == [name]


def test_a_cache_buster_is_not_bound_into_a_cursor(client, two_services):
    first = client.http.get("/v1/invoices?role=recipient&limit=1&_=1", headers=auth(MAIRIE_KEY))
    cursor = json.loads(first.body)["next_cursor"]
    assert cursor
    then = client.http.get(f"/v1/invoices?role=recipient&limit=1&_=2&cursor={cursor}", headers=auth(MAIRIE_KEY))
    assert then.status_code == 200, then.body
    assert json.loads(then.body)["items"] != json.loads(first.body)["items"]


@pytest.fixture
def subscription_id(client) -> str:
    response = client.http.post(
        "/v1/subscriptions", headers=auth(SUPPLIER_KEY, **JSON), body=json.dumps({"email": "compta@atelier.example"})
    )
    assert response.status_code == 201, response.body
    return json.loads(response.body)["id"]


@pytest.mark.parametrize(
    ("path", "key", "unknown"),
    [
        ("/v1/subscriptions", SUPPLIER_KEY, "status"),
        ("/v1/subscriptions/{id}/deliveries", SUPPLIER_KEY, "limit"),
        ("/v1/admin/structures/81234567800013/subscriptions", ADMIN_KEY, "state"),
        ("/v1/admin/structures/81234567800013/api-keys", ADMIN_KEY, "foo"),
    ],
)
def test_the_listings_without_parameters_refuse_any_but_a_cache_buster(client, subscription_id, path, key, unknown):
    """Review r45 L2: `?status=failing` listed every subscription, pending and active ones included."""
    url = path.format(id=subscription_id)
    body = problem(client, f"{url}?{unknown}=failing", key)
    assert body["unknown_parameters"] == [unknown] and body["accepted"] == []
    response = client.http.get(f"{url}?_=1764302400123", headers=auth(key))
    assert response.status_code == 200, response.body
