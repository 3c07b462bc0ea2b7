"""OpenAPI paths of issue #5 (formats, flows, uploads): a group of openapi._path_groups()."""

from __future__ import annotations

import copy

from ..services.uploads import SHA256_PROPERTY, UPLOAD_NAME_PROPERTY
from .media import ARCHIVE_MEDIA_TYPES
from .openapi_parameters import QUERY_REFUSALS, idempotency_key_parameter


def _problem(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


_AUTH = {
    "401": _problem("Missing, unknown or revoked API key, or its structure inactive"),
    "404": _problem("Not found, or not yours"),
}
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_SCHEMA_ERRORS = {
    "type": "array",
    "description": "Every JSON Schema violation, with the JSON pointer of the value",
    "items": {
        "type": "object",
        "properties": {"pointer": {"type": "string"}, "message": {"type": "string"}, "keyword": {"type": "string"}},
    },
}
_FILE = {
    "type": "object",
    "required": ["name", "status"],
    "properties": {
        "index": {
            "type": "integer",
            "minimum": 1,
            "description": "The file's 1-based position among the archive's files (folders are not counted, skipped OS "
            "metadata is): tells apart files of the same name, and names cut at 500 characters",
        },
        "name": {"type": "string", "description": "The file's name in the archive (or the upload)"},
        "invoice_id": {"type": ["string", "null"], "description": "The invoice made from this file"},
        "status": {"enum": ["pending", "accepted", "rejected"]},
        "status_code": {"type": ["integer", "null"], "description": "The invoice's status once processed (203, 213)"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/Error"}},
        "links": {
            "type": "object",
            "properties": {"invoice": {"type": "string"}},
            "description": "The invoice made from this file, once there is one",
        },
    },
}
FLOW_SCHEMA = {
    "type": "object",
    "required": ["id", "state", "counts", "files"],
    "properties": {
        "id": {"type": "string"},
        "state": {
            "enum": ["IN_RECU", "IN_EN_COURS_TRAITEMENT", "IN_INTEGRE", "IN_INTEGRE_PARTIEL", "IN_REJETE"],
            "description": "Chorus Pro's flow states: received, being processed, all integrated, partly, rejected",
        },
        "source": {"enum": ["api", "upload"]},
        "error": {"type": ["string", "null"], "description": "Why the archive itself could not be read"},
        "counts": {
            "type": "object",
            "properties": {k: {"type": "integer"} for k in ("files", "accepted", "rejected", "pending")},
        },
        "ignored_files": {
            "type": "integer",
            "description": "OS metadata entries of the archive (__MACOSX/, ._* files, .DS_Store, Thumbs.db, "
            "desktop.ini): skipped, with no entry in files and not counted in counts",
        },
        "files": {"type": "array", "items": _FILE, "description": "A page of the files, in archive order"},
        "next_cursor": {
            "type": ["string", "null"],
            "description": "Pass it as `cursor` for the next page of files; null on the last page",
        },
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "links": {"type": "object", "properties": {"self": {"type": "string"}}},
        "ignored_upload_at": {
            "type": "string",
            "format": "date-time",
            "description": "Present when another file was posted with this flow's upload ticket (a ticket is for one "
            "file): that file was not taken in. Ask for a ticket per file",
        },
    },
}


def _deposit_with_formats(base: dict) -> dict:
    """The lead's POST /v1/invoices operation, with the Factur-X and JSON bodies this issue adds."""
    post = copy.deepcopy(base)
    post["summary"] = (
        "Deposit an invoice: UBL 2.1 or CII D16B XML, a Factur-X/ZUGFeRD PDF, or a structured JSON invoice; "
        "validation is asynchronous"
    )
    post["requestBody"]["content"].update(
        {
            "application/pdf": _BINARY,
            "application/json": {"schema": {"$ref": "/v1/schemas/invoice.json"}},
        }
    )
    post["responses"]["415"] = _problem(
        "Content-Type not accepted, or the body is not what the Content-Type says (the problem says what was found)"
    )
    post["responses"]["413"] = _problem(
        "Body over the synchronous limit (4 MiB), or a JSON invoice whose UBL rendition is over the 4 MiB XML limit "
        "(`rendition_bytes`, `limit_bytes`)"
    )
    post["responses"]["422"] = {
        "description": "A PDF without an embedded invoice XML, or a JSON invoice that does not match the schema "
        "(`errors` lists every violation with its JSON pointer)",
        "content": {
            "application/problem+json": {
                "schema": {
                    "allOf": [{"$ref": "#/components/schemas/Problem"}],
                    "properties": {"errors": _SCHEMA_ERRORS},
                }
            }
        },
    }
    return post


def format_paths() -> dict:
    from .openapi import _PATHS

    return {
        "/v1/invoices": {"post": _deposit_with_formats(_PATHS["/v1/invoices"]["post"])},
        "/v1/schemas/invoice.json": {
            "get": {
                "operationId": "getInvoiceJsonSchema",
                "summary": "The JSON Schema (draft 2020-12) of structured invoices: the EN 16931 business terms",
                "security": [],
                "responses": {"200": {"description": "The schema", "content": {"application/schema+json": {}}}},
            }
        },
        "/v1/flows": {
            "post": {
                "operationId": "depositFlow",
                "summary": "Deposit a small archive of invoices (ZIP or tar.gz, ≤ 4 MiB, ≤ 1 000 files): a flow; "
                "larger archives go through POST /v1/uploads",
                "parameters": [
                    idempotency_key_parameter(
                        "A retry with the same key and archive returns the same flow (as it is now) "
                        "instead of taking the archive in twice; the same key with another archive: 409"
                    )
                ],
                "requestBody": {"required": True, "content": {media: _BINARY for media in ARCHIVE_MEDIA_TYPES}},
                "responses": {
                    "202": {
                        "description": "The flow, IN_RECU; its invoices are validated in parallel",
                        "headers": {"Location": {"schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": FLOW_SCHEMA}},
                    },
                    "400": _problem("Empty body, or a blank or over-255-character Idempotency-Key"),
                    "401": _AUTH["401"],
                    "403": _problem("The caller's structure is not a supplier"),
                    "409": _problem("Idempotency-Key reused with another archive"),
                    "413": _problem("Over the synchronous limit: use POST /v1/uploads"),
                    "415": _problem("Not a ZIP or tar.gz archive (the problem says what was found)"),
                    "422": _problem(
                        "A ZIP that contains no file, whose central directory cannot be read (reason unreadable), or "
                        "that holds more files than a flow takes (reason too_many_files, with max_files and files): "
                        "the archive is refused whole"
                    ),
                },
            }
        },
        "/v1/flows/{flow_id}": {
            "get": {
                "operationId": "getFlow",
                "summary": "A flow's report: state (IN_RECU … IN_REJETE), counts, and one entry per file with its "
                "invoice id or its errors",
                "parameters": [
                    {"name": "flow_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {
                        "name": "limit",
                        "in": "query",
                        "description": "Files per page (default and most: 1 000; a page also stops before 4 MiB)",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                    },
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {"description": "The flow", "content": {"application/json": {"schema": FLOW_SCHEMA}}},
                    "400": _problem(f"'limit' out of range, a 'cursor' this API did not return, or {QUERY_REFUSALS}"),
                    **_AUTH,
                },
            }
        },
        "/v1/uploads": {
            "post": {
                "operationId": "createUpload",
                "summary": "A presigned S3 POST for one large file (≤ 120 MB): a single invoice (its invoice id is "
                "the upload id) or an archive (a flow whose id is the upload id); either way GET /v1/flows/{upload_id}",
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {"sha256": SHA256_PROPERTY, "name": UPLOAD_NAME_PROPERTY},
                            }
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "Send the file as multipart/form-data to `url` with every `fields` entry, the "
                        "file last, before `expires_at`",
                        "headers": {"Location": {"schema": {"type": "string"}, "description": "The flow to poll"}},
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["upload_id", "url", "fields", "expires_at"],
                                    "properties": {
                                        "upload_id": {"type": "string"},
                                        "url": {"type": "string", "format": "uri"},
                                        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                                        "expires_at": {"type": "string", "format": "date-time"},
                                        "max_bytes": {"type": "integer"},
                                        "checksum": {
                                            "type": "string",
                                            "description": "How to have S3 check the file (sha256 in the request)",
                                        },
                                        "flow": {"type": "string", "description": "The flow to poll"},
                                    },
                                }
                            }
                        },
                    },
                    "400": _problem("A body that is not a JSON object"),
                    "401": _AUTH["401"],
                    "403": _problem("The caller's structure is not a supplier"),
                    "415": _problem("A body that is not application/json"),
                    "422": _problem("'sha256' that is not a base64 SHA-256, or an unknown field"),
                },
            }
        },
        "/v1/invoices/{invoice_id}/xml": {
            "get": {
                "operationId": "getInvoiceXml",
                "summary": "The invoice as standard XML: the original XML, the CII of a Factur-X PDF, or the UBL 2.1 "
                "rendition of a JSON invoice (redirect to a short-lived URL)",
                "parameters": [{"name": "invoice_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "302": {"description": "Redirect to the XML"},
                    "409": _problem(
                        "The original is kept in the deep archive for the legal retention: an operator restores it "
                        "on request"
                    ),
                    **_AUTH,
                },
            }
        },
    }
