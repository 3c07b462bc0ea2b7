"""The HTTP API (/v1): routes parse the request, call one service function and map the result."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from email.message import Message
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.metrics import MetricUnit
from chalice import AuthResponse, Blueprint, ChaliceUnhandledError, ChaliceViewError, Response

from ..config import settings
from ..domain.directory import Principal
from ..domain.invoice import Attachment
from ..domain.statuses import STATUSES
from ..formats import jsontext
from ..formats.sniffing import media_type
from ..services import deposit, lifecycle, queries, search
from ..services.authentication import (
    authenticate,
    is_administrator_key,
    require_active,
    require_current_administrator,
    require_structure,
)
from ..services.directory import ADMIN
from ..services.errors import (
    InvalidInput,
    ServiceError,
    UnsupportedMediaType,
    known_parameters,
    refuse_unknown_fields,
)
from . import dependencies as deps
from .links import api_path, request_instance, stage_prefix
from .media import ATTACHMENT_MEDIA_TYPES, OCTET_STREAM
from .middleware import request_id_of
from .observability import metrics, tracer
from .openapi import openapi_document
from .problems import from_service_error
from .representations import attachment_resource, history_entry, invoice_resource, upload_resource

api = Blueprint(__name__)


@api.authorizer(ttl_seconds=60)
def api_key_authorizer(auth_request):
    """API Gateway authorizer: the bearer key's structure becomes the principal, or the call is refused."""
    if is_administrator_key(auth_request.token, settings().admin_key_hashes):
        return AuthResponse(routes=["*"], principal_id=ADMIN, context={"name": "administrator", "roles": ADMIN})
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


def active_caller() -> Principal:
    """The caller of a write, re-authenticated from its key (services.authentication.require_active)."""
    return require_active(caller(), deps.directory(), api.current_request.headers.get("authorization"))


def active_administrator() -> Principal:
    """The caller of an administration write, its key re-checked against the configured administrators' keys
    (services.authentication.require_current_administrator)."""
    authorization = api.current_request.headers.get("authorization")
    return require_current_administrator(caller(), authorization, settings().admin_key_hashes)


# (path, method) of the routes that act for the caller's structure (an administrator key gets a 403): OpenAPI
STRUCTURE_ROUTES: set[tuple[str, str]] = set()


BODYLESS_METHODS = {"GET", "DELETE", "HEAD"}


def decoded_path_parameters(request, parameters: dict[str, str]) -> dict[str, str]:
    """The view's path parameters percent-decoded once, and the request's with them (a problem's `instance` quotes
    them again). API Gateway REST, like Chalice's local gateway, hands them over as the client encoded them
    (chalice#511): `services/SERV-TECH%20` would otherwise name a service `SERV-TECH%20`."""
    decoded = {}
    for name, value in parameters.items():
        try:
            decoded[name] = unquote(value, errors="strict")
        except UnicodeDecodeError:
            decoded[name] = unquote(value, errors="replace")  # the problem's `instance` quotes it once
            _update_uri_params(request, decoded)
            raise InvalidInput(f"The path parameter {name!r} is not percent-encoded UTF-8.") from None
    _update_uri_params(request, decoded)
    return decoded


def _update_uri_params(request, decoded: dict[str, str]) -> None:
    uri_params = getattr(request, "uri_params", None)
    if isinstance(uri_params, dict):
        uri_params.update(decoded)


def route(
    path: str,
    methods: tuple[str, ...] = ("GET",),
    public: bool = False,
    blueprint: Blueprint = api,
    admin_keys: bool = False,
    **options,
):
    """Register a view on `blueprint` that turns service refusals into problem+json responses. A view acts for the
    caller's structure, so an administrator key (no structure) gets a 403, unless `admin_keys` (directory routes)."""

    def register(view):
        if not (public or admin_keys):
            STRUCTURE_ROUTES.update((path, method.lower()) for method in methods)

        @functools.wraps(view)
        def handle(*args, **kwargs):
            try:
                kwargs = decoded_path_parameters(blueprint.current_request, kwargs)
                if not (public or admin_keys):
                    require_structure(caller())
                return view(*args, **kwargs)
            except ServiceError as error:
                return from_service_error(error, instance=request_instance(blueprint.current_request))
            except ChaliceViewError:
                raise
            except (
                Exception
            ) as error:  # Chalice would answer its own bare 500; the middleware (problem_details) maps it
                raise ChaliceUnhandledError(type(error).__name__) from error

        authorizer = None if public else api_key_authorizer
        if set(methods) <= BODYLESS_METHODS:  # no body to type: a client's stray Content-Type is no 415
            options.setdefault("content_types", ["*/*"])
        return blueprint.route(path, methods=list(methods), authorizer=authorizer, **options)(handle)

    return register


