"""Outbound events: the catalog (SPEC "Outbound events") and which membership moments a fact makes.

A use case reads the shopper's standing before a fact and after it (`standing_of`, pure), then asks
`membership_moments(before, after, fact)` which events the fact makes; the unit of work writes each one
(`Event`, built by `event_of`) in the fact's own transaction. Nothing here does I/O.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

import msgspec

from chalicelib.domain.membership import (
    AccessPolicy,
    SubscriptionSnapshot,
    governing_subscription,
    grace_until,
    is_paused,
    perks_active,
)
from chalicelib.domain.membership import paused_until as pause_resumes
from chalicelib.domain.times import from_epoch

MEMBER_JOINED = "member.joined"
MEMBER_RENEWED = "member.renewed"
MEMBER_RENEWAL_UPCOMING = "member.renewal_upcoming"
MEMBER_PAYMENT_FAILED = "member.payment_failed"
MEMBER_PAYMENT_RECOVERED = "member.payment_recovered"
MEMBER_CANCELLATION_SCHEDULED = "member.cancellation_scheduled"
MEMBER_RESUMED = "member.resumed"
MEMBER_PLAN_CHANGED = "member.plan_changed"
MEMBER_PAUSED = "member.paused"
MEMBER_UNPAUSED = "member.unpaused"
MEMBER_ENDED = "member.ended"
MEMBER_CAUSE_CHANGED = "member.cause_changed"
REFERRAL_REWARDED = "referral.rewarded"
GIFT_PURCHASED = "gift.purchased"
DISBURSEMENT_RECORDED = "disbursement.recorded"
CAUSE_PAYOUT_OVERDUE = "cause.payout_overdue"

# Every event type, in the SPEC's order; an endpoint subscribes to some of them or to "*".
EVENT_TYPES: tuple[str, ...] = (
    MEMBER_JOINED,
    MEMBER_RENEWED,
    MEMBER_RENEWAL_UPCOMING,
    MEMBER_PAYMENT_FAILED,
    MEMBER_PAYMENT_RECOVERED,
    MEMBER_CANCELLATION_SCHEDULED,
    MEMBER_RESUMED,
    MEMBER_PLAN_CHANGED,
    MEMBER_PAUSED,
    MEMBER_UNPAUSED,
    MEMBER_ENDED,
    MEMBER_CAUSE_CHANGED,
    REFERRAL_REWARDED,
    GIFT_PURCHASED,
    DISBURSEMENT_RECORDED,
    CAUSE_PAYOUT_OVERDUE,
)
ALL_TYPES = "*"
# Events about no shopper: `customer_ref` null and no `sequence`.
BRAND_EVENT_TYPES = frozenset({DISBURSEMENT_RECORDED, CAUSE_PAYOUT_OVERDUE})

EndedReason = Literal["canceled", "unpaid", "lapsed"]
# Subscription states in which a shopper is (or was until now) a member of the club.
_LIVE_STATUSES = frozenset({"trialing", "active", "past_due", "unpaid", "paused"})


class UnknownEventTypeError(ValueError):
    """An endpoint named an event type that is not in the catalog."""


def unknown_types(types: Iterable[str]) -> list[str]:
    """The names in `types` that are neither a catalog type nor "*" (in their order)."""
    known = {*EVENT_TYPES, ALL_TYPES}
    return [name for name in types if name not in known]


def subscribed(types: Iterable[str], event_type: str) -> bool:
    chosen = set(types)
    return ALL_TYPES in chosen or event_type in chosen


# --- the extra `data` of each type ---------------------------------------------------------------


class InvoiceData(msgspec.Struct, kw_only=True):
    """The invoice a renewal, a failed payment or a recovery is about (the period it pays for)."""

    id: str
    amount: int
    currency: str
    period_start: datetime | None = None
    period_end: datetime | None = None


class UpcomingInvoice(msgspec.Struct, kw_only=True):
    amount: int
    currency: str
    renews_at: datetime


class Recap(msgspec.Struct, kw_only=True):
    """A period `[start, end)` of a membership: savings (net of refunds), fees paid, pledges made (net)."""

    saved: int
    fees_paid: int
    donated: int
    currency: str


class Renewed(msgspec.Struct, kw_only=True):
    invoice: InvoiceData
    recap: Recap | None


class RenewalUpcoming(msgspec.Struct, kw_only=True):
    invoice: UpcomingInvoice
    recap: Recap | None


class PaymentFailed(msgspec.Struct, kw_only=True):
    invoice: InvoiceData
    grace_until: datetime | None


class PaymentRecovered(msgspec.Struct, kw_only=True):
    invoice: InvoiceData


class CancellationScheduled(msgspec.Struct, kw_only=True):
    ends_at: datetime | None


class PlanChanged(msgspec.Struct, kw_only=True):
    previous_plan_id: str | None


class Paused(msgspec.Struct, kw_only=True):
    until: datetime | None


class Ended(msgspec.Struct, kw_only=True):
    reason: EndedReason


class CauseChanged(msgspec.Struct, kw_only=True):
    previous_cause_id: str | None


class Credit(msgspec.Struct, kw_only=True):
    amount: int
    currency: str


class ReferralData(msgspec.Struct, kw_only=True):
    friend_ref: str
    credit: Credit


class ReferralRewarded(msgspec.Struct, kw_only=True):
    referral: ReferralData


class GiftData(msgspec.Struct, kw_only=True):
    code: str
    plan_id: str
    months: int
    recipient_email: str
    message: str | None


class GiftPurchased(msgspec.Struct, kw_only=True):
    gift: GiftData


class DisbursementRecorded(msgspec.Struct, kw_only=True):
    # The disbursement as `GET /v1/disbursements` lists it.
    disbursement: dict[str, Any]


class PayoutOverdue(msgspec.Struct, kw_only=True):
    cause_id: str
    currency: str
    outstanding: int
    oldest_undisbursed_at: datetime


# The extra `data` each type carries (None: only `membership`).
EXTRA_DATA: dict[str, type[msgspec.Struct] | None] = {
    MEMBER_JOINED: None,
    MEMBER_RENEWED: Renewed,
    MEMBER_RENEWAL_UPCOMING: RenewalUpcoming,
    MEMBER_PAYMENT_FAILED: PaymentFailed,
    MEMBER_PAYMENT_RECOVERED: PaymentRecovered,
    MEMBER_CANCELLATION_SCHEDULED: CancellationScheduled,
    MEMBER_RESUMED: None,
    MEMBER_PLAN_CHANGED: PlanChanged,
    MEMBER_PAUSED: Paused,
    MEMBER_UNPAUSED: None,
    MEMBER_ENDED: Ended,
    MEMBER_CAUSE_CHANGED: CauseChanged,
    REFERRAL_REWARDED: ReferralRewarded,
    GIFT_PURCHASED: GiftPurchased,
    DISBURSEMENT_RECORDED: DisbursementRecorded,
    CAUSE_PAYOUT_OVERDUE: PayoutOverdue,
}


class Event(msgspec.Struct, kw_only=True):
    """What a receiver gets: `{id, type, created_at, customer_ref, sequence, data}`."""

    id: str
    type: str
    created_at: datetime
    customer_ref: str | None
    sequence: int | None
    data: dict[str, Any]


# --- which moments a fact makes -------------------------------------------------------------------


class Standing(msgspec.Struct, frozen=True, kw_only=True):
    """What the events compare before and after a fact: the shopper's membership at one moment."""

    status: str = "none"
    plan_id: str | None = None
    perks_active: bool = False
    cancel_at_period_end: bool = False
    current_period_end: datetime | None = None
    grace_until: datetime | None = None
    # Collection is paused (perks stop because of a pause); `paused_until` when it resumes, if known.
    paused: bool = False
    paused_until: datetime | None = None
    # The cause the shopper chose (None: the deployment's default).
    cause_id: str | None = None


