"""Reconciliation: re-read from Stripe the shoppers whose stored state may be stale.

Webhooks get lost (endpoint down for days, a misconfigured secret). Every shopper carries the
moment their state could next go stale (a period ending without a renewal we heard of, dunning,
a checkout never completed); the hourly job re-reads those that are due, a bounded batch per run:
their subscriptions, and their subscriptions' recent paid invoices, so a renewal whose
`invoice.paid` was lost still pledges its donation, once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from chalicelib import clock, log
from chalicelib.domain.member import Member, PaidInvoice
from chalicelib.domain.membership import SubscriptionSnapshot
from chalicelib.domain.times import from_epoch
from chalicelib.errors import ApiError
from chalicelib.payments import subscriptions as stripe_subscriptions
from chalicelib.services import members, stripe_events
from chalicelib.settings import settings
from chalicelib.store import members as store
from chalicelib.store.unit_of_work import MemberUnitOfWork

logger = log.get_logger("reconcile")


class ReconcileResult(msgspec.Struct):
    checked: int
    fixed: int
    failed: int = 0


def _facts(snapshots: list[SubscriptionSnapshot]) -> set[tuple[object, ...]]:
    """What matters about subscriptions, without when we observed it."""
    return {
        (s.subscription_id, s.status, s.plan_id, s.current_period_end, s.cancel_at_period_end)
        for s in snapshots
    }


# Paid invoices of a subscription that ended longer ago than this are not looked for any more
# (Stripe retries a delivery for 3 days; the hourly job has had hundreds of chances).
ENDED_LOOKBACK = timedelta(days=35)


def reconcile_member(customer_ref: str) -> int:
    """Re-read one shopper's subscriptions and recent paid invoices from Stripe; how many fixes it made.

    Everything is read from Stripe first. Then one transaction heals the membership (if it was
    stale), and one transaction per paid invoice not yet accounted for records it with its renewal
    pledge; the pledge's ledger id keeps it single whichever path (webhook or this) comes first.
    """
    now = clock.now()
    uow = MemberUnitOfWork(customer_ref)
    member = uow.load()
    if member is None:
        return 0
    fresh: list[SubscriptionSnapshot] = []
    missing: list[PaidInvoice] = []
    if member.stripe_customer_id is not None:
        fresh = stripe_subscriptions.list_subscriptions(member.stripe_customer_id, members.observed_now())
        for subscription in fresh:
            if _may_have_paid_invoices(subscription, now):
                paid = stripe_subscriptions.recent_paid_invoices(subscription.subscription_id)
                missing += [i for i in paid if not member.has_accounted_for(i.invoice_id)]
    before = _facts(member.subscriptions)

    def heal(current: Member | None, _: MemberUnitOfWork) -> Member | None:
        if current is not None:
            current.observe(fresh)
        return current

    stored = members.change_member(customer_ref, heal, now, loaded=(uow, member))
    fixes = int(stored is not None and _facts(stored.subscriptions) != before)
    if fixes:
        logger.warning("reconciliation fixed a stale membership", extra={"customer_ref": customer_ref})
    for invoice in sorted(missing, key=lambda i: (i.paid_at, i.invoice_id)):
        if _pledge(customer_ref, invoice, now):
            fixes += 1
            logger.warning("reconciliation pledged a lost renewal", extra={"invoice_id": invoice.invoice_id})
    return fixes


def _pledge(customer_ref: str, invoice: PaidInvoice, now: datetime) -> bool:
    """Account for one paid invoice in its own transaction; True when this added its pledge."""
    pledged = False

    def account(current: Member | None, unit: MemberUnitOfWork) -> Member | None:
        nonlocal pledged
        if current is None or current.has_accounted_for(invoice.invoice_id):
            pledged = False  # the webhook got there first
            return None
        pledged = stripe_events.account_for_invoice(current, invoice, unit)
        return current

    members.change_member(customer_ref, account, now)
    return pledged


def _may_have_paid_invoices(subscription: SubscriptionSnapshot, now: datetime) -> bool:
    if subscription.status in ("incomplete", "incomplete_expired"):
        return False
    return subscription.ended_at is None or from_epoch(subscription.ended_at) >= now - ENDED_LOOKBACK


def reconcile(customer_refs: list[str] | None = None, limit: int | None = None) -> ReconcileResult:
    """Reconcile the given shoppers, or up to `limit` (setting `RECONCILE_BATCH_SIZE`) that are due."""
    if customer_refs is None:
        customer_refs = store.due_for_reconcile(clock.epoch_seconds(), limit or settings.reconcile_batch_size)
    result = ReconcileResult(checked=0, fixed=0)
    for customer_ref in customer_refs:
        log.bind(customer_ref=customer_ref)
        try:
            result.fixed += reconcile_member(customer_ref)
            result.checked += 1
        except ApiError as exc:
            # One shopper's failure (Stripe hiccup) must not stop the batch; they stay due.
            result.failed += 1
            logger.error("reconciliation failed", extra={"error": exc.code, "detail": exc.message})
    logger.info("reconciliation run", extra={"checked": result.checked, "fixed": result.fixed})
    return result
