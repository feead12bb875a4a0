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


def charge_of(stripe_client: stripe.StripeClient, invoice_id: str) -> Any:
    """An invoice's charge the way endive offers it: its InvoicePayment, then the PaymentIntent's charges."""
    (payment,) = stripe_client.v1.invoice_payments.list(params={"invoice": invoice_id}).data
    (charge,) = stripe_client.v1.charges.list(
        params={"payment_intent": str(payment.payment.payment_intent), "limit": 10}
    ).data
    return charge


def card_of(charge: Any) -> Any:
    assert charge.payment_method_details is not None and charge.payment_method_details.card is not None
    return charge.payment_method_details.card


def subscribe(
    emulator: Emulator, stripe_client: stripe.StripeClient, price: Any, email: str, card: str | None = None
) -> tuple[str, str]:
    """A new customer subscribes through Checkout: (customer id, subscription id)."""
    customer = stripe_client.v1.customers.create(params={"email": email})
    session = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": price.id}],
            "success_url": "http://127.0.0.1:9/ok",
        }
    )
    return customer.id, str(emulator.complete_checkout(session.id, card=card)["subscription"])


def test_an_invoice_leads_to_its_charge_through_its_invoice_payment(
    emulator: Emulator, stripe_client: stripe.StripeClient, paid_invoice: Any
) -> None:
    (payment,) = stripe_client.v1.invoice_payments.list(params={"invoice": paid_invoice.id}).data

    assert (payment.invoice, payment.status, payment.is_default) == (paid_invoice.id, "paid", True)
    assert (payment.amount_paid, payment.amount_requested, payment.currency) == (999, 999, "usd")
    assert payment.payment.type == "payment_intent"
    charge = charge_of(stripe_client, paid_invoice.id)
    assert (charge.amount, charge.customer, charge.paid) == (999, paid_invoice.customer, True)
    assert charge.payment_intent == payment.payment.payment_intent
    assert stripe_client.v1.invoice_payments.retrieve(payment.id).id == payment.id
    by_intent = {"payment": {"type": "payment_intent", "payment_intent": str(payment.payment.payment_intent)}}
    assert [p.id for p in stripe_client.v1.invoice_payments.list(params=by_intent).data] == [payment.id]


def test_an_invoice_that_charged_nothing_has_no_invoice_payment(
    stripe_client: stripe.StripeClient, monthly_price: Any, emulator: Emulator
) -> None:
    coupon = stripe_client.v1.coupons.create(params={"percent_off": 100, "duration": "once"})
    customer = stripe_client.v1.customers.create(params={"email": "free@example.com"})
    session = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": monthly_price.id}],
            "success_url": "http://127.0.0.1:9/ok",
            "discounts": [{"coupon": coupon.id}],
        }
    )
    invoice_id = str(emulator.complete_checkout(session.id)["invoice"])

    assert stripe_client.v1.invoices.retrieve(invoice_id).amount_paid == 0
    assert stripe_client.v1.invoice_payments.list(params={"invoice": invoice_id}).data == []
    assert stripe_client.v1.charges.list(params={"customer": customer.id}).data == []


def test_each_customer_pays_with_a_card_of_their_own_and_renewals_charge_the_same_card(
    emulator: Emulator, stripe_client: stripe.StripeClient, monthly_price: Any
) -> None:
    ada, ada_subscription = subscribe(emulator, stripe_client, monthly_price, "ada@example.com")
    bea, _ = subscribe(emulator, stripe_client, monthly_price, "bea@example.com")
    emulator.advance(ada_subscription)

    ada_charges = stripe_client.v1.charges.list(params={"customer": ada, "limit": 100}).data
    (bea_charge,) = stripe_client.v1.charges.list(params={"customer": bea}).data
    assert len(ada_charges) == 2
    first, renewal = (card_of(c) for c in reversed(ada_charges))
    assert renewal.fingerprint == first.fingerprint
    assert card_of(bea_charge).fingerprint != first.fingerprint
    assert (first.brand, first.network, first.funding, len(first.last4)) == ("visa", "visa", "credit", 4)
    assert 1 <= first.exp_month <= 12 and first.exp_year >= 2030
    gift = emulator.complete_checkout(gift_checkout(stripe_client).id)
    (guest,) = stripe_client.v1.charges.list(params={"payment_intent": gift["payment_intent"]}).data
    assert card_of(guest).fingerprint not in (first.fingerprint, card_of(bea_charge).fingerprint)


def test_two_customers_paying_with_one_card_number_share_its_fingerprint(
    emulator: Emulator, stripe_client: stripe.StripeClient, monthly_price: Any
) -> None:
    ada, _ = subscribe(emulator, stripe_client, monthly_price, "ada@example.com", card="4242424242424242")
    bea, bea_subscription = subscribe(
        emulator, stripe_client, monthly_price, "bea@example.com", card="5555 5555 5555 4444"
    )
    cy, _ = subscribe(emulator, stripe_client, monthly_price, "cy@example.com", card="5555555555554444")
    emulator.advance(bea_subscription)

    ada_card = card_of(stripe_client.v1.charges.list(params={"customer": ada}).data[0])
    bea_cards = [card_of(c) for c in stripe_client.v1.charges.list(params={"customer": bea}).data]
    cy_card = card_of(stripe_client.v1.charges.list(params={"customer": cy}).data[0])
    assert (ada_card.brand, ada_card.last4) == ("visa", "4242")
    assert [(c.brand, c.last4) for c in bea_cards] == [("mastercard", "4444")] * 2  # the renewal too
    assert {c.fingerprint for c in bea_cards} == {cy_card.fingerprint}
    assert ada_card.fingerprint != cy_card.fingerprint


@pytest.mark.parametrize("card", ["4242424242424241", "4242", "4242abcd42424242", True])
def test_a_card_that_is_not_a_card_number_is_refused(
    emulator: Emulator, checkout: Any, stripe_client: stripe.StripeClient, card: Any
) -> None:
    answer = emulator._control(f"/_emulator/checkout_sessions/{checkout.id}/complete", {"card": card})

    assert (answer["error"]["param"], answer["error"]["code"]) == ("card", "parameter_invalid")
    assert stripe_client.v1.checkout.sessions.retrieve(checkout.id).status == "open"


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
