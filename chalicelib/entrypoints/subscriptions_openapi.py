"""OpenAPI paths of the subscriptions API (a group of openapi._path_groups()). No imports of the API modules."""

from __future__ import annotations

from ..domain.directory import MAX_SERVICE_CODE_CHARACTERS
from ..domain.statuses import STATUSES
from ..domain.subscriptions import MAX_FILTER_SERVICE_CODES
from .openapi_parameters import NO_QUERY_PARAMETERS, idempotency_key_parameter


def _problem(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ID = {"name": "subscription_id", "in": "path", "required": True, "schema": {"type": "string"}}
_ERRORS = {
    "401": _problem("Missing, unknown or revoked API key, or its structure inactive"),
    "404": _problem("No such subscription of yours"),
}
_NO_PARAMETERS = _problem(NO_QUERY_PARAMETERS)
_FILTER = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "status_codes": {
            "type": ["array", "null"],
            "items": {"type": "integer", "enum": sorted(STATUSES)},
            "minItems": 1,
            "description": "Only these statuses (null or left out: all; an empty list is refused)",
        },
        "role": {
            "enum": ["supplier", "recipient", None],
            "description": "Only invoices where your structure has this role (default: both)",
        },
        "service_codes": {
            "type": ["array", "null"],
            "items": {"type": "string", "minLength": 1, "maxLength": MAX_SERVICE_CODE_CHARACTERS},
            "minItems": 1,
            "maxItems": MAX_FILTER_SERVICE_CODES,
            "description": "Only invoices your structure receives routed to one of these services of yours: the "
            "event's `recipient.service_code` equals one of them (stripped; an event without a service code does "
            "not match). It implies the recipient side: not with `role` supplier, and no `flow.completed` "
            "(`events` must include `invoice.status_changed`). Null or left out: every service; an empty list is "
            "refused",
        },
    },
}
_SUBSCRIPTION = {
    "type": "object",
    "required": ["id", "channel", "events", "filter", "status", "created_at"],
    "properties": {
        "id": {"type": "string"},
        "channel": {"enum": ["webhook", "email"]},
        "url": {"type": ["string", "null"], "format": "uri"},
        "email": {"type": ["string", "null"], "format": "email"},
        "events": {"type": "array", "items": {"type": "string", "enum": ["invoice.status_changed", "flow.completed"]}},
        "filter": _FILTER,
        "status": {
            "enum": ["pending_confirmation", "active", "failing"],
            "description": "pending_confirmation: an e-mail address that has not opened its confirmation link yet "
            "(it gets nothing else); failing: an event was given up after 24 h of retries (it is in the given-up "
            "queue, docs/webhooks.md)",
        },
        "confirmation_expires_at": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "While pending: when the mailed confirmation link expires",
        },
        "failing_since": {"type": ["string", "null"], "format": "date-time"},
        "last_error": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "secret": {"type": "string", "description": "Signing secret: in the creation response only"},
        "links": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
SUBSCRIPTION_SCHEMA = _SUBSCRIPTION  # also the administrators' listing (openapi.DIRECTORY_PATHS)
_DELIVERY = {
    "type": "object",
    "properties": {
        "event_id": {"type": "string"},
        "event_type": {"type": "string"},
        "attempt": {"type": "integer"},
        "at": {"type": "string", "format": "date-time"},
        "outcome": {"enum": ["delivered", "retrying", "failed"]},
        "status": {"type": ["integer", "null"], "description": "The receiver's HTTP status"},
        "latency_ms": {"type": ["number", "null"]},
        "error": {"type": ["string", "null"]},
        "next_attempt_in": {"type": ["number", "null"], "description": "Seconds, when retrying"},
    },
}

_TOKEN = {"name": "token", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 200}}
_CONFIRMATION = {
    "type": "object",
    "properties": {
        "subscription_id": {"type": "string"},
        "email": {"type": "string", "format": "email"},
        "status": {"enum": ["pending_confirmation", "active", "failing"]},
    },
}
_BAD_LINK = _problem("Unknown or expired confirmation link")

