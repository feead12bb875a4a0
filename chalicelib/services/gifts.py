"""Gift memberships: buying one (a one-time Checkout), recording it when Stripe says it is paid, redeeming it.

Money flow: the purchaser pays `months` × the plan's monthly price once. When `checkout.session.completed`
reports it paid, one transaction records the gift with its single-use code, counts the payment in the
program's `fees` for the month, pledges `renewal_bps` of it to the purchaser's cause (ledger entry
`pledge#gift#<gift_id>`, source `{gift_id}`) and adds `gift.purchased` (the brand's e-mail tool sends the
code to the recipient). Redeeming sets `gifted_until` (perks as the plan's until then), or — for a shopper
already paying — credits what the gift cost to their Stripe customer balance, which Stripe takes off their
next renewals.
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib import clock, log
from chalicelib.domain import events as outbound
from chalicelib.domain import gift as rules
from chalicelib.domain import membership as membership_rules
from chalicelib.domain.conflicts import EventAlreadyAppliedError, GiftRedeemedError
from chalicelib.domain.donations import PLEDGE, LedgerEntry, Posting
from chalicelib.domain.events import Fact
from chalicelib.domain.gift import GIFT_KIND, Gift
from chalicelib.domain.member import Member
from chalicelib.domain.times import from_epoch, month_of
from chalicelib.errors import ConflictError, NotFoundError, ValidationError
from chalicelib.payments import gifts as stripe_gifts
from chalicelib.payments import referrals as stripe_balance
from chalicelib.payments.events import CheckoutSession, StripeEvent
from chalicelib.services import catalog, members
from chalicelib.services.access import access_of, access_policy
from chalicelib.services.members import CheckoutStarted, Membership
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.settings import settings
from chalicelib.store import idempotency
from chalicelib.store import members as store

logger = log.get_logger("gifts")


def start_gift_checkout(
    *,
    purchaser_ref: str,
    plan_id: str,
    months: int,
    recipient_email: str,
    message: str | None,
    success_url: str,
    cancel_url: str,
) -> CheckoutStarted:
    """A one-time Stripe Checkout for `months` of the plan; nothing is recorded until it is paid."""
    plan = catalog.plans().get(plan_id)
    if plan is None or not plan.active:
        raise ValidationError(f"No active plan `{plan_id}`.", param="plan_id", code="unknown_plan")
    session_id, url = stripe_gifts.create_gift_checkout(
        stripe_gifts.GiftCheckout(
            purchaser_ref=purchaser_ref,
            plan_id=plan_id,
            plan_name=plan.name,
            months=months,
            monthly_amount=rules.monthly_price(plan.amount, plan.interval),
            currency=plan.currency,
            recipient_email=recipient_email,
            message=message,
            success_url=success_url,
            cancel_url=cancel_url,
        )
    )
    logger.info("gift checkout started", extra={"customer_ref": purchaser_ref, "plan_id": plan_id})
    return CheckoutStarted(checkout_url=url, session_id=session_id)


def is_gift(session: CheckoutSession) -> bool:
    return session.mode == "payment" and (session.metadata or {}).get("kind") == GIFT_KIND


def record_purchase(event: StripeEvent, uow: UnitOfWork) -> str:
    """A paid gift Checkout: the gift, its fee, its pledge and `gift.purchased`, once."""
    session = event.object
    assert isinstance(session, CheckoutSession)
    metadata = session.metadata or {}
    if session.payment_status != "paid" or not session.amount_total or not session.currency:
        return "ignored"
    gift_id, code = rules.gift_ids(session.id)
    paid_at = from_epoch(event.created)
    gift = Gift(
        gift_id=gift_id,
        code=code,
        plan_id=metadata.get("plan_id", ""),
        months=int(metadata.get("months", "0") or 0),
        recipient_email=metadata.get("recipient_email", ""),
        message=metadata.get("message") or None,
        purchaser_ref=metadata.get("purchaser_ref", ""),
        amount=session.amount_total,
        currency=session.currency,
        paid_at=paid_at,
    )
    if not gift.purchaser_ref:
        # Only a Checkout made outside this service lacks it (`POST /v1/gifts/checkout` requires it): the
        # payment is the brand's to refund or record by hand, so an operator is told.
        logger.error("paid gift checkout without a purchaser; not recorded", extra={"session": session.id})
        return "ignored"
    plan = catalog.plans().get(gift.plan_id)
    pledge = rules.gift_pledge(gift.amount, plan.donation.renewal_bps) if plan is not None else 0
    now = clock.now()
    key = idempotency.stripe_event_key(event.id)
    entry_id = f"pledge#gift#{gift_id}"

    def decide(current: Member | None, change: members.MemberChange) -> Member:
        # A purchaser never seen before becomes a shopper without a subscription (as a checkout start
        # does): `gift.purchased` is one of their events, numbered in their sequence.
        purchaser = current or Member(customer_ref=gift.purchaser_ref)
        change.uow.gifts.add(gift, key)
        cause_id = purchaser.cause_id or settings.default_cause_id
        if pledge > 0 and cause_id is not None and not change.recorded_before(entry_id):
            entry = LedgerEntry(PLEDGE, cause_id, gift.currency, pledge, month_of(paid_at))
            change.uow.ledger.add(Posting(entry_id, entry, paid_at, gift.purchaser_ref), now)
        change.record_event(key, now + timedelta(days=settings.stripe_event_ttl_days))
        change.note(Fact(gift_purchased=_gift_data(gift)))
        return purchaser

    try:
        members.change_member(gift.purchaser_ref, decide, now, uow)
    except EventAlreadyAppliedError:
        return "duplicate"
    return "applied"


def _gift_data(gift: Gift) -> outbound.GiftData:
    """`data.gift` of `gift.purchased` (an event of the purchaser): the code the brand's e-mail tool sends
    to the recipient."""
    return outbound.GiftData(
        code=gift.code,
        plan_id=gift.plan_id,
        months=gift.months,
        recipient_email=gift.recipient_email,
        message=gift.message,
    )


def redeem(customer_ref: str, code: str, uow: UnitOfWork) -> Membership:
    """Redeem a gift code for the shopper → their membership.

    404 `gift_not_found` for a code this service did not issue; 409 `gift_redeemed` once it was redeemed.
    A shopper without a paying subscription gets `gifted_until`; one already paying gets the gift's price
    as a Stripe balance credit (their next renewals are covered; no double perks).
    """
    gift = uow.gifts.get(rules.normalise_code(code))
    if gift is None:
        raise NotFoundError("No gift with this code.", param="code", code="gift_not_found")
    if gift.redeemed_by is not None:
        raise _redeemed()
    now = clock.now()
    state = store.get_member(customer_ref)
    subscription = access_of(state, now).subscription if state is not None else None
    paying = (
        state is not None
        and state.stripe_customer_id is not None
        and membership_rules.perks_active(subscription, now, access_policy())
        and subscription is not None
        and not subscription.cancel_at_period_end
    )
    if paying:
        assert state is not None and state.stripe_customer_id is not None and subscription is not None
        if subscription.currency not in (None, gift.currency):
            raise ConflictError(
                f"The gift is in {gift.currency}, the membership is billed in {subscription.currency}.",
                param="code",
                code="currency_mismatch",
            )
        stripe_balance.credit_balance(
            state.stripe_customer_id,
            gift.amount,
            gift.currency,
            idempotency_key=f"vip-gift-{gift.gift_id}-{customer_ref}",
            description=f"Gift membership {gift.code}: {gift.months} month(s) of {gift.plan_id}",
        )
    redeemed = gift.redeemed(customer_ref, now, as_credit=paying)

    def decide(current: Member | None, change: members.MemberChange) -> Member:
        member = current or Member(customer_ref=customer_ref)
        if not paying:
            member.gifted_until = rules.extend_gift(member.gifted_until, now, gift.months)
            member.gifted_plan_id = gift.plan_id
        change.uow.gifts.redeem(redeemed)
        return member

    try:
        stored = members.change_member(customer_ref, decide, now, uow)
    except GiftRedeemedError as exc:
        raise _redeemed() from exc
    assert stored is not None
    logger.info("gift redeemed", extra={"customer_ref": customer_ref, "as_credit": paying})
    return members.render(stored, now)


def _redeemed() -> ConflictError:
    return ConflictError("This gift code has already been redeemed.", param="code", code="gift_redeemed")
