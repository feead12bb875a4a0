"""The giving disclosure is written from the plans' donation rules and the causes, never by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.domain.catalog import Cause, DonationRule, Plan
from chalicelib.domain.disclosure import build_disclosure, percent_of_bps, plan_sentence

SINCE = datetime(2026, 10, 23, 9, 0, tzinfo=UTC)


def plan(
    plan_id: str = "vip-monthly", order_bps: int = 250, renewal_bps: int = 1000, **extra: object
) -> Plan:
    return Plan(
        plan_id=plan_id, name=extra.pop("name", "VIP Monthly"), amount=999, currency="usd", interval="month",
        donation=DonationRule(order_bps=order_bps, renewal_bps=renewal_bps), **{"donation_since": SINCE, **extra},
    )  # type: ignore[arg-type]  # fmt: skip


def test_basis_points_read_as_percentages() -> None:
    assert [percent_of_bps(b) for b in (250, 1000, 5, 1, 10_000, 0)] == [
        "2.5 %", "10 %", "0.05 %", "0.01 %", "100 %", "0 %",
    ]  # fmt: skip


def test_a_plan_sentence_states_the_portion_on_orders_and_fees_to_whom_the_maximum_and_since_when() -> None:
    assert plan_sentence(plan()) == (
        "VIP Monthly: 2.5 % of the price of every member order and 10 % of each membership fee go to the "
        "cause you choose, with no maximum, since 23 October 2026."
    )


def test_a_plan_giving_on_fees_only_says_only_that() -> None:
    assert plan_sentence(plan(order_bps=0, renewal_bps=500)) == (
        "VIP Monthly: 5 % of each membership fee goes to the cause you choose, with no maximum, since 23 October 2026."
    )


def test_a_plan_that_gives_nothing_says_so() -> None:
    assert plan_sentence(plan(order_bps=0, renewal_bps=0)) == (
        "VIP Monthly: no part of orders or fees is given to a cause since 23 October 2026."
    )


def test_the_disclosure_lists_active_plans_and_causes_with_legal_names_and_tax_ids() -> None:
    causes = [
        Cause(
            cause_id="school-meals",
            name="School Meals",
            legal_name="School Meals Foundation",
            tax_id="12-3456789",
        ),
        Cause(cause_id="old", name="Old Cause", active=False),
        Cause(cause_id="clean-air", name="Clean Air"),
    ]
    plans = [
        plan(),
        plan("retired", active=False, name="Retired"),
        plan("vip-yearly", 300, 0, name="VIP Yearly"),
    ]
    disclosure = build_disclosure(plans, causes)
    assert [p.plan_id for p in disclosure.plans] == ["vip-monthly", "vip-yearly"]
    assert [(p.order_bps, p.renewal_bps) for p in disclosure.plans] == [(250, 1000), (300, 0)]
    assert [c.cause_id for c in disclosure.causes] == ["clean-air", "school-meals"]
    assert disclosure.causes[1].legal_name == "School Meals Foundation"
    assert disclosure.causes[1].tax_id == "12-3456789"
    assert disclosure.cap is None
    assert disclosure.period.from_ == SINCE and disclosure.period.until is None
    assert disclosure.text == (
        f"{disclosure.plans[0].text} {disclosure.plans[1].text} The causes to choose from: Clean Air; "
        "School Meals (School Meals Foundation, tax id 12-3456789)."
    )
    assert "Retired" not in disclosure.text and "Old Cause" not in disclosure.text


def test_the_period_starts_with_the_earliest_plan_terms() -> None:
    later = plan("vip-yearly", donation_since=datetime(2026, 11, 1, tzinfo=UTC))  # type: ignore[arg-type]
    assert build_disclosure([later, plan()], []).period.from_ == SINCE
