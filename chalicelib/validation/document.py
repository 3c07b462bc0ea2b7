"""The parsed input every rule family receives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # the semantic model lives in .model
    from lxml import etree

Syntax = Literal["ubl", "cii"]


@dataclass(slots=True)
class Document:
    """One invoice as rules see it: its syntax, its XML tree and its semantic model."""

    syntax: Syntax
    root: "etree._Element"
    invoice: Any  # chalicelib.validation.model.Invoice
