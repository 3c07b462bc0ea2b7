"""The Problem schema declares every extension member a refusal carries: a generated client's model has a field for
each (retry_after_seconds, unknown_fields…) rather than leaving them to an untyped bag."""

from __future__ import annotations

import ast
from pathlib import Path

from jsonschema import Draft202012Validator

from chalicelib.entrypoints.openapi import openapi_document
from chalicelib.entrypoints.problems import EXTENSION_MEMBERS, problem_body
from chalicelib.services import errors

CHALICELIB = Path(__file__).resolve().parents[3] / "chalicelib"
STANDARD_MEMBERS = {"type", "title", "status", "detail", "instance"}
PROBLEM_ARGUMENTS = {"headers"}  # problem()'s own parameters, not members


def _refusal_names() -> set[str]:
    """Every ServiceError class, and what builds a problem from keywords."""
    found, pending = set(), [errors.ServiceError]
    while pending:
        kind = pending.pop()
        found.add(kind.__name__)
        pending.extend(kind.__subclasses__())
    return found | {"problem", "problem_body", "refusal"}


def _members_raised() -> dict[str, str]:
    """Each keyword a refusal is built with in chalicelib (a problem member), with one place it is."""
    names, members = _refusal_names(), {}
    for path in CHALICELIB.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name in names:
                for keyword in node.keywords:
                    if keyword.arg and keyword.arg not in STANDARD_MEMBERS | PROBLEM_ARGUMENTS:
                        members.setdefault(keyword.arg, f"{path.relative_to(CHALICELIB)}:{node.lineno}")
    return members


def test_every_member_a_refusal_carries_is_declared():
    raised = _members_raised()
    assert {"retry_after_seconds", "unknown_fields", "accepted", "reason", "errors"} <= set(raised)  # the scan works
    undeclared = {name: where for name, where in raised.items() if name not in EXTENSION_MEMBERS}
    assert not undeclared, f"add these to problems.EXTENSION_MEMBERS: {undeclared}"


def test_members_added_outside_a_refusal_are_declared():
    # the middleware's request_id and the shortened problem's truncated flag are added by the entrypoints themselves
    assert {"request_id", "truncated"} <= set(EXTENSION_MEMBERS)


def test_the_problem_schema_declares_them_typed_and_described():
    problem = openapi_document()["components"]["schemas"]["Problem"]
    assert "additionalProperties" not in problem  # a newer server's member still validates for an older client
    for name in EXTENSION_MEMBERS:
        declared = problem["properties"][name]
        assert declared.get("description"), name
        assert "type" in declared or "enum" in declared, name
    assert STANDARD_MEMBERS <= set(problem["properties"])


def test_real_problems_validate_against_their_members():
    document = openapi_document()
    schema = {"$ref": "#/components/schemas/Problem", "components": document["components"]}
    validator = Draft202012Validator(schema)
    for error in (
        errors.InvalidInput("x", unknown_parameters=["a"], unknown_parameters_count=25, accepted=["limit"]),
        errors.StillInProgress("x"),
        errors.Conflict("x", allowed=[205, 210]),
        errors.Unprocessable("x", reason="schema", errors=[{"pointer": "/a", "message": "m", "keyword": "type"}]),
        errors.UnsupportedMediaType("x", declared="application/xml", found="pdf"),
    ):
        body = problem_body(400, detail=error.detail, **error.extra)
        assert not list(validator.iter_errors(body)), body
    wrong = problem_body(429, retry_after_seconds="soon")
    assert list(validator.iter_errors(wrong))  # the members are typed, not just named
