"""The checkout hot path: one DynamoDB read (the member), everything else from the container's cache."""

from __future__ import annotations

from chalicelib import clock
from chalicelib.domain.cart import Cart, Eligibility, Shopper, conflicting_launch, evaluate_cart
from chalicelib.errors import ValidationError
from chalicelib.services import catalog
from chalicelib.services.access import member_access


def check_eligibility(cart: Cart) -> Eligibility:
    """Perks for a cart. Guests and unknown shoppers are non-members, never an error."""
    conflict = conflicting_launch(cart)
    if conflict is not None:
        raise ValidationError(
            f"Item {conflict} repeats sku `{cart.items[conflict].sku}` with another `launch_at`.",
            param=f"items[{conflict}].launch_at",
        )
    now = clock.now()
    access = member_access(cart.customer_ref, now)
    shopper = Shopper(
        customer_ref=cart.customer_ref,
        status=access.status,
        member=access.perks_active,
        plan=catalog.plans().get(access.plan_id or ""),
        cause_id=access.cause_id,
        access_until=access.access_until,
    )
    plans = catalog.plans()
    return evaluate_cart(cart, shopper, now, plans.values())
