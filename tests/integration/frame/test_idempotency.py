"""`Idempotency-Key`: scoped to the API key, fingerprinted on method + concrete path + body."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest

from chalicelib import clock, invocation
from chalicelib.services import api_keys, idempotency
from chalicelib.store import idempotency as store
from chalicelib.store.orders import OrderRecord
from tests.helpers import STOREFRONT_KEY, auth
from tests.integration.conftest import Club


def _post(client: Any, path: str, payload: dict[str, Any], key: str, api_key: str = STOREFRONT_KEY) -> Any:
    return client.http.post(path, body=json.dumps(payload), headers=auth(api_key, **{"Idempotency-Key": key}))


def _order(order_id: str, customer_ref: str = "ada", amount: int = 10_000) -> dict[str, Any]:
    return {"order_id": order_id, "customer_ref": customer_ref, "currency": "usd", "amount": amount}


@pytest.fixture
def member(club: Club) -> Club:
    club.join("ada")
    return club


def test_a_retry_of_the_same_request_replays_the_first_response(client: Any, keys: dict[str, str]) -> None:
    first = _post(client, "/v1/orders", _order("o-1"), "k-1")
    again = _post(client, "/v1/orders", _order("o-1"), "k-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert json.loads(again.body) == json.loads(first.body)


def test_the_same_key_with_another_body_is_a_conflict_and_does_nothing(
    client: Any, keys: dict[str, str]
) -> None:
    _post(client, "/v1/orders", _order("o-1"), "k-1")

    response = _post(client, "/v1/orders", _order("o-2"), "k-1")

    assert response.status_code == 409
    assert json.loads(response.body)["error"]["code"] == "idempotency_key_reused"
    assert OrderRecord.count("o-2") == 0


def test_the_refund_key_reused_on_another_order_is_refused_and_that_order_loses_nothing(member: Club) -> None:
    for order_id in ("A", "B"):
        assert member.post("/v1/orders", _order(order_id)).status_code == 201
    refund = {"refund_id": "r-1", "amount": 10_000}

    first = _post(member.client, "/v1/orders/A/refunds", refund, "refund-key")
    reused = _post(member.client, "/v1/orders/B/refunds", refund, "refund-key")
    on_its_own = _post(member.client, "/v1/orders/B/refunds", refund, "another-key")

    assert (first.status_code, reused.status_code, on_its_own.status_code) == (201, 409, 201)
    assert json.loads(on_its_own.body) == {**json.loads(first.body), "order_id": "B"}
    assert json.loads(on_its_own.body)["donation_reversed"] == 200  # the whole 2 % pledge of order B


def test_the_cancel_key_reused_for_another_member_leaves_that_member_subscribed(club: Club) -> None:
    club.join("ada")
    club.join("bob")

    first = _post(club.client, "/v1/members/ada/cancel", {}, "cancel-key")
    reused = _post(club.client, "/v1/members/bob/cancel", {}, "cancel-key")

    assert (first.status_code, reused.status_code) == (200, 409)
    assert club.member("ada")["cancel_at_period_end"] is True
    assert club.member("bob")["cancel_at_period_end"] is False
    assert _post(club.client, "/v1/members/bob/cancel", {}, "bob-cancel").status_code == 200
    assert club.member("bob")["cancel_at_period_end"] is True


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("sync", {}),
        ("portal", {"return_url": "https://shop.example/account"}),
        ("resume", {}),
        ("plan", {"plan_id": "vip-yearly"}),
        ("checkout", {"plan_id": "vip-monthly", "email": "x@example.com", "success_url": "https://s.example/ok",
                      "cancel_url": "https://s.example/no"}),
    ],
)  # fmt: skip
def test_a_member_action_key_reused_for_another_member_is_a_conflict(
    club: Club, action: str, payload: dict[str, Any]
) -> None:
    _post(club.client, f"/v1/members/ada/{action}", payload, f"{action}-key")

    reused = _post(club.client, f"/v1/members/bob/{action}", payload, f"{action}-key")

    assert reused.status_code == 409, reused.body
    assert json.loads(reused.body)["error"]["param"] == "Idempotency-Key"


def test_keys_of_different_api_keys_never_meet(client: Any, keys: dict[str, str]) -> None:
    other = api_keys.mint_key("storefront", "second shop").secret

    first = _post(client, "/v1/orders", _order("o-1"), "shared-key")
    second = _post(client, "/v1/orders", _order("o-2"), "shared-key", api_key=other)

    assert (first.status_code, second.status_code) == (201, 201)


def test_an_invalid_idempotency_key_is_named(client: Any, keys: dict[str, str]) -> None:
    response = _post(client, "/v1/orders", _order("o-1"), "x" * 256)

    assert response.status_code == 400
    assert json.loads(response.body)["error"]["param"] == "Idempotency-Key"
    assert OrderRecord.count("o-1") == 0


def test_racing_first_uses_of_a_key_run_the_request_once_and_never_fail(
    client: Any, keys: dict[str, str]
) -> None:
    start = threading.Barrier(4)
    statuses: list[tuple[int, str]] = []

    def send() -> None:
        start.wait()
        response = _post(client, "/v1/orders", _order("o-race"), "race-key")
        statuses.append((response.status_code, response.headers.get("Idempotent-Replayed", "")))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses.count((201, "")) == 1, statuses
    assert all(status in ((201, "true"), (409, "")) for status in statuses if status != (201, "")), statuses
    assert OrderRecord.count("o-race") == 1


def test_while_the_first_use_runs_a_second_gets_in_progress(dynamodb_url: str) -> None:
    running, release = threading.Event(), threading.Event()
    outcomes: list[object] = []

    def slow() -> idempotency.Outcome:
        running.set()
        release.wait(5)
        return idempotency.Outcome(201, "{}", "application/json")

    first = threading.Thread(target=lambda: outcomes.append(idempotency.run_once("api", "k", "fp", slow)))
    first.start()
    running.wait(5)
    with pytest.raises(idempotency.IdempotencyInProgressError):
        idempotency.run_once("api", "k", "fp", slow)
    release.set()
    first.join()

    assert outcomes == [(idempotency.Outcome(201, "{}", "application/json"), False)]


def test_the_in_progress_lease_ends_with_the_invocation(dynamodb_url: str) -> None:
    leases = []

    def note_the_lease() -> idempotency.Outcome:
        stored = store.get_request(store.request_key("api", "k"))
        assert stored is not None and stored.locked_until is not None
        leases.append(stored.locked_until)
        return idempotency.Outcome(200, "{}", "application/json")

    invocation.start("req-1", remaining_ms=3_000)
    before = clock.now()
    try:
        idempotency.run_once("api", "k", "fp", note_the_lease)
    finally:
        invocation.end()

    assert (
        before + timedelta(seconds=3)
        <= leases[0]
        <= clock.now() + timedelta(seconds=3) + idempotency.LEASE_MARGIN
    )
