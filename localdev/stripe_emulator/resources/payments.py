"""Payments: the PaymentIntent and Charge behind a paid invoice or a one-time Checkout, and what later
happens to a charge: refunds (`charge.refunded`) and disputes (`charge.dispute.created`), through
`POST /_emulator/invoices/{id}/refund` and `.../dispute` (a paid invoice's charge); `GET /v1/charges/{id}`,
`/v1/payment_intents/{id}`, `/v1/refunds/{id}` and `/v1/disputes/{id}` read them.

There is one test card (Visa 4242, `payment_method_details.card.fingerprint` always the same), so the same
shopper paying twice shows the same fingerprint, as Stripe does for one card.
"""

from __future__ import annotations

import hashlib

from localdev.stripe_emulator import params as p
from localdev.stripe_emulator.account import Stripe
from localdev.stripe_emulator.errors import Obj, StripeError
from localdev.stripe_emulator.objects import build, new_id
from localdev.stripe_emulator.routing import Request, Result, Routes, one

TEST_CARD = {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2034, "country": "US"}
DISPUTE_REASONS = ("fraudulent", "product_not_received", "subscription_canceled", "duplicate", "general")


def fingerprint(card: Obj) -> str:
    """A stable fake of Stripe's card fingerprint: the same card always gives the same one."""
    digest = hashlib.sha256(
        f"{card['brand']}:{card['last4']}:{card['exp_month']}/{card['exp_year']}".encode()
    )
    return digest.hexdigest()[:16]


def charge(
    stripe: Stripe,
    amount: int,
    currency: str,
    *,
    customer: str | None,
    payment_method: str | None,
    description: str | None = None,
    metadata: Obj | None = None,
    email: str | None = None,
) -> tuple[Obj, Obj]:
    """The test card is charged `amount`: a succeeded PaymentIntent and its Charge (callers emit events)."""
    now = stripe.now()
    payment_method = payment_method or new_id("pm")
    intent_id, charge_id = new_id("pi"), new_id("ch")
    card = {
        **TEST_CARD,
        "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
        "fingerprint": fingerprint(TEST_CARD),
        "funding": "credit",
        "network": "visa",
    }
    paid = build(
        "charge",
        id=charge_id,
        amount=amount,
        amount_captured=amount,
        billing_details=build_billing(email),
        created=now,
        currency=currency,
        customer=customer,
        description=description,
        metadata=dict(metadata or {}),
        payment_intent=intent_id,
        payment_method=payment_method,
        payment_method_details={"card": card, "type": "card"},
        receipt_url=f"{stripe.base_url}/receipts/{charge_id}",
        refunds={"object": "list", "data": [], "has_more": False, "url": f"/v1/charges/{charge_id}/refunds"},
    )
    intent = build(
        "payment_intent",
        id=intent_id,
        amount=amount,
        amount_received=amount,
        client_secret=f"{intent_id}_secret_{new_id('', 24)[1:]}",
        created=now,
        currency=currency,
        customer=customer,
        description=description,
        latest_charge=charge_id,
        metadata=dict(metadata or {}),
        payment_method=payment_method,
    )
    stripe.account.charges[charge_id] = paid
    stripe.account.payment_intents[intent_id] = intent
    return intent, paid


def build_billing(email: str | None) -> Obj:
    address = dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"))
    return {"address": address, "email": email, "name": None, "phone": None, "tax_id": None}


def charge_of_invoice(stripe: Stripe, invoice_id: str) -> Obj:
    invoice = stripe.get("invoices", "invoice", invoice_id)
    charge_id = stripe.account.invoice_charges.get(invoice_id)
    if invoice["status"] != "paid" or charge_id is None:
        raise StripeError(f"Invoice {invoice_id} has no charge to refund or dispute ({invoice['status']}).")
    return stripe.account.charges[charge_id]


