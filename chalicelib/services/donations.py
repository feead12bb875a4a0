"""Recording donations: order pledges, refund reversals, membership-fee pledges and disbursements.

Every use case writes its ledger entry, its natural-id record and the running totals in one
DynamoDB transaction: nothing is counted twice, lost, or half-recorded. The same natural id with
the same body answers as the first time; with another body it is a conflict.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Literal, TypeVar

import msgspec
from msgspec import Meta

from chalicelib import clock, invocation, log
from chalicelib.domain.catalog import Cause, ClientId, Url
from chalicelib.domain.conflicts import (
    BusyError,
    DuplicateDisbursementError,
    DuplicateOrderError,
    DuplicateRefundError,
    Recorded,
)
from chalicelib.domain.donations import Balance, InsufficientBalanceError
from chalicelib.domain.events import disbursement_recorded
from chalicelib.domain.facts import check_savings, exceeds_outstanding_message
from chalicelib.domain.giving import pledge_cause
from chalicelib.domain.money import Amount, Currency
from chalicelib.domain.order import Order, RefundExceedsOrderError, SavingsWithoutMembershipError, place_order
from chalicelib.domain.program import Savings
from chalicelib.errors import ConflictError, NotFoundError, ValidationError
from chalicelib.services import catalog
from chalicelib.services.access import access_of
from chalicelib.services.unit_of_work import UnitOfWork, attempts
from chalicelib.settings import settings
from chalicelib.store import ledger
from chalicelib.store import program as program_store
from chalicelib.store import totals as totals_store

logger = log.get_logger("donations")
T = TypeVar("T")
Moment = Annotated[datetime, Meta(tz=True)]
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
    # A mistaken disbursement is voided (a reversing entry), never edited or deleted.
    status: Literal["recorded", "voided"] = "recorded"
    voided_at: datetime | None = None
    void_reason: str | None = None


class DisbursementList(msgspec.Struct):
    data: list[DisbursementOut]
    has_more: bool


def _hash(value: msgspec.Struct) -> str:
    return hashlib.sha256(msgspec.json.encode(value)).hexdigest()


def _replay(
    recorded: Recorded | None,
    request_hash: str,
    type_: type[T],
    param: str,
    code: str,
    what: str = "reported",
) -> tuple[T, bool]:
    """The answer for a natural id recorded before: (first answer, created).

    `created` is True when the record is this very request's own write, committed by a transaction
    that botocore retried after losing its answer: the client gets the first success, not a replay.
    """
    if recorded is None:
        # The id's record is gone from view (not yet visible to this read): lost race, try again.
        raise BusyError()
    if recorded.request_hash != request_hash:
        raise ConflictError(f"`{param}` was already {what} with a different body.", param=param, code=code)
    mine = recorded.request_id is not None and recorded.request_id == invocation.request_id()
    return msgspec.convert(recorded.response, type_), mine


def record_order(order: OrderIn, uow: UnitOfWork) -> tuple[OrderOut, bool]:
    """Record a placed order; a member's order pledges to their cause. Returns (answer, created).

    Two DynamoDB calls on the way: one read (the member and the shopper's counting history together)
    and one transaction (the order, its pledge, the donation and program counters, the member's value).
    A retry of a recorded order answers from the item the failed write returns (no further read).
    """
    now = clock.now()
    placed_at = order.placed_at or now
    request_hash = _hash(order)

    def attempt() -> tuple[OrderOut, bool]:
        with uow:
            shopper = uow.members.shopper(order.customer_ref)
            access = access_of(shopper.member, now)
            plan = uow.catalog.plans().get(access.plan_id or "")
            if access.perks_active:
                check_savings(order.savings, order.amount, order.currency, plan)
            try:
                placed = place_order(
                    order_id=order.order_id, customer_ref=order.customer_ref, currency=order.currency,
                    amount=order.amount, placed_at=placed_at, savings=order.savings,
                    perks_active=access.perks_active,
                    order_bps=plan.donation.order_bps if plan is not None else None,
                    cause_id=pledge_cause(access.cause_id, uow.catalog.causes(), settings.default_cause_id),
                    # A shopper who has joined a cohort adds the order's revenue to it.
                    cohort=shopper.member.cohort.cohort
                    if shopper.member is not None and shopper.member.cohort is not None else None,
                    history=shopper.history, history_revision=shopper.revision,
                )  # fmt: skip
            except SavingsWithoutMembershipError:
                # A retry of an order recorded while the perks were active answers as the first time.
                recorded = uow.orders.recorded(order.order_id)
                if recorded is not None:
                    return _replay(recorded, request_hash, OrderOut, "order_id", "order_exists")
                raise ValidationError(
                    "Only members save through perks: `savings` must be zero for a non-member's order.",
                    param="savings", code="savings_without_membership",
                ) from None  # fmt: skip
            if access.perks_active and not placed.donation_decided:
                logger.warning(
                    "member order without a cause (set DEFAULT_CAUSE_ID)", extra={"order_id": order.order_id}
                )
            answer = _order_out(order, placed.order)
            uow.orders.add(placed, Recorded(request_hash, msgspec.to_builtins(answer)), now)
            try:
                uow.commit()
            except DuplicateOrderError as duplicate:
                # The failed commit returned what was recorded; read it only if the store could not say.
                recorded = duplicate.recorded or uow.orders.recorded(order.order_id)
                return _replay(recorded, request_hash, OrderOut, "order_id", "order_exists")
        return answer, True

    # A lost race (the shopper's history changed, another order updated the same totals) retries it all.
    return attempts(attempt, ORDER_ATTEMPTS)


def _order_out(order: OrderIn, placed: Order) -> OrderOut:
    donation = None
    if placed.cause_id is not None:
        donation = Donation(amount=placed.donation, currency=placed.currency, cause_id=placed.cause_id)
    return OrderOut(
        order.order_id,
        order.customer_ref,
        order.currency,
        order.amount,
        placed.member,
        donation,
        order.savings,
    )


def record_refund(order_id: str, refund: RefundIn, uow: UnitOfWork) -> tuple[RefundOut, bool]:
    """Record a (partial) refund and reverse the matching share of the order's donation.

    One read (the order) and one transaction; a retried refund answers from the item its failed write
    returns.
    """
    request_hash = _hash(refund)

    def replay(recorded: Recorded | None) -> tuple[RefundOut, bool]:
        return _replay(recorded, request_hash, RefundOut, "refund_id", "refund_exists")

    def attempt() -> tuple[RefundOut, bool]:
        now = clock.now()
        with uow:
            order = uow.orders.get(order_id)
            if order is None:
                raise NotFoundError(f"No order `{order_id}`.", param="order_id", code="order_not_found")
            try:
                refunded = order.refund(refund.refund_id, refund.amount, now)
            except RefundExceedsOrderError as refused:
                # A retry of a refund that brought the order to its amount answers as the first time.
                recorded = uow.orders.recorded(order_id, refund.refund_id)
                if recorded is not None:
                    return replay(recorded)
                raise ValidationError(
                    f"Refunds would total {refused.total}, more than the order's {refused.amount}.",
                    param="amount", code="refund_exceeds_order",
                ) from None  # fmt: skip
            answer = RefundOut(refund.refund_id, order_id, refund.amount, refunded.donation_reversed)
            uow.orders.add_refund(order, refunded, Recorded(request_hash, msgspec.to_builtins(answer)), now)
            try:
                uow.commit()
            except DuplicateRefundError as duplicate:
                return replay(duplicate.recorded or uow.orders.recorded(order_id, refund.refund_id))
        return answer, True

    return attempts(attempt)


def record_disbursement(disbursement: DisbursementIn, uow: UnitOfWork) -> tuple[DisbursementOut, bool]:
    """Record money paid to a cause; refused (409) beyond the cause's outstanding balance.

    The cause's shards are read in one TransactGetItems; the payout commits only if no other payout
    changed the cause's paid-out sum since (pledges and reversals never stop it; a reversal that commits
    meanwhile counts as a refund after the payout).
    """
    if disbursement.cause_id not in uow.catalog.causes():
        raise ValidationError(f"No cause `{disbursement.cause_id}`.", param="cause_id", code="unknown_cause")
    now = clock.now()
    request_hash = _hash(disbursement)
    answer = DisbursementOut(**msgspec.structs.asdict(disbursement), recorded_at=now)

    def replay(recorded: Recorded | None) -> tuple[DisbursementOut, bool]:
        return _replay(
            recorded, request_hash, DisbursementOut, "disbursement_id", "disbursement_exists", "recorded"
        )

    def attempt() -> tuple[DisbursementOut, bool]:
        with uow:
            balance = uow.ledger.balance(disbursement.cause_id, disbursement.currency)
            try:
                posting = balance.disburse(
                    disbursement.disbursement_id, disbursement.amount, disbursement.paid_at
                )
            except InsufficientBalanceError as refused:
                recorded = uow.ledger.recorded_disbursement(disbursement.disbursement_id)
                if recorded is not None:
                    return replay(recorded)
                raise ConflictError(
                    exceeds_outstanding_message(disbursement, uow.catalog.causes(), refused.outstanding),
                    param="amount", code="exceeds_outstanding",
                ) from None  # fmt: skip
            reply = Recorded(request_hash, msgspec.to_builtins(answer))
            uow.ledger.add_disbursement(balance, posting, reply, now, disbursement.disbursement_id)
            uow.events.add(disbursement_recorded(reply.response, now))
            try:
                uow.commit()
            except DuplicateDisbursementError as duplicate:
                return replay(
                    duplicate.recorded or uow.ledger.recorded_disbursement(disbursement.disbursement_id)
                )
        return answer, True

    return attempts(attempt)


def list_disbursements(
    limit: int, starting_after: str | None, cause_id: str | None = None, currency: str | None = None
) -> tuple[list[DisbursementOut], bool]:
    """Disbursements, newest first, optionally of one cause and/or one currency."""
    cause_ids = [cause_id] if cause_id is not None else list(catalog.causes())
    try:
        items, has_more = ledger.list_disbursements(cause_ids, limit, starting_after, currency)
    except ledger.UnknownDisbursementError:
        raise ValidationError(
            f"No disbursement `{starting_after}` to start after.", param="starting_after"
        ) from None
    return [msgspec.convert(item, DisbursementOut) for item in items], has_more


def member_impact(
    customer_ref: str,
    totals: dict[tuple[str, str], Balance] | None = None,
    causes: Mapping[str, Cause] | None = None,
) -> dict[str, DonationSums]:
    """Per currency, what the shopper's purchases and fees pledged, reversed and net, per cause in each
    cause's own unit (one Query, unless the shopper's `totals` are given)."""
    totals = totals_store.member_totals(customer_ref) if totals is None else totals
    causes = catalog.causes() if causes is None else causes
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


def member_value(
    customer_ref: str, impact: dict[str, DonationSums], running: dict[str, tuple[int, int]] | None = None
) -> dict[str, MemberValue]:
    """Per currency: fees paid, perks' savings (net of refunds), donations (net) and saved − fees (one
    Query unless the `running` (saved, fees_paid) are given; the donations come from `impact`)."""
    running = program_store.member_value(customer_ref) if running is None else running
    value = {}
    for currency in sorted(set(running) | set(impact)):
        saved, fees_paid = running.get(currency, (0, 0))
        donated = impact[currency].net if currency in impact else 0
        value[currency] = MemberValue(
            fees_paid=fees_paid, saved=saved, donated=donated, net=saved - fees_paid
        )
    return value
