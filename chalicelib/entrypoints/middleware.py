"""HTTP middleware: Chalice's own error bodies become problem+json; no request dies as a bare 500, and a passing
AWS failure (throttling, a timeout) is a 503 a client retries, not a 500 it takes for a bug."""

from __future__ import annotations

import json

from ..adapters.aws_failures import describe, temporary_failure
from .links import request_instance
from .observability import logger
from .problems import PROBLEM_JSON, UNAVAILABLE_RETRY_AFTER_SECONDS, from_chalice_error, problem


def _instance(event) -> str | None:
    try:
        return request_instance(event)
    except Exception:  # noqa: BLE001 - an instance is a courtesy; never fail the answer over it
        return None


def request_id_of(event) -> str | None:
    """API Gateway's id of the request (its x-amzn-RequestId, and the logs' correlation_id); None locally."""
    context = getattr(event, "context", None)
    return context.get("requestId") if isinstance(context, dict) else None


def _with_request_id(response, request_id: str | None):
    """A problem names its request, so that a client reporting it leads ops to its log lines."""
    if not request_id or response.headers.get("Content-Type") != PROBLEM_JSON:
        return response
    try:
        body = json.loads(response.body)
    except (TypeError, ValueError):
        return response
    response.body = json.dumps({**body, "request_id": request_id}, ensure_ascii=False)
    return response


def _takes_idempotency_key(event) -> bool:
    from .openapi import openapi_document  # the routes' documented parameters, one source for both

    path, method = getattr(event, "path", None), str(getattr(event, "method", "")).lower()
    operation = openapi_document()["paths"].get(path, {}).get(method, {})
    return any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", ()))


def _unavailable(event, request_id: str | None):
    headers = getattr(event, "headers", None) or {}
    wait = UNAVAILABLE_RETRY_AFTER_SECONDS
    detail = "A service the platform relies on is busy or did not answer in time; the request itself is fine. "
    if headers.get("idempotency-key"):
        detail += f"Retry it after {wait} s with the same Idempotency-Key, so that it is not done twice."
    elif _takes_idempotency_key(event):
        detail += f"Retry it after {wait} s (with an Idempotency-Key, a retry with the same key is not done twice)."
    else:
        detail += f"Retry it after {wait} s."
    return problem(
        503,
        detail=detail,
        headers={"Retry-After": str(wait)},
        instance=_instance(event),
        retry_after_seconds=wait,
        request_id=request_id,
    )


def problem_details(event, get_response):
    request_id = request_id_of(event)
    try:
        response = get_response(event)
    except Exception as error:  # a view that escaped every mapping: log it, answer a problem, never a stack trace
        failure = temporary_failure(error)
        if failure is not None:  # an outage, not a bug: no stack trace for each throttled request
            logger.warning("AWS temporarily unavailable on %s: %s", getattr(event, "path", "?"), describe(failure))
            return _unavailable(event, request_id)
        logger.exception("unhandled error on %s", getattr(event, "path", "?"))
        detail = "An internal error occurred; it has been logged" + (
            f" under request_id {request_id}." if request_id else "."
        )
        return problem(500, detail=detail, instance=_instance(event), request_id=request_id)
    if response.status_code >= 400:
        return _with_request_id(from_chalice_error(response, _instance(event)), request_id)
    return response
