"""Memberships: checkout, reading and changing a shopper's subscription through Stripe.

Changes made through the API (cancel, resume, switch plan) return the membership as Stripe has
it right after the call, without waiting for the webhook; the webhook that follows is then a
no-op or a re-read (see `services.stripe_events`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime

import msgspec

from chalicelib import clock, log
from chalicelib.domain import membership as rules
from chalicelib.domain.catalog import Cause, Perks, Plan
from chalicelib.domain.conflicts import BusyError, LedgerEntryExistsError
from chalicelib.domain.donations import Posting
from chalicelib.domain.events import (
    Event,
    Fact,
    Standing,
    as_last_written,
    events_for_fact,
    standing_of,
)
from chalicelib.domain.giving import cause_active
from chalicelib.domain.member import Member, RenewalPledge, ValueFigures
from chalicelib.domain.referral import BalanceMove, Referral
from chalicelib.domain.times import from_epoch
from chalicelib.errors import ConflictError, NotFoundError, ValidationError
from chalicelib.payments import subscriptions as stripe_subscriptions
from chalicelib.services import catalog
from chalicelib.services.access import access_of, access_policy
from chalicelib.services.donations import DonationSums, MemberValue, member_impact, member_value
from chalicelib.services.unit_of_work import UnitOfWork, attempts
from chalicelib.settings import settings
from chalicelib.store import members as store
from chalicelib.store.members import MemberState

logger = log.get_logger("members")

# Optimistic concurrency: a write that lost a race re-reads and recomputes this many times,
# after a short random pause so that racing writers spread out.
MAX_WRITE_ATTEMPTS = 8


class Membership(msgspec.Struct):
    customer_ref: str
    status: str
    plan_id: str | None
    perks_active: bool
    perks: Perks | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    grace_until: datetime | None
    paused_until: datetime | None
    cause_id: str | None
    member_since: datetime | None
    impact: dict[str, DonationSums]
    value: dict[str, MemberValue]
    # False when the member's chosen cause was deactivated: new pledges go to the default cause until
    # they pick another (the storefront kit asks them to).
    cause_active: bool = True
    # A redeemed gift membership's end (perks as its plan's until then), or null.
    gifted_until: datetime | None = None


class CheckoutStarted(msgspec.Struct):
    checkout_url: str
    session_id: str


def render(
    state: MemberState,
    now: datetime,
    impact: dict[str, DonationSums] | None = None,
    value: dict[str, MemberValue] | None = None,
    plans: Mapping[str, Plan] | None = None,
    causes: Mapping[str, Cause] | None = None,
) -> Membership:
    """The membership as the API shows it, from a stored shopper and the perks rule at `now` (the
    shopper's impact and value read now, and the cached plans and causes, unless given)."""
    access = access_of(state, now)
    subscription = access.subscription
    plan = (catalog.plans() if plans is None else plans).get(access.plan_id or "")
    impact = member_impact(state.customer_ref) if impact is None else impact
    return Membership(
        customer_ref=state.customer_ref,
        status=access.status or "none",
        plan_id=access.plan_id,
        perks_active=access.perks_active,
        perks=plan.perks if plan is not None and access.perks_active else None,
        current_period_end=_moment(subscription.current_period_end if subscription else None),
        cancel_at_period_end=bool(subscription and subscription.cancel_at_period_end),
        grace_until=rules.grace_until(subscription, access_policy()) if subscription else None,
        paused_until=rules.paused_until(subscription) if subscription else None,
        cause_id=access.cause_id,
        member_since=state.member_since,
        impact=impact,
        value=member_value(state.customer_ref, impact) if value is None else value,
        cause_active=cause_active(state.cause_id, catalog.causes() if causes is None else causes),
        gifted_until=state.gifted_until,
    )


def _moment(epoch: int | None) -> datetime | None:
    return from_epoch(epoch) if epoch is not None else None


def get_membership(customer_ref: str) -> Membership:
    """The shopper's membership; NotFoundError for a shopper we have never seen."""
    return render(_require(customer_ref), clock.now())


def _require(customer_ref: str) -> MemberState:
    state = store.get_member(customer_ref)
    if state is None:
        raise _unknown(customer_ref)
    return state


def _unknown(customer_ref: str) -> NotFoundError:
    return NotFoundError(f"No shopper `{customer_ref}`.", param="customer_ref", code="member_not_found")


def _plan(plan_id: str) -> Plan:
    plan = catalog.plans().get(plan_id)
    if plan is None or not plan.active:
        raise ValidationError(f"No active plan `{plan_id}`.", param="plan_id", code="unknown_plan")
    if plan.stripe_price_id is None:
        raise ConflictError(f"Plan `{plan_id}` has no Stripe Price yet; save it again.", param="plan_id")
    return plan


def _check_cause(cause_id: str) -> None:
    cause = catalog.causes().get(cause_id)
    if cause is None or not cause.active:
        raise ValidationError(f"No active cause `{cause_id}`.", param="cause_id", code="unknown_cause")


def start_checkout(
    customer_ref: str,
    *,
    plan_id: str,
    email: str,
    success_url: str,
    cancel_url: str,
    cause_id: str | None,
    uow: UnitOfWork,
    referral_code: str | None = None,
) -> CheckoutStarted:
    """A Stripe Checkout Session for the plan, and the shopper recorded with status `none`.

    Stripe is called first: if it is unreachable nothing is written. The Stripe customer is
    created once per shopper and reused for every later checkout. A `referral_code` (checked in
    `services.referrals`) is applied as the session's discount and recorded on the shopper.
    """
    plan = _plan(plan_id)
    if cause_id is not None:
        _check_cause(cause_id)
    now = clock.now()
    state = store.get_member(customer_ref)
    # A gift's perks do not make a member: they may subscribe, and pay from when the gift ends.
    if rules.perks_active(access_of(state, now).subscription, now, access_policy()):
        raise ConflictError(
            "This shopper is already an active member; manage the plan through the portal or /plan.",
            param="customer_ref",
            code="already_member",
        )
    governing = access_of(state, now).subscription
    if (
        governing is not None
        and rules.is_paused(governing)
        and governing.status not in rules.TERMINAL_STATUSES
    ):
        # A second subscription would bill the shopper twice once the first is unpaused.
        raise ConflictError(
            "This shopper's membership is paused; unpause it instead of joining again.",
            param="customer_ref",
            code="membership_paused",
        )
    promotion_code_id: str | None = None
    referral: Referral | None = None
    if referral_code is not None:
        from chalicelib.services import referrals  # referrals builds on this module

        promotion_code_id, referral = referrals.check_code(customer_ref, email, referral_code, state)
    stripe_customer_id = (
        state.stripe_customer_id if state else None
    ) or stripe_subscriptions.ensure_customer(customer_ref, email)
    try:
        session_id, url = stripe_subscriptions.create_checkout_session(
            stripe_subscriptions.CheckoutRequest(
                customer_ref=customer_ref,
                stripe_customer_id=stripe_customer_id,
                price_id=plan.stripe_price_id or "",
                plan_id=plan_id,
                trial_days=max(plan.trial_days, _gift_days_left(state, now)),
                success_url=success_url,
                cancel_url=cancel_url,
                cause_id=cause_id,
                promotion_code_id=promotion_code_id,
            )
        )
    except ValidationError as exc:
        if promotion_code_id is None or not (exc.param or "").startswith("discounts"):
            raise
        # Stripe's own checks on the code: first-time customers only, still active.
        raise ValidationError(
            f"The referral code cannot be used by this shopper: {exc.message}",
            param="referral_code",
            code="referral_code_not_allowed",
        ) from exc

    def record(current: Member | None, change: MemberChange) -> Member:
        member = current or Member(customer_ref=customer_ref)
        member.link_stripe_customer(stripe_customer_id)
        member.email = email or member.email
        member.cause_id = cause_id or member.cause_id
        member.checkout_started_at = now
        before = member.referred
        if referral is not None and (before is None or before.state == "started") and before != referral:
            member.referred = referral
            change.change_referral(before, referral)
        return member

    change_member(customer_ref, record, now, uow)
    logger.info("checkout started", extra={"customer_ref": customer_ref, "plan_id": plan_id})
    return CheckoutStarted(checkout_url=url, session_id=session_id)


def _gift_days_left(state: MemberState | None, now: datetime) -> int:
    """Whole days (rounded up) until a redeemed gift ends: a subscription started during a gift begins
    with a trial that long, so nobody pays twice for the same months."""
    if state is None or state.gifted_until is None or state.gifted_until <= now:
        return 0
    return math.ceil((state.gifted_until - now).total_seconds() / 86_400)


def apply_snapshots(
    customer_ref: str,
    fresh: list[rules.SubscriptionSnapshot],
    now: datetime,
    uow: UnitOfWork,
    *,
    stripe_customer_id: str | None = None,
) -> MemberState | None:
    """Fold subscription states into the shopper, keeping only those newer than what is stored.

    Returns None for an unknown shopper.
    """

    def fold(member: Member | None, _: MemberChange) -> Member | None:
        if member is None:
            return None
        member.observe(fresh)
        member.link_stripe_customer(stripe_customer_id)
        return member

    return change_member(customer_ref, fold, now, uow)


class MemberChange:
    """What a decision about a shopper may add to the unit of work besides the member itself."""

    def __init__(self, uow: UnitOfWork, customer_ref: str, now: datetime, known_entries: set[str]) -> None:
        self.uow = uow
        self.customer_ref = customer_ref
        self.now = now
        # Ledger entry ids an earlier attempt found already recorded (by the other path).
        self.known_entries = known_entries
        # What the fact says beyond the standing it leaves (an invoice paid or failed, a renewal
        # coming): the outbound events it makes besides the standing's moments.
        self.fact: Fact | None = None
        # The currency of a period the fact ends (a paid invoice starts the next), or of the current
        # period whose recap so far the fact carries.
        self.period_ends_in: str | None = None
        self.recap_in: str | None = None

    def note(self, fact: Fact, *, period_ends_in: str | None = None, recap_in: str | None = None) -> None:
        """The fact being committed, for its outbound events (`domain.events.membership_moments`)."""
        self.fact = fact
        self.period_ends_in = period_ends_in
        self.recap_in = recap_in

    def record_event(self, event_key: str, expires_at: datetime) -> None:
        """The Stripe event is applied exactly once: its record commits with its effect."""
        self.uow.members.record_event(event_key, expires_at)

    def recorded_before(self, entry_id: str) -> bool:
        """Did an earlier attempt find this ledger entry already recorded (by the other path)?"""
        return entry_id in self.known_entries

    def add_ledger_entry(self, pledge: RenewalPledge) -> None:
        """A renewal pledge and its totals."""
        self.uow.ledger.add(
            Posting(pledge.entry_id, pledge.entry, pledge.occurred_at, self.customer_ref), self.now
        )

    def add_fee(self, invoice_id: str, month: str, currency: str, amount: int) -> None:
        """A paid fee in the program's fees, the member's `fees_paid` and the member's cohort."""
        self.uow.members.add_fee(self.customer_ref, invoice_id, month, currency, amount)

    def change_referral(self, before: Referral | None, after: Referral) -> None:
        """The shopper's referral moved on: the referrer's copy, the hold's due pointer, the report."""
        self.uow.referrals.add(self.customer_ref, before, after, self.now)

    def add_balance_move(self, move: BalanceMove) -> None:
        """A referrer's Stripe balance move this change decides, made in Stripe once it commits."""
        self.uow.referrals.add_balance_move(move)

    def add_event(self, event: Event) -> None:
        """An outbound event that commits with this change (or not at all)."""
        self.uow.events.add(event)


Decide = Callable[[Member | None, MemberChange], Member | None]
# Several shoppers decided together: the loaded members and each one's change (by customer_ref) → the
# members to commit, in order (the first is the change's own: the fees added belong to it).
DecideTogether = Callable[[Mapping[str, Member | None], Mapping[str, MemberChange]], list[Member]]


def change_member(
    customer_ref: str,
    decide: Decide,
    now: datetime,
    uow: UnitOfWork,
    *,
    loaded: Member | None = None,
) -> Member | None:
    """Load, decide, commit in one transaction; on a lost race load again and decide again.

    `decide` applies the domain's rules to the loaded member (None: unknown shopper) and may add
    effects through the `MemberChange`; it returns the member to commit, or None to write nothing. It
    must do no I/O: anything read from Stripe is read before, once. `loaded` is a first load made
    by the caller (to decide what to read from Stripe), used for the first attempt.

    The outbound events the change makes (from the shopper's standing before and after it, and the
    fact it noted) are items of the same transaction, numbered after the member's `last_sequence`,
    which is written with the member under its version: concurrent facts of one shopper serialize,
    so sequences have no gaps; a fact that does not commit has no event, and a replayed fact (its
    Stripe event recorded, or nothing changed) makes none.
    """

    def one(current: Mapping[str, Member | None], changes: Mapping[str, MemberChange]) -> list[Member]:
        changed = decide(current[customer_ref], changes[customer_ref])
        return [changed] if changed is not None else []

    first = {customer_ref: loaded} if loaded is not None else None
    return change_members([customer_ref], one, now, uow, loaded=first).get(customer_ref)


def change_members(
    customer_refs: list[str],
    decide: DecideTogether,
    now: datetime,
    uow: UnitOfWork,
    *,
    loaded: Mapping[str, Member] | None = None,
) -> dict[str, Member]:
    """`change_member` for facts of several shoppers that must commit together or not at all (a referral
    reward: the friend's referral and the referrer's count for the yearly cap and `referral.rewarded`).

    Each shopper is loaded in the attempt and written under the version it was loaded at, with the events
    its own change makes (numbered after its own `last_sequence`); a lost race on any of them loads them all
    again and decides again. Returns the members as committed (empty: nothing written).
    """
    known_entries: set[str] = set()
    policy = access_policy()
    first = dict(loaded or {})

    def attempt() -> dict[str, Member]:
        with uow:
            current = {ref: first.pop(ref, None) or uow.members.get(ref) for ref in customer_refs}
            first.clear()
            before = {
                ref: as_last_written(_standing(m, now), m.perks_written) if m is not None else None
                for ref, m in current.items()
            }
            changes = {ref: MemberChange(uow, ref, now, known_entries) for ref in customer_refs}
            changed = decide(current, changes)
            if not changed:
                return {}
            for member in changed:
                ref = member.customer_ref
                member.refresh(now, policy)
                _add_events(uow, member, before[ref], changes[ref], now)
                uow.members.add(member, now)
            try:
                uow.commit()
            except LedgerEntryExistsError as exc:
                # Recorded by the other path (webhook or reconciliation): decide again knowing it.
                known_entries.add(exc.entry_id)
                raise BusyError() from exc
            return dict(uow.committed_members)

    return attempts(
        attempt, MAX_WRITE_ATTEMPTS, "The shopper is being changed by another request; retry shortly."
    )


def _standing(member: Member, now: datetime) -> Standing:
    """What the outbound events compare before and after a fact (pure)."""
    return standing_of(
        member.subscriptions, member.cause_id or settings.default_cause_id, now, access_policy()
    )


def _add_events(
    uow: UnitOfWork, member: Member, before: Standing | None, change: MemberChange, now: datetime
) -> None:
    """Add the fact's outbound events to its transaction and move the member's `last_sequence`.

    The member's value (two Queries) is read only for a fact with events or a period's end, inside
    the attempt: it is the value as of the commit, before the fact's own fee and pledge, which is what
    the recap of the period that ends (and the mark the next one starts from) is measured on.
    """
    after = _standing(member, now)
    fact = change.fact
    if before == after and fact is None:
        return
    reading: tuple[dict[str, DonationSums], dict[str, MemberValue]] | None = None
    if change.period_ends_in is not None or change.recap_in is not None:
        reading = _value_now(uow, member.customer_ref)
        figures = _figures(reading[1])
        if fact is not None and change.period_ends_in is not None:
            ended = member.close_period(change.period_ends_in, figures)
            fact = msgspec.structs.replace(fact, recap=ended if fact.renewal else None)
        if fact is not None and change.recap_in is not None:
            fact = msgspec.structs.replace(fact, recap=member.recap(change.recap_in, figures))
    # `before` is None for a shopper first written now (a checkout started).
    events = events_for_fact(
        before,
        after,
        fact,
        customer_ref=member.customer_ref,
        last_sequence=member.last_sequence,
        now=now,
        membership=None,
    )
    if not events:
        return
    impact, value = reading or _value_now(uow, member.customer_ref)
    membership = msgspec.to_builtins(
        render(member, now, impact, value, uow.catalog.plans(), uow.catalog.causes())
    )
    for event in events:
        event.data["membership"] = membership
        uow.events.add(event)
    member.last_sequence += len(events)


def _value_now(uow: UnitOfWork, customer_ref: str) -> tuple[dict[str, DonationSums], dict[str, MemberValue]]:
    """The shopper's impact and value as committed (before the fact being decided)."""
    totals, running = uow.members.value(customer_ref)
    impact = member_impact(customer_ref, totals, uow.catalog.causes())
    return impact, member_value(customer_ref, impact, running)


def _figures(value: dict[str, MemberValue]) -> dict[str, ValueFigures]:
    """Per currency, the member's cumulative value: what recaps are differences of."""
    return {
        currency: ValueFigures(saved=v.saved, fees_paid=v.fees_paid, donated=v.donated)
        for currency, v in value.items()
    }


def observed_now() -> float:
    """The `observed_at` of a state read from Stripe now (see `rules.READ_SKEW_SECONDS`).

    Sub-second, so of two reads in the same second the later one wins.
    """
    return clock.now().timestamp() + rules.READ_SKEW_SECONDS


def sync(customer_ref: str, uow: UnitOfWork) -> Membership:
    """Re-read every subscription of the shopper from Stripe now and store what changed."""
    state = _require(customer_ref)
    now = clock.now()
    if state.stripe_customer_id is None:
        return render(state, now)
    fresh = stripe_subscriptions.list_subscriptions(state.stripe_customer_id, observed_now())
    stored = apply_snapshots(customer_ref, fresh, now, uow)
    return render(stored or state, now)


def _governing(state: MemberState, now: datetime, uow: UnitOfWork) -> rules.SubscriptionSnapshot:
    """The subscription a change applies to; read from Stripe if no webhook has told us of it yet."""
    subscription = access_of(state, now).subscription
    if (subscription is None or subscription.status in rules.TERMINAL_STATUSES) and state.stripe_customer_id:
        fresh = stripe_subscriptions.list_subscriptions(state.stripe_customer_id, observed_now())
        state = apply_snapshots(state.customer_ref, fresh, now, uow) or state
        subscription = access_of(state, now).subscription
    if subscription is None or subscription.status in rules.TERMINAL_STATUSES:
        raise ConflictError(
            "This shopper has no subscription that can be changed.",
            param="customer_ref",
            code="no_subscription",
        )
    return subscription


def _store_one(
    customer_ref: str, snapshot: rules.SubscriptionSnapshot, now: datetime, uow: UnitOfWork
) -> Membership:
    stored = apply_snapshots(customer_ref, [snapshot], now, uow)
    if stored is None:
        raise _unknown(customer_ref)
    return render(stored, now)


def open_portal(customer_ref: str, return_url: str) -> str:
    """A Stripe Customer Portal URL where the shopper manages card and subscription."""
    state = _require(customer_ref)
    if state.stripe_customer_id is None:
        raise ConflictError(
            "This shopper has not started a checkout yet, so has no billing account.",
            param="customer_ref",
            code="no_billing_account",
        )
    return stripe_subscriptions.create_portal_session(state.stripe_customer_id, return_url)


def cancel(customer_ref: str, at_period_end: bool, uow: UnitOfWork) -> Membership:
    """Cancel at the end of the paid period (perks until then), or now."""
    now = clock.now()
    subscription = _governing(_require(customer_ref), now, uow)
    if at_period_end:
        snapshot = stripe_subscriptions.set_cancel_at_period_end(
            subscription.subscription_id, True, observed_now()
        )
    else:
        snapshot = stripe_subscriptions.cancel_now(subscription.subscription_id, observed_now())
    return _store_one(customer_ref, snapshot, now, uow)


def resume(customer_ref: str, uow: UnitOfWork) -> Membership:
    """Undo a cancel-at-period-end."""
    now = clock.now()
    subscription = _governing(_require(customer_ref), now, uow)
    if not subscription.cancel_at_period_end:
        raise ConflictError(
            "The subscription is not set to cancel; there is nothing to resume.",
            param="customer_ref",
            code="not_canceling",
        )
    snapshot = stripe_subscriptions.set_cancel_at_period_end(
        subscription.subscription_id, False, observed_now()
    )
    return _store_one(customer_ref, snapshot, now, uow)


# Statuses whose collection can be paused (Stripe's own `paused` status is paused already).
PAUSABLE_STATUSES = frozenset({"trialing", "active", "past_due"})


def pause(customer_ref: str, until: datetime | None, uow: UnitOfWork) -> Membership:
    """Pause collection in Stripe (invoices voided): perks stop until unpaused, or until Stripe
    lifts the pause at `until`. Pausing again with the same `until` changes nothing."""
    now = clock.now()
    if until is not None and until <= now:
        raise ValidationError("`until` must be in the future.", param="until", code="invalid_until")
    subscription = _as_stripe_has_it(_require(customer_ref), now, uow)
    # Stripe counts whole seconds: round up, so the pause never ends before `until`.
    resumes_at = math.ceil(until.timestamp()) if until is not None else None
    if subscription.status == "paused" and resumes_at is not None:
        raise ConflictError(
            "Stripe has paused this subscription itself; unpause it before choosing an end.",
            param="until",
            code="paused_by_stripe",
        )
    already = subscription.pause_behavior is not None and subscription.pause_resumes_at == resumes_at
    if subscription.status == "paused" or already:
        return _store_one(customer_ref, subscription, now, uow)
    if subscription.status not in PAUSABLE_STATUSES:
        raise ConflictError(
            f"A `{subscription.status}` subscription cannot be paused.",
            param="customer_ref",
            code="not_pausable",
        )
    snapshot = stripe_subscriptions.pause_collection(subscription.subscription_id, resumes_at, observed_now())
    logger.info("membership paused", extra={"customer_ref": customer_ref, "resumes_at": resumes_at})
    return _store_one(customer_ref, snapshot, now, uow)


def unpause(customer_ref: str, uow: UnitOfWork) -> Membership:
    """Lift a pause (ours, the Customer Portal's or Stripe's own `paused` status); perks return
    as the subscription's status and period allow. Nothing paused: nothing changes."""
    now = clock.now()
    subscription = _as_stripe_has_it(_require(customer_ref), now, uow)
    if subscription.status == "paused":
        snapshot = stripe_subscriptions.resume_paused(subscription.subscription_id, observed_now())
    elif subscription.pause_behavior is not None:
        snapshot = stripe_subscriptions.unpause_collection(subscription.subscription_id, observed_now())
    else:
        return _store_one(customer_ref, subscription, now, uow)
    logger.info("membership unpaused", extra={"customer_ref": customer_ref})
    return _store_one(customer_ref, snapshot, now, uow)


def _as_stripe_has_it(state: MemberState, now: datetime, uow: UnitOfWork) -> rules.SubscriptionSnapshot:
    """The subscription a pause applies to, read from Stripe: a pause or unpause made in the portal
    whose webhook is lost or late is seen (and stored) before deciding."""
    stored = _governing(state, now, uow)
    return stripe_subscriptions.retrieve_subscription(stored.subscription_id, observed_now())


def switch_plan(customer_ref: str, plan_id: str, uow: UnitOfWork) -> Membership:
    """Move the shopper's subscription to another plan, prorated by Stripe."""
    plan = _plan(plan_id)
    now = clock.now()
    state = _require(customer_ref)
    subscription = _governing(state, now, uow)
    if subscription.plan_id == plan_id:
        return render(state, now)
    current = catalog.plans().get(subscription.plan_id or "")
    if current is not None and current.currency != plan.currency:
        raise ValidationError(
            f"Plan `{plan_id}` is billed in {plan.currency}, the subscription in {current.currency}.",
            param="plan_id",
            code="currency_mismatch",
        )
    item_id = stripe_subscriptions.first_item_id(subscription.subscription_id)
    snapshot = stripe_subscriptions.switch_price(
        subscription.subscription_id, item_id, plan.stripe_price_id or "", plan_id, observed_now()
    )
    return _store_one(customer_ref, snapshot, now, uow)


def set_cause(customer_ref: str, cause_id: str, uow: UnitOfWork) -> Membership:
    """Send the shopper's future donations to `cause_id` (past pledges stay where they went)."""
    _check_cause(cause_id)
    now = clock.now()

    def choose(member: Member | None, _: MemberChange) -> Member | None:
        if member is not None:
            member.cause_id = cause_id
        return member

    state = change_member(customer_ref, choose, now, uow)
    if state is None:
        raise _unknown(customer_ref)
    return render(state, now)
