"""Applying Stripe's webhook events to memberships: at most once each, never letting an older state win.

Stripe delivers at least once and in any order, and stamps several events of one subscription
with the same second. So an event's payload is stored only when it is strictly newer than what
is stored; otherwise (a tie, or older) the subscription is read from Stripe and that is stored.
The event id is recorded in the same DynamoDB transaction as its effect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib import clock, log
from chalicelib.domain import membership as rules
from chalicelib.domain.membership import SubscriptionSnapshot
from chalicelib.domain.times import from_epoch
from chalicelib.payments import subscriptions as stripe_subscriptions
from chalicelib.services import donations, members
from chalicelib.store import idempotency
from chalicelib.store import members as store
from chalicelib.store.base import translate_storage_errors
from chalicelib.store.members import EventAlreadyAppliedError, MemberState

logger = log.get_logger("stripe_events")

Event = dict[str, Any]


def apply_stripe_event(event: Event) -> str:
    """Apply one verified event. Returns what happened: applied, duplicate, ignored or unknown_customer.

    Raises only for transient failures (DynamoDB or Stripe unreachable), so Stripe retries.
    """
    event_type = str(event["type"])
    log.bind(stripe_event_id=event["id"], stripe_event_type=event_type)
    handler = HANDLERS.get(event_type)
    if handler is None:
        return "ignored"
    key = idempotency.stripe_event_key(str(event["id"]))
    with translate_storage_errors():
        if store.is_event_applied(key):
            return "duplicate"
    obj = _object(event)
    customer_ref = _customer_ref(obj)
    if customer_ref is None:
        logger.info("event for a customer we do not know", extra={"stripe_customer": obj.get("customer")})
        return "unknown_customer"
    log.bind(customer_ref=customer_ref)
    try:
        stored = handler(event, customer_ref, key)
    except EventAlreadyAppliedError:
        return "duplicate"
    if stored is None:
        return "unknown_customer"
    logger.info("stripe event applied")
    return "applied"


def _customer_ref(obj: dict[str, Any]) -> str | None:
    """Our shopper: from the metadata we set at checkout, else by the Stripe customer id."""
    parent = obj.get("parent") or {}
    metadata_sources = [
        obj.get("metadata") or {},
        (parent.get("subscription_details") or {}).get("metadata") or {},
    ]
    for metadata in metadata_sources:
        if metadata.get("customer_ref"):
            return str(metadata["customer_ref"])
    if obj.get("object") == "checkout.session" and obj.get("client_reference_id"):
        return str(obj["client_reference_id"])
    customer = obj.get("customer")
    if isinstance(customer, str):
        with translate_storage_errors():
            return store.find_by_stripe_customer(customer)
    return None


def _payload_or_fresh(
    subscription_id: str, payload: SubscriptionSnapshot | None
) -> Callable[[MemberState], list[SubscriptionSnapshot]]:
    """The event's state when it is newer than the stored one, else the subscription as Stripe has it now."""

    def incoming(state: MemberState) -> list[SubscriptionSnapshot]:
        stored = rules.find_snapshot(state.subscriptions, subscription_id)
        if payload is not None and rules.supersedes(payload, stored):
            return [payload]
        return [stripe_subscriptions.retrieve_subscription(subscription_id, members.observed_now())]

    return incoming


def _subscription_changed(event: Event, customer_ref: str, key: str) -> MemberState | None:
    obj = _object(event)
    payload = stripe_subscriptions.to_snapshot(obj, int(event["created"]))
    return members.apply_snapshots(
        customer_ref,
        _payload_or_fresh(payload.subscription_id, payload),
        clock.now(),
        event_key=key,
        stripe_customer_id=_string(obj.get("customer")),
    )


def _checkout_completed(event: Event, customer_ref: str, key: str) -> MemberState | None:
    obj = _object(event)
    """Link the session's subscription to the shopper (read from Stripe: the session holds only its id)."""
    subscription_id = _string(obj.get("subscription"))
    return members.apply_snapshots(
        customer_ref,
        _payload_or_fresh(subscription_id, None) if subscription_id else lambda _: [],
        clock.now(),
        event_key=key,
        stripe_customer_id=_string(obj.get("customer")),
    )


def _invoice_changed(event: Event, customer_ref: str, key: str) -> MemberState | None:
    obj = _object(event)
    """A paid or failed invoice moves its subscription: store the subscription as Stripe has it now."""
    subscription_id = _invoice_subscription(obj)
    if subscription_id is None:
        return members.apply_snapshots(customer_ref, lambda _: [], clock.now(), event_key=key)
    return members.apply_snapshots(
        customer_ref, _payload_or_fresh(subscription_id, None), clock.now(), event_key=key
    )


def _invoice_paid(event: Event, customer_ref: str, key: str) -> MemberState | None:
    obj = _object(event)
    """Pledge the fee's donation (idempotent per invoice, so first), then update the membership."""
    subscription_id = _invoice_subscription(obj)
    amount = int(obj.get("amount_paid") or 0)
    if subscription_id is not None and amount > 0:
        snapshot = stripe_subscriptions.retrieve_subscription(subscription_id, members.observed_now())
        paid_at = (obj.get("status_transitions") or {}).get("paid_at") or event["created"]
        donations.pledge_membership_fee(
            str(obj["id"]), customer_ref, snapshot.plan_id, amount, str(obj["currency"]), from_epoch(paid_at)
        )
    return _invoice_changed(event, customer_ref, key)


def _object(event: Event) -> dict[str, Any]:
    obj: dict[str, Any] = event["data"]["object"]
    return obj


def _invoice_subscription(invoice: dict[str, Any]) -> str | None:
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return _string(details.get("subscription"))


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


Handler = Callable[[Event, str, str], MemberState | None]

HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _checkout_completed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "customer.subscription.paused": _subscription_changed,
    "customer.subscription.resumed": _subscription_changed,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_changed,
}