def json_body() -> dict:
    """The request's JSON object; 415 for another media type, 400 for malformed JSON."""
    request = api.current_request
    if media_type(request.headers.get("content-type")) != "application/json":
        raise UnsupportedMediaType(
            "Send a JSON object with Content-Type: application/json.", accepted=["application/json"]
        )
    try:
        body = jsontext.loads(request.raw_body or b"")
    except jsontext.MalformedJson as exc:  # malformed, not UTF-8, or nested too deeply: 400, never a 500
        raise InvalidInput(exc.detail) from None
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object.")
    return body


IDEMPOTENCY_KEY_MAX = 255


def _encodable(text: str) -> bool:
    """Whether the text is Unicode a digest can be taken of (a lone surrogate is not: a 400, never a 500)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def idempotency_key() -> str | None:
    """The request's Idempotency-Key, or None without one. A key sent empty (or blank) or longer than the documented
    255 characters is a 400: it would protect nothing (a blank key was taken for no key) or be a client's bug."""
    key = api.current_request.headers.get("idempotency-key")
    if key is None:
        return None
    if not key.strip() or len(key) > IDEMPOTENCY_KEY_MAX or not _encodable(key):
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} characters, not blank: send a new unique key per "
            "request you may retry, or no header at all."
        )
    return key


def query_params(accepted: tuple[str, ...]) -> dict[str, str]:
    """A listing's query parameters, one value each; 400 for one it does not accept or one given twice."""
    given = api.current_request.query_params  # a MultiDict: [] keeps only the last value of a repeated name
    return known_parameters({name: given.getlist(name) for name in given} if given else {}, accepted)


def public_base_url() -> str:
    """The API's public address, for links that leave the API (e-mails): PUBLIC_BASE_URL when set, else API
    Gateway's own domain and stage (never a client's Host header, which could point a mailed link elsewhere);
    the local stack, which has no API Gateway, answers on its Host."""
    if settings().public_base_url:
        return settings().public_base_url
    request = api.current_request
    domain = request.context.get("domainName")
    if domain:
        return f"https://{domain}{stage_prefix(request.context)}"
    return f"http://{request.headers.get('host', '127.0.0.1:8000')}"


# A structure's invoices, subscriptions (webhook URLs often hold a token) or a just-issued API key: no browser,
# proxy or console cache may keep them.
PRIVATE = {"Cache-Control": "no-store"}


def json_response(body, status: int = 200, headers: dict | None = None, *, private: bool = True) -> Response:
    """A JSON answer, `Cache-Control: no-store` unless it is public (or `headers` set their own)."""
    return Response(
        body=json.dumps(body, ensure_ascii=False),
        status_code=status,
        headers={"Content-Type": "application/json", **(PRIVATE if private else {}), **(headers or {})},
    )


@route("/v1/health", public=True)
def health():
    return json_response({"status": "ok"}, private=False)


@route("/openapi.json", public=True)
def openapi():
    # servers: the API's root as this client reaches it (under the stage on API Gateway's own domain), without a
    # trailing slash: clients append each path to it ("/api/" + "/v1/..." is a "//" no route answers)
    return json_response({**openapi_document(), "servers": [{"url": api_path("") or "/"}]}, private=False)


def _count_deposit(invoice) -> None:
    metrics.add_metric(name="InvoicesDeposited", unit=MetricUnit.Count, value=1)
    metrics.add_metadata(key="invoice_id", value=invoice.id)
    # the line joins the invoice to its request (the logs' correlation_id, a problem's request_id): no new line
    request_id = request_id_of(api.current_request)
    if request_id:
        metrics.add_metadata(key="request_id", value=request_id)


@route("/v1/invoices", methods=("POST",), content_types=["*/*"])
def deposit_invoice():
    principal = active_caller()
    request = api.current_request
    invoice = deposit.deposit_invoice(
        principal,
        request.raw_body or b"",
        request.headers.get("content-type"),
        invoices=deps.invoices(),
        originals=deps.originals(),
        max_bytes=settings().max_sync_bytes,
        idempotency_key=idempotency_key(),
        on_new=_count_deposit,
    )
    tracer.put_annotation("invoice_id", invoice.id)  # X-Ray: one invoice a request, on the handler's subsegment
    return json_response(invoice_resource(invoice, invoice.supplier_siret), 202,
                         {"Location": api_path(f"/v1/invoices/{invoice.id}")})  # fmt: skip


