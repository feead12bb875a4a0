"""The memberships report: counts per plan and status, MRR, joins and cancellations per month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.catalog import Plan
from chalicelib.domain.membership import AccessPolicy, SubscriptionSnapshot
from chalicelib.domain.membership_report import membership_report, months_between, months_ending

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
POLICY = AccessPolicy()
PLANS = {
    "monthly": Plan(plan_id="monthly", name="Monthly", amount=999, currency="usd", interval="month"),
    "yearly": Plan(plan_id="yearly", name="Yearly", amount=9900, currency="usd", interval="year"),
    "euro": Plan(plan_id="euro", name="Euro", amount=500, currency="eur", interval="month"),
}


def _at(moment: datetime) -> int:
    return int(moment.timestamp())


def subscription(
    status: str = "active",
    plan_id: str = "monthly",
    created: datetime = datetime(2026, 3, 2, tzinfo=UTC),
    ended: datetime | None = None,
    period_end: datetime = NOW + timedelta(days=10),
    past_due_since: datetime | None = None,
    sub_id: str = "sub_1",
) -> SubscriptionSnapshot:
    return SubscriptionSnapshot(
        subscription_id=sub_id,
        status=status,
        plan_id=plan_id,
        created=_at(created),
        current_period_start=_at(period_end - timedelta(days=30)),
        current_period_end=_at(period_end),
        ended_at=_at(ended) if ended else None,
        canceled_at=_at(ended) if ended else None,
        past_due_since=_at(past_due_since) if past_due_since else None,
    )


def test_members_are_counted_once_by_plan_and_status_with_how_many_have_perks() -> None:
    result = membership_report(
        [
            [subscription()],
            [subscription()],
            [subscription(status="trialing")],
            [subscription(status="canceled", ended=datetime(2026, 5, 1, tzinfo=UTC))],
            [subscription(status="past_due", past_due_since=NOW - timedelta(days=1))],
            [],
        ],
        PLANS, NOW, POLICY, "2026-01", "2026-06",
    )  # fmt: skip
    counts = {(row.plan_id, row.status): (row.members, row.perks_active) for row in result.members}
    assert counts == {
        ("monthly", "active"): (2, 2),
        ("monthly", "canceled"): (1, 0),
        ("monthly", "past_due"): (1, 1),
        ("monthly", "trialing"): (1, 1),
    }


def test_a_shopper_who_left_and_came_back_counts_once_under_the_current_subscription() -> None:
    left = subscription(status="canceled", ended=datetime(2026, 2, 1, tzinfo=UTC), sub_id="sub_old")
    back = subscription(plan_id="yearly", created=datetime(2026, 4, 1, tzinfo=UTC), sub_id="sub_new")
    result = membership_report([[left, back]], PLANS, NOW, POLICY, "2026-01", "2026-06")
    assert [(r.plan_id, r.status, r.members) for r in result.members] == [("yearly", "active", 1)]
    joins = {m.period: m.joins for m in result.months}
    assert joins["2026-03"] == 1 and joins["2026-04"] == 1
    assert {m.period: m.cancellations for m in result.months}["2026-02"] == 1


def test_mrr_counts_paying_members_only_and_divides_yearly_plans_by_twelve_once() -> None:
    result = membership_report(
        [
            [subscription()],
            [subscription(plan_id="yearly")],
            [subscription(plan_id="yearly")],
            [subscription(status="trialing")],
            [subscription(plan_id="euro")],
            [subscription(status="past_due", past_due_since=NOW - timedelta(days=1))],
            [subscription(status="past_due", past_due_since=NOW - timedelta(days=30))],
        ],
        PLANS, NOW, POLICY, "2026-01", "2026-06",
    )  # fmt: skip
    revenue = {row.currency: (row.mrr, row.mrr_decimal, row.paying_members) for row in result.mrr}
    # 2 × 999 monthly (one past due in grace) + round half up(2 × 9900 / 12) = 1998 + 1650.
    assert revenue == {"eur": (500, "5.00", 1), "usd": (3648, "36.48", 4)}


def test_paused_members_count_under_their_status_without_perks_and_bring_no_mrr() -> None:
    """As Stripe counts MRR: a subscription whose collection is paused (or in status `paused`) adds none."""
    portal_paused = msgspec.structs.replace(subscription(), pause_behavior="void")
    scheduled = msgspec.structs.replace(
        subscription(plan_id="yearly"), pause_behavior="void", pause_resumes_at=_at(NOW + timedelta(days=20))
    )
    result = membership_report(
        [[subscription()], [portal_paused], [scheduled], [subscription(status="paused")]],
        PLANS, NOW, POLICY, "2026-01", "2026-06",
    )  # fmt: skip
    counts = {(row.plan_id, row.status): (row.members, row.perks_active) for row in result.members}
    assert counts == {
        ("monthly", "active"): (2, 1),
        ("yearly", "active"): (1, 0),
        ("monthly", "paused"): (1, 0),
    }
    assert [(row.currency, row.mrr, row.paying_members) for row in result.mrr] == [("usd", 999, 1)]


def test_never_paid_checkouts_are_not_joins_and_months_outside_the_range_are_left_out() -> None:
    result = membership_report(
        [
            [subscription(status="incomplete_expired")],
            [subscription(created=datetime(2025, 12, 31, 23, 59, tzinfo=UTC))],
            [subscription(status="canceled", created=datetime(2026, 1, 5, tzinfo=UTC),
                          ended=datetime(2026, 7, 1, tzinfo=UTC))],
        ],
        PLANS, NOW, POLICY, "2026-01", "2026-06",
    )  # fmt: skip
    assert [(m.period, m.joins, m.cancellations) for m in result.months] == [
        ("2026-01", 1, 0),
        ("2026-02", 0, 0),
        ("2026-03", 0, 0),
        ("2026-04", 0, 0),
        ("2026-05", 0, 0),
        ("2026-06", 0, 0),
    ]


def test_months_between_crosses_year_ends_and_months_ending_counts_back_across_a_year_end() -> None:
    assert months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert months_between("2026-03", "2026-02") == []
    assert months_ending("2026-06", 12) == ("2025-07", "2026-06")
    assert months_ending("2026-06", 1) == ("2026-06", "2026-06")
    assert months_ending("2026-01", 25) == ("2024-01", "2026-01")


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["monthly", "yearly", "euro"]),
            st.sampled_from(["active", "trialing", "canceled"]),
        ),
        max_size=60,
    )
)
def test_every_shopper_is_counted_once_and_mrr_is_exact_to_half_a_cent(
    members: list[tuple[str, str]],
) -> None:
    shoppers = [
        [
            subscription(
                status=status,
                plan_id=plan_id,
                ended=NOW - timedelta(days=2) if status == "canceled" else None,
            )
        ]
        for plan_id, status in members
    ]
    result = membership_report(shoppers, PLANS, NOW, POLICY, "2026-01", "2026-06")
    assert sum(row.members for row in result.members) == len(members)
    exact: dict[str, float] = {}
    for plan_id, status in members:
        if status == "active":
            plan = PLANS[plan_id]
            exact[plan.currency] = exact.get(plan.currency, 0) + plan.amount / (
                12 if plan.interval == "year" else 1
            )
    got = {row.currency: row.mrr for row in result.mrr}
    assert got.keys() == exact.keys()
    for currency, value in exact.items():
        assert abs(got[currency] - value) <= 0.5
    assert sum(m.joins for m in result.months) == len(members)
    assert sum(m.cancellations for m in result.months) == sum(1 for _, s in members if s == "canceled")