SUBSCRIPTION_PATHS = {
    "/v1/subscriptions": {
        "post": {
            "operationId": "createSubscription",
            "summary": "Subscribe to your invoices' events: a webhook (url) or e-mails to a contact address (email)",
            "description": "Webhooks receive CloudEvents 1.0 JSON signed with `Chorale-Signature: t=…,v1=…` "
            "(see docs/webhooks.md). URLs must be https and resolve to public addresses only. An e-mail address is "
            "first mailed a confirmation link (valid 7 days) and gets nothing else until it is confirmed. An address "
            "is mailed at most 3 confirmations a UTC day whoever asks: beyond, the subscription is created all the "
            "same, without a mail (a refusal would tell you that others subscribed the address): a 201 "
            "pending_confirmation does not guarantee that the mail was sent.",
            "parameters": [
                idempotency_key_parameter(
                    "A retry with the same key and body answers the subscription the key created "
                    "(201, same id; a webhook's secret again, to your structure only, within 24 h and before any "
                    "rotation) instead of creating a second "
                    "one, without mailing the address again; the same key with another body: 409. A key whose "
                    "subscription you deleted creates a new one"
                )
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "url": {"type": "string", "format": "uri", "maxLength": 2048},
                                "email": {"type": "string", "format": "email"},
                                "events": {
                                    "type": "array",
                                    "items": {"enum": ["invoice.status_changed", "flow.completed"]},
                                    "description": "Default: every type",
                                },
                                "filter": _FILTER,
                            },
                            "oneOf": [{"required": ["url"]}, {"required": ["email"]}],
                        }
                    }
                },
            },
            "responses": {
                "201": {
                    **_json(
                        "Created; the webhook signing secret is shown this once (again to a retry with the same "
                        "Idempotency-Key)",
                        _SUBSCRIPTION,
                    ),
                    "headers": {"Location": {"schema": {"type": "string"}, "description": "The subscription"}},
                },
                "400": _problem(
                    "Invalid body; unknown fields are listed in unknown_fields (at most 20, unknown_fields_count "
                    "when more)"
                ),
                "401": _ERRORS["401"],
                "409": {
                    **_problem(
                        "Too many subscriptions for this structure, or Idempotency-Key reused with another body, "
                        "or an e-mail subscription of this address requested a moment ago (this key's earlier "
                        "attempt) still in progress: Request in progress, retry with the same key after Retry-After"
                    ),
                    "headers": {
                        "Retry-After": {
                            "schema": {"type": "integer", "minimum": 1},
                            "description": "Seconds to wait before retrying (a request still in progress)",
                        }
                    },
                },
                "415": _problem("Send application/json (the problem lists the accepted types)"),
                "422": _problem("Webhook URL refused (not https, or resolves to a non-public address)"),
                "429": {
                    **_problem(
                        "A confirmation was requested (mailed or not) for this address for your structure within "
                        "24 h; or the API's request rate is over its limit (API Gateway's throttling)"
                    ),
                    "headers": {
                        "Retry-After": {
                            "schema": {"type": "integer", "minimum": 1},
                            "description": "Seconds to wait before retrying",
                        }
                    },
                },
            },
        },
        "get": {
            "operationId": "listSubscriptions",
            "summary": "Your structure's subscriptions (never their secrets)",
            "description": "Unconfirmed e-mail subscriptions whose link has expired are not listed: they are deleted "
            "within about two days.",
            "responses": {
                "200": _json(
                    "The subscriptions",
                    {"type": "object", "properties": {"subscriptions": {"type": "array", "items": _SUBSCRIPTION}}},
                ),
                "400": _NO_PARAMETERS,
                "401": _ERRORS["401"],
            },
        },
    },
    "/v1/subscriptions/{subscription_id}": {
        "get": {
            "operationId": "getSubscription",
            "summary": "A subscription, with its status (active or failing)",
            "parameters": [_ID],
            "responses": {"200": _json("The subscription", _SUBSCRIPTION), **_ERRORS},
        },
        "delete": {
            "operationId": "deleteSubscription",
            "summary": "Unsubscribe; pending deliveries are dropped",
            "parameters": [_ID],
            "responses": {"204": {"description": "Deleted"}, **_ERRORS},
        },
    },
    "/v1/subscriptions/{subscription_id}/test": {
        "post": {
            "operationId": "sendSubscriptionTestEvent",
            "summary": "Send a test event (chorale.subscription.test) through the normal delivery path",
            "parameters": [_ID],
            "responses": {
                "202": _json(
                    "Queued; see the deliveries",
                    {
                        "type": "object",
                        "properties": {
                            "event_id": {"type": "string"},
                            "type": {"type": "string"},
                            "links": {"type": "object", "properties": {"deliveries": {"type": "string"}}},
                        },
                    },
                ),
                "409": _problem("An e-mail subscription whose address has not confirmed it yet"),
                **_ERRORS,
            },
        }
    },
    "/v1/subscriptions/{subscription_id}/rotate-secret": {
        "post": {
            "operationId": "rotateSubscriptionSecret",
            "summary": "A new signing secret; the previous one also signs for 24 h (two v1= in the header)",
            "parameters": [_ID],
            "responses": {
                "200": _json(
                    "The new secret, shown this once",
                    {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string"},
                            "secret": {"type": "string"},
                            "previous_secret_valid_until": {"type": "string", "format": "date-time"},
                            "detail": {"type": "string", "description": "How deliveries are signed meanwhile"},
                        },
                    },
                ),
                "409": _problem(
                    "E-mail subscriptions have no secret; or other rotations of this secret at the same instant "
                    "kept taking effect first (Concurrent update, nothing changed): rotate again"
                ),
                **_ERRORS,
            },
        }
    },
    "/v1/subscriptions/{subscription_id}/deliveries": {
        "get": {
            "operationId": "listSubscriptionDeliveries",
            "summary": "The recent delivery attempts, newest first (kept 30 days)",
            "parameters": [_ID],
            "responses": {
                "200": _json(
                    "Attempts",
                    {
                        "type": "object",
                        "properties": {
                            "subscription_id": {"type": "string"},
                            "deliveries": {"type": "array", "items": _DELIVERY},
                        },
                    },
                ),
                "400": _NO_PARAMETERS,
                **_ERRORS,
            },
        }
    },
    "/v1/subscription-confirmations/{token}": {
        "get": {
            "operationId": "getSubscriptionConfirmation",
            "summary": "The e-mail address's owner opens the mailed link: what it would confirm (changes nothing)",
            "description": "No API key: the link is the credential. With `Accept: text/html`, a page with a "
            "Confirmer button that POSTs back to the same URL (link scanners that follow it confirm nothing).",
            "security": [],
            "parameters": [_TOKEN],
            "responses": {
                "200": {
                    "description": "The subscription to confirm",
                    "content": {"application/json": {"schema": _CONFIRMATION}, "text/html": {}},
                },
                "404": _BAD_LINK,
            },
        },
        "post": {
            "operationId": "confirmSubscription",
            "summary": "Confirm an e-mail subscription (double opt-in); confirming again is harmless",
            "security": [],
            "parameters": [_TOKEN],
            "responses": {
                "200": {
                    "description": "Confirmed: the address now gets the subscription's events",
                    "content": {"application/json": {"schema": _CONFIRMATION}, "text/html": {}},
                },
                "404": _BAD_LINK,
                "409": _problem("The structure is inactive: it sends no notifications, nothing was confirmed"),
            },
        },
    },
}
