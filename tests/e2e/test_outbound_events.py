"""`make dev` end to end over real HTTP: the emulator delivers Stripe's webhooks to the API, the local
driver delivers our events, signed, to a receiver registered through the API. Every membership event of
the catalog arrives from its real cause, each shopper's sequence complete; a renewal whose webhook was
lost is one `member.renewed`, from reconciliation, and the late delivery adds none."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from standardwebhooks import Webhook

from localdev.webhook_receiver import WebhookReceiver
from tests.e2e.conftest import Stack
from tests.e2e.test_lost_webhooks import BRAND, STOREFRONT, _control, _join, _latest_invoice_paid, _reconcile


class Receiver(WebhookReceiver):
    def events(self, secret: str, customer_ref: str) -> list[dict[str, Any]]:
        """The shopper's verified events, once each, by sequence."""
        verified = {}
        for request in list(self.received):
            event = Webhook(secret).verify(request.body, request.headers)
            if event["customer_ref"] == customer_ref:
                verified[event["id"]] = event
        return sorted(verified.values(), key=lambda event: event["sequence"])


@pytest.fixture
def endpoint(stack: Stack) -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()
    response = requests.post(f"{stack.api}/v1/webhook_endpoints", json={"url": receiver.url, "events": ["*"]},
                             headers=BRAND, timeout=10)  # fmt: skip
    assert response.status_code == 201, response.text
    yield receiver, response.json()["secret"]
    requests.delete(f"{stack.api}/v1/webhook_endpoints/{response.json()['id']}", headers=BRAND, timeout=10)
    receiver.stop()


def _post(stack: Stack, path: str, body: dict[str, Any] | None = None) -> None:
    response = requests.post(f"{stack.api}{path}", json=body or {}, headers=STOREFRONT, timeout=30)
    assert response.status_code == 200, response.text


def _arrived(receiver: Receiver, secret: str, customer_ref: str, types: list[str]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        events = receiver.events(secret, customer_ref)
        if len(events) >= len(types):
            break
        time.sleep(0.2)
    time.sleep(1)  # nothing more is on its way
    return receiver.events(secret, customer_ref)


def test_every_membership_event_arrives_signed_from_its_real_cause(
    stack: Stack, endpoint: tuple[Receiver, str]
) -> None:
    receiver, secret = endpoint
    ref = "e2e-events"
    subscription_id = _join(stack, ref)
    _control(stack, f"/subscriptions/{subscription_id}/upcoming")
    _control(stack, f"/subscriptions/{subscription_id}/advance", {"outcome": "paid"})
    _control(stack, f"/subscriptions/{subscription_id}/advance", {"outcome": "payment_failed"})
    _control(stack, f"/subscriptions/{subscription_id}/advance", {"outcome": "paid"})
    _post(stack, f"/v1/members/{ref}/cancel")
    _post(stack, f"/v1/members/{ref}/resume")
    _post(stack, f"/v1/members/{ref}/plan", {"plan_id": "vip-yearly"})
    response = requests.put(f"{stack.api}/v1/members/{ref}/cause", data=json.dumps({"cause_id": "school-meals"}),
                            headers=STOREFRONT, timeout=10)  # fmt: skip
    assert response.status_code == 200, response.text
    _post(stack, f"/v1/members/{ref}/pause")
    _post(stack, f"/v1/members/{ref}/unpause")
    _post(stack, f"/v1/members/{ref}/cancel", {"at_period_end": False})

    expected = [
        "member.joined", "member.renewal_upcoming", "member.renewed", "member.payment_failed",
        "member.payment_recovered", "member.renewed", "member.cancellation_scheduled", "member.resumed",
        "member.plan_changed", "member.cause_changed", "member.paused", "member.unpaused", "member.ended",
    ]  # fmt: skip
    events = _arrived(receiver, secret, ref, expected)
    assert [event["type"] for event in events] == expected
    assert [event["sequence"] for event in events] == list(range(1, len(expected) + 1))
    assert events[2]["data"]["recap"]["fees_paid"] == 999


def test_a_lost_renewal_webhook_healed_by_reconcile_is_one_event(
    stack: Stack, endpoint: tuple[Receiver, str]
) -> None:
    receiver, secret = endpoint
    ref = "e2e-events-lost"
    subscription_id = _join(stack, ref)
    _control(stack, "/webhooks", {"enabled": False})
    try:
        _control(stack, f"/subscriptions/{subscription_id}/advance", {"outcome": "paid"})
        _reconcile(stack, ref)
    finally:
        _control(stack, "/webhooks", {"enabled": True})
    _control(stack, f"/events/{_latest_invoice_paid(stack, subscription_id)}/deliver")  # late, after all

    events = _arrived(receiver, secret, ref, ["member.joined", "member.renewed"])
    assert [(event["type"], event["sequence"]) for event in events] == [
        ("member.joined", 1),
        ("member.renewed", 2),
    ]
