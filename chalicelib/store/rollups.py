"""Rolled-up totals: each report period's write-sharded counters summed over every shard into one item,
so that a report reads one Query and one BatchGetItem instead of one Query per shard, and is exact.

Items in the `program` table, hash `rollup#<kind>` (kind: `program`, `cohort`, `month`, `all`), range the
period (`YYYY-MM`, or `all` for the donations' all-time sums): `rows` is the JSON of every counter key of
that period with its numeric fields summed over shards 0..N-1, `changes` the sum of the period's change
stamps (`store/stamps.py`) read strongly consistent before the shards were, `as_of` when it was summed.

Every transaction that changes a counter of a period bumps that period's stamp on the counter's shard, in
the same transaction. A report reads the rollups of its periods (one Query) and their stamps (one
BatchGetItem of shards × years): a rollup whose `changes` equals the stamps' sum now counts every write
committed so far, to the cent, whatever period a late write landed in (a backdated order, a refund of an
old order, a cohort's later revenue, a payout). The periods whose stamps moved, or that have no rollup,
are summed from the shards again in one pass (one Query per shard over those periods) and stored (one
BatchWriteItem per 25 periods) with the stamps read before the sum. A write racing that sum may be
counted in the rows but not in the stored `changes`: the next report finds the stamps moved and sums
again; it can make a rollup look changed, never wrong. (This takes a transaction whose stamp a strongly
consistent read saw to be visible, on every item it wrote, to the strongly consistent Queries that follow.)
Orders never write a rollup: their one extra item per (kind, shard, year) takes the transactions of one
shard of one kind, about 1/N of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib import clock
from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta, BaseModel
from chalicelib.store.shards import every_shard
from chalicelib.store.stamps import ALL, changes

# A report renewing more periods than this sums them without storing their rollups, so that one report never
# writes more than 5 BatchWriteItems (the API allows 120 months per report; the operators' donation command
# is not bounded).
STORED_PERIODS = 125


class RollupRecord(BaseModel):
    class Meta(BaseMeta):
        table_name = settings.table_name("program")

    scope = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    rows = UnicodeAttribute()
    as_of = UnicodeAttribute()
    # The period's change stamps summed over the shards, read before `rows` was summed (None: written before
    # stamps existed, summed again at the next report).
    changes = NumberAttribute(null=True)


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
    kind: str, periods: Sequence[str], query: ShardQuery, fields: Sequence[str]
) -> tuple[list[Row], datetime]:
    """Every counter key of `periods` (sorted `YYYY-MM`, or [`all`]) summed over the shards, counting every
    write committed before the moment returned. The periods whose stamps moved since their rollup was
    summed, or that have none, are summed from the shards again first."""
    scope = f"rollup#{kind}"
    now = clock.now()
    stamped = changes(kind, periods)
    found: dict[str, dict[str, dict[str, int]]] = {}
    for record in RollupRecord.query(
        scope, RollupRecord.key.between(periods[0], periods[-1]), consistent_read=True
    ):
        if (
            record.key in stamped
            and record.changes is not None
            and int(record.changes) == stamped[record.key]
        ):
            found[record.key] = _decode(record.rows)
    moved = [p for p in periods if p not in found]
    if moved:
        found.update(_refresh(scope, moved, stamped, query, fields, now, kind == ALL))
    return [Row(key, fields_of) for p in periods for key, fields_of in sorted(found[p].items())], now


def _refresh(
    scope: str,
    moved: list[str],
    stamped: dict[str, int],
    query: ShardQuery,
    fields: Sequence[str],
    now: datetime,
    kind_is_all: bool,
) -> dict[str, dict[str, dict[str, int]]]:
    """Sum the shards over the moved periods (one Query per shard) and store each period's rollup with the
    stamps read before the sum."""
    wanted = set(moved)
    sums = _summed(every_shard(lambda shard: query(shard, moved[0], moved[-1])), fields)
    by_period: dict[str, dict[str, dict[str, int]]] = {p: {} for p in moved}
    for key, row in sums.items():
        period = _period_of(key, kind_is_all)
        if period in wanted:
            by_period[period][key] = row
    if len(by_period) > STORED_PERIODS:
        return by_period
    summed_at = now.isoformat()
    with RollupRecord.batch_write() as batch:
        for period, rows in by_period.items():
            batch.save(
                RollupRecord(scope, period, rows=_encode(rows), as_of=summed_at, changes=stamped[period])
            )
    return by_period
