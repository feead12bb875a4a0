"""Reconciliation: re-read from Stripe the shoppers whose stored state may be stale.

Webhooks get lost (endpoint down for days, a misconfigured secret). Every shopper carries the
moment their state could next go stale (a period ending without a renewal we heard of, dunning,
a checkout never completed, perks ending by the clock); the hourly job re-reads those that are due,
a bounded batch per run:
their subscriptions, and their subscriptions' recent paid invoices, so a renewal whose
`invoice.paid` was lost still pledges its donation, once.

A run never outlives its invocation: before each shopper (and each further Stripe call) it checks that
the time left still covers one shopper's worst case against a hung Stripe, and otherwise stops and
says how many it left. Those stay due; the next run starts at another bucket of the reconcile index.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import msgspec
from msgspec import Meta

from chalicelib import budget, clock, invocation, log
from chalicelib.domain.member import Member, PaidInvoice
from chalicelib.domain.membership import SubscriptionSnapshot
from chalicelib.domain.times import from_epoch
from chalicelib.errors import ApiError
from chalicelib.payments import subscriptions as stripe_subscriptions
from chalicelib.services import members, stripe_events
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.settings import settings
from chalicelib.store import members as store
from chalicelib.store.shards import reconcile_buckets

logger = log.get_logger("reconcile")


class ReconcileResult(msgspec.Struct):
    checked: Annotated[int, Meta(description="Shoppers re-read from Stripe.")]
    fixed: Annotated[int, Meta(description="Memberships healed plus lost renewal pledges recorded.")]
    failed: Annotated[int, Meta(description="Shoppers Stripe could not be asked about; they stay due.")] = 0
    left: Annotated[
        int, Meta(description="Shoppers of this run not re-read because time ran short; they stay due.")
    ] = 0
    stopped_early: Annotated[
        bool, Meta(description="The run stopped before the function's time ran out; call again to continue.")
    ] = False


class _OutOfTimeError(Exception):
    """Not enough time left for one more shopper's worst case; nothing of that shopper was written."""


def shopper_worst_case(limits: budget.Budget) -> float:
    """The longest one shopper can take against a hung Stripe: one Stripe call's worst case and one
    DynamoDB call's, the allowance every request's budget is built on (`chalicelib.budget`)."""
    return limits.stripe.worst_case + limits.dynamodb.worst_case


def _time_for_a_shopper(limits: budget.Budget) -> bool:
    """Whether the invocation can still afford a shopper's worst case and answer in time.

    The headroom every answer keeps (Lambda timeout − `answer`) is not spent.
    """
    headroom = limits.lambda_timeout - limits.answer
    return invocation.remaining_seconds() - headroom >= shopper_worst_case(limits)


def _facts(snapshots: list[SubscriptionSnapshot]) -> set[tuple[object, ...]]:
    """What matters about subscriptions, without when we observed it."""
    return {
        (
            s.subscription_id,
            s.status,
            s.plan_id,
            s.current_period_end,
            s.cancel_at_period_end,
            s.pause_behavior,
            s.pause_resumes_at,
        )
        for s in snapshots
    }


# Paid invoices of a subscription that ended longer ago than this are not looked for any more
# (Stripe retries a delivery for 3 days; the hourly job has had hundreds of chances).
ENDED_LOOKBACK = timedelta(days=35)


