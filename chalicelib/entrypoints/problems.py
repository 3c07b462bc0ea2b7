"""RFC 9457 problem details: every error the API returns."""

from __future__ import annotations

import json
from http import HTTPStatus

from chalice import Response

from ..formats import sniffing
from ..services import errors

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://chorale.dev/problems/"

STATUS_BY_ERROR: list[tuple[type[errors.ServiceError], int]] = [
    (errors.ConcurrentUpdate, 409),
    (errors.Conflict, 409),
    (errors.InvalidInput, 400),
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.PayloadTooLarge, 413),
    (errors.UnsupportedMediaType, 415),
    (errors.Unprocessable, 422),
    (errors.TooManyRequests, 429),
]


_STRINGS = {"type": "array", "items": {"type": "string"}}
_COUNT = {"type": "integer", "minimum": 0}
_BOUNDED = (
    f": at most {errors.MAX_UNKNOWN_FIELDS_LISTED}, each cut to {errors.MAX_FIELD_NAME_SHOWN} characters ('…' "
    "ending a cut one)"
)
_COUNTED = ": present only when the list is not all of them as given (some left out or cut)"

# Every member a problem may carry beyond RFC 9457's own (type, title, status, detail, instance), with its JSON
# Schema: the OpenAPI Problem schema declares them from here, and a test checks that each keyword a refusal is raised
# with in chalicelib is listed. A member is present only when it applies (None is never sent).
EXTENSION_MEMBERS: dict[str, dict] = {
    "request_id": {"type": "string", "description": "API Gateway's id of the request: quote it when reporting"},
    "retry_after_seconds": {
        "type": "integer",
        "minimum": 1,
        "description": "Seconds to wait before retrying (as the Retry-After header): 429, 503 and a 409 'Request "
        "in progress'",
    },
    "truncated": {
        "type": "boolean",
        "description": "true when the problem was too large to send whole: its detail is cut and its larger "
        "members left out",
    },
    "reason": {
        "type": "string",
        "description": "A machine-readable code of why the request was refused, for a client to branch on "
        "(e.g. schema, malformed-json, too-large, too_many_files, unreadable, too_many_services, too_many_attachments, "
        "record_full, structure_full)",
    },
    "reason_code": {
        "type": "string",
        "description": "A re-route refused by the directory: the routing failure's reason code",
    },
    "errors": {
        "type": "array",
        "description": "A JSON invoice that does not match its schema (GET /v1/schemas/invoice.json): every error",
        "items": {
            "type": "object",
            "properties": {
                "pointer": {"type": "string", "description": "JSON Pointer to the value in error ('' the root)"},
                "message": {"type": "string"},
                "keyword": {"type": "string", "description": "The JSON Schema keyword that failed"},
            },
        },
    },
    "allowed": {
        "type": "array",
        "items": {"type": "integer"},
        "description": "A status change refused from the current status: the statuses that may follow it",
    },
    "accepted": {**_STRINGS, "description": "The accepted media types, or the accepted query parameters"},
    "declared": {"type": "string", "description": "The media type the Content-Type declared"},
    "found": {"enum": sorted(sniffing.DESCRIPTIONS), "description": "What the body is, found by its content"},
    "field": {"type": "string", "description": "The request body's field refused"},
    "key": {"type": "string", "description": "The stored object that is in the deep archive"},
    "upload": {"type": "string", "description": "The route to upload a file over the request body's limit"},
    "limit_bytes": {**_COUNT, "description": "The size limit that was exceeded, in bytes"},
    "rendition_bytes": {**_COUNT, "description": "The size of a JSON invoice's UBL rendition, in bytes"},
    "limit_attachments": {**_COUNT, "description": "How many attachments an invoice takes at most"},
    "files": {**_COUNT, "description": "How many files the archive holds"},
    "max_files": {**_COUNT, "description": "How many files an archive takes at most"},
    "rows": {**_COUNT, "description": "How many structures the import holds"},
    "max_rows": {**_COUNT, "description": "How many structures an import takes at most"},
    "services": {**_COUNT, "description": "How many services the structure would have"},
    "max_services": {**_COUNT, "description": "How many services a structure has at most"},
    "sirets": {**_STRINGS, "description": "The structures whose record would be over the store's size limit"},
    "taken_keys": {
        "type": "array",
        "description": "An import's API keys that belong to another structure: the row and that structure",
        "items": {"type": "object", "properties": {"row": {"type": "string"}, "siret": {"type": "string"}}},
    },
    "duplicates": {
        "type": "array",
        "description": "An import's repeated SIRETs (or API keys, without the key): the value and its rows",
        "items": {"type": "object", "properties": {"siret": {"type": "string"}, "rows": _STRINGS}},
    },
    "repeated_columns": {**_STRINGS, "description": "A CSV import's columns its header names more than once"},
    "repeated_service_codes": {**_STRINGS, "description": "The service codes a structure's 'services' repeats"},
    "unknown_fields": {**_STRINGS, "description": f"The request body's unknown or read-only fields{_BOUNDED}"},
    "unknown_fields_count": {**_COUNT, "description": f"How many unknown fields there were{_COUNTED}"},
    "unknown_parameters": {**_STRINGS, "description": f"The unknown query parameters{_BOUNDED}"},
    "unknown_parameters_count": {**_COUNT, "description": f"How many unknown query parameters there were{_COUNTED}"},
    "repeated_parameters": {**_STRINGS, "description": "The query parameters given more than once"},
}


def problem_body(status: int, title: str | None = None, detail: str | None = None, **extra) -> dict:
    slug = HTTPStatus(status).phrase.lower().replace(" ", "-")
    body = {"type": f"{TYPE_BASE}{slug}", "title": title or HTTPStatus(status).phrase, "status": status}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


