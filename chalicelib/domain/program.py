"""The program's value: what members save, who counts as a (returning) customer, and the program report.

Pure: counters in, report rows out. The store keeps the counters as pre-aggregated sums (written in the
transaction of each order, refund and paid invoice); this module says what each counter means and how the
report's figures follow from them (SPEC.md, "Program report and cohorts").

Distinct customers. A shopper is a customer of (month, currency, segment) when they placed an order there.
Counting them exactly, whatever the order in which orders are reported, takes a per-shopper history
(`ShopperHistory`: the months they ordered in, per segment and currency, and their first order ever).
Adding a month to it emits `+1` for that month keyed by the previous month the shopper had ordered in
(`prev`); so the distinct customers of a range `from..to` are the month counts whose `prev` lies before
`from` (or is none): each shopper is counted in the first month of the range they ordered in, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from chalicelib.domain.csv_export import Cell, csv_document
from chalicelib.domain.membership_report import months_between
from chalicelib.domain.money import MAX_AMOUNT, round_half_up_div
from chalicelib.domain.patterns import whole

MEMBERS: Final = "members"
NON_MEMBERS: Final = "non_members"
Segment = Literal["members", "non_members"]
SEGMENTS: tuple[Segment, ...] = (MEMBERS, NON_MEMBERS)
CUSTOMERS: Final = "customers"
RETURNING: Final = "returning"
Kind = Literal["customers", "returning"]
# `prev` of a shopper's first month in a (segment, currency): sorts before every `YYYY-MM`.
NO_PREVIOUS = "0000-00"

SavingsAmount = Annotated[int, Meta(ge=0, le=MAX_AMOUNT, description="Integer minor units (cents).")]


class Savings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What a member saved on one order through perks, as the storefront applied them."""

    member_discount: SavingsAmount = 0
    shipping: SavingsAmount = 0

    @property
    def total(self) -> int:
        return self.member_discount + self.shipping


def reversed_savings(savings: Savings, order_amount: int, total_refunded: int) -> Savings:
    """Savings taken back once `total_refunded` of the order is refunded (the donation rule, per part).

    Round half up of part × total refunded / order amount, so a full refund takes back all of it.
    """
    if order_amount == 0:
        return Savings()
    return Savings(
        member_discount=round_half_up_div(savings.member_discount * total_refunded, order_amount),
        shipping=round_half_up_div(savings.shipping * total_refunded, order_amount),
    )


@dataclass(frozen=True, slots=True)
class Movement:
    """One order's or refund's effect on a segment's sums (negative for refunds)."""

    month: str
    currency: str
    segment: str
    orders: int
    revenue: int
    member_discount: int
    shipping_waived: int


# ---------------------------------------------------------------------------------------------------------
# Distinct and returning customers


class FirstOrder(msgspec.Struct, frozen=True):
    """A shopper's earliest order (by placed_at, then order id): the one order that is not a return."""

    placed_at: datetime
    order_id: str
    segment: Segment
    currency: str
    month: str


class ShopperHistory(msgspec.Struct):
    """What was already counted for one shopper: months with an order and months counted as returning,
    per `segment#currency`; and their first order."""

    months: dict[str, list[str]] = {}
    returning: dict[str, list[str]] = {}
    first: FirstOrder | None = None


@dataclass(frozen=True, slots=True)
class CountDelta:
    """`delta` shoppers more (or fewer) counted as `kind` in (month, currency, segment), keyed by `prev`."""

    month: str
    currency: str
    segment: Segment
    kind: Kind
    prev: str
    delta: int


@dataclass(frozen=True, slots=True)
class CountedOrder:
    order_id: str
    placed_at: datetime
    month: str
    currency: str
    segment: Segment


def _insert_month(
    months: list[str], month: str, currency: str, segment: Segment, kind: Kind
) -> list[CountDelta]:
    """Add `month` to a sorted month list; the deltas that keep each month's `prev` right."""
    if month in months:
        return []
    earlier = [m for m in months if m < month]
    later = [m for m in months if m > month]
    prev = earlier[-1] if earlier else NO_PREVIOUS
    deltas = [CountDelta(month, currency, segment, kind, prev, 1)]
    if later:  # the next month's previous one is now `month`
        deltas.append(CountDelta(later[0], currency, segment, kind, prev, -1))
        deltas.append(CountDelta(later[0], currency, segment, kind, month, 1))
    months.append(month)
    months.sort()
    return deltas


