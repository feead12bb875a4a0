"""A busy day with real threads against moto: many orders, refunds and payouts at once lose and double nothing."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.errors import ApiError, ConflictError, ServiceUnavailableError, ValidationError
from chalicelib.services import donations
from chalicelib.services.donations import DisbursementIn, OrderIn, RefundIn
from chalicelib.services.unit_of_work import on_dynamodb
from chalicelib.store import orders as orders_store
from chalicelib.store import totals
from ops.rebuild_totals import recompute
from tests.helpers import BRAND_KEY, STOREFRONT_KEY, auth
from tests.integration.conftest import Club

NOW = datetime.now(UTC)
MONTH = NOW.strftime("%Y-%m")
FEE_PLEDGE = 100  # each join paid 9.99, 10 % of it pledged to the default cause
ORDERS = 40


@pytest.fixture
def shoppers(club: Club) -> Club:
    club.join("ada")
    club.join("bob")
    response = club.client.http.put(
        "/v1/members/bob/cause", body=json.dumps({"cause_id": "school-meals"}), headers=auth(STOREFRONT_KEY)
    )
    assert response.status_code == 200, response.body
    return club


def _attempt(call: Callable[[], Any]) -> Any:
    """The answer, or the API error a client would get (refused, conflicting, or told to retry)."""
    try:
        return call()
    except (ConflictError, ValidationError, ServiceUnavailableError) as exc:
        return exc


def _stored_totals() -> list[tuple[Any, ...]]:
    return sorted(
        (t.scope, t.key, int(t.pledged), int(t.reversed), int(t.disbursed), int(t.orders))
        for t in totals.DonationTotalsRecord.scan()
    )


def test_concurrent_orders_refunds_and_payouts_add_up_and_equal_a_rebuild_from_the_ledger(
    shoppers: Club,
) -> None:
    rng = random.Random(6)
    orders = [
        OrderIn(order_id=f"o-{i}", customer_ref=rng.choice(["ada", "bob", "guest"]), currency="usd",
                amount=rng.randint(1, 40_000))
        for i in range(ORDERS)
    ]  # fmt: skip
    with ThreadPoolExecutor(max_workers=16) as pool:
        placed = list(
            pool.map(lambda order: _attempt(lambda: donations.record_order(order, on_dynamodb())), orders)
        )
    assert all(isinstance(result, tuple) and result[1] for result in placed), (
        placed
    )  # every order recorded once
    donation_of = {answer.order_id: answer.donation for answer, _ in placed}

    refunds = [(order.order_id, f"r-{n}", rng.randint(1, order.amount)) for n, order in enumerate(orders * 2)]
    payouts = [
        ("general-fund" if n % 2 else "school-meals", f"d-{n}", rng.randint(1, 150)) for n in range(20)
    ]

    def refund(job: tuple[str, str, int]) -> Any:
        order_id, refund_id, amount = job
        return _attempt(lambda: donations.record_refund(order_id, RefundIn(refund_id, amount), on_dynamodb()))

    def pay(job: tuple[str, str, int]) -> Any:
        cause_id, disbursement_id, amount = job
        body = DisbursementIn(disbursement_id=disbursement_id, cause_id=cause_id, currency="usd", amount=amount,
                              paid_at=NOW, reference=f"wire {disbursement_id}")  # fmt: skip
        return _attempt(lambda: donations.record_disbursement(body, on_dynamodb()))

    jobs: list[Callable[[], Any]] = [lambda job=job: refund(job) for job in refunds]
    jobs += [lambda job=job: pay(job) for job in payouts]
    rng.shuffle(jobs)
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda job: job(), jobs))

    errors = [r for r in results if isinstance(r, ApiError)]
    assert all(e.status in (400, 409, 503) for e in errors), errors
    accepted_refunds = [a for a, _ in (r for r in results if isinstance(r, tuple)) if hasattr(a, "refund_id")]
    accepted_payouts = [
        a for a, _ in (r for r in results if isinstance(r, tuple)) if hasattr(a, "disbursement_id")
    ]

    # Per order: refunds never exceed the amount; what they reversed is exactly the rounding rule's total.
    for order in orders:
        mine = [a for a in accepted_refunds if a.order_id == order.order_id]
        refunded = sum(a.amount for a in mine)
        assert refunded <= order.amount
        stored = orders_store.get_order(order.order_id)
        assert stored is not None and stored.refunded == refunded
        donation = donation_of[order.order_id].amount if donation_of[order.order_id] else 0
        assert sum(a.donation_reversed for a in mine) == stored.reversed <= donation
        assert stored.reversed == (2 * donation * refunded + order.amount) // (2 * order.amount)

    # Per cause: the report's totals are exactly what the answers said happened.
    expected: dict[str, dict[str, int]] = {
        cause: {"pledged": 0, "reversed": 0, "disbursed": 0} for cause in ("general-fund", "school-meals")
    }
    expected["general-fund"]["pledged"] += 2 * FEE_PLEDGE
    for answer, _ in placed:
        if answer.donation is not None:
            expected[answer.donation.cause_id]["pledged"] += answer.donation.amount
    for refund_answer in accepted_refunds:
        donation = donation_of[refund_answer.order_id]
        if donation is not None:
            expected[donation.cause_id]["reversed"] += refund_answer.donation_reversed
    for payout in accepted_payouts:
        expected[payout.cause_id]["disbursed"] += payout.amount
    response = shoppers.client.http.get(
        f"/v1/reports/donations?from={MONTH}&to={MONTH}", headers=auth(BRAND_KEY)
    )
    totals = {t["cause_id"]: t for t in json.loads(response.body)["totals"]}
    for cause, sums in expected.items():
        net = sums["pledged"] - sums["reversed"]
        assert (totals[cause]["net"], totals[cause]["disbursed"]) == (net, sums["disbursed"])
        assert totals[cause]["outstanding"] == net - sums["disbursed"]
    assert accepted_payouts and accepted_refunds

    # And the running totals equal the totals recomputed from the append-only ledger.
    before = _stored_totals()
    assert recompute(write=False) == []
    recompute(write=True)
    assert _stored_totals() == before
