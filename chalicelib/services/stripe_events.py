"""Applying Stripe's webhook events to memberships: exactly once each, never letting an older state win.

One shape for every event: find the shopper, load them once, read Stripe at most once (before
anything is written, never inside the retry loop), let the member aggregate decide, and commit the
membership change, the renewal pledge and the record that the event was applied in one
DynamoDB transaction (`store.unit_of_work`).

Stripe delivers at least once and in any order, and stamps several events of one subscription with
the same second. So an event's payload is kept only when it is strictly newer than what is stored;
otherwise (a tie, or older) the subscription is read from Stripe and that is kept. Invoice and
checkout events carry no subscription state, so they read it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

from chalicelib import clock, log
from chalicelib.domain.conflicts import EventAlreadyAppliedError
from chalicelib.domain.events import Fact, InvoiceData, UpcomingInvoice
from chalicelib.domain.giving import cause_active
from chalicelib.domain.member import Member, PaidInvoice, renewal_pledge_id
from chalicelib.domain.membership import SubscriptionSnapshot
from chalicelib.domain.referral import REWARDED, BalanceMove, Referral
from chalicelib.domain.times import from_epoch, month_of
from chalicelib.errors import ServiceUnavailableError
from chalicelib.payments import referrals as stripe_referrals
from chalicelib.payments import subscriptions as stripe_subscriptions
from chalicelib.payments.events import (
    Charge,
    CheckoutSession,
    Dispute,
    IgnoredEvent,
    Invoice,
    StripeEvent,
    Subscription,
    snapshot_of,
)
from chalicelib.services import gifts, members, referrals
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.settings import settings
from chalicelib.store import idempotency
from chalicelib.store import members as store

logger = log.get_logger("stripe_events")


@dataclass(slots=True)
class Facts:
    """What one event tells about a shopper, with what Stripe said when it had to be asked."""

    payload: SubscriptionSnapshot | None = None
    # The subscription as Stripe has it now (read once, before the unit of work), when needed.
    fresh: SubscriptionSnapshot | None = None
    stripe_customer_id: str | None = None
    paid_invoice: PaidInvoice | None = None
    snapshots: list[SubscriptionSnapshot] = field(default_factory=list)
    # For the outbound events: a payment failed, a renewal coming.
    failed_invoice: InvoiceData | None = None
    upcoming: UpcomingInvoice | None = None
    # A refund or dispute of one of the shopper's charges: (what, when).
    charge_trouble: tuple[Literal["refunded", "disputed"], datetime] | None = None


class SubscriptionReader(Protocol):
    """How an event's subscription is read from Stripe (`payments.subscriptions`; a fake in tests)."""

    def retrieve_subscription(self, subscription_id: str, observed_at: float) -> SubscriptionSnapshot: ...


def apply_stripe_event(
    event: StripeEvent | IgnoredEvent, uow: UnitOfWork, stripe: SubscriptionReader = stripe_subscriptions
) -> str:
    """Apply one verified event. Returns what happened: applied, duplicate, ignored or unknown_customer.

    Raises only for transient failures (DynamoDB or Stripe unreachable), so Stripe retries.
    """
    log.bind(stripe_event_id=event.id, stripe_event_type=event.type)
    read_facts = FACTS.get(event.type)
    if isinstance(event, IgnoredEvent) or read_facts is None:
        return "ignored"
    if isinstance(event.object, CheckoutSession) and gifts.is_gift(event.object):
        return gifts.record_purchase(event, uow)
    customer_ref = _customer_ref(event.object)
    if customer_ref is None:
        logger.info("event for a customer we do not know", extra={"stripe_customer": _customer(event)})
        return "unknown_customer"
    log.bind(customer_ref=customer_ref)
    with uow:
        member = uow.members.get(customer_ref)
    if member is None:
        return "unknown_customer"
    facts = read_facts(event, member, stripe)
    now = clock.now()
    expires_at = now + timedelta(days=settings.stripe_event_ttl_days)
    key = idempotency.stripe_event_key(event.id)

    # A refund or dispute may take back a reward already credited: the referrer's count and balance move
    # commit with the friend's referral, under the referrer's version too.
    referrer_ref = member.referred.referrer_ref if facts.charge_trouble and member.referred else None
    refs = [customer_ref, *([referrer_ref] if referrer_ref and referrer_ref != customer_ref else [])]

    def decide(
        loaded: Mapping[str, Member | None], changes: Mapping[str, members.MemberChange]
    ) -> list[Member]:
        current, change = loaded[customer_ref], changes[customer_ref]
        if current is None:
            return []
        if facts.payload is not None and facts.fresh is None and current.needs_fresh_state(facts.payload):
            # Another writer stored a state this event ties with after we decided not to ask
            # Stripe; Stripe is asked once per delivery, so let Stripe deliver again.
            raise ServiceUnavailableError("The shopper changed while the event was applied; retry.")
        current.observe(facts.snapshots)
        current.link_stripe_customer(facts.stripe_customer_id)
        if facts.paid_invoice is not None:
            account_for_invoice(current, facts.paid_invoice, change)
        if facts.failed_invoice is not None:
            current.dunning_invoice = facts.failed_invoice.id
            change.note(Fact(invoice_failed=facts.failed_invoice))
        if facts.upcoming is not None:
            change.note(Fact(upcoming=facts.upcoming), recap_in=facts.upcoming.currency)
        changed = [current]
        if facts.charge_trouble is not None and current.referred is not None:
            before = current.referred
            current.referred = before.charge_troubled(*facts.charge_trouble)
            if current.referred != before:
                change.change_referral(before, current.referred)
            referrer = loaded.get(before.referrer_ref)
            if before.state == REWARDED and current.referred.clawed_back and referrer is not None:
                claw_back(current.customer_ref, before, referrer, change)
                changed.append(referrer)
        change.record_event(key, expires_at)
        return changed

    try:
        stored = members.change_members(refs, decide, now, uow, loaded={customer_ref: member})
    except EventAlreadyAppliedError:
        return "duplicate"
    if customer_ref not in stored:
        return "unknown_customer"
    logger.info("stripe event applied")
    if len(stored) > 1:
        referrals.make_balance_moves(friend_ref=customer_ref)
    return "applied"


