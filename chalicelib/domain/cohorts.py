"""Cohorts: shoppers grouped by the month and plan of their first paid membership, followed month by month.

Pure. The member aggregate keeps each shopper's `CohortStanding` (their cohort, fixed once set, and
whether they are counted active now); `follow` compares it with the shopper's subscriptions after every
change and emits `CohortMove`s, which the store adds to sharded counters in the same transaction:

- joining: `joined` +1 and `active` +1 in the cohort month (the month the subscription started, its
  trial included) — the first time one of the shopper's subscriptions is seen `active` (paid);
- perks ending: `active` −1 in the month they ended; perks starting again (a rejoin, a recovered
  payment): `active` +1 in the month they started again.

So the shoppers of a cohort with perks at the end of month k are the sum of its `active` moves up to k,
whatever the number of members; and a start or end is counted once, because a move is emitted only when
the stored standing changes (the member item is written under its version).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from chalicelib.domain.membership import (
    AccessPolicy,
    SubscriptionSnapshot,
    access_until,
    governing_subscription,
    perks_active,
)
from chalicelib.domain.times import from_epoch, month_of

if TYPE_CHECKING:
    from chalicelib.domain.csv_export import Cell

# The Stripe status that says a subscription was paid for (a trial becomes `active` once it is paid).
PAID_STATUS = "active"


class Cohort(msgspec.Struct, frozen=True):
    """Where a shopper belongs: the month their first paid membership started and its plan."""

    month: str
    plan_id: str
    # The membership's currency, so the cohort has a row in it before any money is counted.
    currency: str | None = None


class CohortStanding(msgspec.Struct):
    """What the cohort counters hold for one shopper."""

    cohort: Cohort
    # Counted active: the shopper's last `active` move was +1.
    active: bool
    # Unix seconds of the last counted start or end; a later move is never dated before it.
    changed_at: int


@dataclass(frozen=True, slots=True)
class CohortMove:
    """`active` shoppers more (or fewer) at the end of `month` and after; `joined` 1 when one joins."""

    cohort: Cohort
    month: str
    active: int
    joined: int = 0


def first_paid(subscriptions: Iterable[SubscriptionSnapshot]) -> SubscriptionSnapshot | None:
    """The earliest subscription seen paid (`active`) that has a plan, or None."""
    paid = [s for s in subscriptions if s.status == PAID_STATUS and s.plan_id]
    return min(paid, key=lambda s: (s.created, s.subscription_id)) if paid else None


def perks_ended_at(subscriptions: Iterable[SubscriptionSnapshot], policy: AccessPolicy) -> int:
    """When the shopper's perks last ended (Unix seconds): the latest end among their subscriptions —
    the end of the paid period (with leeway) or of grace, else when Stripe ended it, else when the state
    that grants nothing was observed."""
    ends = [0]
    for s in subscriptions:
        until = access_until(s, policy)
        if until is not None:
            ends.append(int(until.timestamp()))
        elif s.ended_at is not None:
            ends.append(s.ended_at)
        elif s.canceled_at is not None:
            ends.append(s.canceled_at)
        else:
            ends.append(int(s.observed_at))
    return max(ends)


def follow(
    standing: CohortStanding | None,
    subscriptions: list[SubscriptionSnapshot],
    now: datetime,
    policy: AccessPolicy,
) -> tuple[CohortStanding | None, list[CohortMove]]:
    """The shopper's standing after their subscriptions changed, and the counter moves that takes."""
    moves: list[CohortMove] = []
    now_epoch = int(now.timestamp())
    if standing is None:
        paid = first_paid(subscriptions)
        if paid is None or paid.plan_id is None:
            return None, []
        started = min(paid.created, now_epoch)
        cohort = Cohort(month_of(from_epoch(started)), paid.plan_id, paid.currency)
        standing = CohortStanding(cohort, active=True, changed_at=started)
        moves.append(CohortMove(cohort, cohort.month, active=1, joined=1))
    governing = governing_subscription(subscriptions, now, policy)
    has_perks = perks_active(governing, now, policy)
    if standing.active and not has_perks:
        ended = _between(perks_ended_at(subscriptions, policy), standing.changed_at, now_epoch)
        standing = CohortStanding(standing.cohort, active=False, changed_at=ended)
        moves.append(CohortMove(standing.cohort, month_of(from_epoch(ended)), active=-1))
    elif not standing.active and has_perks and governing is not None:
        # A subscription created after the last end is a rejoin, started when it was created; an older
        # one came back (a late payment), which is when its new state was observed.
        restart = governing.created if governing.created > standing.changed_at else int(governing.observed_at)
        started = _between(restart, standing.changed_at, now_epoch)
        standing = CohortStanding(standing.cohort, active=True, changed_at=started)
        moves.append(CohortMove(standing.cohort, month_of(from_epoch(started)), active=1))
    return standing, moves


def _between(moment: int, earliest: int, latest: int) -> int:
    return max(earliest, min(moment, latest))


# ---------------------------------------------------------------------------------------------------------
# The report


@dataclass(slots=True)
class CohortSums:
    """One cohort × plan's counters, summed over the shards."""

    joined: int = 0
    # month → active moves in it
    active: dict[str, int] = field(default_factory=dict)
    # currency → (fees, revenue)
    money: dict[str, tuple[int, int]] = field(default_factory=dict)


class CohortRow(msgspec.Struct):
    cohort: str
    plan_id: str
    currency: str | None
    joined: int
    active: list[int]
    fees: int
    revenue: int


class CohortReport(msgspec.Struct, omit_defaults=True):
    data: list[CohortRow]
    # Every write committed before this moment is counted (the rolled-up totals read, `store.rollups`);
    # omitted where a report is built straight from sums given to it (the domain's own tests).
    as_of: datetime | None = None


def cohort_report(
    first: str, last: str, current: str, sums: Mapping[tuple[str, str], CohortSums]
) -> CohortReport:
    """Rows for the cohorts of `first`..`last` (keyed (cohort month, plan) in `sums`): one per currency of
    the cohort's money (its membership's currency at least), `active` from the cohort month to `current`."""
    # Here, not at import: every member read follows cohorts, only the report needs the report's months.
    from chalicelib.domain.membership_report import months_between

    rows: list[CohortRow] = []
    for (month, plan_id), cohort in sorted(sums.items()):
        if not first <= month <= last or cohort.joined == 0:
            continue
        running = sum(n for m, n in cohort.active.items() if m < month)
        active: list[int] = []
        for period in months_between(month, current):
            running += cohort.active.get(period, 0)
            active.append(running)
        money: Mapping[str | None, tuple[int, int]] = dict(sorted(cohort.money.items())) or {None: (0, 0)}
        for currency, (fees, revenue) in money.items():
            rows.append(CohortRow(month, plan_id, currency, cohort.joined, active, fees, revenue))
    return CohortReport(data=rows)


CSV_COLUMNS = ["cohort", "plan_id", "currency", "joined", "active", "fees", "revenue"]


def cohorts_csv(report: CohortReport) -> str:
    """RFC 4180 CSV (see `csv_export`): the JSON's columns, `active` as its counts joined by spaces
    (`5 4 4`, month by month from the cohort month)."""
    from chalicelib.domain.csv_export import csv_document

    def line(row: CohortRow) -> list[Cell]:
        active = " ".join(str(n) for n in row.active)
        return [row.cohort, row.plan_id, row.currency, row.joined, active, row.fees, row.revenue]

    return csv_document(CSV_COLUMNS, (line(row) for row in report.data))
