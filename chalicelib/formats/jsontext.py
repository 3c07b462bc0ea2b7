"""Reading untrusted JSON text: the one parser of request bodies and JSON invoices.

`json.loads` alone raises RecursionError (not ValueError) on `[[[[…` a hundred thousand deep, and a value nested
a few hundred deep still reaches code that recurses (schema validation, serialisers). Here every failure is a
`MalformedJson` (a ValueError) with a message for people, and nesting is bounded well below Python's limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

MAX_DEPTH = 64  # arrays and objects inside each other; the deepest document of the API is under 10

# What an XML 1.0 document cannot carry (and lxml refuses when it writes one): C0 controls other than tab, line
# feed and carriage return, lone UTF-16 surrogates (JSON's "\ud800"), and U+FFFE/U+FFFF.
_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# JSON's "\ud800" escapes give Python strings no UTF-8 encoder takes (pairs are joined into one character).
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # only such an escape (or a str argument) can bring one


class MalformedJson(ValueError):
    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def loads(body: bytes | str, *, max_depth: int = MAX_DEPTH, lone_surrogates: bool = False) -> Any:
    """The JSON value of UTF-8 text (a byte order mark is allowed), or MalformedJson saying why not.

    A string holding a lone UTF-16 surrogate ("\ud800", not a character: RFC 7493 forbids it) is refused too,
    unless `lone_surrogates` (a caller that reports them itself, with every other character it cannot take)."""
    try:
        text = body.decode("utf-8-sig") if isinstance(body, (bytes, bytearray)) else body
    except UnicodeDecodeError as exc:
        raise MalformedJson(f"The body is not UTF-8 text: {exc}.") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise MalformedJson(f"The JSON is nested too deeply (more than {max_depth} levels).") from None
    except ValueError as exc:
        raise MalformedJson(f"The body is not valid JSON: {exc}.") from None
    if depth_over(value, max_depth):
        raise MalformedJson(f"The JSON is nested too deeply (more than {max_depth} levels).")
    if not lone_surrogates and (_SURROGATE_ESCAPE.search(text) or not isinstance(body, (bytes, bytearray))):
        found = next(_characters(value, _SURROGATE), None)
        if found is not None:
            where = found[0] or "/"
            raise MalformedJson(
                f"The string at {where} holds a lone UTF-16 surrogate ({found[1]}), which is not a character: "
                "escape characters beyond U+FFFF as a surrogate pair."
            )
    return value


def depth_over(value: Any, max_depth: int) -> bool:
    """Whether arrays/objects nest deeper than max_depth (iterative: no recursion on hostile input)."""
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            children = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def strings_with_forbidden_characters(value: Any) -> Iterator[tuple[str, str]]:
    """(JSON pointer, the character as U+XXXX) of every string (keys included) an XML document cannot carry."""
    return _characters(value, _NOT_XML_CHARS)


def _characters(value: Any, pattern: re.Pattern) -> Iterator[tuple[str, str]]:
    """(JSON pointer, the first character as U+XXXX) of every string (keys included) where `pattern` is found."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        current, pointer = stack.pop()
        if isinstance(current, str):
            found = pattern.search(current)
            if found:
                yield pointer, f"U+{ord(found.group()):04X}"
        elif isinstance(current, dict):
            for key, child in reversed(list(current.items())):
                child_pointer = f"{pointer}/{_escape(key)}"
                if _SURROGATE.search(key):  # a pointer is sent in the problem: never a string UTF-8 cannot encode
                    child_pointer = child_pointer.encode("utf-8", "backslashreplace").decode()
                found = pattern.search(key)
                if found:
                    yield child_pointer, f"U+{ord(found.group()):04X}"
                stack.append((child, child_pointer))
        elif isinstance(current, list):
            stack.extend((child, f"{pointer}/{i}") for i, child in reversed(list(enumerate(current))))


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
