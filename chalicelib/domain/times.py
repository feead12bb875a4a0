"""RFC 3339 UTC timestamps, the only time format of the API."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_rfc3339(value: str) -> datetime:
    """Parse an RFC 3339 timestamp with an explicit offset into an aware UTC datetime.

    Raises ValueError for anything else (naive times are ambiguous and refused).
    """
    if not isinstance(value, str) or "T" not in value.upper():
        raise ValueError("expected an RFC 3339 timestamp such as 2026-11-22T21:00:00Z")
    parsed = datetime.fromisoformat(value.replace("z", "Z"))
    if parsed.tzinfo is None:
        raise ValueError("timestamp needs a UTC offset, e.g. a trailing Z")
    return parsed.astimezone(UTC)


def format_rfc3339(moment: datetime) -> str:
    """`2026-11-22T21:00:00Z`; sub-second precision is kept only when present."""
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def month_of(moment: datetime) -> str:
    """The `YYYY-MM` period a moment falls in (UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m")
