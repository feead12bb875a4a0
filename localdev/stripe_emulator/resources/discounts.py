"""Discounts: a coupon (through a promotion code or not) applied to a customer's subscription.

Checkout checks a promotion code before the shopper pays (`redeemable`), `attach` makes the Discount when the
subscription starts, and `take` tells an invoice what its discount is while the coupon's duration lasts
(`once`: the first invoice, `repeating`: invoices that start before `end`, `forever`: all).
"""

from __future__ import annotations

from localdev.stripe_emulator.account import Stripe
from localdev.stripe_emulator.errors import Obj, StripeError, missing
from localdev.stripe_emulator.objects import build, new_id
from localdev.stripe_emulator.periods import add_interval
from localdev.stripe_emulator.resources.coupons import amount_off


def has_paid_before(stripe: Stripe, customer_id: str | None) -> bool:
    """Whether the customer has a prior transaction (a paid invoice with money in it)."""
    return customer_id is not None and any(
        i["customer"] == customer_id and i["amount_paid"] > 0 for i in stripe.account.invoices.values()
    )


def redeemable(stripe: Stripe, promotion_code_id: str, customer_id: str | None, param: str) -> Obj:
    """The promotion code, if this customer may redeem it now; Stripe's refusal otherwise."""
    code = stripe.account.promotion_codes.get(promotion_code_id)
    if code is None:
        raise missing("promotion_code", promotion_code_id, param=param)
    coupon = stripe.account.coupons[code["promotion"]["coupon"]]
    now = stripe.now()
    expired = code["expires_at"] is not None and code["expires_at"] <= now
    used_up = code["max_redemptions"] is not None and code["times_redeemed"] >= code["max_redemptions"]
    coupon_used_up = (
        coupon["max_redemptions"] is not None and coupon["times_redeemed"] >= coupon["max_redemptions"]
    )
    if not code["active"] or expired or used_up or coupon_used_up or not coupon["valid"]:
        raise StripeError(f"This promotion code cannot be redeemed: '{code['code']}'.", param=param)
    if code["customer"] is not None and code["customer"] != customer_id:
        raise StripeError("This promotion code is restricted to another customer.", param=param)
    if code["restrictions"]["first_time_transaction"] and has_paid_before(stripe, customer_id):
        raise StripeError(
            "This promotion code cannot be redeemed because the associated customer has prior transactions.",
            param=param,
        )
    return code


def attach(
    stripe: Stripe, coupon_id: str, promotion_code_id: str | None, subscription: Obj, session_id: str
) -> Obj:
    """The Discount of a new subscription, counted as one redemption of its coupon and promotion code."""
    coupon = stripe.account.coupons[coupon_id]
    start = stripe.now()
    months = coupon["duration_in_months"] if coupon["duration"] == "repeating" else None
    discount = build(
        "discount",
        id=new_id("di"),
        checkout_session=session_id,
        customer=subscription["customer"],
        end=add_interval(start, "month", months) if months else None,
        promotion_code=promotion_code_id,
        source={"coupon": coupon_id, "type": "coupon"},
        start=start,
        subscription=subscription["id"],
    )
    stripe.account.discounts[discount["id"]] = discount
    stripe.account.discount_uses[discount["id"]] = 0
    coupon["times_redeemed"] += 1
    if promotion_code_id:
        stripe.account.promotion_codes[promotion_code_id]["times_redeemed"] += 1
    return discount


def take(
    stripe: Stripe, subscription: Obj, period_start: int, amount: int, count: bool
) -> tuple[str, int] | None:
    """(discount id, amount off) for an invoice of `amount` whose period starts at `period_start`, while the
    subscription's discount lasts; `count` records the use (a preview does not)."""
    for discount_id in subscription["discounts"]:
        discount = stripe.account.discounts[discount_id]
        coupon = stripe.account.coupons[discount["source"]["coupon"]]
        uses = stripe.account.discount_uses.get(discount_id, 0)
        if coupon["duration"] == "once" and uses > 0:
            continue
        if discount["end"] is not None and period_start >= discount["end"]:
            continue
        if count:
            stripe.account.discount_uses[discount_id] = uses + 1
        return discount_id, amount_off(coupon, amount)
    return None
