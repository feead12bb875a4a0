"""Plans and causes: brand edits (synced to Stripe for plans) and cached reads for the hot paths."""

from __future__ import annotations

from datetime import datetime

from chalicelib import clock
from chalicelib.domain.catalog import Cause, CauseTerms, Plan, PlanTerms
from chalicelib.payments.catalog import ensure_plan_price
from chalicelib.services.cache import TtlCache
from chalicelib.settings import settings
from chalicelib.store import catalog as store

# Plans and causes change rarely; each container re-reads them at most once a minute.
_plans: TtlCache[str, dict[str, Plan]] = TtlCache(settings.cache_ttl_seconds)
_causes: TtlCache[str, dict[str, Cause]] = TtlCache(settings.cache_ttl_seconds)


def put_plan(plan_id: str, terms: PlanTerms) -> Plan:
    """Create or update a plan: Stripe first (Product + Price), then our record.

    If Stripe is unreachable nothing is written; if our write fails after Stripe succeeded, the
    retry finds the same Product and Price and completes.
    """
    price = ensure_plan_price(plan_id, terms)
    now = clock.now()
    previous = store.get_plan(plan_id)
    plan = Plan(
        plan_id=plan_id,
        stripe_product_id=price.product_id,
        stripe_price_id=price.price_id,
        # The disclosure's "since": kept while the donation terms stay the same.
        donation_since=donation_since(previous, terms, now),
        **{f: getattr(terms, f) for f in terms.__struct_fields__},
    )
    store.save_plan(plan, now)
    _plans.invalidate()
    return plan


def donation_since(previous: Plan | None, terms: PlanTerms, now: datetime) -> datetime:
    """When the plan's donation terms took effect: unchanged terms keep their date, new ones start now."""
    if previous is not None and previous.donation == terms.donation and previous.donation_since is not None:
        return previous.donation_since
    return now


def put_cause(cause_id: str, terms: CauseTerms) -> Cause:
    """Create or update a cause."""
    cause = Cause(cause_id=cause_id, **{f: getattr(terms, f) for f in terms.__struct_fields__})
    store.save_cause(cause, clock.now())
    _causes.invalidate()
    return cause


def plans() -> dict[str, Plan]:
    """Every plan by id, from the container's cache (at most `CACHE_TTL_SECONDS` old)."""
    return _plans.get_or_load("all", lambda: {p.plan_id: p for p in store.list_plans()})


def causes() -> dict[str, Cause]:
    """Every cause by id, from the container's cache (at most `CACHE_TTL_SECONDS` old)."""
    return _causes.get_or_load("all", lambda: {c.cause_id: c for c in store.list_causes()})


def invalidate() -> None:
    """Drop cached plans and causes (tests, and after brand edits in this container)."""
    _plans.invalidate()
    _causes.invalidate()
