"""What a use case can refuse, by kind; entrypoints map each kind to its HTTP status."""

from __future__ import annotations


class ServiceError(Exception):
    title = "Request refused"

    def __init__(self, detail: str, **extra):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


def is_infrastructure_error(exc: BaseException) -> bool:
    """An error of the platform itself (AWS, the network, memory) that a retry may cure, as opposed to a file that
    cannot be read: the message it came from must fail and be retried, not the file be rejected. (By module, so
    that use cases need not import botocore.)"""
    if isinstance(exc, (ConnectionError, TimeoutError, MemoryError)):
        return True
    return any(k.__module__.split(".")[0] in ("botocore", "boto3", "urllib3") for k in type(exc).__mro__)


class InvalidInput(ServiceError):
    title = "Invalid request"


class Unprocessable(ServiceError):
    title = "Unprocessable content"


class PayloadTooLarge(ServiceError):
    title = "Payload too large"


class UnsupportedMediaType(ServiceError):
    title = "Unsupported media type"


class Unauthenticated(ServiceError):
    title = "Authentication required"


class Forbidden(ServiceError):
    title = "Forbidden"


class NotFound(ServiceError):
    title = "Not found"


class Conflict(ServiceError):
    title = "Conflict"


class ConcurrentUpdate(Conflict):
    title = "Concurrent update"


class RecordFull(Conflict):
    """The change would take the invoice's record over the store's item size limit (DynamoDB: 400 KB)."""

    title = "Invoice record full"


class DuplicateNumber(Conflict):
    title = "Duplicate invoice number"


class TooManyRequests(ServiceError):
    title = "Too many requests"


class Archived(Conflict):
    """The object is in an archive class that needs a restore before it can be read (S3 Deep Archive)."""

    title = "Archived"


def refuse_unknown_fields(body: dict, known: tuple[str, ...], what: str) -> None:
    """422 listing the fields a request body has that `what` has not (read-only ones such as updated_at included):
    a misspelt field is an error, never silently ignored."""
    unknown = sorted(str(k) for k in body if k not in known)
    if unknown:
        raise Unprocessable(
            f"Unknown or read-only fields {unknown}: {what} accepts {list(known)}.", unknown_fields=unknown
        )
