"""Hostile JSON: nested past any reason (RecursionError in json.loads), strings no XML invoice can carry."""

import json
import re

import pytest
from jsonschema import Draft202012Validator
from structured_invoices import json_invoice

from chalicelib.formats import json_invoice as json_format
from chalicelib.formats import jsontext
from chalicelib.services import intake
from chalicelib.services.errors import InvalidInput, Unprocessable


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000, b"[" * 65 + b"]" * 65],
    ids=["deep-array", "deep-object", "just-over-the-depth"],
)
def test_deeply_nested_json_is_malformed_not_a_recursion_error(body):
    with pytest.raises(jsontext.MalformedJson) as refused:
        jsontext.loads(body)
    assert "nested too deeply" in refused.value.detail
    with pytest.raises(InvalidInput) as deposit:
        intake.prepare(body, "application/json")
    assert deposit.value.extra["reason"] == "malformed-json"


def test_json_within_the_depth_and_with_tabs_and_line_breaks_reads():
    assert jsontext.loads(b"[" * 64 + b"]" * 64) is not None
    document = json_invoice("J-OK")
    document["notes"][0]["text"] = "line 1\nline 2\tend"
    assert json_format.schema_errors(document) == []


@pytest.mark.parametrize("char", ["\u0001", "\u0000", "\u001f", "\ud800", "\uffff"])
def test_a_json_invoice_with_a_character_xml_cannot_carry_is_a_schema_error_with_its_pointer(char):
    document = json_invoice("J-1")
    document["number"] = f"A{char}B"
    errors = json_format.schema_errors(document)
    assert [(e.pointer, e.keyword) for e in errors] == [("/number", "characters")]
    published = Draft202012Validator(json_format.schema())  # the schema says it too, to an integrator's validator
    found = [(list(e.absolute_path), e.validator) for e in published.iter_errors(document)]
    assert found == [(["number"], "pattern")]
    with pytest.raises(Unprocessable) as refused:
        intake.prepare(json.dumps(document).encode(), "application/json")
    assert refused.value.extra["reason"] == "schema" and refused.value.extra["errors"][0]["pointer"] == "/number"


def test_every_string_of_the_published_schema_says_which_characters_it_takes():
    """A string type without a pattern of its own refers to xml_string: the schema never admits a control
    character the platform refuses."""
    loose = []
    stack = [("", json_format.schema())]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "string" and "pattern" not in node:
                loose.append(path)
            stack.extend((f"{path}/{key}", child) for key, child in node.items())
        elif isinstance(node, list):
            stack.extend((f"{path}/{i}", child) for i, child in enumerate(node))
    assert loose == []


def _patterns(node):
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for child in node.values():
            yield from _patterns(child)
    elif isinstance(node, list):
        for child in node:
            yield from _patterns(child)


def test_the_schema_patterns_mean_the_same_in_python_and_in_ecmascript():
    """No construct whose meaning differs between Python's re (the platform) and ECMA-262 (integrators' validators):
    no \\s, \\S, \\w, \\d, \\b classes, and no '$' (Python's also matches before a final line feed)."""
    patterns = list(_patterns(json_format.schema()))
    assert len(patterns) > 10
    for pattern in patterns:
        assert not re.search(r"\\[sSwWdDbB]|\$$", pattern.replace("(?![\\s\\S])", "")), pattern


def test_a_text_of_blanks_only_is_refused_as_python_would():
    text = re.compile(json_format.schema()["$defs"]["text"]["pattern"])
    differ = [c for c in range(0x10000) if bool(text.search(chr(c))) != bool(re.search(r"\S", chr(c)))]
    assert differ == []


@pytest.mark.parametrize(
    "field, value", [("currency", "EUR\n"), ("issue_date", "2024-01-01\n"), ("type_code", "380\n")]
)
def test_a_code_with_a_trailing_line_feed_is_refused(field, value):
    document = json_invoice("J-LF")
    document[field] = value
    assert [(e.pointer, e.keyword) for e in json_format.schema_errors(document)] == [(f"/{field}", "pattern")]


