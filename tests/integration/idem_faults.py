"""Failure injection below every adapter (boto3 and PynamoDB clients alike), for the Idempotency-Key tests: an
AWS call that fails, or one whose write lands but whose answer is lost (what the caller sees when every retry of
a read timeout timed out too)."""

from __future__ import annotations

from collections.abc import Callable

import botocore.client
import pytest
from aws_failures import client_error
from botocore.exceptions import ReadTimeoutError

Rule = Callable[[str, dict], str | None]  # (operation, params) -> an error code to raise, or None


class Faults:
    def __init__(self):
        self.failing: list[Rule] = []  # the call fails with the code: nothing reaches AWS
        self.answer_lost: list[Callable[[str, dict], bool]] = []  # the call reaches AWS, then times out (once)

    def fail(self, operation: str, code: str, *, times: int = 1, when: Callable[[dict], bool] = lambda p: True):
        left = [times]

        def rule(op: str, params: dict) -> str | None:
            if op == operation and left[0] > 0 and when(params):
                left[0] -= 1
                return code
            return None

        self.failing.append(rule)

    def lose_answer(self, operation: str, *, when: Callable[[dict], bool] = lambda p: True) -> None:
        left = [1]

        def rule(op: str, params: dict) -> bool:
            if op == operation and left[0] > 0 and when(params):
                left[0] -= 1
                return True
            return False

        self.answer_lost.append(rule)


@pytest.fixture(name="faults")
def faults_fixture(monkeypatch) -> Faults:
    injected = Faults()
    real = botocore.client.BaseClient._make_api_call

    def make_api_call(self, operation, params):
        for rule in injected.failing:
            code = rule(operation, params)
            if code is not None:
                raise client_error(code, operation)
        answer = real(self, operation, params)
        if any(rule(operation, params) for rule in injected.answer_lost):
            raise ReadTimeoutError(endpoint_url="https://injected.invalid")
        return answer

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)
    return injected
