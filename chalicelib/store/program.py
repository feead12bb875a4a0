"""The program's pre-aggregated counters and each shopper's counting history (`program` table).

Hash `scope`, range `key`:
- `program#<shard>` / `<YYYY-MM>#<currency>#<segment>`: orders, revenue, member_discount, shipping_waived
  of one segment (ADD in the order's or refund's transaction);
  `<YYYY-MM>#<currency>#fees`: membership fees paid;
  `<YYYY-MM>#<currency>#<segment>#<customers|returning>#<prev month>`: shoppers counted (see
  `domain.program`). Every write picks one of `TOTALS_SHARDS` partitions (`store.shards`) by a hash of
  the order, refund or invoice id, so no single item or partition takes more than about 1/N of the
  writes; a report reads N Queries whatever the number of orders.
- `cohort#<shard>` / `<cohort month>#<plan_id>#joined`: shoppers who joined the cohort;
  `<cohort month>#<plan_id>#active#<YYYY-MM>`: the month's `active` moves (+1 perks started, −1 ended);
  `<cohort month>#<plan_id>#money#<currency>`: the cohort's fees and order revenue net of refunds (see
  `domain.cohorts`). Sharded like the program counters, by the event, order, refund or invoice id.
- `shopper#<customer_ref>` / `history`: what was already counted for the shopper (JSON), written under
  a `revision` check in the order's transaction;
  `shopper#<customer_ref>` / `value#<currency>`: the member's running `saved` and `fees_paid`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import msgspec
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactGet

from chalicelib.domain.cohorts import Cohort, CohortMove, CohortSums
from chalicelib.domain.conflicts import StaleHistoryError
from chalicelib.domain.membership_report import months_between
from chalicelib.domain.order import HistoryChange, OrderPlaced, ProgramEffects
from chalicelib.domain.program import CountDelta, MonthSums, Movement, SegmentSums, ShopperHistory
from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta, BaseModel, storage_errors, transaction_connection
from chalicelib.store.members import MemberRecord, MemberState, to_state
from chalicelib.store.rollups import rolled
from chalicelib.store.shards import totals_shard
from chalicelib.store.stamps import StampedCounters
from chalicelib.store.transaction import Transaction

HISTORY = "history"
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(ShopperHistory).decode


class ProgramRecord(BaseModel, StampedCounters):
    class Meta(BaseMeta):
        table_name = settings.table_name("program")

    scope = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    orders = NumberAttribute(null=True)
    revenue = NumberAttribute(null=True)
    member_discount = NumberAttribute(null=True)
    shipping_waived = NumberAttribute(null=True)
    fees = NumberAttribute(null=True)
    shoppers = NumberAttribute(null=True)
    saved = NumberAttribute(null=True)
    fees_paid = NumberAttribute(null=True)
    history = UnicodeAttribute(null=True)
    revision = NumberAttribute(null=True)


def _scope(shard: int) -> str:
    return f"program#{shard}"


@dataclass(frozen=True, slots=True)
class StoredHistory:
    history: ShopperHistory
    # The revision read; None when the shopper has no history yet.
    revision: int | None


def read_shopper(customer_ref: str) -> tuple[MemberState | None, StoredHistory]:
    """The member item and the shopper's counting history: one TransactGetItems (strongly consistent)."""
    # Cancelled when a transaction writes one of the items at that moment: a 503 worth a retry.
    with storage_errors(), TransactGet(connection=transaction_connection()) as get:
        member = get.get(MemberRecord, customer_ref)
        history = get.get(ProgramRecord, f"shopper#{customer_ref}", HISTORY)
    try:
        state: MemberState | None = to_state(member.get())
    except MemberRecord.DoesNotExist:
        state = None
    try:
        record = history.get()
    except ProgramRecord.DoesNotExist:
        return state, StoredHistory(ShopperHistory(), None)
    return state, StoredHistory(_decode(record.history or "{}"), int(record.revision or 0))


def add_order_effects(tx: Transaction, placed: OrderPlaced) -> None:
    """An order's program items: the shopper's new history (if something new was counted; only if nobody
    wrote it since it was read), then the program effects."""
    if placed.history is not None:
        add_history(tx, placed.history)
    add_program_effects(tx, placed.program)


def add_program_effects(tx: Transaction, effects: ProgramEffects) -> None:
    """An order's or refund's counters: its segment's sums, the customer counts, the member's savings and
    the revenue of the shopper's cohort (each on the shard of the fact's own id)."""
    movement = effects.movement
    add_movement(tx, effects.token, movement)
    for delta in effects.counts:
        tx.update(
            ProgramRecord(*count_item(effects.token, delta)),
            actions=[ProgramRecord.shoppers.add(delta.delta)],
        )
    if effects.saved:
        add_member_value(tx, effects.customer_ref, movement.currency, saved=effects.saved)
    if effects.cohort is not None:
        add_cohort_revenue(tx, effects.token, effects.cohort, movement.currency, movement.revenue)


