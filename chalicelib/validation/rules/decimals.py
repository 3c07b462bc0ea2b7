"""Placeholder: rules being implemented."""

from __future__ import annotations

from collections.abc import Iterable


def check(doc) -> Iterable:
    return ()
