"""Syntax readers: UBL and CII trees → the EN 16931 semantic model (``read(root, document)``)."""

from __future__ import annotations

from typing import Any

from ..model import Invoice
from . import cii, ubl


def read_invoice(root: Any, syntax: str, document: str) -> Invoice:
    """Build the semantic model of an already detected UBL/CII root element."""
    if syntax == "ubl":
        return ubl.read(root, document)
    return cii.read(root, document)


__all__ = ["cii", "read_invoice", "ubl"]
