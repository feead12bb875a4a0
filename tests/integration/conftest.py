"""A small VIP club shared by the integration tests: plans and causes in the service, a shopper's journey
through the emulator, and Stripe's events posted to the webhook like Stripe would."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.helpers import BRAND_KEY, STOREFRONT_KEY, auth, signed_webhook

PERKS = {
    "free_shipping": {"min_subtotal": {"usd": 5000}, "methods": ["standard"]},
    "member_discount": {"percent": 10},
    "early_access": {"hours": 48},
}
PLANS = {
    "vip-monthly": {"name": "VIP Monthly", "amount": 999, "currency": "usd", "interval": "month", "perks": PERKS,
                    "donation": {"order_bps": 200, "renewal_bps": 1000}},
    "vip-yearly": {"name": "VIP Yearly", "amount": 9900, "currency": "usd", "interval": "year", "perks": PERKS,
                   "donation": {"order_bps": 300, "renewal_bps": 1000}},
    "vip-trial": {"name": "VIP Trial", "amount": 999, "currency": "usd", "interval": "month", "trial_days": 14,
                  "perks": PERKS},
}  # fmt: skip
CAUSES = {
    "general-fund": {"name": "General Fund"},
    "school-meals": {"name": "School Meals", "impact": {"unit": "meals", "amount_per_unit": 250}},
}


@dataclass
class Club:
    client: Any
    emulator: Any

    def post(self, path: str, payload: dict[str, Any] | None = None, key: str = STOREFRONT_KEY) -> Any:
        return self.client.http.post(path, body=json.dumps(payload or {}), headers=auth(key))

    def member(self, customer_ref: str) -> dict[str, Any]:
        response = self.client.http.get(f"/v1/members/{customer_ref}", headers=auth(STOREFRONT_KEY))
        assert response.status_code == 200, response.body
        result: dict[str, Any] = json.loads(response.body)
        return result

    def start_checkout(self, customer_ref: str, plan_id: str = "vip-monthly", **extra: Any) -> str:
        response = self.post(
            f"/v1/members/{customer_ref}/checkout",
            {
                "plan_id": plan_id,
                "email": f"{customer_ref}@example.com",
                "success_url": "https://shop.example/welcome",
                "cancel_url": "https://shop.example/join",
                **extra,
            },
        )
        assert response.status_code == 201, response.body
        session_id: str = json.loads(response.body)["session_id"]
        return session_id

    def pay(self, session_id: str, outcome: str = "succeeded") -> list[dict[str, Any]]:
        """The shopper pays on the hosted page; returns the events Stripe produced."""
        before = len(self.emulator.events)
        self.emulator.complete_checkout(session_id, outcome)
        return self.emulator.events_since(before)

    def advance(self, subscription_id: str, outcome: str = "paid", on_exhausted: str = "cancel") -> list[Any]:
        before = len(self.emulator.events)
        self.emulator.advance(subscription_id, outcome, on_exhausted)
        return self.emulator.events_since(before)

    def deliver(self, events: list[dict[str, Any]], **sign: Any) -> list[int]:
        statuses = []
        for event in events:
            payload, headers = signed_webhook(event, **sign)
            statuses.append(
                self.client.http.post("/v1/webhooks/stripe", body=payload, headers=headers).status_code
            )
        return statuses

    def join(self, customer_ref: str, plan_id: str = "vip-monthly") -> str:
        """Checkout, pay, deliver every event in order; returns the new subscription id."""
        events = self.pay(self.start_checkout(customer_ref, plan_id))
        assert set(self.deliver(events)) == {200}
        return subscription_of(events)


def subscription_of(events: list[dict[str, Any]]) -> str:
    return next(e["data"]["object"]["id"] for e in events if e["type"] == "customer.subscription.created")


@pytest.fixture(autouse=True)
def _fresh_state(fresh_state: None) -> None:
    """Every integration test starts from empty tables, an empty emulator and the real clock."""


@pytest.fixture
def club(client: Any, keys: dict[str, str], emulator: Any) -> Club:
    for plan_id, plan in PLANS.items():
        response = client.http.put(f"/v1/plans/{plan_id}", body=json.dumps(plan), headers=auth(BRAND_KEY))
        assert response.status_code == 200, response.body
    for cause_id, cause in CAUSES.items():
        response = client.http.put(f"/v1/causes/{cause_id}", body=json.dumps(cause), headers=auth(BRAND_KEY))
        assert response.status_code == 200, response.body
    return Club(client, emulator)
