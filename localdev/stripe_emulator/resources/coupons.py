"""Coupons: `POST /v1/coupons` (`percent_off` or `amount_off`, `duration` once|repeating|forever),
`GET /v1/coupons/{id}`, `GET /v1/coupons`. discounts.py applies them."""

from __future__ import annotations

from localdev.stripe_emulator import params as p
from localdev.stripe_emulator.account import Stripe
from localdev.stripe_emulator.errors import Obj, StripeError
from localdev.stripe_emulator.objects import build, new_id
from localdev.stripe_emulator.routing import Request, Result, Routes, one, page

COUPON: p.Spec = {
    "id": p.string,
    "name": p.string,
    "percent_off": p.number,
    "amount_off": p.integer,
    "currency": p.string,
    "duration": p.one_of("forever", "once", "repeating"),
    "duration_in_months": p.integer,
    "max_redemptions": p.integer,
    "redeem_by": p.integer,
    "metadata": p.metadata,
    **p.EXPAND,
}


def _check(params: Obj) -> None:
    if ("percent_off" in params) == ("amount_off" in params):
        raise StripeError("Pass exactly one of percent_off and amount_off.", param="percent_off")
    if "percent_off" in params and not 0 < params["percent_off"] <= 100:
        raise StripeError("percent_off must be more than 0 and at most 100.", param="percent_off")
    if "amount_off" in params:
        p.require(params, "currency")
        if params["amount_off"] <= 0:
            raise StripeError("amount_off must be positive.", param="amount_off")
    repeating = params.get("duration", "once") == "repeating"
    if repeating != ("duration_in_months" in params):
        raise StripeError(
            "duration_in_months is required with duration `repeating`, and only then.",
            param="duration_in_months",
        )


def create(stripe: Stripe, params: Obj) -> tuple[Obj, list[Obj]]:
    _check(params)
    coupon_id = params.get("id") or new_id("", 8)[1:].upper()
    if coupon_id in stripe.account.coupons:
        raise StripeError(f"Coupon already exists: '{coupon_id}'", code="resource_already_exists", param="id")
    percent = params.get("percent_off")
    coupon = build(
        "coupon",
        id=coupon_id,
        amount_off=params.get("amount_off"),
        created=stripe.now(),
        currency=params.get("currency"),
        duration=params.get("duration", "once"),
        duration_in_months=params.get("duration_in_months"),
        max_redemptions=params.get("max_redemptions"),
        metadata=dict(params.get("metadata") or {}),
        name=params.get("name"),
        percent_off=percent,
        redeem_by=params.get("redeem_by"),
    )
    stripe.account.coupons[coupon_id] = coupon
    return coupon, [stripe.event("coupon.created", coupon)]


def amount_off(coupon: Obj, amount: int) -> int:
    """What `coupon` takes off `amount` (minor units, never more than the amount)."""
    if coupon["percent_off"] is not None:
        return min(amount, round(amount * float(coupon["percent_off"]) / 100))
    return min(amount, int(coupon["amount_off"]))


ROUTES = Routes()


@ROUTES.add("POST", "/v1/coupons")
def _create(req: Request) -> Result:
    return 200, *create(req.stripe, p.parse(req.params, COUPON))


@ROUTES.add("GET", "/v1/coupons/{id}")
def _get(req: Request) -> Result:
    p.parse(req.params, p.EXPAND)
    return one(req.stripe.get("coupons", "coupon", req["id"]))


@ROUTES.add("GET", "/v1/coupons")
def _list(req: Request) -> Result:
    req.params = p.parse(req.params, p.LIST)
    return page(req, list(req.stripe.account.coupons.values()), "/v1/coupons")
