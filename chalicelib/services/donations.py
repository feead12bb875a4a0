"""Recording donations: order pledges, refund reversals, membership-fee pledges and disbursements.

Every use case writes its ledger entry, its natural-id record and the running totals in one
DynamoDB transaction: nothing is counted twice, lost, or half-recorded. The same natural id with
the same body answers as the first time; with another body it is a conflict.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

import msgspec
from msgspec import Meta

from chalicelib import clock, log
from chalicelib.domain.catalog import ClientId, Url
from chalicelib.domain.donations import (
    DISBURSEMENT,
    PLEDGE,
    REVERSAL,
    LedgerEntry,
    order_pledge,
    reversed_after_refunds,
)
from chalicelib.domain.facts import check_savings, exceeds_outstanding_message
from chalicelib.domain.money import Amount, Currency
from chalicelib.domain.program import (
    MEMBERS,
    NON_MEMBERS,
    CountedOrder,
    Savings,
    Segment,
    count_order,
    reversed_savings,
)
from chalicelib.domain.times import month_of
from chalicelib.errors import ConflictError, NotFoundError, ServiceUnavailableError, ValidationError
from chalicelib.services import catalog
from chalicelib.services.access import access_of
from chalicelib.store import ledger as store
from chalicelib.store import program as program_store

logger = log.get_logger("donations")
T = TypeVar("T")
Moment = Annotated[datetime, Meta(tz=True)]
MAX_ATTEMPTS = 8
# Concurrent first orders of one shopper race on their counting history: a few more rounds.
ORDER_ATTEMPTS = 16


class CauseImpact(msgspec.Struct):
    cause_id: str
    pledged: int
    reversed: int
    net: int
    # The cause's impact units for its `net` ("12 meals"), when the cause counts them.
    units: str | None = None


class DonationSums(msgspec.Struct):
    pledged: int
    reversed: int
    net: int
    # Each cause's units in that cause's own unit ("12 meals, 1 tree"); null when no cause counts units.
    units: str | None = None
    causes: list[CauseImpact] = []


class MemberValue(msgspec.Struct):
    """Over the membership's life, in one currency: what the club cost and what it gave back."""

    fees_paid: int
    saved: int
    donated: int
    net: int


class OrderIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    order_id: ClientId
    customer_ref: ClientId
    currency: Currency
    amount: Amount
    placed_at: Moment | None = None
    savings: Savings = msgspec.field(default_factory=Savings)


class Donation(msgspec.Struct):
    amount: int
    currency: str
    cause_id: str


class OrderOut(msgspec.Struct):
    order_id: str
    customer_ref: str
    currency: str
    amount: int
    member: bool
    donation: Donation | None
    savings: Savings


class RefundIn(msgspec.Struct, forbid_unknown_fields=True):
    refund_id: ClientId
    amount: Annotated[int, Meta(ge=1, le=100_000_000_00)]


class RefundOut(msgspec.Struct):
    refund_id: str
    order_id: str
    amount: int
    donation_reversed: int


class DisbursementIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    disbursement_id: ClientId
    cause_id: ClientId
    currency: Currency
    amount: Annotated[int, Meta(ge=1, le=100_000_000_00)]
    paid_at: Moment
    reference: Annotated[str, Meta(min_length=1, max_length=500)]
    receipt_url: Url | None = None


class DisbursementOut(DisbursementIn, kw_only=True):
    recorded_at: datetime


def _hash(value: msgspec.Struct) -> str:
    return hashlib.sha256(msgspec.json.encode(value)).hexdigest()


def _retrying(attempt: Callable[[], T], attempts: int = MAX_ATTEMPTS) -> T:
    """Retry a transaction that lost a race (concurrent refunds of one order, busy totals)."""
    for _ in range(attempts):
        try:
            return attempt()
        except (store.StaleOrderError, store.ConcurrentTotalsError):
            time.sleep(random.uniform(0.005, 0.05))
    raise ServiceUnavailableError("The ledger is busy with concurrent writes; retry shortly.")


