"""RFC 9457 problem details: every error the API returns."""

from __future__ import annotations

import json
from http import HTTPStatus

from chalice import Response

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
