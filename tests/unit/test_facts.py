"""Facts that cannot be true (domain.facts): the bounds on savings and on the dates of facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from chalicelib.domain.catalog import Cause, Plan
from chalicelib.domain.facts import check_fact_time, check_savings, exceeds_outstanding_message
from chalicelib.domain.money import MAX_AMOUNT
from chalicelib.domain.program import Savings
from chalicelib.errors import ValidationError

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _plan(percent: int | None = 10, free_shipping: dict | None = None) -> Plan:
    perks: dict = {}
    if percent is not None:
        perks["member_discount"] = {"percent": percent}
    if free_shipping is not None:
        perks["free_shipping"] = free_shipping
    return msgspec.convert(
        {"plan_id": "p", "name": "P", "amount": 999, "currency": "usd", "interval": "month", "perks": perks},
        Plan,
    )


def _refused(savings: Savings, amount: int, plan: Plan | None, currency: str = "usd") -> str | None:
    try:
        check_savings(savings, amount, currency, plan)
    except ValidationError as error:
        return error.param
    return None


def test_the_discount_may_reach_the_plans_percent_of_the_order_before_it_and_no_further() -> None:
    plan = _plan(10)
    assert _refused(Savings(member_discount=1000), 9000, plan) is None  # 10 % of 10 000
    assert _refused(Savings(member_discount=1001), 9000, plan) == "savings.member_discount"
    # Rounded half up: 10 % of 10 005 is 1000.5 → 1001.
    assert _refused(Savings(member_discount=1001), 9004, plan) is None
    assert _refused(Savings(member_discount=1), 10_000, _plan(None)) == "savings.member_discount"


def test_a_100_percent_discount_is_bounded_by_the_largest_amount_of_an_order() -> None:
    plan = _plan(100)
    assert _refused(Savings(member_discount=MAX_AMOUNT - 100), 100, plan) is None
    assert _refused(Savings(member_discount=MAX_AMOUNT), 100, plan) == "savings"


def test_shipping_is_saved_only_with_free_shipping_in_that_currency_above_its_minimum() -> None:
    free = _plan(10, {"min_subtotal": {"usd": 5000}})
    assert _refused(Savings(shipping=595), 5000, free) is None
    assert _refused(Savings(shipping=595), 4999, free) == "savings.shipping"
    assert _refused(Savings(shipping=595), 9000, free, currency="eur") == "savings.shipping"
    assert _refused(Savings(shipping=595), 9000, _plan(10, {})) is None  # no minimum anywhere
    assert _refused(Savings(shipping=595), 9000, _plan(10)) == "savings.shipping"
    assert _refused(Savings(shipping=MAX_AMOUNT), 100, _plan(10, {})) == "savings"


@pytest.mark.parametrize(
    ("moment", "refused"),
    [
        (datetime(1, 1, 1, tzinfo=UTC), True),
        (datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), True),
        (datetime(2000, 1, 1, tzinfo=UTC), False),
        (NOW + timedelta(days=1), False),
        (NOW + timedelta(days=1, seconds=1), True),
        (datetime(9999, 12, 31, tzinfo=UTC), True),
    ],
)
def test_a_fact_is_dated_from_2000_to_one_day_from_now(moment: datetime, refused: bool) -> None:
    if refused:
        with pytest.raises(ValidationError) as error:
            check_fact_time("placed_at", moment, NOW)
        assert (error.value.param, error.value.code) == ("placed_at", "time_out_of_range")
    else:
        check_fact_time("placed_at", moment, NOW)


def test_the_over_balance_message_is_in_major_units_with_the_causes_name() -> None:
    causes = {"ocean-cleanup": msgspec.convert({"cause_id": "ocean-cleanup", "name": "Ocean Cleanup"}, Cause)}

    class Asked:
        cause_id, currency, amount = "ocean-cleanup", "usd", 99999

    assert exceeds_outstanding_message(Asked(), causes, 12000) == (
        "999.99 USD exceeds the 120.00 USD outstanding for Ocean Cleanup (ocean-cleanup). "
        "In minor units: amount 99999, outstanding 12000, currency usd."
    )
