"""The OpenAPI 3.1 description of every route (a test checks it against the app's routes)."""

from __future__ import annotations

from functools import lru_cache

from ..domain import lifecycle
from ..domain.directory import ROLES
from ..domain.invoice import MAX_REMEMBERED_REQUESTS
from ..domain.statuses import STATUSES
from ..services import search
from ..services.directory import (
    CSV_COLUMNS,
    MAX_IMPORT_ROWS,
    MAX_NAME_CHARACTERS,
    MAX_SERVICE_CODE_CHARACTERS,
    MAX_SERVICES,
    MIN_IMPORTED_KEY_CHARACTERS,
    SERVICE_FIELDS,
    STRUCTURE_FIELDS,
)
from ..services.directory import MAX_LIMIT as DIRECTORY_MAX_LIMIT
from ..services.lifecycle import REROUTE_LIMITS
from ..services.uploads import SHA256_PROPERTY
from .media import ATTACHMENT_MEDIA_TYPES, OCTET_STREAM
from .openapi_parameters import NO_QUERY_PARAMETERS, QUERY_REFUSALS, idempotency_key_parameter
from .problems import EXTENSION_MEMBERS
from .subscriptions_openapi import SUBSCRIPTION_SCHEMA

_NULLABLE_STRING = {"type": ["string", "null"]}
_DECIMAL = {"type": ["string", "null"], "pattern": r"^-?\d+(\.\d+)?$", "description": "Decimal as a string"}


def problem_response(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _inline_json(description: str, properties: dict, headers: dict | None = None) -> dict:
    """An answer whose small object is described in place (not worth a component)."""
    schema = {"type": "object", "properties": properties}
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def json_response(description: str, schema_ref: str, headers: dict | None = None) -> dict:
    response = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }
    if headers:
        response["headers"] = headers
    return response


# Every route's answer to a passing AWS failure (throttling, a timeout): one shared component.
SERVICE_UNAVAILABLE = {"$ref": "#/components/responses/ServiceUnavailable"}
# What API Gateway itself answers on every route, before or around the app (problems.GATEWAY_PROBLEMS).
GATEWAY_RESPONSES = {
    "429": {"$ref": "#/components/responses/TooManyRequests"},
    "504": {"$ref": "#/components/responses/GatewayTimeout"},
}
_RETRY_AFTER = {"schema": {"type": "integer", "minimum": 1}, "description": "Seconds to wait before retrying"}
RESPONSES = {
    "ServiceUnavailable": {
        **problem_response(
            "AWS is throttling or did not answer in time: retry after Retry-After seconds (with the same "
            "Idempotency-Key where the route takes one). A 500 is a bug; this is not"
        ),
        "headers": {"Retry-After": _RETRY_AFTER},
    },
    "TooManyRequests": {
        **problem_response(
            "The request rate is over the API's limit (API Gateway's throttling): retry after Retry-After "
            "seconds, with backoff"
        ),
        "headers": {"Retry-After": _RETRY_AFTER},
    },
    "GatewayTimeout": problem_response(
        "The request took longer than API Gateway's 29 s: retry it (with the same Idempotency-Key where the route "
        "takes one, so it is not done twice)"
    ),
}

AUTH_ERRORS = {
    "401": problem_response(
        "Missing, unknown or revoked API key, or its structure inactive; an administrator key no longer deployed"
    ),
    "404": problem_response("Not found, or not visible to you"),
}
ARCHIVED_ORIGINAL = problem_response(
    "The original is kept in the deep archive for the legal retention: an operator restores it on request"
)
JSON_BODY_ERRORS = {
    "400": problem_response("Malformed JSON, or not a JSON object"),
    "415": problem_response("Send application/json (the problem lists the accepted types)"),
}
_INVOICE_ID = {"name": "invoice_id", "in": "path", "required": True, "schema": {"type": "string"}}


_ONE_LINE = "one line of plain text (no control character, line break or bidirectional override), stripped"
_BOOLEAN = {"type": "boolean"}
# What an administrator may send of a structure and a service: the fields services/directory.py accepts (a KeyError
# here when one is added there without its schema); any other field is a 422 (unknown_fields).
_SERVICE_INPUT_FIELDS = {
    "code": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_SERVICE_CODE_CHARACTERS,
        "description": f"Has a visible character; {_ONE_LINE}",
    },
    "name": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_NAME_CHARACTERS,
        "description": f"Default: the code; {_ONE_LINE}",
    },
    "active": {**_BOOLEAN, "description": "Default: true"},
    "requires_engagement": {**_BOOLEAN, "description": "Default: false"},
}
_STRUCTURE_INPUT_FIELDS = {
    "siret": {"type": "string", "pattern": "^[0-9]{14}$", "description": "14 digits passing the Luhn check"},
    "name": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_NAME_CHARACTERS,
        "description": _ONE_LINE.capitalize(),
    },
    "roles": {"type": "array", "minItems": 1, "items": {"enum": list(ROLES)}},
    "active": {**_BOOLEAN, "description": "Default: true; false deactivates the structure"},
    "requires_service_code": {**_BOOLEAN, "description": "Default: false"},
    "requires_engagement": {**_BOOLEAN, "description": "Default: false"},
    "services": {
        "type": "array",
        "maxItems": MAX_SERVICES,
        "description": "Replaces every service of the structure",
        "items": {"allOf": [{"$ref": "#/components/schemas/ServiceInput"}], "required": ["code"]},
    },
}


def _input_object(fields: tuple[str, ...], schemas: dict, description: str, **extra: dict) -> dict:
    """A request body of exactly `fields` (and `extra` ones), each described by `schemas`."""
    properties = {name: schemas[name] for name in fields} | extra
    return {"type": "object", "description": description, "additionalProperties": False, "properties": properties}


