"""The one source of time and ids for services, so that tests can set the clock.

Domain code never calls this: services read `clock.now()` once per use case and pass it down.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731
_monotonic: Callable[[], float] = time.monotonic


def now() -> datetime:
    """The current moment, timezone-aware UTC."""
    return _now()


def set_clock(source: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests, the benchmark); None restores the system clock."""
    global _now
    _now = source if source is not None else (lambda: datetime.now(UTC))


def epoch_seconds() -> int:
    return int(now().timestamp())


def monotonic() -> float:
    """Seconds on a clock that never goes back (cache lifetimes); only differences mean anything."""
    return _monotonic()


def set_monotonic(source: Callable[[], float] | None) -> None:
    """Replace the monotonic clock (tests); None restores the system's."""
    global _monotonic
    _monotonic = source if source is not None else time.monotonic


def new_id(prefix: str) -> str:
    """A random, URL-safe id such as `key_3f9c...`."""
    return f"{prefix}_{secrets.token_hex(10)}"
