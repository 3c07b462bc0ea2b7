"""AWS failures injected below every adapter (boto3 clients and PynamoDB's alike, Powertools' too): moto never
throttles, times out or fails on its side."""

from __future__ import annotations

from collections.abc import Callable

import botocore.client
import pytest
from botocore.exceptions import ClientError

# The HTTP status AWS answers each injected code with: a transient code's 5xx/400 and a deployment bug's 4xx.
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
    status = STATUS_BY_CODE.get(code, 400)  # DynamoDB's throttles are 400s
    response = {"Error": {"Code": code, "Message": f"injected {code}"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, operation)


Rule = str | BaseException | Callable[[dict], "str | BaseException | None"] | None


def inject_failures(monkeypatch: pytest.MonkeyPatch) -> dict[str, Rule]:
    """rules[operation] = an error code, an exception, or a function of the call's parameters giving one of those
    (None: the call goes through). Clearing the rules ends the outage."""
    rules: dict[str, Rule] = {}
    original = botocore.client.BaseClient._make_api_call

    def make_api_call(self, operation_name, api_params):
        rule = rules.get(operation_name)
        failure = rule(api_params) if callable(rule) else rule
        if isinstance(failure, BaseException):
            raise failure
        if failure is not None:
            raise client_error(failure, operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)
    return rules