@pytest.mark.parametrize(
    "body, where",
    [(b'{"comment": "ok \\ud800"}', "/comment"), (b'{"a": ["x", "\\udc00y"]}', "/a/1"),
     (b'{"\\udbff": 1}', "/\\udbff"), ('{"name": "\ud800"}', "/name")],
)  # fmt: skip
def test_a_lone_surrogate_is_malformed_json_with_its_place(body, where):
    """Review finding: "\\ud800" is valid JSON syntax, but no UTF-8 encoder takes it: nine routes answered 500."""
    with pytest.raises(jsontext.MalformedJson) as refused:
        jsontext.loads(body)
    assert f"at {where} holds a lone UTF-16 surrogate" in refused.value.detail
    refused.value.detail.encode("utf-8")  # the problem itself can be sent


def test_surrogate_pairs_and_escaped_backslashes_read():
    assert jsontext.loads(b'{"a": "\\ud83d\\ude00", "b": "\\\\ud800"}') == {"a": "\U0001f600", "b": "\\ud800"}
    assert jsontext.loads(b'{"a": "\\ud800"}', lone_surrogates=True) == {"a": "\ud800"}  # the invoice path


def test_a_small_json_invoice_with_a_hundred_thousand_schema_errors_builds_only_those_it_reports():
    """Review finding: 16 KB of empty lines drew every error (+126 MiB, 3.8 s; 241 KB: +2 GiB) before the first
    200 were kept. Errors are now only ever taken up to the limit."""
    from memory import refusal_and_peak

    document = json_invoice()
    document["lines"] = [{}] * 20_000
    body = json.dumps(document, separators=(",", ":")).encode()
    assert len(body) < 70_000
    refused, peak = refusal_and_peak(body, "application/json")
    assert len(refused.extra["errors"]) == json_format.MAX_REPORTED_ERRORS
    assert refused.extra["errors"][0]["pointer"] == "/lines/0"
    assert peak < 40 * 1024 * 1024, f"{peak / 1e6:.0f} MB to refuse {len(body)} bytes"


# Under 8 bytes a value of the 2M below: what the walks keep follows the nesting and the matches, not the values.
WALK_MEMORY_BOUND = 16 * 1024 * 1024


def test_looking_for_forbidden_characters_in_two_million_values_takes_memory_for_the_matches_only():
    """Review finding (r24): a 4 MiB body of 2M zeros, posted as a JSON invoice (or with one "\\ud800" to any JSON
    route), took 426 MiB here (a pointer and a tuple for every value) and about 500 MB in the 512 MB API Lambda."""
    from memory import result_and_peak

    document = [0] * 2_000_000 + [{"a~/b": ["fine", "bell\x07"], "k\x01": None}]
    found, peak = result_and_peak(lambda: list(jsontext.strings_with_forbidden_characters(document)))
    assert found == [("/2000000/k\x01", "U+0001"), ("/2000000/a~0~1b/1", "U+0007")]
    assert peak < WALK_MEMORY_BOUND, f"{peak / 1e6:.0f} MB to walk {len(document)} values"


def test_measuring_the_depth_of_two_million_arrays_takes_memory_for_the_nesting_only():
    from memory import result_and_peak

    document = [[]] * 2_000_000 + [[[{"a": [1]}]]]
    over, peak = result_and_peak(lambda: (jsontext.depth_over(document, 5), jsontext.depth_over(document, 4)))
    assert over == (False, True)
    assert peak < WALK_MEMORY_BOUND, f"{peak / 1e6:.0f} MB to walk {len(document)} values"


def test_a_lone_surrogate_in_an_invoice_key_is_reported_with_a_pointer_that_can_be_sent():
    """Review finding: the pointer held the raw surrogate: the 422 could not be encoded, and in a flow the file's
    error could not be stored (the flow stayed IN_RECU)."""
    body = json.dumps({**json_invoice(), "PLACEHOLDER": 1}).replace("PLACEHOLDER", "\\ud800").encode()
    with pytest.raises(Unprocessable) as refused:
        intake.prepare(body, "application/json")
    errors = refused.value.extra["errors"]
    json.dumps(errors, ensure_ascii=False).encode("utf-8")  # the problem can be sent
    assert any(e["pointer"] == "/\\ud800" and e["keyword"] == "characters" for e in errors), errors