def add_fee_effects(
    tx: Transaction, customer_ref: str, invoice_id: str, month: str, currency: str, amount: int
) -> None:
    """A paid membership invoice's program items: the month's fees and the member's `fees_paid`."""
    tx.update(
        ProgramRecord(_scope(totals_shard(invoice_id)), f"{month}#{currency}#fees"),
        actions=[ProgramRecord.fees.add(amount)],
    )
    add_member_value(tx, customer_ref, currency, fees_paid=amount)


def add_program_fee(tx: Transaction, token: str, month: str, currency: str, amount: int) -> None:
    """Money paid to the club that is no member's own fee (a gift membership): the month's fees only."""
    tx.update(
        ProgramRecord(_scope(totals_shard(token)), f"{month}#{currency}#fees"),
        actions=[ProgramRecord.fees.add(amount)],
    )


def add_history(tx: Transaction, change: HistoryChange) -> None:
    """The shopper's new counting history, if nobody wrote it since it was read (else StaleHistoryError)."""
    revision = (change.revision or 0) + 1
    record = ProgramRecord(
        f"shopper#{change.customer_ref}", HISTORY, history=_encode(change.history).decode(), revision=revision
    )
    condition = (
        ProgramRecord.scope.does_not_exist()
        if change.revision is None
        else ProgramRecord.revision == change.revision
    )
    tx.put(record, condition=condition, on_conflict=lambda _old: StaleHistoryError())


def add_movement(tx: Transaction, token: str, movement: Movement) -> None:
    """ADD an order's or refund's money to its segment's counters (shard chosen by `token`)."""
    scope, key = movement_item(token, movement)
    actions: list[Action] = [
        ProgramRecord.orders.add(movement.orders),
        ProgramRecord.revenue.add(movement.revenue),
        ProgramRecord.member_discount.add(movement.member_discount),
        ProgramRecord.shipping_waived.add(movement.shipping_waived),
    ]
    tx.update(ProgramRecord(scope, key), actions=actions)


def movement_item(token: str, movement: Movement) -> tuple[str, str]:
    """The counters item (scope, key) an order's or refund's money is added to."""
    return _scope(totals_shard(token)), f"{movement.month}#{movement.currency}#{movement.segment}"


def count_item(token: str, delta: CountDelta) -> tuple[str, str]:
    """The counters item (scope, key) one customer-count delta of an order is added to."""
    return _scope(
        totals_shard(token)
    ), f"{delta.month}#{delta.currency}#{delta.segment}#{delta.kind}#{delta.prev}"


def add_member_value(
    tx: Transaction, customer_ref: str, currency: str, *, saved: int = 0, fees_paid: int = 0
) -> None:
    """ADD to a member's running value in one currency."""
    tx.update(
        ProgramRecord(f"shopper#{customer_ref}", f"value#{currency}"),
        actions=[ProgramRecord.saved.add(saved), ProgramRecord.fees_paid.add(fees_paid)],
    )


def member_value(customer_ref: str) -> dict[str, tuple[int, int]]:
    """Per currency, the member's (saved, fees_paid): one Query."""
    return {
        item.key.removeprefix("value#"): (int(item.saved or 0), int(item.fees_paid or 0))
        for item in ProgramRecord.query(
            f"shopper#{customer_ref}", ProgramRecord.key.startswith("value#"), consistent_read=True
        )
    }


_PROGRAM_FIELDS = ("orders", "revenue", "member_discount", "shipping_waived", "fees", "shoppers")
_COHORT_FIELDS = ("shoppers", "fees", "revenue")


def month_sums(first: str, last: str) -> tuple[dict[tuple[str, str], MonthSums], datetime]:
    """Counters of the months first..last summed over the shards, and as of when: one Query of their
    rollups (`store.rollups`; stale ones are summed from the shards again first)."""
    sums: dict[tuple[str, str], MonthSums] = {}
    rows, as_of = rolled(
        "program",
        months_between(first, last),
        lambda shard, lo, hi: _query_months(_scope(shard), lo, hi),
        _PROGRAM_FIELDS,
    )
    for item in rows:
        month, currency, rest = item.key.split("#", 2)
        bucket = sums.setdefault((month, currency), MonthSums())
        parts = rest.split("#")
        if parts == ["fees"]:
            bucket.fees += int(item.fees or 0)
        elif len(parts) == 1:
            segment = bucket.segments.setdefault(parts[0], SegmentSums())
            segment.orders += int(item.orders or 0)
            segment.revenue += int(item.revenue or 0)
            segment.member_discount += int(item.member_discount or 0)
            segment.shipping_waived += int(item.shipping_waived or 0)
        else:
            segment_name, kind, prev = parts
            count_key = (segment_name, kind, prev)
            bucket.counts[count_key] = bucket.counts.get(count_key, 0) + int(item.shoppers or 0)
    return sums, as_of


