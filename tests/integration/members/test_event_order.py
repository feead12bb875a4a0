"""Stripe delivers at least once and in any order: every order, and every duplicate, converges.

Over HTTP, one shuffled order per scenario; every order of these scenarios runs in memory, many examples
(`tests/unit/test_event_order.py`)."""

from __future__ import annotations

import random
from typing import Any

from chalicelib.store import idempotency
from chalicelib.store import members as store
from chalicelib.store.idempotency import IdempotencyRecord
from chalicelib.store.members import MemberRecord
from tests.integration.conftest import Club

HANDLED = {
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
}


def _handled(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] in HANDLED]


def _outcome(club: Club, customer_ref: str) -> tuple[Any, ...]:
    member = club.member(customer_ref)
    return (
        member["status"],
        member["plan_id"],
        member["perks_active"],
        member["current_period_end"],
        member["cancel_at_period_end"],
        member["grace_until"],
    )


class Replay:
    """Rewinds one shopper to the moment before Stripe's events, to deliver them again in another order."""

    def __init__(self, customer_ref: str) -> None:
        self.customer_ref = customer_ref
        self.events: list[dict[str, Any]] = []
        self.initial = store.get_member(customer_ref)

    def rewind(self) -> None:
        MemberRecord(self.customer_ref).delete(add_version_condition=False)
        for event in self.events:
            IdempotencyRecord(idempotency.stripe_event_key(event["id"])).delete()
        assert self.initial is not None
        self.initial.version = None
        store.save_member(self.initial, self.initial.created_at)  # type: ignore[arg-type]


def _converges(club: Club, replay: Replay, events: list[dict[str, Any]], orders: list[list[int]]) -> None:
    customer_ref = replay.customer_ref
    replay.events = events
    replay.rewind()
    assert set(club.deliver(events)) == {200}
    expected = _outcome(club, customer_ref)
    for order in orders:
        replay.rewind()
        shuffled = [events[i] for i in order]
        # Each event delivered twice: the second delivery changes nothing.
        assert set(club.deliver(shuffled + shuffled)) == {200}
        assert _outcome(club, customer_ref) == expected, [e["type"] for e in shuffled]


def test_the_checkout_events_in_reverse_give_the_same_active_membership(club: Club) -> None:
    session = club.start_checkout("ada")
    replay = Replay("ada")
    events = _handled(club.pay(session))
    assert len(events) == 4
    _converges(club, replay, events, [list(reversed(range(len(events))))])
    assert _outcome(club, "ada")[:3] == ("active", "vip-monthly", True)


def test_shuffled_events_of_a_failed_then_recovered_renewal_converge(club: Club) -> None:
    session = club.start_checkout("ada")
    replay = Replay("ada")
    events = club.pay(session)
    subscription_id = next(
        e["data"]["object"]["id"] for e in events if e["type"] == "customer.subscription.created"
    )
    events += club.advance(subscription_id, "payment_failed")
    events += club.advance(subscription_id, "paid")
    events = _handled(events)
    rng = random.Random(20261123)
    _converges(club, replay, events, [rng.sample(range(len(events)), len(events))])
    assert _outcome(club, "ada")[:3] == ("active", "vip-monthly", True)


def test_shuffled_events_of_a_cancellation_at_period_end_converge(club: Club) -> None:
    session = club.start_checkout("ada")
    replay = Replay("ada")
    events = club.pay(session)
    subscription_id = next(
        e["data"]["object"]["id"] for e in events if e["type"] == "customer.subscription.created"
    )
    before = len(club.emulator.events)
    assert club.post("/v1/members/ada/cancel", {}).status_code == 200
    events += club.emulator.events_since(before)
    events += club.advance(subscription_id)
    events = _handled(events)
    rng = random.Random(7)
    _converges(club, replay, events, [rng.sample(range(len(events)), len(events))])
    assert _outcome(club, "ada")[:3] == ("canceled", "vip-monthly", False)


def test_duplicate_webhook_changes_nothing(club: Club) -> None:
    events = _handled(club.pay(club.start_checkout("ada")))
    club.deliver(events)
    before = MemberRecord.get("ada").version
    responses = [
        club.client.http.post("/v1/webhooks/stripe", body=payload, headers=headers)
        for payload, headers in map(_signed, events)
    ]
    assert {r.status_code for r in responses} == {200}
    assert {r.json_body["result"] for r in responses} == {"duplicate"}
    assert MemberRecord.get("ada").version == before


def _signed(event: dict[str, Any]) -> tuple[str, dict[str, str]]:
    from tests.helpers import signed_webhook

    return signed_webhook(event)


def test_a_repeated_subscription_event_asks_stripe_nothing(club: Club) -> None:
    events = _handled(club.pay(club.start_checkout("ada")))
    update = [e for e in events if e["type"] == "customer.subscription.updated"][-1]
    assert club.deliver([update]) == [200]  # its state is now the stored one
    before = len(club.emulator.api_requests)
    payload, headers = _signed(update)
    response = club.client.http.post("/v1/webhooks/stripe", body=payload, headers=headers)
    assert (response.status_code, response.json_body["result"]) == (200, "duplicate")
    assert club.emulator.api_requests[before:] == []
