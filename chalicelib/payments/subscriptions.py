"""Stripe customers, Checkout, the Customer Portal and subscriptions of VIP members."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from chalicelib.domain.member import PaidInvoice
from chalicelib.domain.membership import SubscriptionSnapshot
from chalicelib.domain.times import from_epoch
from chalicelib.payments.client import as_dict, stripe_client, translate_stripe_errors
from chalicelib.payments.events import Invoice, snapshot_of, subscription_from_api

if TYPE_CHECKING:  # stripe.params is typing only: the package leaves it out (infra/package.py)
    from stripe.params import SubscriptionUpdateParams


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    customer_ref: str
    stripe_customer_id: str
    price_id: str
    plan_id: str
    trial_days: int
    success_url: str
    cancel_url: str
    cause_id: str | None


def ensure_customer(customer_ref: str, email: str) -> str:
    """The shopper's Stripe customer, created once: the idempotency key makes concurrent or retried
    creations return the same customer (Stripe remembers keys for 24 h; after that the id is stored)."""
    client = stripe_client()
    with translate_stripe_errors("create the Stripe customer"):
        customer = client.v1.customers.create(
            params={"email": email, "metadata": {"customer_ref": customer_ref}},
            options={"idempotency_key": f"vip-customer-{customer_ref}"},
        )
    return str(customer.id)


def create_checkout_session(request: CheckoutRequest) -> tuple[str, str]:
    """A Checkout Session in subscription mode → (session id, hosted page URL)."""
    metadata = {"customer_ref": request.customer_ref, "plan_id": request.plan_id}
    subscription_data: dict[str, Any] = {"metadata": metadata}
    if request.trial_days:
        subscription_data["trial_period_days"] = request.trial_days
    client = stripe_client()
    with translate_stripe_errors("create the Checkout Session"):
        session = client.v1.checkout.sessions.create(
            params={  # type: ignore[arg-type]
                "mode": "subscription",
                "customer": request.stripe_customer_id,
                "client_reference_id": request.customer_ref,
                "metadata": metadata,
                "subscription_data": subscription_data,
                "line_items": [{"price": request.price_id, "quantity": 1}],
                "allow_promotion_codes": True,
                "success_url": request.success_url,
                "cancel_url": request.cancel_url,
            }
        )
    return str(session.id), str(session.url)


def create_portal_session(stripe_customer_id: str, return_url: str) -> str:
    """A Customer Portal session → its URL."""
    client = stripe_client()
    with translate_stripe_errors("open the Customer Portal"):
        session = client.v1.billing_portal.sessions.create(
            params={"customer": stripe_customer_id, "return_url": return_url}
        )
    return str(session.url)


def retrieve_subscription(subscription_id: str, observed_at: float) -> SubscriptionSnapshot:
    client = stripe_client()
    with translate_stripe_errors("read the subscription"):
        subscription = client.v1.subscriptions.retrieve(subscription_id)
    return to_snapshot(as_dict(subscription), observed_at)


def list_subscriptions(stripe_customer_id: str, observed_at: float) -> list[SubscriptionSnapshot]:
    """Every subscription the customer has had, canceled ones included."""
    client = stripe_client()
    with translate_stripe_errors("list the shopper's subscriptions"):
        page = client.v1.subscriptions.list(
            params={"customer": stripe_customer_id, "status": "all", "limit": 100}
        )
        return [to_snapshot(as_dict(s), observed_at) for s in page.auto_paging_iter()]


def set_cancel_at_period_end(subscription_id: str, cancel: bool, observed_at: float) -> SubscriptionSnapshot:
    client = stripe_client()
    action = "schedule the cancellation" if cancel else "resume the subscription"
    with translate_stripe_errors(action):
        subscription = client.v1.subscriptions.update(
            subscription_id, params={"cancel_at_period_end": cancel}
        )
    return to_snapshot(as_dict(subscription), observed_at)


def cancel_now(subscription_id: str, observed_at: float) -> SubscriptionSnapshot:
    client = stripe_client()
    with translate_stripe_errors("cancel the subscription"):
        subscription = client.v1.subscriptions.cancel(subscription_id)
    return to_snapshot(as_dict(subscription), observed_at)


def pause_collection(
    subscription_id: str, resumes_at: int | None, observed_at: float
) -> SubscriptionSnapshot:
    """Pause collection (the subscription stays `active`, its invoices are voided) until `resumes_at`
    (Unix seconds: Stripe lifts the pause then) or until unpaused."""
    params: SubscriptionUpdateParams = {"pause_collection": {"behavior": "void"}}
    if resumes_at is not None:
        params = {"pause_collection": {"behavior": "void", "resumes_at": resumes_at}}
    client = stripe_client()
    with translate_stripe_errors("pause the subscription"):
        subscription = client.v1.subscriptions.update(subscription_id, params=params)
    return to_snapshot(as_dict(subscription), observed_at)


def unpause_collection(subscription_id: str, observed_at: float) -> SubscriptionSnapshot:
    """Clear `pause_collection` (Stripe reads an empty value as "unset")."""
    client = stripe_client()
    with translate_stripe_errors("unpause the subscription"):
        subscription = client.v1.subscriptions.update(subscription_id, params={"pause_collection": ""})
    return to_snapshot(as_dict(subscription), observed_at)


def resume_paused(subscription_id: str, observed_at: float) -> SubscriptionSnapshot:
    """Resume a subscription in Stripe's own `paused` status (Stripe's default: a new period starts now)."""
    client = stripe_client()
    with translate_stripe_errors("resume the paused subscription"):
        subscription = client.v1.subscriptions.resume(subscription_id)
    return to_snapshot(as_dict(subscription), observed_at)


def switch_price(
    subscription_id: str, item_id: str, price_id: str, plan_id: str, observed_at: float
) -> SubscriptionSnapshot:
    """Move the subscription to another plan's Price, prorating the rest of the period."""
    client = stripe_client()
    with translate_stripe_errors("switch the plan"):
        subscription = client.v1.subscriptions.update(
            subscription_id,
            params={
                "items": [{"id": item_id, "price": price_id}],
                "proration_behavior": "create_prorations",
                "metadata": {"plan_id": plan_id},
            },
        )
    return to_snapshot(as_dict(subscription), observed_at)


def first_item_id(subscription_id: str) -> str:
    client = stripe_client()
    with translate_stripe_errors("read the subscription"):
        subscription = client.v1.subscriptions.retrieve(subscription_id)
    return str(subscription["items"].data[0].id)


def to_snapshot(subscription: dict[str, Any], observed_at: float) -> SubscriptionSnapshot:
    """A Stripe subscription read from the API (periods live on its items) as what we store."""
    return snapshot_of(subscription_from_api(subscription), observed_at)


# One page of a subscription's most recent paid invoices: two years of a monthly plan.
PAID_INVOICES_PAGE = 24


def recent_paid_invoices(subscription_id: str) -> list[PaidInvoice]:
    """The subscription's most recent paid invoices (one page, newest first)."""
    client = stripe_client()
    with translate_stripe_errors("list the subscription's paid invoices"):
        page = client.v1.invoices.list(
            params={"subscription": subscription_id, "status": "paid", "limit": PAID_INVOICES_PAGE}
        )
        invoices = [msgspec.convert(as_dict(i), Invoice) for i in page.data]
    return [
        PaidInvoice(
            invoice_id=i.id,
            subscription_id=subscription_id,
            amount_paid=i.amount_paid,
            currency=i.currency,
            paid_at=from_epoch(i.status_transitions.paid_at or i.created),
        )
        for i in invoices
    ]