_API_KEYS = {
    "type": "array",
    "items": {"type": "string", "minLength": MIN_IMPORTED_KEY_CHARACTERS},
    "description": "Keys registered (hashed) next to the structure's own; a key of another structure is a 422",
}
SCHEMAS_INPUT = {
    "StructureInput": _input_object(
        STRUCTURE_FIELDS,
        _STRUCTURE_INPUT_FIELDS,
        "A structure's fields (the seed entry without api_keys: issue keys with the api-keys route). On an update, "
        "the fields sent replace, the others are kept; siret cannot change",
    ),
    "ServiceInput": _input_object(SERVICE_FIELDS, _SERVICE_INPUT_FIELDS, "A service's fields"),
    "ImportedStructure": _input_object(
        STRUCTURE_FIELDS,
        _STRUCTURE_INPUT_FIELDS,
        "A structure of the seed format: a new one needs siret, name and roles; an existing one keeps the fields the "
        "entry leaves out (its services and keys among them)",
        api_keys=_API_KEYS,
    ),
}

SCHEMAS = {
    **SCHEMAS_INPUT,
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details. Beyond its standard members, a problem carries the extension "
        "members below that apply to it (never null); a client ignores those it does not know.",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            **EXTENSION_MEMBERS,
        },
    },
    "Status": {
        "type": ["object", "null"],
        "required": ["code", "name", "label", "chorus_pro"],
        "properties": {
            "code": {"type": "integer", "enum": sorted(STATUSES)},
            "name": {"type": "string"},
            "label": {"type": "string"},
            "chorus_pro": {
                "type": ["string", "null"],
                "description": "The Chorus Pro status name integrators know; null where Chorus Pro has no such status "
                "(207 En litige, 212 Encaissée, 213 Rejetée: a platform rejection is a flux IN_REJETE entry)",
            },
        },
    },
    "Error": {
        "type": "object",
        "required": ["rule", "severity", "message", "location"],
        "properties": {
            "rule": {"type": "string", "examples": ["BR-CO-15"]},
            "severity": {"enum": ["fatal", "warning"]},
            "message": {"type": "string"},
            "location": {
                "type": "string",
                "description": "XPath 1.0 of the element, with fixed prefixes (ubl, cn, cac, cbc, ext, rsm, ram, udt, "
                "qdt: see the README's validation engine section); other namespaces as *[local-name()=…]",
            },
        },
    },
    "Invoice": {
        "type": "object",
        "required": ["id", "format", "processing", "status", "errors", "created_at", "updated_at"],
        "properties": {
            "id": {"type": "string"},
            "number": _NULLABLE_STRING,
            "issue_date": {"type": ["string", "null"], "format": "date"},
            "type": {"enum": ["invoice", "credit_note", None]},
            "type_code": {
                "type": ["string", "null"],
                "description": "BT-3 Invoice type code (UNTDID 1001) as the document gives it: 380 commercial "
                "invoice, 381 credit note, 384 corrected invoice, 386 prepayment invoice, 389 self-billed invoice…; "
                "null while it is not processed, or when it was stored before it was kept",
            },
            "currency": _NULLABLE_STRING,
            "totals": {
                "type": "object",
                "properties": {k: _DECIMAL for k in ("without_vat", "vat", "with_vat", "amount_due")},
            },
            "due_date": {
                "type": ["string", "null"],
                "format": "date",
                "description": "BT-9 Payment due date (in a CII, the first payment terms' due date); null when the "
                "invoice gives none, while it is not processed, or when it was stored before it was kept",
            },
            "payment_means": {
                "type": ["array", "null"],
                "description": "BG-16 Payment instructions, in the document's order: one item per payee account (a "
                "document may give several instructions, a CII several accounts); [] when the invoice gives none, "
                "null while it is not processed or when it was stored before they were kept. At most 5, the document's "
                "first ones (payment_means_truncated tells when it gives more); each text at most 100 characters (cut "
                "with '…' beyond). In a CII, the n-th BIC (ram:PayeeSpecifiedCreditorFinancialInstitution) is the n-th "
                "account's",
                "items": {
                    "type": "object",
                    "required": ["code", "account", "bic"],
                    "properties": {
                        "code": {
                            "type": ["string", "null"],
                            "description": "BT-81 Payment means type code (UNTDID 4461: 30 credit transfer, "
                            "58 SEPA credit transfer, 49 direct debit …)",
                            "examples": ["30"],
                        },
                        "account": {
                            "type": ["string", "null"],
                            "description": "BT-84 Payee's account identifier: an IBAN or a proprietary one",
                            "examples": ["FR7630006000011234567890189"],
                        },
                        "bic": {
                            "type": ["string", "null"],
                            "description": "BT-86 Payment service provider identifier (BIC)",
                        },
                    },
                },
            },
            "payment_means_truncated": {
                "type": "boolean",
                "description": "true when the invoice gives more payment means than the 5 payment_means lists (the "
                "others are only in the document: download it); false otherwise, also while it is not processed and "
                "for an invoice stored before this field was kept",
            },
            "preceding_invoices": {
                "type": ["array", "null"],
                "description": "BG-3 Preceding invoice references, in the document's order: the invoices a credit "
                "note or a corrected invoice refers to, as the JSON format's preceding_invoices; [] when the "
                "invoice names none, null while it is not processed or when it was stored before they were kept. At "
                "most 5, the document's first ones (preceding_invoices_truncated tells when it names more); a "
                "number at most 200 characters (cut with '…' beyond)",
                "items": {
                    "type": "object",
                    "required": ["number", "issue_date"],
                    "properties": {
                        "number": {
                            "type": ["string", "null"],
                            "description": "BT-25 Preceding invoice reference: the number of the invoice referred to",
                        },
                        "issue_date": {
                            "type": ["string", "null"],
                            "format": "date",
                            "description": "BT-26 Preceding invoice issue date; null when not given",
                        },
                    },
                },
            },
            "preceding_invoices_truncated": {
                "type": "boolean",
                "description": "true when the invoice names more preceding invoices than the 5 listed; false "
                "otherwise, also while it is not processed and for an invoice stored before this field was kept",
            },
            "supplier": {
                "type": "object",
                "properties": {
                    "siret": {"type": "string"},
                    "name": {
                        "type": "string",
                        "description": "The supplier structure's name in the directory when the invoice was "
                        "deposited (a later rename does not change it)",
                    },
                    "invoiced_name": {
                        "type": ["string", "null"],
                        "description": "BT-27 Seller name as the invoice gives it (it may differ from the "
                        "directory's name: a trading name, an old name), the supplier's own text; null while the "
                        "invoice is not processed, when its processing failed, or when the document gives none",
                        "examples": ["Atelier Numérique SARL"],
                    },
                    "vat_id": {
                        "type": ["string", "null"],
                        "description": "BT-31 Seller VAT identifier as the invoice gives it (null when absent, "
                        "while the invoice is not processed, or stored before it was kept)",
                        "examples": ["FR25812345678"],
                    },
                },
            },
            "recipient": {
                "type": "object",
                "properties": {
                    "siret": _NULLABLE_STRING,
                    "name": _NULLABLE_STRING,
                    "service_code": _NULLABLE_STRING,
                    "active": {
                        "type": ["boolean", "null"],
                        "description": "Whether the recipient structure the invoice is routed to is active in the "
                        "directory, read at the time of the request: false when it is deactivated or no longer in the "
                        "directory (its supplier may then re-route an invoice not yet approved: POST "
                        "/v1/invoices/{invoice_id}/reroute), null while the invoice is routed to none. Only in the "
                        "answer to GET /v1/invoices/{invoice_id}: listings and the answers to a deposit, a status "
                        "change or a re-route leave it out (it costs a directory read per invoice).",
                    },
                },
            },
            "engagement_number": _NULLABLE_STRING,
            "format": {"type": "string", "examples": ["ubl", "cii"]},
            "processing": {"enum": ["pending", "done", "failed"]},
            "status": {"$ref": "#/components/schemas/Status"},
            "sequence": {
                "type": ["integer", "null"],
                "minimum": 0,
                "description": "Position of the current status in the history, from 0: the n of its status event's "
                "id (`<invoice id>-<n>`). It only grows: keep the highest seen from the events and from polling, and "
                "apply only what is newer (docs/webhooks.md, Ordering). Null without a status",
            },
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/Error"}},
            "errors_truncated": {
                "type": "integer",
                "description": "Findings not listed: beyond the first 100, and past 1,000 of one rule",
            },
            "attachments": {"type": "array", "items": {"$ref": "#/components/schemas/Attachment"}},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "Attachment": {
        "type": "object",
        "required": ["id", "name", "content_type", "size", "uploaded_by", "uploaded_at", "links"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string", "maxLength": 50},
            "content_type": {"type": "string"},
            "size": {"type": "integer", "description": "Bytes"},
            "uploaded_by": {"enum": ["supplier", "recipient"]},
            "uploaded_at": {"type": "string", "format": "date-time"},
            "links": {
                "type": "object",
                "properties": {"file": {"type": "string", "description": "Download (redirect)"}},
            },
        },
    },
    "Transitions": {
        "type": "object",
        "required": ["invoice_id", "current", "allowed"],
        "properties": {
            "invoice_id": {"type": "string"},
            "current": {
                "$ref": "#/components/schemas/Status",
                "description": "null while the invoice is being processed",
            },
            "allowed": {
                "type": "array",
                "description": "The statuses you may set next (empty in a final status or while processing)",
                "items": {
                    "type": "object",
                    "required": ["code", "name", "label", "chorus_pro", "reason_required", "reasons"],
                    "properties": {
                        "code": {"type": "integer", "enum": sorted(STATUSES)},
                        "name": {"type": "string"},
                        "label": {"type": "string"},
                        "chorus_pro": _NULLABLE_STRING,
                        "reason_required": {"type": "boolean"},
                        "reasons": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "The reason codes accepted (empty: the status takes none)",
                        },
                    },
                },
            },
        },
    },
    "AttachmentUpload": {
        "type": "object",
        "required": ["upload_id", "url", "fields", "expires_at", "max_bytes", "complete"],
        "properties": {
            "upload_id": {"type": "string", "description": "Also the id of the attachment it becomes"},
            "url": {"type": "string", "format": "uri"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            "expires_at": {"type": "string", "format": "date-time"},
            "max_bytes": {"type": "integer", "description": "10 MB, or what is left of the invoice's 120 MB"},
            "checksum": {"type": "string", "description": "How to have S3 check the file (sha256 in the request)"},
            "complete": {"type": "string", "description": "POST here once the file is uploaded"},
        },
    },
    "Structure": {
        "type": "object",
        "required": ["siret", "name", "roles", "active", "services"],
        "properties": {
            "siret": {"type": "string", "pattern": "^[0-9]{14}$"},
            "name": {"type": "string"},
            "roles": {"type": "array", "items": {"enum": ["supplier", "recipient"]}},
            "active": {"type": "boolean"},
            "requires_service_code": {"type": "boolean"},
            "requires_engagement": {"type": "boolean"},
            "services": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                        "active": {"type": "boolean"},
                        "requires_engagement": {"type": "boolean"},
                    },
                },
            },
            "updated_at": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "When the structure last changed (a change that changes nothing keeps it)",
            },
        },
    },
    "History": {
        "type": "object",
        "properties": {
            "invoice_id": {"type": "string"},
            "history": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["sequence", "code", "name", "at", "actor"],
                    "properties": {
                        "sequence": {
                            "type": "integer",
                            "minimum": 0,
                            "description": "The entry's position in the invoice's whole history, from 0: the n of "
                            "its status event's id (a recipient after a re-route reads the history from its own "
                            "routing on, so its first entry may not be 0)",
                        },
                        "code": {"type": "integer"},
                        "name": {"type": "string"},
                        "label": {"type": "string"},
                        "chorus_pro": _NULLABLE_STRING,
                        "at": {"type": "string", "format": "date-time"},
                        "actor": {"enum": ["platform", "supplier", "recipient"]},
                        "reason_code": _NULLABLE_STRING,
                        "comment": _NULLABLE_STRING,
                        "amount": {
                            **_DECIMAL,
                            "description": "The payment's amount, on 211 and 212, with at least as many decimals as "
                            'the invoice\'s totals.with_vat ("120" sent on a total of "120.00" reads "120.00")',
                        },
                    },
                },
            },
        },
    },
}

