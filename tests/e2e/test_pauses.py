"""`make dev` end to end: a pause made in the Customer Portal (the emulator's control endpoint) or through
the API takes the perks away and gives them back, the emulator delivering Stripe's webhooks over HTTP —
and when the pause's webhook is lost, reconciliation heals it and the late delivery changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Stack
from tests.e2e.test_lost_webhooks import BRAND, STOREFRONT, _control, _join, _member

CART = {"currency": "usd", "items": [{"sku": "tee", "unit_amount": 6000, "quantity": 1}]}


@pytest.fixture
def webhooks_back_on(stack: Stack) -> Iterator[None]:
    yield
    _control(stack, "/webhooks", {"enabled": True})


def _member_discount(stack: Stack, customer_ref: str) -> int:
    response = requests.post(
        f"{stack.api}/v1/eligibility",
        json={"customer_ref": customer_ref, **CART},
        headers=STOREFRONT,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    amount: int = response.json()["member_discount"]["amount"]
    return amount


def _call(stack: Stack, customer_ref: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = requests.post(
        f"{stack.api}/v1/members/{customer_ref}/{action}", json=body or {}, headers=STOREFRONT, timeout=30
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _stripe_events(stack: Stack, subscription_id: str) -> list[dict[str, Any]]:
    events = requests.get(
        f"{stack.stripe}/v1/events",
        params={"type": "customer.subscription.updated", "limit": 100},
        headers={"Authorization": "Bearer sk_test_local"},
        timeout=10,
    ).json()["data"]
    return [e for e in events if e["data"]["object"]["id"] == subscription_id]


def test_a_portal_pause_stops_perks_and_the_unpause_brings_them_back(stack: Stack) -> None:
    subscription_id = _join(stack, "e2e-portal-pause")
    assert _member_discount(stack, "e2e-portal-pause") == 600

    _control(stack, f"/subscriptions/{subscription_id}/pause", {"behavior": "void"})
    member = _member(stack, "e2e-portal-pause")
    assert (member["status"], member["perks_active"]) == ("active", False)
    assert _member_discount(stack, "e2e-portal-pause") == 0

    _control(stack, f"/subscriptions/{subscription_id}/unpause")
    assert _member(stack, "e2e-portal-pause")["perks_active"] is True
    assert _member_discount(stack, "e2e-portal-pause") == 600


def test_a_pause_through_the_api_stops_perks_and_unpause_brings_them_back(stack: Stack) -> None:
    _join(stack, "e2e-api-pause")
    assert _call(stack, "e2e-api-pause", "pause")["perks_active"] is False
    assert _member(stack, "e2e-api-pause")["perks_active"] is False  # after Stripe's webhook too
    assert _member_discount(stack, "e2e-api-pause") == 0
    assert _call(stack, "e2e-api-pause", "unpause")["perks_active"] is True
    assert _member_discount(stack, "e2e-api-pause") == 600


def test_a_lost_pause_webhook_is_healed_by_reconcile_and_its_late_delivery_changes_nothing(
    stack: Stack, webhooks_back_on: None
) -> None:
    subscription_id = _join(stack, "e2e-lost-pause")
    _control(stack, "/webhooks", {"enabled": False})
    _control(stack, f"/subscriptions/{subscription_id}/pause", {"behavior": "void"})
    assert _member(stack, "e2e-lost-pause")["perks_active"] is True  # the pause's webhook was lost

    response = requests.post(
        f"{stack.api}/v1/admin/reconcile",
        json={"customer_refs": ["e2e-lost-pause"]},
        headers=BRAND,
        timeout=60,
    )
    assert response.status_code == 200 and response.json()["fixed"] == 1, response.text
    healed = _member(stack, "e2e-lost-pause")
    assert healed["perks_active"] is False
    assert _member_discount(stack, "e2e-lost-pause") == 0

    _control(stack, "/webhooks", {"enabled": True})
    paused_event = _stripe_events(stack, subscription_id)[0]  # newest first: the pause
    assert paused_event["data"]["object"]["pause_collection"]["behavior"] == "void"
    _control(stack, f"/events/{paused_event['id']}/deliver")
    assert _member(stack, "e2e-lost-pause") == healed
