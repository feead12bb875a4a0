"""Gift memberships in Stripe: a one-time (payment-mode) Checkout, and the balance credit of a paying
member's redeemed gift."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.domain.gift import GIFT_KIND
from chalicelib.payments.client import stripe_client, translate_stripe_errors


@dataclass(frozen=True, slots=True)
class GiftCheckout:
    purchaser_ref: str
    plan_id: str
    plan_name: str
    months: int
    monthly_amount: int
    currency: str
    recipient_email: str
    message: str | None
    success_url: str
    cancel_url: str


def create_gift_checkout(request: GiftCheckout) -> tuple[str, str]:
    """A Checkout Session in payment mode for `months` × the monthly price → (session id, hosted page URL).

    What the gift is (plan, months, recipient, message) travels in the session's metadata, which the
    `checkout.session.completed` webhook brings back once it is paid.
    """
    metadata = {
        "kind": GIFT_KIND,
        "purchaser_ref": request.purchaser_ref,
        "plan_id": request.plan_id,
        "months": str(request.months),
        "recipient_email": request.recipient_email,
        "message": request.message or "",
    }
    params: dict[str, Any] = {
        "mode": "payment",
        "client_reference_id": request.purchaser_ref,
        "metadata": metadata,
        "line_items": [
            {
                "price_data": {
                    "currency": request.currency,
                    "unit_amount": request.monthly_amount,
                    "product_data": {"name": f"Gift: {request.plan_name}, one month"},
                },
                "quantity": request.months,
            }
        ],
        "payment_intent_data": {"metadata": {"kind": GIFT_KIND, "purchaser_ref": request.purchaser_ref}},
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
    }
    client = stripe_client()
    with translate_stripe_errors("create the gift Checkout Session"):
        session = client.v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]
    return str(session.id), str(session.url)
