"""Facts a client reports that cannot be true, refused (400 naming the field) before anything is written.

- A time that dates a fact (`placed_at`, `paid_at`) lies between 2000-01-01 and one day after now: the
  service did not exist before, and a storefront's clock may run a little ahead, never a day.
- A member's savings on an order are what their plan can give (SPEC, Donations ledger):
  `member_discount` ≤ round half up(percent × (amount + member_discount) / 100) with the plan's discount
  percent (0 without one); `shipping` > 0 only when the plan has free shipping for that currency and an
  order of that size; and the order's value before perks (`amount + member_discount + shipping`) is itself
  an amount, at most `MAX_AMOUNT`. The last rule is the only bound a 100 % discount leaves, and what keeps
  the waived shipping of one order from exceeding what any order can be worth.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.domain.catalog import Cause, Plan
from chalicelib.domain.money import MAX_AMOUNT, apply_percent, format_decimal
from chalicelib.domain.program import Savings
from chalicelib.errors import ValidationError

EARLIEST_FACT = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)


def check_fact_time(name: str, value: datetime | None, now: datetime) -> None:
    """`value` (a fact's date, None: not given) lies in 2000-01-01 .. now + 1 day, else 400 naming `name`."""
    if value is None:
        return
    latest = now + FUTURE_SLACK
    if not EARLIEST_FACT <= value <= latest:
        raise ValidationError(
            f"`{name}` must lie between 2000-01-01T00:00:00Z and one day from now "
            f"({latest.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}).",
            param=name, code="time_out_of_range",
        )  # fmt: skip


def check_savings(savings: Savings, amount: int, currency: str, plan: Plan | None) -> None:
    """Refuse savings the member's plan (None: none known) cannot give on an order of `amount`."""
    if savings.member_discount + savings.shipping + amount > MAX_AMOUNT:
        raise ValidationError(
            "`amount` plus the savings exceeds the largest amount of one order "
            f"({format_decimal(MAX_AMOUNT, currency)} {currency.upper()}): the savings cannot be real.",
            param="savings", code="savings_exceed_plan",
        )  # fmt: skip
    perks = plan.perks if plan is not None else None
    percent = perks.member_discount.percent if perks is not None and perks.member_discount else 0
    allowed = apply_percent(amount + savings.member_discount, percent)
    if savings.member_discount > allowed:
        raise ValidationError(
            f"`member_discount` may be at most {percent} % of the order before the discount "
            f"({format_decimal(allowed, currency)} {currency.upper()} on this order).",
            param="savings.member_discount", code="savings_exceed_plan",
        )  # fmt: skip
    if savings.shipping > 0:
        free = perks.free_shipping if perks is not None else None
        subtotal = amount + savings.member_discount
        if free is None:
            raise ValidationError(
                "`shipping` must be 0: the member's plan has no free shipping.",
                param="savings.shipping", code="savings_exceed_plan",
            )  # fmt: skip
        minimum = free.min_subtotal.get(currency) if free.min_subtotal else 0
        if minimum is None or subtotal < minimum:
            why = f"none in {currency.upper()}" if minimum is None else "the order is below its minimum"
            raise ValidationError(
                f"`shipping` must be 0: the member's plan gives no free shipping on this order ({why}).",
                param="savings.shipping", code="savings_exceed_plan",
            )  # fmt: skip


def exceeds_outstanding_message(disbursement: Any, causes: Mapping[str, Cause], outstanding: int) -> str:
    """The 409 of a disbursement beyond the cause's balance, for a person: major units and the cause's name.

    `999.99 USD exceeds the 120.00 USD outstanding for Ocean Cleanup (ocean-cleanup).`, then the same
    figures in minor units for programs (`amount 99999, outstanding 12000, currency usd`).
    """
    currency = disbursement.currency
    cause = causes.get(disbursement.cause_id)
    name = f"{cause.name} ({disbursement.cause_id})" if cause is not None else disbursement.cause_id
    return (
        f"{format_decimal(disbursement.amount, currency)} {currency.upper()} exceeds the "
        f"{format_decimal(outstanding, currency)} {currency.upper()} outstanding for {name}. "
        f"In minor units: amount {disbursement.amount}, outstanding {outstanding}, currency {currency}."
    )
