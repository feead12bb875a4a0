"""Shoppers in the browser: the brand's server mints a shopper token; the browser uses it on `/v1/shopper/*`.

The shopper is always the token's `sub`, never a parameter; each route is a thin wrapper over the
members service (`services.shopper`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from chalice.app import Blueprint
from msgspec import Meta

from chalicelib.api import lazy
from chalicelib.api.members import _MEMBERSHIP, CauseIn, Email, PortalOut, ReferralCode
from chalicelib.api.routing import SHOPPER, STOREFRONT, Call, Example, endpoint
from chalicelib.domain.catalog import ClientId, Url

if TYPE_CHECKING:
    from chalicelib.services import members, shopper, shopper_tokens
    from chalicelib.services.members import CheckoutStarted, Membership
    from chalicelib.services.unit_of_work import on_dynamodb
else:  # imported by the first request that needs them (api/lazy.py)
    members = lazy.module("chalicelib.services.members")
    shopper = lazy.module("chalicelib.services.shopper")
    shopper_tokens = lazy.module("chalicelib.services.shopper_tokens")
    CheckoutStarted = lazy.declared("chalicelib.services.members", "CheckoutStarted")
    Membership = lazy.declared("chalicelib.services.members", "Membership")
    on_dynamodb = lazy.function("chalicelib.services.unit_of_work", "on_dynamodb")

shopper_api = Blueprint(__name__)

# An example for the documentation, signed with no real key.
_TOKEN = "eyJhbGciOiJIUzI1NiIsImtpZCI6InNob3BwZXItMjAyNi0xMiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJ2aXAtcmV3YXJkcy1zaG9wcGVyIiwic3ViIjoiYWRhIn0.c2lnbmF0dXJl"  # noqa: E501, S105


class SessionIn(msgspec.Struct, forbid_unknown_fields=True):
    ttl_seconds: Annotated[
        int, Meta(ge=shopper_tokens.MIN_TTL_SECONDS, le=shopper_tokens.MAX_TTL_SECONDS)
    ] = shopper_tokens.DEFAULT_TTL_SECONDS


class SessionOut(msgspec.Struct):
    token: str
    expires_at: datetime


class ShopperCheckoutIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    plan_id: ClientId
    success_url: Url
    cancel_url: Url
    email: Email | None = None
    cause_id: ClientId | None = None
    referral_code: ReferralCode | None = None


class ShopperPortalIn(msgspec.Struct, forbid_unknown_fields=True):
    return_url: Url


def _shopper(call: Call[Any, Any]) -> str:
    """The token's subject (routing put it in the caller after verifying the token)."""
    assert call.caller is not None and call.caller.role == "shopper"
    return call.caller.name


@endpoint(
    shopper_api, "POST", "/v1/members/{customer_ref}/session", summary="Mint a shopper token for the browser",
    tag="shopper", roles=STOREFRONT, body=SessionIn, response=SessionOut, status=201, errors=(400,),
    example=Example(
        path={"customer_ref": "ada"}, request={"ttl_seconds": 600},
        response={"token": _TOKEN, "expires_at": "2026-12-06T19:10:00Z"},
    ),
    description="Called by the brand's server for the signed-in shopper. The token (HS256 JWT with `kid`; "
    "`aud` vip-rewards-shopper, `sub` the customer_ref, `exp` at most 15 minutes on) works only on "
    "`/v1/shopper/*` and only for that shopper. Any shopper id: one never seen before reads `status: none`.",
)  # fmt: skip
def session(call: Call[SessionIn, Any]) -> SessionOut:
    minted = shopper_tokens.mint(call.path["customer_ref"], call.body.ttl_seconds)
    return SessionOut(token=minted.token, expires_at=minted.expires_at)


@endpoint(
    shopper_api, "GET", "/v1/shopper/membership", summary="The shopper's own membership", tag="shopper",
    roles=SHOPPER, response=Membership, example=Example(response=_MEMBERSHIP),
    description="The token's shopper; `status: none` for a shopper with no subscription yet.",
)  # fmt: skip
def get_membership(call: Call[Any, Any]) -> Membership:
    return shopper.membership(_shopper(call))


@endpoint(
    shopper_api, "PUT", "/v1/shopper/cause", summary="Choose the cause of the shopper's future donations",
    tag="shopper", roles=SHOPPER, body=CauseIn, response=Membership, errors=(400, 404),
    example=Example(
        request={"cause_id": "ocean-cleanup"}, response={**_MEMBERSHIP, "cause_id": "ocean-cleanup"}
    ),
)  # fmt: skip
def set_cause(call: Call[CauseIn, Any]) -> Membership:
    return members.set_cause(_shopper(call), call.body.cause_id, on_dynamodb())


@endpoint(
    shopper_api, "POST", "/v1/shopper/checkout", summary="Start the shopper's Stripe Checkout", tag="shopper",
    roles=SHOPPER, body=ShopperCheckoutIn, response=CheckoutStarted, status=201, errors=(400, 409, 502),
    example=Example(
        request={
            "plan_id": "vip-monthly", "success_url": "https://shop.example.com/vip/welcome",
            "cancel_url": "https://shop.example.com/cart",
        },
        response={
            "checkout_url": "https://checkout.stripe.com/c/pay/cs_test_a1B2c3D4e5",
            "session_id": "cs_test_a1B2c3D4e5",
        },
    ),
    description="`success_url` and `cancel_url` must be on one of STOREFRONT_ORIGINS "
    "(else 400 `invalid_url`). `referral_code` as on the storefront checkout.",
)  # fmt: skip
def checkout(call: Call[ShopperCheckoutIn, Any]) -> CheckoutStarted:
    body = call.body
    return shopper.start_checkout(
        _shopper(call), plan_id=body.plan_id, success_url=body.success_url, cancel_url=body.cancel_url,
        email=body.email, cause_id=body.cause_id, uow=on_dynamodb(), referral_code=body.referral_code,
    )  # fmt: skip


@endpoint(
    shopper_api, "POST", "/v1/shopper/portal", summary="Open the shopper's Stripe Customer Portal",
    tag="shopper", roles=SHOPPER, body=ShopperPortalIn, response=PortalOut, errors=(400, 404, 409, 502),
    example=Example(
        request={"return_url": "https://shop.example.com/account"},
        response={"portal_url": "https://billing.stripe.com/p/session/test_YWNjdF8x"},
    ),
    description="`return_url` must be on one of STOREFRONT_ORIGINS (else 400 `invalid_url`).",
)  # fmt: skip
def portal(call: Call[ShopperPortalIn, Any]) -> PortalOut:
    return PortalOut(portal_url=shopper.open_portal(_shopper(call), call.body.return_url))
