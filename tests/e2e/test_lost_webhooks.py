"""`make dev` end to end: a renewal whose webhooks are lost is pledged once, whatever arrives when.

The emulator delivers its events to the API over HTTP; `POST /_emulator/webhooks {"enabled": false}`
loses them, `POST /_emulator/events/{id}/deliver` delivers one late.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Stack

BRAND = {"Authorization": "Bearer local-brand-key", "Content-Type": "application/json"}
STOREFRONT = {"Authorization": "Bearer local-storefront-key", "Content-Type": "application/json"}
STRIPE = {"Authorization": "Bearer sk_test_local"}
# The seeded vip-monthly plan: 9.99 a month, 10 % of each paid invoice pledged.
FEE_PLEDGE = 100


def _control(stack: Stack, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = requests.post(f"{stack.stripe}/_emulator{path}", json=body or {}, timeout=30)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
def webhooks_back_on(stack: Stack) -> Iterator[None]:
    yield
    _control(stack, "/webhooks", {"enabled": True})


def _join(stack: Stack, customer_ref: str) -> str:
    """Checkout and pay with webhooks on; returns the subscription id."""
    started = requests.post(
        f"{stack.api}/v1/members/{customer_ref}/checkout",
        json={"plan_id": "vip-monthly", "email": f"{customer_ref}@example.com",
              "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"},
        headers=STOREFRONT, timeout=30,
    )  # fmt: skip
    assert started.status_code == 201, started.text
    session = _control(
        stack, f"/checkout_sessions/{started.json()['session_id']}/complete", {"outcome": "succeeded"}
    )
    assert _member(stack, customer_ref)["status"] == "active"
    return str(session["subscription"])


def _member(stack: Stack, customer_ref: str) -> dict[str, Any]:
    response = requests.get(f"{stack.api}/v1/members/{customer_ref}", headers=STOREFRONT, timeout=10)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _pledged(stack: Stack, customer_ref: str) -> int:
    pledged: int = _member(stack, customer_ref)["impact"]["usd"]["pledged"]
    return pledged


def _reconcile(stack: Stack, customer_ref: str) -> dict[str, int]:
    response = requests.post(
        f"{stack.api}/v1/admin/reconcile", json={"customer_refs": [customer_ref]}, headers=BRAND, timeout=60
    )
    assert response.status_code == 200, response.text
    result: dict[str, int] = response.json()
    return result


def _latest_invoice_paid(stack: Stack, subscription_id: str) -> str:
    events = requests.get(
        f"{stack.stripe}/v1/events", params={"type": "invoice.paid", "limit": 100}, headers=STRIPE, timeout=10
    ).json()["data"]
    return next(
        str(e["id"])
        for e in events
        if e["data"]["object"]["parent"]["subscription_details"]["subscription"] == subscription_id
    )


def test_a_lost_renewal_is_pledged_once_by_reconcile_and_its_late_delivery_changes_nothing(
    stack: Stack, webhooks_back_on: None
) -> None:
    subscription_id = _join(stack, "e2e-lost-renewal")
    assert _pledged(stack, "e2e-lost-renewal") == FEE_PLEDGE

    _control(stack, "/webhooks", {"enabled": False})
    _control(stack, f"/subscriptions/{subscription_id}/advance", {"outcome": "paid"})
    assert _pledged(stack, "e2e-lost-renewal") == FEE_PLEDGE  # the renewal's webhooks were lost

    assert _reconcile(stack, "e2e-lost-renewal")["fixed"] >= 1
    assert _pledged(stack, "e2e-lost-renewal") == 2 * FEE_PLEDGE
    healed = _member(stack, "e2e-lost-renewal")

    _control(stack, "/webhooks", {"enabled": True})
    _control(stack, f"/events/{_latest_invoice_paid(stack, subscription_id)}/deliver")
    assert _member(stack, "e2e-lost-renewal") == healed


def test_a_renewal_delivered_first_is_not_pledged_again_by_reconcile(stack: Stack) -> None:
    subscription_id = _join(stack, "e2e-delivered-renewal")
    _control(stack, f"/subscriptions/{subscription_id}/advance", {"outcome": "paid"})
    assert _pledged(stack, "e2e-delivered-renewal") == 2 * FEE_PLEDGE

    assert _reconcile(stack, "e2e-delivered-renewal") == {
        "checked": 1,
        "fixed": 0,
        "failed": 0,
        "left": 0,
        "stopped_early": False,
    }
    _control(stack, f"/events/{_latest_invoice_paid(stack, subscription_id)}/deliver")  # and once more
    assert _pledged(stack, "e2e-delivered-renewal") == 2 * FEE_PLEDGE