# The last guard on what a refusal echoes of its request: Lambda cannot return more than 6 MB, and an answer over it
# is API Gateway's 502. A problem over this size keeps its detail's start and its small members only.
MAX_PROBLEM_BYTES = 256 * 1024
_KEPT_MEMBER_BYTES = 2048
_KEPT_DETAIL_CHARACTERS = 2000


def problem(status: int, title: str | None = None, detail: str | None = None, headers=None, **extra) -> Response:
    body = json.dumps(problem_body(status, title, detail, **extra), ensure_ascii=False)
    if len(body) > MAX_PROBLEM_BYTES // 4 and len(body.encode()) > MAX_PROBLEM_BYTES:
        if detail and len(detail) > _KEPT_DETAIL_CHARACTERS:
            detail = detail[: _KEPT_DETAIL_CHARACTERS - 1] + "…"
        small = {k: v for k, v in extra.items() if len(json.dumps(v, ensure_ascii=False)) <= _KEPT_MEMBER_BYTES}
        body = json.dumps(problem_body(status, title, detail, **small, truncated=True), ensure_ascii=False)
    # Never stored: a refusal can be about a private resource, and a cached one would outlive its cause.
    headers = {"Content-Type": PROBLEM_JSON, "Cache-Control": "no-store", **(headers or {})}
    return Response(body=body, status_code=status, headers=headers)


def from_service_error(error: errors.ServiceError, instance: str | None = None) -> Response:
    status = next(code for kind, code in STATUS_BY_ERROR if isinstance(error, kind))
    retry_after = error.extra.get("retry_after_seconds")  # also as the standard header (RFC 9110 §10.2.3)
    headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else None
    return problem(status, error.title, error.detail, headers=headers, instance=instance, **error.extra)


def from_chalice_error(response: Response, instance: str | None = None) -> Response:
    """Chalice's own errors ({"Code", "Message"}: bad JSON, 405, 415…) as problem details."""
    body = response.body
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body)
        except ValueError:
            return response
    if not (isinstance(body, dict) and "Code" in body and "Message" in body):
        return response
    status = response.status_code
    detail = body["Message"] if status < 500 else "An internal error occurred; it has been logged."
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
    return problem(status, detail=detail, headers=headers, instance=instance)


# A 503's Retry-After. The request already spent botocore's own retries (adapters.aws: 4 attempts, a throttle's
# jittered backoff about 3.5 s in all on average): what outlasted them eases within seconds, not minutes. Two
# seconds spreads the clients' retries without making one wait long; a client's own backoff comes on top when it
# fails again.
UNAVAILABLE_RETRY_AFTER_SECONDS = 2
# A throttled request's Retry-After: API Gateway's token bucket refills its rate every second.
THROTTLED_RETRY_AFTER_SECONDS = 1

# Errors produced by the API gateway itself (before any route runs). Infra maps API Gateway's
# gateway responses with this table; the local stack rewrites chalice local's errors with it.
GATEWAY_PROBLEMS: dict[str, tuple[int, str, str]] = {
    "UNAUTHORIZED": (401, "Authentication required", "Send your API key as 'Authorization: Bearer <key>'."),
    "ACCESS_DENIED": (401, "Authentication required", "The API key is unknown, revoked or its structure inactive."),
    "MISSING_AUTHENTICATION_TOKEN": (404, "Not found", "No such route. See /openapi.json for the API."),
    "REQUEST_TOO_LARGE": (413, "Payload too large", "Bodies over 10 MB: use the upload route (POST /v1/uploads)."),
    "THROTTLED": (429, "Too many requests", "Request rate over the limit: retry with backoff."),
    "DEFAULT_4XX": (400, "Bad request", "The request was refused by the API gateway."),
    # API Gateway's own 29 s limit: without its own response it would be a DEFAULT_5XX, a 502 that hides the timeout
    "INTEGRATION_TIMEOUT": (
        504,
        "Gateway timeout",
        "The request took longer than the API gateway's 29 s: retry it "
        "(with the same Idempotency-Key where the route takes one, so it is not done twice).",
    ),
    # The API key authorizer failed (DynamoDB throttling it at the peak, a timeout): the key was not judged, so a
    # retry is what the client should do, not a 502 it may take for a bug. A 503 carries Retry-After (infra).
    "AUTHORIZER_FAILURE": (
        503,
        "Service Unavailable",
        "The API key could not be checked just now: retry after the Retry-After delay "
        "(with the same Idempotency-Key where the route takes one).",
    ),
    "AUTHORIZER_CONFIGURATION_ERROR": (
        503,
        "Service Unavailable",
        "The API key could not be checked just now: retry after the Retry-After delay "
        "(with the same Idempotency-Key where the route takes one).",
    ),
    "DEFAULT_5XX": (502, "Bad gateway", "The API gateway could not complete the request."),
}


# The gateway's answers a client retries after a delay: infra sends it as Retry-After and retry_after_seconds.
GATEWAY_RETRY_AFTER_SECONDS = {
    "THROTTLED": THROTTLED_RETRY_AFTER_SECONDS,
    "AUTHORIZER_FAILURE": UNAVAILABLE_RETRY_AFTER_SECONDS,
    "AUTHORIZER_CONFIGURATION_ERROR": UNAVAILABLE_RETRY_AFTER_SECONDS,
}


def gateway_problem(kind: str) -> tuple[int, dict]:
    status, title, detail = GATEWAY_PROBLEMS[kind]
    return status, problem_body(status, title, detail, retry_after_seconds=GATEWAY_RETRY_AFTER_SECONDS.get(kind))
