"""Referral codes in Stripe: a brand coupon per offer, a promotion code per member (first-time customers
only), the referrer's credit as a customer balance transaction, and the charges refunds and disputes name."""

from __future__ import annotations

from dataclasses import dataclass

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
