"""One test of "the write's condition was false" for every DynamoDB adapter: PynamoDB's errors and botocore's."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import DeleteError, PutError, UpdateError

from chalicelib.adapters.tables import is_conditional_failure


def client_error(code: str, operation: str = "PutItem") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


@pytest.mark.parametrize("error_class", [PutError, UpdateError, DeleteError])
def test_a_pynamodb_conditional_check_failure_is_one(error_class):
    assert is_conditional_failure(error_class("Failed", client_error("ConditionalCheckFailedException")))


OTHER_CODES = ["ProvisionedThroughputExceededException", "ThrottlingException", "ValidationException",
               "TransactionCanceledException", "InternalServerError"]  # fmt: skip


@pytest.mark.parametrize("code", OTHER_CODES)
def test_other_dynamodb_errors_are_not(code):
    assert not is_conditional_failure(DeleteError("Failed", client_error(code, "DeleteItem")))
    assert not is_conditional_failure(client_error(code))


def test_errors_without_a_dynamodb_code_are_not():
    assert not is_conditional_failure(DeleteError("Failed"))  # e.g. a network error: no response at all
    assert not is_conditional_failure(DeleteError("Failed", ConnectionError("reset")))
    assert not is_conditional_failure(ValueError("ConditionalCheckFailedException"))  # the text is not the code


def test_a_botocore_conditional_check_failure_is_one():
    assert is_conditional_failure(client_error("ConditionalCheckFailedException"))


def test_an_item_over_dynamodb_s_size_limit_is_told_from_other_validation_errors():
    from chalicelib.adapters.tables import is_item_too_large

    def validation(message: str) -> ClientError:
        return ClientError({"Error": {"Code": "ValidationException", "Message": message}}, "PutItem")

    too_large = validation("Item size has exceeded the maximum allowed size")
    assert is_item_too_large(PutError("Failed", too_large)) and is_item_too_large(too_large)
    assert not is_item_too_large(PutError("Failed", validation("One or more parameter values were invalid")))
    assert not is_item_too_large(PutError("Failed", client_error("ConditionalCheckFailedException")))
    assert not is_item_too_large(PutError("Failed"))
