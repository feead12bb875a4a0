"""Giving that can be shown and proven: which pledges the payouts cover, a shopper's impact statement,
what each cause is owed and since when, and the correction of a mistaken payout.

Coverage rule: a cause's payouts in one currency (net of voids) are applied to its pledges oldest first.
Pledges are reckoned per UTC day of the pledge (a reversal counts on its pledge's day, so a refund lowers
what is owed for the day it was pledged): a day's pledges are `disbursed` once the payouts cover every day
up to and including it. The running sums per pledge day are flat in orders (one item per cause, currency,
day and shard), so a statement or a payouts report never reads a cause's individual pledges.
Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chalicelib.domain.catalog import Cause
from chalicelib.domain.donations import PLEDGE, REVERSAL, VOID, LedgerEntry, Posting

PLEDGED = "pledged"
DISBURSED = "disbursed"


def day_of(moment: datetime) -> str:
    """The UTC day (`YYYY-MM-DD`) a pledge is reckoned on."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def start_of_day(day: str) -> datetime:
    return datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)


def pledge_day_of(posting: Posting) -> str | None:
    """The day a pledge or reversal counts on (a reversal: its pledge's day); None for payouts."""
    if posting.entry.kind not in (PLEDGE, REVERSAL):
        return None
    return day_of(posting.pledged_at or posting.occurred_at)


def cause_active(cause_id: str | None, causes: Mapping[str, Cause]) -> bool:
    """Whether a member's chosen cause still takes pledges (no choice: the default cause, so yes)."""
    if cause_id is None:
        return True
    cause = causes.get(cause_id)
    return cause is not None and cause.active


def pledge_cause(chosen: str | None, causes: Mapping[str, Cause], default_cause_id: str | None) -> str | None:
    """Where a member's new pledge goes: their cause while it is active, else the default cause."""
    if chosen is not None and cause_active(chosen, causes):
        return chosen
    return default_cause_id


def first_uncovered_day(day_nets: Mapping[str, int], disbursed: int) -> str | None:
    """The oldest pledge day the payouts do not cover in full (None: every pledge is covered).

    Days are taken oldest first; a day is covered when the cumulative net pledged up to and including
    it is at most what was disbursed (net of voids).
    """
    cumulative = 0
    for day in sorted(day_nets):
        if day_nets[day] <= 0:
            continue
        cumulative += day_nets[day]
        if cumulative > disbursed:
            return day
    return None


def source_of(entry_id: str) -> dict[str, str]:
    """What a shopper's entry came from: `{order_id}`, `{invoice_id}` or `{gift_id}` (from its id)."""
    kind, _, rest = entry_id.partition("#")
    if kind == REVERSAL:
        order_id, _, _refund = rest.rpartition("#")
        return {"order_id": order_id}
    source, _, source_id = rest.partition("#")
    return {f"{source}_id": source_id}


@dataclass(frozen=True, slots=True)
class ShopperEntry:
    """One of a shopper's pledges or reversals, as their statement lists it."""

    entry_id: str
    kind: str
    cause_id: str
    currency: str
    amount: int
    occurred_at: datetime
    # The day of the pledge it counts against (its own day for a pledge).
    pledge_day: str


def shopper_entry(posting: Posting) -> ShopperEntry | None:
    """The statement line a shopper's posting adds (None for a payout or an entry without a shopper)."""
    day = pledge_day_of(posting)
    if posting.customer_ref is None or day is None:
        return None
    entry = posting.entry
    return ShopperEntry(
        posting.entry_id, entry.kind, entry.cause_id, entry.currency, entry.amount, posting.occurred_at, day
    )


@dataclass(frozen=True, slots=True)
class Payout:
    """A recorded disbursement as coverage reads it (voided ones are left out by the caller)."""

    disbursement_id: str
    cause_id: str
    currency: str
    amount: int
    paid_at: datetime
    receipt_url: str | None


@dataclass(frozen=True, slots=True)
class StatementLine:
    occurred_at: datetime
    kind: str
    source: dict[str, str]
    cause_id: str
    amount: int
    currency: str
    status: str


@dataclass(frozen=True, slots=True)
class StatementTotal:
    cause_id: str
    currency: str
    pledged: int
    reversed: int
    net: int


@dataclass(frozen=True, slots=True)
class Statement:
    lines: list[StatementLine]
    totals: list[StatementTotal]
    payouts: list[Payout]


