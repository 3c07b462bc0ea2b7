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
NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# JSON's "\ud800" escapes give Python strings no UTF-8 encoder takes (pairs are joined into one character).
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # only such an escape (or a str argument) can bring one
_END = object()  # an iterator's "no more values"


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
    """Whether arrays/objects nest deeper than max_depth (iterative: no recursion on hostile input). Memory follows
    the nesting, not the number of values: one iterator per open array/object."""
    if not isinstance(value, (dict, list)):
        return False
    if max_depth < 1:
        return True
    open_containers = [_values(value)]
    while open_containers:
        for child in open_containers[-1]:
            if isinstance(child, (dict, list)):
                if len(open_containers) >= max_depth:
                    return True
                open_containers.append(_values(child))
                break
        else:
            open_containers.pop()
    return False


def strings_with_forbidden_characters(value: Any) -> Iterator[tuple[str, str]]:
    """(JSON pointer, the character as U+XXXX) of every string (keys included) an XML document cannot carry."""
    return _characters(value, NOT_XML_CHARS)


def _characters(value: Any, pattern: re.Pattern) -> Iterator[tuple[str, str]]:
    """(JSON pointer, the first character as U+XXXX) of every string (keys included) where `pattern` is found.

    Depth first, in document order, except that an object's matching keys come (last key first) before what its
    values hold. Memory follows the nesting and the matches, not the number of values (a 4 MiB body has 2M): only
    an iterator per open array/object and the key or index being walked in each; a pointer is built for a match."""
    path: list[str | int] = []  # the key or index of the current value in each open array/object
    open_containers: list[Iterator[tuple[str | int, Any]]] = []
    current = value
    while True:
        if isinstance(current, str):
            found = pattern.search(current)
            if found:
                yield _pointer(path), f"U+{ord(found.group()):04X}"
        elif isinstance(current, dict):
            for key in reversed(current):
                found = pattern.search(key)
                if found:
                    yield _pointer([*path, key]), f"U+{ord(found.group()):04X}"
            open_containers.append(iter(current.items()))
            path.append("")
        elif isinstance(current, list):
            open_containers.append(enumerate(current))
            path.append(0)
        current = _END
        while open_containers and current is _END:
            for step, child in open_containers[-1]:
                if isinstance(child, (str, dict, list)):  # numbers, booleans and null hold no string
                    path[-1], current = step, child
                    break
            else:
                open_containers.pop()
                path.pop()
        if current is _END:
            return


def _values(container: dict | list) -> Iterator[Any]:
    return iter(container.values() if isinstance(container, dict) else container)


def _pointer(path: list[str | int]) -> str:
    pointer = "".join(f"/{_escape(step)}" if isinstance(step, str) else f"/{step}" for step in path)
    if _SURROGATE.search(pointer):  # a pointer is sent in the problem: never a string UTF-8 cannot encode
        pointer = pointer.encode("utf-8", "backslashreplace").decode()
    return pointer


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
