"""Checkout Sessions: `POST /v1/checkout/sessions`, `GET .../{id}`, `POST .../{id}/expire`.

The shopper's side (paying on the hosted page or through the control endpoint) is `complete`.
"""

from __future__ import annotations

from localdev.stripe_emulator import params as p
from localdev.stripe_emulator.account import Stripe
from localdev.stripe_emulator.errors import Obj, StripeError, missing
from localdev.stripe_emulator.objects import build, new_id
from localdev.stripe_emulator.resources import customers, subscriptions
from localdev.stripe_emulator.routing import Request, Result, Routes, one

CHECKOUT: p.Spec = {
    "mode": p.one_of("payment", "setup", "subscription"),
    "customer": p.string,
    "customer_email": p.string,
    "client_reference_id": p.string,
    "success_url": p.string,
    "cancel_url": p.string,
    "line_items": [{"price": p.string, "quantity": p.integer}],
    "metadata": p.metadata,
    "subscription_data": {"metadata": p.metadata, "trial_period_days": p.integer, "description": p.string},
    "allow_promotion_codes": p.boolean,
    "billing_address_collection": p.one_of("auto", "required"),
    "locale": p.string,
    "allowed_payment_method_types": p.strings,
    "customer_update": {"address": p.string, "name": p.string, "shipping": p.string},
    **p.EXPAND,
}
SESSION_LIFETIME_SECONDS = 24 * 3600


def _price_of(stripe: Stripe, params: Obj) -> tuple[Obj, int]:
    line_items = params.get("line_items") or []
    if len(line_items) != 1:
        raise StripeError("Pass exactly one line item with a recurring `price`.", param="line_items")
    price_id = line_items[0].get("price")
    if not price_id:
        raise StripeError("Missing required param: line_items[0][price].", param="line_items[0][price]")
    price = stripe.account.prices.get(price_id)
    if price is None:
        raise missing("price", price_id, param="line_items[0][price]")
    if price["type"] != "recurring":
        raise StripeError(
            "You must specify at least one recurring price in `subscription` mode.",
            param="line_items[0][price]",
        )
    return price, line_items[0].get("quantity", 1)


def create(stripe: Stripe, params: Obj) -> tuple[Obj, list[Obj]]:
    if params.get("mode") != "subscription":
        raise StripeError("This emulator supports Checkout in `subscription` mode only.", param="mode")
    customer_id = params.get("customer")
    if customer_id is not None and customer_id not in stripe.account.customers:
        raise missing("customer", customer_id, param="customer")
    if customer_id and params.get("customer_email"):
        raise StripeError(
            "You may only specify one of these parameters: customer, customer_email.", param="customer_email"
        )
    price, quantity = _price_of(stripe, params)
    subscription_data = params.get("subscription_data") or {}
    amount = 0 if subscription_data.get("trial_period_days") else price["unit_amount"] * quantity
    now = stripe.now()
    session_id = new_id("cs_test", 58)
    session = build(
        "checkout.session",
        id=session_id,
        allow_promotion_codes=params.get("allow_promotion_codes"),
        allowed_payment_method_types=params.get("allowed_payment_method_types"),
        amount_subtotal=amount,
        amount_total=amount,
        billing_address_collection=params.get("billing_address_collection"),
        cancel_url=params.get("cancel_url"),
        client_reference_id=params.get("client_reference_id"),
        created=now,
        currency=price["currency"],
        customer=customer_id,
        customer_creation=None if customer_id else "always",
        customer_email=params.get("customer_email"),
        expires_at=now + SESSION_LIFETIME_SECONDS,
        locale=params.get("locale"),
        metadata=dict(params.get("metadata") or {}),
        mode="subscription",
        success_url=params.get("success_url"),
        url=f"{stripe.base_url}/checkout/{session_id}",
    )
    stripe.account.checkout_terms[session_id] = {
        "price": price["id"],
        "quantity": quantity,
        "email": params.get("customer_email")
        or (stripe.account.customers[customer_id]["email"] if customer_id else None),
        "subscription_data": subscription_data,
    }
    stripe.account.checkout_sessions[session_id] = session
    return session, []