def record_order(order: OrderIn) -> tuple[OrderOut, bool]:
    """Record a placed order; a member's order pledges to their cause. Returns (answer, created).

    Two DynamoDB calls on the way: one read (the member and the shopper's counting history together)
    and one transaction (the order, its pledge, the donation and program counters, the member's value).
    """
    now = clock.now()
    placed_at = order.placed_at or now
    month = month_of(placed_at)
    request_hash = _hash(order)

    def attempt() -> tuple[OrderOut, bool]:
        state, stored = program_store.read_shopper(order.customer_ref)
        access = access_of(state, now)
        if not access.perks_active and order.savings.total > 0:
            # A retry of an order recorded while the perks were active answers as the first time.
            if store.get_order(order.order_id) is not None:
                return _replay(order.order_id, request_hash, OrderOut, "order_id", "order_exists")
            raise ValidationError(
                "Only members save through perks: `savings` must be zero for a non-member's order.",
                param="savings", code="savings_without_membership",
            )  # fmt: skip
        plan = catalog.plans().get(access.plan_id or "")
        check_savings(order.savings, order.amount, order.currency, plan if access.perks_active else None)
        pledge = None
        donation = None
        if access.perks_active and plan is not None and access.cause_id is not None:
            amount = order_pledge(order.amount, plan.donation.order_bps)
            donation = Donation(amount=amount, currency=order.currency, cause_id=access.cause_id)
            if amount > 0:
                pledge = LedgerEntry(PLEDGE, access.cause_id, order.currency, amount, month, orders=1)
        elif access.perks_active:
            logger.warning(
                "member order without a cause (set DEFAULT_CAUSE_ID)", extra={"order_id": order.order_id}
            )
        answer = OrderOut(
            order.order_id, order.customer_ref, order.currency, order.amount, access.perks_active, donation,
            order.savings,
        )  # fmt: skip
        segment: Segment = MEMBERS if access.perks_active else NON_MEMBERS
        counted = CountedOrder(order.order_id, placed_at, month, order.currency, segment)
        history, deltas = count_order(stored.history, counted)
        movement = program_store.Movement(
            month, order.currency, segment, orders=1, revenue=order.amount,
            member_discount=order.savings.member_discount, shipping_waived=order.savings.shipping,
        )  # fmt: skip
        # A shopper who has joined a cohort adds the order's revenue to it.
        cohort = state.cohort.cohort if state is not None and state.cohort is not None else None
        program_items = program_store.order_writes(
            order.customer_ref, order.order_id, stored, history, deltas, movement, order.savings.total, cohort
        )

        try:
            store.create_order(
                order.order_id, request_hash, msgspec.to_builtins(answer), amount=order.amount,
                currency=order.currency, customer_ref=order.customer_ref, pledge=pledge,
                occurred_at=placed_at, now=now, also=program_items,
                cohort=program_store.cohort_key(cohort) if cohort is not None else None,
            )  # fmt: skip
        except store.DuplicateRecordError:
            return _replay(order.order_id, request_hash, OrderOut, "order_id", "order_exists")
        return answer, True

    # A lost race (the shopper's history changed, another order updated the same totals) retries it all.
    return _retrying(attempt, ORDER_ATTEMPTS)


def _replay(
    order_id: str, request_hash: str, type_: type[T], param: str, code: str, record: str = store.ORDER
) -> tuple[T, bool]:
    """The answer for an order or refund id recorded before: (first answer, created).

    `created` is True when the record is this very request's own write, committed by a transaction
    that botocore retried after losing its answer: the client gets the first success, not a replay.
    """
    stored = store.get_order(order_id, record)
    if stored is None:
        raise store.ConcurrentTotalsError()
    if stored.request_hash != request_hash:
        raise ConflictError(f"`{param}` was already reported with a different body.", param=param, code=code)
    return msgspec.convert(stored.response, type_), stored.recorded_by_this_request()


def record_refund(order_id: str, refund: RefundIn) -> tuple[RefundOut, bool]:
    """Record a (partial) refund and reverse the matching share of the order's donation."""
    request_hash = _hash(refund)
    record = f"refund#{refund.refund_id}"

    def attempt() -> tuple[RefundOut, bool]:
        now = clock.now()
        order = store.get_order(order_id)
        if order is None:
            raise NotFoundError(f"No order `{order_id}`.", param="order_id", code="order_not_found")
        previous = store.get_order(order_id, record)
        if previous is not None:
            return _replay(order_id, request_hash, RefundOut, "refund_id", "refund_exists", record)
        if order.refunded + refund.amount > order.amount:
            raise ValidationError(
                f"Refunds would total {order.refunded + refund.amount}, "
                f"more than the order's {order.amount}.",
                param="amount", code="refund_exceeds_order",
            )  # fmt: skip
        refunded = order.refunded + refund.amount
        total_reversed = reversed_after_refunds(order.donation, order.amount, refunded)
        increment = total_reversed - order.reversed
        reversal = None
        if increment > 0 and order.cause_id is not None and order.currency is not None:
            reversal = LedgerEntry(REVERSAL, order.cause_id, order.currency, increment, month_of(now))
        answer = RefundOut(refund.refund_id, order_id, refund.amount, increment)
        program_items = _refund_program_items(order, refund, refunded, month_of(now))
        try:
            store.record_refund(
                order, refund.refund_id, request_hash, msgspec.to_builtins(answer), amount=refund.amount,
                reversal=reversal, now=now, also=program_items,
            )  # fmt: skip
        except store.DuplicateRecordError:
            return _replay(order_id, request_hash, RefundOut, "refund_id", "refund_exists", record)
        return answer, True

    return _retrying(attempt)