def claw_back(friend_ref: str, rewarded: Referral, referrer: Member, change: members.MemberChange) -> None:
    """A rewarded referral was withheld (a refund or dispute made before the hold ended, delivered after the
    reward): the referrer's year gets its slot back and their Stripe balance is debited the credit (a
    pointer committed with this change, made in Stripe right after it, or by the hourly job)."""
    year = rewarded.reward_year
    if year is not None:
        referrer.count_referral_reward(year, -1)
    credit = rewarded.credit
    if credit is not None and referrer.stripe_customer_id is not None:
        change.add_balance_move(
            BalanceMove(friend_ref, "debit", referrer.stripe_customer_id, credit.amount, credit.currency)
        )


def account_for_invoice(member: Member, invoice: PaidInvoice, change: members.MemberChange) -> bool:
    """Record a paid invoice on the member and, once per invoice, add its renewal pledge to the change.

    Returns True when a pledge was added. Whichever path sees an invoice first (webhook or
    reconciliation) pledges it; the ledger entry's id makes a second pledge impossible. The same
    first time, the fee counts in the program report, the member's `value` and the member's cohort
    (same transaction), a new period starts, and the payment is noted for the outbound events
    (`member.renewed` with the recap of the period that ended, `member.payment_recovered`).
    """
    plan = change.uow.catalog.plans().get(member.plan_of(invoice.subscription_id) or "")
    pledged_before = change.recorded_before(renewal_pledge_id(invoice.invoice_id))
    first_time = not member.has_accounted_for(invoice.invoice_id) and not pledged_before
    if member.referred is not None and not member.has_accounted_for(invoice.invoice_id):
        # The friend's payments move their referral on: joined, then the hold of the first one above zero.
        before = member.referred
        member.referred = before.paid(
            invoice.invoice_id,
            invoice.amount_paid,
            invoice.paid_at,
            timedelta(days=settings.referral_hold_days),
        )
        if member.referred != before:
            change.change_referral(before, member.referred)
    if first_time and invoice.amount_paid > 0:
        change.add_fee(invoice.invoice_id, month_of(invoice.paid_at), invoice.currency, invoice.amount_paid)
    if first_time:
        paid = InvoiceData(id=invoice.invoice_id, amount=invoice.amount_paid, currency=invoice.currency,
                           period_start=invoice.period_start, period_end=invoice.period_end)  # fmt: skip
        # Paying the invoice that failed is a recovery, whichever of Stripe's events came first.
        recovered = member.dunning_invoice == invoice.invoice_id
        member.dunning_invoice = None if recovered else member.dunning_invoice
        fact = Fact(invoice_paid=paid, renewal=invoice.renewal, recovered=recovered)
        change.note(fact, period_ends_in=invoice.currency)
    pledge = member.record_paid_invoice(
        invoice,
        plan.donation.renewal_bps if plan is not None else None,
        settings.default_cause_id,
        pledged_before=pledged_before,
        cause_active=cause_active(member.cause_id, change.uow.catalog.causes()),
    )
    if pledge is not None:
        change.add_ledger_entry(pledge)
        return True
    if plan is None and invoice.amount_paid > 0:
        logger.warning("membership fee without a plan; no pledge", extra={"invoice_id": invoice.invoice_id})
    return False


