"""Processing one deposited original in tests (production processes objects: processing.process_object)."""

from __future__ import annotations

from chalicelib.domain.invoice import Invoice
from chalicelib.services.processing import process_object


def process_original(key: str, **ports) -> Invoice | None:
    """The invoice of a single original taken to its first status (None for a key that is not an original)."""
    processed = process_object(key, **ports)
    return processed.invoices[0] if processed.invoices else None
