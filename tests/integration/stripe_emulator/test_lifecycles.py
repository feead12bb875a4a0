"""The control endpoints produce the event sequences Stripe would, objects shaped as Stripe's."""

from __future__ import annotations

from typing import Any

import stripe

from localdev.stripe_emulator import Emulator
from localdev.stripe_emulator.objects import samples

# Stripe's fixtures, with the fields the pinned API version added or removed.
SAMPLES: dict[str, dict[str, Any]] = samples()


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def joined(emulator: Emulator, checkout: Any) -> str:
    subscription_id: str = emulator.complete_checkout(checkout.id)["subscription"]
    return subscription_id


def test_checkout_success_sequence(emulator: Emulator, checkout: Any) -> None:
    before = len(emulator.events)

    session = emulator.complete_checkout(checkout.id)

    events = emulator.events_since(before)
    assert types(events) == [
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
        "checkout.session.completed",
    ]
    assert events[0]["data"]["object"]["status"] == "incomplete"
    assert events[5]["data"]["object"]["status"] == "active"
    assert events[5]["data"]["previous_attributes"]["status"] == "incomplete"
    assert events[-1]["data"]["object"]["subscription"] == session["subscription"]
    assert events[3]["data"]["object"]["billing_reason"] == "subscription_create"


def test_declined_card_leaves_the_session_open_and_creates_nothing(
    emulator: Emulator, checkout: Any, stripe_client: stripe.StripeClient
) -> None:
    before = len(emulator.events)

    answer = emulator.complete_checkout(checkout.id, "card_declined")

    assert answer["error"]["code"] == "card_declined"
    assert emulator.events_since(before) == []
    assert stripe_client.v1.checkout.sessions.retrieve(checkout.id).status == "open"
    assert stripe_client.v1.subscriptions.list(params={"status": "all"}).data == []


def test_trial_checkout_starts_trialing_with_a_zero_invoice(
    emulator: Emulator, stripe_client: stripe.StripeClient, monthly_price: Any
) -> None:
    customer = stripe_client.v1.customers.create(params={"email": "t@example.com"})
    session = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": monthly_price.id}],
            "success_url": "http://127.0.0.1:9/ok",
            "subscription_data": {"trial_period_days": 14},
        }
    )

    subscription = stripe_client.v1.subscriptions.retrieve(
        emulator.complete_checkout(session.id)["subscription"]
    )

    item = subscription["items"].data[0]
    assert subscription.status == "trialing"
    assert item.current_period_end - item.current_period_start == 14 * 86_400
    assert subscription.trial_end == item.current_period_end
    assert stripe_client.v1.invoices.retrieve(subscription.latest_invoice).amount_paid == 0