def _subscription_facts(event: StripeEvent, member: Member, stripe: SubscriptionReader) -> Facts:
    """A subscription's own state: kept when strictly newer than the stored one, else Stripe is asked."""
    obj = event.object
    assert isinstance(obj, Subscription)
    payload = snapshot_of(obj, event.created)
    fresh = _read(stripe, payload.subscription_id) if member.needs_fresh_state(payload) else None
    return Facts(payload=payload, fresh=fresh, stripe_customer_id=obj.customer,
                 snapshots=[payload, *([fresh] if fresh else [])])  # fmt: skip


def _checkout_facts(event: StripeEvent, member: Member, stripe: SubscriptionReader) -> Facts:
    """A completed checkout carries no subscription state: read it, and link the Stripe customer."""
    obj = event.object
    assert isinstance(obj, CheckoutSession)
    fresh = _read(stripe, obj.subscription) if obj.subscription else None
    return Facts(fresh=fresh, stripe_customer_id=obj.customer, snapshots=[fresh] if fresh else [])


def _invoice_facts(event: StripeEvent, member: Member, stripe: SubscriptionReader) -> Facts:
    """An invoice's subscription, read from Stripe; for `invoice.paid`, the payment to account for."""
    obj = event.object
    assert isinstance(obj, Invoice)
    subscription_id = obj.subscription_id
    fresh = _read(stripe, subscription_id) if subscription_id else None
    facts = Facts(fresh=fresh, snapshots=[fresh] if fresh else [])
    period = obj.period
    start, end = (from_epoch(period[0]), from_epoch(period[1])) if period else (None, None)
    if event.type == "invoice.paid":
        paid_at = from_epoch(obj.status_transitions.paid_at or event.created)
        facts.paid_invoice = PaidInvoice(obj.id, subscription_id, obj.amount_paid, obj.currency, paid_at,
                                         renewal=obj.renews, period_start=start, period_end=end)  # fmt: skip
    elif event.type == "invoice.payment_failed":
        amount = obj.amount_due if obj.amount_due is not None else obj.amount_paid
        facts.failed_invoice = InvoiceData(id=obj.id, amount=amount, currency=obj.currency,
                                           period_start=start, period_end=end)  # fmt: skip
    elif event.type == "invoice.upcoming":
        renews_at = obj.next_payment_attempt or (period[0] if period else obj.created)
        facts.upcoming = UpcomingInvoice(amount=obj.amount_due or 0, currency=obj.currency,
                                         renews_at=from_epoch(renews_at))  # fmt: skip
    return facts


def _charge_facts(event: StripeEvent, member: Member, stripe: SubscriptionReader) -> Facts:
    """A refund or dispute of the shopper's payment: it withholds a referral reward still on hold."""
    what: Literal["refunded", "disputed"] = "refunded" if event.type == "charge.refunded" else "disputed"
    return Facts(charge_trouble=(what, from_epoch(event.created)))


# Event type → what the event tells (reading Stripe at most once, before anything is written).
FACTS: dict[str, Callable[[StripeEvent, Member, SubscriptionReader], Facts]] = {
    "checkout.session.completed": _checkout_facts,
    "customer.subscription.created": _subscription_facts,
    "customer.subscription.updated": _subscription_facts,
    "customer.subscription.deleted": _subscription_facts,
    "customer.subscription.paused": _subscription_facts,
    "customer.subscription.resumed": _subscription_facts,
    "invoice.paid": _invoice_facts,
    "invoice.payment_failed": _invoice_facts,
    "invoice.upcoming": _invoice_facts,
    "charge.refunded": _charge_facts,
    "charge.dispute.created": _charge_facts,
}


def _read(stripe: SubscriptionReader, subscription_id: str) -> SubscriptionSnapshot:
    return stripe.retrieve_subscription(subscription_id, members.observed_now())


def _customer_ref(obj: Subscription | CheckoutSession | Invoice | Charge | Dispute) -> str | None:
    """Our shopper: from the metadata we set at checkout, else by the Stripe customer id."""
    if isinstance(obj, Dispute):
        # A dispute names only its charge: Stripe is asked whose it was (before anything is written).
        customer = stripe_referrals.customer_of_charge(obj.charge)
        return store.find_by_stripe_customer(customer) if customer else None
    if isinstance(obj, Charge):
        return store.find_by_stripe_customer(obj.customer) if obj.customer else None
    if isinstance(obj, Subscription):
        metadata = obj.metadata
    elif isinstance(obj, Invoice):
        metadata = obj.subscription_metadata
    else:
        metadata = obj.metadata or {}
        if not metadata.get("customer_ref") and obj.client_reference_id:
            return obj.client_reference_id
    if metadata.get("customer_ref"):
        return metadata["customer_ref"]
    if obj.customer:
        return store.find_by_stripe_customer(obj.customer)
    return None


def _customer(event: StripeEvent) -> str | None:
    return getattr(event.object, "customer", None)
