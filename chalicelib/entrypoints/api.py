"""The HTTP API (/v1): routes parse the request, call one service function and map the result."""

from __future__ import annotations

import functools
import json

from chalice import AuthResponse, Blueprint, Response

from ..config import settings
from ..domain.directory import Principal
from ..services import deposit, queries
from ..services.authentication import authenticate
from ..services.errors import ServiceError
from . import dependencies as deps
from .openapi import openapi_document
from .problems import from_service_error
from .representations import history_entry, invoice_resource

api = Blueprint(__name__)


@api.authorizer(ttl_seconds=60)
def api_key_authorizer(auth_request):
    """API Gateway authorizer: the bearer key's structure becomes the principal, or the call is refused."""
    principal = authenticate(auth_request.token, deps.directory())
    if principal is None:
        return AuthResponse(routes=[], principal_id="anonymous")
    return AuthResponse(
        routes=["*"],
        principal_id=principal.siret,
        context={"name": principal.name, "roles": ",".join(principal.roles)},
    )


def caller() -> Principal:
    context = api.current_request.context.get("authorizer") or {}
    roles = tuple(r for r in context.get("roles", "").split(",") if r)
    return Principal(context["principalId"], context.get("name", ""), roles)  # type: ignore[arg-type]


def route(path: str, methods: tuple[str, ...] = ("GET",), public: bool = False, **options):
    """Register a view that turns service refusals into problem+json responses."""

    def register(view):
        @functools.wraps(view)
        def handle(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except ServiceError as error:
                return from_service_error(error, instance=api.current_request.path)

        return api.route(path, methods=list(methods), authorizer=None if public else api_key_authorizer, **options)(
            handle
        )

    return register


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        body=json.dumps(body, ensure_ascii=False),
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


@route("/v1/health", public=True)
def health():
    return json_response({"status": "ok"})


@route("/openapi.json", public=True)
def openapi():
    return json_response(openapi_document())


@route("/v1/invoices", methods=("POST",), content_types=["*/*"])
def deposit_invoice():
    request = api.current_request
    deps.idempotency().register_lambda_context(api.lambda_context)
    invoice = deposit.deposit_invoice(
        caller(),
        request.raw_body or b"",
        request.headers.get("content-type"),
        invoices=deps.invoices(),
        originals=deps.originals(),
        max_bytes=settings().max_sync_bytes,
        idempotency=deps.idempotency(),
        idempotency_key=request.headers.get("idempotency-key"),
    )
    return json_response(invoice_resource(invoice), 202, {"Location": f"/v1/invoices/{invoice.id}"})


@route("/v1/invoices/{invoice_id}")
def get_invoice(invoice_id: str):
    return json_response(invoice_resource(queries.visible_invoice(caller(), invoice_id, invoices=deps.invoices())))


@route("/v1/invoices/{invoice_id}/history")
def get_invoice_history(invoice_id: str):
    invoice = queries.visible_invoice(caller(), invoice_id, invoices=deps.invoices())
    return json_response({"invoice_id": invoice.id, "history": [history_entry(h) for h in invoice.history]})


@route("/v1/invoices/{invoice_id}/file")
def get_invoice_file(invoice_id: str):
    url = queries.original_download_url(caller(), invoice_id, invoices=deps.invoices(), originals=deps.originals())
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store"})
