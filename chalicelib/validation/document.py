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

    ``nodes`` is every node of the tree in document order (``list(root.iter())``; the parser drops
    comments and processing instructions), or None. Besides sparing the syntax passes their own walk,
    holding it keeps lxml's proxy objects alive while the families run: lxml keeps one Python
    object per node only while something references it, so without this list every family
    touching an element would allocate and free its proxy again (a tenth of the validation time).
    A live proxy also keeps its ``tag`` string once built, so ``el.tag`` costs a lookup, not a
    string formatting, after the first family has read it.
    """

    syntax: Syntax
    root: etree._Element
    invoice: Any  # chalicelib.validation.model.Invoice
    scratch: dict[str, Any] = field(default_factory=dict)
    nodes: list | None = None

    def iter_nodes(self) -> Any:
        """Every node in document order, like ``root.iter()``."""
        return self.nodes if self.nodes is not None else self.root.iter()
