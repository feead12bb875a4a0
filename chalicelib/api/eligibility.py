"""`POST /v1/eligibility`: which perks apply to a cart, at every checkout."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.api import lazy
from chalicelib.api.routing import STOREFRONT, Call, Example, endpoint
from chalicelib.domain.cart import Cart, Eligibility

if TYPE_CHECKING:
    from chalicelib.services.eligibility import check_eligibility
else:  # imported by the first check (api/lazy.py)
    check_eligibility = lazy.function("chalicelib.services.eligibility", "check_eligibility")

eligibility_api = Blueprint(__name__)


@endpoint(
    eligibility_api, "POST", "/v1/eligibility", summary="Perks for a cart (the checkout hot path)",
    tag="eligibility", roles=STOREFRONT, body=Cart, response=Eligibility, errors=(400,), idempotent=False,
    example=Example(
        request={
            "customer_ref": "ada",
            "currency": "usd",
            "items": [
                {"sku": "tee-navy-m", "unit_amount": 2500, "quantity": 2},
                {"sku": "gift-card-50", "unit_amount": 5000, "quantity": 1, "discountable": False},
                {
                    "sku": "sneaker-drop-7", "unit_amount": 12000, "quantity": 1,
                    "launch_at": "2026-11-24T17:00:00Z",
                },
            ],
            "shipping": {"method": "standard", "amount": 695},
        },
        response={
            "customer_ref": "ada",
            "member": True,
            "status": "active",
            "plan_id": "vip-monthly",
            "subtotal": 22000,
            "member_discount": {"percent": 10, "amount": 1700},
            "shipping": {"free": True, "discount": 695},
            "early_access": {"allowed": ["sneaker-drop-7"], "blocked": []},
            "members_only": {"allowed": [], "blocked": []},
            "donation_preview": {"cause_id": "school-meals", "amount": 203, "currency": "usd"},
            "join_preview": None,
            "evaluated_at": "2026-11-23T09:00:00Z",
            "valid_until": "2026-11-23T09:01:00Z",
        },
    ),
    description="Read-only, so `Idempotency-Key` is ignored. One DynamoDB read on a warm function. "
    "Cache an answer for at most 60 s and never past `valid_until`. Waits at most 1 s on the database, "
    "then answers 503 (fall back to guest prices). `members_only` items are allowed for "
    "members and blocked for everyone else; `join_preview` (non-members only) names the active plan in the "
    "cart's currency whose perks save the most on this cart (ties: the cheapest) and what it saves.",
    patience="eligibility",
)  # fmt: skip
def eligibility(call: Call[Cart, Any]) -> Eligibility:
    return check_eligibility(call.body)
