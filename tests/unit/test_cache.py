"""The per-container cache: bounded by least recent use, with a shorter life for some answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib import clock
from chalicelib.services.cache import TtlCache


@pytest.fixture
def now() -> Iterator[list[float]]:
    moment = [1000.0]
    clock.set_monotonic(lambda: moment[0])
    yield moment
    clock.set_monotonic(None)


def test_past_its_bound_the_least_recently_used_entry_is_dropped(now: list[float]) -> None:
    cache: TtlCache[str, int] = TtlCache(60, max_entries=2)
    cache.get_or_load("a", lambda: 1)
    cache.get_or_load("b", lambda: 2)
    cache.get_or_load("a", lambda: -1)  # a hit: `a` becomes the most recently used

    cache.get_or_load("c", lambda: 3)

    assert len(cache) == 2
    assert cache.get_or_load("a", lambda: -1) == 1
    assert cache.get_or_load("b", lambda: 20) == 20  # reloaded: it had been dropped


def test_a_flood_of_distinct_keys_never_grows_past_the_bound(now: list[float]) -> None:
    cache: TtlCache[str, None] = TtlCache(60, max_entries=50)
    for n in range(1_000):
        cache.get_or_load(f"token-{n}", lambda: None)

    assert len(cache) == 50


def test_negative_answers_live_shorter_than_positive_ones(now: list[float]) -> None:
    cache: TtlCache[str, str | None] = TtlCache(60, ttl_of=lambda value: 60 if value is not None else 5)
    cache.get_or_load("known", lambda: "caller")
    cache.get_or_load("unknown", lambda: None)

    now[0] += 6

    assert cache.get_or_load("known", lambda: "reloaded") == "caller"
    assert cache.get_or_load("unknown", lambda: "reloaded") == "reloaded"


def test_an_entry_expires_after_its_ttl(now: list[float]) -> None:
    cache: TtlCache[str, int] = TtlCache(60)
    cache.get_or_load("plans", lambda: 1)

    now[0] += 60

    assert cache.get_or_load("plans", lambda: 2) == 2
