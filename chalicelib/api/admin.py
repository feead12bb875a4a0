"""Operations: reconciliation with Stripe, hourly and on demand."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from chalice.app import Blueprint, Rate
from msgspec import Meta

from chalicelib import invocation, log
from chalicelib.api import lazy
from chalicelib.api.routing import BRAND, Call, Example, endpoint
from chalicelib.domain.catalog import ClientId
from chalicelib.settings import RECONCILE_TIMEOUT_SECONDS

if TYPE_CHECKING:
    from chalicelib.payments.client import stripe_config
    from chalicelib.services import giving, reconcile, referrals
    from chalicelib.services.reconcile import ReconcileResult
    from chalicelib.services.unit_of_work import on_dynamodb
else:  # imported by the first request (or hourly run) that needs them (api/lazy.py)
    stripe_config = lazy.function("chalicelib.payments.client", "stripe_config")
    giving = lazy.module("chalicelib.services.giving")
    reconcile = lazy.module("chalicelib.services.reconcile")
    referrals = lazy.module("chalicelib.services.referrals")
    ReconcileResult = lazy.declared("chalicelib.services.reconcile", "ReconcileResult")
    on_dynamodb = lazy.function("chalicelib.services.unit_of_work", "on_dynamodb")

admin_api = Blueprint(__name__)


class ReconcileIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Specific shoppers to re-read now (support cases); default: those that are due.
    customer_refs: Annotated[list[ClientId], Meta(min_length=1, max_length=100)] | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] | None = None


@endpoint(
    admin_api, "POST", "/v1/admin/reconcile",
    summary="Re-read members' subscriptions and paid invoices from Stripe now",
    tag="admin", roles=BRAND, body=ReconcileIn, response=ReconcileResult, errors=(400,),
    example=Example(
        request={"customer_refs": ["ada"]},
        response={"checked": 1, "fixed": 1, "failed": 0, "left": 0, "stopped_early": False},
    ),
    description="Runs the hourly reconciliation now: the shoppers that are due, or `customer_refs` "
    "(1–100 shopper ids) whatever their schedule. Heals memberships and pledges lost renewal donations, "
    "each once; `fixed` counts healed memberships and healed pledges. `failed` counts shoppers Stripe "
    "could not be asked about; they stay due. The run stops before the function's time runs out (a slow "
    "or hung Stripe): it stops when the time left no longer covers one shopper's worst case, answers "
    "`stopped_early: true` and `left`, the shoppers of this run not re-read — they stay due; call again "
    "to continue. A due-walk (no `customer_refs`) also settles the referral rewards whose hold has stood, "
    "as the hourly job does.",
)  # fmt: skip
def run_reconcile(call: Call[ReconcileIn, Any]) -> ReconcileResult:
    # The time guard reckons with the budget Stripe calls are made within.
    result = reconcile.reconcile(
        on_dynamodb(), stripe_config().budget, call.body.customer_refs, call.body.limit
    )
    if call.body.customer_refs is None:
        referrals.reward_due(on_dynamodb())
    return result


@admin_api.schedule(Rate(1, unit=Rate.HOURS), name="reconcile_members")
def reconcile_members(event: Any) -> None:
    # Lambda imports this module on its own for the hourly job (app.py is not imported): set up logging here.
    log.configure()
    context = event.context
    request_id = getattr(context, "aws_request_id", None)
    log.clear(job="reconcile_members", request_id=request_id)
    # The run's time guard reads the invocation's remaining time: record it from Lambda's context.
    invocation.start(request_id, invocation.remaining_ms_of(context), timeout=RECONCILE_TIMEOUT_SECONDS)
    try:
        # Stopped early: logged; the next hour starts at another bucket.
        reconcile.reconcile(on_dynamodb(), stripe_config().budget)
        # The same hour: causes whose payout became overdue get `cause.payout_overdue` (once per stretch),
        # and referral rewards whose hold has stood are credited.
        giving.check_payouts(on_dynamodb())
        referrals.reward_due(on_dynamodb())
    finally:
        invocation.end()
