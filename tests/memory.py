"""How much memory refusing a hostile document takes (tracemalloc peak): a bound tests can assert, unlike time."""

from __future__ import annotations

import tracemalloc

import pytest

from chalicelib.services import intake
from chalicelib.services.errors import Unprocessable


def refusal_and_peak(body: bytes, media: str) -> tuple[Unprocessable, int]:
    """The 422 that intake.prepare answers `body` with, and the peak of Python memory it took to say so."""
    tracemalloc.start()
    try:
        with pytest.raises(Unprocessable) as refused:
            intake.prepare(body, media)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return refused.value, peak
