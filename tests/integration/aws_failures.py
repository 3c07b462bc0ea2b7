"""Inject AWS failures below every adapter (boto3 and PynamoDB clients alike), as botocore raises them once its
own retries are used up, or as its retries behave after a lost answer."""

from __future__ import annotations

import botocore.client
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

# The HTTP status AWS answers each injected code with: a transient code's 5xx/400 and a deployment bug's 4xx
# (the API's 503 classification reads the status as well as the code).
STATUS_BY_CODE = {
    "SlowDown": 503,
    "InternalError": 500,
    "InternalServerError": 500,
    "ServiceUnavailable": 503,
    "AccessDenied": 403,
    "AccessDeniedException": 400,
    "ValidationException": 400,
    "ResourceNotFoundException": 400,
}


def client_error(code: str, operation: str) -> ClientError:
    status = STATUS_BY_CODE.get(code, 400)  # DynamoDB's and SQS's throttles are 400s
    response = {"Error": {"Code": code, "Message": f"injected {code}"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, operation)


class When:
    """A rule that looks at the call's parameters: `fn(params)` returns an error code, an exception, or None."""

    def __init__(self, fn):
        self.fn = fn


def on_table(table: str, code: str) -> When:
    return When(lambda params: code if params.get("TableName") == table else None)


@pytest.fixture(name="fail")
def fail_fixture(monkeypatch):
    """rules[operation] = an error code | an exception | a list of those, one per call (None lets a call through)
    | When(fn) or a plain function of the call's parameters. An operation without a rule goes to moto; clearing
    the rules ends the outage."""
    rules: dict = {}
    original = botocore.client.BaseClient._make_api_call

    def make_api_call(self, operation_name, api_params):
        rule = rules.get(operation_name)
        if isinstance(rule, list):
            outcome = rule.pop(0) if rule else None
        elif isinstance(rule, When):
            outcome = rule.fn(api_params)
        elif callable(rule):
            outcome = rule(api_params)
        else:
            outcome = rule
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome is not None:
            raise client_error(outcome, operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)
    return rules


@pytest.fixture(name="answer_lost")
def answer_lost_fixture(monkeypatch):
    """answer_lost(operation, table=None, retried=True): the next such call (on that table) lands, but its answer
    is lost. With `retried`, botocore's standard retry sends the same request again and that answer is returned
    (a conditional write then fails its own condition); without, the caller gets the ReadTimeoutError."""
    original = botocore.client.BaseClient._make_api_call
    armed: list = []

    def make_api_call(self, operation_name, api_params):
        for rule in armed:
            operation, table, retried = rule
            if operation == operation_name and table in (None, api_params.get("TableName")):
                armed.remove(rule)
                original(self, operation_name, api_params)  # landed
                if retried:
                    return original(self, operation_name, api_params)
                raise ReadTimeoutError(endpoint_url="http://dynamodb")
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)

    def arm(operation: str, table: str | None = None, retried: bool = True) -> None:
        armed.append((operation, table, retried))

    return arm
