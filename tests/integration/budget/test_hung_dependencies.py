"""A hung Stripe or DynamoDB ends in the contract's 502/503 well inside the Lambda timeout, never in API
Gateway's own error; the eligibility hot path gives up on DynamoDB after 1 s."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalicelib.budget import Budget
from tests.helpers import STOREFRONT_KEY, auth, signed_webhook
from tests.integration.budget.conftest import timed
from tests.integration.conftest import Club

CART = {"currency": "usd", "items": [{"sku": "tee", "unit_amount": 2500, "quantity": 2}]}


def _answer(response: Any) -> tuple[int, str, bool]:
    """(status, error type, whether the client is told when to retry)."""
    error: dict[str, Any] = json.loads(response.body)["error"]
    return response.status_code, error["type"], "Retry-After" in response.headers


def _checkout(club: Club, customer_ref: str) -> Any:
    return club.post(
        f"/v1/members/{customer_ref}/checkout",
        {
            "plan_id": "vip-monthly",
            "email": f"{customer_ref}@example.com",
            "success_url": "https://shop.example/welcome",
            "cancel_url": "https://shop.example/join",
        },
    )


def _warm_the_key_cache(club: Club) -> None:
    assert club.post("/v1/eligibility", CART).status_code == 200


def test_checkout_answers_502_inside_the_budget_when_stripe_hangs(
    club: Club, hang_stripe: Callable[[], None], budget: Budget
) -> None:
    hang_stripe()

    response, elapsed = timed(lambda: _checkout(club, "ada"))

    assert _answer(response) == (502, "upstream", True)
    assert elapsed < budget.answer


def test_sync_answers_502_inside_the_budget_when_stripe_hangs(
    club: Club, hang_stripe: Callable[[], None], budget: Budget
) -> None:
    club.start_checkout("ada")
    hang_stripe()

    response, elapsed = timed(lambda: club.post("/v1/members/ada/sync"))

    assert _answer(response) == (502, "upstream", True)
    assert elapsed < budget.answer


def test_a_hung_stripe_costs_at_most_its_worst_case_with_the_retry(
    club: Club, hang_stripe: Callable[[], None], budget: Budget
) -> None:
    hang_stripe()

    _, elapsed = timed(lambda: _checkout(club, "ada"))

    # Both attempts waited out their read timeout: the retry happened, and nothing waited longer.
    assert 2 * budget.stripe.read_timeout <= elapsed < budget.stripe.worst_case + 1.0


def test_an_invoice_webhook_answers_502_inside_the_budget_when_stripe_hangs(
    club: Club, hang_stripe: Callable[[], None], budget: Budget
) -> None:
    events = club.pay(club.start_checkout("ada"))
    paid = next(e for e in events if e["type"] == "invoice.paid")
    hang_stripe()
    payload, headers = signed_webhook(paid)

    response, elapsed = timed(
        lambda: club.client.http.post("/v1/webhooks/stripe", body=payload, headers=headers)
    )

    # The invoice's subscription is read from Stripe before anything is written; a 5xx makes Stripe retry.
    assert _answer(response) == (502, "upstream", True)
    assert elapsed < budget.answer


def test_checkout_answers_503_inside_the_budget_when_dynamodb_hangs(
    club: Club, hang_dynamodb: Callable[[], None], budget: Budget
) -> None:
    _warm_the_key_cache(club)
    hang_dynamodb()

    response, elapsed = timed(lambda: _checkout(club, "ada"))

    assert _answer(response) == (503, "upstream", True)
    assert elapsed < budget.answer


def test_an_order_answers_503_inside_the_budget_when_dynamodb_hangs(
    club: Club, hang_dynamodb: Callable[[], None], budget: Budget
) -> None:
    _warm_the_key_cache(club)
    hang_dynamodb()

    response, elapsed = timed(
        lambda: club.post(
            "/v1/orders", {"order_id": "o-1", "customer_ref": "ada", "currency": "usd", "amount": 5000}
        )
    )

    assert _answer(response) == (503, "upstream", True)
    assert elapsed < budget.answer


def test_a_webhook_answers_503_inside_the_budget_when_dynamodb_hangs(
    club: Club, hang_dynamodb: Callable[[], None], budget: Budget
) -> None:
    events = club.pay(club.start_checkout("ada"))
    paid = next(e for e in events if e["type"] == "invoice.paid")
    hang_dynamodb()
    payload, headers = signed_webhook(paid)

    response, elapsed = timed(
        lambda: club.client.http.post("/v1/webhooks/stripe", body=payload, headers=headers)
    )

    # A 5xx, so Stripe delivers the event again later.
    assert _answer(response) == (503, "upstream", True)
    assert elapsed < budget.answer


def test_eligibility_answers_503_within_a_second_when_dynamodb_hangs(
    club: Club, hang_dynamodb: Callable[[], None]
) -> None:
    _warm_the_key_cache(club)
    hang_dynamodb()

    response, elapsed = timed(lambda: club.post("/v1/eligibility", {**CART, "customer_ref": "ada"}))

    assert _answer(response) == (503, "upstream", True)
    assert elapsed < 1.3  # 1 s on DynamoDB, the rest for the request itself on a busy machine


def test_eligibility_on_a_cold_function_answers_503_within_a_second_when_dynamodb_hangs(
    club: Club, hang_dynamodb: Callable[[], None]
) -> None:
    from chalicelib.services import api_keys, catalog

    api_keys.invalidate_cache()
    catalog.invalidate()
    hang_dynamodb()

    response, elapsed = timed(
        lambda: club.client.http.post("/v1/eligibility", body=json.dumps(CART), headers=auth(STOREFRONT_KEY))
    )

    assert _answer(response) == (503, "upstream", True)
    assert elapsed < 1.3
