"""Upcoming-invoice notices, paused collection and Stripe's paused status, through stripe-python over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from localdev.stripe_emulator import Emulator


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


@pytest.fixture
def subscription_id(emulator: Emulator, checkout: Any) -> str:
    sub_id: str = emulator.complete_checkout(checkout.id)["subscription"]
    return sub_id


def test_upcoming_sends_a_preview_of_the_next_renewal(
    emulator: Emulator, stripe_client: stripe.StripeClient, subscription_id: str
) -> None:
    item = stripe_client.v1.subscriptions.retrieve(subscription_id)["items"].data[0]
    invoices_before = len(stripe_client.v1.invoices.list().data)
    before = len(emulator.events)

    preview = emulator.upcoming(subscription_id)

    events = emulator.events_since(before)
    assert types(events) == ["invoice.upcoming"]
    upcoming = events[0]["data"]["object"]
    assert upcoming == preview
    assert upcoming["id"].startswith("upcoming_in_")
    assert upcoming["amount_due"] == 999
    assert upcoming["status"] == "draft"
    assert upcoming["billing_reason"] == "upcoming"
    assert upcoming["next_payment_attempt"] == item.current_period_end
    assert upcoming["lines"]["data"][0]["period"]["start"] == item.current_period_end
    assert upcoming["lines"]["data"][0]["period"]["end"] > item.current_period_end
    assert upcoming["parent"]["subscription_details"]["subscription"] == subscription_id
    assert len(stripe_client.v1.invoices.list().data) == invoices_before  # a preview is not an invoice


def test_upcoming_is_refused_when_there_is_no_renewal(
    emulator: Emulator, stripe_client: stripe.StripeClient, subscription_id: str
) -> None:
    stripe_client.v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": True})

    answer = emulator.upcoming(subscription_id)

    assert answer["error"]["type"] == "invalid_request_error"


def test_pause_collection_through_the_api_is_set_and_cleared(
    emulator: Emulator, stripe_client: stripe.StripeClient, subscription_id: str
) -> None:
    before = len(emulator.events)

    paused = stripe_client.v1.subscriptions.update(
        subscription_id,
        params={"pause_collection": {"behavior": "mark_uncollectible", "resumes_at": 2_000_000_000}},
    )
    resumed = stripe_client.v1.subscriptions.update(subscription_id, params={"pause_collection": ""})

    assert paused.pause_collection is not None
    assert paused.pause_collection.to_dict() == {
        "behavior": "mark_uncollectible",
        "resumes_at": 2_000_000_000,
    }
    assert paused.status == "active"
    assert resumed.pause_collection is None
    events = emulator.events_since(before)
    assert types(events) == ["customer.subscription.updated", "customer.subscription.updated"]
    assert events[0]["data"]["previous_attributes"] == {"pause_collection": None}
    assert events[1]["data"]["previous_attributes"]["pause_collection"]["behavior"] == "mark_uncollectible"


def test_an_unknown_pause_behavior_is_refused_naming_the_field(
    stripe_client: stripe.StripeClient, subscription_id: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.subscriptions.update(
            subscription_id, params={"pause_collection": {"behavior": "skip"}}
        )

    assert refused.value.param == "pause_collection[behavior]"


@pytest.mark.parametrize(
    ("behavior", "invoice_events", "invoice_status"),
    [
        ("void", ["invoice.created", "invoice.finalized", "invoice.voided"], "void"),
        (
            "mark_uncollectible",
            ["invoice.created", "invoice.finalized", "invoice.marked_uncollectible"],
            "uncollectible",
        ),
        ("keep_as_draft", ["invoice.created"], "draft"),
    ],
)
def test_a_renewal_while_collection_is_paused_charges_nothing_and_stays_active(
    emulator: Emulator,
    stripe_client: stripe.StripeClient,
    subscription_id: str,
    behavior: str,
    invoice_events: list[str],
    invoice_status: str,
) -> None:
    emulator.pause(subscription_id, behavior)
    before = len(emulator.events)

    emulator.advance(subscription_id, "paid")

    events = emulator.events_since(before)
    assert types(events) == [*invoice_events, "customer.subscription.updated"]
    subscription = stripe_client.v1.subscriptions.retrieve(subscription_id)
    assert subscription.status == "active"
    assert "items" in events[-1]["data"]["previous_attributes"]  # a new period all the same
    invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
    assert invoice.status == invoice_status
    assert invoice.billing_reason == "subscription_cycle"
    assert invoice.amount_paid == 0


def test_the_portal_pause_and_unpause_emit_subscription_updates(
    emulator: Emulator, stripe_client: stripe.StripeClient, subscription_id: str
) -> None:
    before = len(emulator.events)

    paused = emulator.pause(subscription_id, "void")
    unpaused = emulator.unpause(subscription_id)
    emulator.advance(subscription_id, "paid")

    assert paused["pause_collection"] == {"behavior": "void", "resumes_at": None}
    assert unpaused["pause_collection"] is None
    assert types(emulator.events_since(before))[:2] == ["customer.subscription.updated"] * 2
    latest = stripe_client.v1.subscriptions.retrieve(subscription_id).latest_invoice
    assert stripe_client.v1.invoices.retrieve(latest).status == "paid"


def test_collection_resumes_by_itself_once_resumes_at_has_passed(
    emulator: Emulator, stripe_client: stripe.StripeClient, subscription_id: str
) -> None:
    stripe_client.v1.subscriptions.update(
        subscription_id, params={"pause_collection": {"behavior": "void", "resumes_at": 1_000_000_000}}
    )

    emulator.advance(subscription_id, "paid")

    subscription = stripe_client.v1.subscriptions.retrieve(subscription_id)
    assert subscription.pause_collection is None
    assert stripe_client.v1.invoices.retrieve(subscription.latest_invoice).status == "paid"
    assert (
        emulator.events[-1]["data"]["previous_attributes"]["pause_collection"]["resumes_at"] == 1_000_000_000
    )


def test_the_paused_status_stops_renewals_until_resumed(
    emulator: Emulator, stripe_client: stripe.StripeClient, subscription_id: str
) -> None:
    before = len(emulator.events)

    paused = stripe_client.v1.subscriptions.pause(subscription_id, params={"type": "subscription"})
    refused = emulator.advance(subscription_id, "paid")
    resumed = stripe_client.v1.subscriptions.resume(subscription_id)

    assert paused.status == "paused"
    assert refused["error"]["type"] == "invalid_request_error"
    assert resumed.status == "active"
    assert stripe_client.v1.invoices.retrieve(resumed.latest_invoice).status == "paid"
    assert types(emulator.events_since(before)) == [
        "customer.subscription.paused",
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.resumed",
        "customer.subscription.updated",
    ]


def test_resuming_with_the_anchor_unchanged_keeps_the_period_and_bills_nothing(
    stripe_client: stripe.StripeClient, subscription_id: str
) -> None:
    before = stripe_client.v1.subscriptions.retrieve(subscription_id)
    stripe_client.v1.subscriptions.pause(subscription_id)

    resumed = stripe_client.v1.subscriptions.resume(
        subscription_id, params={"billing_cycle_anchor": "unchanged"}
    )

    assert resumed.status == "active"
    assert resumed.latest_invoice == before.latest_invoice
    assert resumed["items"].data[0].current_period_end == before["items"].data[0].current_period_end


def test_only_a_paused_subscription_can_be_resumed(
    stripe_client: stripe.StripeClient, subscription_id: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.subscriptions.resume(subscription_id)
