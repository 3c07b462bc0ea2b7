"""The invoice bucket's key layout: where originals (alone or in bundles), their download copies, flow files and
attachments live, and the metadata they carry. The bucket notifications filter on the originals and inbox
prefixes."""

from __future__ import annotations

from urllib.parse import quote, unquote

from ..domain.ids import is_ulid
from ..domain.invoice import Invoice
from .ports import ObjectStore

ORIGINALS_PREFIX = "originals/"
INBOX_PREFIX = "inbox/"  # a flow's file (a posted or uploaded archive or invoice), named by the flow's id
ATTACHMENTS_PREFIX = "attachments/"

# S3 user metadata travels as ASCII HTTP headers: only ids, codes and hashes go there.
META_INVOICE_ID = "invoice-id"
META_SUPPLIER = "supplier-siret"
META_FORMAT = "format"
META_SHA256 = "sha256"
META_RECEIVED_AT = "received-at"
META_SUPPLIER_NAME = "supplier-name"  # percent-encoded UTF-8 (metadata is ASCII)
META_MEDIA = "media-type"  # a bundled original's content type (a single original has its own)
META_FLOW_ID = "flow-id"
META_FLOW_FILE = "flow-file"  # the file's key in the flow ("file#00001")
META_UPLOAD_NAME = "filename"  # a single-file upload's name (encode_name), as POST /v1/uploads was told

BUNDLES_PREFIX = f"{ORIGINALS_PREFIX}bundles/"  # many originals of a flow in one object (formats.bundles)
DOWNLOADS_PREFIX = "downloads/"  # a bundled original copied out once for presigned downloads
# What the legal retention keeps unalterable (Object Lock, when the stage has it): the originals as received
# (alone or bundled), the flow files they came in, the attachments. Renditions and download copies are derived,
# and uploads/ holds files not yet checked: they stay free to expire.
LEGAL_RECORD_PREFIXES = (ORIGINALS_PREFIX, INBOX_PREFIX, ATTACHMENTS_PREFIX)


def is_legal_record(key: str) -> bool:
    return key.startswith(LEGAL_RECORD_PREFIXES)


def original_key(invoice_id: str) -> str:
    return f"{ORIGINALS_PREFIX}{invoice_id}"


def invoice_id_from_key(key: str) -> str | None:
    return _id_after(ORIGINALS_PREFIX, key)


def inbox_key(flow_id: str) -> str:
    return f"{INBOX_PREFIX}{flow_id}"


def flow_id_from_inbox_key(key: str) -> str | None:
    return _id_after(INBOX_PREFIX, key)


def _id_after(prefix: str, key: str) -> str | None:
    candidate = key[len(prefix) :] if key.startswith(prefix) else ""
    return candidate if is_ulid(candidate) else None


def attachment_key(invoice_id: str, attachment_id: str) -> str:
    return f"{ATTACHMENTS_PREFIX}{invoice_id}/{attachment_id}"


def bundle_key(flow_id: str, number: int) -> str:
    return f"{BUNDLES_PREFIX}{flow_id}-{number:04d}.tar"


def is_bundle_key(key: str) -> bool:
    return key.startswith(BUNDLES_PREFIX) and key.endswith(".tar")


def bundle_flow_and_number(key: str) -> tuple[str, int] | None:
    """(flow id, bundle number) of a bundle key; None for any other key."""
    if not is_bundle_key(key):
        return None
    flow_id, _, number = key[len(BUNDLES_PREFIX) : -len(".tar")].rpartition("-")
    return (flow_id, int(number)) if is_ulid(flow_id) and number.isascii() and number.isdigit() else None


def download_key(invoice_id: str) -> str:
    return f"{DOWNLOADS_PREFIX}{invoice_id}"


# S3 refuses more than 2 KB of user metadata (keys and values): a name takes at most this much of it. 200
# characters of 4 bytes would take 2,400 (12 bytes each, percent-encoded).
NAME_METADATA_BYTES = 512
NAME_CUT = "*"  # quote() escapes '*': an encoded name never ends with one, so it marks a name cut to fit


def encode_name(name: str) -> str:
    """The name percent-encoded; cut on a character boundary (and marked) to fit NAME_METADATA_BYTES."""
    encoded = quote(name, safe=" ")
    if len(encoded) <= NAME_METADATA_BYTES:
        return encoded
    kept, size = [], len(NAME_CUT)
    for character in name:
        size += len(quote(character, safe=" "))
        if size > NAME_METADATA_BYTES:
            break
        kept.append(character)
    return quote("".join(kept), safe=" ") + NAME_CUT


def name_was_cut(metadata: dict[str, str]) -> bool:
    """Whether the metadata's supplier name was cut to fit (the directory has it whole)."""
    return metadata.get(META_SUPPLIER_NAME, "").endswith(NAME_CUT)


def decode_name(encoded: str) -> str:
    """The name encode_name() encoded, a cut one ending with '…'."""
    return unquote(encoded.removesuffix(NAME_CUT)) + ("…" if encoded.endswith(NAME_CUT) else "")


def deposited(invoice_id: str, originals: ObjectStore) -> Invoice | None:
    """The undecided deposit `invoice_id`, read from its original (None when there is no such original)."""
    key = original_key(invoice_id)
    head = originals.head(key)
    return deposited_invoice(invoice_id, key, head.content_type, head.size, head.metadata) if head else None


def deposited_invoice(
    invoice_id: str, key: str, content_type: str, size: int, metadata: dict[str, str], offset: int | None = None
) -> Invoice:
    """An invoice that processing has not decided yet, as its original's metadata describes it.

    It has no record: processing writes the record once, with its decision."""
    received_at = metadata.get(META_RECEIVED_AT, "")
    return Invoice(
        id=invoice_id,
        supplier_siret=metadata.get(META_SUPPLIER, ""),
        supplier_name=decode_name(metadata.get(META_SUPPLIER_NAME, "")),
        format=metadata.get(META_FORMAT, "unknown"),
        content_type=content_type,
        original_key=key,
        original_size=size,
        original_sha256=metadata.get(META_SHA256, ""),
        created_at=received_at,
        updated_at=received_at,
        original_offset=offset,
        flow_id=metadata.get(META_FLOW_ID),
        flow_file=metadata.get(META_FLOW_FILE),
    )
