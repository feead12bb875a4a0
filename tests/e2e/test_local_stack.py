"""`make dev` end to end: real HTTP to chalice local, moto server and the Stripe emulator."""

from __future__ import annotations

import requests

from tests.e2e.conftest import Stack

BRAND = {"Authorization": "Bearer local-brand-key", "Content-Type": "application/json"}
STOREFRONT = {"Authorization": "Bearer local-storefront-key", "Content-Type": "application/json"}


def test_demo_plans_are_seeded_with_their_stripe_prices(stack: Stack) -> None:
    plans = requests.get(f"{stack.api}/v1/plans", timeout=10).json()["data"]

    assert {p["plan_id"] for p in plans} == {"vip-monthly", "vip-yearly"}
    prices = requests.get(
        f"{stack.stripe}/v1/prices",
        params={"lookup_keys[]": ["vip-monthly", "vip-yearly"]},
        headers={"Authorization": "Bearer sk_test_local"},
        timeout=10,
    ).json()["data"]
    assert {p["lookup_key"] for p in prices} == {"vip-monthly", "vip-yearly"}


def test_demo_causes_are_seeded(stack: Stack) -> None:
    causes = requests.get(f"{stack.api}/v1/causes", timeout=10).json()["data"]

    assert {c["cause_id"] for c in causes} == {"ocean-cleanup", "school-meals", "reforestation"}


def test_the_local_keys_work_with_their_roles(stack: Stack) -> None:
    brand = requests.put(
        f"{stack.api}/v1/causes/clean-air",
        json={
            "name": "Clean Air",
            "description": "Trees in cities",
            "url": None,
            "active": True,
            "impact": None,
        },
        headers=BRAND,
        timeout=10,
    )
    storefront = requests.put(
        f"{stack.api}/v1/causes/clean-air", json={"name": "Clean Air"}, headers=STOREFRONT, timeout=10
    )

    assert brand.status_code == 200, brand.text
    assert storefront.status_code == 403
    assert storefront.json()["error"]["type"] == "permission"


def test_errors_from_the_dev_server_have_the_contract_shape(stack: Stack) -> None:
    unknown = requests.get(f"{stack.api}/v1/nope", timeout=10)
    bad_json = requests.put(f"{stack.api}/v1/causes/x", data="{", headers=BRAND, timeout=10)

    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "route_not_found"
    assert bad_json.status_code == 400
    assert bad_json.json()["error"]["type"] == "invalid_request"


def test_starting_prints_no_webhook_failures(stack: Stack) -> None:
    # The API listens before seeding creates Stripe products, so the emulator's webhooks are delivered.
    delivered = [line for line in stack.startup if line.startswith("[stripe] delivered")]
    failed = [
        line
        for line in stack.startup
        if "Connection refused" in line or ("webhook" in line and "failed" in line)
    ]

    assert delivered and not failed, "\n".join(failed)
