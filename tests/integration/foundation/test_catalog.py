"""Plans and causes: brand writes, public reads, plan sync with Stripe Products and Prices."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe

from chalicelib.domain.catalog import MAX_SHIPPING_METHODS
from chalicelib.domain.money import CURRENCIES, MAX_AMOUNT
from chalicelib.store.catalog import CatalogRecord
from tests.helpers import BRAND_KEY, auth

PLAN = {
    "name": "VIP Monthly",
    "amount": 999,
    "currency": "usd",
    "interval": "month",
    "trial_days": 0,
    "perks": {
        "free_shipping": {"min_subtotal": {"usd": 5000}, "methods": ["standard"]},
        "member_discount": {"percent": 10},
        "early_access": {"hours": 48},
    },
    "donation": {"order_bps": 200, "renewal_bps": 1000},
}


def _stripe(emulator: Any) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_local", base_addresses={"api": emulator.base_url})


def _put_plan(client: Any, plan_id: str, plan: dict[str, Any]) -> Any:
    return client.http.put(f"/v1/plans/{plan_id}", body=json.dumps(plan), headers=auth(BRAND_KEY))


def test_put_plan_creates_a_stripe_product_and_price_with_the_plan_id_as_lookup_key(
    client: Any, keys: dict[str, str], emulator: Any
) -> None:
    response = _put_plan(client, "vip-monthly", PLAN)
    assert response.status_code == 200
    plan = json.loads(response.body)
    prices = _stripe(emulator).v1.prices.list(params={"lookup_keys": ["vip-monthly"]}).data
    assert [p.id for p in prices] == [plan["stripe_price_id"]]
    price = prices[0]
    assert (price.unit_amount, price.currency, price.recurring.interval) == (999, "usd", "month")
    assert price.product == plan["stripe_product_id"]


def test_put_plan_again_with_the_same_terms_reuses_the_price(
    client: Any, keys: dict[str, str], emulator: Any
) -> None:
    first = json.loads(_put_plan(client, "vip-monthly", PLAN).body)
    second = json.loads(_put_plan(client, "vip-monthly", {**PLAN, "name": "VIP Monthly+"}).body)
    assert second["stripe_price_id"] == first["stripe_price_id"]
    assert len(_stripe(emulator).v1.prices.list(params={"product": first["stripe_product_id"]}).data) == 1


def test_a_new_amount_makes_a_new_price_that_takes_the_lookup_key(
    client: Any, keys: dict[str, str], emulator: Any
) -> None:
    first = json.loads(_put_plan(client, "vip-monthly", PLAN).body)
    second = json.loads(_put_plan(client, "vip-monthly", {**PLAN, "amount": 1299}).body)
    assert second["stripe_price_id"] != first["stripe_price_id"]
    stripe_client = _stripe(emulator)
    current = stripe_client.v1.prices.list(params={"lookup_keys": ["vip-monthly"]}).data
    assert [p.id for p in current] == [second["stripe_price_id"]]
    # The old Price still exists for members who bought it.
    assert stripe_client.v1.prices.retrieve(first["stripe_price_id"]).unit_amount == 999


def test_plans_are_listed_publicly_with_cursor_pagination(client: Any, keys: dict[str, str]) -> None:
    for plan_id in ("a-plan", "b-plan", "c-plan"):
        assert _put_plan(client, plan_id, PLAN).status_code == 200
    first = json.loads(client.http.get("/v1/plans?limit=2").body)
    assert [p["plan_id"] for p in first["data"]] == ["a-plan", "b-plan"] and first["has_more"] is True
    rest = json.loads(client.http.get("/v1/plans?limit=2&starting_after=b-plan").body)
    assert [p["plan_id"] for p in rest["data"]] == ["c-plan"] and rest["has_more"] is False


def test_stripe_unreachable_is_502_and_nothing_is_written(
    client: Any, keys: dict[str, str], stripe_down: None
) -> None:
    response = _put_plan(client, "vip-monthly", PLAN)
    assert response.status_code == 502
    assert json.loads(response.body)["error"]["type"] == "upstream"
    assert CatalogRecord.count("PLAN") == 0


def test_plan_fields_are_validated_before_stripe_is_called(
    client: Any, keys: dict[str, str], emulator: Any
) -> None:
    bad = {**PLAN, "perks": {**PLAN["perks"], "member_discount": {"percent": 0}}}
    response = _put_plan(client, "vip-monthly", bad)
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["param"] == "perks.member_discount.percent"
    assert _stripe(emulator).v1.prices.list(params={"lookup_keys": ["vip-monthly"]}).data == []


def test_a_free_shipping_minimum_in_an_unknown_currency_is_refused_before_stripe(
    client: Any, keys: dict[str, str], emulator: Any
) -> None:
    shipping = {"min_subtotal": {"usd": 5000, "xyz": 100}, "methods": None}
    response = _put_plan(
        client, "vip-monthly", {**PLAN, "perks": {**PLAN["perks"], "free_shipping": shipping}}
    )
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["param"] == "perks.free_shipping.min_subtotal.xyz"
    assert _stripe(emulator).v1.prices.list(params={"lookup_keys": ["vip-monthly"]}).data == []
    assert CatalogRecord.count("PLAN") == 0


@pytest.mark.parametrize(
    ("free_shipping", "param"),
    [
        # Over DynamoDB's 400 KB item: refused by the schema, not by the database after Stripe changed.
        ({"methods": [f"method-{n:057d}" for n in range(8_000)]}, "perks.free_shipping.methods"),
        ({"methods": [f"m{n}" for n in range(MAX_SHIPPING_METHODS + 1)]}, "perks.free_shipping.methods"),
        ({"min_subtotal": {a + b + c: 100 for a in "abcdef" for b in "abcde" for c in "abcde"}},
         "perks.free_shipping.min_subtotal"),
    ],
)  # fmt: skip
def test_free_shipping_lists_over_their_bounds_are_400_before_stripe_or_dynamodb(
    client: Any, keys: dict[str, str], emulator: Any, free_shipping: dict[str, Any], param: str
) -> None:
    response = _put_plan(
        client, "vip-monthly", {**PLAN, "perks": {**PLAN["perks"], "free_shipping": free_shipping}}
    )
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["param"] == param
    assert _stripe(emulator).v1.prices.list(params={"lookup_keys": ["vip-monthly"]}).data == []
    assert CatalogRecord.count("PLAN") == 0


def test_the_largest_plan_the_schema_allows_is_saved(
    client: Any, keys: dict[str, str], emulator: Any
) -> None:
    free_shipping = {
        "min_subtotal": dict.fromkeys(sorted(CURRENCIES), MAX_AMOUNT),
        "methods": ["\U0001f69a" * 64] * MAX_SHIPPING_METHODS,
    }
    plan = {**PLAN, "name": "\U0001f451" * 200, "perks": {**PLAN["perks"], "free_shipping": free_shipping}}

    response = _put_plan(client, "vip-monthly", plan)

    assert response.status_code == 200, response.body
    assert json.loads(response.body)["perks"]["free_shipping"] == free_shipping
    assert CatalogRecord.count("PLAN") == 1


def test_causes_are_created_updated_and_listed(client: Any, keys: dict[str, str]) -> None:
    cause = {"name": "School Meals", "impact": {"unit": "meals", "amount_per_unit": 250}}
    assert (
        client.http.put("/v1/causes/meals", body=json.dumps(cause), headers=auth(BRAND_KEY)).status_code
        == 200
    )
    updated = {**cause, "active": False}
    assert (
        client.http.put("/v1/causes/meals", body=json.dumps(updated), headers=auth(BRAND_KEY)).status_code
        == 200
    )
    listed = json.loads(client.http.get("/v1/causes").body)
    assert listed["data"][0]["cause_id"] == "meals" and listed["data"][0]["active"] is False
