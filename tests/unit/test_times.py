from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.times import format_rfc3339, month_of, parse_rfc3339


def test_parse_accepts_z_and_offsets_and_returns_utc() -> None:
    assert parse_rfc3339("2026-11-22T21:00:00Z") == datetime(2026, 11, 22, 21, tzinfo=UTC)
    assert parse_rfc3339("2026-11-22T22:00:00+01:00") == datetime(2026, 11, 22, 21, tzinfo=UTC)


@pytest.mark.parametrize("value", ["2026-11-22", "2026-11-22T21:00:00", "yesterday", ""])
def test_parse_refuses_dates_without_time_or_offset(value: str) -> None:
    with pytest.raises(ValueError):
        parse_rfc3339(value)


def test_format_round_trips() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert format_rfc3339(moment) == "2026-01-02T03:04:05Z"
    assert parse_rfc3339(format_rfc3339(moment)) == moment


def test_month_of_is_the_utc_month() -> None:
    assert month_of(parse_rfc3339("2026-12-01T00:30:00+01:00")) == "2026-11"
