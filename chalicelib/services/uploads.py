"""Presigned uploads: a client sends one file straight to S3 (a flow's file, or an invoice's attachment)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .ports import UploadSigner

CHECKSUM_ADVICE = (
    "Optional: add the field x-amz-checksum-sha256 (base64 SHA-256 of the file) before the file, and S3 refuses a "
    "file that changed on the way."
)


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
