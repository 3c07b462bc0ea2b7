"""The admin bodies' length limits in the OpenAPI document are the ones the directory code enforces: each is read
from the schema and tried on the code, at the limit and one past it."""

from __future__ import annotations

import pytest

from chalicelib.entrypoints.openapi import openapi_document
from chalicelib.services.directory import (
    MAX_NAME_CHARACTERS,
    MAX_SERVICE_CODE_CHARACTERS,
    MIN_IMPORTED_KEY_CHARACTERS,
    SYSTEM_ADMIN,
    import_structures,
    service_from,
    structure_from,
)
from chalicelib.services.errors import Unprocessable

AT = "2026-01-01T00:00:00Z"
STRUCTURE = {"siret": "81234567800013", "name": "Atelier", "roles": ["supplier"]}


def _property(schema: str, name: str) -> dict:
    return openapi_document()["components"]["schemas"][schema]["properties"][name]


def _service(field: str, value: str):
    return service_from({"code": "SERV-1", "name": "Achats", field: value})


def _structure(field: str, value: str):
    return structure_from({**STRUCTURE, field: value}, AT)


@pytest.mark.parametrize(
    ("schema", "field", "build"),
    [
        ("ServiceInput", "code", _service),
        ("ServiceInput", "name", _service),
        ("StructureInput", "name", _structure),
        ("ImportedStructure", "name", _structure),
    ],
)
def test_the_documented_max_length_is_the_code_s(schema, field, build):
    limit = _property(schema, field)["maxLength"]
    build(field, "x" * limit)
    with pytest.raises(Unprocessable, match=f"at most {limit} characters"):
        build(field, "x" * (limit + 1))


class _Reached(Exception):
    """The import got past its rows' own checks to the directory."""


class _Directory:
    def structures(self, sirets):
        raise _Reached


def test_the_documented_least_imported_key_length_is_the_code_s():
    least = _property("ImportedStructure", "api_keys")["items"]["minLength"]
    with pytest.raises(_Reached):
        import_structures(SYSTEM_ADMIN, [{**STRUCTURE, "api_keys": ["k" * least]}], directory=_Directory())
    with pytest.raises(Unprocessable, match=f"at least {least} characters"):
        import_structures(SYSTEM_ADMIN, [{**STRUCTURE, "api_keys": ["k" * (least - 1)]}], directory=_Directory())


def test_the_limits_come_from_the_directory_code():
    # one definition: changing a limit there changes the document (no literal restated in the OpenAPI module)
    assert _property("ServiceInput", "code")["maxLength"] == MAX_SERVICE_CODE_CHARACTERS
    for schema in ("ServiceInput", "StructureInput", "ImportedStructure"):
        assert _property(schema, "name")["maxLength"] == MAX_NAME_CHARACTERS
    assert _property("ImportedStructure", "api_keys")["items"]["minLength"] == MIN_IMPORTED_KEY_CHARACTERS