_PATHS = {
    "/v1/health": {
        "get": {
            "operationId": "getHealth",
            "summary": "Liveness",
            "security": [],
            "responses": {
                "200": {
                    "description": "The API answers",
                    "content": {
                        "application/json": {"schema": {"type": "object", "properties": {"status": {"const": "ok"}}}}
                    },
                }
            },
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "getOpenApiDocument",
            "summary": "This document",
            "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
        }
    },
    "/v1/invoices": {
        "post": {
            "operationId": "depositInvoice",
            "summary": "Deposit an invoice (UBL 2.1 Invoice/CreditNote or CII D16B); validation is asynchronous",
            "parameters": [
                idempotency_key_parameter(
                    "Replays with the same key and body return the same invoice (the key stays bound "
                    "to it as long as its original is kept); the same key with another body: 409"
                )
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/xml": {"schema": {"type": "string", "format": "binary"}},
                    "text/xml": {"schema": {"type": "string", "format": "binary"}},
                },
            },
            "responses": {
                "202": json_response(
                    "Accepted: the original is stored, processing is pending",
                    "Invoice",
                    {"Location": {"schema": {"type": "string"}, "description": "The invoice resource"}},
                ),
                "400": problem_response(
                    "Empty or unreadable body, not an invoice document, or a blank or over-255-character "
                    "Idempotency-Key. The Content-Type's charset parameter is not read: XML in another encoding "
                    "than UTF-8 or UTF-16 names it in its XML declaration"
                ),
                "401": AUTH_ERRORS["401"],
                "403": problem_response("The caller's structure is not a supplier"),
                "409": problem_response("Idempotency-Key reused with another body"),
                "413": problem_response("Body over the synchronous limit (4 MiB)"),
                "415": problem_response("Content-Type not accepted"),
            },
        }
    },
    "/v1/invoices/{invoice_id}": {
        "get": {
            "operationId": "getInvoice",
            "summary": "An invoice (visible to its supplier and its recipient only)",
            "parameters": [_INVOICE_ID],
            "responses": {"200": json_response("The invoice", "Invoice"), **AUTH_ERRORS},
        }
    },
    "/v1/invoices/{invoice_id}/history": {
        "get": {
            "operationId": "getInvoiceHistory",
            "summary": "Every status change of the invoice",
            "description": "The supplier reads every change. After a re-route to another structure, the new recipient "
            "reads them from its own routing on (the 203 of the re-route): not the former recipient's.",
            "parameters": [_INVOICE_ID],
            "responses": {"200": json_response("The status history, oldest first", "History"), **AUTH_ERRORS},
        }
    },
    "/v1/invoices/{invoice_id}/file": {
        "get": {
            "operationId": "getInvoiceFile",
            "summary": "The original file, unchanged (redirect to a short-lived download URL)",
            "parameters": [_INVOICE_ID],
            "responses": {
                "302": {
                    "description": "Redirect to the original",
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                "409": ARCHIVED_ORIGINAL,
                **AUTH_ERRORS,
            },
        }
    },
}