def count_order(history: ShopperHistory, order: CountedOrder) -> tuple[ShopperHistory, list[CountDelta]]:
    """The shopper's history after `order`, and the customer counts it changes (empty: nothing new).

    Histories only grow (months are added, the first order only moves earlier), so when the deltas are
    empty the history need not be written: a concurrent order cannot make them wrong.
    """
    new = msgspec.structs.replace(
        history,
        months={k: list(v) for k, v in history.months.items()},
        returning={k: list(v) for k, v in history.returning.items()},
    )
    key = f"{order.segment}#{order.currency}"
    months = new.months.setdefault(key, [])
    deltas = _insert_month(months, order.month, order.currency, order.segment, CUSTOMERS)
    this = FirstOrder(order.placed_at, order.order_id, order.segment, order.currency, order.month)
    first = history.first
    if first is None or (this.placed_at, this.order_id) < (first.placed_at, first.order_id):
        new.first = this
        if first is not None and first.order_id != this.order_id:
            # The former first order is a return now: it came after this one.
            old = f"{first.segment}#{first.currency}"
            deltas += _insert_month(
                new.returning.setdefault(old, []), first.month, first.currency, first.segment, RETURNING
            )
    elif first.order_id != order.order_id:
        returning = new.returning.setdefault(key, [])
        deltas += _insert_month(returning, order.month, order.currency, order.segment, RETURNING)
    return new, deltas


# ---------------------------------------------------------------------------------------------------------
# Counters and the report


@dataclass(slots=True)
class SegmentSums:
    """Money and order counts of one segment in one month and currency."""

    orders: int = 0
    revenue: int = 0
    member_discount: int = 0
    shipping_waived: int = 0


@dataclass(slots=True)
class MonthSums:
    """Everything counted for one month and currency (summed over the shards)."""

    segments: dict[str, SegmentSums] = field(default_factory=lambda: {s: SegmentSums() for s in SEGMENTS})
    fees: int = 0
    # (segment, kind, prev) → shoppers
    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)


Ratio = Annotated[
    str, Meta(pattern=whole(r"-?[0-9]+\.[0-9]{4}"), description="A decimal with 4 places, e.g. 1.2500")
]


class SegmentFigures(msgspec.Struct):
    customers: int
    orders: int
    revenue: int
    aov: int | None
    orders_per_customer: Ratio | None
    returning_customers: int
    returning_rate: Ratio | None


class Lift(msgspec.Struct):
    aov: Ratio | None
    orders_per_customer: Ratio | None
    returning_rate: Ratio | None


class ProgramRow(msgspec.Struct):
    period: str
    currency: str
    members: SegmentFigures
    non_members: SegmentFigures
    lift: Lift
    fees: int
    member_discount: int
    shipping_waived: int
    donations: int
    program_net: int


class ProgramReport(msgspec.Struct, omit_defaults=True):
    data: list[ProgramRow]
    totals: list[ProgramRow]
    # Every write committed before this moment is counted (the rolled-up totals read, `store.rollups`);
    # omitted where a report is built straight from sums given to it (the domain's own tests).
    as_of: datetime | None = None


def ratio(numerator: Fraction | int, denominator: Fraction | int) -> str | None:
    """numerator / denominator as a 4-decimal string, rounded half up (away from zero on halves of
    negative values' magnitude); None when the denominator is 0."""
    if denominator == 0:
        return None
    value = Fraction(numerator) / Fraction(denominator)
    scaled = abs(value) * 10_000
    units = int(scaled + Fraction(1, 2))  # floor(x + 1/2): half up
    sign = "-" if value < 0 and units else ""
    return f"{sign}{units // 10_000}.{units % 10_000:04d}"


def _average(total: int, count: int) -> int | None:
    if count == 0:
        return None
    rounded = round_half_up_div(abs(total), count)
    return rounded if total >= 0 else -rounded


@dataclass(frozen=True, slots=True)
class _Segment:
    sums: SegmentSums
    customers: int
    returning: int

    def figures(self) -> SegmentFigures:
        return SegmentFigures(
            customers=self.customers,
            orders=self.sums.orders,
            revenue=self.sums.revenue,
            aov=_average(self.sums.revenue, self.sums.orders),
            orders_per_customer=ratio(self.sums.orders, self.customers),
            returning_customers=self.returning,
            returning_rate=ratio(self.returning, self.customers),
        )

    @property
    def exact_aov(self) -> Fraction | None:
        return Fraction(self.sums.revenue, self.sums.orders) if self.sums.orders else None


def _lift(members: _Segment, others: _Segment) -> Lift:
    def of(a: Fraction | None, b: Fraction | None) -> str | None:
        return None if a is None or b is None else ratio(a, b)

    def per_customer(s: _Segment, count: int) -> Fraction | None:
        return Fraction(count, s.customers) if s.customers else None

    return Lift(
        aov=of(members.exact_aov, others.exact_aov),
        orders_per_customer=of(
            per_customer(members, members.sums.orders), per_customer(others, others.sums.orders)
        ),
        returning_rate=of(per_customer(members, members.returning), per_customer(others, others.returning)),
    )


