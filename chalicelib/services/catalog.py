"""Plans and causes: brand edits (synced to Stripe for plans) and cached reads for the hot paths."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import msgspec

from chalicelib import clock
from chalicelib.domain.catalog import Cause, CauseTerms, Plan, PlanTerms
from chalicelib.errors import NotFoundError, ValidationError
from chalicelib.payments.catalog import ensure_plan_price
from chalicelib.services.cache import TtlCache
from chalicelib.settings import settings
from chalicelib.store import catalog as store

T = TypeVar("T", PlanTerms, CauseTerms)
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


def patch_plan(plan_id: str, changes: dict[str, Any]) -> Plan:
    """Change only the plan fields sent (`changes`, as JSON values); the rest stay as they are. The
    merged terms are validated as a whole (400 naming the field) and saved as `put_plan` saves them."""
    current = store.get_plan(plan_id)
    if current is None:
        raise NotFoundError(f"No plan `{plan_id}`.", param="plan_id", code="plan_not_found")
    return put_plan(plan_id, _merged(current, changes, PlanTerms))


def patch_cause(cause_id: str, changes: dict[str, Any]) -> Cause:
    """Change only the cause fields sent; deactivating a cause sends its members' new pledges to the
    default cause (their membership shows `cause_active: false`)."""
    current = store.get_cause(cause_id)
    if current is None:
        raise NotFoundError(f"No cause `{cause_id}`.", param="cause_id", code="cause_not_found")
    return put_cause(cause_id, _merged(current, changes, CauseTerms))


def _merged(current: msgspec.Struct, changes: dict[str, Any], terms: type[T]) -> T:
    fields = {f.name for f in msgspec.structs.fields(terms)}
    merged = {k: v for k, v in msgspec.to_builtins(current).items() if k in fields}
    merged.update(changes)
    try:
        return msgspec.convert(merged, terms)
    except msgspec.ValidationError as exc:
        raise ValidationError(f"Invalid change: {exc}.", param=_field_of(str(exc))) from exc


def _field_of(message: str) -> str | None:
    _, _, where = message.partition(" - at `$.")
    return where.rstrip("`") or None