def reconcile_member(customer_ref: str, uow: UnitOfWork, limits: budget.Budget) -> int:
    """Re-read one shopper's subscriptions and recent paid invoices from Stripe; how many fixes it made.

    Everything is read from Stripe first. Then one transaction heals the membership (if it was
    stale), and one transaction per paid invoice not yet accounted for records it with its renewal
    pledge; the pledge's ledger id keeps it single whichever path (webhook or this) comes first.
    """
    now = clock.now()
    with uow:
        member = uow.members.get(customer_ref)
    if member is None:
        return 0
    fresh: list[SubscriptionSnapshot] = []
    missing: list[PaidInvoice] = []
    if member.stripe_customer_id is not None:
        fresh = stripe_subscriptions.list_subscriptions(member.stripe_customer_id, members.observed_now())
        for subscription in fresh:
            if _may_have_paid_invoices(subscription, now):
                if not _time_for_a_shopper(limits):
                    raise _OutOfTimeError  # nothing written yet: the shopper stays due
                paid = stripe_subscriptions.recent_paid_invoices(subscription.subscription_id)
                missing += [i for i in paid if not member.has_accounted_for(i.invoice_id)]
    before = _facts(member.subscriptions)

    def heal(current: Member | None, _: members.MemberChange) -> Member | None:
        # Written even when Stripe says nothing new: a visit due when perks end by the clock is the
        # write that tells the lapse (`member.ended`) and moves the cohort counters.
        if current is not None:
            current.observe(fresh)
        return current

    stored = members.change_member(customer_ref, heal, now, uow, loaded=member)
    fixes = int(stored is not None and _facts(stored.subscriptions) != before)
    if fixes:
        logger.warning("reconciliation fixed a stale membership", extra={"customer_ref": customer_ref})
    for invoice in sorted(missing, key=lambda i: (i.paid_at, i.invoice_id)):
        if _pledge(customer_ref, invoice, now, uow):
            fixes += 1
            logger.warning("reconciliation pledged a lost renewal", extra={"invoice_id": invoice.invoice_id})
    return fixes


def _pledge(customer_ref: str, invoice: PaidInvoice, now: datetime, uow: UnitOfWork) -> bool:
    """Account for one paid invoice in its own transaction; True when this added its pledge."""
    pledged = False

    def account(current: Member | None, change: members.MemberChange) -> Member | None:
        nonlocal pledged
        if current is None or current.has_accounted_for(invoice.invoice_id):
            pledged = False  # the webhook got there first
            return None
        pledged = stripe_events.account_for_invoice(current, invoice, change)
        return current

    members.change_member(customer_ref, account, now, uow)
    return pledged


def _may_have_paid_invoices(subscription: SubscriptionSnapshot, now: datetime) -> bool:
    if subscription.status in ("incomplete", "incomplete_expired"):
        return False
    return subscription.ended_at is None or from_epoch(subscription.ended_at) >= now - ENDED_LOOKBACK


def next_first_bucket(now_epoch: int) -> int:
    """The reconcile-index bucket a due-walk starts at: a different one each hour, every one in turn."""
    return (now_epoch // 3600) % len(reconcile_buckets())


def reconcile(
    uow: UnitOfWork,
    limits: budget.Budget,
    customer_refs: list[str] | None = None,
    limit: int | None = None,
) -> ReconcileResult:
    """Reconcile the given shoppers, or up to `limit` (setting `RECONCILE_BATCH_SIZE`) that are due.

    Stops early when the invocation's remaining time no longer covers one shopper's worst case under
    `limits` (the budget Stripe calls are made within); `left` counts the shoppers of this run not
    re-read (they stay due).
    """
    if customer_refs is None:
        now_epoch = clock.epoch_seconds()
        customer_refs = store.due_for_reconcile(
            now_epoch, limit or settings.reconcile_batch_size, next_first_bucket(now_epoch)
        )
    result = ReconcileResult(checked=0, fixed=0)
    for position, customer_ref in enumerate(customer_refs):
        log.bind(customer_ref=customer_ref)
        try:
            if not _time_for_a_shopper(limits):
                raise _OutOfTimeError
            result.fixed += reconcile_member(customer_ref, uow, limits)
            result.checked += 1
        except _OutOfTimeError:
            result.left = len(customer_refs) - position
            result.stopped_early = True
            break
        except ApiError as exc:
            # One shopper's failure (Stripe hiccup) must not stop the batch; they stay due.
            result.failed += 1
            logger.error("reconciliation failed", extra={"error": exc.code, "detail": exc.message})
    if result.stopped_early:
        logger.warning(
            "reconciliation stopped early: out of time",
            extra={"left": result.left, "remaining_seconds": round(invocation.remaining_seconds(), 3)},
        )
    logger.info(
        "reconciliation run",
        extra={k: getattr(result, k) for k in ("checked", "fixed", "failed", "left")},
    )
    return result