def _refund_program_items(
    order: store.StoredOrder, refund: RefundIn, refunded: int, month: str
) -> program_store.Writes | None:
    """A refund's effect on the program counters and the member's value, in the refund's month: revenue
    back, and the order's savings reversed by the donation rule."""
    if order.currency is None or order.customer_ref is None:
        return None
    currency, customer_ref = order.currency, order.customer_ref
    savings = msgspec.convert(order.response.get("savings") or {}, Savings)
    before = reversed_savings(savings, order.amount, order.refunded)
    after = reversed_savings(savings, order.amount, refunded)
    discount_back = after.member_discount - before.member_discount
    shipping_back = after.shipping - before.shipping
    segment = MEMBERS if order.response.get("member") else NON_MEMBERS
    movement = program_store.Movement(
        month, currency, segment, orders=0, revenue=-refund.amount,
        member_discount=-discount_back, shipping_waived=-shipping_back,
    )  # fmt: skip
    cohort = program_store.cohort_of_key(order.cohort) if order.cohort is not None else None
    return program_store.refund_writes(customer_ref, f"{order.order_id}#{refund.refund_id}", movement, cohort)


def record_disbursement(disbursement: DisbursementIn) -> tuple[DisbursementOut, bool]:
    """Record money paid to a cause; refused (409) beyond the cause's outstanding balance."""
    if disbursement.cause_id not in catalog.causes():
        raise ValidationError(f"No cause `{disbursement.cause_id}`.", param="cause_id", code="unknown_cause")
    now = clock.now()
    request_hash = _hash(disbursement)
    answer = DisbursementOut(**msgspec.structs.asdict(disbursement), recorded_at=now)
    entry = LedgerEntry(
        DISBURSEMENT,
        disbursement.cause_id,
        disbursement.currency,
        disbursement.amount,
        month_of(disbursement.paid_at),
    )

    def replay() -> tuple[DisbursementOut, bool]:
        stored = store.get_disbursement(disbursement.disbursement_id)
        if stored is None:
            raise store.ConcurrentTotalsError()
        if stored.request_hash != request_hash:
            raise ConflictError(
                "`disbursement_id` was already recorded with a different body.",
                param="disbursement_id", code="disbursement_exists",
            )  # fmt: skip
        return msgspec.convert(stored.response, DisbursementOut), stored.recorded_by_this_request()

    def attempt() -> tuple[DisbursementOut, bool]:
        try:
            store.record_disbursement(
                disbursement.disbursement_id, entry, request_hash, msgspec.to_builtins(answer),
                disbursement.paid_at, now,
            )  # fmt: skip
        except store.DuplicateRecordError:
            return replay()
        except store.InsufficientBalanceError as refused:
            if store.get_disbursement(disbursement.disbursement_id) is not None:
                return replay()
            raise ConflictError(
                exceeds_outstanding_message(disbursement, catalog.causes(), refused.outstanding),
                param="amount", code="exceeds_outstanding",
            ) from None  # fmt: skip
        return answer, True

    return _retrying(attempt)


def list_disbursements(
    limit: int, starting_after: str | None, cause_id: str | None = None, currency: str | None = None
) -> tuple[list[DisbursementOut], bool]:
    """Disbursements, newest first, optionally of one cause and/or one currency."""
    cause_ids = [cause_id] if cause_id is not None else list(catalog.causes())
    try:
        items, has_more = store.list_disbursements(cause_ids, limit, starting_after, currency)
    except store.UnknownDisbursementError:
        raise ValidationError(
            f"No disbursement `{starting_after}` to start after.", param="starting_after"
        ) from None
    return [msgspec.convert(item, DisbursementOut) for item in items], has_more


def member_impact(customer_ref: str) -> dict[str, DonationSums]:
    """Per currency, what the shopper's purchases and fees pledged, reversed and net, per cause in each
    cause's own unit (one Query)."""
    totals = store.member_totals(customer_ref)
    causes = catalog.causes()
    impact: dict[str, DonationSums] = {}
    for (currency, cause_id), b in sorted(totals.items()):
        cause = causes.get(cause_id)
        units = cause.impact.describe(b.net) if cause is not None and cause.impact is not None else None
        sums = impact.setdefault(currency, DonationSums(pledged=0, reversed=0, net=0, causes=[]))
        sums.pledged += b.pledged
        sums.reversed += b.reversed
        sums.net += b.net
        sums.causes.append(CauseImpact(cause_id, b.pledged, b.reversed, b.net, units))
    for sums in impact.values():
        described = [c.units for c in sums.causes if c.units is not None]
        sums.units = ", ".join(described) if described else None
    return impact


def member_value(customer_ref: str, impact: dict[str, DonationSums]) -> dict[str, MemberValue]:
    """Per currency: fees paid, perks' savings (net of refunds), donations (net) and saved − fees (one
    Query; the donations come from `impact`)."""
    running = program_store.member_value(customer_ref)
    value = {}
    for currency in sorted(set(running) | set(impact)):
        saved, fees_paid = running.get(currency, (0, 0))
        donated = impact[currency].net if currency in impact else 0
        value[currency] = MemberValue(
            fees_paid=fees_paid, saved=saved, donated=donated, net=saved - fees_paid
        )
    return value
