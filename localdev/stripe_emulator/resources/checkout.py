"""Checkout Sessions: `POST /v1/checkout/sessions`, `GET .../{id}`, `POST .../{id}/expire`.

The shopper's side (paying on the hosted page or through the control endpoint) is `complete`.
"""

from __future__ import annotations

from localdev.stripe_emulator import params as p
from localdev.stripe_emulator.account import Stripe
from localdev.stripe_emulator.errors import Obj, StripeError, missing
from localdev.stripe_emulator.objects import build, new_id
from localdev.stripe_emulator.resources import customers, discounts, payments, subscriptions
from localdev.stripe_emulator.resources.coupons import amount_off
from localdev.stripe_emulator.resources.products import name_of
from localdev.stripe_emulator.routing import Request, Result, Routes, one

CHECKOUT: p.Spec = {
    "mode": p.one_of("payment", "setup", "subscription"),
    "customer": p.string,
    "customer_email": p.string,
    "client_reference_id": p.string,
    "success_url": p.string,
    "cancel_url": p.string,
    "line_items": [
        {
            "price": p.string,
            "quantity": p.integer,
            "price_data": {
                "currency": p.string,
                "unit_amount": p.integer,
                "product": p.string,
                "product_data": {"name": p.string, "description": p.string, "metadata": p.metadata},
            },
        }
    ],
    "payment_intent_data": {"metadata": p.metadata, "description": p.string},
    "metadata": p.metadata,
    "subscription_data": {"metadata": p.metadata, "trial_period_days": p.integer, "description": p.string},
    "allow_promotion_codes": p.boolean,
    "discounts": [{"coupon": p.string, "promotion_code": p.string}],
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


def _discount_of(stripe: Stripe, params: Obj, customer_id: str | None) -> tuple[str | None, str | None]:
    """(coupon, promotion code) of `discounts[0]`, checked as Stripe checks them; (None, None) without."""
    wanted = params.get("discounts") or []
    if wanted and params.get("allow_promotion_codes"):
        raise StripeError(
            "You may only specify one of these parameters: allow_promotion_codes, discounts.",
            param="discounts",
        )
    if len(wanted) > 1:
        raise StripeError("Only one discount can be applied to a Checkout Session.", param="discounts")
    if not wanted:
        return None, None
    if wanted[0].get("promotion_code"):
        code = discounts.redeemable(
            stripe, wanted[0]["promotion_code"], customer_id, "discounts[0][promotion_code]"
        )
        return code["promotion"]["coupon"], code["id"]
    coupon_id = wanted[0].get("coupon")
    if not coupon_id:
        raise StripeError("Pass a coupon or a promotion_code.", param="discounts[0]")
    if coupon_id not in stripe.account.coupons:
        raise missing("coupon", coupon_id, param="discounts[0][coupon]")
    return coupon_id, None


def _payment_lines(stripe: Stripe, params: Obj) -> tuple[str, list[Obj]]:
    """(currency, lines) of a `payment` session: each line a one-time `price` or inline `price_data`."""
    lines: list[Obj] = []
    currencies: set[str] = set()
    for index, item in enumerate(params.get("line_items") or []):
        where = f"line_items[{index}]"
        if item.get("price"):
            price = stripe.account.prices.get(item["price"])
            if price is None:
                raise missing("price", item["price"], param=f"{where}[price]")
            if price["type"] != "one_time":
                raise StripeError("You must use one-time prices in `payment` mode.", param=f"{where}[price]")
            name, unit, currency = name_of(stripe, price), price["unit_amount"], price["currency"]
        elif item.get("price_data"):
            data = item["price_data"]
            for field in ("currency", "unit_amount"):
                if data.get(field) is None:
                    raise StripeError(
                        f"Missing required param: {where}[price_data][{field}].",
                        code="parameter_missing",
                        param=f"{where}[price_data][{field}]",
                    )
            product = stripe.account.products.get(data.get("product") or "")
            given = (data.get("product_data") or {}).get("name") or (product["name"] if product else None)
            if not given:
                raise StripeError(
                    "Pass price_data[product] or price_data[product_data][name].",
                    param=f"{where}[price_data][product_data][name]",
                )
            name, unit, currency = str(given), data["unit_amount"], data["currency"]
        else:
            raise StripeError(f"Missing required param: {where}[price].", param=f"{where}[price]")
        currencies.add(currency)
        lines.append(
            {"name": name, "unit_amount": unit, "quantity": item.get("quantity", 1), "currency": currency}
        )
    if not lines:
        raise StripeError("Missing required param: line_items.", code="parameter_missing", param="line_items")
    if len(currencies) > 1:
        raise StripeError("All line items must be in the same currency.", param="line_items")
    return currencies.pop(), lines


def create(stripe: Stripe, params: Obj) -> tuple[Obj, list[Obj]]:
    mode = params.get("mode")
    if mode not in ("subscription", "payment"):
        raise StripeError(
            "This emulator supports Checkout in `subscription` and `payment` modes.", param="mode"
        )
    if mode == "payment" and "subscription_data" in params:
        raise StripeError(
            "subscription_data can only be used in `subscription` mode.", param="subscription_data"
        )
    if mode == "subscription" and "payment_intent_data" in params:
        raise StripeError(
            "payment_intent_data can only be used in `payment` mode.", param="payment_intent_data"
        )
    customer_id = params.get("customer")
    if customer_id is not None and customer_id not in stripe.account.customers:
        raise missing("customer", customer_id, param="customer")
    if customer_id and params.get("customer_email"):
        raise StripeError(
            "You may only specify one of these parameters: customer, customer_email.", param="customer_email"
        )
    subscription_data = params.get("subscription_data") or {}
    price: Obj | None = None
    quantity = 1
    lines: list[Obj] = []
    if mode == "payment":
        currency, lines = _payment_lines(stripe, params)
        amount = sum(line["unit_amount"] * line["quantity"] for line in lines)
    else:
        price, quantity = _price_of(stripe, params)
        currency = price["currency"]
        amount = 0 if subscription_data.get("trial_period_days") else price["unit_amount"] * quantity
    coupon_id, promotion_code_id = _discount_of(stripe, params, customer_id)
    off = amount_off(stripe.account.coupons[coupon_id], amount) if coupon_id else 0
    now = stripe.now()
    session_id = new_id("cs_test", 58)
    session = build(
        "checkout.session",
        id=session_id,
        allow_promotion_codes=params.get("allow_promotion_codes"),
        allowed_payment_method_types=params.get("allowed_payment_method_types"),
        amount_subtotal=amount,
        amount_total=amount - off,
        billing_address_collection=params.get("billing_address_collection"),
        cancel_url=params.get("cancel_url"),
        client_reference_id=params.get("client_reference_id"),
        created=now,
        currency=currency,
        customer=customer_id,
        customer_creation=None if customer_id else ("always" if mode == "subscription" else "if_required"),
        customer_email=params.get("customer_email"),
        discounts=[{"coupon": None if promotion_code_id else coupon_id, "promotion_code": promotion_code_id}]
        if coupon_id
        else [],
        expires_at=now + SESSION_LIFETIME_SECONDS,
        locale=params.get("locale"),
        metadata=dict(params.get("metadata") or {}),
        mode=mode,
        payment_method_collection="always" if mode == "subscription" else "if_required",
        success_url=params.get("success_url"),
        total_details={"amount_discount": off, "amount_shipping": 0, "amount_tax": 0},
        url=f"{stripe.base_url}/checkout/{session_id}",
    )
    stripe.account.checkout_terms[session_id] = {
        "price": price["id"] if price else None,
        "lines": lines,
        "payment_intent_data": params.get("payment_intent_data") or {},
        "quantity": quantity,
        "email": params.get("customer_email")
        or (stripe.account.customers[customer_id]["email"] if customer_id else None),
        "subscription_data": subscription_data,
        "coupon": coupon_id,
        "promotion_code": promotion_code_id,
    }
    stripe.account.checkout_sessions[session_id] = session
    return session, []


def enter_code(stripe: Stripe, session: Obj, entered: str) -> None:
    """The shopper types a promotion code on the page (`allow_promotion_codes`): checked, then shown."""
    if not session["allow_promotion_codes"]:
        raise StripeError("This Checkout Session does not accept promotion codes.", param="promotion_code")
    code = next(
        (c for c in stripe.account.promotion_codes.values() if c["code"].lower() == entered.strip().lower()),
        None,
    )
    if code is None:
        raise StripeError(f"This code is invalid: '{entered}'.", param="promotion_code")
    discounts.redeemable(stripe, code["id"], session["customer"], "promotion_code")
    coupon_id = code["promotion"]["coupon"]
    off = amount_off(stripe.account.coupons[coupon_id], session["amount_subtotal"])
    session["discounts"] = [{"coupon": None, "promotion_code": code["id"]}]
    session["amount_total"] = session["amount_subtotal"] - off
    session["total_details"]["amount_discount"] = off
    terms = stripe.account.checkout_terms[session["id"]]
    terms["coupon"], terms["promotion_code"] = coupon_id, code["id"]


def complete(
    stripe: Stripe,
    session_id: str,
    outcome: str,
    promotion_code: str | None = None,
    card: str | None = None,
) -> tuple[Obj, list[Obj]]:
    """The shopper pays on the hosted page (having typed `promotion_code`, if any, and paying with the test
    card number `card`, else the customer's own card): a subscription and its first invoice, a one-time
    payment, or a decline."""
    session = stripe.get("checkout_sessions", "checkout.session", session_id)
    if session["status"] != "open":
        raise StripeError(
            f"This Checkout Session is {session['status']} and can no longer be paid.",
            code="checkout_session_not_open",
        )
    if session["expires_at"] <= stripe.now():
        session["status"] = "expired"
        return session, [stripe.event("checkout.session.expired", session)]
    if promotion_code:
        enter_code(stripe, session, promotion_code)
    if outcome == "card_declined":
        # As on Stripe: the page shows the decline, the session stays open, nothing is created.
        return session, []
    if outcome != "succeeded":
        raise StripeError("outcome must be `succeeded` or `card_declined`.", param="outcome")
    terms = stripe.account.checkout_terms[session_id]
    if session["mode"] == "payment":
        return _complete_payment(stripe, session, terms, card)
    events: list[Obj] = []
    customer_id = session["customer"]
    if customer_id is None:
        customer, created = customers.create(stripe, {"email": terms["email"]})
        customer_id = customer["id"]
        events += created
    customer = stripe.account.customers[customer_id]
    payments.keep_card(stripe, customer_id, card)
    payment_method = new_id("pm")
    customer["invoice_settings"]["default_payment_method"] = payment_method
    subscription_data = terms["subscription_data"]
    if terms["promotion_code"]:
        # Stripe checks the code again when the shopper pays (a first purchase may have happened since).
        discounts.redeemable(stripe, terms["promotion_code"], customer_id, "discounts[0][promotion_code]")
    subscription, started = subscriptions.create(
        stripe,
        customer_id,
        stripe.account.prices[terms["price"]],
        terms["quantity"],
        metadata=dict(subscription_data.get("metadata") or {}),
        trial_days=subscription_data.get("trial_period_days"),
        payment_method=payment_method,
        discount=(terms["coupon"], terms["promotion_code"], session_id) if terms["coupon"] else None,
    )
    events += started
    session.update(
        {
            "customer": customer_id,
            "customer_details": _customer_details(terms["email"] or customer["email"], customer["name"]),
            "invoice": subscription["latest_invoice"],
            "payment_status": "no_payment_required" if session["amount_total"] == 0 else "paid",
            "status": "complete",
            "subscription": subscription["id"],
        }
    )
    events.append(stripe.event("checkout.session.completed", session))
    return session, events


def _customer_details(email: str | None, name: str | None) -> Obj:
    return {
        "address": None,
        "business_name": None,
        "email": email,
        "individual_name": None,
        "name": name,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }


def _complete_payment(stripe: Stripe, session: Obj, terms: Obj, card: str | None) -> tuple[Obj, list[Obj]]:
    """A one-time payment: a PaymentIntent and its Charge, then `checkout.session.completed` (paid)."""
    customer = stripe.account.customers.get(session["customer"] or "")
    email = terms["email"] or (customer["email"] if customer else None)
    if terms["promotion_code"]:
        discounts.redeemable(
            stripe, terms["promotion_code"], session["customer"], "discounts[0][promotion_code]"
        )
        stripe.account.promotion_codes[terms["promotion_code"]]["times_redeemed"] += 1
    if terms["coupon"]:
        stripe.account.coupons[terms["coupon"]]["times_redeemed"] += 1
    intent_data = terms["payment_intent_data"]
    intent, paid = payments.charge(
        stripe,
        session["amount_total"],
        session["currency"],
        customer=session["customer"],
        payment_method=None,
        description=intent_data.get("description"),
        metadata=intent_data.get("metadata"),
        email=email,
        card=(
            payments.keep_card(stripe, session["customer"], card)
            if session["customer"]
            else (payments.card_of_number(card) if card else None)
        ),
    )
    session.update(
        {
            "customer_details": _customer_details(email, customer["name"] if customer else None),
            "payment_intent": intent["id"],
            "payment_status": "paid",
            "status": "complete",
        }
    )
    return session, [
        stripe.event("charge.succeeded", paid),
        stripe.event("payment_intent.succeeded", intent),
        stripe.event("checkout.session.completed", session),
    ]


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
    card = payments.card_number(req.params["card"]) if req.params.get("card") is not None else None
    session, events = complete(req.stripe, req["id"], outcome, req.params.get("promotion_code"), card)
    if outcome == "card_declined":
        error = StripeError(
            "Your card was declined.", status=402, type="card_error", code="card_declined"
        ).body()
        return 402, {**error, "checkout_session": session}, events
    return 200, session, events
