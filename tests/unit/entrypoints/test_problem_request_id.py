"""A problem names its request (review finding: a 500 said "it has been logged" with no id leading to the log
line): on AWS every problem carries API Gateway's request id, which the logs carry as correlation_id."""

from __future__ import annotations

import json
from types import SimpleNamespace

from chalice import Response

from chalicelib.entrypoints.middleware import problem_details
from chalicelib.entrypoints.problems import problem


def event(request_id=None):
    context = {"requestId": request_id} if request_id else {}
    return SimpleNamespace(path="/v1/invoices/x", context=context, headers={}, query_params=None, uri_params=None)


def failing(_event):
    raise RuntimeError("boom")


def test_an_unhandled_error_is_a_500_naming_its_request():
    response = problem_details(event("abc-123"), failing)
    body = json.loads(response.body)
    assert response.status_code == 500 and body["request_id"] == "abc-123"
    assert "abc-123" in body["detail"] and "boom" not in response.body


def test_every_problem_names_its_request_and_other_answers_are_untouched():
    refused = problem_details(event("abc-124"), lambda _e: problem(404, detail="No such invoice."))
    assert json.loads(refused.body) == {
        **json.loads(problem(404, detail="No such invoice.").body),
        "request_id": "abc-124",
    }
    ok = Response(body='{"id": "1"}', status_code=200, headers={"Content-Type": "application/json"})
    assert problem_details(event("abc-125"), lambda _e: ok).body == '{"id": "1"}'


def test_without_a_request_id_locally_the_problem_is_as_before():
    body = json.loads(problem_details(event(), failing).body)
    assert "request_id" not in body and body["detail"] == "An internal error occurred; it has been logged."
