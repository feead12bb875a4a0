"""A tiny per-container cache with a TTL, for facts that may be up to a minute old (plans, causes, keys)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from chalicelib import clock

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds
        self._entries: dict[K, tuple[float, V]] = {}

    def get_or_load(self, key: K, load: Callable[[], V]) -> V:
        entry = self._entries.get(key)
        now = clock.monotonic()
        if entry is not None and now - entry[0] < self.ttl_seconds:
            return entry[1]
        value = load()
        self._entries[key] = (now, value)
        return value

    def invalidate(self, key: K | None = None) -> None:
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)
