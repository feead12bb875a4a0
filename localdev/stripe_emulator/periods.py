"""Billing periods on the calendar, as Stripe counts them."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime


def add_interval(start: int, interval: str, count: int) -> int:
    """`start` moved by `count` intervals, on the calendar (Stripe bills Jan 31 → Feb 28 → Mar 31 ...)."""
    moment = datetime.fromtimestamp(start, UTC)
    if interval == "day":
        return start + 86_400 * count
    if interval == "week":
        return start + 7 * 86_400 * count
    months = count * (12 if interval == "year" else 1)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())
