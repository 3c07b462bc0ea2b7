"""Which AWS failures are passing: throttling, an AWS-side 5xx, a timeout or a lost connection. A retry a moment
later may well succeed, so the API answers them 503 with Retry-After. Anything else (AccessDenied, a validation
error, a missing table) is a deployment bug a retry cannot cure."""

from __future__ import annotations

import urllib3.exceptions
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as AwsConnectionError

from ..services.errors import causes

# botocore's own throttling codes (retries/standard.py), and DynamoDB's and S3's conflicts with a write under way.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "RequestThrottled",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "ProvisionedThroughputExceeded",  # a cancellation reason of TransactWriteItems
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "SlowDown",
        "PriorRequestNotComplete",
        "TransactionInProgressException",
        "TransactionConflictException",
        "TransactionConflict",  # a cancellation reason of TransactWriteItems
        "ThrottlingError",  # idem
        "ConditionalRequestConflict",  # S3: another conditional write to the key is under way; AWS says retry
        "OperationAborted",  # S3: a conflicting operation is under way
    }
)
# AWS-side failures: the request was fine, the service was not.
SERVER_ERROR_CODES = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServerErrorException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
TRANSIENT_CODES = THROTTLING_CODES | SERVER_ERROR_CODES

# Connection and timeout errors: botocore's, urllib3's below them, and the built-in ones (ConnectionResetError…).
_TRANSIENT_EXCEPTIONS = (
    AwsConnectionError,  # EndpointConnectionError, ConnectTimeoutError…
    HTTPClientError,  # ReadTimeoutError, ConnectionClosedError…
    urllib3.exceptions.TimeoutError,
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.NewConnectionError,
    TimeoutError,
    ConnectionError,
)


def temporary_failure(exc: BaseException) -> BaseException | None:
    """The passing AWS failure `exc` is or came from (walking the chain a library wraps it in), else None."""
    return next((e for e in causes(exc) if _is_temporary(e)), None)


def _is_temporary(exc: BaseException) -> bool:
    if isinstance(exc, _TRANSIENT_EXCEPTIONS):
        return True
    if not isinstance(exc, ClientError):
        return False
    response = exc.response or {}
    code = response.get("Error", {}).get("Code")
    if code in TRANSIENT_CODES:
        return True
    if code == "TransactionCanceledException":
        return _cancelled_only_by_contention(response.get("CancellationReasons") or [])
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return isinstance(status, int) and (status >= 500 or status == 429)


def _cancelled_only_by_contention(reasons: list[dict]) -> bool:
    """A transaction cancelled by a conflict or a throttle on one of its items, and by nothing else (a failed
    condition is an answer the caller should have mapped, not a passing failure)."""
    codes = [r.get("Code") for r in reasons if r.get("Code") not in (None, "None")]
    return bool(codes) and all(c in TRANSIENT_CODES for c in codes)


def describe(exc: BaseException) -> str:
    """A short log name for a failure: its type and, for an AWS error, its code and operation."""
    if isinstance(exc, ClientError):
        return f"{exc.response.get('Error', {}).get('Code')} on {exc.operation_name}"
    return f"{type(exc).__name__}: {exc}"[:300]