def standing_of(
    subscriptions: Iterable[SubscriptionSnapshot],
    cause_id: str | None,
    now: datetime,
    policy: AccessPolicy,
    *,
    paused_until: datetime | None = None,
) -> Standing:
    """A shopper's standing at `now` from their subscriptions (the governing one, as the API shows it).

    Stripe's own pause (status `paused`) and a `pause_collection` count as paused; `paused_until`
    defaults to the pause's `resumes_at`.
    """
    governing = governing_subscription(subscriptions, now, policy)
    if governing is None:
        return Standing(cause_id=cause_id)
    paused_until = paused_until or pause_resumes(governing)
    paused = is_paused(governing) or paused_until is not None
    return Standing(
        status=governing.status,
        plan_id=governing.plan_id,
        perks_active=perks_active(governing, now, policy) and not paused,
        cancel_at_period_end=governing.cancel_at_period_end,
        current_period_end=from_epoch(governing.current_period_end)
        if governing.current_period_end is not None
        else None,
        grace_until=grace_until(governing, policy),
        paused=paused,
        paused_until=paused_until,
        cause_id=cause_id,
    )


# Statuses in which perks can end by the clock alone (a period or a grace running out), Stripe silent.
_CLOCK_ENDED_STATUSES = frozenset({"trialing", "active", "past_due"})