def _query_months(scope: str, first: str, last: str) -> Iterator[ProgramRecord]:
    """The items of one shard whose key starts with a month (YYYY-MM) in first..last (strongly
    consistent: a rollup counts every write committed before it started reading)."""
    return ProgramRecord.query(
        scope, ProgramRecord.key.between(f"{first}#", f"{last}#~"), consistent_read=True
    )


# ---------------------------------------------------------------------------------------------------------
# Cohorts


def _cohort_scope(shard: int) -> str:
    return f"cohort#{shard}"


def cohort_key(cohort: Cohort) -> str:
    """How an order remembers the cohort its revenue was counted in (so its refunds reverse it there)."""
    return f"{cohort.month}#{cohort.plan_id}"


def _cohort_money_key(cohort: Cohort, currency: str) -> str:
    return f"{cohort_key(cohort)}#money#{currency}"


@dataclass(frozen=True, slots=True)
class CohortFee:
    """A membership fee counted in the payer's cohort."""

    invoice_id: str
    currency: str
    amount: int


def add_member_cohort(
    tx: Transaction, token: str, moves: list[CohortMove], cohort: Cohort | None, fees: list[CohortFee]
) -> None:
    """A member change's cohort items: joins and `active` moves (shard chosen by `token`, the change's own
    id; a join also creates the cohort's money item in the membership's currency, so the cohort has its
    row), and the fees paid, in the cohort's money (shard chosen by the invoice id). Increments landing on
    one item are merged: a transaction may touch an item only once."""
    adds: dict[tuple[str, str], dict[str, int]] = {}

    def add(scope: str, key: str, name: str, amount: int) -> None:
        item = adds.setdefault((scope, key), {})
        item[name] = item.get(name, 0) + amount

    scope = _cohort_scope(totals_shard(token))
    for move in moves:
        prefix = cohort_key(move.cohort)
        if move.joined:
            add(scope, f"{prefix}#joined", "shoppers", move.joined)
            if move.cohort.currency is not None:
                add(scope, _cohort_money_key(move.cohort, move.cohort.currency), "fees", 0)
        add(scope, f"{prefix}#active#{move.month}", "shoppers", move.active)
    if cohort is not None:
        for fee in fees:
            key = _cohort_money_key(cohort, fee.currency)
            add(_cohort_scope(totals_shard(fee.invoice_id)), key, "fees", fee.amount)

    for (item_scope, key), amounts in adds.items():
        actions: list[Action] = [getattr(ProgramRecord, name).add(n) for name, n in amounts.items()]
        if "fees" in amounts:
            actions.append(ProgramRecord.revenue.add(0))
        tx.update(ProgramRecord(item_scope, key), actions=actions)


def add_cohort_revenue(tx: Transaction, token: str, cohort: Cohort, currency: str, revenue: int) -> None:
    """ADD order revenue (negative for refunds) to a cohort's money (shard chosen by the order or refund)."""
    tx.update(
        ProgramRecord(*cohort_money_item(token, cohort, currency)),
        actions=[ProgramRecord.fees.add(0), ProgramRecord.revenue.add(revenue)],
    )


def cohort_money_item(token: str, cohort: Cohort, currency: str) -> tuple[str, str]:
    """The item (scope, key) an order's or refund's revenue in a cohort is added to."""
    return _cohort_scope(totals_shard(token)), _cohort_money_key(cohort, currency)


def cohort_sums(first: str, last: str) -> tuple[dict[tuple[str, str], CohortSums], datetime]:
    """The counters of the cohorts first..last (every month of their `active` moves) summed over the
    shards, and as of when: one Query of their rollups (`store.rollups`)."""
    sums: dict[tuple[str, str], CohortSums] = {}
    rows, as_of = rolled(
        "cohort",
        months_between(first, last),
        lambda shard, lo, hi: _query_months(_cohort_scope(shard), lo, hi),
        _COHORT_FIELDS,
    )
    for item in rows:
        month, plan_id, kind, *rest = item.key.split("#")
        cohort = sums.setdefault((month, plan_id), CohortSums())
        if kind == "joined":
            cohort.joined += int(item.shoppers or 0)
        elif kind == "active":
            cohort.active[rest[0]] = cohort.active.get(rest[0], 0) + int(item.shoppers or 0)
        else:
            fees, revenue = cohort.money.get(rest[0], (0, 0))
            cohort.money[rest[0]] = (fees + int(item.fees or 0), revenue + int(item.revenue or 0))
    return sums, as_of