@route("/v1/invoices/{invoice_id}")
def get_invoice(invoice_id: str):
    principal = caller()
    invoice = queries.visible_invoice(principal, invoice_id, invoices=deps.invoices())
    active = queries.recipient_active(invoice, directory=deps.directory())
    return json_response(invoice_resource(invoice, principal.siret, recipient_active=active))


@route("/v1/invoices/{invoice_id}/history")
def get_invoice_history(invoice_id: str):
    entries = queries.visible_history(caller(), invoice_id, invoices=deps.invoices())
    return json_response({"invoice_id": invoice_id, "history": [history_entry(h, n) for n, h in entries]})


@route("/v1/invoices/{invoice_id}/file")
def get_invoice_file(invoice_id: str):
    url = queries.original_download_url(caller(), invoice_id, invoices=deps.invoices(), originals=deps.originals())
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store"})


def built_once(key: Callable[[Any], str], build: Callable[[Any], dict]) -> Callable[[Any], dict]:
    """`build` remembered by `key`, for one request: a listing measures each item's resource for its byte budget,
    then answers with the same resources."""
    built: dict[str, dict] = {}

    def resource(item) -> dict:
        k = key(item)
        if k not in built:
            built[k] = build(item)
        return built[k]

    return resource


def answer_bytes(item: dict) -> int:
    """An item's bytes in a listing's Lambda answer: its JSON as json_response writes it, escaped again as the proxy
    envelope's body string (a quote or a non-ASCII character then takes several bytes), and its ", "."""
    return len(json.dumps(json.dumps(item, ensure_ascii=False))) + 2


@route("/v1/invoices")
def search_invoices():
    principal = caller()
    resource = built_once(lambda invoice: invoice.id, lambda invoice: invoice_resource(invoice, principal.siret))
    page, cursor = search.search_invoices(
        principal,
        query_params(search.PARAMETERS),
        invoices=deps.invoices(),
        item_bytes=lambda invoice: answer_bytes(resource(invoice)),
    )
    return json_response({"items": [resource(i) for i in page], "next_cursor": cursor})


@route("/v1/invoices/{invoice_id}/transitions")
def get_invoice_transitions(invoice_id: str):
    invoice, allowed = lifecycle.next_statuses(caller(), invoice_id, invoices=deps.invoices())
    return json_response(
        {
            "invoice_id": invoice.id,
            "current": invoice.status.as_dict() if invoice.status else None,
            "allowed": [
                {**STATUSES[n.code].as_dict(), "reason_required": n.reason_required, "reasons": list(n.reasons)}
                for n in allowed
            ],
        }
    )


@route("/v1/invoices/{invoice_id}/status", methods=("POST",), content_types=["*/*"])
def set_invoice_status(invoice_id: str):
    principal = active_caller()
    invoice = lifecycle.change_status(
        principal, invoice_id, json_body(), invoices=deps.invoices(), idempotency_key=idempotency_key()
    )
    return json_response(invoice_resource(invoice, principal.siret))


@route("/v1/invoices/{invoice_id}/reroute", methods=("POST",), content_types=["*/*"])
def reroute_invoice(invoice_id: str):
    principal = active_caller()
    body = json_body()
    invoice = lifecycle.reroute(
        principal,
        invoice_id,
        body,
        invoices=deps.invoices(),
        directory=deps.directory(),
        idempotency_key=idempotency_key(),
    )
    return json_response(invoice_resource(invoice, principal.siret))


def _attachment_name() -> str | None:
    """The name in Content-Disposition (RFC 6266: a quoted name may hold ';'), else the `name` query parameter.
    filename* (RFC 5987: the name's bytes in a declared charset) wins over filename, the ASCII fallback senders put
    beside it (§4.3; Chorale's own downloads send both): Message.get_filename() takes the plain one. A filename* that
    names nothing usable (blank, or bytes not valid in its charset) is ignored, as §4.3 allows, for the next name
    given; it is refused only when no other name is given, rather than stored with U+FFFD."""
    request = api.current_request
    disposition = request.headers.get("content-disposition") or ""
    undecodable = None
    candidates: list[str | None] = []
    if disposition:
        header = Message()
        header["content-disposition"] = disposition
        names = [v for k, v in header.get_params([], header="content-disposition") if k.lower() == "filename"]
        extended = next((v for v in names if isinstance(v, tuple)), None)  # filename*, parsed by email.utils
        if extended is not None:
            try:
                candidates.append(_extended_name(*extended))
            except InvalidInput as refusal:
                undecodable = refusal
        candidates.append(next((v for v in names if isinstance(v, str)), None))
    candidates.append((request.query_params or {}).get("name"))
    name = next((c for c in candidates if c is not None and c.strip()), None)
    if name is None and undecodable is not None:
        raise undecodable
    return name


