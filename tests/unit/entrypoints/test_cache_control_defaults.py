"""`Cache-Control: no-store` is the default of JSON answers and problems; a caller's own header wins."""

from __future__ import annotations

from chalicelib.entrypoints.api import json_response
from chalicelib.entrypoints.problems import from_service_error, problem
from chalicelib.services.errors import NotFound


def test_json_answers_are_private_unless_said_public():
    assert json_response({"id": "1"}).headers["Cache-Control"] == "no-store"
    assert json_response({"id": "1"}, 201, {"Location": "/v1/x"}).headers["Cache-Control"] == "no-store"
    assert "Cache-Control" not in json_response({"status": "ok"}, private=False).headers


def test_an_explicit_cache_control_wins():
    assert json_response({}, headers={"Cache-Control": "private, max-age=5"}).headers["Cache-Control"] == (
        "private, max-age=5"
    )
    assert problem(404, headers={"Cache-Control": "max-age=60"}).headers["Cache-Control"] == "max-age=60"


def test_problems_are_not_stored():
    assert problem(500, detail="boom").headers["Cache-Control"] == "no-store"
    assert from_service_error(NotFound("No invoice x.")).headers["Cache-Control"] == "no-store"