def _params(*names: str) -> list[dict]:
    return [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names]


def _query(*names: str) -> list[dict]:
    return [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}} for n in names]


def _query_param(name: str, schema: dict, description: str | None = None) -> dict:
    param = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


def _limit(maximum: int, default: int) -> dict:
    return _query_param("limit", {"type": "integer", "minimum": 1, "maximum": maximum, "default": default})


_ROLE = {"type": "string", "enum": list(ROLES)}


def _json_body(schema: dict, media: str = "application/json") -> dict:
    return {"required": True, "content": {media: {"schema": schema}}}


_BINARY = {"schema": {"type": "string", "format": "binary"}}
_PAGE_DESCRIPTION = "A page and the cursor of the next one (null on the last page)"


def _list_response(items: dict, description: str = _PAGE_DESCRIPTION) -> dict:
    """A page of `items` (their schema) and its next_cursor."""
    array = {"type": "array", "items": items}
    page = {"type": "object", "properties": {"items": array, "next_cursor": {"type": ["string", "null"]}}}
    return {"description": description, "content": {"application/json": {"schema": page}}}


_KEY_ID = {
    "type": "string",
    "description": "The key's id, to revoke it with: 16 hex characters derived from the key's stored hash (neither the "
    "key nor that hash, which could be brute-forced back to a key a person chose)",
}
_REFUSALS = {
    "400": problem_response("Malformed request"),
    "403": problem_response("Your role may not do this"),
    "409": problem_response(
        "Not allowed from the current status (the body lists the allowed ones), the invoice's processing failed "
        "(reason processing_failed), a race, or the invoice's record is full (reason record_full)"
    ),
    "415": problem_response("Send application/json"),
    "422": problem_response(
        "Missing or unknown reason, a 209 without a visible comment or an attachment added since the suspension, a "
        "missing or invalid amount, a comment holding a control or bidirectional character (U+XXXX named), invalid "
        "field, or unknown field (unknown_fields: at most 20; unknown_fields_count when there "
        "were more)"
    ),
}
_ADMIN = {"401": AUTH_ERRORS["401"], "403": problem_response("Needs an administrator key")}
_NO_PARAMETERS = problem_response(NO_QUERY_PARAMETERS)
# A party's change of an invoice: its key is remembered on the invoice, for its latest keyed changes.
_CHANGE_KEY = idempotency_key_parameter(
    "A retry with the same key and body, once the change is made, returns the invoice (200) instead "
    "of a 409 from the status it set; the same key with another body: 409. An invoice remembers the keys of its "
    f"latest {MAX_REMEMBERED_REQUESTS} keyed changes"
)
_CHANGE_REFUSALS = {
    **_REFUSALS,
    "409": problem_response(
        _REFUSALS["409"]["description"] + "; or the Idempotency-Key already used with another body"
    ),
}
# A structure's change is written only over the version it was made on, and made again when another came first.
_CHANGED_MEANWHILE = problem_response("The structure changed at every attempt (other requests): retry in a moment")
_TOO_MANY_SERVICES = "over 1,000 services (too_many_services), or a record over 400 KB (structure_full)"
_REPEATED_CODES = "a service code twice in 'services', padding stripped (repeated_service_codes)"