def refund(stripe: Stripe, paid: Obj, amount: int | None, reason: str | None) -> tuple[Obj, list[Obj]]:
    """Refund `amount` (the rest by default) of a charge: the Refund and `charge.refunded`."""
    left = paid["amount"] - paid["amount_refunded"]
    amount = left if amount is None else amount
    if not 0 < amount <= left:
        raise StripeError(
            f"Refund amount must be between 1 and {left}.", param="amount", code="parameter_invalid"
        )
    refunded = build(
        "refund",
        id=new_id("re"),
        amount=amount,
        charge=paid["id"],
        created=stripe.now(),
        currency=paid["currency"],
        customer=paid["customer"],
        payment_intent=paid["payment_intent"],
        payment_method=paid["payment_method"],
        reason=reason,
    )
    stripe.account.refunds[refunded["id"]] = refunded
    previous = {"amount_refunded": paid["amount_refunded"], "refunded": paid["refunded"]}
    paid["amount_refunded"] += amount
    paid["refunded"] = paid["amount_refunded"] == paid["amount"]
    paid["refunds"]["data"].insert(0, refunded)
    return refunded, [stripe.event("charge.refunded", paid, previous)]


def dispute(stripe: Stripe, paid: Obj, reason: str) -> tuple[Obj, list[Obj]]:
    """The cardholder disputes the whole charge: the Dispute and `charge.dispute.created`."""
    if reason not in DISPUTE_REASONS:
        raise StripeError(f"reason must be one of {', '.join(DISPUTE_REASONS)}.", param="reason")
    if paid["disputed"]:
        raise StripeError(f"Charge {paid['id']} is already disputed.")
    now = stripe.now()
    disputed = build(
        "dispute",
        id=new_id("dp"),
        amount=paid["amount"] - paid["amount_refunded"],
        charge=paid["id"],
        created=now,
        currency=paid["currency"],
        evidence_details={
            "due_by": now + 7 * 86_400,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
            "submission_method": "not_submitted",
        },
        payment_intent=paid["payment_intent"],
        payment_method_details={
            "card": {
                "brand": "visa",
                "case_type": "chargeback",
                "network": "visa",
                "network_reason_code": "10.4",
            },
            "type": "card",
        },
        reason=reason,
    )
    stripe.account.disputes[disputed["id"]] = disputed
    paid["disputed"] = True
    return disputed, [stripe.event("charge.dispute.created", disputed)]


ROUTES = Routes()


@ROUTES.add("GET", "/v1/charges/{id}")
def _get_charge(req: Request) -> Result:
    p.parse(req.params, p.EXPAND)
    return one(req.stripe.get("charges", "charge", req["id"]))


@ROUTES.add("GET", "/v1/payment_intents/{id}")
def _get_payment_intent(req: Request) -> Result:
    p.parse(req.params, p.EXPAND)
    return one(req.stripe.get("payment_intents", "payment_intent", req["id"]))


@ROUTES.add("GET", "/v1/refunds/{id}")
def _get_refund(req: Request) -> Result:
    p.parse(req.params, p.EXPAND)
    return one(req.stripe.get("refunds", "refund", req["id"]))


@ROUTES.add("GET", "/v1/disputes/{id}")
def _get_dispute(req: Request) -> Result:
    p.parse(req.params, p.EXPAND)
    return one(req.stripe.get("disputes", "dispute", req["id"]))


@ROUTES.add("POST", "/_emulator/invoices/{id}/refund")
def _refund_invoice(req: Request) -> Result:
    """The brand refunds a paid invoice (`{"amount": ..., "reason": ...}`, both optional)."""
    paid = charge_of_invoice(req.stripe, req["id"])
    reason = req.params.get("reason", "requested_by_customer")
    if reason not in ("duplicate", "fraudulent", "requested_by_customer"):
        raise StripeError("reason must be duplicate, fraudulent or requested_by_customer.", param="reason")
    refunded, events = refund(req.stripe, paid, req.params.get("amount"), reason)
    return 200, refunded, events


@ROUTES.add("POST", "/_emulator/invoices/{id}/dispute")
def _dispute_invoice(req: Request) -> Result:
    """The shopper's bank disputes a paid invoice's charge (`{"reason": "fraudulent"}` by default)."""
    paid = charge_of_invoice(req.stripe, req["id"])
    return 200, *dispute(req.stripe, paid, req.params.get("reason", "fraudulent"))