@dataclass(frozen=True, slots=True)
class CauseLedger:
    """A cause's net pledged per pledge day and its payouts (net of voids), in one currency."""

    day_nets: Mapping[str, int]
    payouts: Sequence[Payout]

    @property
    def disbursed(self) -> int:
        return sum(p.amount for p in self.payouts)

    def covered(self, day: str) -> bool:
        first = first_uncovered_day(self.day_nets, self.disbursed)
        return first is None or day < first

    def payouts_covering(self, days: Iterable[str]) -> list[Payout]:
        """The payouts (applied oldest first) whose money went to the pledges of these covered days."""
        wanted = {d for d in days if self.covered(d)}
        # Each covered day is a range (before, through] of cumulative net pledged.
        ranges: list[tuple[int, int]] = []
        cumulative = 0
        for day in sorted(self.day_nets):
            net = max(self.day_nets[day], 0)
            if day in wanted and net > 0:
                ranges.append((cumulative, cumulative + net))
            cumulative += net
        chosen = []
        paid = 0
        for payout in sorted(self.payouts, key=lambda p: (p.paid_at, p.disbursement_id)):
            low, high = paid, paid + payout.amount
            if any(low < r_high and r_low < high for r_low, r_high in ranges):
                chosen.append(payout)
            paid = high
        return chosen


def impact_statement(
    entries: Iterable[ShopperEntry], year: int, ledgers: Mapping[tuple[str, str], CauseLedger]
) -> Statement:
    """A shopper's year of giving: every pledge and reversal of the year, oldest first, with its status
    (`disbursed` once its cause's payouts cover its pledge day; a reversal shares its pledge's), totals
    per cause and currency that are the sums of the lines, and the payouts that covered them."""
    mine = sorted(
        (e for e in entries if e.occurred_at.year == year), key=lambda e: (e.occurred_at, e.entry_id)
    )
    lines = []
    sums: dict[tuple[str, str], list[int]] = {}
    days: dict[tuple[str, str], set[str]] = {}
    for e in mine:
        ledger = ledgers.get((e.cause_id, e.currency), CauseLedger({}, []))
        status = DISBURSED if ledger.covered(e.pledge_day) else PLEDGED
        lines.append(
            StatementLine(
                e.occurred_at, e.kind, source_of(e.entry_id), e.cause_id, e.amount, e.currency, status
            )
        )
        pair = sums.setdefault((e.cause_id, e.currency), [0, 0])
        pair[0 if e.kind == PLEDGE else 1] += e.amount
        if status == DISBURSED:
            days.setdefault((e.cause_id, e.currency), set()).add(e.pledge_day)
    totals = [
        StatementTotal(cause_id, currency, pledged, reversed_, pledged - reversed_)
        for (cause_id, currency), (pledged, reversed_) in sorted(sums.items())
    ]
    payouts = [
        payout
        for key in sorted(days)
        for payout in ledgers.get(key, CauseLedger({}, [])).payouts_covering(days[key])
    ]
    return Statement(lines, totals, payouts)


@dataclass(frozen=True, slots=True)
class PayoutObligation:
    """What a cause is owed in one currency and since when (the oldest pledge not yet covered)."""

    cause_id: str
    currency: str
    outstanding: int
    oldest_undisbursed_at: datetime | None
    days_outstanding: int
    overdue: bool


def payout_obligation(
    cause_id: str,
    currency: str,
    outstanding: int,
    day_nets: Mapping[str, int],
    disbursed: int,
    now: datetime,
    due_days: int,
) -> PayoutObligation:
    """Overdue when the oldest uncovered pledge day began more than `due_days` days ago."""
    first = first_uncovered_day(day_nets, disbursed) if outstanding > 0 else None
    if first is None:
        return PayoutObligation(cause_id, currency, max(outstanding, 0), None, 0, False)
    since = start_of_day(first)
    days = max((now - since) // timedelta(days=1), 0)
    return PayoutObligation(cause_id, currency, outstanding, since, days, days > due_days)


def void_entry(disbursement: LedgerEntry) -> LedgerEntry:
    """The reversing entry of a mistaken payout: it counts in the payout's own month, so the month's
    `disbursed` and the cause's outstanding balance read as if it had never been paid."""
    return LedgerEntry(
        VOID, disbursement.cause_id, disbursement.currency, disbursement.amount, disbursement.period
    )


def void_entry_id(disbursement_id: str) -> str:
    return f"void#{disbursement_id}"
