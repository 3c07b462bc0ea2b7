"""Originals in S3: private, encrypted at rest, read back byte for byte; presigned POSTs that let clients upload
files to it (flows' files, attachments)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from botocore.exceptions import ClientError

from ..config import settings
from ..services.errors import Archived
from ..services.layout import is_legal_record
from ..services.ports import ObjectHead, StoredObject
from .aws import client

# Storage classes whose objects must be restored before a GET (Glacier Instant Retrieval serves them at once).
_RESTORE_FIRST = {"DEEP_ARCHIVE", "GLACIER"}


def _archived(key: str) -> Archived:
    return Archived(
        "This original is kept in the deep archive for the legal retention: an operator restores it "
        "(S3 restore, up to 48 hours) before it can be downloaded.",
        key=key,
    )


class S3ObjectStore:
    """The invoice bucket. When the stage locks its legal records (Object Lock without a default retention), each
    one is written with its own retention: files that are not records (uploads not yet checked, derived copies)
    stay free to expire, and writes without a lock need no checksum header."""

    def __init__(self, bucket: str | None = None, lock_mode: str | None = None, lock_days: int | None = None):
        self.bucket = bucket or settings().invoice_bucket
        self.lock_mode = settings().object_lock_mode if lock_mode is None else lock_mode
        self.lock_days = settings().object_lock_days if lock_days is None else lock_days

    def _retention(self, key: str, since: str | None = None) -> dict | None:
        if not (self.lock_mode and self.lock_days > 0 and is_legal_record(key)):
            return None
        start = datetime.fromisoformat(since.replace("Z", "+00:00")) if since else datetime.now(UTC)
        return {"Mode": self.lock_mode, "RetainUntilDate": start + timedelta(days=self.lock_days)}

    def put(self, key: str, data: bytes, content_type: str, metadata: dict[str, str], *, retain: bool = True) -> None:
        """Write the object; a legal record is locked unless `retain` is False (the caller locks it with retain()
        once it is recorded: a file recorded nowhere must not stay locked for the whole retention)."""
        self._put(key, data, content_type, metadata, retain)

    def put_if_absent(
        self, key: str, data: bytes, content_type: str, metadata: dict[str, str], *, retain: bool = True
    ) -> ObjectHead | None:
        """Write the object unless one is already at `key`: None when written, else the head of the object there
        (`retain` as for put).

        A conditional PUT (If-None-Match: *, no extra request): it also holds when botocore re-sends a PUT whose
        answer was lost (the re-sent one gets 412 and the object found is ours)."""
        for attempt in range(2):
            try:
                self._put(key, data, content_type, metadata, retain, IfNoneMatch="*")
                return None
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code not in ("PreconditionFailed", "ConditionalRequestConflict"):
                    raise
                existing = self.head(key)
                if existing is not None:
                    return existing
                if code == "PreconditionFailed" or attempt:
                    raise  # a conflict twice: S3's own passing failure (a 503), which the client's retry resolves
                # 409: another conditional write of the key was in flight and did not complete; S3 says retry.
        raise AssertionError("unreachable")

    def _put(
        self, key: str, data: bytes, content_type: str, metadata: dict[str, str], retain: bool, **condition: str
    ) -> None:
        retention = self._retention(key) if retain else None
        lock = {} if retention is None else {
            "ObjectLockMode": retention["Mode"],
            "ObjectLockRetainUntilDate": retention["RetainUntilDate"],
            "ChecksumAlgorithm": "SHA256",  # S3 takes a retention only with a checksum of the body
        }  # fmt: skip
        client("s3").put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            Metadata=metadata,
            ServerSideEncryption="AES256",
            **lock,
            **condition,
        )

    def retain(self, key: str, since: str | None = None) -> None:
        """Lock an object written unlocked (a presigned upload to the inbox, an attachment once recorded) when it is a
        legal record: one PutObjectRetention, only on a stage that locks. `since` (ISO time, default now) starts the
        retention: locking again from the same time never pushes it further."""
        retention = self._retention(key, since)
        if retention is not None:
            client("s3").put_object_retention(Bucket=self.bucket, Key=key, Retention=retention)

    def get(self, key: str) -> StoredObject | None:
        try:
            response = client("s3").get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return StoredObject(
            data=response["Body"].read(),
            content_type=response.get("ContentType", "application/octet-stream"),
            metadata=response.get("Metadata", {}),
        )

    def head(self, key: str) -> ObjectHead | None:
        try:
            response = client("s3").head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            # HEAD has no body: a missing key is a bare 404 (403 without s3:ListBucket, which the API has).
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise
        return ObjectHead(
            size=response["ContentLength"],
            content_type=response.get("ContentType", "application/octet-stream"),
            metadata=response.get("Metadata", {}),
        )

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        try:
            response = client("s3").get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={offset}-{offset + length - 1}"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidObjectState":
                raise _archived(key) from None
            raise
        return response["Body"].read()

    def copy(self, source_key: str, key: str, *, retain: bool = True) -> None:
        """A server-side copy; a legal record is locked unless `retain` is False (the caller checks it first, and
        locks it with retain() once accepted: a refused file must not stay locked for the whole retention)."""
        copied = client("s3").copy_object(
            Bucket=self.bucket,
            Key=key,
            CopySource={"Bucket": self.bucket, "Key": source_key},
            MetadataDirective="COPY",
            ServerSideEncryption="AES256",
        )
        retention = self._retention(key) if retain else None
        if retention is not None:  # then, on the very version copied (a copy request carries no body checksum)
            version = {"VersionId": copied["VersionId"]} if copied.get("VersionId") else {}
            client("s3").put_object_retention(Bucket=self.bucket, Key=key, Retention=retention, **version)

    def delete(self, key: str) -> None:
        # A versioned bucket keeps the bytes as a noncurrent version (expired by the bucket's lifecycle rules).
        client("s3").delete_object(Bucket=self.bucket, Key=key)

    def download_url(self, key: str, filename: str) -> str:
        """A short-lived URL of the object; Archived (409) when it is in an archive class S3 cannot serve until an
        operator restores it: the URL would only lead to S3's own 403 (InvalidObjectState)."""
        try:
            head = client("s3").head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404", "NotFound"):
                raise
            head = {}  # no object: the URL leads to S3's 404, as it always did
        if head.get("StorageClass") in _RESTORE_FIRST and 'ongoing-request="false"' not in head.get("Restore", ""):
            raise _archived(key)
        return client("s3").generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": attachment_disposition(filename),
            },
            ExpiresIn=settings().download_url_seconds,
        )


