"""EN 16931 validation engine (CEN/TC 434 validation artefacts 1.3.16 semantics), pure Python.

Usage::

    >>> from chalicelib.validation import validate
    >>> report = validate(xml_bytes)
    >>> report.valid, report.fatal, report.warnings, report.findings, report.invoice
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .findings import FATAL, WARNING, Finding
from .parsing import UnreadableInvoice

if TYPE_CHECKING:
    from .engine import ValidationReport, loaded_families, validate, validate_tree

_ENGINE_NAMES = frozenset({"ValidationReport", "loaded_families", "validate", "validate_tree"})


def __getattr__(name: str):
    # The rule tables load on first use, not when a caller only needs the hardened parser (the API).
    if name in _ENGINE_NAMES:
        from . import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FATAL",
    "WARNING",
    "Finding",
    "UnreadableInvoice",
    "ValidationReport",
    "loaded_families",
    "validate",
    "validate_tree",
]
