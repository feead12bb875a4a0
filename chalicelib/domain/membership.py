"""Membership state and the perks rule: when does a shopper have perks?

This is the only place the rule lives; `GET /v1/members/...`, eligibility and orders all call
`perks_active` / `access_until` with the clock passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

from chalicelib.domain.times import from_epoch

ACCESS_STATUSES = frozenset({"trialing", "active"})
STRIPE_STATUSES = frozenset(
    {"incomplete", "incomplete_expired", "trialing", "active", "past_due", "unpaid", "canceled", "paused"}
)
# A subscription in one of these states can change no more: Stripe never revives it.
TERMINAL_STATUSES = frozenset({"canceled", "incomplete_expired"})


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """How long perks outlive what Stripe has confirmed."""

    renewal_leeway: timedelta = timedelta(hours=48)
    grace: timedelta = timedelta(days=3)


class SubscriptionSnapshot(msgspec.Struct, kw_only=True):
    """What the service knows about one Stripe subscription. Times are Unix seconds (Stripe's clock)."""

    subscription_id: str
    status: str
    price_id: str | None = None
    plan_id: str | None = None
    current_period_start: int | None = None
    current_period_end: int | None = None
    cancel_at_period_end: bool = False
    # When the subscription was first seen past_due in its current dunning run; the grace clock.
    past_due_since: int | None = None
    created: int = 0
    canceled_at: int | None = None
    ended_at: int | None = None
    # Stripe time of the state this snapshot describes (event `created`, or the read time for
    # states read from the API); used to refuse older states.
    observed_at: int = 0


def grace_until(snapshot: SubscriptionSnapshot, policy: AccessPolicy) -> datetime | None:
    """End of the past-due grace period, or None when the subscription is not past due."""
    if snapshot.status != "past_due" or snapshot.past_due_since is None:
        return None
    return from_epoch(snapshot.past_due_since) + policy.grace


def access_until(snapshot: SubscriptionSnapshot, policy: AccessPolicy) -> datetime | None:
    """The moment perks end unless Stripe tells us something new; None when they never started.

    trialing/active: the period end plus the renewal leeway (perks never outlive a period Stripe
    has not renewed, even if a webhook is lost); past_due: the end of grace; anything else: none.
    """
    if snapshot.status in ACCESS_STATUSES:
        if snapshot.current_period_end is None:
            return None
        return from_epoch(snapshot.current_period_end) + policy.renewal_leeway
    return grace_until(snapshot, policy)


def perks_active(snapshot: SubscriptionSnapshot | None, now: datetime, policy: AccessPolicy) -> bool:
    """True exactly when the subscription grants perks at `now`."""
    if snapshot is None:
        return False
    until = access_until(snapshot, policy)
    return until is not None and now < until


def governing_subscription(
    snapshots: Iterable[SubscriptionSnapshot], now: datetime, policy: AccessPolicy
) -> SubscriptionSnapshot | None:
    """The subscription a membership follows: the one that grants the most access.

    Among subscriptions with perks active now, the one whose access lasts longest; when none has
    perks, the most recently created (so a lapsed shopper sees the status of their latest try).
    """
    candidates = list(snapshots)
    if not candidates:
        return None
    active = [s for s in candidates if perks_active(s, now, policy)]
    if active:
        return max(active, key=lambda s: (access_until(s, policy) or now, s.created, s.subscription_id))
    return max(candidates, key=lambda s: (s.created, s.observed_at, s.subscription_id))
