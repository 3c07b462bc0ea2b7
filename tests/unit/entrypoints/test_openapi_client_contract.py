"""The OpenAPI document as a client generator reads it (review r40): stable operation names, the gateway's own
answers, typed admin bodies and structure pages, the Location of every creation."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from chalicelib.entrypoints.openapi import openapi_document
from chalicelib.entrypoints.problems import GATEWAY_PROBLEMS, THROTTLED_RETRY_AFTER_SECONDS, gateway_problem
from chalicelib.services.directory import SERVICE_FIELDS, STRUCTURE_FIELDS, service_from, structure_from
from chalicelib.services.errors import Unprocessable

# The names generated clients give their methods: renaming one breaks the integrators' code, so a change here is
# deliberate (extend, don't rename).
OPERATION_IDS = {
    ("/openapi.json", "get"): "getOpenApiDocument",
    ("/v1/admin/imports", "post"): "importStructures",
    ("/v1/admin/structures", "post"): "createStructure",
    ("/v1/admin/structures/{siret}", "patch"): "updateStructure",
    ("/v1/admin/structures/{siret}/api-keys", "get"): "listApiKeys",
    ("/v1/admin/structures/{siret}/api-keys", "post"): "issueApiKey",
    ("/v1/admin/structures/{siret}/api-keys/{key_id}", "delete"): "revokeApiKey",
    ("/v1/admin/structures/{siret}/services/{code}", "put"): "putStructureService",
    ("/v1/admin/structures/{siret}/subscriptions", "get"): "listStructureSubscriptions",
    ("/v1/admin/structures/{siret}/subscriptions/{subscription_id}", "delete"): "deleteStructureSubscription",
    ("/v1/flows", "post"): "depositFlow",
    ("/v1/flows/{flow_id}", "get"): "getFlow",
    ("/v1/health", "get"): "getHealth",
    ("/v1/invoices", "get"): "listInvoices",
    ("/v1/invoices", "post"): "depositInvoice",
    ("/v1/invoices/{invoice_id}", "get"): "getInvoice",
    ("/v1/invoices/{invoice_id}/attachments", "post"): "addInvoiceAttachment",
    ("/v1/invoices/{invoice_id}/attachments/uploads", "post"): "createAttachmentUpload",
    ("/v1/invoices/{invoice_id}/attachments/uploads/{upload_id}", "post"): "completeAttachmentUpload",
    ("/v1/invoices/{invoice_id}/attachments/{attachment_id}", "get"): "getInvoiceAttachmentFile",
    ("/v1/invoices/{invoice_id}/file", "get"): "getInvoiceFile",
    ("/v1/invoices/{invoice_id}/history", "get"): "getInvoiceHistory",
    ("/v1/invoices/{invoice_id}/reroute", "post"): "rerouteInvoice",
    ("/v1/invoices/{invoice_id}/status", "post"): "setInvoiceStatus",
    ("/v1/invoices/{invoice_id}/transitions", "get"): "getInvoiceTransitions",
    ("/v1/invoices/{invoice_id}/xml", "get"): "getInvoiceXml",
    ("/v1/schemas/invoice.json", "get"): "getInvoiceJsonSchema",
    ("/v1/structures", "get"): "searchStructures",
    ("/v1/structures/{siret}", "get"): "getStructure",
    ("/v1/subscription-confirmations/{token}", "get"): "getSubscriptionConfirmation",
    ("/v1/subscription-confirmations/{token}", "post"): "confirmSubscription",
    ("/v1/subscriptions", "get"): "listSubscriptions",
    ("/v1/subscriptions", "post"): "createSubscription",
    ("/v1/subscriptions/{subscription_id}", "delete"): "deleteSubscription",
    ("/v1/subscriptions/{subscription_id}", "get"): "getSubscription",
    ("/v1/subscriptions/{subscription_id}/deliveries", "get"): "listSubscriptionDeliveries",
    ("/v1/subscriptions/{subscription_id}/rotate-secret", "post"): "rotateSubscriptionSecret",
    ("/v1/subscriptions/{subscription_id}/test", "post"): "sendSubscriptionTestEvent",
    ("/v1/uploads", "post"): "createUpload",
}


def _operations() -> dict[tuple[str, str], dict]:
    return {(path, method): op for path, item in openapi_document()["paths"].items() for method, op in item.items()}


def _resolved(response: dict) -> dict:
    if "$ref" in response:
        return openapi_document()["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response


def _validator(schema: dict) -> Draft202012Validator:
    root = {**schema, "components": openapi_document()["components"]}
    return Draft202012Validator(root, format_checker=FormatChecker())


def _request_schema(path: str, method: str, media: str = "application/json") -> dict:
    return _operations()[path, method]["requestBody"]["content"][media]["schema"]


# --- F2: operationId ---------------------------------------------------------------------------------------------


def test_every_operation_has_its_fixed_unique_operation_id():
    ids = {key: op.get("operationId") for key, op in _operations().items()}
    assert ids == OPERATION_IDS
    assert len(set(ids.values())) == len(ids)


# --- F3: the gateway's 429 and 504 -------------------------------------------------------------------------------


def test_every_operation_documents_the_gateway_s_throttling_and_timeout_as_problems():
    for key, op in _operations().items():
        for status in ("429", "504"):
            response = _resolved(op["responses"][status])
            assert "application/problem+json" in response["content"], (key, status)
        assert "Retry-After" in _resolved(op["responses"]["429"])["headers"], key
    # the subscription route's own 429 (a confirmation requested, mailed or not) stays, and names the throttling too
    own = _operations()["/v1/subscriptions", "post"]["responses"]["429"]
    assert "mailed" in own["description"] and "throttling" in own["description"]


def test_the_gateway_s_throttled_problem_says_when_to_retry():
    status, body = gateway_problem("THROTTLED")
    assert status == 429 and body["retry_after_seconds"] == THROTTLED_RETRY_AFTER_SECONDS
    assert {s for s, *_ in GATEWAY_PROBLEMS.values()} >= {429, 504}


# --- F4: typed structure pages and admin bodies ------------------------------------------------------------------

SIRET = "81234567800013"
SERVICE = {"code": "SERV-1", "name": "Comptabilité", "active": True, "requires_engagement": False}
STRUCTURE = {
    "siret": SIRET,
    "name": "Atelier",
    "roles": ["supplier", "recipient"],
    "active": True,
    "requires_service_code": True,
    "requires_engagement": False,
    "services": [SERVICE],
}


def test_a_structure_search_page_lists_structures():
    page = _operations()["/v1/structures", "get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert page["properties"]["items"]["items"] == {"$ref": "#/components/schemas/Structure"}


def test_the_admin_bodies_name_every_field_the_code_accepts():
    schemas = openapi_document()["components"]["schemas"]
    assert set(schemas["StructureInput"]["properties"]) == set(STRUCTURE_FIELDS) == set(STRUCTURE)
    assert set(schemas["ServiceInput"]["properties"]) == set(SERVICE_FIELDS) == set(SERVICE)
    assert set(schemas["ImportedStructure"]["properties"]) == {*STRUCTURE_FIELDS, "api_keys"}
    for name in ("StructureInput", "ServiceInput", "ImportedStructure"):
        assert schemas[name]["additionalProperties"] is False  # the code refuses unknown fields (422)


@pytest.mark.parametrize(
    ("path", "method", "body"),
    [
        ("/v1/admin/structures", "post", STRUCTURE),
        ("/v1/admin/structures/{siret}", "patch", STRUCTURE),
        ("/v1/admin/structures/{siret}", "patch", {"active": False}),
        ("/v1/admin/structures/{siret}/services/{code}", "put", SERVICE),
        ("/v1/admin/structures/{siret}/services/{code}", "put", {"name": "Achats"}),
        ("/v1/admin/imports", "post", {"structures": [{**STRUCTURE, "api_keys": ["k" * 16]}, {"siret": SIRET}]}),
    ],
)
def test_the_admin_bodies_accept_what_the_code_accepts(path, method, body):
    assert not list(_validator(_request_schema(path, method)).iter_errors(body))
    existing = structure_from(STRUCTURE, "2026-01-01T00:00:00Z")
    if path.endswith("{code}"):
        service_from({**body, "code": "SERV-1"}, kept={"name": "Comptabilité"})
    elif path.endswith("imports"):
        for entry in body["structures"]:
            structure_from({k: v for k, v in entry.items() if k != "api_keys"}, "2026-01-01T00:00:00Z", existing)
    else:
        structure_from(body, "2026-01-01T00:00:00Z", existing if method == "patch" else None)


@pytest.mark.parametrize("refused", [{"api_keys": ["k" * 16]}, {"updated_at": "2026-01-01T00:00:00Z"}])
def test_the_admin_bodies_refuse_the_fields_the_code_refuses(refused):
    body = {**STRUCTURE, **refused}
    assert list(_validator(_request_schema("/v1/admin/structures", "post")).iter_errors(body))
    with pytest.raises(Unprocessable):
        structure_from(body, "2026-01-01T00:00:00Z")
    assert list(
        _validator(_request_schema("/v1/admin/structures/{siret}/services/{code}", "put")).iter_errors(
            {**SERVICE, "services": []}
        )
    )
    with pytest.raises(Unprocessable):
        service_from({**SERVICE, "services": []})


# --- F5: the Location of every creation --------------------------------------------------------------------------


def test_every_creation_documents_its_location():
    created = {key: op["responses"]["201"] for key, op in _operations().items() if "201" in op["responses"]}
    del created["/v1/admin/structures/{siret}/api-keys", "post"]  # an issued key has no resource to locate
    assert {("/v1/subscriptions", "post"), ("/v1/uploads", "post")} <= set(created)
    for key, response in created.items():
        assert "Location" in response.get("headers", {}), key
