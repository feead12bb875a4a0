"""A delivery is trusted only as Stripe signed it, and only as a well-formed event: else 400, nothing written."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest

from chalicelib.store import idempotency
from chalicelib.store.idempotency import IdempotencyRecord
from chalicelib.store.members import MemberRecord
from localdev.stripe_emulator.signing import sign_payload
from tests.helpers import WEBHOOK_SECRET, signed_webhook
from tests.integration.conftest import Club


@pytest.fixture
def paid(club: Club) -> dict[str, dict[str, Any]]:
    """A shopper who paid; Stripe's events (by type) not yet delivered."""
    return {e["type"]: e for e in club.pay(club.start_checkout("ada"))}


def _post(club: Club, payload: str, header: str) -> Any:
    headers = {"Stripe-Signature": header, "Content-Type": "application/json; charset=utf-8"}
    return club.client.http.post("/v1/webhooks/stripe", body=payload, headers=headers)


def _nothing_written(club: Club, event: dict[str, Any]) -> None:
    assert club.member("ada")["status"] == "none"
    assert MemberRecord.get("ada").paid_invoices == []
    assert IdempotencyRecord.count(idempotency.stripe_event_key(event["id"])) == 0


def test_an_old_delivery_resent_with_an_extra_fresh_timestamp_is_400_and_changes_nothing(
    club: Club, paid: dict[str, dict[str, Any]]
) -> None:
    event = paid["customer.subscription.created"]
    payload, headers = signed_webhook(event, at=int(time.time()) - 3600)  # captured an hour ago
    captured = headers["Stripe-Signature"]
    now = int(time.time())
    for forged in (f"v0=0, t={now},{captured}", f"t={now},{captured}", f"{captured},t={now}"):
        response = _post(club, payload, forged)
        assert response.status_code == 400, forged
        assert json.loads(response.body)["error"]["param"] == "Stripe-Signature"
    _nothing_written(club, event)


@pytest.mark.parametrize(
    "forge",
    [
        lambda h, now: h.replace("t=", f"t={now},t=", 1),  # several t
        lambda h, now: h.replace("t=", "t=0x", 1),  # not an integer
        lambda h, now: h.split(",v1=")[0],  # no v1
        lambda h, now: h.replace(",v1=", ", v1=", 1),  # a key that is v1 only once stripped
        lambda h, now: "t=&,v1=%",  # garbled
    ],
    ids=["several-t", "non-integer-t", "no-v1", "padded-v1", "garbled"],
)
def test_an_ambiguous_signature_header_is_400_and_changes_nothing(
    club: Club, paid: dict[str, dict[str, Any]], forge: Any
) -> None:
    event = paid["customer.subscription.created"]
    payload, headers = signed_webhook(event)
    response = _post(club, payload, forge(headers["Stripe-Signature"], int(time.time())))
    assert (response.status_code, json.loads(response.body)["error"]["code"]) == (400, "invalid_signature")
    _nothing_written(club, event)


def _without(event: dict[str, Any], *path: str) -> dict[str, Any]:
    broken = copy.deepcopy(event)
    node = broken
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return broken


def _with(event: dict[str, Any], value: Any, *path: str | int) -> dict[str, Any]:
    broken = copy.deepcopy(event)
    node: Any = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return broken


MALFORMED = [
    ("customer.subscription.created", lambda e: _without(e, "data", "object", "status"), "data.object.status"),
    ("customer.subscription.created", lambda e: _with(e, 42, "data", "object", "status"), "data.object.status"),
    ("customer.subscription.created", lambda e: _with(e, [], "data", "object", "items", "data"),
     "data.object.items.data"),
    ("customer.subscription.created",
     lambda e: _with(e, "soon", "data", "object", "items", "data", 0, "current_period_end"),
     "data.object.items.data[0].current_period_end"),
    ("customer.subscription.created", lambda e: _with(e, "yesterday", "created"), "created"),
    ("customer.subscription.created", lambda e: _without(e, "data"), "data"),
    ("invoice.paid", lambda e: _with(e, "9.99", "data", "object", "amount_paid"), "data.object.amount_paid"),
    ("invoice.paid", lambda e: _without(e, "data", "object", "currency"), "data.object.currency"),
    ("invoice.paid", lambda e: _with(e, None, "data", "object", "status_transitions"),
     "data.object.status_transitions"),
    ("checkout.session.completed", lambda e: _with(e, 7, "data", "object", "subscription"),
     "data.object.subscription"),
]  # fmt: skip


@pytest.mark.parametrize(("event_type", "break_it", "param"), MALFORMED, ids=[m[2] for m in MALFORMED])
def test_a_signed_but_malformed_event_is_400_naming_the_field_and_changes_nothing(
    club: Club, paid: dict[str, dict[str, Any]], event_type: str, break_it: Any, param: str
) -> None:
    event = break_it(paid[event_type])
    payload, headers = signed_webhook(event)
    response = _post(club, payload, headers["Stripe-Signature"])
    assert response.status_code == 400, response.body
    error = json.loads(response.body)["error"]
    assert (error["type"], error["param"]) == ("invalid_request", param)
    _nothing_written(club, paid[event_type])


def test_a_signed_body_that_is_not_an_event_is_400(club: Club) -> None:
    for payload in ('["evt_1"]', '{"type": "invoice.paid"}', '{"id": "evt_1", "type": '):
        header = sign_payload(payload.encode(), WEBHOOK_SECRET, int(time.time()))
        assert _post(club, payload, header).status_code == 400, payload


def test_an_unhandled_event_type_needs_only_an_id_and_a_type(club: Club) -> None:
    payload = json.dumps({"id": "evt_other", "type": "payment_method.attached", "data": {"object": {}}})
    header = sign_payload(payload.encode(), WEBHOOK_SECRET, int(time.time()))
    response = _post(club, payload, header)
    assert (response.status_code, json.loads(response.body)["result"]) == (200, "ignored")
