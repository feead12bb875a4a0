"""A write that committed answers as a first success even when its answer was lost and botocore retried it.

The network drops DynamoDB's answer to the first TransactWriteItems after the transaction committed;
botocore resends the same call (same `ClientRequestToken`, which real DynamoDB honours and moto does
not). The service recognises its own earlier write by the request id stored on the record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from botocore.exceptions import ConnectionClosedError

from chalicelib.store.base import transaction_connection
from chalicelib.store.orders import OrderRecord
from tests.integration.conftest import Club


@pytest.fixture
def first_answer_lost() -> Iterator[list[str | None]]:
    """The next transaction commits, then its answer is lost; returns each attempt's ClientRequestToken."""
    tokens: list[str | None] = []

    def lose_the_answer(request: Any, **_: Any) -> None:
        tokens.append(json.loads(request.body).get("ClientRequestToken"))
        if len(tokens) == 1:
            requests.post(request.url, data=request.body, headers=dict(request.headers), timeout=10)
            raise ConnectionClosedError(endpoint_url=request.url)

    events = transaction_connection().client.meta.events
    events.register("before-send.dynamodb.TransactWriteItems", lose_the_answer)
    yield tokens
    events.unregister("before-send.dynamodb.TransactWriteItems", lose_the_answer)


ORDER = {"order_id": "o-1", "customer_ref": "ada", "currency": "usd", "amount": 10_000}


@pytest.fixture
def member(club: Club) -> Club:
    club.join("ada")
    return club


def test_an_order_whose_commit_was_retried_answers_as_created(
    member: Club, first_answer_lost: list[str | None]
) -> None:
    first = member.post("/v1/orders", ORDER)

    assert first.status_code == 201, first.body
    assert len(first_answer_lost) == 2 and first_answer_lost[0] is not None
    assert first_answer_lost[0] == first_answer_lost[1]  # botocore resent the same token
    assert OrderRecord.count("o-1") == 1
    assert json.loads(first.body)["donation"]["amount"] == 200


def test_another_request_with_the_same_order_still_gets_the_replay(member: Club) -> None:
    first = member.post("/v1/orders", ORDER)
    again = member.post("/v1/orders", ORDER)

    assert (first.status_code, again.status_code) == (201, 200)


def test_a_refund_whose_commit_was_retried_answers_as_created_and_reverses_once(
    member: Club, request: pytest.FixtureRequest
) -> None:
    assert member.post("/v1/orders", ORDER).status_code == 201
    request.getfixturevalue("first_answer_lost")

    refund = member.post("/v1/orders/o-1/refunds", {"refund_id": "r-1", "amount": 5_000})

    assert refund.status_code == 201, refund.body
    assert json.loads(refund.body)["donation_reversed"] == 100
    order = OrderRecord.get("o-1", "order")
    assert (order.refunded, order.reversed) == (5_000, 100)
