"""The order aggregate: a placed order, what it pledged and saved, and what each refund gives back.

Everything an order's write path decides is here, without I/O: whether a non-member may report savings,
what a member's order pledges (and to which cause), where it counts in the program report (segment,
customer counts, the shopper's cohort), and per refund the over-refund rule, the donation reversed, the
savings given back and the revenue taken back from the segment and cohort the order was counted in. The
facts a refund needs (savings, segment, cohort, donation) are the order's own attributes.

Each decision returns its effects as values; a unit of work records them in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.cohorts import Cohort
from chalicelib.domain.donations import (
    PLEDGE,
    REVERSAL,
    LedgerEntry,
    Posting,
    order_pledge,
    reversed_after_refunds,
)
from chalicelib.domain.program import (
    MEMBERS,
    NON_MEMBERS,
    CountDelta,
    CountedOrder,
    Movement,
    Savings,
    Segment,
    ShopperHistory,
    count_order,
    reversed_savings,
)
from chalicelib.domain.times import month_of


class SavingsWithoutMembershipError(Exception):
    """A non-member's order reported savings through perks."""


class RefundExceedsOrderError(Exception):
    """Refunds would total more than the order's amount."""

    def __init__(self, total: int, amount: int) -> None:
        super().__init__(total, amount)
        self.total = total
        self.amount = amount


@dataclass(frozen=True, slots=True)
class ProgramEffects:
    """An order's or refund's effect on the program counters, the shopper's value and their cohort."""

    # The fact's own id (an order id, `<order id>#<refund id>`): where its counters land.
    token: str
    customer_ref: str
    movement: Movement
    # Customer-count changes (orders only).
    counts: list[CountDelta] = field(default_factory=list)
    # Change of the member's running savings in the movement's currency.
    saved: int = 0
    # The cohort whose revenue moves by `movement.revenue` (None: the shopper has none).
    cohort: Cohort | None = None


@dataclass(frozen=True, slots=True)
class HistoryChange:
    """The shopper's counting history after an order, to write only if nobody wrote it since `revision`."""

    customer_ref: str
    history: ShopperHistory
    # The revision it was read at; None when the shopper had no history.
    revision: int | None


@dataclass(slots=True)
class Order:
    """A recorded order (`version` is the optimistic lock it was read at; None: not yet recorded)."""

    order_id: str
    customer_ref: str
    currency: str
    amount: int
    placed_at: datetime
    # Counted as a member's order (perks were active when it was placed).
    member: bool
    savings: Savings
    # The cause a member's order pledged to (None: a non-member, or no cause) and how much.
    cause_id: str | None = None
    donation: int = 0
    # The cohort the order's revenue was counted in; its refunds take it back there.
    cohort: Cohort | None = None
    refunded: int = 0
    reversed: int = 0
    version: int | None = None

    @property
    def segment(self) -> Segment:
        return MEMBERS if self.member else NON_MEMBERS

    def refund(self, refund_id: str, amount: int, now: datetime) -> Refunded:
        """Refund `amount` more: the donation reversed and savings given back by the donation rule,
        counted in the refund's month. Refused beyond the order's amount."""
        refunded = self.refunded + amount
        if refunded > self.amount:
            raise RefundExceedsOrderError(refunded, self.amount)
        month = month_of(now)
        increment = reversed_after_refunds(self.donation, self.amount, refunded) - self.reversed
        reversal = None
        if increment > 0 and self.cause_id is not None:
            entry = LedgerEntry(REVERSAL, self.cause_id, self.currency, increment, month)
            reversal = Posting(
                f"reversal#{self.order_id}#{refund_id}",
                entry,
                now,
                self.customer_ref,
                pledged_at=self.placed_at,
            )
        before = reversed_savings(self.savings, self.amount, self.refunded)
        after = reversed_savings(self.savings, self.amount, refunded)
        discount_back = after.member_discount - before.member_discount
        shipping_back = after.shipping - before.shipping
        movement = Movement(
            month, self.currency, self.segment, orders=0, revenue=-amount,
            member_discount=-discount_back, shipping_waived=-shipping_back,
        )  # fmt: skip
        program = ProgramEffects(
            f"{self.order_id}#{refund_id}", self.customer_ref, movement,
            saved=-(discount_back + shipping_back), cohort=self.cohort,
        )  # fmt: skip
        self.refunded = refunded
        self.reversed += max(increment, 0)
        return Refunded(refund_id, amount, max(increment, 0), reversal, program)


@dataclass(frozen=True, slots=True)
class Refunded:
    """What one refund changes besides the order's running sums."""

    refund_id: str
    amount: int
    donation_reversed: int
    reversal: Posting | None
    program: ProgramEffects


@dataclass(frozen=True, slots=True)
class OrderPlaced:
    """A new order and everything it changes."""

    order: Order
    pledge: Posting | None
    program: ProgramEffects
    history: HistoryChange | None

    @property
    def donation_decided(self) -> bool:
        """Whether the order pledges to a cause (possibly zero after rounding)."""
        return self.order.cause_id is not None


def place_order(
    *,
    order_id: str,
    customer_ref: str,
    currency: str,
    amount: int,
    placed_at: datetime,
    savings: Savings,
    perks_active: bool,
    order_bps: int | None,
    cause_id: str | None,
    cohort: Cohort | None,
    history: ShopperHistory,
    history_revision: int | None,
) -> OrderPlaced:
    """Decide a placed order.

    A non-member cannot save through perks. A member's order pledges `order_bps` of its amount to
    their cause (no pledge without a plan or a cause, or when the rounded pledge is zero). The order
    counts in the members' or non-members' segment of its month, in the shopper's distinct and
    returning customers, in the member's savings and in the revenue of the shopper's cohort.
    """
    if not perks_active and savings.total > 0:
        raise SavingsWithoutMembershipError()
    month = month_of(placed_at)
    decided_cause = cause_id if perks_active and order_bps is not None else None
    donation = order_pledge(amount, order_bps) if decided_cause is not None and order_bps is not None else 0
    order = Order(
        order_id, customer_ref, currency, amount, placed_at, perks_active, savings,
        cause_id=decided_cause, donation=donation, cohort=cohort,
    )  # fmt: skip
    pledge = None
    if decided_cause is not None and donation > 0:
        entry = LedgerEntry(PLEDGE, decided_cause, currency, donation, month, orders=1)
        pledge = Posting(f"pledge#order#{order_id}", entry, placed_at, customer_ref)
    counted = CountedOrder(order_id, placed_at, month, currency, order.segment)
    new_history, deltas = count_order(history, counted)
    movement = Movement(
        month, currency, order.segment, orders=1, revenue=amount,
        member_discount=savings.member_discount, shipping_waived=savings.shipping,
    )  # fmt: skip
    program = ProgramEffects(order_id, customer_ref, movement, deltas, saved=savings.total, cohort=cohort)
    change = HistoryChange(customer_ref, new_history, history_revision) if deltas else None
    return OrderPlaced(order, pledge, program, change)
