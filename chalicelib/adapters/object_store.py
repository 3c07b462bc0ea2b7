"""Originals in S3: private, encrypted at rest, read back byte for byte."""

from __future__ import annotations

from botocore.exceptions import ClientError

from ..config import settings
from ..services.errors import Archived
from ..services.ports import ObjectHead, StoredObject
from .aws import client


class S3OriginalStore:
    def __init__(self, bucket: str | None = None):
        self.bucket = bucket or settings().invoice_bucket

    def put(self, key: str, data: bytes, content_type: str, metadata: dict[str, str]) -> None:
        client("s3").put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            Metadata=metadata,
            ServerSideEncryption="AES256",
        )

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
                raise Archived(
                    "This original is kept in the deep archive for the legal retention: an operator restores it "
                    "(S3 restore, up to 48 hours) before it can be downloaded.",
                    key=key,
                ) from None
            raise
        return response["Body"].read()

    def copy(self, source_key: str, key: str) -> None:
        client("s3").copy_object(
            Bucket=self.bucket,
            Key=key,
            CopySource={"Bucket": self.bucket, "Key": source_key},
            MetadataDirective="COPY",
            ServerSideEncryption="AES256",
        )

    def delete(self, key: str) -> None:
        # A versioned bucket keeps the bytes as a noncurrent version (expired by the bucket's lifecycle rules).
        client("s3").delete_object(Bucket=self.bucket, Key=key)

    def download_url(self, key: str, filename: str) -> str:
        safe_name = "".join(c for c in filename if c.isalnum() or c in "._-") or "invoice"
        return client("s3").generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{safe_name}"',
            },
            ExpiresIn=settings().download_url_seconds,
        )
