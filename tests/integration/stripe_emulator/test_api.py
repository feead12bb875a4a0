"""stripe-python 16, with the emulator as its API base, drives every call the service makes."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from localdev.stripe_emulator import Emulator


def test_products_are_created_with_our_id_and_updated(stripe_client: stripe.StripeClient) -> None:
    created = stripe_client.v1.products.create(
        params={"id": "vip_gold", "name": "Gold", "metadata": {"a": "1"}}
    )
    updated = stripe_client.v1.products.update("vip_gold", params={"name": "Gold club", "active": False})

    assert created.id == "vip_gold"
    assert (updated.name, updated.active, updated.metadata.to_dict()) == ("Gold club", False, {"a": "1"})
    assert stripe_client.v1.products.retrieve("vip_gold").name == "Gold club"


def test_an_id_the_client_percent_encodes_in_the_path_is_found(stripe_client: stripe.StripeClient) -> None:
    stripe_client.v1.products.create(params={"id": "vip_a@b:c", "name": "Gold"})

    updated = stripe_client.v1.products.update("vip_a@b:c", params={"name": "Gold club"})

    assert (updated.id, updated.name) == ("vip_a@b:c", "Gold club")


def test_updating_an_unknown_product_is_resource_missing(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.products.update("vip_nope", params={"name": "x"})

    assert (raised.value.http_status, raised.value.code, raised.value.param) == (
        404,
        "resource_missing",
        "id",
    )


def test_creating_a_product_twice_is_refused(stripe_client: stripe.StripeClient) -> None:
    stripe_client.v1.products.create(params={"id": "vip_gold", "name": "Gold"})

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.products.create(params={"id": "vip_gold", "name": "Gold"})

    assert raised.value.code == "resource_already_exists"


def test_lookup_key_moves_only_with_transfer_lookup_key(
    stripe_client: stripe.StripeClient, monthly_price: Any
) -> None:
    new_price = {
        "product": "vip_monthly",
        "unit_amount": 1299,
        "currency": "usd",
        "recurring": {"interval": "month"},
        "lookup_key": "vip-monthly",
    }
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.prices.create(params=dict(new_price))
    moved = stripe_client.v1.prices.create(params={**new_price, "transfer_lookup_key": True})

    assert raised.value.param == "lookup_key"
    found = stripe_client.v1.prices.list(params={"lookup_keys": ["vip-monthly"]}).data
    assert [p.id for p in found] == [moved.id]
    assert stripe_client.v1.prices.retrieve(monthly_price.id).lookup_key is None
    assert (moved.unit_amount, moved.recurring.interval, moved.type) == (1299, "month", "recurring")


def test_customers_are_created_retrieved_and_updated(stripe_client: stripe.StripeClient) -> None:
    customer = stripe_client.v1.customers.create(params={"email": "a@example.com", "metadata": {"ref": "s1"}})
    stripe_client.v1.customers.update(customer.id, params={"email": "b@example.com"})

    again = stripe_client.v1.customers.retrieve(customer.id)
    assert customer.id.startswith("cus_")
    assert (again.email, again.metadata["ref"]) == ("b@example.com", "s1")


def test_checkout_session_in_subscription_mode(checkout: Any, emulator: Emulator) -> None:
    assert checkout.id.startswith("cs_test_")
    assert checkout.mode == "subscription"
    assert (checkout.status, checkout.payment_status, checkout.subscription) == ("open", "unpaid", None)
    assert checkout.url == f"{emulator.base_url}/checkout/{checkout.id}"
    assert (checkout.client_reference_id, checkout.amount_total, checkout.currency) == (
        "shopper-1",
        999,
        "usd",
    )


def test_completed_checkout_is_readable_with_its_subscription_expanded(
    stripe_client: stripe.StripeClient, checkout: Any, emulator: Emulator
) -> None:
    emulator.complete_checkout(checkout.id)

    session = stripe_client.v1.checkout.sessions.retrieve(checkout.id, params={"expand": ["subscription"]})
    assert (session.status, session.payment_status) == ("complete", "paid")
    assert session.subscription.object == "subscription"
    assert session.subscription.metadata["customer_ref"] == "shopper-1"


def test_expanding_a_plain_field_is_refused_naming_it(
    stripe_client: stripe.StripeClient, checkout: Any
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.checkout.sessions.retrieve(checkout.id, params={"expand": ["status"]})

    assert (raised.value.http_status, raised.value.param) == (400, "expand")
    assert "cannot be expanded (status)" in str(raised.value.user_message)


def test_a_checkout_session_speaks_the_pinned_versions_ui_mode(checkout: Any) -> None:
    assert checkout.ui_mode == "hosted_page"
    assert checkout.allowed_payment_method_types is None


def test_a_parameter_the_pinned_version_dropped_is_refused(
    stripe_client: stripe.StripeClient, monthly_price: Any
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "line_items": [{"price": monthly_price.id, "quantity": 1}],
                "success_url": "http://127.0.0.1:9/welcome",
                "payment_method_types": ["card"],
            }
        )

    assert (raised.value.code, raised.value.param) == ("parameter_unknown", "payment_method_types")


def test_lists_carry_no_total_count_unless_asked(
    stripe_client: stripe.StripeClient, checkout: Any, emulator: Emulator
) -> None:
    subscription_id = emulator.complete_checkout(checkout.id)["subscription"]

    subscription = stripe_client.v1.subscriptions.retrieve(subscription_id).to_dict()

    assert "total_count" not in subscription["items"]
    assert (
        "total_count"
        not in stripe_client.v1.invoices.list(params={"subscription": subscription_id}).to_dict()
    )


def test_subscription_periods_live_on_items(
    stripe_client: stripe.StripeClient, checkout: Any, emulator: Emulator
) -> None:
    subscription_id = emulator.complete_checkout(checkout.id)["subscription"]

    subscription = stripe_client.v1.subscriptions.retrieve(subscription_id)
    item = subscription["items"].data[0]
    assert subscription.status == "active"
    assert item.current_period_start == subscription.created
    # One calendar month later: 28 to 31 days.
    assert 28 * 86_400 <= item.current_period_end - item.current_period_start <= 31 * 86_400
    assert (item.price.lookup_key, item.plan.interval) == ("vip-monthly", "month")


def test_subscriptions_list_by_customer_leaves_out_canceled_unless_asked(
    stripe_client: stripe.StripeClient, checkout: Any, emulator: Emulator
) -> None:
    subscription_id = emulator.complete_checkout(checkout.id)["subscription"]
    stripe_client.v1.subscriptions.cancel(subscription_id)

    default = stripe_client.v1.subscriptions.list(params={"customer": checkout.customer})
    every = stripe_client.v1.subscriptions.list(params={"customer": checkout.customer, "status": "all"})
    assert default.data == []
    assert [s.id for s in every.data] == [subscription_id]
    assert every.data[0].status == "canceled"


def test_cancel_at_period_end_and_resume(
    stripe_client: stripe.StripeClient, checkout: Any, emulator: Emulator
) -> None:
    subscription_id = emulator.complete_checkout(checkout.id)["subscription"]

    canceling = stripe_client.v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": True})
    resumed = stripe_client.v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": False})

    end = canceling["items"].data[0].current_period_end
    assert (canceling.status, canceling.cancel_at_period_end, canceling.cancel_at) == ("active", True, end)
    assert (resumed.cancel_at_period_end, resumed.cancel_at, resumed.canceled_at) == (False, None, None)


def test_plan_switch_with_proration_invoices_the_difference(
    stripe_client: stripe.StripeClient, checkout: Any, emulator: Emulator
) -> None:
    subscription_id = emulator.complete_checkout(checkout.id)["subscription"]
    gold = stripe_client.v1.prices.create(
        params={
            "product": "vip_monthly",
            "unit_amount": 1999,
            "currency": "usd",
            "recurring": {"interval": "month"},
        }
    )
    item_id = stripe_client.v1.subscriptions.retrieve(subscription_id)["items"].data[0].id

    switched = stripe_client.v1.subscriptions.update(
        subscription_id,
        params={"items": [{"id": item_id, "price": gold.id}], "proration_behavior": "always_invoice"},
    )

    assert switched["items"].data[0].price.id == gold.id
    invoice = stripe_client.v1.invoices.retrieve(switched.latest_invoice)
    assert (invoice.billing_reason, invoice.status) == ("subscription_update", "paid")
    # Switched right after joining: nearly the whole month's difference.
    assert 990 <= invoice.amount_paid <= 1000
    assert invoice.lines.data[0].parent.subscription_item_details.proration is True


def test_cancel_now_ends_the_subscription(
    stripe_client: stripe.StripeClient, checkout: Any, emulator: Emulator
) -> None:
    subscription_id = emulator.complete_checkout(checkout.id)["subscription"]

    canceled = stripe_client.v1.subscriptions.cancel(subscription_id)

    assert canceled.status == "canceled"
    assert canceled.ended_at is not None
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": True})


def test_invoices_point_at_their_subscription_through_parent(
    stripe_client: stripe.StripeClient, checkout: Any, emulator: Emulator
) -> None:
    subscription_id = emulator.complete_checkout(checkout.id)["subscription"]

    invoices = stripe_client.v1.invoices.list(params={"subscription": subscription_id}).data
    assert len(invoices) == 1
    invoice = stripe_client.v1.invoices.retrieve(invoices[0].id)
    assert invoice.parent.subscription_details.subscription == subscription_id
    assert "subscription" not in invoice.to_dict()
    assert (invoice.billing_reason, invoice.amount_paid, invoice.status) == (
        "subscription_create",
        999,
        "paid",
    )


def test_billing_portal_session(
    stripe_client: stripe.StripeClient, checkout: Any, emulator: Emulator
) -> None:
    portal = stripe_client.v1.billing_portal.sessions.create(
        params={"customer": checkout.customer, "return_url": "http://127.0.0.1:9/account"}
    )

    assert portal.url == f"{emulator.base_url}/portal/{portal.id}"
    assert (portal.customer, portal.return_url) == (checkout.customer, "http://127.0.0.1:9/account")


def test_events_list_newest_first_with_cursor(
    stripe_client: stripe.StripeClient, checkout: Any, emulator: Emulator
) -> None:
    emulator.complete_checkout(checkout.id)
    every = [e["id"] for e in reversed(emulator.events)]

    first = stripe_client.v1.events.list(params={"limit": 3})
    rest = stripe_client.v1.events.list(params={"limit": 100, "starting_after": first.data[-1].id})

    assert [e.id for e in first.data] == every[:3]
    assert first.has_more is True
    assert [e.id for e in rest.data] == every[3:]
    assert rest.has_more is False


def test_events_filter_by_type(stripe_client: stripe.StripeClient, checkout: Any, emulator: Emulator) -> None:
    emulator.complete_checkout(checkout.id)

    invoices = stripe_client.v1.events.list(params={"type": "invoice.*"}).data

    assert invoices and all(e.type.startswith("invoice.") for e in invoices)


def test_unknown_parameter_is_refused_naming_it(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.customers.create(params={"emial": "typo@example.com"})  # type: ignore[typeddict-unknown-key]

    assert (raised.value.code, raised.value.param) == ("parameter_unknown", "emial")


def test_missing_required_parameter(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.prices.create(params={"currency": "usd", "unit_amount": 100})  # type: ignore[typeddict-item]

    assert (raised.value.code, raised.value.param) == ("parameter_missing", "product")


def test_idempotency_key_replays_the_first_answer(stripe_client: stripe.StripeClient) -> None:
    first = stripe_client.v1.customers.create(
        params={"email": "a@example.com"}, options={"idempotency_key": "k1"}
    )
    again = stripe_client.v1.customers.create(
        params={"email": "a@example.com"}, options={"idempotency_key": "k1"}
    )

    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.customers.create(
            params={"email": "b@example.com"}, options={"idempotency_key": "k1"}
        )
    assert first.id == again.id
    assert len(stripe_client.v1.customers.list().data) == 1


def test_error_body_has_stripe_shape(emulator: Emulator) -> None:
    import requests

    response = requests.get(
        f"{emulator.base_url}/v1/subscriptions/sub_missing",
        headers={"Authorization": "Bearer sk_test_x"},
        timeout=5,
    )

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert (error["code"], error["param"]) == ("resource_missing", "id")
    assert error["message"] == "No such subscription: 'sub_missing'"


def test_requests_without_an_api_key_are_refused(emulator: Emulator) -> None:
    import requests

    response = requests.get(f"{emulator.base_url}/v1/customers", timeout=5)

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_forget_everything(stripe_client: stripe.StripeClient, emulator: Emulator) -> None:
    import requests

    stripe_client.v1.customers.create(params={"email": "a@example.com"})

    response = requests.delete(f"{emulator.base_url}/_emulator/data", timeout=5)

    assert response.status_code == 200
    assert stripe_client.v1.customers.list().data == []
    assert emulator.events == []
