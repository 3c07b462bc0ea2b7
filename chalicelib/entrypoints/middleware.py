"""HTTP middleware: Chalice's own error bodies become problem+json; no request dies as a bare 500."""

from __future__ import annotations

from .links import request_instance
from .observability import logger
from .problems import from_chalice_error, problem


def _instance(event) -> str | None:
    try:
        return request_instance(event)
    except Exception:  # noqa: BLE001 - an instance is a courtesy; never fail the answer over it
        return None


def problem_details(event, get_response):
    try:
        response = get_response(event)
    except Exception:  # a view that escaped every mapping: log it, answer a problem, never a stack trace
        logger.exception("unhandled error on %s", getattr(event, "path", "?"))
        return problem(500, detail="An internal error occurred; it has been logged.", instance=_instance(event))
    if response.status_code >= 400:
        return from_chalice_error(response, _instance(event))
    return response