def test_renewal_paid_sequence(emulator: Emulator, checkout: Any) -> None:
    subscription_id = joined(emulator, checkout)
    first_end = emulator.events[-2]["data"]["object"]["items"]["data"][0]["current_period_end"]
    before = len(emulator.events)

    emulator.advance(subscription_id, "paid")

    events = emulator.events_since(before)
    assert types(events) == [
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    renewed = events[-1]["data"]["object"]
    assert renewed["status"] == "active"
    # The period was ended now (the emulator keeps no clock): the new one starts at the call.
    assert renewed["items"]["data"][0]["current_period_start"] <= first_end
    assert events[2]["data"]["object"]["billing_reason"] == "subscription_cycle"
    assert events[2]["data"]["object"]["amount_paid"] == 999


def test_renewal_failed_sequence(emulator: Emulator, checkout: Any) -> None:
    subscription_id = joined(emulator, checkout)
    before = len(emulator.events)

    emulator.advance(subscription_id, "payment_failed")

    events = emulator.events_since(before)
    assert types(events) == [
        "invoice.created",
        "invoice.finalized",
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]
    assert events[-1]["data"]["object"]["status"] == "past_due"
    assert events[-1]["data"]["previous_attributes"]["status"] == "active"
    assert events[2]["data"]["object"]["status"] == "open"


def test_retry_after_a_failed_renewal_pays_the_open_invoice(emulator: Emulator, checkout: Any) -> None:
    subscription_id = joined(emulator, checkout)
    emulator.advance(subscription_id, "payment_failed")
    failed_invoice = emulator.events[-2]["data"]["object"]["id"]
    before = len(emulator.events)

    emulator.advance(subscription_id, "paid")

    events = emulator.events_since(before)
    assert types(events) == ["invoice.paid", "invoice.payment_succeeded", "customer.subscription.updated"]
    assert events[0]["data"]["object"]["id"] == failed_invoice
    assert events[-1]["data"]["object"]["status"] == "active"


def test_retries_exhausted_cancel_the_subscription(emulator: Emulator, checkout: Any) -> None:
    subscription_id = joined(emulator, checkout)
    emulator.advance(subscription_id, "payment_failed")
    before = len(emulator.events)

    emulator.advance(subscription_id, "payment_failed")

    events = emulator.events_since(before)
    assert types(events) == ["invoice.payment_failed", "customer.subscription.deleted"]
    ended = events[-1]["data"]["object"]
    assert (ended["status"], ended["cancellation_details"]["reason"]) == ("canceled", "payment_failed")


def test_retries_exhausted_can_mark_unpaid_instead(emulator: Emulator, checkout: Any) -> None:
    subscription_id = joined(emulator, checkout)
    emulator.advance(subscription_id, "payment_failed")
    before = len(emulator.events)

    emulator.advance(subscription_id, "payment_failed", on_exhausted="mark_unpaid")

    events = emulator.events_since(before)
    assert types(events) == ["invoice.payment_failed", "customer.subscription.updated"]
    assert events[-1]["data"]["object"]["status"] == "unpaid"


def test_cancel_at_period_end_reaching_its_end(
    emulator: Emulator, checkout: Any, stripe_client: stripe.StripeClient
) -> None:
    subscription_id = joined(emulator, checkout)
    before = len(emulator.events)
    stripe_client.v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": True})

    emulator.advance(subscription_id)

    events = emulator.events_since(before)
    assert types(events) == ["customer.subscription.updated", "customer.subscription.deleted"]
    assert events[0]["data"]["object"]["cancel_at_period_end"] is True
    assert events[0]["data"]["previous_attributes"]["cancel_at_period_end"] is False
    assert events[1]["data"]["object"]["status"] == "canceled"


def test_events_carry_the_state_at_their_moment(emulator: Emulator, checkout: Any) -> None:
    subscription_id = joined(emulator, checkout)
    emulator.advance(subscription_id, "payment_failed")

    statuses = [
        e["data"]["object"]["status"]
        for e in emulator.events
        if e["type"].startswith("customer.subscription.")
    ]

    assert statuses == ["incomplete", "active", "past_due"]


def test_every_event_object_has_the_field_names_of_stripes_fixtures(
    emulator: Emulator, checkout: Any, stripe_client: stripe.StripeClient
) -> None:
    subscription_id = joined(emulator, checkout)
    emulator.advance(subscription_id, "payment_failed")
    emulator.advance(subscription_id, "paid")
    stripe_client.v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": True})
    emulator.advance(subscription_id)

    seen = set()
    for event in emulator.events:
        assert set(event) == set(SAMPLES["event"]), event["type"]
        obj = event["data"]["object"]
        kind = obj["object"]
        seen.add(kind)
        assert set(obj) == set(SAMPLES[kind]), f"{event['type']}: {set(obj) ^ set(SAMPLES[kind])}"
        if kind == "subscription":
            item = obj["items"]["data"][0]
            assert set(item) == set(SAMPLES["subscription_item"])
            assert set(item["price"]) == set(SAMPLES["price"])
            assert set(item["plan"]) == set(SAMPLES["plan"])
        if kind == "invoice":
            assert set(obj["lines"]["data"][0]) == set(SAMPLES["line_item"])
    assert {"subscription", "invoice", "checkout.session", "customer", "product", "price"} <= seen


def test_the_billing_lifecycle_runs_on_the_injected_clock() -> None:
    now = [1_801_353_600.0]  # 2027-01-31 00:00 UTC
    emulator = Emulator(port=0, webhook_url=None, clock=lambda: now[0]).start()
    try:
        client = stripe.StripeClient(
            "sk_test_clock", base_addresses={"api": emulator.base_url}, max_network_retries=0
        )
        client.v1.products.create(params={"id": "vip", "name": "VIP"})
        price = client.v1.prices.create(
            params={
                "product": "vip",
                "unit_amount": 500,
                "currency": "usd",
                "recurring": {"interval": "month"},
            }
        )
        session = client.v1.checkout.sessions.create(
            params={"mode": "subscription", "line_items": [{"price": price.id}], "success_url": "http://x/ok"}
        )
        subscription_id = emulator.complete_checkout(session.id)["subscription"]
        first = client.v1.subscriptions.retrieve(subscription_id)["items"].data[0]
        now[0] = first.current_period_end

        emulator.advance(subscription_id)

        renewed = client.v1.subscriptions.retrieve(subscription_id)["items"].data[0]
        # Jan 31 → Feb 28 on the calendar; `advance` starts the next period at the (injected) moment of the call.
        assert (first.current_period_start, first.current_period_end) == (1_801_353_600, 1_803_772_800)
        assert (renewed.current_period_start, renewed.current_period_end) == (1_803_772_800, 1_806_192_000)
        assert emulator.events[-1]["created"] == 1_803_772_800
    finally:
        emulator.stop()
