"""Public, cacheable reads for storefront pages and the kit: the offer, "join and save", the disclosure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from chalice.app import Blueprint
from msgspec import Meta

from chalicelib.api import lazy
from chalicelib.api.routing import PUBLIC, Call, Example, Reply, endpoint
from chalicelib.domain.cart import MAX_ITEMS, Cart, CartItem, Shipping
from chalicelib.domain.money import Currency

if TYPE_CHECKING:
    from chalicelib.domain.disclosure import Disclosure
    from chalicelib.services import offer as offers
    from chalicelib.services.offer import JoinOffer, Offer
else:  # imported by the first request that needs them (api/lazy.py)
    Disclosure = lazy.declared("chalicelib.domain.disclosure", "Disclosure")
    offers = lazy.module("chalicelib.services.offer")
    JoinOffer = lazy.declared("chalicelib.services.offer", "JoinOffer")
    Offer = lazy.declared("chalicelib.services.offer", "Offer")

offer_api = Blueprint(__name__)

CACHEABLE = {"Cache-Control": "public, max-age=60"}

_PLAN_SENTENCE = (
    "VIP Monthly: 1 % of the price of every member order and 5 % of each membership fee go to the cause you "
    "choose, with no maximum, since 1 November 2026."
)
_DISCLOSURE = {
    "plans": [{"plan_id": "vip-monthly", "order_bps": 100, "renewal_bps": 500, "text": _PLAN_SENTENCE}],
    "causes": [
        {
            "cause_id": "school-meals", "name": "School Meals", "legal_name": "School Meals Foundation",
            "tax_id": "12-3456789", "url": "https://example.org/school-meals",
        }
    ],
    "cap": None,
    "period": {"from": "2026-11-01T09:00:00Z", "until": None},
    "text": _PLAN_SENTENCE
    + " The causes to choose from: School Meals (School Meals Foundation, tax id 12-3456789).",
}  # fmt: skip
_CART = {
    "currency": "usd",
    "items": [{"sku": "tee-navy-m", "unit_amount": 2500, "quantity": 2}],
    "shipping": {"method": "standard", "amount": 695},
}


class OfferQuery(msgspec.Struct, forbid_unknown_fields=True):
    currency: Currency | None = None


class GuestCart(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A cart without a shopper (the eligibility cart's shape, no `customer_ref`)."""

    currency: Currency
    items: Annotated[list[CartItem], Meta(min_length=1, max_length=MAX_ITEMS)]
    shipping: Shipping | None = None


@endpoint(
    offer_api, "GET", "/v1/offer", summary="What the club offers (plans, causes, disclosure)", tag="offer",
    roles=PUBLIC, query=OfferQuery, response=Offer,
    example=Example(
        query={"currency": "usd"},
        response={
            "plans": [
                {
                    "plan_id": "vip-monthly", "name": "VIP Monthly", "amount": 999, "currency": "usd",
                    "interval": "month", "trial_days": 0,
                    "perks": {
                        "free_shipping": {"min_subtotal": {"usd": 5000}, "methods": ["standard"]},
                        "member_discount": {"percent": 10}, "early_access": {"hours": 48},
                    },
                }
            ],
            "causes": [
                {
                    "cause_id": "school-meals", "name": "School Meals",
                    "legal_name": "School Meals Foundation",
                    "tax_id": "12-3456789", "description": "Hot lunches for school children.",
                    "url": "https://example.org/school-meals", "active": True,
                    "impact": {"unit": "meals", "amount_per_unit": 250},
                }
            ],
            "disclosure": _DISCLOSURE,
        },
    ),
    description="Public and cacheable (`Cache-Control: public, max-age=60`); no DynamoDB read on a warm "
    "function. Active plans (in `currency` when given) and active causes, with the giving disclosure.",
)  # fmt: skip
def get_offer(call: Call[Any, OfferQuery]) -> Reply:
    return Reply(offers.offer(call.query.currency), headers=CACHEABLE)


@endpoint(
    offer_api, "POST", "/v1/offer/preview", summary="\"Join and save\" for a guest's cart", tag="offer",
    roles=PUBLIC, body=GuestCart, response=JoinOffer, errors=(400,), idempotent=False,
    example=Example(
        request=_CART,
        response={"join_preview": {"plan_id": "vip-monthly", "saves": 1195, "currency": "usd"}},
    ),
    description="Read-only. `join_preview` exactly as eligibility computes it for a guest: of the active "
    "plans "
    "priced in the cart's currency, the one whose perks save the most (ties: the cheapest); null when none "
    "saves anything. No DynamoDB read on a warm function.",
)  # fmt: skip
def preview(call: Call[GuestCart, Any]) -> JoinOffer:
    cart = call.body
    return offers.preview(Cart(currency=cart.currency, items=cart.items, shipping=cart.shipping))


@endpoint(
    offer_api, "GET", "/v1/disclosure", summary="The giving disclosure", tag="offer", roles=PUBLIC,
    response=Disclosure, example=Example(response=_DISCLOSURE),
    description="Generated from the plans and causes: per active plan the portion of orders and fees given, "
    "to whom, since when and the maximum (none: `cap` is null); per active cause its legal name and tax id.",
)  # fmt: skip
def get_disclosure(call: Call[Any, Any]) -> Reply:
    return Reply(offers.disclosure(), headers=CACHEABLE)
