"""The program's figures: savings reversals, distinct and returning customers, the report against a model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.catalog import Impact, singular
from chalicelib.domain.program import (
    MEMBERS,
    NON_MEMBERS,
    CountedOrder,
    MonthSums,
    Savings,
    ShopperHistory,
    count_order,
    program_report,
    ratio,
    reversed_savings,
)
from tests.program_model import Fee, Order, ProgramModel, Refund

START = datetime(2026, 1, 1, tzinfo=UTC)
MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04"]


@st.composite
def histories(draw: st.DrawFn) -> ProgramModel:
    """Orders of a few shoppers (members and guests, two currencies, any day of four months), reported
    in any order; partial refunds; membership fees."""
    model = ProgramModel()
    count = draw(st.integers(1, 14))
    for index in range(count):
        member = draw(st.booleans())
        amount = draw(st.integers(0, 50_000))
        model.orders.append(
            Order(
                order_id=f"o{index}",
                customer_ref=draw(st.sampled_from(["ada", "bob", "cy", "dee"])),
                currency=draw(st.sampled_from(["usd", "eur"])),
                amount=amount,
                placed_at=START + timedelta(days=draw(st.integers(0, 119)), seconds=draw(st.integers(0, 3))),
                member=member,
                member_discount=draw(st.integers(0, 5_000)) if member else 0,
                shipping=draw(st.integers(0, 900)) if member else 0,
            )
        )
    for order in draw(st.permutations(model.orders)):
        left = order.amount
        for _ in range(draw(st.integers(0, 2))):
            if left == 0:
                break
            amount = draw(st.integers(1, left))
            left -= amount
            model.refunds.append(Refund(order.order_id, amount, draw(st.sampled_from(MONTHS))))
    for _ in range(draw(st.integers(0, 3))):
        model.fees.append(Fee(draw(st.sampled_from(["usd", "eur"])), draw(st.integers(1, 9_999)),
                              draw(st.sampled_from(MONTHS))))  # fmt: skip
    for month in MONTHS:
        if draw(st.booleans()):
            model.donations[(month, "usd")] = draw(st.integers(-100, 2_000))
    model.orders = draw(st.permutations(model.orders))  # the order in which storefronts report them
    return model


def _counters(model: ProgramModel) -> dict[tuple[str, str], MonthSums]:
    """Fold the sequence into the counters the service keeps, as the store adds them."""
    sums: dict[tuple[str, str], MonthSums] = {}
    shoppers: dict[str, ShopperHistory] = {}
    by_id = {o.order_id: o for o in model.orders}
    for order in model.orders:
        segment = MEMBERS if order.member else NON_MEMBERS
        bucket = sums.setdefault((order.month, order.currency), MonthSums())
        seg = bucket.segments[segment]
        seg.orders += 1
        seg.revenue += order.amount
        seg.member_discount += order.member_discount
        seg.shipping_waived += order.shipping
        history = shoppers.get(order.customer_ref, ShopperHistory())
        counted = CountedOrder(order.order_id, order.placed_at, order.month, order.currency, segment)
        shoppers[order.customer_ref], deltas = count_order(history, counted)
        for d in deltas:
            target = sums.setdefault((d.month, d.currency), MonthSums())
            key = (d.segment, d.kind, d.prev)
            target.counts[key] = target.counts.get(key, 0) + d.delta
    refunded: dict[str, int] = {}
    for refund in model.refunds:
        order = by_id[refund.order_id]
        savings = Savings(member_discount=order.member_discount, shipping=order.shipping)
        before = reversed_savings(savings, order.amount, refunded.get(order.order_id, 0))
        refunded[order.order_id] = refunded.get(order.order_id, 0) + refund.amount
        after = reversed_savings(savings, order.amount, refunded[order.order_id])
        seg = sums.setdefault((refund.month, order.currency), MonthSums()).segments[
            MEMBERS if order.member else NON_MEMBERS
        ]
        seg.revenue -= refund.amount
        seg.member_discount -= after.member_discount - before.member_discount
        seg.shipping_waived -= after.shipping - before.shipping
    for fee in model.fees:
        sums.setdefault((fee.month, fee.currency), MonthSums()).fees += fee.amount
    return sums


@settings(max_examples=300, deadline=None)
@given(histories(), st.integers(0, 3), st.integers(0, 3))
def test_the_report_equals_a_recomputation_from_the_raw_sequence(model: ProgramModel, a: int, b: int) -> None:
    first, last = MONTHS[min(a, b)], MONTHS[max(a, b)]
    months = MONTHS[min(a, b) : max(a, b) + 1]
    counters = _counters(model)
    currencies = sorted({c for (m, c) in [*counters, *model.donations] if first <= m <= last})
    report = program_report(first, last, counters, model.donations)
    assert msgspec.to_builtins(report) == model.report(months, currencies)


@given(st.integers(0, 10**9), st.integers(0, 10**6), st.integers(0, 10**6))
def test_a_full_refund_takes_back_every_saving(amount: int, discount: int, shipping: int) -> None:
    savings = Savings(member_discount=discount, shipping=shipping)
    assert reversed_savings(savings, amount, amount) == (savings if amount else Savings())


@given(st.integers(1, 10**6), st.lists(st.integers(1, 10**5), min_size=1, max_size=5), st.integers(0, 10**5))
def test_savings_taken_back_only_grow_and_never_exceed_the_savings(
    amount: int, refunds: list[int], discount: int
) -> None:
    savings = Savings(member_discount=discount, shipping=discount // 3)
    taken, refunded = Savings(), 0
    for refund in refunds:
        refunded = min(amount, refunded + refund)
        now = reversed_savings(savings, amount, refunded)
        assert taken.member_discount <= now.member_discount <= savings.member_discount
        assert taken.shipping <= now.shipping <= savings.shipping
        taken = now


def test_a_shopper_ordering_twice_in_a_month_is_one_customer_and_returning() -> None:
    history, first = count_order(ShopperHistory(), CountedOrder("o1", START, "2026-01", "usd", MEMBERS))
    history, second = count_order(
        history, CountedOrder("o2", START + timedelta(hours=1), "2026-01", "usd", MEMBERS)
    )
    assert [(d.kind, d.delta) for d in first] == [("customers", 1)]
    assert [(d.kind, d.delta) for d in second] == [("returning", 1)]
    assert (
        count_order(history, CountedOrder("o3", START + timedelta(hours=2), "2026-01", "usd", MEMBERS))[1]
        == []
    )


def test_counting_the_same_order_again_changes_nothing() -> None:
    order = CountedOrder("o1", START, "2026-01", "usd", NON_MEMBERS)
    history, _ = count_order(ShopperHistory(), order)
    assert count_order(history, order) == (history, [])


def test_ratios_have_four_decimals_rounded_half_up_and_are_null_on_a_zero_divisor() -> None:
    assert ratio(2, 3) == "0.6667"
    assert ratio(1, 8) == "0.1250"
    assert ratio(Fraction(1, 20000), 1) == "0.0001"  # exactly half a ten-thousandth rounds up
    assert ratio(5, 2) == "2.5000"
    assert ratio(-1, 3) == "-0.3333"
    assert ratio(1, 0) is None


def test_one_unit_is_singular_and_other_counts_plural() -> None:
    meals = Impact(unit="meals", amount_per_unit=250)
    assert (meals.describe(249), meals.describe(250), meals.describe(750)) == (
        "less than one meal", "1 meal", "3 meals",
    )  # fmt: skip
    # $1.00 at 2.50 a meal is money given, not "0 meals"; nothing given (or all refunded) is.
    assert (meals.describe(100), meals.describe(0), meals.describe(-5)) == (
        "less than one meal",
        "0 meals",
        "0 meals",
    )
    assert singular("trees planted") == "tree planted"
    assert singular("families") == "family"
    assert singular("boxes") == "box"
    assert singular("kg of rice") == "kg of rice"
