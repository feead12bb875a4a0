"""Prices: `POST /v1/prices` (`lookup_key`, `transfer_lookup_key`, `recurring`), `GET /v1/prices`,
`GET/POST /v1/prices/{id}`.
"""

from __future__ import annotations

# The currencies Stripe charges in: one list for the service and the emulator.
from chalicelib.domain.money import CURRENCIES
from localdev.stripe_emulator import params as p
from localdev.stripe_emulator.account import Stripe, merge_metadata
from localdev.stripe_emulator.errors import Obj, StripeError, missing
from localdev.stripe_emulator.objects import build, new_id
from localdev.stripe_emulator.routing import Request, Result, Routes, one, page

RECURRING: p.Spec = {
    "interval": p.one_of("day", "week", "month", "year"),
    "interval_count": p.integer,
    "trial_period_days": p.integer,
    "usage_type": p.one_of("licensed"),
}
PRICE: p.Spec = {
    "product": p.string,
    "unit_amount": p.integer,
    "currency": p.string,
    "recurring": RECURRING,
    "lookup_key": p.string,
    "transfer_lookup_key": p.boolean,
    "nickname": p.string,
    "active": p.boolean,
    "tax_behavior": p.one_of("exclusive", "inclusive", "unspecified"),
    "metadata": p.metadata,
    **p.EXPAND,
}
PRICE_UPDATE: p.Spec = {
    "active": p.boolean,
    "nickname": p.string,
    "lookup_key": p.string,
    "transfer_lookup_key": p.boolean,
    "metadata": p.metadata,
    **p.EXPAND,
}
PRICE_LIST: p.Spec = {
    **p.LIST,
    "lookup_keys": p.strings,
    "product": p.string,
    "currency": p.string,
    "active": p.boolean,
    "type": p.one_of("one_time", "recurring"),
}


def _take_lookup_key(stripe: Stripe, lookup_key: str, params: Obj, price: Obj | None = None) -> list[Obj]:
    """Free `lookup_key` from the price holding it (`transfer_lookup_key`), or refuse as Stripe does."""
    holder = next((x for x in stripe.account.prices.values() if x["lookup_key"] == lookup_key), None)
    if holder is None or holder is price:
        return []
    if not params.get("transfer_lookup_key"):
        raise StripeError(
            f"A price ({holder['id']}) already uses that lookup key.",
            code="lookup_key_in_use",
            param="lookup_key",
        )
    holder["lookup_key"] = None
    return [stripe.event("price.updated", holder, {"lookup_key": lookup_key})] if price is None else []


def create(stripe: Stripe, params: Obj) -> tuple[Obj, list[Obj]]:
    product_id = params["product"]
    if product_id not in stripe.account.products:
        raise missing("product", product_id, param="product")
    lookup_key = params.get("lookup_key")
    events = _take_lookup_key(stripe, lookup_key, params) if lookup_key else []
    recurring = params.get("recurring")
    price = build(
        "price",
        id=new_id("price"),
        active=params.get("active", True),
        created=stripe.now(),
        currency=params["currency"],
        lookup_key=lookup_key,
        metadata=dict(params.get("metadata") or {}),
        nickname=params.get("nickname"),
        product=product_id,
        recurring=None
        if recurring is None
        else {
            "interval": recurring["interval"],
            "interval_count": recurring.get("interval_count", 1),
            "meter": None,
            "usage_type": "licensed",
            "trial_period_days": recurring.get("trial_period_days"),
        },
        tax_behavior=params.get("tax_behavior", "unspecified"),
        type="one_time" if recurring is None else "recurring",
        unit_amount=params["unit_amount"],
        unit_amount_decimal=str(params["unit_amount"]),
    )
    stripe.account.prices[price["id"]] = price
    events.append(stripe.event("price.created", price))
    return price, events


def update(stripe: Stripe, price_id: str, params: Obj) -> tuple[Obj, list[Obj]]:
    price = stripe.get("prices", "price", price_id)
    previous = {key: price[key] for key in params if key in price and key != "metadata"}
    if params.get("lookup_key"):
        _take_lookup_key(stripe, params["lookup_key"], params, price)
    for key in ("active", "nickname", "lookup_key"):
        if key in params:
            price[key] = params[key] or (False if key == "active" else None)
    if "metadata" in params:
        price["metadata"] = merge_metadata(price["metadata"], params["metadata"])
    return price, [stripe.event("price.updated", price, previous)]


def list_of(stripe: Stripe, params: Obj) -> list[Obj]:
    prices = list(stripe.account.prices.values())
    if "lookup_keys" in params:
        wanted = set(params["lookup_keys"])
        prices = [x for x in prices if x["lookup_key"] in wanted]
    for key in ("product", "currency", "type", "active"):
        if key in params:
            prices = [x for x in prices if x[key] == params[key]]
    return prices


ROUTES = Routes()


@ROUTES.add("POST", "/v1/prices")
def _create(req: Request) -> Result:
    params = p.parse(req.params, PRICE)
    p.require(params, "product", "currency", "unit_amount")
    if params["currency"] not in CURRENCIES:
        raise StripeError(f"Invalid currency: {params['currency']}.", param="currency")
    if params["unit_amount"] < 0:
        raise StripeError("This value must be greater than or equal to 0.", param="unit_amount")
    if params.get("recurring") is not None:
        p.require(params["recurring"], "interval")
    return 200, *create(req.stripe, params)


@ROUTES.add("GET", "/v1/prices")
def _list(req: Request) -> Result:
    req.params = p.parse(req.params, PRICE_LIST)
    return page(req, list_of(req.stripe, req.params), "/v1/prices")


@ROUTES.add("GET", "/v1/prices/{id}")
def _get(req: Request) -> Result:
    p.parse(req.params, p.EXPAND)
    return one(req.stripe.get("prices", "price", req["id"]))


@ROUTES.add("POST", "/v1/prices/{id}")
def _update(req: Request) -> Result:
    return 200, *update(req.stripe, req["id"], p.parse(req.params, PRICE_UPDATE))
