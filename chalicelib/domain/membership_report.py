"""The memberships report: who is a member on which plan, recurring revenue, joins and cancellations.

Pure: the service passes every shopper's subscriptions, the plans and the clock.

- **Members** are counted once each, by the subscription their membership follows
  (`governing_subscription`), grouped by plan and Stripe status; `perks_active` says how many of
  them have perks now (a canceled or expired member is counted under its status with none).
- **MRR** per currency: what every membership that is paying now pays, at its subscription's own
  Price (a member still on an older price counts at that price, as Stripe counts it) — status
  `active` or `past_due` with perks active (trials pay nothing yet; past-due members still in
  grace are still billed). Amount × quantity, normalised to a month (yearly ÷ 12, every 3 months
  ÷ 3, weekly × 52 ÷ 12); the month amounts of a currency are summed exactly and rounded half up
  once, so MRR does not drift with the number of yearly members. A subscription stored before its
  price was kept counts at its plan's current price.
- **Joins** per month: subscriptions that started (trialing or paid; never-paid `incomplete`
  checkouts are not joins), by the month Stripe created them. A shopper who leaves and comes back
  joins twice. **Cancellations** per month: subscriptions that ended (`canceled`), by the month
  they ended; a cancellation scheduled for the period end counts when the period ends.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from fractions import Fraction

import msgspec

from chalicelib.domain.catalog import Plan
from chalicelib.domain.csv_export import Cell, csv_document
from chalicelib.domain.membership import (
    AccessPolicy,
    SubscriptionSnapshot,
    governing_subscription,
    perks_active,
)
from chalicelib.domain.money import format_decimal, round_half_up_div
from chalicelib.domain.patterns import whole
from chalicelib.domain.times import from_epoch, month_of

PAYING_STATUSES = frozenset({"active", "past_due"})
NEVER_STARTED = frozenset({"incomplete", "incomplete_expired"})
MAX_MONTHS = 120
MONTH_PATTERN = re.compile(whole("[0-9]{4}-(0[1-9]|1[0-2])"))


class PlanStatusCount(msgspec.Struct):
    plan_id: str | None
    status: str
    members: int
    perks_active: int


class RecurringRevenue(msgspec.Struct):
    currency: str
    mrr: int
    mrr_decimal: str
    paying_members: int


class MonthMovement(msgspec.Struct):
    period: str
    joins: int
    cancellations: int


class MembershipReport(msgspec.Struct):
    members: list[PlanStatusCount]
    mrr: list[RecurringRevenue]
    months: list[MonthMovement]


def months_between(first: str, last: str) -> list[str]:
    """Every `YYYY-MM` from `first` to `last`, both included (empty when first > last)."""
    year, month = int(first[:4]), int(first[5:7])
    end = (int(last[:4]), int(last[5:7]))
    months: list[str] = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def months_ending(last: str, count: int) -> tuple[str, str]:
    """The `count` months ending with `last` (`YYYY-MM`): (first, last)."""
    year, month = int(last[:4]), int(last[5:7]) - (count - 1)
    while month < 1:
        year, month = year - 1, month + 12
    return f"{year:04d}-{month:02d}", last


def _ended_at(snapshot: SubscriptionSnapshot) -> int:
    if snapshot.ended_at is not None:
        return snapshot.ended_at
    if snapshot.canceled_at is not None:
        return snapshot.canceled_at
    return int(snapshot.observed_at)


def membership_report(
    shoppers: Iterable[Sequence[SubscriptionSnapshot]],
    plans: Mapping[str, Plan],
    now: datetime,
    policy: AccessPolicy,
    first: str,
    last: str,
) -> MembershipReport:
    """The report at `now` for the months `first`..`last` (`YYYY-MM`, both included)."""
    periods = months_between(first, last)
    wanted = set(periods)
    by_plan_status: Counter[tuple[str | None, str]] = Counter()
    with_perks: Counter[tuple[str | None, str]] = Counter()
    monthly: dict[str, Fraction] = {}
    paying: Counter[str] = Counter()
    joins: Counter[str] = Counter()
    cancellations: Counter[str] = Counter()

    for subscriptions in shoppers:
        for snapshot in subscriptions:
            if snapshot.status not in NEVER_STARTED:
                joined = month_of(from_epoch(snapshot.created))
                if joined in wanted:
                    joins[joined] += 1
            if snapshot.status == "canceled":
                ended = month_of(from_epoch(_ended_at(snapshot)))
                if ended in wanted:
                    cancellations[ended] += 1
        governing = governing_subscription(subscriptions, now, policy)
        if governing is None:
            continue
        key = (governing.plan_id, governing.status)
        by_plan_status[key] += 1
        active = perks_active(governing, now, policy)
        if active:
            with_perks[key] += 1
        price = _own_price(governing, plans.get(governing.plan_id or ""))
        if active and price is not None and governing.status in PAYING_STATUSES:
            currency, per_month = price
            monthly[currency] = monthly.get(currency, Fraction(0)) + per_month
            paying[currency] += 1

    members = [
        PlanStatusCount(plan_id, status, count, with_perks[(plan_id, status)])
        for (plan_id, status), count in sorted(
            by_plan_status.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])
        )
    ]
    revenue = []
    for currency in sorted(paying):
        total = monthly.get(currency, Fraction(0))
        mrr = round_half_up_div(total.numerator, total.denominator)
        revenue.append(RecurringRevenue(currency, mrr, format_decimal(mrr, currency), paying[currency]))
    months = [MonthMovement(period, joins[period], cancellations[period]) for period in periods]
    return MembershipReport(members=members, mrr=revenue, months=months)


# Months per billing interval, to bring every price to a monthly amount.
_MONTHS_PER = {"day": Fraction(12, 365), "week": Fraction(12, 52), "month": Fraction(1), "year": Fraction(12)}


def _own_price(snapshot: SubscriptionSnapshot, plan: Plan | None) -> tuple[str, Fraction] | None:
    """(currency, amount per month) the subscription pays: its own Price, else its plan's current one."""
    if snapshot.unit_amount is not None and snapshot.currency and snapshot.interval in _MONTHS_PER:
        months = _MONTHS_PER[snapshot.interval] * max(snapshot.interval_count, 1)
        return snapshot.currency, Fraction(snapshot.unit_amount * max(snapshot.quantity, 0)) / months
    if plan is None:
        return None
    return plan.currency, Fraction(plan.amount) / (12 if plan.interval == "year" else 1)


CSV_COLUMNS = [
    "section", "plan_id", "status", "members", "perks_active", "currency", "mrr", "mrr_decimal",
    "paying_members", "period", "joins", "cancellations",
]  # fmt: skip


def membership_csv(report: MembershipReport) -> str:
    """RFC 4180 CSV (see `csv_export`) of the report's three lists in one table: `section` says which
    (`members`, `mrr`, `months`) and each row fills that list's columns, the others empty."""
    rows: list[list[Cell]] = []
    for section, items in (("members", report.members), ("mrr", report.mrr), ("months", report.months)):
        for item in items:
            cells = {"section": section, **msgspec.structs.asdict(item)}
            rows.append([cells.get(column) for column in CSV_COLUMNS])
    return csv_document(CSV_COLUMNS, rows)