def _row(
    period: str, currency: str, segments: Mapping[Segment, _Segment], fees: int, donations: int
) -> ProgramRow:
    members, others = segments[MEMBERS], segments[NON_MEMBERS]
    discount = members.sums.member_discount + others.sums.member_discount
    shipping = members.sums.shipping_waived + others.sums.shipping_waived
    return ProgramRow(
        period=period,
        currency=currency,
        members=members.figures(),
        non_members=others.figures(),
        lift=_lift(members, others),
        fees=fees,
        member_discount=discount,
        shipping_waived=shipping,
        donations=donations,
        program_net=fees - discount - shipping - donations,
    )


def _customers(sums: MonthSums, segment: str, kind: str, before: str | None = None) -> int:
    """Shoppers counted as `kind`; with `before`, only those with no earlier month at or after it."""
    return sum(
        n
        for (s, k, prev), n in sums.counts.items()
        if s == segment and k == kind and (before is None or prev < before)
    )


def program_report(
    first: str,
    last: str,
    sums: Mapping[tuple[str, str], MonthSums],
    donations: Mapping[tuple[str, str], int],
    currency: str | None = None,
) -> ProgramReport:
    """Rows per month × currency for `first`..`last` (every month, for each currency seen in the range)
    and one totals row per currency: money summed, each shopper counted once over the range.

    `sums` and `donations` are keyed (month, currency); months outside the range are ignored.
    """
    months = months_between(first, last)
    currencies = sorted(
        {c for (m, c) in [*sums, *donations] if first <= m <= last and (currency is None or c == currency)}
    )
    rows: list[ProgramRow] = []
    totals: list[ProgramRow] = []
    for code in currencies:
        total_sums = {s: SegmentSums() for s in SEGMENTS}
        total_counts = {(s, k): 0 for s in SEGMENTS for k in (CUSTOMERS, RETURNING)}
        total_fees = total_donations = 0
        for month in months:
            month_sums = sums.get((month, code), MonthSums())
            donated = donations.get((month, code), 0)
            segments = {
                s: _Segment(
                    month_sums.segments[s],
                    _customers(month_sums, s, CUSTOMERS),
                    _customers(month_sums, s, RETURNING),
                )
                for s in SEGMENTS
            }
            rows.append(_row(month, code, segments, month_sums.fees, donated))
            for s in SEGMENTS:
                _accumulate(total_sums[s], month_sums.segments[s])
                for k in (CUSTOMERS, RETURNING):
                    total_counts[(s, k)] += _customers(month_sums, s, k, before=first)
            total_fees += month_sums.fees
            total_donations += donated
        segments = {
            s: _Segment(total_sums[s], total_counts[(s, CUSTOMERS)], total_counts[(s, RETURNING)])
            for s in SEGMENTS
        }
        totals.append(_row(f"{first}..{last}", code, segments, total_fees, total_donations))
    rows.sort(key=lambda r: (r.period, r.currency))
    return ProgramReport(data=rows, totals=totals)


def _accumulate(into: SegmentSums, more: SegmentSums) -> None:
    into.orders += more.orders
    into.revenue += more.revenue
    into.member_discount += more.member_discount
    into.shipping_waived += more.shipping_waived


def fold_counts(deltas: Iterable[CountDelta]) -> dict[tuple[str, str], dict[tuple[str, str, str], int]]:
    """Deltas summed per (month, currency) → (segment, kind, prev) (tests and rebuilds)."""
    out: dict[tuple[str, str], dict[tuple[str, str, str], int]] = {}
    for d in deltas:
        bucket = out.setdefault((d.month, d.currency), {})
        bucket[(d.segment, d.kind, d.prev)] = bucket.get((d.segment, d.kind, d.prev), 0) + d.delta
    return out


SEGMENT_COLUMNS = [
    "customers", "orders", "revenue", "aov", "orders_per_customer", "returning_customers", "returning_rate",
]  # fmt: skip
CSV_COLUMNS = [
    "period", "currency",
    *(f"members_{c}" for c in SEGMENT_COLUMNS), *(f"non_members_{c}" for c in SEGMENT_COLUMNS),
    "lift_aov", "lift_orders_per_customer", "lift_returning_rate",
    "fees", "member_discount", "shipping_waived", "donations", "program_net",
]  # fmt: skip


def program_csv(report: ProgramReport) -> str:
    """RFC 4180 CSV (see `csv_export`): the JSON's figures flattened (`members_aov`, `lift_aov` ...), one
    line per month × currency, then the totals rows (period `from..to`); empty cells for nulls."""

    def line(row: ProgramRow) -> list[Cell]:
        segments = [getattr(s, c) for s in (row.members, row.non_members) for c in SEGMENT_COLUMNS]
        lift = [row.lift.aov, row.lift.orders_per_customer, row.lift.returning_rate]
        money = [row.fees, row.member_discount, row.shipping_waived, row.donations, row.program_net]
        return [row.period, row.currency, *segments, *lift, *money]

    return csv_document(CSV_COLUMNS, (line(row) for row in [*report.data, *report.totals]))
