"""Donation math: pledges, reversals after refunds, and balances per cause and currency.

All amounts are integer minor units; every division rounds half up (SPEC.md, Donations ledger).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from chalicelib.domain.money import apply_bps, round_half_up_div

PLEDGE = "pledge"
REVERSAL = "reversal"
DISBURSEMENT = "disbursement"


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
