"""Payments: the PaymentIntent and Charge behind a paid invoice or a one-time Checkout, and what later
happens to a charge: refunds (`charge.refunded`) and disputes (`charge.dispute.created`), through
`POST /_emulator/invoices/{id}/refund` and `.../dispute` (a paid invoice's charge); `GET /v1/charges/{id}`,
`GET /v1/charges` (`customer`, `payment_intent`), `/v1/payment_intents/{id}`, `/v1/refunds/{id}` and
`/v1/disputes/{id}` read them.

Cards: every customer pays with a card of their own (a Visa number derived from the customer id), unless
the shopper typed a test card number at Checkout (`card` on the control endpoint); the customer keeps that
card for their later invoices. A card's `fingerprint`, `last4`, brand and expiry all follow from its
number, so one number paid by two customers shows the same fingerprint, as on Stripe.
"""

from __future__ import annotations

import hashlib

from localdev.stripe_emulator import params as p
from localdev.stripe_emulator.account import Stripe
from localdev.stripe_emulator.errors import Obj, StripeError
from localdev.stripe_emulator.objects import build, new_id
from localdev.stripe_emulator.routing import Request, Result, Routes, one, page

DISPUTE_REASONS = ("fraudulent", "product_not_received", "subscription_canceled", "duplicate", "general")
# Card brands by the number's first digits, as Stripe names them (first match wins).
_BRANDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("34", "37"), "amex"),
    (("300", "301", "302", "303", "304", "305", "36", "38"), "diners"),
    (("6011", "644", "645", "646", "647", "648", "649", "65"), "discover"),
    (("35",), "jcb"),
    (tuple(str(n) for n in [*range(51, 56), *range(2221, 2721)]), "mastercard"),
    (("62",), "unionpay"),
    (("4",), "visa"),
)