LIFECYCLE_PATHS = {
    "/v1/invoices": {
        "get": {
            "operationId": "listInvoices",
            "summary": "Search your invoices, most recently updated first (delta sync with updated_since)",
            "description": "A filtered search reads a bounded part of your invoices per request: a page can then "
            "be short, even empty, and still have a next_cursor. Any page may hold fewer than `limit` invoices: it "
            "stops before the invoice that would take the answer past 4 MiB (long findings), and next_cursor "
            "resumes at that invoice. Page on until next_cursor is null; only then is there nothing more.",
            "parameters": [
                _query_param("role", _ROLE, "Your side of the invoices (default: supplier if you are one)"),
                {
                    **_query_param(
                        "status",
                        {"type": "array", "items": {"type": "integer", "enum": sorted(STATUSES)}, "minItems": 1},
                        "One status code, or several comma-separated (status=203,208: any of them). Give the "
                        "parameter once: status=203&status=208 is a 400",
                    ),
                    "style": "form",
                    "explode": False,
                },
                _query_param(
                    "number",
                    {"type": "string"},
                    "Invoice number (BT-1), compared as the duplicate control compares numbers (README, Deposit "
                    "controls): case, spaces, dashes, Unicode forms and look-alike letters aside ('fac‑é‑5' finds "
                    "FAC-É-5)",
                ),
                _query_param(
                    "counterpart",
                    {"type": "string", "pattern": "^[0-9]{14}$"},
                    "The other party's SIRET (else 400): the supplier, for a recipient; for a supplier, the recipient "
                    "the invoice was routed to or, when it was routed to no one (rejected, 213), the buyer it names",
                ),
                _query_param(
                    "service_code",
                    {"type": "string"},
                    "The recipient's service the invoice is routed to (BT-10, or the one a re-route set) or, for a "
                    "rejected invoice (213, routed to no one), the service code it names. Checked on "
                    "the invoices themselves: a page reads at most limit + 100 of them, so it can be short, even "
                    "empty, with a next_cursor",
                ),
                _query_param("issued_from", {"type": "string", "format": "date"}, "Issue date, YYYY-MM-DD"),
                _query_param("issued_to", {"type": "string", "format": "date"}, "Issue date, YYYY-MM-DD"),
                _query_param(
                    "updated_since",
                    {"type": "string", "format": "date-time"},
                    "Exclusive lower bound on updated_at, with a time zone, e.g. …T08:00:00Z. Delta sync: page to "
                    "the end, then poll from the newest updated_at seen minus 60 s and de-duplicate by invoice id, "
                    "keeping the highest updated_at (it never goes back). A change appears here within seconds of "
                    "its updated_at, not at a guaranteed bound: webhooks are the push path",
                ),
                _limit(search.MAX_LIMIT, search.DEFAULT_LIMIT),
                _query_param(
                    "cursor",
                    {"type": "string"},
                    "The next_cursor of the previous page, with the same role, filters and updated_since (else 400)",
                ),
            ],
            "responses": {
                "200": _list_response(
                    {"$ref": "#/components/schemas/Invoice"},
                    "A page, newest first, and the cursor of the next one (null on the last page; a page short of "
                    "limit, even empty, can have one)",
                ),
                "400": problem_response(f"Invalid filter, {QUERY_REFUSALS}"),
                **AUTH_ERRORS,
            },
        }
    },
    "/v1/invoices/{invoice_id}/status": {
        "post": {
            "operationId": "setInvoiceStatus",
            "summary": "Set the next status (recipient or supplier, per the transition table)",
            "parameters": [*_params("invoice_id"), _CHANGE_KEY],
            "requestBody": _json_body(
                {
                    "type": "object",
                    "required": ["code"],
                    "additionalProperties": False,
                    "properties": {
                        "code": {"type": "integer"},
                        "reason_code": {"type": ["string", "null"]},
                        "comment": {
                            "type": ["string", "null"],
                            "maxLength": 1000,
                            "description": "Plain text: line breaks and tabs kept, other control characters and "
                            "bidirectional overrides and isolates (U+202E...) refused, CRLF and CR stored as LF; "
                            "stored stripped, none when it has no visible character. A 207 without a key repeating "
                            "the current 207's reason and comment is "
                            "answered as already applied (no new entry)",
                        },
                        "amount": {
                            "type": ["string", "null"],
                            "pattern": r"^[0-9]+(\.[0-9]{1,2})?$",
                            "description": "The payment's amount in the invoice's currency, > 0 (0 when the total "
                            "is 0) and at most the greater of its total with VAT (which includes a prepaid amount) and "
                            "its amount due (which includes a rounding amount); unsigned: for a negative total, at "
                            "most its magnitude. Required on 212 (the amount received, BR-FR-CDV-14), "
                            "optional on 211, refused on other statuses. Kept and published with as many decimals "
                            'as totals.with_vat ("120" → "120.00"); one with more decimals is kept as sent, not '
                            "rounded",
                        },
                    },
                }
            ),  # fmt: skip
            "responses": {"200": json_response("The invoice", "Invoice"), **AUTH_ERRORS, **_CHANGE_REFUSALS},
        }
    },
    "/v1/invoices/{invoice_id}/transitions": {
        "get": {
            "operationId": "getInvoiceTransitions",
            "summary": "The statuses you may set next",
            "parameters": _params("invoice_id"),
            "responses": {"200": json_response("Current and allowed statuses", "Transitions"), **AUTH_ERRORS},
        }
    },
    "/v1/invoices/{invoice_id}/reroute": {
        "post": {
            "operationId": "rerouteInvoice",
            "summary": "Re-route a 221 invoice (Chorus Pro's recycler): a field left out keeps its value, null clears",
            "description": "From 221; or from "
            f"{', '.join(map(str, sorted(lifecycle.REROUTABLE_FROM_INACTIVE_RECIPIENT)))} (before any approval) "
            "when the invoice's recipient structure is deactivated or no longer in the directory (read at the "
            "re-route): the platform then writes a 221 (actor platform, reason ROUTAGE_ERR, the comment saying what "
            "is inactive) before the re-route's 203. From any other status, or while the recipient structure is "
            "active (even if the service its service code names is inactive: the recipient sets 221), a 409.",
            "parameters": [*_params("invoice_id"), _CHANGE_KEY],
            "requestBody": _json_body(
                {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "recipient_siret": {
                            "type": "string",
                            "pattern": "^[0-9]{14}$",
                            "description": "Another recipient structure (the deposit's directory controls apply)",
                        },
                        "service_code": {
                            "type": ["string", "null"],
                            "maxLength": REROUTE_LIMITS["service_code"],
                            "description": "Left out: kept, unless recipient_siret names another structure (a "
                            "service code is its structure's: none then). A string has a visible character (not only "
                            "spaces or invisible characters such as U+200B)",
                        },
                        "engagement_number": {
                            "type": ["string", "null"],
                            "maxLength": REROUTE_LIMITS["engagement_number"],
                            "description": "Left out: kept. A string has a visible character (not only spaces or "
                            "invisible characters such as U+200B)",
                        },
                        "comment": {
                            "type": ["string", "null"],
                            "maxLength": 1000,
                            "description": "Kept (stripped) as the comment of the 203 history entry; plain text "
                            "as a status change's comment (control and bidirectional characters refused)",
                        },
                    },
                }
            ),
            "responses": {
                "200": json_response("The invoice, back in 203", "Invoice"),
                **AUTH_ERRORS,
                **_CHANGE_REFUSALS,
            },
        }
    },
    "/v1/invoices/{invoice_id}/attachments": {
        "post": {
            "operationId": "addInvoiceAttachment",
            "summary": "Attach a file (PDF, PNG, JPEG, XML, CSV, ODT, DOCX, XLSX; name ≤ 50 characters)",
            "parameters": _params("invoice_id")
            + [
                _query_param(
                    "name",
                    {"type": "string"},
                    "The file name, unless Content-Disposition gives it (there filename*, RFC 5987, wins over "
                    "filename; one that is blank or whose bytes are not valid in its charset gives way to filename, "
                    "then to this parameter, and is a 400 when nothing else names the file). At most 50 characters "
                    "in NFC, the form it is stored in",
                )
            ]
            + [
                idempotency_key_parameter(
                    "A retry with the same key, name and bytes returns the attachment the first "
                    "attempt recorded instead of attaching the file twice (the same key with another file: 409)"
                )
            ],
            "requestBody": {
                "required": True,
                "description": f"The file's bytes; send them as {OCTET_STREAM} (other types listed are accepted too: "
                "the content is checked against the file name's extension)",
                "content": {media: _BINARY for media in ATTACHMENT_MEDIA_TYPES},
            },
            "responses": {
                "201": json_response("The attachment", "Attachment", {"Location": {"schema": {"type": "string"}}}),
                "413": problem_response(
                    "Body over 4 MiB (larger files: POST …/attachments/uploads, up to 10 MB), over 120 MB with the "
                    "invoice, or the invoice already has 100 attachments (reason `too_many_attachments`)"
                ),
                **AUTH_ERRORS,
                **_REFUSALS,
                "409": {
                    **problem_response(
                        _REFUSALS["409"]["description"] + "; the Idempotency-Key used with another file; or its first "
                        "request still in progress (then with Retry-After)"
                    ),
                    "headers": {
                        "Retry-After": {
                            **_RETRY_AFTER,
                            "description": "Only while the Idempotency-Key's first request is still in progress: "
                            "seconds to wait before retrying",
                        }
                    },
                },
                "415": problem_response(
                    f"A Content-Type not listed (send {OCTET_STREAM}), a file name of another type, or content not "
                    "of the named type"
                ),
            },  # fmt: skip
        }
    },
    "/v1/invoices/{invoice_id}/attachments/uploads": {
        "post": {
            "operationId": "createAttachmentUpload",
            "summary": "A presigned S3 POST for one attachment of up to 10 MB (complete it once uploaded)",
            "parameters": _params("invoice_id"),
            "requestBody": _json_body(
                {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {
                            "type": "string",
                            "maxLength": 50,
                            "description": "At most 50 characters in NFC, the form it is stored in",
                        },
                        "sha256": SHA256_PROPERTY,
                    },
                }
            ),
            "responses": {
                "201": {
                    "description": "Send `fields`, then the file, as multipart/form-data to `url` before `expires_at`; "
                    "then POST `complete`",
                    "headers": {"Location": {"schema": {"type": "string"}, "description": "The completion route"}},
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AttachmentUpload"}}},
                },
                "413": problem_response(
                    "The invoice and its attachments already reach 120 MB, or the invoice already has 100 "
                    "attachments (reason `too_many_attachments`)"
                ),
                **AUTH_ERRORS,
                **_REFUSALS,
            },
        }
    },
    "/v1/invoices/{invoice_id}/attachments/uploads/{upload_id}": {
        "post": {
            "operationId": "completeAttachmentUpload",
            "summary": "Complete an attachment upload: the file is checked and becomes the attachment `upload_id`",
            "parameters": _params("invoice_id", "upload_id"),
            "responses": {
                "201": json_response(
                    "The attachment (the same one when completed again)",
                    "Attachment",
                    {"Location": {"schema": {"type": "string"}}},
                ),
                "400": problem_response("The uploaded file is empty (it is deleted)"),
                "409": problem_response(
                    "Nothing uploaded yet, the invoice reached a final status or its processing failed, a race, or "
                    "the invoice's record is full (reason record_full; the file is deleted)"
                ),
                "413": problem_response(
                    "Over 10 MB, over 120 MB with the invoice, or the invoice already has 100 attachments (reason "
                    "too_many_attachments) (the file is deleted)"
                ),
                "415": problem_response("Content not of the named type (the file is deleted)"),
                **AUTH_ERRORS,
            },
        }
    },
    "/v1/invoices/{invoice_id}/attachments/{attachment_id}": {
        "get": {
            "operationId": "getInvoiceAttachmentFile",
            "summary": "Download an attachment (redirect to a short-lived URL)",
            "parameters": _params("invoice_id", "attachment_id"),
            "responses": {"302": {"description": "Redirect"}, **AUTH_ERRORS},
        }
    },
}

