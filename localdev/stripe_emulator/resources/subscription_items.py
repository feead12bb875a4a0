"""Subscription items and the legacy `plan` each carries: where a subscription's price and period live."""

from __future__ import annotations

import copy

from localdev.stripe_emulator.errors import Obj
from localdev.stripe_emulator.objects import build, new_id


def plan_of(price: Obj) -> Obj:
    """The `plan` Stripe still sends beside a recurring price."""
    recurring = price["recurring"]
    return build(
        "plan",
        id=price["id"],
        active=price["active"],
        amount=price["unit_amount"],
        amount_decimal=price["unit_amount_decimal"],
        created=price["created"],
        currency=price["currency"],
        interval=recurring["interval"],
        interval_count=recurring["interval_count"],
        metadata=price["metadata"],
        nickname=price["nickname"],
        product=price["product"],
        trial_period_days=recurring["trial_period_days"],
    )


def new_item(subscription_id: str, price: Obj, quantity: int, start: int, end: int) -> Obj:
    """An item of `quantity` × `price` whose current period is [start, end)."""
    return build(
        "subscription_item",
        id=new_id("si", 14),
        created=start,
        current_period_start=start,
        current_period_end=end,
        plan=plan_of(price),
        price=copy.deepcopy(price),
        quantity=quantity,
        subscription=subscription_id,
    )
