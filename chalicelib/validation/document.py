"""The parsed input every rule family receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # the semantic model lives in .model
    from lxml import etree

Syntax = Literal["ubl", "cii"]


@dataclass(slots=True)
class Document:
    """One invoice as rules see it: its syntax, its XML tree and its semantic model.

    ``scratch`` is per-document memo space for rule families (facts extracted once and shared by
    several families, the element index): it lives and dies with the Document, so no cache keeps
    a previous invoice's tree alive.
    """

    syntax: Syntax
    root: etree._Element
    invoice: Any  # chalicelib.validation.model.Invoice
    scratch: dict[str, Any] = field(default_factory=dict)
