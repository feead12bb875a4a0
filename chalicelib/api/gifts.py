"""Gift memberships (storefront): buy one through a one-time Stripe Checkout, redeem a code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from chalice.app import Blueprint
from msgspec import Meta

from chalicelib.api import lazy
from chalicelib.api.members import _MEMBERSHIP, Email
from chalicelib.api.routing import STOREFRONT, Call, Example, endpoint
from chalicelib.domain.catalog import ClientId, Url
from chalicelib.domain.patterns import whole

if TYPE_CHECKING:
    from chalicelib.services import gifts
    from chalicelib.services.members import CheckoutStarted, Membership
    from chalicelib.services.unit_of_work import on_dynamodb
else:  # imported by the first request that needs them (api/lazy.py)
    gifts = lazy.module("chalicelib.services.gifts")
    CheckoutStarted = lazy.declared("chalicelib.services.members", "CheckoutStarted")
    Membership = lazy.declared("chalicelib.services.members", "Membership")
    on_dynamodb = lazy.function("chalicelib.services.unit_of_work", "on_dynamodb")

gifts_api = Blueprint(__name__)


class GiftCheckoutIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    purchaser_ref: ClientId
    plan_id: ClientId
    months: Annotated[int, Meta(ge=1, le=12)]
    recipient_email: Email
    # Stripe metadata values hold at most 500 characters.
    message: Annotated[str, Meta(max_length=500)] | None = None
    success_url: Url
    cancel_url: Url


class RedeemIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, Meta(min_length=1, max_length=64, pattern=whole("[A-Za-z0-9-]+"))]


@endpoint(
    gifts_api, "POST", "/v1/gifts/checkout", summary="Buy a gift membership (one-time Stripe Checkout)",
    tag="gifts", roles=STOREFRONT, body=GiftCheckoutIn, response=CheckoutStarted, status=201,
    errors=(400, 502),
    example=Example(
        request={
            "purchaser_ref": "ada", "plan_id": "vip-monthly", "months": 3,
            "recipient_email": "grace@example.com", "message": "Happy birthday!", "success_url": "https://shop.example.com/gift/thanks",
            "cancel_url": "https://shop.example.com/gift",
        },
        response={
            "checkout_url": "https://checkout.stripe.com/c/pay/cs_test_g1F2t3",
            "session_id": "cs_test_g1F2t3",
        },
    ),
    description="A Checkout Session in payment mode for `months` × the plan's monthly price (a yearly plan's "
    "price ÷ 12). Once Stripe reports it paid, the gift gets a single-use code and `gift.purchased` carries "
    "it (the brand's e-mail tool sends it to `recipient_email`); the payment counts in the program's fees "
    "and pledges the plan's `renewal_bps` of it.",
)  # fmt: skip
def gift_checkout(call: Call[GiftCheckoutIn, Any]) -> CheckoutStarted:
    body = call.body
    return gifts.start_gift_checkout(
        purchaser_ref=body.purchaser_ref, plan_id=body.plan_id, months=body.months,
        recipient_email=body.recipient_email, message=body.message, success_url=body.success_url,
        cancel_url=body.cancel_url,
    )  # fmt: skip


@endpoint(
    gifts_api, "POST", "/v1/members/{customer_ref}/gifts/redeem", summary="Redeem a gift membership code",
    tag="gifts", roles=STOREFRONT, body=RedeemIn, response=Membership, errors=(400, 404, 409, 502),
    example=Example(
        path={"customer_ref": "grace"}, request={"code": "GIFT-K7Q2-M4XA-P9LD-3RTB"},
        response={**_MEMBERSHIP, "gifted_until": "2027-03-06T12:00:00Z"},
    ),
    description="Sets `gifted_until` (perks as the gift's plan until then, `months` from now or from the end "
    "of a gift still running). A shopper already paying instead gets what the gift cost as a Stripe customer "
    "balance credit, which covers their next renewals. A later subscription starts with a trial until "
    "`gifted_until`. 404 `gift_not_found` for a code this service did not issue, 409 `gift_redeemed` after "
    "the first redemption.",
)  # fmt: skip
def redeem_gift(call: Call[RedeemIn, Any]) -> Membership:
    return gifts.redeem(call.path["customer_ref"], call.body.code, on_dynamodb())
