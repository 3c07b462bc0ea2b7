"""A refusal names what it refuses within bounds (review finding): echoing a request's unknown field names or a
bad value in full made a 3.2 MB body's 422 over the 6 MB Lambda can return, a 502 any API key could cause."""

from __future__ import annotations

import json

import pytest
from structured_invoices import json_invoice

from chalicelib.entrypoints.problems import MAX_PROBLEM_BYTES, from_service_error, problem
from chalicelib.formats.json_invoice import MAX_ERROR_TEXT, schema_errors
from chalicelib.services.errors import (
    MAX_FIELD_NAME_SHOWN,
    MAX_UNKNOWN_FIELDS_LISTED,
    Unprocessable,
    refuse_unknown_fields,
)


def test_unknown_fields_are_listed_within_bounds_and_counted():
    body = {f"{i:06d}" + "x" * 60: 1 for i in range(50_000)}  # 3.3 MB of names
    with pytest.raises(Unprocessable) as refused:
        refuse_unknown_fields(body, ("code",), "a status change")
    problem_json = from_service_error(refused.value).body
    assert len(problem_json.encode()) < 20_000
    listed = json.loads(problem_json)
    assert len(listed["unknown_fields"]) == MAX_UNKNOWN_FIELDS_LISTED and listed["unknown_fields_count"] == 50_000
    assert all(len(name) <= MAX_FIELD_NAME_SHOWN for name in listed["unknown_fields"])
    assert "and 49980 more" in listed["detail"]


def test_a_few_short_unknown_fields_are_listed_as_they_are():
    with pytest.raises(Unprocessable) as refused:
        refuse_unknown_fields({"montant": 1, "code": 212}, ("code",), "a status change")
    assert refused.value.extra == {"unknown_fields": ["montant"], "unknown_fields_count": None}


def test_a_json_invoice_s_schema_errors_quote_at_most_a_bounded_part_of_the_value():
    document = json_invoice()
    document["currency"] = "E" * 1_000_000
    document["x" * 100_000] = 1
    errors = schema_errors(document)
    assert errors and all(len(e.message) <= MAX_ERROR_TEXT and len(e.pointer) <= MAX_ERROR_TEXT for e in errors)
    assert any(e.pointer == "/currency" for e in errors)


def test_a_problem_over_the_size_cap_keeps_its_start_and_its_small_members():
    response = problem(422, "Invalid", "d" * 1_000_000, errors=["e" * 1000] * 1000, reason_code="REJ_X")
    assert len(response.body.encode()) <= MAX_PROBLEM_BYTES
    body = json.loads(response.body)
    assert body["truncated"] is True and body["reason_code"] == "REJ_X" and "errors" not in body
    assert body["detail"].startswith("ddd") and body["status"] == 422
    small = json.loads(problem(422, "Invalid", "short", errors=["e"]).body)
    assert "truncated" not in small and small["errors"] == ["e"]
