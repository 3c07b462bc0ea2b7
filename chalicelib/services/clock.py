"""Timestamps as the API shows them: ISO 8601, UTC, millisecond precision."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_iso(unix: float) -> str:
    """A unix time (expiries, grace periods) to the second, as the API shows times."""
    return datetime.fromtimestamp(unix, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
