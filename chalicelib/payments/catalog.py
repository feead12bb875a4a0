"""Stripe Products and recurring Prices for plans (Price `lookup_key` = plan_id)."""

from __future__ import annotations

import msgspec

from chalicelib.domain.catalog import PlanTerms
from chalicelib.payments.client import stripe_client, translate_stripe_errors


class PlanPrice(msgspec.Struct, frozen=True):
    product_id: str
    price_id: str


def product_id_for(plan_id: str) -> str:
    """The Stripe Product id of a plan: chosen by us, so creating it twice is impossible."""
    return f"vip_{plan_id}"


def ensure_plan_price(plan_id: str, terms: PlanTerms) -> PlanPrice:
    """Make sure the plan's Product and a Price with its amount, currency and interval exist.

    A Price is immutable in Stripe: a new amount makes a new Price that takes over the lookup key;
    existing subscriptions keep the Price they were sold.
    """
    import stripe

    client = stripe_client()
    product_id = product_id_for(plan_id)
    with translate_stripe_errors("sync the plan's product"):
        try:
            client.v1.products.update(product_id, params={"name": terms.name, "active": terms.active})
        except stripe.InvalidRequestError as exc:
            if exc.code != "resource_missing":
                raise
            client.v1.products.create(
                params={
                    "id": product_id,
                    "name": terms.name,
                    "active": terms.active,
                    "metadata": {"plan_id": plan_id},
                },
                options={"idempotency_key": f"vip-product-{plan_id}"},
            )
    with translate_stripe_errors("sync the plan's price"):
        current = client.v1.prices.list(params={"lookup_keys": [plan_id], "limit": 1}).data
        current_id = current[0].id if current else "none"
        for price in current:
            recurring = price.recurring
            if (
                price.unit_amount == terms.amount
                and price.currency == terms.currency
                and recurring is not None
                and recurring.interval == terms.interval
                and recurring.interval_count == 1
                and price.product == product_id
            ):
                return PlanPrice(product_id, price.id)
        created = client.v1.prices.create(
            params={
                "product": product_id,
                "unit_amount": terms.amount,
                "currency": terms.currency,
                "recurring": {"interval": terms.interval, "interval_count": 1},
                "lookup_key": plan_id,
                "transfer_lookup_key": True,
                "metadata": {"plan_id": plan_id},
            },
            options={
                # Keyed on the price it replaces, so going back to an earlier amount makes a new Price.
                "idempotency_key": f"vip-price-{plan_id}-{current_id}-{terms.currency}-{terms.amount}-"
                f"{terms.interval}"
            },
        )
        return PlanPrice(product_id, created.id)
