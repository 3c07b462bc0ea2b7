"""How much memory refusing a hostile document takes (tracemalloc peak): a bound tests can assert, unlike time."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import TypeVar

import pytest

from chalicelib.services import intake
from chalicelib.services.errors import Unprocessable

T = TypeVar("T")


def result_and_peak(call: Callable[[], T]) -> tuple[T, int]:
    """What `call()` returns, and the peak of Python memory it allocated meanwhile."""
    tracemalloc.start()
    try:
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def refusal_and_peak(body: bytes, media: str) -> tuple[Unprocessable, int]:
    """The 422 that intake.prepare answers `body` with, and the peak of Python memory it took to say so."""

    def refuse() -> Unprocessable:
        with pytest.raises(Unprocessable) as refused:
            intake.prepare(body, media)
        return refused.value

    return result_and_peak(refuse)
