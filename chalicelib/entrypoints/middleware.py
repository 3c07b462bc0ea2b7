"""HTTP middleware: Chalice's own error bodies become problem+json; no request dies as a bare 500."""

from __future__ import annotations

import json

from .links import request_instance
from .observability import logger
from .problems import PROBLEM_JSON, from_chalice_error, problem


def _instance(event) -> str | None:
    try:
        return request_instance(event)
    except Exception:  # noqa: BLE001 - an instance is a courtesy; never fail the answer over it
        return None


def _request_id(event) -> str | None:
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


def problem_details(event, get_response):
    request_id = _request_id(event)
    try:
        response = get_response(event)
    except Exception:  # a view that escaped every mapping: log it, answer a problem, never a stack trace
        logger.exception("unhandled error on %s", getattr(event, "path", "?"))
        detail = "An internal error occurred; it has been logged" + (
            f" under request_id {request_id}." if request_id else "."
        )
        return problem(500, detail=detail, instance=_instance(event), request_id=request_id)
    if response.status_code >= 400:
        return _with_request_id(from_chalice_error(response, _instance(event)), request_id)
    return response
