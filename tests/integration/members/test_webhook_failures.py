"""The webhook refuses what it cannot trust, ignores what it does not handle, and fails only transiently."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from chalicelib import clock
from chalicelib.store.base import transaction_connection
from chalicelib.store.members import MemberRecord
from localdev.stripe_emulator.signing import sign_payload
from tests.helpers import signed_webhook
from tests.integration.conftest import Club


def _post(club: Club, payload: str, headers: dict[str, str]) -> Any:
    return club.client.http.post("/v1/webhooks/stripe", body=payload, headers=headers)


@pytest.fixture
def paid(club: Club) -> list[dict[str, Any]]:
    """A shopper who paid; Stripe's events not yet delivered."""
    return [e for e in club.pay(club.start_checkout("ada")) if e["type"].startswith("customer.subscription")]


def _unchanged(club: Club) -> None:
    assert club.member("ada")["status"] == "none"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "t=123,v1=deadbeef",
        "garbage",
        "v1=abc",
    ],
)
def test_missing_or_malformed_signature_is_400(
    club: Club, paid: list[dict[str, Any]], header: str | None
) -> None:
    payload = json.dumps(paid[0])
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    response = _post(club, payload, headers)
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["param"] == "Stripe-Signature"
    _unchanged(club)


def test_signature_with_the_wrong_secret_is_400(club: Club, paid: list[dict[str, Any]]) -> None:
    payload, headers = signed_webhook(paid[0], secret="whsec_someone_else")
    assert _post(club, payload, headers).status_code == 400
    _unchanged(club)


@pytest.mark.parametrize("offset", [-301, 301])
def test_stale_or_future_dated_signature_is_400(club: Club, paid: list[dict[str, Any]], offset: int) -> None:
    # The server's clock is pinned, so the signature is exactly `offset` seconds off whatever the machine's load.
    server_now = datetime.now(UTC).replace(microsecond=0)
    clock.set_clock(lambda: server_now)
    payload, headers = signed_webhook(paid[0], at=int(server_now.timestamp()) + offset)
    response = _post(club, payload, headers)
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["code"] == "invalid_signature"
    _unchanged(club)


def test_a_tampered_body_is_400(club: Club, paid: list[dict[str, Any]]) -> None:
    payload, headers = signed_webhook(paid[0])
    assert _post(club, payload.replace('"active"', '"trialing"', 1) + " ", headers).status_code == 400
    _unchanged(club)


def test_a_signature_within_tolerance_is_accepted(club: Club, paid: list[dict[str, Any]]) -> None:
    server_now = datetime.now(UTC).replace(microsecond=0)
    clock.set_clock(lambda: server_now)
    payload, headers = signed_webhook(paid[-1], at=int(server_now.timestamp()) - 290)
    assert _post(club, payload, headers).status_code == 200


def test_any_of_several_configured_secrets_verifies(club: Club, paid: list[dict[str, Any]]) -> None:
    # The tests' stage is configured with two secrets (`STRIPE_WEBHOOK_SECRET=whsec_test,whsec_new`).
    for secret in ("whsec_new", "whsec_test"):
        payload, headers = signed_webhook(paid[-1], secret=secret)
        assert _post(club, payload, headers).status_code == 200


def test_malformed_json_with_a_valid_signature_is_400(club: Club) -> None:
    payload = '{"id": "evt_1", "type": '
    header = sign_payload(payload.encode(), "whsec_test", int(time.time()))
    response = _post(club, payload, {"Stripe-Signature": header, "Content-Type": "application/json"})
    assert response.status_code == 400


def test_an_event_without_an_object_is_400(club: Club) -> None:
    payload = json.dumps({"id": "evt_1", "type": "customer.subscription.updated", "data": {}})
    header = sign_payload(payload.encode(), "whsec_test", int(time.time()))
    assert (
        _post(club, payload, {"Stripe-Signature": header, "Content-Type": "application/json"}).status_code
        == 400
    )


def test_an_unknown_event_type_is_200_and_ignored(club: Club, paid: list[dict[str, Any]]) -> None:
    payload, headers = signed_webhook({**paid[-1], "id": "evt_other", "type": "payment_method.attached"})
    response = _post(club, payload, headers)
    assert (response.status_code, json.loads(response.body)["result"]) == (200, "ignored")
    _unchanged(club)


def test_an_event_for_an_unknown_customer_is_200_and_changes_nothing(
    club: Club, paid: list[dict[str, Any]]
) -> None:
    stranger = json.loads(json.dumps(paid[-1]))
    stranger["id"] = "evt_stranger"
    stranger["data"]["object"]["metadata"] = {}
    stranger["data"]["object"]["customer"] = "cus_not_ours"
    payload, headers = signed_webhook(stranger)
    response = _post(club, payload, headers)
    assert (response.status_code, json.loads(response.body)["result"]) == (200, "unknown_customer")
    _unchanged(club)


@pytest.fixture
def dynamodb_write_fails_once() -> Iterator[list[str]]:
    """The next DynamoDB transaction fails as if the network dropped (botocore raises before sending)."""
    failures: list[str] = []

    def fail(**kwargs: Any) -> None:
        if not failures:
            failures.append("TransactWriteItems")
            raise EndpointConnectionError(endpoint_url="http://dynamodb")

    events = transaction_connection().client.meta.events
    events.register("before-call.dynamodb.TransactWriteItems", fail)
    yield failures
    events.unregister("before-call.dynamodb.TransactWriteItems", fail)


def test_a_failed_dynamodb_write_is_5xx_and_the_retry_succeeds(
    club: Club, paid: list[dict[str, Any]], dynamodb_write_fails_once: list[str]
) -> None:
    payload, headers = signed_webhook(paid[-1])
    first = _post(club, payload, headers)
    assert first.status_code == 503 and dynamodb_write_fails_once == ["TransactWriteItems"]
    _unchanged(club)
    retry = _post(club, payload, headers)
    assert (retry.status_code, json.loads(retry.body)["result"]) == (200, "applied")
    assert club.member("ada")["status"] == "active"


def test_stripe_down_when_an_event_must_be_checked_is_502_and_stripe_retries(
    club: Club, paid: list[dict[str, Any]], stripe_down: None
) -> None:
    first = paid[0]
    assert club.deliver([first]) == [200]
    stored = MemberRecord.get("ada")
    # Another event stamped the same second, with another state: it cannot be ordered, so Stripe must be asked.
    tie = json.loads(json.dumps({**first, "id": first["id"] + "_tie"}))
    tie["data"]["object"]["cancel_at_period_end"] = True
    payload, headers = signed_webhook(tie)
    response = _post(club, payload, headers)
    assert (response.status_code, json.loads(response.body)["error"]["type"]) == (502, "upstream")
    assert MemberRecord.get("ada").version == stored.version
