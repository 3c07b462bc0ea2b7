"""Which AWS failures are passing (the API answers them 503 with Retry-After) and which are bugs (500), wrapped as
the libraries wrap them: PynamoDB (PutError… holding the ClientError as `cause`) and Powertools' idempotency."""

from __future__ import annotations

import pytest
import urllib3.exceptions
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyPersistenceLayerError
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from pynamodb.exceptions import GetError, PutError, QueryError, UpdateError

from chalicelib.adapters.aws_failures import describe, temporary_failure
from chalicelib.services.errors import causes, is_infrastructure_error


def client_error(code: str, status: int = 400, operation: str = "PutItem", **response) -> ClientError:
    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}, **response}, operation)


def raised(make_outer, inner: BaseException) -> BaseException:
    """`make_outer(inner)` raised while handling `inner`, as a library raises its wrapper."""
    try:
        try:
            raise inner
        except BaseException as error:
            raise make_outer(error)  # noqa: B904 - implicitly chained (__context__), as PynamoDB raises
    except BaseException as outer:
        return outer


@pytest.mark.parametrize(
    "error",
    [
        client_error("ProvisionedThroughputExceededException"),
        client_error("ThrottlingException"),
        client_error("RequestLimitExceeded"),
        client_error("SlowDown", 503, "PutObject"),
        client_error("TooManyRequestsException", 429),
        client_error("Throttling"),
        client_error("TransactionConflictException"),
        client_error("ConditionalRequestConflict", 409, "PutObject"),
        client_error("InternalServerError", 500),
        client_error("ServiceUnavailable", 503),
        client_error("InternalError", 500, "PutObject"),
        client_error("SomeNewCode", 502),  # any AWS 5xx
        ReadTimeoutError(endpoint_url="https://s3"),
        ConnectTimeoutError(endpoint_url="https://s3"),
        EndpointConnectionError(endpoint_url="https://dynamodb"),
        ConnectionClosedError(endpoint_url="https://s3"),
        urllib3.exceptions.ReadTimeoutError(None, "/", "read timed out"),
        urllib3.exceptions.ProtocolError("Connection aborted."),
        TimeoutError(),
        ConnectionResetError(),
    ],
    ids=lambda e: describe(e)[:40],
)
def test_throttling_aws_5xx_timeouts_and_lost_connections_are_passing(error):
    assert temporary_failure(error) is error


@pytest.mark.parametrize("wrapper", [PutError, GetError, QueryError, UpdateError])
def test_a_pynamodb_error_over_a_throttle_is_passing(wrapper):
    throttle = client_error("ProvisionedThroughputExceededException")
    assert temporary_failure(raised(lambda e: wrapper("Failed", e), throttle)) is throttle
    assert temporary_failure(wrapper("Failed", throttle)) is throttle  # by its `cause` alone, as PynamoDB holds it


def test_a_powertools_persistence_error_over_a_throttle_is_passing():
    throttle = client_error("ThrottlingException", operation="UpdateItem")

    def wrap(error):
        return IdempotencyPersistenceLayerError("Failed to update record state to success", error)

    outer = raised(lambda e: wrap(e), throttle)
    outer.__cause__ = throttle  # Powertools raises it `from` the boto error
    assert temporary_failure(outer) is throttle


@pytest.mark.parametrize(
    "error",
    [
        client_error("AccessDenied", 403, "PutObject"),
        client_error("AccessDeniedException"),
        client_error("ValidationException"),
        client_error("ResourceNotFoundException"),
        client_error("ConditionalCheckFailedException"),
        PutError("Failed", client_error("ValidationException")),
        RuntimeError("a bug"),
        ZeroDivisionError(),
    ],
    ids=lambda e: describe(e)[:40],
)
def test_errors_no_retry_cures_are_not_passing(error):
    assert temporary_failure(error) is None


def test_a_transaction_cancelled_by_contention_only_is_passing():
    def cancelled(*codes):
        reasons = [{"Code": c} for c in codes]
        return client_error("TransactionCanceledException", operation="TransactWriteItems", CancellationReasons=reasons)

    assert temporary_failure(cancelled("None", "TransactionConflict")) is not None
    assert temporary_failure(cancelled("ThrottlingError", "None")) is not None
    assert temporary_failure(cancelled("ConditionalCheckFailed", "TransactionConflict")) is None  # an answer first
    assert temporary_failure(cancelled("ConditionalCheckFailed")) is None


def test_an_error_raised_from_none_replaces_the_throttle_it_handled():
    assert temporary_failure(raised(lambda e: RuntimeError("x"), client_error("ThrottlingException"))) is not None

    def replaced():
        try:
            raise client_error("ThrottlingException")
        except ClientError:
            raise RuntimeError("a bug in the handler") from None

    with pytest.raises(RuntimeError) as error:
        replaced()
    assert temporary_failure(error.value) is None


def test_a_cyclic_chain_ends():
    first, second = RuntimeError("a"), RuntimeError("b")
    first.__cause__, second.__cause__ = second, first
    assert temporary_failure(first) is None and len(causes(first)) == 2


def test_a_wrapped_aws_error_is_an_infrastructure_error_for_the_flows_too():
    # flows reject a file its reading failed on, but must fail (and retry) the message on an AWS error
    assert is_infrastructure_error(PutError("Failed", client_error("AccessDenied", 403)))
    assert is_infrastructure_error(raised(lambda e: GetError("Failed", e), client_error("InternalServerError", 500)))
    assert not is_infrastructure_error(ValueError("not an invoice"))
