"""Membership state and the perks rule: when does a shopper have perks?

This is the only place the rule lives; `GET /v1/members/...`, eligibility and orders all call
`perks_active` / `access_until` with the clock passed in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

import msgspec

from chalicelib.domain.times import from_epoch

ACCESS_STATUSES = frozenset({"trialing", "active"})
STRIPE_STATUSES = frozenset(
    {"incomplete", "incomplete_expired", "trialing", "active", "past_due", "unpaid", "canceled", "paused"}
)
# A subscription in one of these states can change no more: Stripe never revives it.
TERMINAL_STATUSES = frozenset({"canceled", "incomplete_expired"})


class AccessPolicy(msgspec.Struct, frozen=True):
    """How long perks outlive what Stripe has confirmed."""

    renewal_leeway: timedelta = timedelta(hours=48)
    grace: timedelta = timedelta(days=3)


class SubscriptionSnapshot(msgspec.Struct, kw_only=True):
    """What the service knows about one Stripe subscription. Times are Unix seconds (Stripe's clock)."""

    subscription_id: str
    status: str
    price_id: str | None = None
    plan_id: str | None = None
    # The subscription's own price (None for snapshots stored before prices were kept).
    unit_amount: int | None = None
    currency: str | None = None
    interval: str | None = None
    interval_count: int = 1
    quantity: int = 1
    current_period_start: int | None = None
    current_period_end: int | None = None
    cancel_at_period_end: bool = False
    # When the subscription was first seen past_due in its current dunning run; the grace clock.
    past_due_since: int | None = None
    created: int = 0
    canceled_at: int | None = None
    ended_at: int | None = None
    # Stripe's `pause_collection` (the Customer Portal's or our API's pause): its behavior
    # (`void`, `mark_uncollectible`, `keep_as_draft`) while set, else None; and when Stripe clears it.
    pause_behavior: str | None = None
    pause_resumes_at: int | None = None
    # Stripe time of the state this snapshot describes (event `created`, or the read time for
    # states read from the API); used to refuse older states.
    observed_at: float = 0.0


def grace_until(snapshot: SubscriptionSnapshot, policy: AccessPolicy) -> datetime | None:
    """End of the past-due grace period, or None when the subscription is not past due (or paused)."""
    if snapshot.status != "past_due" or snapshot.past_due_since is None or is_paused(snapshot):
        return None
    return from_epoch(snapshot.past_due_since) + policy.grace


def is_paused(snapshot: SubscriptionSnapshot) -> bool:
    """Paused: `pause_collection` set (the status stays `active`) or Stripe's own status `paused`."""
    return snapshot.status == "paused" or snapshot.pause_behavior is not None


def paused_until(snapshot: SubscriptionSnapshot) -> datetime | None:
    """When Stripe resumes collecting a paused subscription (`pause_collection.resumes_at`), or None."""
    if snapshot.pause_behavior is None or snapshot.pause_resumes_at is None:
        return None
    return from_epoch(snapshot.pause_resumes_at)


def access_until(snapshot: SubscriptionSnapshot, policy: AccessPolicy) -> datetime | None:
    """The moment perks end unless Stripe tells us something new; None when they never started.

    Paused: none, whatever the status says (a pause stops perks until Stripe reports it lifted —
    at `resumes_at` Stripe clears `pause_collection` and says so; until then nobody pays).
    trialing/active: the period end plus the renewal leeway (perks never outlive a period Stripe
    has not renewed, even if a webhook is lost); past_due: the end of grace; anything else: none.
    """
    if is_paused(snapshot):
        return None
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


def gift_active(gifted_until: datetime | None, now: datetime) -> bool:
    """A redeemed gift membership grants perks (its plan's) while now < `gifted_until`."""
    return gifted_until is not None and now < gifted_until


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


def dunning_started_at(status: str, current_period_start: int | None) -> int | None:
    """When a past_due subscription became past due: the start of the period whose renewal failed.

    Stripe moves the period forward when it attempts the renewal, so the failed period's start is
    the dunning start whatever order events arrive in (recording "when we heard of it" would make
    the grace period depend on delivery order).
    """
    return current_period_start if status == "past_due" else None


# A state read from Stripe's API counts as observed this much after our clock's reading, so an
# event stamped within a few seconds of the read (clocks differ) is re-read rather than trusted.
READ_SKEW_SECONDS = 5


def supersedes(incoming: SubscriptionSnapshot, stored: SubscriptionSnapshot | None) -> bool:
    """May `incoming` replace the stored state of the same subscription?

    Only when strictly newer: Stripe stamps several events of one subscription with the same
    second, so a tie says nothing about which came last, and an older state must never win. A
    subscription that has ended never comes back, whatever an out-of-order event says.
    """
    if stored is None:
        return True
    if stored.status in TERMINAL_STATUSES and incoming.status not in TERMINAL_STATUSES:
        return False
    return incoming.observed_at > stored.observed_at


def find_snapshot(
    snapshots: Iterable[SubscriptionSnapshot], subscription_id: str
) -> SubscriptionSnapshot | None:
    return next((s for s in snapshots if s.subscription_id == subscription_id), None)


def merge_snapshot(
    snapshots: Iterable[SubscriptionSnapshot], incoming: SubscriptionSnapshot
) -> list[SubscriptionSnapshot]:
    """The shopper's subscriptions with `incoming` replacing the one with its id (or added)."""
    kept = [s for s in snapshots if s.subscription_id != incoming.subscription_id]
    return sorted([*kept, incoming], key=lambda s: (s.created, s.subscription_id))


def member_since(snapshots: Iterable[SubscriptionSnapshot], previous: datetime | None) -> datetime | None:
    """When the shopper first became a member: the earliest subscription that ever got past payment."""
    started = [
        from_epoch(s.created) for s in snapshots if s.status not in ("incomplete", "incomplete_expired")
    ]
    candidates = [*started, *([previous] if previous is not None else [])]
    return min(candidates) if candidates else None


# How long after a moment Stripe should have spoken (renewal, dunning retry) before we ask it.
RECONCILE_DELAY = 3600
QUIET_RECHECK = 24 * 3600
# A Checkout Session expires after 24 h; until then a lost `checkout.session.completed` may still come.
CHECKOUT_WINDOW = 25 * 3600


def next_check(
    snapshots: Iterable[SubscriptionSnapshot],
    checkout_started_at: int | None,
    now: int,
    policy: AccessPolicy,
) -> int | None:
    """When reconciliation should next re-read this shopper from Stripe (Unix seconds), or None.

    A subscription whose period has ended without a renewal we heard of, one in dunning, and a
    checkout whose completion we never heard of may all be stale; settled subscriptions are not.
    Also the moment perks end by the clock (the end of grace, a period's end plus the renewal
    leeway): that visit writes the member, so its `member.ended` and cohort move go out then,
    not at Stripe's next word. It only ever brings a visit forward (to the end of grace rather than
    the next hourly look) and adds none to a settled member (the renewal check comes first).
    """
    due: list[int] = []
    live = [s for s in snapshots if s.status not in TERMINAL_STATUSES]
    for snapshot in live:
        perks_end = access_until(snapshot, policy)
        if perks_end is not None and perks_end.timestamp() > now:
            due.append(math.ceil(perks_end.timestamp()))
        if snapshot.status in ("past_due", "incomplete"):
            due.append(now + RECONCILE_DELAY)
        elif snapshot.pause_resumes_at is not None and snapshot.pause_behavior is not None:
            # Stripe lifts the pause at `resumes_at`: look then, in case that webhook is lost.
            resumes = snapshot.pause_resumes_at + RECONCILE_DELAY
            due.append(resumes if resumes > now else now + RECONCILE_DELAY)
        elif is_paused(snapshot):
            # Paused until someone unpauses: a daily look heals a lost unpause.
            due.append(now + QUIET_RECHECK)
        elif snapshot.status in ("unpaid", "paused") or snapshot.current_period_end is None:
            # No perks either way; a daily look catches a payment whose webhook was lost.
            due.append(now + QUIET_RECHECK)
        else:
            renewal_due = snapshot.current_period_end + RECONCILE_DELAY
            due.append(renewal_due if renewal_due > now else now + RECONCILE_DELAY)
    if not live and checkout_started_at is not None:
        for offset in (RECONCILE_DELAY, CHECKOUT_WINDOW):
            if checkout_started_at + offset > now:
                due.append(checkout_started_at + offset)
                break
    return min(due) if due else None