# What the quoted ASCII name may not hold: outside printable ASCII, the quoting characters (" and \\), '%' (some
# browsers percent-decode the quoted name), ';' (naive parsers split on it) and what file systems refuse.
_UNSAFE_IN_QUOTED_NAME = re.compile(r'[^\x20-\x7e]|["\\%;/:*?<>|]')
# RFC 5987 attr-char beyond letters and digits: what filename* may carry unencoded
_ATTR_CHARS = "!#$&+-.^_`|~"


def attachment_disposition(filename: str) -> str:
    """Content-Disposition for a download (RFC 6266): a quoted ASCII name for every client, each character it may
    not hold replaced by '_' (spaces kept), and, when that changed the name, the name itself as UTF-8 in filename*
    (RFC 5987), which browsers prefer. The whole value is ASCII, as S3 sends it back as a header."""
    fallback = _UNSAFE_IN_QUOTED_NAME.sub("_", filename) or "invoice"
    if fallback == filename:
        return f'attachment; filename="{fallback}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe=_ATTR_CHARS)}"


class S3UploadSigner:
    def __init__(self, bucket: str | None = None):
        self.bucket = bucket or settings().invoice_bucket

    def presigned_post(self, key: str, fields: dict[str, str], max_bytes: int, expires_in: int) -> dict:
        fixed = {**fields, "x-amz-server-side-encryption": "AES256"}
        conditions = [
            {"bucket": self.bucket},
            ["eq", "$key", key],
            ["content-length-range", 1, max_bytes],
            # Exactly the fields given (S3 refuses a form without a field a condition names, and one with a field
            # none names): an optional checksum is one of them when the ticket asked for it (services/uploads.py).
            *({name: value} for name, value in fixed.items()),
        ]
        signed = client("s3").generate_presigned_post(
            Bucket=self.bucket, Key=key, Fields=fixed, Conditions=conditions, ExpiresIn=expires_in
        )
        return {"url": signed["url"], "fields": signed["fields"]}
