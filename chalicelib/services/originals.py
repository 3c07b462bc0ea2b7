"""Where originals live in the invoice bucket. The bucket notification filters on this prefix."""

from __future__ import annotations

from ..domain.ids import is_invoice_id

ORIGINALS_PREFIX = "originals/"

# S3 user metadata travels as ASCII HTTP headers: only ids, codes and hashes go there.
META_INVOICE_ID = "invoice-id"
META_SUPPLIER = "supplier-siret"
META_FORMAT = "format"
META_SHA256 = "sha256"
META_RECEIVED_AT = "received-at"


def original_key(invoice_id: str) -> str:
    return f"{ORIGINALS_PREFIX}{invoice_id}"


def invoice_id_from_key(key: str) -> str | None:
    if not key.startswith(ORIGINALS_PREFIX):
        return None
    candidate = key[len(ORIGINALS_PREFIX) :]
    return candidate if is_invoice_id(candidate) else None
