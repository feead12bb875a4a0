"""`POST /v1/eligibility`: which perks apply to a cart, at every checkout."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.api.routing import STOREFRONT, Call, endpoint
from chalicelib.domain.cart import Cart, Eligibility
from chalicelib.services.eligibility import check_eligibility

eligibility_api = Blueprint(__name__)


@endpoint(
    eligibility_api, "POST", "/v1/eligibility", summary="Perks for a cart (the checkout hot path)",
    tag="eligibility", roles=STOREFRONT, body=Cart, response=Eligibility, errors=(400,), idempotent=False,
    description="Read-only, so `Idempotency-Key` is ignored. One DynamoDB read on a warm function. "
    "Cache an answer for at most 60 s and never past `valid_until`.",
)  # fmt: skip
def eligibility(call: Call[Cart, Any]) -> Eligibility:
    return check_eligibility(call.body)
