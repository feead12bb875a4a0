"""Reconciliation: re-read from Stripe the shoppers whose stored state may be stale.

Webhooks get lost (endpoint down for days, a misconfigured secret). Every shopper carries the
moment their state could next go stale (a period ending without a renewal we heard of, dunning,
a checkout never completed); the hourly job re-reads those that are due, a bounded batch per run.
"""

from __future__ import annotations

import msgspec

from chalicelib import clock, log
from chalicelib.domain.membership import SubscriptionSnapshot
from chalicelib.errors import ApiError
from chalicelib.payments import subscriptions as stripe_subscriptions
from chalicelib.services import members
from chalicelib.settings import settings
from chalicelib.store import members as store
from chalicelib.store.base import translate_storage_errors

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


def reconcile_member(customer_ref: str) -> bool:
    """Re-read one shopper's subscriptions from Stripe; True when the stored state was wrong."""
    now = clock.now()
    with translate_storage_errors():
        state = store.get_member(customer_ref)
    if state is None:
        return False
    fresh: list[SubscriptionSnapshot] = []
    if state.stripe_customer_id is not None:
        fresh = stripe_subscriptions.list_subscriptions(state.stripe_customer_id, members.observed_now())
    stored = members.apply_snapshots(customer_ref, lambda _: fresh, now)
    fixed = stored is not None and _facts(stored.subscriptions) != _facts(state.subscriptions)
    if fixed:
        logger.warning("reconciliation fixed a stale membership", extra={"customer_ref": customer_ref})
    return fixed


def reconcile(customer_refs: list[str] | None = None, limit: int | None = None) -> ReconcileResult:
    """Reconcile the given shoppers, or up to `limit` (setting `RECONCILE_BATCH_SIZE`) that are due."""
    if customer_refs is None:
        with translate_storage_errors():
            customer_refs = store.due_for_reconcile(
                clock.epoch_seconds(), limit or settings.reconcile_batch_size
            )
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
