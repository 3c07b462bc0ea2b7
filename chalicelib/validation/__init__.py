"""EN 16931 validation engine (CEN/TC 434 validation artefacts 1.3.16 semantics), pure Python.

Usage::

    >>> from chalicelib.validation import validate
    >>> report = validate(xml_bytes)
    >>> report.valid, report.fatal, report.warnings, report.findings, report.invoice
"""

from __future__ import annotations

from .engine import ValidationReport, loaded_families, validate, validate_tree
from .findings import FATAL, WARNING, Finding
from .parsing import UnreadableInvoice

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
