"""What a use case can refuse, by kind; entrypoints map each kind to its HTTP status."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping


class ServiceError(Exception):
    title = "Request refused"

    def __init__(self, detail: str, **extra):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


MAX_CAUSES_WALKED = 16  # a chain is a few links deep; the bound only guards against a pathological one


def causes(exc: BaseException) -> list[BaseException]:
    """`exc` and what it came from: its `__cause__`, its `__context__` (unless raised `from None`, which says the new
    error replaces it), and PynamoDB's `cause` (PutError, QueryError… hold the botocore error there). Libraries wrap
    AWS errors this way (PynamoDB, Powertools' idempotency errors), so what failed is often a few links down."""
    found: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending and len(found) < MAX_CAUSES_WALKED:
        current = pending.pop(0)
        if any(current is seen for seen in found):
            continue
        found.append(current)
        linked = [current.__cause__, getattr(current, "cause", None)]
        if not current.__suppress_context__:
            linked.append(current.__context__)
        pending.extend(e for e in linked if isinstance(e, BaseException))
    return found


def is_infrastructure_error(exc: BaseException) -> bool:
    """An error of the platform itself (AWS, the network, memory) that a retry may cure, as opposed to a file that
    cannot be read: the message it came from must fail and be retried, not the file be rejected. Wrapped ones too
    (a PynamoDB PutError over a throttle). (By module, so that use cases need not import botocore.)"""
    return any(_is_platform_error(e) for e in causes(exc))


def _is_platform_error(exc: BaseException) -> bool:
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


class IdempotencyKeyReused(Conflict):
    """An Idempotency-Key already used (by this caller, on this route) with another request: never the first's
    answer, never a second write."""

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request: use a new key for each new request."
        )


class StillInProgress(Conflict):
    """A request with the same Idempotency-Key is still running: a retry a moment later gets its answer. It has
    usually ended within a second or two; a crashed one frees its key when its invocation would have timed out."""

    title = "Request in progress"
    RETRY_AFTER_SECONDS = 2

    def __init__(self, detail: str, **extra):
        super().__init__(detail, **{"retry_after_seconds": self.RETRY_AFTER_SECONDS, **extra})


class DuplicateNumber(Conflict):
    title = "Duplicate invoice number"


class TooManyRequests(ServiceError):
    title = "Too many requests"


class Archived(Conflict):
    """The object is in an archive class that needs a restore before it can be read (S3 Deep Archive)."""

    title = "Archived"


# A refusal names what it refuses, within bounds: an answer echoing a request's unknown names in full could be
# larger than the request and than what Lambda can return (6 MB), a 502 any key could cause.
MAX_UNKNOWN_FIELDS_LISTED = 20
MAX_FIELD_NAME_SHOWN = 100


def refuse_unknown_fields(
    body: dict, known: tuple[str, ...], what: str, refusal: type[ServiceError] = Unprocessable
) -> None:
    """422 listing the fields a request body has that `what` has not (read-only ones such as updated_at included):
    a misspelt field is an error, never silently ignored. At most MAX_UNKNOWN_FIELDS_LISTED names are listed, each
    cut to MAX_FIELD_NAME_SHOWN characters (`unknown_fields_count` then says how many there were). `refusal` is the
    error of a route documented with another status (a subscription's 400)."""
    unknown = sorted(str(k) for k in body if k not in known)
    if not unknown:
        return
    listed, shown, count = _bounded(unknown)
    raise refusal(
        f"Unknown or read-only fields {shown}: {what} accepts {list(known)}.",
        unknown_fields=listed,
        unknown_fields_count=count,
    )


def _bounded(names: list[str]) -> tuple[list[str], str, int | None]:
    """At most MAX_UNKNOWN_FIELDS_LISTED names, each cut to MAX_FIELD_NAME_SHOWN characters; how the detail shows
    them; and how many there were when the list is not all of them as given (else None)."""
    listed = [
        name if len(name) <= MAX_FIELD_NAME_SHOWN else name[: MAX_FIELD_NAME_SHOWN - 1] + "…"
        for name in names[:MAX_UNKNOWN_FIELDS_LISTED]
    ]
    more = len(names) - len(listed)
    shown = f"{listed}" + (f" and {more} more" if more else "")
    return listed, shown, len(names) if more or listed != names else None


# A cache-buster (`_=<ms>`, added by jQuery's and many HTTP layers' no-cache option) filters nothing: every listing
# ignores it (review r44 F2), so such a client keeps working; it is never read, nor bound into a cursor.
IGNORED_PARAMETERS = ("_",)


def known_parameters(given: Mapping[str, list[str]], accepted: tuple[str, ...]) -> dict[str, str]:
    """A listing's query parameters (each name with every value it was given), one value each. An unknown name
    (a misspelt or unsupported filter) or a name given twice is a 400 naming it: ignoring a filter, or keeping
    one of its values, would answer with another listing than the one asked for (a clerk's whole inbox).
    IGNORED_PARAMETERS are dropped first, whatever their values."""
    given = {name: values for name, values in given.items() if name not in IGNORED_PARAMETERS}
    unknown = sorted(str(name) for name in given if name not in accepted)
    if unknown:
        listed, shown, count = _bounded(unknown)
        raise InvalidInput(
            f"Unknown query parameters {shown}: this listing accepts {list(accepted)}.",
            unknown_parameters=listed,
            unknown_parameters_count=count,
            accepted=list(accepted),
        )
    repeated = sorted(name for name, values in given.items() if len(values) > 1)
    if repeated:
        raise InvalidInput(
            f"Query parameters given more than once: {repeated}. Give each at most once (a parameter that takes "
            "several values takes them comma-separated).",
            repeated_parameters=repeated,
        )
    return {name: values[0] for name, values in given.items() if values}


def request_sha256(body: object) -> str:
    """A JSON request's fingerprint (SHA-256, hex), whatever its key order and spacing: what a retry under the same
    Idempotency-Key must send again."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))  # ASCII: a lone surrogate encodes too
    return hashlib.sha256(canonical.encode()).hexdigest()
