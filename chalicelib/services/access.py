"""What a shopper is entitled to right now: one GetItem, then the domain's perks rule.

Eligibility, orders and `GET /v1/members/...` all answer "is this shopper a member?" through
`member_access`, so they can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.membership import (
    AccessPolicy,
    SubscriptionSnapshot,
    access_until,
    gift_active,
    governing_subscription,
    perks_active,
)
from chalicelib.settings import settings
from chalicelib.store import members as store
from chalicelib.store.members import MemberState

_POLICY = AccessPolicy(
    renewal_leeway=timedelta(hours=settings.renewal_leeway_hours), grace=timedelta(days=settings.grace_days)
)


def access_policy() -> AccessPolicy:
    """Renewal leeway and past-due grace (settings `RENEWAL_LEEWAY_HOURS`, `GRACE_DAYS`)."""
    return _POLICY


@dataclass(frozen=True, slots=True)
class MemberAccess:
    """A shopper's entitlement at one moment. Unknown shoppers and guests are simply not members."""

    customer_ref: str | None
    state: MemberState | None
    subscription: SubscriptionSnapshot | None
    perks_active: bool
    # When this answer changes without a new Stripe event (end of leeway or grace); None if never.
    access_until: datetime | None
    # The plan of a redeemed gift, when the gift (not a subscription) grants the perks.
    gift_plan_id: str | None = None

    @property
    def status(self) -> str | None:
        if self.state is None:
            return None
        return self.subscription.status if self.subscription else "none"

    @property
    def plan_id(self) -> str | None:
        if self.gift_plan_id is not None:
            return self.gift_plan_id
        return self.subscription.plan_id if self.subscription else None

    @property
    def cause_id(self) -> str | None:
        """The member's chosen cause, else the deployment's default cause."""
        chosen = self.state.cause_id if self.state else None
        return chosen or settings.default_cause_id


def access_of(state: MemberState | None, now: datetime) -> MemberAccess:
    """Entitlement from an already-read member item (no I/O)."""
    if state is None:
        return MemberAccess(None, None, None, False, None)
    policy = access_policy()
    subscription = governing_subscription(state.subscriptions, now, policy)
    active = perks_active(subscription, now, policy)
    until = access_until(subscription, policy) if subscription is not None and active else None
    if not active and gift_active(state.gifted_until, now):
        # A redeemed gift: perks as its plan's until `gifted_until` (a paying member's gift is a credit).
        return MemberAccess(
            state.customer_ref, state, subscription, True, state.gifted_until, state.gifted_plan_id
        )
    return MemberAccess(state.customer_ref, state, subscription, active, until)


def member_access(customer_ref: str | None, now: datetime) -> MemberAccess:
    """One strongly consistent GetItem (none for guests), then the perks rule at `now`."""
    if customer_ref is None:
        return MemberAccess(None, None, None, False, None)
    state = store.get_member(customer_ref)
    return access_of(state, now)
