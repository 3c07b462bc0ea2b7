"""Review r43 F1: a listing refuses the query parameters it does not read, so the OpenAPI document must name exactly
the ones it reads (a documented parameter the code refused, or the reverse, would be a 400 nobody expects)."""

from __future__ import annotations

import pytest

from chalicelib.entrypoints.openapi import openapi_document
from chalicelib.entrypoints.openapi_parameters import QUERY_REFUSALS
from chalicelib.services import directory, flows, search

# Review r45 L2: the listings that take no query parameter, and answer any with the shared 400
NO_PARAMETER_LISTINGS = (
    "/v1/subscriptions",
    "/v1/subscriptions/{subscription_id}/deliveries",
    "/v1/admin/structures/{siret}/subscriptions",
    "/v1/admin/structures/{siret}/api-keys",
)


@pytest.mark.parametrize(
    ("path", "accepted"),
    [
        ("/v1/invoices", search.PARAMETERS),
        ("/v1/structures", directory.SEARCH_PARAMETERS),
        ("/v1/flows/{flow_id}", flows.FILES_PAGE_PARAMETERS),
        *((path, ()) for path in NO_PARAMETER_LISTINGS),
    ],
)
def test_documented_query_parameters_are_the_accepted_ones(path, accepted):
    parameters = openapi_document()["paths"][path]["get"].get("parameters", [])
    assert sorted(p["name"] for p in parameters if p["in"] == "query") == sorted(accepted)


def test_status_is_documented_as_a_comma_separated_list():
    [status] = [p for p in openapi_document()["paths"]["/v1/invoices"]["get"]["parameters"] if p["name"] == "status"]
    assert status["schema"]["type"] == "array" and status["style"] == "form" and status["explode"] is False


@pytest.mark.parametrize("path", NO_PARAMETER_LISTINGS)
def test_a_listing_without_parameters_documents_the_shared_400(path):
    assert QUERY_REFUSALS in openapi_document()["paths"][path]["get"]["responses"]["400"]["description"]
