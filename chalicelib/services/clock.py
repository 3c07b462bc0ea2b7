"""Timestamps as the API shows them: ISO 8601, UTC, millisecond precision."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_iso(unix: float) -> str:
    """A unix time (expiries, grace periods) to the second, as the API shows times."""
    return datetime.fromtimestamp(unix, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def unix_of(iso: str) -> float:
    """The unix time of a timestamp as the API shows it (the inverse of utc_now and utc_iso)."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