DIRECTORY_PATHS = {
    "/v1/structures": {
        "get": {
            "operationId": "searchStructures",
            "summary": "Look structures up by name prefix (case- and accent-insensitive) or SIRET",
            "parameters": [
                *_query("q", "siret"),
                _query_param("role", _ROLE),
                _limit(DIRECTORY_MAX_LIMIT, 25),
                *_query("cursor"),
            ],
            "responses": {
                "200": _list_response({"$ref": "#/components/schemas/Structure"}),
                "400": problem_response(f"Give q or siret; {QUERY_REFUSALS}"),
                **AUTH_ERRORS,
            },
        }
    },
    "/v1/structures/{siret}": {
        "get": {
            "operationId": "getStructure",
            "summary": "A structure with its services",
            "parameters": _params("siret"),
            "responses": {
                "200": json_response("The structure", "Structure"),
                **AUTH_ERRORS,
            },  # fmt: skip
        }
    },
    "/v1/admin/structures": {
        "post": {
            "operationId": "createStructure",
            "summary": "Create a structure (seed entry shape without api_keys: issue keys with the api-keys route)",
            "requestBody": _json_body(
                {"allOf": [{"$ref": "#/components/schemas/StructureInput"}], "required": ["siret", "name", "roles"]}
            ),
            "responses": {
                "201": json_response(
                    "Created",
                    "Structure",
                    {"Location": {"schema": {"type": "string"}, "description": "The structure resource"}},
                ),
                "409": problem_response("Exists"),
                "422": problem_response(
                    f"Invalid field, unknown field (unknown_fields), api_keys, {_REPEATED_CODES}, {_TOO_MANY_SERVICES}"
                ),
                **JSON_BODY_ERRORS,
                **_ADMIN,
            },
        }  # fmt: skip
    },
    "/v1/admin/structures/{siret}": {
        "patch": {
            "operationId": "updateStructure",
            "summary": 'Update or deactivate ({"active": false}) a structure',
            "parameters": _params("siret"),
            "requestBody": _json_body({"$ref": "#/components/schemas/StructureInput"}),
            "responses": {
                "200": json_response("The structure, updated", "Structure"),
                "404": AUTH_ERRORS["404"],
                "409": _CHANGED_MEANWHILE,
                "422": problem_response(
                    f"Invalid or unknown field (unknown_fields), {_REPEATED_CODES}, {_TOO_MANY_SERVICES}"
                ),
                **JSON_BODY_ERRORS,
                **_ADMIN,
            },
        }  # fmt: skip
    },
    "/v1/admin/structures/{siret}/services/{code}": {
        "put": {
            "operationId": "putStructureService",
            "summary": "Create, update or deactivate a service",
            "parameters": _params("siret", "code"),
            "requestBody": _json_body(
                {
                    "$ref": "#/components/schemas/ServiceInput",
                    "description": "The path's code is the service's (a code in the body is ignored); on an update, "
                    "the fields sent replace, the others are kept",
                }
            ),
            "responses": {
                "200": json_response("The structure", "Structure"),
                "404": problem_response("No such structure"),
                "409": _CHANGED_MEANWHILE,
                "422": problem_response(f"Invalid or unknown field, {_TOO_MANY_SERVICES}"),
                **JSON_BODY_ERRORS,
                **_ADMIN,
            },
        }
    },
    "/v1/admin/structures/{siret}/api-keys": {
        "post": {
            "operationId": "issueApiKey",
            "summary": "Issue an API key (shown once)",
            "parameters": _params("siret"),
            "responses": {
                "201": _inline_json(
                    "The key (shown this once: store it now) and its id",
                    {
                        "siret": {"type": "string"},
                        "key_id": _KEY_ID,
                        "api_key": {"type": "string"},
                        "note": {"type": "string"},
                    },
                ),
                "404": problem_response("No such structure"),
                **_ADMIN,
            },
        },
        "get": {
            "operationId": "listApiKeys",
            "summary": "The structure's key ids",
            "parameters": _params("siret"),
            "responses": {
                "200": _inline_json(
                    "Key ids (never the keys)",
                    {
                        "siret": {"type": "string"},
                        "keys": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "key_id": _KEY_ID,
                                    "created_at": {"type": ["string", "null"]},
                                },
                            },
                        },
                    },
                ),
                "400": _NO_PARAMETERS,
                "404": problem_response("No such structure"),
                **_ADMIN,
            },
        },
    },  # fmt: skip
    "/v1/admin/structures/{siret}/api-keys/{key_id}": {
        "delete": {
            "operationId": "revokeApiKey",
            "summary": "Revoke a key",
            "parameters": [
                *_params("siret"),
                {"name": "key_id", "in": "path", "required": True, "schema": _KEY_ID},
            ],
            "responses": {
                "200": _inline_json(
                    "Revoked",
                    {"siret": {"type": "string"}, "key_id": _KEY_ID, "revoked": {"type": "boolean"}},
                ),
                "404": AUTH_ERRORS["404"],
                **_ADMIN,
            },
        }
    },  # fmt: skip
    "/v1/admin/structures/{siret}/subscriptions": {
        "get": {
            "operationId": "listStructureSubscriptions",
            "summary": "The structure's subscriptions, whatever their state (to find and delete a stolen key's "
            "webhook: a deactivated structure's keys cannot manage them, and it gets no notification)",
            "parameters": _params("siret"),
            "responses": {
                "200": _inline_json(
                    "The subscriptions (never a signing secret)",
                    {"siret": {"type": "string"}, "subscriptions": {"type": "array", "items": SUBSCRIPTION_SCHEMA}},
                ),
                "400": _NO_PARAMETERS,
                "404": problem_response("No such structure"),
                **_ADMIN,
            },
        }
    },  # fmt: skip
    "/v1/admin/structures/{siret}/subscriptions/{subscription_id}": {
        "delete": {
            "operationId": "deleteStructureSubscription",
            "summary": "Delete a structure's subscription (its pending deliveries are dropped)",
            "parameters": _params("siret", "subscription_id"),
            "responses": {
                "200": _inline_json(
                    "Deleted",
                    {
                        "siret": {"type": "string"},
                        "subscription_id": {"type": "string"},
                        "deleted": {"type": "boolean"},
                    },
                ),
                "404": problem_response("No such structure, or no such subscription of it"),
                **_ADMIN,
            },
        }
    },
    "/v1/admin/imports": {
        "post": {
            "operationId": "importStructures",
            "summary": "Import structures: seed format (application/json) or CSV (text/csv); existing structures are "
            "updated in place (fields a row carries replace, the others are kept), new ones created",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["structures"],
                            "additionalProperties": False,
                            "properties": {
                                "structures": {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": MAX_IMPORT_ROWS,
                                    "items": {
                                        "allOf": [{"$ref": "#/components/schemas/ImportedStructure"}],
                                        "required": ["siret"],
                                    },
                                }
                            },
                        }
                    },
                    "text/csv": {
                        "schema": {
                            "type": "string",
                            "description": f"A header line naming the columns {', '.join(CSV_COLUMNS)} (siret, name "
                            "and roles required; matched in any case, surrounding spaces ignored; another name, or one "
                            "twice, is a 422; roles separated by '|' or spaces; true/false flags), then one "
                            "structure a line; ',' or ';' separated. No services nor keys",
                        }
                    },
                },
            },
            "responses": {
                "200": _inline_json(
                    "Imported: every row's SIRET (a row that changes nothing is not written, its updated_at kept)",
                    {"imported": {"type": "integer"}, "sirets": {"type": "array", "items": {"type": "string"}}},
                ),
                "400": problem_response("Malformed JSON, or a CSV that is not UTF-8"),
                "413": problem_response("Over 1,000 rows: split the file"),
                "415": problem_response("Send application/json (the seed format) or text/csv"),
                "409": problem_response(
                    "An API key was registered for another structure meanwhile (nothing is written); or structures "
                    "changed by other requests at every attempt (the others are imported: send it again)"
                ),
                "422": problem_response(
                    "Invalid entry (a name with a control character, line break or bidirectional override), a CSV the "
                    "reader cannot take "
                    "whole (a quote left open, a row with more non-empty cells than the header has columns, a cell "
                    "over 128 KiB: the detail names the line), an unknown top-level field or CSV column "
                    "(unknown_fields), a CSV column named twice (repeated_columns), a SIRET twice "
                    "(duplicates), a service code twice in a row's services (repeated_service_codes), an API key of "
                    "another structure (taken_keys), or over 1,000 services "
                    "(too_many_services); nothing is written"
                ),
                **_ADMIN,
            },
        }
    },  # fmt: skip
}


