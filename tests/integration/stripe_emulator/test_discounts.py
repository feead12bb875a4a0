"""Coupons, promotion codes and the discounts they put on Checkout, subscriptions and invoices."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from localdev.stripe_emulator import Emulator

JAN_31_2027 = 1_801_353_600
FEB_28_2027 = 1_803_772_800
MAR_31_2027 = 1_806_451_200
APR_30_2027 = 1_809_043_200


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> float:
        return float(self.now)


@pytest.fixture
def clock() -> Clock:
    return Clock(JAN_31_2027)


@pytest.fixture
def clocked(clock: Clock) -> Iterator[Emulator]:
    """An emulator of its own whose time the test moves."""
    emulator = Emulator(port=0, webhook_url=None, clock=clock).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def client(clocked: Emulator) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_discounts", base_addresses={"api": clocked.base_url}, max_network_retries=0
    )


@pytest.fixture
def price(client: stripe.StripeClient) -> Any:
    client.v1.products.create(params={"id": "vip", "name": "VIP"})
    return client.v1.prices.create(
        params={"product": "vip", "unit_amount": 1000, "currency": "usd", "recurring": {"interval": "month"}}
    )


def promotion_code(client: stripe.StripeClient, code: str, **coupon: Any) -> Any:
    restrictions = coupon.pop("restrictions", None)
    max_redemptions = coupon.pop("max_redemptions", None)
    created = client.v1.coupons.create(params=coupon)
    params: dict[str, Any] = {"promotion": {"type": "coupon", "coupon": created.id}, "code": code}
    if restrictions:
        params["restrictions"] = restrictions
    if max_redemptions:
        params["max_redemptions"] = max_redemptions
    return client.v1.promotion_codes.create(params=params)


def checkout(client: stripe.StripeClient, price: Any, customer: str, **extra: Any) -> Any:
    return client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer,
            "line_items": [{"price": price.id}],
            "success_url": "http://127.0.0.1:9/ok",
            **extra,
        }
    )


def test_a_promotion_code_is_found_by_its_code(client: stripe.StripeClient) -> None:
    created = promotion_code(client, "WELCOME", percent_off=25, duration="once")

    found = client.v1.promotion_codes.list(params={"code": "WELCOME"}).data

    assert [c.id for c in found] == [created.id]
    assert created.active is True
    assert created.promotion.coupon is not None
    assert client.v1.coupons.retrieve(str(created.promotion.coupon)).percent_off == 25
    assert client.v1.promotion_codes.list(params={"code": "OTHER"}).data == []


def test_a_coupon_needs_exactly_one_of_percent_off_and_amount_off(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.coupons.create(params={"duration": "once"})

    assert refused.value.param == "percent_off"


def test_a_full_discount_for_three_months_makes_those_invoices_free(
    clocked: Emulator, client: stripe.StripeClient, price: Any, clock: Clock
) -> None:
    code = promotion_code(client, "FREE3", percent_off=100, duration="repeating", duration_in_months=3)
    customer = client.v1.customers.create(params={"email": "free@example.com"})
    session = checkout(client, price, customer.id, discounts=[{"promotion_code": code.id}])

    subscription_id = clocked.complete_checkout(session.id)["subscription"]
    for renewal in (FEB_28_2027, MAR_31_2027, APR_30_2027):  # Stripe's renewals of a Jan 31 subscription
        clock.now = renewal
        clocked.advance(subscription_id)

    assert session.amount_subtotal == 1000
    assert session.amount_total == 0
    assert session.total_details is not None and session.total_details.amount_discount == 1000
    assert session.discounts is not None and session.discounts[0].promotion_code == code.id
    subscription = client.v1.subscriptions.retrieve(subscription_id)
    assert len(subscription.discounts) == 1
    invoices = list(reversed(client.v1.invoices.list(params={"subscription": subscription_id}).data))
    assert [i.amount_paid for i in invoices] == [0, 0, 0, 1000]  # Jan 31, Feb 28, Mar 31: free; Apr 30: paid
    assert [i.subtotal for i in invoices] == [1000] * 4
    assert invoices[0].total_discount_amounts is not None
    assert [(d.amount, d.discount) for d in invoices[0].total_discount_amounts] == [
        (1000, subscription.discounts[0])
    ]
    assert invoices[3].discounts == [] and invoices[3].total_discount_amounts == []
    assert client.v1.promotion_codes.retrieve(code.id).times_redeemed == 1


def test_a_once_coupon_reduces_the_first_invoice_only(
    clocked: Emulator, client: stripe.StripeClient, price: Any
) -> None:
    code = promotion_code(client, "QUARTER", percent_off=25, duration="once")
    customer = client.v1.customers.create(params={"email": "q@example.com"})
    session = checkout(client, price, customer.id, discounts=[{"promotion_code": code.id}])
    subscription_id = clocked.complete_checkout(session.id)["subscription"]

    clocked.advance(subscription_id)

    invoices = list(reversed(client.v1.invoices.list(params={"subscription": subscription_id}).data))
    assert [(i.amount_due, i.amount_paid) for i in invoices] == [(750, 750), (1000, 1000)]


def test_the_upcoming_invoice_shows_the_discount(
    clocked: Emulator, client: stripe.StripeClient, price: Any
) -> None:
    code = promotion_code(client, "FOREVER10", amount_off=100, currency="usd", duration="forever")
    customer = client.v1.customers.create(params={"email": "f@example.com"})
    session = checkout(client, price, customer.id, discounts=[{"promotion_code": code.id}])
    subscription_id = clocked.complete_checkout(session.id)["subscription"]

    upcoming = clocked.upcoming(subscription_id)

    assert upcoming["amount_due"] == 900
    assert upcoming["total_discount_amounts"][0]["amount"] == 100


def test_a_first_time_only_code_is_refused_to_a_customer_who_has_paid_before(
    clocked: Emulator, client: stripe.StripeClient, price: Any
) -> None:
    code = promotion_code(
        client, "FIRSTTIME", percent_off=50, duration="once", restrictions={"first_time_transaction": True}
    )
    customer = client.v1.customers.create(params={"email": "regular@example.com"})
    clocked.complete_checkout(checkout(client, price, customer.id).id)

    with pytest.raises(stripe.InvalidRequestError) as refused:
        checkout(client, price, customer.id, discounts=[{"promotion_code": code.id}])

    assert refused.value.param == "discounts[0][promotion_code]"
    assert "prior transactions" in str(refused.value.user_message)
    newcomer = client.v1.customers.create(params={"email": "new@example.com"})
    assert checkout(client, price, newcomer.id, discounts=[{"promotion_code": code.id}]).amount_total == 500


def test_a_code_used_up_is_refused(clocked: Emulator, client: stripe.StripeClient, price: Any) -> None:
    code = promotion_code(client, "ONCEONLY", percent_off=10, duration="once", max_redemptions=1)
    first = client.v1.customers.create(params={"email": "a@example.com"})
    clocked.complete_checkout(checkout(client, price, first.id, discounts=[{"promotion_code": code.id}]).id)
    second = client.v1.customers.create(params={"email": "b@example.com"})

    with pytest.raises(stripe.InvalidRequestError) as refused:
        checkout(client, price, second.id, discounts=[{"promotion_code": code.id}])

    assert refused.value.param == "discounts[0][promotion_code]"


def test_discounts_and_allow_promotion_codes_are_exclusive(client: stripe.StripeClient, price: Any) -> None:
    code = promotion_code(client, "BOTH", percent_off=10, duration="once")
    customer = client.v1.customers.create(params={"email": "c@example.com"})

    with pytest.raises(stripe.InvalidRequestError) as refused:
        checkout(
            client, price, customer.id, discounts=[{"promotion_code": code.id}], allow_promotion_codes=True
        )

    assert refused.value.param == "discounts"


def test_a_code_typed_on_the_page_is_applied_when_the_session_allows_codes(
    clocked: Emulator, client: stripe.StripeClient, price: Any
) -> None:
    promotion_code(client, "WELCOME", percent_off=20, duration="once")
    customer = client.v1.customers.create(params={"email": "typed@example.com"})
    session = checkout(client, price, customer.id, allow_promotion_codes=True)

    completed = clocked.complete_checkout(session.id, promotion_code="welcome")

    assert (completed["amount_subtotal"], completed["amount_total"]) == (1000, 800)
    assert completed["total_details"]["amount_discount"] == 200
    invoice = client.v1.invoices.retrieve(str(completed["invoice"]))
    assert (invoice.amount_paid, invoice.subtotal) == (800, 1000)


def test_a_typed_code_is_refused_where_codes_are_not_allowed_or_not_redeemable(
    clocked: Emulator, client: stripe.StripeClient, price: Any
) -> None:
    promotion_code(
        client, "NEWONLY", percent_off=20, duration="once", restrictions={"first_time_transaction": True}
    )
    customer = client.v1.customers.create(params={"email": "back@example.com"})
    clocked.complete_checkout(checkout(client, price, customer.id).id)
    no_codes = checkout(client, price, customer.id)
    codes = checkout(client, price, customer.id, allow_promotion_codes=True)

    not_allowed = clocked.complete_checkout(no_codes.id, promotion_code="NEWONLY")
    not_first = clocked.complete_checkout(codes.id, promotion_code="NEWONLY")
    unknown = clocked.complete_checkout(codes.id, promotion_code="NOPE")

    assert not_allowed["error"]["param"] == "promotion_code"
    assert "prior transactions" in not_first["error"]["message"]
    assert unknown["error"]["param"] == "promotion_code"
    assert client.v1.checkout.sessions.retrieve(codes.id).status == "open"


def test_the_hosted_page_takes_a_typed_code(
    clocked: Emulator, client: stripe.StripeClient, price: Any
) -> None:
    promotion_code(client, "PAGE10", amount_off=100, currency="usd", duration="once")
    customer = client.v1.customers.create(params={"email": "page@example.com"})
    session = checkout(client, price, customer.id, allow_promotion_codes=True)
    page = urllib.request.urlopen(f"{clocked.base_url}/checkout/{session.id}", timeout=10).read().decode()

    form = urllib.parse.urlencode({"outcome": "succeeded", "promotion_code": "PAGE10"}).encode()
    request = urllib.request.Request(
        f"{clocked.base_url}/checkout/{session.id}/pay", data=form, method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as redirected:  # the 303 to success_url is not followed here
        urllib.request.build_opener(NoRedirect).open(request, timeout=10)

    assert "name=promotion_code" in page
    assert redirected.value.code == 303
    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.amount_total) == ("complete", 900)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