def _extended_name(charset: str | None, _language: str | None, text: str) -> str:
    """A filename* value decoded strictly in its declared charset: bytes not valid in it are refused, not shown to
    the other party as U+FFFD (Message.get_filename() decodes with errors="replace"). With no charset, or one Python
    does not know, only ASCII bytes are read: they are the same in every charset a sender would use."""
    try:
        raw = text.encode("latin-1")  # email.utils percent-decodes to one character per byte; raw text may hold more
        return raw.decode(charset or "ascii")
    except LookupError:
        if raw.isascii():
            return raw.decode("ascii")
    except UnicodeError:
        pass
    raise InvalidInput(
        f"The attachment's filename* is not a name in a charset it declares ({charset or 'none declared'}): "
        "send filename*=UTF-8''<the name's UTF-8 bytes, percent-encoded>, or the name in ?name=<name>."
    )


def _attachment_created(invoice_id: str, attachment: Attachment) -> Response:
    return json_response(
        attachment_resource(invoice_id, attachment),
        201,
        {"Location": api_path(f"/v1/invoices/{invoice_id}/attachments/{attachment.id}")},
    )


@route("/v1/invoices/{invoice_id}/attachments", methods=("POST",), content_types=["*/*"])
def add_invoice_attachment(invoice_id: str):
    principal = active_caller()
    request = api.current_request
    deps.idempotency().register_lambda_context(api.lambda_context)
    media = media_type(request.headers.get("content-type"))
    if media not in ATTACHMENT_MEDIA_TYPES:  # another type would not reach the Lambda intact through API Gateway
        raise UnsupportedMediaType(
            f"Content-Type {media or '(none)'!r} is not accepted here: send the file's bytes with Content-Type: "
            f"{OCTET_STREAM} (the content is checked against the file name's extension).",
            accepted=list(ATTACHMENT_MEDIA_TYPES),
        )
    invoice, attachment = lifecycle.add_attachment(
        principal,
        invoice_id,
        _attachment_name(),
        request.raw_body or b"",
        invoices=deps.invoices(),
        originals=deps.originals(),
        max_bytes=settings().max_sync_bytes,
        upload_route=api_path(f"/v1/invoices/{invoice_id}/attachments/uploads"),
        idempotency=deps.idempotency(),
        idempotency_key=idempotency_key(),
    )
    return _attachment_created(invoice.id, attachment)


@route("/v1/invoices/{invoice_id}/attachments/uploads", methods=("POST",), content_types=["*/*"])
def create_invoice_attachment_upload(invoice_id: str):
    principal = active_caller()  # completion re-checks: an older ticket attaches nothing
    body = json_body()
    refuse_unknown_fields(body, ("name", "sha256"), "an attachment upload")
    upload = lifecycle.create_attachment_upload(
        principal,
        invoice_id,
        body.get("name"),
        invoices=deps.invoices(),
        signer=deps.upload_signer(),
        expires_in=settings().upload_url_seconds,
        sha256=body.get("sha256"),
    )
    complete = api_path(f"/v1/invoices/{invoice_id}/attachments/uploads/{upload.upload_id}")
    return json_response(upload_resource(upload, {"complete": complete}), 201, {"Location": complete})


@route("/v1/invoices/{invoice_id}/attachments/uploads/{upload_id}", methods=("POST",), content_types=["*/*"])
def complete_invoice_attachment_upload(invoice_id: str, upload_id: str):
    principal = active_caller()
    invoice, attachment = lifecycle.complete_attachment_upload(
        principal, invoice_id, upload_id, invoices=deps.invoices(), originals=deps.originals()
    )
    return _attachment_created(invoice.id, attachment)


@route("/v1/invoices/{invoice_id}/attachments/{attachment_id}")
def get_invoice_attachment(invoice_id: str, attachment_id: str):
    url = lifecycle.attachment_download_url(
        caller(), invoice_id, attachment_id, invoices=deps.invoices(), originals=deps.originals()
    )
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store"})
