"""Operations: reconciliation with Stripe, hourly and on demand."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from chalice.app import Blueprint, Rate
from msgspec import Meta

from chalicelib import log
from chalicelib.api.routing import BRAND, Call, Example, endpoint
from chalicelib.domain.catalog import ClientId
from chalicelib.services import reconcile

admin_api = Blueprint(__name__)


class ReconcileIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Specific shoppers to re-read now (support cases); default: those that are due.
    customer_refs: Annotated[list[ClientId], Meta(min_length=1, max_length=100)] | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] | None = None


@endpoint(
    admin_api, "POST", "/v1/admin/reconcile",
    summary="Re-read members' subscriptions and paid invoices from Stripe now",
    tag="admin", roles=BRAND, body=ReconcileIn, response=reconcile.ReconcileResult, errors=(400,),
    example=Example(request={"customer_refs": ["ada"]}, response={"checked": 1, "fixed": 1, "failed": 0}),
    description="Runs the hourly reconciliation now: the shoppers that are due, or `customer_refs` "
    "(1–100 shopper ids) whatever their schedule. Heals memberships and pledges lost renewal donations, "
    "each once; `fixed` counts healed memberships and healed pledges. `failed` counts shoppers Stripe "
    "could not be asked about; they stay due.",
)  # fmt: skip
def run_reconcile(call: Call[ReconcileIn, Any]) -> reconcile.ReconcileResult:
    return reconcile.reconcile(call.body.customer_refs, call.body.limit)


@admin_api.schedule(Rate(1, unit=Rate.HOURS), name="reconcile_members")
def reconcile_members(event: Any) -> None:
    # Lambda imports this module on its own for the hourly job (app.py is not imported): set up logging here.
    log.configure()
    log.clear(job="reconcile_members")
    reconcile.reconcile()
