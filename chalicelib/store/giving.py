"""The giving record (`giving` table): what the impact statement and the payouts report read without
touching a cause's individual pledges.

- scope `day#<shard>`, key `<cause>#<currency>#<YYYY-MM-DD>`: a cause's net pledged per pledge day (a
  reversal counts on its pledge's day), sharded by entry id as the donation totals are.
- scope `shopper#<customer_ref>`, key `<occurred_at>#<entry_id>`: each of a shopper's pledges and
  reversals (the statement's lines; one Query per shopper and year).
- scope `overdue`, key `<cause>#<currency>`: since when a cause's payout has been overdue (one item per
  stretch; written under a condition so `cause.payout_overdue` fires once per stretch).

Items are added in the same transaction as the ledger entry they come from (`store/ledger.add_posting`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.domain.conflicts import PayoutOverdueRecordedError
from chalicelib.domain.donations import PLEDGE, Posting
from chalicelib.domain.giving import ShopperEntry, pledge_day_of, shopper_entry
from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta, BaseModel
from chalicelib.store.shards import every_shard, totals_shard
from chalicelib.store.transaction import Transaction

OVERDUE = "overdue"


class GivingRecord(BaseModel):
    class Meta(BaseMeta):
        table_name = settings.table_name("giving")

    scope = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    # day lines
    net = NumberAttribute(null=True)
    # shopper lines
    kind = UnicodeAttribute(null=True)
    cause_id = UnicodeAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    amount = NumberAttribute(null=True)
    occurred_at = UTCDateTimeAttribute(null=True)
    pledge_day = UnicodeAttribute(null=True)
    # overdue stretches
    since = UTCDateTimeAttribute(null=True)


def _moment_key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def day_line(posting: Posting) -> tuple[tuple[str, str], int] | None:
    """The pledge-day item (scope, key) a pledge or reversal adds to, and what it adds (None: a payout)."""
    day = pledge_day_of(posting)
    if day is None:
        return None
    entry = posting.entry
    delta = entry.amount if entry.kind == PLEDGE else -entry.amount
    return (f"day#{totals_shard(posting.entry_id)}", f"{entry.cause_id}#{entry.currency}#{day}"), delta


def shopper_record(posting: Posting) -> GivingRecord | None:
    """The shopper's statement line for a pledge or reversal in their name (None otherwise)."""
    line = shopper_entry(posting)
    if line is None:
        return None
    return GivingRecord(
        f"shopper#{posting.customer_ref}", f"{_moment_key(line.occurred_at)}#{line.entry_id}",
        kind=line.kind, cause_id=line.cause_id, currency=line.currency, amount=line.amount,
        occurred_at=line.occurred_at, pledge_day=line.pledge_day,
    )  # fmt: skip


def add_giving_lines(tx: Transaction, posting: Posting) -> None:
    """The pledge day's net and the shopper's line a pledge or reversal adds (nothing for a payout)."""
    day = day_line(posting)
    if day is not None:
        (scope, key), delta = day
        tx.update(GivingRecord(scope, key), actions=[GivingRecord.net.add(delta)])
    record = shopper_record(posting)
    if record is not None:
        tx.put(record)


def shopper_entries(customer_ref: str, year: int) -> list[ShopperEntry]:
    """The shopper's pledges and reversals of one year: one Query (it grows with their own entries)."""
    items = GivingRecord.query(
        f"shopper#{customer_ref}", GivingRecord.key.between(f"{year:04d}-", f"{year:04d}-~")
    )
    return [
        ShopperEntry(
            item.key.split("#", 1)[1],
            item.kind or "",
            item.cause_id or "",
            item.currency or "",
            int(item.amount or 0),
            item.occurred_at or datetime.min.replace(tzinfo=UTC),
            item.pledge_day or "",
        )
        for item in items
    ]


def day_nets(
    cause_id: str | None = None, currency: str | None = None
) -> dict[tuple[str, str], dict[str, int]]:
    """(cause, currency) → net pledged per pledge day, optionally of one cause (and currency).

    One Query per shard: the cost grows with shards × causes × days, never with orders.
    """
    prefix = f"{cause_id}#" if cause_id is not None else ""
    if cause_id is not None and currency is not None:
        prefix += f"{currency}#"

    def query(shard: int) -> Iterator[GivingRecord]:
        condition = GivingRecord.key.startswith(prefix) if prefix else None
        return GivingRecord.query(f"day#{shard}", condition)

    sums: dict[tuple[str, str], dict[str, int]] = {}
    for item in every_shard(query):
        cause, cur, day = item.key.split("#")
        days = sums.setdefault((cause, cur), {})
        days[day] = days.get(day, 0) + int(item.net or 0)
    return sums


def overdue_since(cause_id: str, currency: str) -> datetime | None:
    """When the cause's current overdue stretch began (None: not overdue as recorded)."""
    try:
        return GivingRecord.get(OVERDUE, f"{cause_id}#{currency}", consistent_read=True).since
    except GivingRecord.DoesNotExist:
        return None


def overdue_stretches() -> dict[tuple[str, str], datetime]:
    """Every recorded overdue stretch: one Query."""
    stretches = {}
    for item in GivingRecord.query(OVERDUE):
        cause, currency = item.key.split("#")
        if item.since is not None:
            stretches[(cause, currency)] = item.since
    return stretches


def add_overdue_stretch(tx: Transaction, cause_id: str, currency: str, now: datetime) -> None:
    """Record that the cause's payout became overdue (once per stretch: the item must not exist yet, else
    PayoutOverdueRecordedError); the `cause.payout_overdue` event joins the same transaction."""
    tx.put(
        GivingRecord(OVERDUE, f"{cause_id}#{currency}", since=now),
        condition=GivingRecord.scope.does_not_exist(),
        on_conflict=lambda _old: PayoutOverdueRecordedError(cause_id, currency),
    )


def end_overdue_stretch(cause_id: str, currency: str) -> None:
    """The cause is no longer overdue: the next stretch notifies again."""
    GivingRecord(OVERDUE, f"{cause_id}#{currency}").delete()
