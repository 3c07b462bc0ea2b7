"""Paths handed out to clients (Location, links, a problem's instance) carry the stage on execute-api only."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from chalicelib.entrypoints.links import api_path, request_instance, stage_prefix

EXECUTE_API = {"domainName": "abc123.execute-api.eu-west-3.amazonaws.com", "stage": "api", "path": "/api/v1/x"}
CUSTOM_DOMAIN = {"domainName": "api.chorale.example", "stage": "api", "path": "/v1/x"}
LOCAL = {"httpMethod": "GET", "resourcePath": "/v1/x", "path": "/v1/x"}  # chalice local: no domain, no stage


def request(context: dict, template: str = "/v1/invoices/{invoice_id}/status", **params) -> SimpleNamespace:
    return SimpleNamespace(context=context, path=template, uri_params=params or None)


@pytest.mark.parametrize(
    "context, prefix",
    [(EXECUTE_API, "/api"), (CUSTOM_DOMAIN, ""), (LOCAL, ""), ({}, ""), (None, "")],
    ids=["execute-api", "custom-domain", "local", "empty", "none"],
)
def test_the_stage_prefix_only_on_api_gateway_s_own_domain(context, prefix):
    assert stage_prefix(context) == prefix
    assert api_path("/v1/invoices/I1", request(context or {})) == f"{prefix}/v1/invoices/I1"


def test_an_execute_api_request_without_stage_has_no_prefix():
    assert stage_prefix({"domainName": "abc123.execute-api.eu-west-3.amazonaws.com"}) == ""


@pytest.mark.parametrize("context, prefix", [(EXECUTE_API, "/api"), (CUSTOM_DOMAIN, ""), (LOCAL, "")])
def test_a_problem_instance_is_this_request_s_path(context, prefix):
    instance = request_instance(request(context, invoice_id="01J9ABC"))
    assert instance == f"{prefix}/v1/invoices/01J9ABC/status"


def test_an_instance_quotes_parameters_and_never_shows_a_secret_one():
    assert request_instance(request(LOCAL, "/v1/things/{name}", name="a b/c?d")) == "/v1/things/a%20b%2Fc%3Fd"
    confirmation = request(EXECUTE_API, "/v1/subscription-confirmations/{token}", token="s3cr3t")
    assert request_instance(confirmation) == "/api/v1/subscription-confirmations/{token}"


def test_a_route_without_parameters_is_its_path():
    assert request_instance(SimpleNamespace(context=LOCAL, path="/v1/invoices", uri_params=None)) == "/v1/invoices"