def complete(stripe: Stripe, session_id: str, outcome: str) -> tuple[Obj, list[Obj]]:
    """The shopper pays on the hosted page: a subscription and its first invoice, or a decline."""
    session = stripe.get("checkout_sessions", "checkout.session", session_id)
    if session["status"] != "open":
        raise StripeError(
            f"This Checkout Session is {session['status']} and can no longer be paid.",
            code="checkout_session_not_open",
        )
    if session["expires_at"] <= stripe.now():
        session["status"] = "expired"
        return session, [stripe.event("checkout.session.expired", session)]
    if outcome == "card_declined":
        # As on Stripe: the page shows the decline, the session stays open, nothing is created.
        return session, []
    if outcome != "succeeded":
        raise StripeError("outcome must be `succeeded` or `card_declined`.", param="outcome")
    events: list[Obj] = []
    terms = stripe.account.checkout_terms[session_id]
    customer_id = session["customer"]
    if customer_id is None:
        customer, created = customers.create(stripe, {"email": terms["email"]})
        customer_id = customer["id"]
        events += created
    customer = stripe.account.customers[customer_id]
    payment_method = new_id("pm")
    customer["invoice_settings"]["default_payment_method"] = payment_method
    subscription_data = terms["subscription_data"]
    subscription, started = subscriptions.create(
        stripe,
        customer_id,
        stripe.account.prices[terms["price"]],
        terms["quantity"],
        metadata=dict(subscription_data.get("metadata") or {}),
        trial_days=subscription_data.get("trial_period_days"),
        payment_method=payment_method,
    )
    events += started
    session.update(
        {
            "customer": customer_id,
            "customer_details": {
                "address": None,
                "business_name": None,
                "email": terms["email"] or customer["email"],
                "individual_name": None,
                "name": customer["name"],
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            },
            "invoice": subscription["latest_invoice"],
            "payment_status": "no_payment_required" if session["amount_total"] == 0 else "paid",
            "status": "complete",
            "subscription": subscription["id"],
        }
    )
    events.append(stripe.event("checkout.session.completed", session))
    return session, events


def expire(stripe: Stripe, session_id: str) -> tuple[Obj, list[Obj]]:
    session = stripe.get("checkout_sessions", "checkout.session", session_id)
    if session["status"] != "open":
        raise StripeError(f"Only open sessions can be expired; this one is {session['status']}.")
    session["status"] = "expired"
    return session, [stripe.event("checkout.session.expired", session)]


ROUTES = Routes()


@ROUTES.add("POST", "/v1/checkout/sessions")
def _create(req: Request) -> Result:
    params = p.parse(req.params, CHECKOUT)
    p.require(params, "mode", "success_url")
    return 200, *create(req.stripe, params)


@ROUTES.add("GET", "/v1/checkout/sessions/{id}")
def _get(req: Request) -> Result:
    p.parse(req.params, p.EXPAND)
    return one(req.stripe.get("checkout_sessions", "checkout.session", req["id"]))


@ROUTES.add("POST", "/v1/checkout/sessions/{id}/expire")
def _expire(req: Request) -> Result:
    p.parse(req.params, p.EXPAND)
    return 200, *expire(req.stripe, req["id"])


@ROUTES.add("POST", "/_emulator/checkout_sessions/{id}/complete")
def _complete(req: Request) -> Result:
    outcome = req.params.get("outcome", "succeeded")
    session, events = complete(req.stripe, req["id"], outcome)
    if outcome == "card_declined":
        error = StripeError(
            "Your card was declined.", status=402, type="card_error", code="card_declined"
        ).body()
        return 402, {**error, "checkout_session": session}, events
    return 200, session, events
