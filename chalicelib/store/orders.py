"""Orders and their refunds (`orders` table, hash `order_id`, range `record`).

`record` = `order`: the order aggregate's facts (amount, currency, shopper, member flag, segment, savings,
cause and donation, cohort) with its refunded/reversed running sums under a version check, and the
request that recorded it with its answer (so a retry answers as the first time);
`record` = `refund#<id>`: one per refund, the request and its answer. The natural ids make both
idempotent: a put that finds the id answers from the item DynamoDB returns with the failure.
"""

from __future__ import annotations

import json
from datetime import datetime

import msgspec
from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

from chalicelib import invocation
from chalicelib.domain.cohorts import Cohort
from chalicelib.domain.conflicts import DuplicateOrderError, DuplicateRefundError, Recorded, StaleOrderError
from chalicelib.domain.order import Order, Refunded
from chalicelib.domain.program import Savings
from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta, BaseModel
from chalicelib.store.transaction import Transaction

ORDER = "order"


class OrderRecord(BaseModel):
    class Meta(BaseMeta):
        table_name = settings.table_name("orders")

    order_id = UnicodeAttribute(hash_key=True)
    record = UnicodeAttribute(range_key=True)
    request_hash = UnicodeAttribute()
    response = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute(null=True)
    customer_ref = UnicodeAttribute(null=True)
    # Orders recorded before these were attributes hold them only in `response` until
    # `python -m ops.rebuild_totals --migrate` copies them here (see `_facts`).
    member = BooleanAttribute(null=True)
    member_discount = NumberAttribute(null=True)
    shipping = NumberAttribute(null=True)
    placed_at = UTCDateTimeAttribute(null=True)
    cause_id = UnicodeAttribute(null=True)
    donation = NumberAttribute(default=0)
    refunded = NumberAttribute(default=0)
    reversed = NumberAttribute(default=0)
    # The cohort (`<month>#<plan_id>`) the order's revenue was counted in; its refunds reverse it there.
    cohort = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    # The request that recorded it: a retried commit of that same request answers as its first success.
    request_id = UnicodeAttribute(null=True)
    version = VersionAttribute()


def cohort_key(cohort: Cohort) -> str:
    """How an order remembers the cohort its revenue was counted in."""
    return f"{cohort.month}#{cohort.plan_id}"


def cohort_of_key(key: str) -> Cohort:
    month, plan_id = key.split("#", 1)
    return Cohort(month, plan_id)


def recorded_of(item: OrderRecord | None) -> Recorded | None:
    if item is None:
        return None
    return Recorded(item.request_hash, json.loads(item.response), item.request_id)


def to_order(item: OrderRecord) -> Order:
    member, savings = _facts(item)
    return Order(
        item.order_id, item.customer_ref or "", item.currency or "", int(item.amount),
        item.placed_at or item.created_at, member, savings,
        cause_id=item.cause_id, donation=int(item.donation),
        cohort=cohort_of_key(item.cohort) if item.cohort is not None else None,
        refunded=int(item.refunded), reversed=int(item.reversed), version=int(item.version or 0),
    )  # fmt: skip


def _facts(item: OrderRecord) -> tuple[bool, Savings]:
    """The member flag and savings; from the recorded answer only for orders recorded before they were
    attributes of the record (the answer reported exactly these facts)."""
    if item.member is not None:
        return bool(item.member), Savings(
            member_discount=int(item.member_discount or 0), shipping=int(item.shipping or 0)
        )
    legacy = json.loads(item.response)
    return bool(legacy.get("member")), msgspec.convert(legacy.get("savings") or {}, Savings)


def get_order(order_id: str) -> Order | None:
    """One strongly consistent GetItem: the order, or None."""
    try:
        return to_order(OrderRecord.get(order_id, ORDER, consistent_read=True))
    except OrderRecord.DoesNotExist:
        return None


def get_recorded(order_id: str, refund_id: str | None = None) -> Recorded | None:
    """What the order's (or one refund's) request was and answered, or None."""
    try:
        item = OrderRecord.get(
            order_id, ORDER if refund_id is None else f"refund#{refund_id}", consistent_read=True
        )
    except OrderRecord.DoesNotExist:
        return None
    return recorded_of(item)


def add_order(tx: Transaction, order: Order, reply: Recorded, now: datetime) -> None:
    """The new order (it must not exist: else DuplicateOrderError with what was recorded)."""
    record = OrderRecord(
        order.order_id, ORDER, request_hash=reply.request_hash, response=json.dumps(reply.response),
        amount=order.amount, currency=order.currency, customer_ref=order.customer_ref, member=order.member,
        member_discount=order.savings.member_discount, shipping=order.savings.shipping,
        placed_at=order.placed_at, cause_id=order.cause_id, donation=order.donation,
        cohort=cohort_key(order.cohort) if order.cohort is not None else None, created_at=now,
        request_id=invocation.request_id(),
    )  # fmt: skip
    # The version condition: the order must not exist yet.
    tx.put(record, on_conflict=lambda old: DuplicateOrderError(recorded_of(old)))


def add_refund(tx: Transaction, order: Order, refunded: Refunded, reply: Recorded, now: datetime) -> None:
    """The refund record (once per refund id) and the order's new running sums (only if the order is
    still at the version it was loaded at)."""
    refund = OrderRecord(
        order.order_id, f"refund#{refunded.refund_id}", request_hash=reply.request_hash,
        response=json.dumps(reply.response), amount=refunded.amount, created_at=now,
        request_id=invocation.request_id(),
    )  # fmt: skip
    tx.put(refund, on_conflict=lambda old: DuplicateRefundError(recorded_of(old)))
    updated = OrderRecord(order.order_id, ORDER)
    updated.version = order.version
    tx.update(
        updated,
        actions=[OrderRecord.refunded.set(order.refunded), OrderRecord.reversed.set(order.reversed)],
        on_conflict=lambda _old: StaleOrderError(),
    )