def luhn_valid(number: str) -> bool:
    """The card number's check digit is right (every real and test card number passes)."""
    total = 0
    for index, digit in enumerate(reversed(number)):
        value = int(digit) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def card_number(value: object, param: str = "card") -> str:
    """A test card number as the shopper typed it (digits, spaces or dashes allowed), or Stripe's 400."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    number = value.replace(" ", "").replace("-", "") if isinstance(value, str) else ""
    if not (number.isdigit() and 12 <= len(number) <= 19 and luhn_valid(number)):
        raise StripeError(
            f"{param} must be a card number: 12 to 19 digits passing the Luhn check (e.g. 4242424242424242).",
            param=param,
            code="parameter_invalid",
        )
    return number


def card_of_number(number: str) -> Obj:
    """The card a number stands for: brand, last4, a plausible expiry and a fingerprint, all from the number
    (Stripe's fingerprint identifies the card number, whoever pays with it)."""
    digest = hashlib.sha256(f"card:{number}".encode()).hexdigest()
    return {
        "brand": next((name for prefixes, name in _BRANDS if number.startswith(prefixes)), "unknown"),
        "country": "US",
        "exp_month": 1 + int(digest[16:20], 16) % 12,
        "exp_year": 2030 + int(digest[20:24], 16) % 6,
        "fingerprint": digest[:16],
        "funding": "credit",
        "last4": number[-4:],
    }


def own_card_number(owner: str) -> str:
    """The Visa number a customer (or a guest's payment) pays with unless they typed one: one per owner."""
    digits = str(int(hashlib.sha256(f"own-card:{owner}".encode()).hexdigest(), 16))[:14]
    body = "4" + digits
    check = next(d for d in "0123456789" if luhn_valid(body + d))
    return body + check


def keep_card(stripe: Stripe, customer: str, number: str | None) -> Obj:
    """The card `customer` pays with from now on: `number` if the shopper typed one, else the card they
    already have, else their own."""
    cards = stripe.account.customer_cards
    if number is not None:
        cards[customer] = card_of_number(number)
    elif customer not in cards:
        cards[customer] = card_of_number(own_card_number(customer))
    return cards[customer]


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
    card: Obj | None = None,
) -> tuple[Obj, Obj]:
    """`card` is charged `amount` (by default the customer's card, or a guest's own): a succeeded
    PaymentIntent and its Charge (callers emit events)."""
    now = stripe.now()
    payment_method = payment_method or new_id("pm")
    intent_id, charge_id = new_id("pi"), new_id("ch")
    if card is None:
        card = keep_card(stripe, customer, None) if customer else card_of_number(own_card_number(intent_id))
    card = {
        **card,
        "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
        "network": card["brand"] if card["brand"] != "unknown" else None,
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


def record_invoice_payment(stripe: Stripe, invoice: Obj, intent: Obj) -> Obj:
    """The InvoicePayment that says which PaymentIntent paid `invoice` (endive's invoices name no charge:
    `GET /v1/invoice_payments?invoice=` is the way from an invoice to its payment)."""
    now = stripe.now()
    payment = build(
        "invoice_payment",
        id=new_id("inpay"),
        amount_paid=intent["amount_received"],
        amount_requested=invoice["amount_due"],
        created=now,
        currency=invoice["currency"],
        invoice=invoice["id"],
        is_default=True,
        payment={"type": "payment_intent", "payment_intent": intent["id"]},
        status="paid",
        status_transitions={"canceled_at": None, "paid_at": now},
    )
    stripe.account.invoice_payments[payment["id"]] = payment
    return payment


def charge_of_invoice(stripe: Stripe, invoice_id: str) -> Obj:
    invoice = stripe.get("invoices", "invoice", invoice_id)
    intents = [
        payment["payment"]["payment_intent"]
        for payment in stripe.account.invoice_payments.values()
        if payment["invoice"] == invoice_id and payment["status"] == "paid"
    ]
    if invoice["status"] != "paid" or not intents:
        raise StripeError(f"Invoice {invoice_id} has no charge to refund or dispute ({invoice['status']}).")
    return stripe.account.charges[stripe.account.payment_intents[intents[-1]]["latest_charge"]]


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
                "brand": paid["payment_method_details"]["card"]["brand"],
                "case_type": "chargeback",
                "network": paid["payment_method_details"]["card"]["network"],
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


CHARGE_LIST: p.Spec = {**p.LIST, "customer": p.string, "payment_intent": p.string}
INVOICE_PAYMENT_LIST: p.Spec = {
    **p.LIST,
    "invoice": p.string,
    "status": p.one_of("canceled", "open", "paid"),
    "payment": {"type": p.one_of("payment_intent"), "payment_intent": p.string},
}


@ROUTES.add("GET", "/v1/charges")
def _list_charges(req: Request) -> Result:
    params = req.params = p.parse(req.params, CHARGE_LIST)
    found = [
        c
        for c in req.stripe.account.charges.values()
        if params.get("customer") in (None, c["customer"])
        and params.get("payment_intent") in (None, c["payment_intent"])
    ]
    return page(req, found, "/v1/charges")


@ROUTES.add("GET", "/v1/invoice_payments")
def _list_invoice_payments(req: Request) -> Result:
    params = req.params = p.parse(req.params, INVOICE_PAYMENT_LIST)
    wanted = params.get("payment") or {}
    found = [
        ip
        for ip in req.stripe.account.invoice_payments.values()
        if params.get("invoice") in (None, ip["invoice"])
        and params.get("status") in (None, ip["status"])
        and wanted.get("type") in (None, ip["payment"]["type"])
        and wanted.get("payment_intent") in (None, ip["payment"].get("payment_intent"))
    ]
    return page(req, found, "/v1/invoice_payments")


@ROUTES.add("GET", "/v1/invoice_payments/{id}")
def _get_invoice_payment(req: Request) -> Result:
    p.parse(req.params, p.EXPAND)
    return one(req.stripe.get("invoice_payments", "invoice_payment", req["id"]))


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
