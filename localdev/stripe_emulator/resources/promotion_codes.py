"""Promotion codes: `POST /v1/promotion_codes` (`promotion[coupon]`, `code`, `max_redemptions`,
`restrictions[first_time_transaction]`), `GET /v1/promotion_codes` (`code`, `active`, `coupon`),
`GET/POST /v1/promotion_codes/{id}`."""

from __future__ import annotations

from localdev.stripe_emulator import params as p
from localdev.stripe_emulator.account import Stripe, merge_metadata
from localdev.stripe_emulator.errors import Obj, StripeError, missing
from localdev.stripe_emulator.objects import build, new_id
from localdev.stripe_emulator.routing import Request, Result, Routes, one, page

PROMOTION_CODE: p.Spec = {
    "promotion": {"type": p.one_of("coupon"), "coupon": p.string},
    "code": p.string,
    "active": p.boolean,
    "customer": p.string,
    "expires_at": p.integer,
    "max_redemptions": p.integer,
    "restrictions": {
        "first_time_transaction": p.boolean,
        "minimum_amount": p.integer,
        "minimum_amount_currency": p.string,
    },
    "metadata": p.metadata,
    **p.EXPAND,
}
PROMOTION_CODE_UPDATE: p.Spec = {"active": p.boolean, "metadata": p.metadata, **p.EXPAND}
PROMOTION_CODE_LIST: p.Spec = {
    **p.LIST,
    "code": p.string,
    "active": p.boolean,
    "coupon": p.string,
    "customer": p.string,
}


def create(stripe: Stripe, params: Obj) -> tuple[Obj, list[Obj]]:
    promotion = params.get("promotion") or {}
    p.require(promotion, "coupon")
    if promotion["coupon"] not in stripe.account.coupons:
        raise missing("coupon", promotion["coupon"], param="promotion[coupon]")
    code = params.get("code") or new_id("", 8)[1:].upper()
    if any(c["code"] == code and c["active"] for c in stripe.account.promotion_codes.values()):
        raise StripeError("An active promotion code with this code already exists.", param="code")
    restrictions = params.get("restrictions") or {}
    promotion_code = build(
        "promotion_code",
        id=new_id("promo"),
        active=params.get("active", True),
        code=code,
        created=stripe.now(),
        customer=params.get("customer"),
        expires_at=params.get("expires_at"),
        max_redemptions=params.get("max_redemptions"),
        metadata=dict(params.get("metadata") or {}),
        promotion={"coupon": promotion["coupon"], "type": "coupon"},
        restrictions={
            "first_time_transaction": bool(restrictions.get("first_time_transaction", False)),
            "minimum_amount": restrictions.get("minimum_amount"),
            "minimum_amount_currency": restrictions.get("minimum_amount_currency"),
        },
    )
    stripe.account.promotion_codes[promotion_code["id"]] = promotion_code
    return promotion_code, [stripe.event("promotion_code.created", promotion_code)]


def update(stripe: Stripe, promotion_code_id: str, params: Obj) -> tuple[Obj, list[Obj]]:
    promotion_code = stripe.get("promotion_codes", "promotion_code", promotion_code_id)
    previous = {key: promotion_code[key] for key in params if key in promotion_code}
    if "active" in params:
        promotion_code["active"] = params["active"]
    if "metadata" in params:
        promotion_code["metadata"] = merge_metadata(promotion_code["metadata"], params["metadata"])
    return promotion_code, [stripe.event("promotion_code.updated", promotion_code, previous)]


def list_of(stripe: Stripe, params: Obj) -> list[Obj]:
    codes = list(stripe.account.promotion_codes.values())
    for key in ("code", "active", "customer"):
        if key in params:
            codes = [c for c in codes if c[key] == params[key]]
    if "coupon" in params:
        codes = [c for c in codes if c["promotion"]["coupon"] == params["coupon"]]
    return codes


ROUTES = Routes()


@ROUTES.add("POST", "/v1/promotion_codes")
def _create(req: Request) -> Result:
    params = p.parse(req.params, PROMOTION_CODE)
    p.require(params, "promotion")
    return 200, *create(req.stripe, params)


@ROUTES.add("GET", "/v1/promotion_codes")
def _list(req: Request) -> Result:
    req.params = p.parse(req.params, PROMOTION_CODE_LIST)
    return page(req, list_of(req.stripe, req.params), "/v1/promotion_codes")


@ROUTES.add("GET", "/v1/promotion_codes/{id}")
def _get(req: Request) -> Result:
    p.parse(req.params, p.EXPAND)
    return one(req.stripe.get("promotion_codes", "promotion_code", req["id"]))


@ROUTES.add("POST", "/v1/promotion_codes/{id}")
def _update(req: Request) -> Result:
    return 200, *update(req.stripe, req["id"], p.parse(req.params, PROMOTION_CODE_UPDATE))
