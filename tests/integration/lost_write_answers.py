"""Failures of the invoice table's writes, injected under every adapter (botocore's BaseClient._make_api_call, which
boto3 and PynamoDB clients share): what a save sees once botocore's own retries are used up."""

from __future__ import annotations

import json

import botocore.client
import pytest
from aws_failures import client_error
from botocore.exceptions import ClientError, ReadTimeoutError
from demo import SUPPLIER_KEY, auth
from invoices import ubl_invoice

from chalicelib.config import settings


class InvoiceWrites:
    """Arm one failure of the next invoice PutItem (the invoice's save)."""

    def __init__(self):
        self.mode: str | None = None

    def committed_then_resent(self) -> None:
        """The write lands, its answer is lost; botocore's standard retry resends the very same conditional PutItem,
        which fails the version check the first one moved (ConditionalCheckFailed)."""
        self.mode = "resent"

    def committed_then_timed_out(self) -> None:
        """The write lands, and every attempt's answer is lost: the caller sees a ReadTimeoutError."""
        self.mode = "timeout"

    def committed_then_timed_out_and_unreadable(self) -> None:
        """As committed_then_timed_out, and the re-read that follows (the next GetItem of the table) is throttled."""
        self.mode = "timeout+unreadable"

    def throttled(self) -> None:
        """DynamoDB refuses the write (nothing lands)."""
        self.mode = "throttled"


def throttling(operation: str) -> ClientError:
    return client_error("ProvisionedThroughputExceededException", operation)


@pytest.fixture(name="invoice_writes")
def invoice_writes_fixture(monkeypatch) -> InvoiceWrites:
    writes = InvoiceWrites()
    original = botocore.client.BaseClient._make_api_call

    def make_api_call(self, operation, params):
        mode = writes.mode
        if mode is None or params.get("TableName") != settings().invoice_table:
            return original(self, operation, params)
        if mode == "unreadable" and operation == "GetItem":
            writes.mode = None
            raise throttling(operation)
        if operation != "PutItem":
            return original(self, operation, params)
        writes.mode = "unreadable" if mode == "timeout+unreadable" else None
        if mode == "throttled":
            raise throttling(operation)
        original(self, operation, params)  # committed; its answer is lost
        if mode != "resent":
            raise ReadTimeoutError(endpoint_url="https://dynamodb.eu-west-3.amazonaws.com")
        return original(self, operation, params)  # the resend

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)
    return writes


@pytest.fixture(name="made_available")
def made_available_fixture(client, pump):
    """Deposit a valid invoice and process it: a fresh 203 invoice id per call."""
    counter = iter(range(10_000))

    def make() -> str:
        body = ubl_invoice(f"F-LOST-{next(counter)}")
        deposited = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/xml"}),
                                     body=body)  # fmt: skip
        while pump.deliver_sqs_once("validate_invoices"):
            pass
        return json.loads(deposited.body)["id"]

    return make
