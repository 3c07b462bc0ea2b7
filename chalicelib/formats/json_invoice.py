"""Structured JSON invoices: the JSON Schema (draft 2020-12) of the EN 16931 semantic model and its
validation (every error with its JSON pointer). A valid document is written as UBL by ubl_writer.to_ubl."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import islice
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker

from . import jsontext

SCHEMA_PATH = Path(__file__).with_name("invoice.schema.json")
MAX_REPORTED_ERRORS = 200


@dataclass(frozen=True, slots=True)
class SchemaError:
    pointer: str  # RFC 6901 JSON pointer of the offending value ("" is the whole document)
    message: str
    keyword: str

    def as_dict(self) -> dict:
        return {"pointer": self.pointer, "message": self.message, "keyword": self.keyword}


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


_XML_STRING_PATTERN = schema()["$defs"]["xml_string"]["pattern"]


_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATES = FormatChecker(formats=())


@_DATES.checks("date")
def _real_date(value) -> bool:
    """A YYYY-MM-DD string must be a day of the calendar (not 2026-02-30); other shapes are the pattern's error."""
    if not isinstance(value, str) or not _DATE_SHAPE.fullmatch(value):
        return True
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(schema())
    # "format" is an annotation in draft 2020-12 unless checked: dates are checked (a real calendar date)
    return Draft202012Validator(schema(), format_checker=_DATES)


def _pointer(path) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


# jsonschema's messages quote the offending value ("'EEEE…' does not match …"): an error shows at most this much of
# it, or a 4 MiB body's one bad value would come back twice in the 422 (message and detail), past Lambda's 6 MB.
MAX_ERROR_TEXT = 300


def _shown(text: str) -> str:
    return text if len(text) <= MAX_ERROR_TEXT else text[: MAX_ERROR_TEXT - 1] + "…"


# An enum longer than this (a code list: UNTDID 4451 has 401 codes) is named by its description, not listed: listed,
# jsonschema's message was cut at MAX_ERROR_TEXT in the middle of the codes.
MAX_LISTED_VALUES = 20


def _message(error) -> str:
    if error.validator == "enum" and len(error.validator_value) > MAX_LISTED_VALUES:
        return (
            f"{error.instance!r} is not one of the {len(error.validator_value)} codes the schema lists here "
            f"({error.schema.get('description', 'a code list')})."
        )
    return error.message


def schema_errors(document) -> list[SchemaError]:
    """The schema violations (empty: the document is valid): the first MAX_REPORTED_ERRORS found, in document order.
    Beyond JSON Schema: a string holding a character an XML invoice cannot carry (a control character, a lone
    surrogate) is refused here, with its pointer, rather than by the UBL writer (keyword "characters").

    Errors are only ever taken up to the limit: a small document of thousands of empty lines has a hundred
    thousand of them, and building them all took gigabytes."""
    # the schema's own character pattern (for integrators' validators) says less than the "characters" error below
    relevant = (
        e
        for e in _validator().iter_errors(document)
        if not (e.validator == "pattern" and e.validator_value == _XML_STRING_PATTERN)
    )
    errors = sorted(islice(relevant, MAX_REPORTED_ERRORS), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    found = [SchemaError(_shown(_pointer(e.absolute_path)), _shown(_message(e)), str(e.validator)) for e in errors]
    found += [
        SchemaError(_shown(pointer), f"The text contains the character {char}, which an invoice cannot carry "
                    "(control characters other than tab and line breaks are refused).", "characters")
        for pointer, char in islice(jsontext.strings_with_forbidden_characters(document), MAX_REPORTED_ERRORS)
    ]  # fmt: skip
    return found[:MAX_REPORTED_ERRORS]


def parse(body: bytes):
    """The JSON value of the body; jsontext.MalformedJson (a ValueError) if it is not UTF-8 JSON or nests too
    deeply. Lone surrogates are taken: validation reports them with the other characters an invoice cannot carry."""
    return jsontext.loads(body, lone_surrogates=True)
