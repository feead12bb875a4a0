"""A tiny per-container cache with a TTL, for facts that may be up to a minute old (plans, causes, keys).

Bounded: past `max_entries`, the least recently used entry is dropped, so keys chosen by clients
(bearer tokens) cannot grow a container's memory without limit.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from chalicelib import clock

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(
        self, ttl_seconds: float, max_entries: int = 1000, ttl_of: Callable[[V], float] | None = None
    ) -> None:
        """`ttl_of(value)` may give some values a shorter life (e.g. negative answers)."""
        self.ttl_seconds = ttl_seconds
        self.max_entries = max(max_entries, 1)
        self._ttl_of = ttl_of
        # key → (expires at, value), least recently used first.
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_load(self, key: K, load: Callable[[], V]) -> V:
        entry = self._entries.get(key)
        now = clock.monotonic()
        if entry is not None and now < entry[0]:
            self._entries.move_to_end(key)
            return entry[1]
        value = load()
        ttl = min(self.ttl_seconds, self._ttl_of(value)) if self._ttl_of is not None else self.ttl_seconds
        self._entries[key] = (now + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return value

    def invalidate(self, key: K | None = None) -> None:
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)
