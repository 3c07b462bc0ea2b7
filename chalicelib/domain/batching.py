"""Splitting a sequence into bounded batches (S3 bundles, DynamoDB items, SNS publish batches). Pure."""

from __future__ import annotations

from collections.abc import Callable


def chunks(items: list, *, count: int, budget: int, size: Callable) -> list[list]:
    """Consecutive items in chunks of at most `count` items and `budget` of `size(item)` (the same chunks for
    the same items: a retry rewrites the same objects or items)."""
    result, current, used = [], [], 0
    for item in items:
        if current and (len(current) == count or used + size(item) > budget):
            result.append(current)
            current, used = [], 0
        current.append(item)
        used += size(item)
    if current:
        result.append(current)
    return result
