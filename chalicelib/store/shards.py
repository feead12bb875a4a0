"""Write sharding: which of N items a write lands on, and which items a reader must visit.

A running total that every order updates (a cause's month, the cause's all-time sums, a program
aggregate) would put a whole peak's writes on one item and one partition key; DynamoDB serves about
1,000 write units per second per partition and cancels transactions that touch the same item at the
same moment. Instead each fact is added to one of N shard items, picked by a stable hash of the fact's
own id (so a retried fact lands on the same shard), and readers sum the N shards.

N (`TOTALS_SHARDS`) may grow at any time without a migration: writers use the current N, readers visit
shards 0..N-1, which include every shard a smaller N ever wrote. Lowering it would hide the higher
shards from readers: run `python -m ops.rebuild_totals --write` right after lowering it.
The same scheme spreads the reconcile index over `RECONCILE_BUCKETS` partition keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from chalicelib.settings import settings

T = TypeVar("T")


def shard_of(key: str, count: int) -> int:
    """A stable shard in 0..count-1 for `key`: the same in every process (unlike `hash()`), well spread."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def totals_shard(fact_id: str) -> int:
    """The shard that the running totals of the fact (a ledger entry id, ...) are added to."""
    return shard_of(fact_id, settings.totals_shards)


def totals_shards() -> range:
    """Every shard a reader of running totals must sum."""
    return range(settings.totals_shards)


def reconcile_bucket(customer_ref: str) -> int:
    """The reconcile-index bucket a shopper is filed under."""
    return shard_of(customer_ref, settings.reconcile_buckets)


def reconcile_buckets() -> range:
    """Every bucket the reconciliation job walks."""
    return range(settings.reconcile_buckets)


def every_shard(query: Callable[[int], Iterable[T]]) -> Iterator[T]:
    """The items `query(shard)` finds on every shard a reader must sum: the one "visit every shard" loop
    of the running totals' readers (donations, program and cohort counters)."""
    for shard in totals_shards():
        yield from query(shard)
