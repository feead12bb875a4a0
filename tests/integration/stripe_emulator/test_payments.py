"""One-time (payment-mode) Checkout, the charges behind paid invoices, refunds and disputes."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from localdev.stripe_emulator import Emulator


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def gift_checkout(stripe_client: stripe.StripeClient, **extra: Any) -> Any:
    return stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 2500,
                        "product_data": {"name": "Gift card"},
                    },
                    "quantity": 2,
                }
            ],
            "success_url": "http://127.0.0.1:9/thanks",
            "customer_email": "giver@example.com",
            "metadata": {"kind": "gift"},
            "payment_intent_data": {"metadata": {"gift_ref": "g-1"}},
            **extra,
        }
    )


def test_a_payment_checkout_is_paid_once_with_a_payment_intent_and_a_charge(
    emulator: Emulator, stripe_client: stripe.StripeClient
) -> None:
    session = gift_checkout(stripe_client)
    before = len(emulator.events)

    completed = emulator.complete_checkout(session.id)

    assert (session.mode, session.amount_total, session.payment_status) == ("payment", 5000, "unpaid")
    events = emulator.events_since(before)
    assert types(events) == ["charge.succeeded", "payment_intent.succeeded", "checkout.session.completed"]
    assert completed == events[-1]["data"]["object"]
    assert (completed["payment_status"], completed["status"], completed["subscription"]) == (
        "paid",
        "complete",
        None,
    )
    assert completed["metadata"] == {"kind": "gift"}
    assert completed["customer_details"]["email"] == "giver@example.com"
    intent = stripe_client.v1.payment_intents.retrieve(completed["payment_intent"])
    assert (intent.status, intent.amount_received, intent.metadata.to_dict()) == (
        "succeeded",
        5000,
        {"gift_ref": "g-1"},
    )
    charge = stripe_client.v1.charges.retrieve(str(intent.latest_charge))
    assert (charge.amount, charge.paid, charge.payment_intent) == (5000, True, intent.id)
    assert stripe_client.v1.subscriptions.list(params={"status": "all"}).data == []


def test_a_payment_checkout_with_a_one_time_price(
    emulator: Emulator, stripe_client: stripe.StripeClient
) -> None:
    stripe_client.v1.products.create(params={"id": "donation", "name": "Donation"})
    price = stripe_client.v1.prices.create(
        params={"product": "donation", "unit_amount": 700, "currency": "eur"}
    )

    session = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [{"price": price.id}],
            "success_url": "http://127.0.0.1:9/ok",
        }
    )

    assert (session.amount_total, session.currency) == (700, "eur")
    assert emulator.complete_checkout(session.id)["payment_status"] == "paid"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"line_items": []}, "line_items"),
        ({"line_items": [{"price_data": {"currency": "usd", "product_data": {"name": "x"}}}]},
         "line_items[0][price_data][unit_amount]"),
        ({"subscription_data": {"trial_period_days": 3}}, "subscription_data"),
    ],
)  # fmt: skip
def test_a_bad_payment_checkout_is_refused_naming_the_field(
    stripe_client: stripe.StripeClient, params: dict[str, Any], param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        gift_checkout(stripe_client, **params)

    assert refused.value.param == param


def test_a_subscription_checkout_refuses_a_recurring_price_in_payment_mode(
    stripe_client: stripe.StripeClient, monthly_price: Any
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "line_items": [{"price": monthly_price.id}],
                "success_url": "http://x/ok",
            }
        )

    assert refused.value.param == "line_items[0][price]"


@pytest.fixture
def paid_invoice(emulator: Emulator, stripe_client: stripe.StripeClient, checkout: Any) -> Any:
    subscription_id = emulator.complete_checkout(checkout.id)["subscription"]
    return stripe_client.v1.invoices.retrieve(
        stripe_client.v1.subscriptions.retrieve(subscription_id).latest_invoice
    )


def test_a_paid_invoice_has_a_charge_with_the_same_card_fingerprint_each_time(
    emulator: Emulator, stripe_client: stripe.StripeClient, paid_invoice: Any
) -> None:
    emulator.refund(paid_invoice.id, 1)
    first = stripe_client.v1.charges.retrieve(emulator.events[-1]["data"]["object"]["id"])
    gift = emulator.complete_checkout(gift_checkout(stripe_client).id)
    second = stripe_client.v1.charges.retrieve(
        str(stripe_client.v1.payment_intents.retrieve(gift["payment_intent"]).latest_charge)
    )

    assert first.amount == paid_invoice.amount_paid == 999
    assert first.customer == paid_invoice.customer
    assert first.payment_method_details is not None and first.payment_method_details.card is not None
    assert first.payment_method_details.card.last4 == "4242"
    assert first.payment_method_details.card.fingerprint
    assert second.payment_method_details is not None and second.payment_method_details.card is not None
    assert second.payment_method_details.card.fingerprint == first.payment_method_details.card.fingerprint


def test_refunding_an_invoice_refunds_its_charge(
    emulator: Emulator, stripe_client: stripe.StripeClient, paid_invoice: Any
) -> None:
    before = len(emulator.events)

    partial = emulator.refund(paid_invoice.id, 300)
    rest = emulator.refund(paid_invoice.id)

    events = emulator.events_since(before)
    assert types(events) == ["charge.refunded", "charge.refunded"]
    charge = events[-1]["data"]["object"]
    assert (charge["amount_refunded"], charge["refunded"]) == (999, True)
    assert events[0]["data"]["object"]["refunded"] is False
    assert events[0]["data"]["previous_attributes"] == {"amount_refunded": 0, "refunded": False}
    assert (partial["amount"], rest["amount"]) == (300, 699)
    assert (partial["charge"], partial["status"], partial["object"]) == (charge["id"], "succeeded", "refund")
    assert [r["id"] for r in charge["refunds"]["data"]] == [rest["id"], partial["id"]]
    assert emulator.refund(paid_invoice.id)["error"]["param"] == "amount"  # nothing left


def test_disputing_an_invoice_disputes_its_charge(
    emulator: Emulator, stripe_client: stripe.StripeClient, paid_invoice: Any
) -> None:
    before = len(emulator.events)

    dispute = emulator.dispute(paid_invoice.id, "fraudulent")

    events = emulator.events_since(before)
    assert types(events) == ["charge.dispute.created"]
    assert events[0]["data"]["object"] == dispute
    assert (dispute["amount"], dispute["reason"], dispute["status"]) == (999, "fraudulent", "needs_response")
    assert stripe_client.v1.charges.retrieve(dispute["charge"]).disputed is True
    assert stripe_client.v1.disputes.retrieve(dispute["id"]).charge == dispute["charge"]
    assert emulator.dispute(paid_invoice.id)["error"]["type"] == "invalid_request_error"  # once only


def test_an_invoice_that_charged_nothing_cannot_be_refunded(
    emulator: Emulator, stripe_client: stripe.StripeClient, checkout: Any
) -> None:
    subscription_id = emulator.complete_checkout(checkout.id)["subscription"]
    emulator.advance(subscription_id, "payment_failed")
    unpaid = stripe_client.v1.subscriptions.retrieve(subscription_id).latest_invoice

    answer = emulator.refund(str(unpaid))

    assert answer["error"]["type"] == "invalid_request_error"
    assert emulator.refund("in_missing")["error"]["code"] == "resource_missing"
