"""Fixtures for the emulator's own tests: stripe-python pointed at it, and a catalogue to sell."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from localdev.stripe_emulator import API_VERSION, Emulator


@pytest.fixture
def stripe_client(emulator: Emulator) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_emulator",
        stripe_version=API_VERSION,
        base_addresses={"api": emulator.base_url},
        max_network_retries=0,
    )


@pytest.fixture
def monthly_price(stripe_client: stripe.StripeClient) -> Any:
    stripe_client.v1.products.create(params={"id": "vip_monthly", "name": "VIP Monthly"})
    return stripe_client.v1.prices.create(
        params={
            "product": "vip_monthly",
            "unit_amount": 999,
            "currency": "usd",
            "recurring": {"interval": "month"},
            "lookup_key": "vip-monthly",
        }
    )


@pytest.fixture
def checkout(stripe_client: stripe.StripeClient, monthly_price: Any) -> Any:
    """An open subscription-mode Checkout Session for a new customer."""
    customer = stripe_client.v1.customers.create(
        params={"email": "ada@example.com", "metadata": {"customer_ref": "shopper-1"}}
    )
    return stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "client_reference_id": "shopper-1",
            "line_items": [{"price": monthly_price.id, "quantity": 1}],
            "success_url": "http://127.0.0.1:9/welcome?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "http://127.0.0.1:9/join",
            "subscription_data": {"metadata": {"customer_ref": "shopper-1"}},
            "allow_promotion_codes": True,
        }
    )