def as_last_written(now: Standing, perks_written: bool | None) -> Standing:
    """The standing a fact's events start from: the shopper's standing at `now`, except that perks the
    member's last write left active count as active until a write says otherwise.

    Perks also end by the clock (grace or a period runs out and Stripe says nothing new); the first
    write after that — whatever its fact, a reconcile visit included — then finds perks active as last
    written and inactive after, so it makes the one `member.ended` (`lapsed`, or the reason its own
    fact gives) and writes `perks_written` False with it: no later write makes another. Perks never
    start by the clock, so an inactive mark changes nothing. A member written before the mark was
    kept (`perks_written` None) counts as told of perks unless they stopped for a reason Stripe
    reported (a pause, `unpaid`, an end), whose event was made then.
    """
    if now.perks_active:
        return now
    if perks_written is None:
        perks_written = now.status in _CLOCK_ENDED_STATUSES and not now.paused
    return msgspec.structs.replace(now, perks_active=True) if perks_written else now


class Fact(msgspec.Struct, frozen=True, kw_only=True):
    """What the fact itself says beyond the standing it leaves: an invoice paid or failed, a referral
    reward, a gift bought.

    `renewal` marks a paid invoice that renews a period (Stripe's `billing_reason`
    `subscription_cycle`), and `recap` covers the period it ended.
    """

    invoice_paid: InvoiceData | None = None
    renewal: bool = False
    # The paid invoice is one whose payment failed before (whatever status Stripe reported since).
    recovered: bool = False
    recap: Recap | None = None
    invoice_failed: InvoiceData | None = None
    # Stripe's `invoice.upcoming`: the renewal to come (`recap`: the current period so far).
    upcoming: UpcomingInvoice | None = None
    # The shopper, as a referrer, was credited for a friend (`referral.rewarded`).
    referral_rewarded: ReferralData | None = None
    # The shopper bought a gift membership (`gift.purchased`).
    gift_purchased: GiftData | None = None


class Moment(msgspec.Struct, frozen=True, kw_only=True):
    """One event a fact makes: its type and its extra `data` (None: only `membership`)."""

    type: str
    extra: msgspec.Struct | None = None


def membership_moments(before: Standing | None, after: Standing, fact: Fact | None = None) -> list[Moment]:
    """The membership events one fact makes, in the order a receiver should apply them.

    `before` is None for a shopper the service did not know. Both standings are taken at the same
    `now`; `before` is as the member was last written (`as_last_written`), so perks that lapsed with
    the clock since the last write end with this fact, and perks whose end was already told stay gone.
    A membership has one `member.ended` per run of perks: only a paused one (perks stopped as
    `member.paused`) ends later, when Stripe closes it.
    """
    was = before or Standing()
    fact = fact or Fact()
    moments: list[Moment] = []
    started = after.perks_active and not was.perks_active
    stopped = was.perks_active and not after.perks_active
    if started and (was.paused or was.status == "paused"):
        moments.append(Moment(type=MEMBER_UNPAUSED))
    elif started and was.status not in _LIVE_STATUSES:
        moments.append(Moment(type=MEMBER_JOINED))
    if before is not None and after.plan_id != was.plan_id and was.plan_id and after.plan_id and not started:
        moments.append(Moment(type=MEMBER_PLAN_CHANGED, extra=PlanChanged(previous_plan_id=was.plan_id)))
    if before is not None and after.cause_id != was.cause_id:
        moments.append(Moment(type=MEMBER_CAUSE_CHANGED, extra=CauseChanged(previous_cause_id=was.cause_id)))
    paid = fact.invoice_paid
    if paid is not None and (fact.recovered or was.status in ("past_due", "unpaid")):
        moments.append(Moment(type=MEMBER_PAYMENT_RECOVERED, extra=PaymentRecovered(invoice=paid)))
    if paid is not None and fact.renewal:
        moments.append(Moment(type=MEMBER_RENEWED, extra=Renewed(invoice=paid, recap=fact.recap)))
    if fact.upcoming is not None:
        upcoming = RenewalUpcoming(invoice=fact.upcoming, recap=fact.recap)
        moments.append(Moment(type=MEMBER_RENEWAL_UPCOMING, extra=upcoming))
    if fact.invoice_failed is not None:
        failed = PaymentFailed(invoice=fact.invoice_failed, grace_until=after.grace_until)
        moments.append(Moment(type=MEMBER_PAYMENT_FAILED, extra=failed))
    live_after = after.status in _LIVE_STATUSES
    if after.cancel_at_period_end and not was.cancel_at_period_end and live_after:
        scheduled = CancellationScheduled(ends_at=after.current_period_end)
        moments.append(Moment(type=MEMBER_CANCELLATION_SCHEDULED, extra=scheduled))
    if was.cancel_at_period_end and not after.cancel_at_period_end and live_after and not stopped:
        moments.append(Moment(type=MEMBER_RESUMED))
    if stopped and after.paused:
        moments.append(Moment(type=MEMBER_PAUSED, extra=Paused(until=after.paused_until)))
    elif stopped or (
        was.status in _LIVE_STATUSES
        and (was.paused or was.status == "paused")
        and not live_after
        and not was.perks_active
        and not started
    ):
        # Perks end now, or a paused membership is closed for good.
        moments.append(Moment(type=MEMBER_ENDED, extra=Ended(reason=ended_reason(after))))
    if fact.referral_rewarded is not None:
        moments.append(
            Moment(type=REFERRAL_REWARDED, extra=ReferralRewarded(referral=fact.referral_rewarded))
        )
    if fact.gift_purchased is not None:
        moments.append(Moment(type=GIFT_PURCHASED, extra=GiftPurchased(gift=fact.gift_purchased)))
    return moments


