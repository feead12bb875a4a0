"""Referral codes in Stripe: a brand coupon per offer, a promotion code per member (first-time customers
only), the referrer's credit as a customer balance transaction, the charges refunds and disputes name, and
the cards behind a friend's first payment and a referrer's charges (the self-referral rule)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.payments.client import as_dict, stripe_client, translate_stripe_errors

# Marks the promotion codes this service issued (only those are referral codes).
REFERRAL_KIND = "vip_referral"


@dataclass(frozen=True, slots=True)
class ReferralCode:
    promotion_code_id: str
    code: str
    referrer_ref: str
    active: bool


def coupon_id(friend_free_months: int) -> str:
    return f"vip-referral-{friend_free_months}m"


def ensure_coupon(friend_free_months: int) -> str:
    """The brand coupon behind referral codes: 100 % off the friend's first `friend_free_months` invoices."""
    import stripe

    client = stripe_client()
    coupon = coupon_id(friend_free_months)
    with translate_stripe_errors("read the referral coupon"):
        try:
            client.v1.coupons.retrieve(coupon)
            return coupon
        except stripe.InvalidRequestError as exc:
            if exc.code != "resource_missing":
                raise
    with translate_stripe_errors("create the referral coupon"):
        client.v1.coupons.create(
            params={
                "id": coupon,
                "percent_off": 100,
                "duration": "repeating",
                "duration_in_months": friend_free_months,
                "name": f"Referral: {friend_free_months} month(s) free",
                "metadata": {"kind": REFERRAL_KIND},
            },
            options={"idempotency_key": f"vip-coupon-{coupon}"},
        )
    return coupon


def create_code(customer_ref: str, code: str, coupon: str) -> ReferralCode:
    """The member's promotion code (restricted to first-time customers); a retry returns the same one."""
    client = stripe_client()
    with translate_stripe_errors("create the referral code"):
        promotion = client.v1.promotion_codes.create(
            params={
                "promotion": {"type": "coupon", "coupon": coupon},
                "code": code,
                "restrictions": {"first_time_transaction": True},
                "metadata": {"kind": REFERRAL_KIND, "customer_ref": customer_ref},
            },
            options={"idempotency_key": f"vip-referral-code-{customer_ref}"},
        )
    return ReferralCode(str(promotion.id), str(promotion.code), customer_ref, bool(promotion.active))


def find_code(code: str) -> ReferralCode | None:
    """An active referral code this service issued, or None (codes are matched without regard to case)."""
    client = stripe_client()
    with translate_stripe_errors("look up the referral code"):
        page = client.v1.promotion_codes.list(
            params={"code": code.strip().upper(), "active": True, "limit": 1}
        )
    for promotion in page.data:
        metadata: dict[str, str] = as_dict(promotion).get("metadata") or {}
        if metadata.get("kind") == REFERRAL_KIND and metadata.get("customer_ref"):
            return ReferralCode(str(promotion.id), str(promotion.code), metadata["customer_ref"], True)
    return None


def credit_balance(
    stripe_customer_id: str, amount: int, currency: str, *, idempotency_key: str, description: str
) -> str:
    """A credit on the customer's balance, which Stripe applies to their next invoice; a retry with the same
    key credits nothing more."""
    return move_balance(
        stripe_customer_id, -amount, currency, idempotency_key=idempotency_key, description=description
    )


def move_balance(
    stripe_customer_id: str, amount: int, currency: str, *, idempotency_key: str, description: str
) -> str:
    """A customer balance transaction: negative credits the customer (taken off their next invoice),
    positive debits them (added to it); a retry with the same key moves nothing more."""
    client = stripe_client()
    with translate_stripe_errors("move the customer's balance"):
        transaction = client.v1.customers.balance_transactions.create(
            stripe_customer_id,
            params={"amount": amount, "currency": currency, "description": description},
            options={"idempotency_key": idempotency_key},
        )
    return str(transaction.id)


def customer_of_charge(charge_id: str) -> str | None:
    """The Stripe customer a charge was made to (a dispute names only the charge)."""
    client = stripe_client()
    with translate_stripe_errors("read the disputed charge"):
        charge = client.v1.charges.retrieve(charge_id)
    return str(charge.customer) if charge.customer else None


@dataclass(frozen=True, slots=True)
class InvoiceCharges:
    """What Stripe shows now of the charges that paid an invoice: the fingerprints of their cards, and
    whether any of them was refunded (any amount) or disputed."""

    card_fingerprints: frozenset[str]
    refunded: bool
    disputed: bool


def charges_of_invoice(invoice_id: str) -> InvoiceCharges:
    """The charges that paid `invoice_id` (invoices of the pinned API name none: the invoice's payments,
    then the charges of each PaymentIntent; two calls for the usual one payment). Nothing found for an
    invoice paid without a charge."""
    client = stripe_client()
    charges: list[dict[str, Any]] = []
    with translate_stripe_errors("read the invoice's payment"):
        payments = client.v1.invoice_payments.list(params={"invoice": invoice_id, "status": "paid"})
        for payment in payments.data:
            paid_by = as_dict(payment)["payment"]
            if paid_by.get("type") == "payment_intent" and paid_by.get("payment_intent"):
                found = client.v1.charges.list(
                    params={"payment_intent": _id_of(paid_by["payment_intent"]), "limit": 10}
                )
                charges += [as_dict(charge) for charge in found.data]
            elif paid_by.get("type") == "charge" and paid_by.get("charge"):
                charges.append(as_dict(client.v1.charges.retrieve(_id_of(paid_by["charge"]))))
    succeeded = [charge for charge in charges if charge.get("status") == "succeeded"]
    return InvoiceCharges(
        card_fingerprints=frozenset(filter(None, map(_fingerprint, succeeded))),
        refunded=any((charge.get("amount_refunded") or 0) > 0 for charge in succeeded),
        disputed=any(bool(charge.get("disputed")) for charge in succeeded),
    )


def card_fingerprints_of(stripe_customer_id: str) -> frozenset[str]:
    """The fingerprints of the cards a customer's charges were made to (their latest 100; one call). A
    declined attempt counts: the card is still theirs."""
    client = stripe_client()
    with translate_stripe_errors("read the customer's charges"):
        page = client.v1.charges.list(params={"customer": stripe_customer_id, "limit": 100})
    return frozenset(filter(None, (_fingerprint(as_dict(charge)) for charge in page.data)))


def _fingerprint(charge: dict[str, Any]) -> str | None:
    card = (charge.get("payment_method_details") or {}).get("card") or {}
    fingerprint = card.get("fingerprint")
    return str(fingerprint) if fingerprint else None


def _id_of(field: Any) -> str:
    """An expandable field's id, expanded or not."""
    return str(field["id"] if isinstance(field, dict) else field)
