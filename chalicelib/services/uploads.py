"""Presigned uploads: a client sends one file straight to S3 (a flow's file, or an invoice's attachment)."""

from __future__ import annotations

import base64
import binascii
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain.invoice import has_visible_character
from . import layout
from .errors import Unprocessable
from .ports import UploadSigner

CHECKSUM_FIELD = "x-amz-checksum-sha256"
# The request field that asks for it (POST /v1/uploads and POST /v1/invoices/{id}/attachments/uploads)
SHA256_PROPERTY = {
    "type": "string",
    "description": "Optional: the file's SHA-256 in base64; the ticket's fields then carry it, and S3 refuses another "
    "file. Send exactly the fields given: S3 refuses a form with a field more or less.",
}
CHECKSUM_ADVICE = (
    "Optional: give 'sha256' (the file's SHA-256, base64) when asking for the ticket: its fields then carry it, and "
    "S3 refuses a file that changed on the way. Send exactly the fields given: S3 refuses any other."
)


def checksum_fields(sha256: object) -> dict[str, str]:
    """The form field that makes S3 check the file against the SHA-256 the client gave (none when it gave none).

    A POST policy names every field the form sends and S3 refuses a form without one it names, so an optional
    checksum is decided when the ticket is signed, not by the client afterwards."""
    if sha256 is None:
        return {}
    try:
        digest = base64.b64decode(sha256, validate=True) if isinstance(sha256, str) else b""
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 32:
        raise Unprocessable(
            "'sha256' must be the file's SHA-256 digest in base64 (44 characters: "
            "openssl dgst -sha256 -binary FILE | base64).",
            field="sha256",
        )
    return {CHECKSUM_FIELD: sha256}


MAX_UPLOAD_NAME = 500  # as a flow report's names (archive members' names are cut there)
UPLOAD_NAME_PROPERTY = {
    "type": "string",
    "maxLength": MAX_UPLOAD_NAME,
    "description": "Optional: the file's name, which names a single invoice's file in its flow report (`files[].name`; "
    "`invoice` without it). An archive's files keep their own names.",
    "examples": ["facture-2026-0042.pdf"],
}


def upload_name_fields(name: object) -> dict[str, str]:
    """The form field that names a single-file upload in its flow report (none when the client gave no name).
    Decided when the ticket is signed, as the checksum: the policy fixes every field."""
    if name is None:
        return {}
    if (
        not isinstance(name, str)
        or not has_visible_character(name)
        or len(name) > MAX_UPLOAD_NAME
        or any(unicodedata.category(c) == "Cc" for c in name)
    ):
        raise Unprocessable(
            f"'name' must be the file's name: text of at most {MAX_UPLOAD_NAME} characters, with a visible character "
            "and no control character.",
            field="name",
        )
    return {f"x-amz-meta-{layout.META_UPLOAD_NAME}": layout.encode_name(unicodedata.normalize("NFC", name.strip()))}


@dataclass(frozen=True, slots=True)
class PresignedUpload:
    """A browser-style S3 POST for one file: where to send it, with which fields, until when, and how much."""

    upload_id: str
    url: str
    fields: dict[str, str]
    expires_at: str  # ISO 8601, UTC, to the second
    max_bytes: int


def presign_upload(
    signer: UploadSigner,
    key: str,
    upload_id: str,
    fields: dict[str, str],
    *,
    max_bytes: int,
    expires_in: int,
    issued_at: str,
) -> PresignedUpload:
    """Sign a POST of at most `max_bytes` to exactly `key` with these fields, valid `expires_in` seconds from
    `issued_at` (an ISO timestamp from the service's clock)."""
    signed = signer.presigned_post(key, fields, max_bytes, expires_in)
    expires_at = datetime.fromisoformat(issued_at) + timedelta(seconds=expires_in)
    return PresignedUpload(
        upload_id,
        signed["url"],
        signed["fields"],
        expires_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        max_bytes,
    )
