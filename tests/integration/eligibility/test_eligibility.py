"""`POST /v1/eligibility` through the API: members, guests, validation, cost, cold start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localdev.dynamodb_calls import counting_dynamodb_calls
from tests.helpers import STOREFRONT_KEY, auth
from tests.integration.conftest import Club

CART: dict[str, Any] = {
    "currency": "usd",
    "items": [
        {"sku": "tee", "unit_amount": 2500, "quantity": 2},
        {"sku": "gift-card", "unit_amount": 1000, "quantity": 1, "discountable": False},
    ],
    "shipping": {"method": "standard", "amount": 595},
}


def _check(club: Club, cart: dict[str, Any]) -> Any:
    return club.client.http.post("/v1/eligibility", body=json.dumps(cart), headers=auth(STOREFRONT_KEY))


def _ok(club: Club, cart: dict[str, Any]) -> dict[str, Any]:
    response = _check(club, cart)
    assert response.status_code == 200, response.body
    result: dict[str, Any] = json.loads(response.body)
    return result


def test_a_member_gets_discount_free_shipping_and_a_donation_preview(club: Club) -> None:
    club.join("ada")
    result = _ok(club, {**CART, "customer_ref": "ada"})
    assert (result["member"], result["status"], result["plan_id"]) == (True, "active", "vip-monthly")
    assert result["subtotal"] == 6000
    assert result["member_discount"] == {"percent": 10, "amount": 500}
    assert result["shipping"] == {"free": True, "discount": 595}
    # 2 % of what the shopper pays (6000 − 500 + 595 − 595), to the default cause.
    assert result["donation_preview"] == {"cause_id": "general-fund", "amount": 110, "currency": "usd"}


def test_guests_and_unknown_shoppers_are_non_members(club: Club) -> None:
    for cart in (CART, {**CART, "customer_ref": "nobody"}):
        result = _ok(club, cart)
        assert (result["member"], result["member_discount"]["amount"], result["shipping"]["free"]) == (
            False,
            0,
            False,
        )
        assert result["donation_preview"] is None


def test_a_guest_sees_what_joining_would_save_and_members_only_items_blocked(club: Club) -> None:
    cart = {**CART, "items": [*CART["items"], {"sku": "drop", "unit_amount": 4000, "quantity": 1,
                                               "members_only": True}]}  # fmt: skip
    result = _ok(club, cart)
    assert result["members_only"] == {"allowed": [], "blocked": ["drop"]}
    # Every plan gives 10 % and free standard shipping: the cheapest (vip-monthly and vip-trial both at 999;
    # the plan id breaks the tie) saves 10 % of 9000 plus the 595 shipping.
    assert result["join_preview"] == {"plan_id": "vip-monthly", "saves": 900 + 595, "currency": "usd"}


def test_a_member_may_buy_members_only_items_and_gets_no_join_preview(club: Club) -> None:
    club.join("ada")
    cart = {**CART, "customer_ref": "ada", "items": [{"sku": "drop", "unit_amount": 4000, "quantity": 1,
                                                      "members_only": True}]}  # fmt: skip
    result = _ok(club, cart)
    assert result["members_only"] == {"allowed": ["drop"], "blocked": []}
    assert result["join_preview"] is None


def test_perks_apply_the_moment_stripe_reports_payment(club: Club) -> None:
    events = club.pay(club.start_checkout("ada"))
    assert _ok(club, {**CART, "customer_ref": "ada"})["member"] is False
    club.deliver(events)
    assert _ok(club, {**CART, "customer_ref": "ada"})["member"] is True


def test_perks_end_when_the_membership_is_canceled_now(club: Club) -> None:
    club.join("ada")
    assert club.post("/v1/members/ada/cancel", {"at_period_end": False}).status_code == 200
    assert _ok(club, {**CART, "customer_ref": "ada"})["member"] is False


def test_free_shipping_needs_an_allowed_method_and_the_minimum(club: Club) -> None:
    club.join("ada")
    express = _ok(club, {**CART, "customer_ref": "ada", "shipping": {"method": "express", "amount": 1500}})
    assert express["shipping"] == {"free": False, "discount": 0}
    small = {"customer_ref": "ada", "currency": "usd", "items": [{"sku": "sock", "unit_amount": 900, "quantity": 1}],
             "shipping": {"method": "standard", "amount": 595}}  # fmt: skip
    assert _ok(club, small)["shipping"]["free"] is False


def test_early_access_lets_members_in_before_launch(club: Club) -> None:
    club.join("ada")
    now = datetime.now(UTC)
    soon = (now + timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = (now + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    past = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cart = {"customer_ref": "ada", "currency": "usd", "items": [
        {"sku": "drop-1", "unit_amount": 100, "quantity": 1, "launch_at": soon},
        {"sku": "drop-2", "unit_amount": 100, "quantity": 1, "launch_at": later},
        {"sku": "classic", "unit_amount": 100, "quantity": 1, "launch_at": past},
    ]}  # fmt: skip
    member = _ok(club, cart)
    assert member["early_access"] == {"allowed": ["drop-1"], "blocked": ["drop-2"]}
    guest = _ok(club, {**cart, "customer_ref": None})
    assert guest["early_access"] == {"allowed": [], "blocked": ["drop-1", "drop-2"]}


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"currency": "xyz"}, "currency"),
        ({"currency": "USD"}, "currency"),
        ({"items": [{"sku": "a", "unit_amount": -1, "quantity": 1}]}, "items[0].unit_amount"),
        ({"items": [{"sku": "a", "unit_amount": 1, "quantity": 0}]}, "items[0].quantity"),
        ({"items": [{"sku": "a", "unit_amount": 1, "quantity": 1.5}]}, "items[0].quantity"),
        ({"items": [{"sku": "a", "unit_amount": 1, "quantity": 1, "launch_at": "tomorrow"}]}, "items[0].launch_at"),
        ({"items": [{"sku": "a", "unit_amount": 1, "quantity": 1, "launch_at": "2026-12-01T00:00:00"}]},
         "items[0].launch_at"),
        ({"items": [{"sku": "a", "unit_amount": 1, "quantity": 1}] * 251}, "items"),
        ({"items": []}, "items"),
        ({"items": [{"sku": "a", "unit_amount": 1, "quantity": 1, "launch_at": "2030-01-01T00:00:00Z"},
                    {"sku": "a", "unit_amount": 1, "quantity": 1, "launch_at": "2031-01-01T00:00:00Z"}]},
         "items[1].launch_at"),
        ({"shipping": {"method": "standard", "amount": -5}}, "shipping.amount"),
        ({"customer_ref": "bad ref!"}, "customer_ref"),
        ({"coupon": "x"}, "coupon"),
    ],
)  # fmt: skip
def test_invalid_carts_are_400_naming_the_field(club: Club, change: dict[str, Any], param: str) -> None:
    response = _check(club, {**CART, **change})
    assert response.status_code == 400
    error = json.loads(response.body)["error"]
    assert (error["type"], error["param"]) == ("invalid_request", param)


def test_repeated_skus_count_each_line(club: Club) -> None:
    club.join("ada")
    cart = {"customer_ref": "ada", "currency": "usd", "items": [
        {"sku": "tee", "unit_amount": 2500, "quantity": 1}, {"sku": "tee", "unit_amount": 2500, "quantity": 1}]}  # fmt: skip
    assert _ok(club, cart)["member_discount"]["amount"] == 500


def test_a_warm_check_costs_exactly_one_dynamodb_read(club: Club) -> None:
    club.join("ada")
    _ok(club, {**CART, "customer_ref": "ada"})  # warms the plan, cause and key caches
    with counting_dynamodb_calls() as calls:
        result = _ok(club, {**CART, "customer_ref": "ada"})
    assert result["member"] is True
    assert dict(calls) == {"GetItem": 1}


def test_a_warm_guest_check_costs_no_dynamodb_call(club: Club) -> None:
    _ok(club, CART)
    with counting_dynamodb_calls() as calls:
        _ok(club, CART)
    assert dict(calls) == {}


def test_storefront_key_is_required(club: Club) -> None:
    response = club.client.http.post(
        "/v1/eligibility", body=json.dumps(CART), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401


def test_importing_the_app_does_not_import_stripe_or_touch_the_network() -> None:
    code = (
        "import socket, sys\n"
        "def refuse(*a, **k): raise AssertionError('network at import time')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "import app\n"
        "assert 'stripe' not in sys.modules, 'stripe imported'\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
