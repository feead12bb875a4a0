"""Customer balance transactions and how Stripe applies a balance to the next invoice."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from localdev.stripe_emulator import Emulator


@pytest.fixture
def member(emulator: Emulator, checkout: Any) -> tuple[str, str]:
    """(customer, subscription) of a shopper who has paid the first 999 invoice."""
    subscription_id: str = emulator.complete_checkout(checkout.id)["subscription"]
    return str(checkout.customer), subscription_id


def test_a_credit_is_recorded_and_lowers_the_balance(
    emulator: Emulator, stripe_client: stripe.StripeClient, member: tuple[str, str]
) -> None:
    customer_id, _ = member
    before = len(emulator.events)

    credit = stripe_client.v1.customers.balance_transactions.create(
        customer_id, params={"amount": -500, "currency": "usd", "description": "Referral reward"}
    )

    assert (credit.amount, credit.type, credit.ending_balance) == (-500, "adjustment", -500)
    assert credit.description == "Referral reward"
    assert stripe_client.v1.customers.retrieve(customer_id).balance == -500
    listed = stripe_client.v1.customers.balance_transactions.list(customer_id).data
    assert [t.id for t in listed] == [credit.id]
    events = emulator.events_since(before)
    assert [e["type"] for e in events] == ["customer.updated"]
    assert events[0]["data"]["previous_attributes"]["balance"] == 0


def test_a_credit_is_applied_to_the_next_invoice_and_the_rest_carried(
    emulator: Emulator, stripe_client: stripe.StripeClient, member: tuple[str, str]
) -> None:
    customer_id, subscription_id = member
    stripe_client.v1.customers.balance_transactions.create(
        customer_id, params={"amount": -1500, "currency": "usd"}
    )

    emulator.advance(subscription_id, "paid")
    first = stripe_client.v1.invoices.retrieve(
        stripe_client.v1.subscriptions.retrieve(subscription_id).latest_invoice
    )
    emulator.advance(subscription_id, "paid")
    second = stripe_client.v1.invoices.retrieve(
        stripe_client.v1.subscriptions.retrieve(subscription_id).latest_invoice
    )
    emulator.advance(subscription_id, "paid")
    third = stripe_client.v1.invoices.retrieve(
        stripe_client.v1.subscriptions.retrieve(subscription_id).latest_invoice
    )

    assert (first.total, first.starting_balance, first.amount_due, first.ending_balance) == (
        999,
        -1500,
        0,
        -501,
    )
    assert first.amount_paid == 0 and first.status == "paid"
    assert (second.starting_balance, second.amount_due, second.ending_balance) == (-501, 498, 0)
    assert (third.starting_balance, third.amount_due, third.ending_balance) == (0, 999, 0)
    assert stripe_client.v1.customers.retrieve(customer_id).balance == 0
    applied = stripe_client.v1.customers.balance_transactions.list(
        customer_id, params={"invoice": first.id}
    ).data
    assert [(t.type, t.amount, t.ending_balance) for t in applied] == [("applied_to_invoice", 999, -501)]


def test_a_debit_is_added_to_the_next_invoice(
    emulator: Emulator, stripe_client: stripe.StripeClient, member: tuple[str, str]
) -> None:
    customer_id, subscription_id = member
    stripe_client.v1.customers.balance_transactions.create(
        customer_id, params={"amount": 200, "currency": "usd"}
    )

    emulator.advance(subscription_id, "paid")

    invoice = stripe_client.v1.invoices.retrieve(
        stripe_client.v1.subscriptions.retrieve(subscription_id).latest_invoice
    )
    assert (invoice.starting_balance, invoice.amount_due, invoice.amount_paid, invoice.ending_balance) == (
        200,
        1199,
        1199,
        0,
    )


def test_the_upcoming_invoice_shows_the_credit_without_spending_it(
    emulator: Emulator, stripe_client: stripe.StripeClient, member: tuple[str, str]
) -> None:
    customer_id, subscription_id = member
    stripe_client.v1.customers.balance_transactions.create(
        customer_id, params={"amount": -300, "currency": "usd"}
    )

    upcoming = emulator.upcoming(subscription_id)

    assert (upcoming["starting_balance"], upcoming["amount_due"], upcoming["ending_balance"]) == (
        -300,
        699,
        0,
    )
    assert stripe_client.v1.customers.retrieve(customer_id).balance == -300


def test_a_balance_transaction_needs_an_amount_and_a_known_customer(
    stripe_client: stripe.StripeClient, member: tuple[str, str]
) -> None:
    customer_id, _ = member
    with pytest.raises(stripe.InvalidRequestError) as no_amount:
        stripe_client.v1.customers.balance_transactions.create(customer_id, params={"currency": "usd"})  # type: ignore[typeddict-item]
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        stripe_client.v1.customers.balance_transactions.create(
            "cus_nobody", params={"amount": -1, "currency": "usd"}
        )

    assert no_amount.value.param == "amount"
    assert unknown.value.http_status == 404
