"""What the middleware answers an exception a view let escape: a passing AWS failure is a 503 problem with
Retry-After, logged as a warning (no stack trace per throttle at the month-end peak); anything else a 500."""

from __future__ import annotations

import json
from types import SimpleNamespace

from botocore.exceptions import ClientError
from pynamodb.exceptions import QueryError

from chalicelib.entrypoints import middleware
from chalicelib.entrypoints.middleware import UNAVAILABLE_RETRY_AFTER_SECONDS, problem_details
from chalicelib.entrypoints.problems import from_service_error
from chalicelib.services.errors import StillInProgress


class Log:
    def __init__(self):
        self.lines: list[tuple[str, str]] = []

    def warning(self, message, *args):
        self.lines.append(("warning", message % args))

    def exception(self, message, *args):
        self.lines.append(("exception", message % args))


def event(path="/v1/invoices", method="GET", headers=None, request_id="req-1"):
    context = {"requestId": request_id}
    return SimpleNamespace(path=path, method=method, context=context, headers=headers or {})


def throttled(_event):
    try:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "Query")
    except ClientError as error:
        raise QueryError("Failed to query items", error) from error


def test_a_throttle_is_a_503_logged_as_a_warning(monkeypatch):
    log = Log()
    monkeypatch.setattr(middleware, "logger", log)
    response = problem_details(event(), throttled)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(UNAVAILABLE_RETRY_AFTER_SECONDS)
    body = json.loads(response.body)
    assert body["type"].endswith("/service-unavailable") and body["request_id"] == "req-1"
    assert log.lines == [("warning", "AWS temporarily unavailable on /v1/invoices: "
                          "ProvisionedThroughputExceededException on Query")]  # fmt: skip


def test_the_retry_advice_names_the_idempotency_key_where_the_route_takes_one():
    sent = json.loads(problem_details(event("/v1/invoices", "POST", {"idempotency-key": "k"}), throttled).body)
    assert "with the same Idempotency-Key" in sent["detail"]
    not_sent = json.loads(problem_details(event("/v1/invoices", "POST"), throttled).body)
    assert "with an Idempotency-Key" in not_sent["detail"]
    read = json.loads(problem_details(event("/v1/invoices", "GET"), throttled).body)
    assert "Idempotency-Key" not in read["detail"]


def test_a_bug_stays_a_500_logged_with_its_stack(monkeypatch):
    log = Log()
    monkeypatch.setattr(middleware, "logger", log)

    def bug(_event):
        raise KeyError("x")

    response = problem_details(event(), bug)
    assert response.status_code == 500 and "Retry-After" not in response.headers
    assert [level for level, _ in log.lines] == ["exception"]


def test_a_request_still_in_progress_is_a_409_with_retry_after():
    response = from_service_error(StillInProgress("A request with this Idempotency-Key is still being processed."))
    assert response.status_code == 409 and int(response.headers["Retry-After"]) > 0
    assert json.loads(response.body)["type"].endswith("/conflict")


def test_a_chalice_5xx_message_is_never_echoed():
    """A ChaliceViewError(500)'s own message (it may name internals) becomes the generic detail."""
    import json

    from chalice import Response

    from chalicelib.entrypoints.problems import from_chalice_error

    raised = Response(body={"Code": "ChaliceViewError", "Message": "table chorale-prod-invoices: ValidationException"},
                      status_code=500)
    body = json.loads(from_chalice_error(raised).body)
    assert body["status"] == 500 and body["detail"] == "An internal error occurred; it has been logged."
    bad = json.loads(from_chalice_error(Response(body={"Code": "BadRequestError", "Message": "Bad JSON"},
                                                 status_code=400)).body)
    assert bad["detail"] == "Bad JSON"
