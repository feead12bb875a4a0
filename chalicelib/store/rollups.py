"""Rolled-up totals: each report period's write-sharded counters summed over every shard into one item,
so that a report reads one Query instead of one per shard.

Items in the `program` table, hash `rollup#<kind>` (kind: `program`, `cohort`, `month`, `all`), range the
period (`YYYY-MM`, or `all` for the donations' all-time sums): `rows` is the JSON of every counter key of
that period with its numeric fields summed over shards 0..N-1, `as_of` the moment the shards were read
(ISO 8601, UTC). The shards are read strongly consistent after `as_of` was taken, so a rollup counts
every write committed before `as_of`.

A rollup is a snapshot, never added to: whoever refreshes it sums the shards again, so a late write into
any period (a backdated order, a refund of an old order, a cohort's later revenue) counts at the next
refresh exactly as it does in the shards. Readers refresh the periods whose rollup is missing or older
than `REPORTS_MAX_AGE_SECONDS` (in one pass: one Query per shard over the stale periods, one
BatchWriteItem per 25 periods), so a report normally costs one Query per kind it reads. Orders, refunds
and fees never touch a rollup, so no item or key is shared by the busy writes. The brand's own rare
writes — a payout and its void — drop the donation rollups they change (`forget_donations`) in their own
transaction, so the finance person sees the balance they just changed at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import UnicodeAttribute

from chalicelib import clock
from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta, BaseModel
from chalicelib.store.shards import every_shard
from chalicelib.store.transaction import Transaction

ALL = "all"
# A report renewing more periods than this sums them without storing their rollups, so that one report never
# writes more than 5 BatchWriteItems (the API allows 120 months per report; the operators' donation command
# is not bounded).
STORED_PERIODS = 125
# How long a rollup answers for its period (0: never; every report sums the shards).
_max_age_seconds = settings.reports_max_age_seconds


@contextmanager
def kept_for(seconds: int) -> Iterator[None]:
    """Rollups answer for `seconds` until the block ends (tests and the bench measure both ways)."""
    global _max_age_seconds
    previous, _max_age_seconds = _max_age_seconds, seconds
    try:
        yield
    finally:
        _max_age_seconds = previous


def max_age_seconds() -> int:
    return _max_age_seconds


class RollupRecord(BaseModel):
    class Meta(BaseMeta):
        table_name = settings.table_name("program")

    scope = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    rows = UnicodeAttribute()
    as_of = UnicodeAttribute()


class Row:
    """One counter key's fields summed over every shard; reads like a shard item (`row.orders`)."""

    __slots__ = ("fields", "key")

    def __init__(self, key: str, fields: dict[str, int]) -> None:
        self.key = key
        self.fields = fields

    def __getattr__(self, name: str) -> int | None:
        if name.startswith("__"):
            raise AttributeError(name)
        return self.fields.get(name)


# (shard, first period, last period) -> the shard's items of those periods
ShardQuery = Callable[[int, str, str], Iterable[Any]]


def _period_of(key: str, kind_is_all: bool) -> str:
    return ALL if kind_is_all else key.split("#", 1)[0]


def _encode(rows: dict[str, dict[str, int]]) -> str:
    import msgspec

    return msgspec.json.encode(rows).decode()


def _decode(text: str) -> dict[str, dict[str, int]]:
    import msgspec

    return msgspec.json.decode(text, type=dict[str, dict[str, int]])


def _summed(items: Iterable[Any], fields: Sequence[str]) -> dict[str, dict[str, int]]:
    sums: dict[str, dict[str, int]] = {}
    for item in items:
        row = sums.setdefault(item.key, {})
        for name in fields:
            value = getattr(item, name, None)
            if value is not None:
                row[name] = row.get(name, 0) + int(value)
    return sums


def rolled(
    kind: str, periods: Sequence[str], query: ShardQuery, fields: Sequence[str], *, refresh: bool = False
) -> tuple[list[Row], datetime]:
    """Every counter key of `periods` (sorted `YYYY-MM`, or [`all`]) summed over the shards, and the
    oldest `as_of` among the rollups used. Stale or missing rollups (all of them with `refresh`) are
    rebuilt from the shards first."""
    scope = f"rollup#{kind}"
    first, last = periods[0], periods[-1]
    now = clock.now()
    oldest = now - timedelta(seconds=_max_age_seconds)
    found: dict[str, tuple[dict[str, dict[str, int]], datetime]] = {}
    if not refresh and _max_age_seconds > 0:
        for record in RollupRecord.query(scope, RollupRecord.key.between(first, last)):
            as_of = datetime.fromisoformat(record.as_of)
            if as_of >= oldest:
                found[record.key] = (_decode(record.rows), as_of)
    stale = [p for p in periods if p not in found]
    if stale:
        found.update(_refresh(scope, stale, query, fields, now, kind == ALL))
    rows = [Row(key, fields_of) for p in periods for key, fields_of in sorted(found[p][0].items())]
    return rows, min(found[p][1] for p in periods)


def _refresh(
    scope: str, stale: list[str], query: ShardQuery, fields: Sequence[str], now: datetime, kind_is_all: bool
) -> dict[str, tuple[dict[str, dict[str, int]], datetime]]:
    """Sum the shards over the stale periods (one Query per shard) and store each period's rollup."""
    wanted = set(stale)
    sums = _summed(every_shard(lambda shard: query(shard, stale[0], stale[-1])), fields)
    by_period: dict[str, dict[str, dict[str, int]]] = {p: {} for p in stale}
    for key, row in sums.items():
        period = _period_of(key, kind_is_all)
        if period in wanted:
            by_period[period][key] = row
    if len(by_period) > STORED_PERIODS:
        return {p: (rows, now) for p, rows in by_period.items()}
    stamp = now.isoformat()
    with RollupRecord.batch_write() as batch:
        for period, rows in by_period.items():
            batch.save(RollupRecord(scope, period, rows=_encode(rows), as_of=stamp))
    return {p: (rows, now) for p, rows in by_period.items()}


def forget_donations(tx: Transaction, period: str) -> None:
    """Drop the donation rollups a payout (or its void) in `period` changes — that month's and the all-time
    sums — in the payout's own transaction: the next report sums the shards again and shows it. Only for
    the brand's rare writes; an order doing this would make the rollups one hot key."""
    tx.delete(RollupRecord("rollup#month", period))
    tx.delete(RollupRecord(f"rollup#{ALL}", ALL))
