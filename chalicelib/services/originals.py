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
META_MEDIA = "media-type"  # a bundled original's content type (a single original has its own)
META_FLOW_ID = "flow-id"
META_FLOW_FILE = "flow-file"  # the file's key in the flow ("file#00001")

BUNDLES_PREFIX = f"{ORIGINALS_PREFIX}bundles/"  # many originals of a flow in one object (formats.bundles)
DOWNLOADS_PREFIX = "downloads/"  # a bundled original copied out for a presigned download (expires in a day)


def original_key(invoice_id: str) -> str:
    return f"{ORIGINALS_PREFIX}{invoice_id}"


def invoice_id_from_key(key: str) -> str | None:
    if not key.startswith(ORIGINALS_PREFIX):
        return None
    candidate = key[len(ORIGINALS_PREFIX) :]
    return candidate if is_invoice_id(candidate) else None


def bundle_key(flow_id: str, number: int) -> str:
    return f"{BUNDLES_PREFIX}{flow_id}-{number:04d}.tar"


def is_bundle_key(key: str) -> bool:
    return key.startswith(BUNDLES_PREFIX) and key.endswith(".tar")


def download_key(invoice_id: str) -> str:
    return f"{DOWNLOADS_PREFIX}{invoice_id}"
