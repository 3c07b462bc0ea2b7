"""OpenAPI parameters shared by the modules that describe routes (no import of them: openapi.py imports those)."""

from __future__ import annotations

# A client's retry key; each route says what a replay returns (idempotency_key_parameter).
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    # 1 to 255 characters, not blank (a 400 otherwise): api.idempotency_key
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "\\S"},
}


def idempotency_key_parameter(description: str) -> dict:
    """The Idempotency-Key header of a route that takes one, with what its replay returns."""
    return {**_IDEMPOTENCY_KEY, "description": description}


# What every listing refuses of its query (services/errors.known_parameters), for its 400's description.
QUERY_REFUSALS = (
    "a query parameter the listing does not take (unknown_parameters, at most 20, with unknown_parameters_count when "
    "there were more, and accepted: the ones it takes), or one given more than once (repeated_parameters). A "
    "cache-buster `_` (`_=<ms>`, as jQuery or axios add) is ignored by every listing"
)
# The 400 of a listing that takes no query parameter (its own subscriptions, deliveries, keys...)
NO_QUERY_PARAMETERS = f"It takes no query parameter: {QUERY_REFUSALS}"