# Routes that call no AWS service, so never answer 503.
AWS_FREE_PATHS = frozenset({"/v1/health", "/openapi.json", "/v1/schemas/invoice.json"})


def _path_groups() -> list[dict]:
    """Every API module's paths. A module that adds routes adds its OPENAPI_PATHS here."""
    from .formats_openapi import format_paths
    from .subscriptions_openapi import SUBSCRIPTION_PATHS

    return [_PATHS, LIFECYCLE_PATHS, DIRECTORY_PATHS, SUBSCRIPTION_PATHS, format_paths()]


@lru_cache(maxsize=1)
def openapi_document() -> dict:
    # every route module, whoever asks first (a 503 path before app.py's imports, in tests): their routes fill
    # STRUCTURE_ROUTES, and the document is cached once
    from . import directory_api, flows_api, formats_api, subscriptions_api  # noqa: F401
    from .api import STRUCTURE_ROUTES

    paths: dict = {}
    for group in _path_groups():
        for path, operations in group.items():
            paths.setdefault(path, {}).update(operations)
    for path, method in STRUCTURE_ROUTES:  # an administrator key cannot act as a structure
        responses = paths.get(path, {}).get(method, {}).get("responses")
        if responses is not None and "403" not in responses:
            responses["403"] = problem_response("An administrator key: use the structure's own key")
    for path, operations in paths.items():
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                for status, response in GATEWAY_RESPONSES.items():  # a route's own 429 says more, and is kept
                    operation["responses"].setdefault(status, response)
                if path not in AWS_FREE_PATHS:
                    operation["responses"].setdefault("503", SERVICE_UNAVAILABLE)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Chorale e-invoicing API",
            "version": "1.0.0",
            "description": "Deposit EN 16931 invoices, follow their lifecycle. Errors are RFC 9457 problem details.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "A structure's API key"}},
            "schemas": SCHEMAS,
            "responses": RESPONSES,
        },
    }