def ended_reason(after: Standing) -> EndedReason:
    if after.status == "canceled":
        return "canceled"
    if after.status == "unpaid":
        return "unpaid"
    return "lapsed"


# --- building the event -----------------------------------------------------------------------------


def new_event_id(now: datetime) -> str:
    """`evt_` + the time in milliseconds (12 hex digits) + 12 random hex digits.

    Ids sort as their events were created, so "newest first" and cursors are plain key order.
    """
    millis = int(now.timestamp() * 1000)
    return f"evt_{millis:012x}{secrets.token_hex(6)}"


def _following(event_id: str, step: int) -> str:
    """The id `step` after `event_id` in the same millisecond: one fact's events sort in their order."""
    if step == 0:
        return event_id
    return f"{event_id[:16]}{(int(event_id[16:], 16) + step) % (1 << 48):012x}"


def created_millis(event_id: str) -> int:
    """The creation time (Unix milliseconds) an event id carries."""
    return int(event_id[4:16], 16)


def event_of(
    moment: Moment,
    *,
    event_id: str,
    created_at: datetime,
    customer_ref: str | None,
    sequence: int | None,
    membership: Any = None,
) -> Event:
    """The event for one moment: `data.membership` (the Membership as of the fact) plus the type's extra."""
    data: dict[str, Any] = {}
    if moment.type not in BRAND_EVENT_TYPES:
        data["membership"] = msgspec.to_builtins(membership) if membership is not None else None
    if moment.extra is not None:
        data.update(msgspec.to_builtins(moment.extra))
    return Event(
        id=event_id,
        type=moment.type,
        created_at=created_at,
        customer_ref=customer_ref,
        sequence=sequence,
        data=data,
    )


def events_for_fact(
    before: Standing | None,
    after: Standing,
    fact: Fact | None = None,
    *,
    customer_ref: str,
    last_sequence: int,
    now: datetime,
    membership: Any,
) -> list[Event]:
    """Every event one membership fact makes, numbered after the shopper's `last_sequence`.

    The use case stores `last_sequence + len(result)` on the member item and adds each event to the
    fact's transaction (`store.events.add_event`), so sequences have no gaps and none repeats.
    """
    first = new_event_id(now)
    return [
        event_of(
            moment,
            event_id=_following(first, offset - 1),
            created_at=now,
            customer_ref=customer_ref,
            sequence=last_sequence + offset,
            membership=membership,
        )
        for offset, moment in enumerate(membership_moments(before, after, fact), start=1)
    ]


def brand_event(moment: Moment, now: datetime) -> Event:
    """An event about no shopper (`customer_ref` null, no `sequence`), written with its fact."""
    return event_of(moment, event_id=new_event_id(now), created_at=now, customer_ref=None, sequence=None)


def disbursement_recorded(disbursement: dict[str, Any], now: datetime) -> Event:
    """`disbursement.recorded`: the disbursement as `GET /v1/disbursements` lists it."""
    return brand_event(
        Moment(type=DISBURSEMENT_RECORDED, extra=DisbursementRecorded(disbursement=disbursement)), now
    )
