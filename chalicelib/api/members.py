"""Shoppers' memberships: checkout, read, sync, portal, cancel, resume, pause, switch plan, choose a cause."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from chalice.app import Blueprint
from msgspec import Meta

from chalicelib.api import lazy
from chalicelib.api.routing import STOREFRONT, Call, Example, endpoint
from chalicelib.domain.cart import Moment
from chalicelib.domain.catalog import ClientId, Url
from chalicelib.domain.patterns import whole

if TYPE_CHECKING:
    from chalicelib.services import members
    from chalicelib.services.members import CheckoutStarted, Membership
    from chalicelib.services.unit_of_work import on_dynamodb
else:  # imported by the first request that needs them (api/lazy.py)
    members = lazy.module("chalicelib.services.members")
    CheckoutStarted = lazy.declared("chalicelib.services.members", "CheckoutStarted")
    Membership = lazy.declared("chalicelib.services.members", "Membership")
    on_dynamodb = lazy.function("chalicelib.services.unit_of_work", "on_dynamodb")

members_api = Blueprint(__name__)

_ADA = {"customer_ref": "ada"}
_MEMBERSHIP = {
    "customer_ref": "ada",
    "status": "active",
    "plan_id": "vip-monthly",
    "perks_active": True,
    "perks": {
        "free_shipping": {"min_subtotal": {"usd": 5000}, "methods": ["standard"]},
        "member_discount": {"percent": 10},
        "early_access": {"hours": 48},
    },
    "current_period_end": "2026-12-23T09:00:00Z",
    "cancel_at_period_end": False,
    "grace_until": None,
    "paused_until": None,
    "cause_id": "school-meals",
    "member_since": "2026-10-23T09:00:00Z",
    "impact": {
        "usd": {
            "pledged": 1250,
            "reversed": 0,
            "net": 1250,
            "units": "5 meals",
            "causes": [
                {"cause_id": "school-meals", "pledged": 1250, "reversed": 0, "net": 1250, "units": "5 meals"}
            ],
        }
    },
    "value": {"usd": {"fees_paid": 5994, "saved": 8420, "donated": 1250, "net": 2426}},
}


def _membership(**changes: object) -> dict[str, object]:
    return {**_MEMBERSHIP, **changes}


# Neither `@` nor a control or space character, as Python's `re` and ECMA-262 both read it (no `\s`).
_EMAIL_PART = r"[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+"
Email = Annotated[str, Meta(max_length=254, pattern=whole(rf"{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}"))]
ReferralCode = Annotated[
    str,
    Meta(min_length=3, max_length=64, pattern=whole("[A-Za-z0-9_-]{3,64}"), description="A referral code"),
]


class CheckoutIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    plan_id: ClientId
    email: Email
    success_url: Url
    cancel_url: Url
    cause_id: ClientId | None = None
    referral_code: ReferralCode | None = None


class PortalIn(msgspec.Struct, forbid_unknown_fields=True):
    return_url: Url


class PortalOut(msgspec.Struct):
    portal_url: str


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    at_period_end: bool = True


class PauseIn(msgspec.Struct, forbid_unknown_fields=True):
    # When Stripe resumes collection (and perks return); absent: paused until unpaused.
    until: Moment | None = None


class PlanIn(msgspec.Struct, forbid_unknown_fields=True):
    plan_id: ClientId


class CauseIn(msgspec.Struct, forbid_unknown_fields=True):
    cause_id: ClientId


@endpoint(
    members_api, "POST", "/v1/members/{customer_ref}/checkout", summary="Start a Stripe Checkout for a plan",
    tag="members", roles=STOREFRONT, body=CheckoutIn, response=CheckoutStarted, status=201,
    errors=(400, 409, 502),
    example=Example(
        path=_ADA,
        request={
            "plan_id": "vip-monthly", "email": "ada@example.com",
            "success_url": "https://shop.example.com/vip/welcome", "cancel_url": "https://shop.example.com/vip",
            "cause_id": "school-meals",
        },
        response={
            "checkout_url": "https://checkout.stripe.com/c/pay/cs_test_a1B2c3D4e5",
            "session_id": "cs_test_a1B2c3D4e5",
        },
    ),
    description="Creates (once) the shopper's Stripe customer and a Checkout Session in subscription mode. "
    "409 `already_member` when the shopper's perks are active, `membership_paused` when their membership is "
    "paused (unpause it instead). `referral_code`: a member's referral code, applied as the session's "
    "discount (the friend's first months free); 400 naming `referral_code` for an unknown or inactive code, "
    "the shopper's own (same shopper or same e-mail), or one Stripe refuses (first-time customers only).",
)  # fmt: skip
def checkout(call: Call[CheckoutIn, Any]) -> CheckoutStarted:
    body = call.body
    return members.start_checkout(
        call.path["customer_ref"], plan_id=body.plan_id, email=body.email, success_url=body.success_url,
        cancel_url=body.cancel_url, cause_id=body.cause_id, referral_code=body.referral_code,
        uow=on_dynamodb(),
    )  # fmt: skip


@endpoint(
    members_api, "GET", "/v1/members/{customer_ref}", summary="A shopper's membership", tag="members",
    roles=STOREFRONT, response=Membership, errors=(404,),
    example=Example(path=_ADA, response=_MEMBERSHIP),
)  # fmt: skip
def get_member(call: Call[Any, Any]) -> Membership:
    return members.get_membership(call.path["customer_ref"])


@endpoint(
    members_api, "POST", "/v1/members/{customer_ref}/sync", summary="Re-read the shopper from Stripe now",
    tag="members", roles=STOREFRONT, response=Membership, errors=(404, 502),
    example=Example(path=_ADA, response=_MEMBERSHIP),
    description="The checkout success page calls this so perks show before the webhook arrives.",
)  # fmt: skip
def sync(call: Call[Any, Any]) -> Membership:
    return members.sync(call.path["customer_ref"], on_dynamodb())


@endpoint(
    members_api, "POST", "/v1/members/{customer_ref}/portal", summary="Open the Stripe Customer Portal",
    tag="members", roles=STOREFRONT, body=PortalIn, response=PortalOut, errors=(400, 404, 409, 502),
    example=Example(
        path=_ADA,
        request={"return_url": "https://shop.example.com/account"},
        response={"portal_url": "https://billing.stripe.com/p/session/test_YWNjdF8x"},
    ),
)  # fmt: skip
def portal(call: Call[PortalIn, Any]) -> PortalOut:
    return PortalOut(portal_url=members.open_portal(call.path["customer_ref"], call.body.return_url))


@endpoint(
    members_api, "POST", "/v1/members/{customer_ref}/cancel",
    summary="Cancel at period end (default) or now", tag="members", roles=STOREFRONT, body=CancelIn,
    response=Membership, errors=(400, 404, 409, 502),
    example=Example(
        path=_ADA, request={"at_period_end": True}, response=_membership(cancel_at_period_end=True)
    ),
)  # fmt: skip
def cancel(call: Call[CancelIn, Any]) -> Membership:
    return members.cancel(call.path["customer_ref"], call.body.at_period_end, on_dynamodb())


@endpoint(
    members_api, "POST", "/v1/members/{customer_ref}/resume", summary="Undo a cancel-at-period-end",
    tag="members", roles=STOREFRONT, response=Membership, errors=(404, 409, 502),
    example=Example(path=_ADA, response=_MEMBERSHIP),
)  # fmt: skip
def resume(call: Call[Any, Any]) -> Membership:
    return members.resume(call.path["customer_ref"], on_dynamodb())


@endpoint(
    members_api, "POST", "/v1/members/{customer_ref}/pause", summary="Pause the membership (perks stop)",
    tag="members", roles=STOREFRONT, body=PauseIn, response=Membership, errors=(400, 404, 409, 502),
    example=Example(
        path=_ADA, request={"until": "2027-02-01T00:00:00Z"},
        response=_membership(perks_active=False, perks=None, paused_until="2027-02-01T00:00:00Z"),
    ),
    description="Pauses collection in Stripe (`pause_collection` with behavior `void`: no invoice is "
    "charged) until `until` (RFC 3339, in the future) or until unpaused. Perks stop at once and return "
    "when Stripe reports the pause lifted. Pausing again with the same `until` changes nothing. 409 "
    "`no_subscription` / `not_pausable` when the shopper has no subscription that can be paused.",
)  # fmt: skip
def pause(call: Call[PauseIn, Any]) -> Membership:
    return members.pause(call.path["customer_ref"], call.body.until, on_dynamodb())


@endpoint(
    members_api, "POST", "/v1/members/{customer_ref}/unpause", summary="Lift a pause (perks return)",
    tag="members", roles=STOREFRONT, response=Membership, errors=(404, 409, 502),
    example=Example(path=_ADA, response=_MEMBERSHIP),
    description="Clears `pause_collection` (set here or in the Customer Portal), or resumes a subscription "
    "in Stripe's own `paused` status. Unpausing a membership that is not paused changes nothing. 409 "
    "`no_subscription` when the shopper has no subscription.",
)  # fmt: skip
def unpause(call: Call[Any, Any]) -> Membership:
    return members.unpause(call.path["customer_ref"], on_dynamodb())


@endpoint(
    members_api, "POST", "/v1/members/{customer_ref}/plan", summary="Switch plan (prorated by Stripe)",
    tag="members", roles=STOREFRONT, body=PlanIn, response=Membership, errors=(400, 404, 409, 502),
    example=Example(
        path=_ADA, request={"plan_id": "vip-yearly"}, response=_membership(plan_id="vip-yearly")
    ),
)  # fmt: skip
def switch_plan(call: Call[PlanIn, Any]) -> Membership:
    return members.switch_plan(call.path["customer_ref"], call.body.plan_id, on_dynamodb())


@endpoint(
    members_api, "PUT", "/v1/members/{customer_ref}/cause", summary="Choose the cause future donations go to",
    tag="members", roles=STOREFRONT, body=CauseIn, response=Membership, errors=(400, 404),
    example=Example(
        path=_ADA, request={"cause_id": "ocean-cleanup"}, response=_membership(cause_id="ocean-cleanup")
    ),
)  # fmt: skip
def set_cause(call: Call[CauseIn, Any]) -> Membership:
    return members.set_cause(call.path["customer_ref"], call.body.cause_id, on_dynamodb())
