"""Donation math: pledges, reversals after refunds, and balances per cause and currency.

All amounts are integer minor units; every division rounds half up (SPEC.md, Donations ledger).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from chalicelib.domain.money import apply_bps, round_half_up_div
from chalicelib.domain.times import month_of

PLEDGE = "pledge"
REVERSAL = "reversal"
DISBURSEMENT = "disbursement"
# The reversing entry of a mistaken disbursement (it gives the amount back to the outstanding balance).
VOID = "void"


def order_pledge(order_amount: int, order_bps: int) -> int:
    """The donation an order pledges: round half up(amount × bps / 10 000)."""
    return apply_bps(order_amount, order_bps)


def reversed_after_refunds(donation: int, order_amount: int, total_refunded: int) -> int:
    """Total reversed once `total_refunded` of the order is refunded; a full refund reverses it all."""
    if order_amount == 0:
        return 0
    return round_half_up_div(donation * total_refunded, order_amount)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One append-only fact: a pledge, a reversal of one, or money paid out to a cause."""

    kind: str
    cause_id: str
    currency: str
    amount: int
    period: str
    orders: int = 0


@dataclass(slots=True)
class Balance:
    pledged: int = 0
    reversed: int = 0
    disbursed: int = 0
    orders: int = 0

    @property
    def net(self) -> int:
        return self.pledged - self.reversed

    @property
    def outstanding(self) -> int:
        """Owed to the cause. Negative only when refunds came after a payout (an overpayment to carry)."""
        return self.net - self.disbursed

    def add(self, entry: LedgerEntry) -> None:
        if entry.kind == PLEDGE:
            self.pledged += entry.amount
        elif entry.kind == REVERSAL:
            self.reversed += entry.amount
        elif entry.kind == DISBURSEMENT:
            self.disbursed += entry.amount
        elif entry.kind == VOID:
            self.disbursed -= entry.amount
        else:
            raise ValueError(f"unknown ledger entry kind {entry.kind!r}")
        self.orders += entry.orders

    def merge(self, other: Balance) -> None:
        """Add another balance (one shard of a running total) to this one."""
        self.pledged += other.pledged
        self.reversed += other.reversed
        self.disbursed += other.disbursed
        self.orders += other.orders


@dataclass(slots=True)
class Totals:
    """Balances per (period, cause, currency) and per (cause, currency) over all time."""

    monthly: dict[tuple[str, str, str], Balance] = field(default_factory=dict)
    all_time: dict[tuple[str, str], Balance] = field(default_factory=dict)


def fold(entries: Iterable[LedgerEntry]) -> Totals:
    """Totals recomputed from the ledger (what the running totals must always equal)."""
    totals = Totals()
    for entry in entries:
        totals.monthly.setdefault((entry.period, entry.cause_id, entry.currency), Balance()).add(entry)
        totals.all_time.setdefault((entry.cause_id, entry.currency), Balance()).add(entry)
    return totals


@dataclass(frozen=True, slots=True)
class Posting:
    """A ledger entry to record (once: `entry_id` is its natural id) with the running totals it counts in."""

    entry_id: str
    entry: LedgerEntry
    occurred_at: datetime
    # The shopper whose order or fee it comes from (None for disbursements).
    customer_ref: str | None = None
    # A reversal: when the pledge it reverses was made (payouts cover pledges by pledge day).
    pledged_at: datetime | None = None


class MonthTotal(NamedTuple):
    """A cause's sums in one month and currency (the donations report's rows)."""

    period: str
    cause_id: str
    currency: str


class CauseTotal(NamedTuple):
    """A cause's sums over all time in one currency (what it is owed)."""

    cause_id: str
    currency: str


class ShopperImpact(NamedTuple):
    """What one shopper's orders and fees pledged and reversed for a cause in one currency."""

    customer_ref: str
    currency: str
    cause_id: str


TotalsLine = MonthTotal | CauseTotal | ShopperImpact


def counted_in(entry: LedgerEntry, customer_ref: str | None) -> list[tuple[TotalsLine, Balance]]:
    """Which running totals an entry adds to, and what it adds to each: its month, its cause's all-time
    sums and, for a shopper's pledge or reversal, the shopper's impact (pledged and reversed only)."""
    delta = Balance()
    delta.add(entry)
    lines: list[tuple[TotalsLine, Balance]] = [
        (MonthTotal(entry.period, entry.cause_id, entry.currency), delta),
        (CauseTotal(entry.cause_id, entry.currency), delta),
    ]
    if customer_ref is not None and entry.kind not in (DISBURSEMENT, VOID):
        impact = Balance(pledged=delta.pledged, reversed=delta.reversed)
        lines.append((ShopperImpact(customer_ref, entry.currency, entry.cause_id), impact))
    return lines


class InsufficientBalanceError(Exception):
    """A disbursement larger than the cause's outstanding balance in that currency."""

    def __init__(self, outstanding: int) -> None:
        super().__init__(outstanding)
        self.outstanding = outstanding


def disbursement_entry_id(disbursement_id: str) -> str:
    return f"disbursement#{disbursement_id}"


@dataclass(frozen=True, slots=True)
class CauseBalance:
    """A cause's running sums in one currency, as loaded (the aggregate a disbursement changes).

    `balance.disbursed` is what was paid out when it was loaded: a commit holds only if no other
    payout happened since (pledges and reversals may, and never stop a payout).
    """

    cause_id: str
    currency: str
    balance: Balance

    def disburse(self, disbursement_id: str, amount: int, paid_at: datetime) -> Posting:
        """The payout's ledger entry; refused unless the outstanding balance covers it."""
        if self.balance.outstanding < amount:
            raise InsufficientBalanceError(self.balance.outstanding)
        entry = LedgerEntry(DISBURSEMENT, self.cause_id, self.currency, amount, month_of(paid_at))
        return Posting(disbursement_entry_id(disbursement_id), entry, paid_at)
