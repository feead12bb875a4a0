"""Change stamps: how a report knows, in one BatchGetItem, whether a rolled-up period changed.

Every transaction that changes a write-sharded counter of a rolled-up kind (`month` and `all` of the
donation totals, `program` and `cohort` of the program counters) also ADDs 1 to the stamp of that
counter's (kind, shard, period), once per transaction whatever number of counters of that period it
changes. `Transaction` does it for every item of a `StampedCounters` model, so no writer can forget it;
writers outside a transaction (the operators' rebuild) call `bump` after writing.

Items in the `program` table: hash `stamp#<kind>#<shard>` (the shard of the counters it stamps, so a stamp
takes the writes of one shard of one kind: never more than 1/N of them), range the year (`YYYY`) with one
number per month (`m01`..`m12`), or `all` with the number `all` (the donations' all-time sums). A year's
item stays a few dozen bytes: one write unit however many years pass.

A period's stamps summed over the shards only grow, so an unchanged sum means no counter of that period
changed: a rollup that kept the sum it read before summing the shards is exact while the sum stays.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.expressions.update import Action

from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta, BaseModel
from chalicelib.store.shards import totals_shards

ALL = "all"
# The rolled-up kinds: a counter item of one of them is stamped.
KINDS = ("month", "all", "program", "cohort")


@dataclass(frozen=True, slots=True)
class Stamp:
    """What a counter item's change stamps: its kind, its shard, its period (`YYYY-MM` or `all`)."""

    kind: str
    shard: int
    period: str


def stamp_of_counter(scope: str, key: str) -> Stamp | None:
    """The stamp of the counter item (scope `<kind>#<shard>`, key starting with its period), or None for an
    item no report rolls up (a shopper's impact, a shopper's history)."""
    kind, _, shard = scope.partition("#")
    if kind not in KINDS or not shard.isdigit():
        return None
    if kind == ALL:
        return Stamp(kind, int(shard), ALL)
    period = key.split("#", 1)[0]
    # Rollups hold keys that start with a month (`YYYY-MM`) only: any other key is in no report.
    if len(period) != 7 or period[4] != "-" or not (period[:4] + period[5:]).isdigit():
        return None
    return Stamp(kind, int(shard), period)


class StampedCounters:
    """A model whose items may be write-sharded counters of a rolled-up kind (`Transaction` stamps them):
    its `scope` and `key` say whether and which (a shopper's own items are not rolled up)."""

    scope: str
    key: str

    def change_stamp(self) -> Stamp | None:
        return stamp_of_counter(self.scope, self.key)


class StampRecord(BaseModel):
    class Meta(BaseMeta):
        table_name = settings.table_name("program")

    scope = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    m01 = NumberAttribute(null=True)
    m02 = NumberAttribute(null=True)
    m03 = NumberAttribute(null=True)
    m04 = NumberAttribute(null=True)
    m05 = NumberAttribute(null=True)
    m06 = NumberAttribute(null=True)
    m07 = NumberAttribute(null=True)
    m08 = NumberAttribute(null=True)
    m09 = NumberAttribute(null=True)
    m10 = NumberAttribute(null=True)
    m11 = NumberAttribute(null=True)
    m12 = NumberAttribute(null=True)
    all_time = NumberAttribute(attr_name="all", null=True)


def _slot(period: str) -> tuple[str, str]:
    """The stamp item's range key and the attribute of a period: `2026-12` → (`2026`, `m12`)."""
    if period == ALL:
        return ALL, "all_time"
    year, month = period.split("-")
    return year, f"m{month}"


def stamp_item(stamp: Stamp) -> tuple[str, str, str]:
    """(scope, key, attribute) of the number a stamp ADDs to."""
    key, attribute = _slot(stamp.period)
    return f"stamp#{stamp.kind}#{stamp.shard}", key, attribute


def stamp_actions(attributes: Iterable[str]) -> list[Action]:
    """ADD 1 to each named number of one stamp item."""
    return [getattr(StampRecord, name).add(1) for name in sorted(set(attributes))]


def changes(kind: str, periods: Sequence[str]) -> dict[str, int]:
    """Per period, its stamps of `kind` summed over every shard a reader visits: one strongly consistent
    BatchGetItem per 100 items (shards × years asked for)."""
    slots = {period: _slot(period) for period in periods}
    keys = sorted({(f"stamp#{kind}#{shard}", key) for shard in totals_shards() for key, _ in slots.values()})
    items = {(item.scope, item.key): item for item in StampRecord.batch_get(keys, consistent_read=True)}
    sums = dict.fromkeys(periods, 0)
    for period, (key, attribute) in slots.items():
        for shard in totals_shards():
            item = items.get((f"stamp#{kind}#{shard}", key))
            if item is not None:
                sums[period] += int(getattr(item, attribute) or 0)
    return sums


def bump(stamps: Iterable[Stamp]) -> None:
    """ADD 1 to each stamp, one UpdateItem per stamp item: for writers outside a transaction (the operators'
    rebuild), called after their writes, so that every rollup read before counts as changed."""
    by_item: dict[tuple[str, str], set[str]] = {}
    for stamp in stamps:
        scope, key, attribute = stamp_item(stamp)
        by_item.setdefault((scope, key), set()).add(attribute)
    for (scope, key), attributes in sorted(by_item.items()):
        StampRecord(scope, key).update(actions=stamp_actions(attributes))


def bump_counters(items: Iterable[tuple[str, str]]) -> None:
    """`bump` the stamps of the counter items (scope, key) written outside a transaction."""
    bump(stamp for scope, key in items if (stamp := stamp_of_counter(scope, key)) is not None)
