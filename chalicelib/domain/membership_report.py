"""The memberships report: who is a member on which plan, recurring revenue, joins and cancellations.

Pure: the service passes every shopper's subscriptions, the plans and the clock.

- **Members** are counted once each, by the subscription their membership follows
  (`governing_subscription`), grouped by plan and Stripe status; `perks_active` says how many of
  them have perks now (a canceled or expired member is counted under its status with none).
- **MRR** per currency: the plan price of every membership that is paying now — status `active`
  or `past_due` with perks active (trials pay nothing yet; past-due members still in grace are
  still billed). A yearly plan counts amount / 12: the yearly amounts of a currency are summed
  and divided once, rounded half up, so MRR does not drift with the number of yearly members.
  The price is the plan's current amount (a member on an older price counts at the new one).
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

import msgspec

from chalicelib.domain.catalog import Plan
from chalicelib.domain.membership import (
    AccessPolicy,
    SubscriptionSnapshot,
    governing_subscription,
    perks_active,
)
from chalicelib.domain.money import format_decimal, round_half_up_div
from chalicelib.domain.times import from_epoch, month_of

PAYING_STATUSES = frozenset({"active", "past_due"})
NEVER_STARTED = frozenset({"incomplete", "incomplete_expired"})
MAX_MONTHS = 120
MONTH_PATTERN = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


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
    monthly: Counter[str] = Counter()
    yearly: Counter[str] = Counter()
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
        plan = plans.get(governing.plan_id or "")
        if active and plan is not None and governing.status in PAYING_STATUSES:
            (yearly if plan.interval == "year" else monthly)[plan.currency] += plan.amount
            paying[plan.currency] += 1

    members = [
        PlanStatusCount(plan_id, status, count, with_perks[(plan_id, status)])
        for (plan_id, status), count in sorted(
            by_plan_status.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])
        )
    ]
    revenue = []
    for currency in sorted(paying):
        mrr = monthly[currency] + round_half_up_div(yearly[currency], 12)
        revenue.append(RecurringRevenue(currency, mrr, format_decimal(mrr, currency), paying[currency]))
    months = [MonthMovement(period, joins[period], cancellations[period]) for period in periods]
    return MembershipReport(members=members, mrr=revenue, months=months)
