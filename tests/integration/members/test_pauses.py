"""Pauses end to end: a paused member keeps no perks, whichever way the pause came (the Customer Portal,
the API, Stripe's own `paused` status), and gets them back when it is lifted — also when a webhook is lost."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.payments.client import stripe_client
from localdev.dynamodb_calls import counting_dynamodb_calls
from tests.helpers import BRAND_KEY, STOREFRONT_KEY, auth
from tests.integration.conftest import Club
from tests.integration.members.test_event_order import HANDLED, Replay, _converges


def eligible(club: Club, customer_ref: str) -> dict[str, Any]:
    cart = {"customer_ref": customer_ref, "currency": "usd",
            "items": [{"sku": "tee", "unit_amount": 6000, "quantity": 1}],
            "shipping": {"method": "standard", "amount": 695}}  # fmt: skip
    response = club.client.http.post("/v1/eligibility", body=json.dumps(cart), headers=auth(STOREFRONT_KEY))
    assert response.status_code == 200, response.body
    result: dict[str, Any] = json.loads(response.body)
    return result


def stripe_subscription(subscription_id: str) -> dict[str, Any]:
    result: dict[str, Any] = stripe_client().v1.subscriptions.retrieve(subscription_id).to_dict()
    return result


def reconcile(club: Club, *refs: str) -> tuple[int, int]:
    """(checked, fixed) of reconciling these shoppers now."""
    response = club.post("/v1/admin/reconcile", {"customer_refs": list(refs)}, key=BRAND_KEY)
    assert response.status_code == 200, response.body
    result: dict[str, Any] = json.loads(response.body)
    return result["checked"], result["fixed"]


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_of(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response.body)["error"]
    return body


def test_a_member_who_pauses_in_the_portal_keeps_no_perks_until_unpaused(club: Club) -> None:
    subscription_id = club.join("ada")
    assert eligible(club, "ada")["member_discount"]["amount"] == 600

    before = len(club.emulator.events)
    club.emulator.pause(subscription_id, "void")
    assert set(club.deliver(club.emulator.events_since(before))) == {200}

    member = club.member("ada")
    # Stripe leaves the subscription `active`: the pause alone takes the perks away.
    assert (member["status"], member["perks_active"], member["perks"]) == ("active", False, None)
    assert member["paused_until"] is None
    answer = eligible(club, "ada")
    assert answer["member"] is False
    assert (answer["member_discount"]["amount"], answer["shipping"]["free"]) == (0, False)

    before = len(club.emulator.events)
    club.emulator.unpause(subscription_id)
    assert set(club.deliver(club.emulator.events_since(before))) == {200}
    member = club.member("ada")
    assert (member["status"], member["perks_active"], member["paused_until"]) == ("active", True, None)
    assert eligible(club, "ada")["member_discount"]["amount"] == 600


@pytest.mark.parametrize("behavior", ["mark_uncollectible", "keep_as_draft"])
def test_every_portal_pause_behavior_stops_perks(club: Club, behavior: str) -> None:
    subscription_id = club.join("ada")
    before = len(club.emulator.events)
    club.emulator.pause(subscription_id, behavior)
    assert set(club.deliver(club.emulator.events_since(before))) == {200}
    assert club.member("ada")["perks_active"] is False


def test_renewals_while_paused_give_no_perks(club: Club) -> None:
    subscription_id = club.join("ada")
    before = len(club.emulator.events)
    club.emulator.pause(subscription_id, "void")
    club.deliver(club.emulator.events_since(before))
    period_end = club.member("ada")["current_period_end"]

    assert set(club.deliver(club.advance(subscription_id, "paid"))) == {200}

    member = club.member("ada")
    assert member["status"] == "active" and member["current_period_end"] >= period_end
    assert member["perks_active"] is False
    invoice = stripe_client().v1.invoices.retrieve(stripe_subscription(subscription_id)["latest_invoice"])
    assert (invoice.status, invoice.amount_paid) == ("void", 0)


def test_pause_through_the_api_until_a_date_then_unpause(club: Club) -> None:
    subscription_id = club.join("ada")
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)

    before = len(club.emulator.events)
    response = club.post("/v1/members/ada/pause", {"until": rfc3339(until)})

    assert response.status_code == 200, response.body
    member = json.loads(response.body)
    assert (member["status"], member["perks_active"], member["perks"]) == ("active", False, None)
    assert member["paused_until"] == rfc3339(until)
    assert stripe_subscription(subscription_id)["pause_collection"] == {
        "behavior": "void",
        "resumes_at": int(until.timestamp()),
    }
    assert club.member("ada") == member
    assert eligible(club, "ada")["member"] is False
    # Stripe's webhook about the change the API made changes nothing more.
    assert set(club.deliver(club.emulator.events_since(before))) == {200}
    assert club.member("ada") == member

    # Pausing again with the same end changes nothing, in Stripe either.
    before = len(club.emulator.events)
    again = club.post("/v1/members/ada/pause", {"until": rfc3339(until)})
    assert (again.status_code, json.loads(again.body)) == (200, member)
    assert club.emulator.events_since(before) == []

    response = club.post("/v1/members/ada/unpause")
    assert response.status_code == 200, response.body
    member = json.loads(response.body)
    assert (member["perks_active"], member["paused_until"]) == (True, None)
    assert stripe_subscription(subscription_id)["pause_collection"] is None
    assert eligible(club, "ada")["member_discount"]["amount"] == 600

    # Unpausing what is not paused changes nothing.
    before = len(club.emulator.events)
    again = club.post("/v1/members/ada/unpause")
    assert (again.status_code, json.loads(again.body)) == (200, member)
    assert club.emulator.events_since(before) == []


def test_a_pause_without_an_end_lasts_until_unpaused(club: Club) -> None:
    subscription_id = club.join("ada")
    response = club.post("/v1/members/ada/pause", {})
    assert response.status_code == 200, response.body
    member = json.loads(response.body)
    assert (member["perks_active"], member["paused_until"]) == (False, None)
    assert stripe_subscription(subscription_id)["pause_collection"] == {
        "behavior": "void",
        "resumes_at": None,
    }
    # Choosing an end later moves the pause's end in Stripe.
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    response = club.post("/v1/members/ada/pause", {"until": rfc3339(until)})
    assert json.loads(response.body)["paused_until"] == rfc3339(until)
    assert stripe_subscription(subscription_id)["pause_collection"]["resumes_at"] == int(until.timestamp())


@pytest.mark.parametrize("until", ["2020-01-01T00:00:00Z", "next tuesday", "2027-01-01T00:00:00", 1767225600])
def test_a_bad_until_is_refused_naming_the_field_and_nothing_changes(club: Club, until: object) -> None:
    subscription_id = club.join("ada")
    before = len(club.emulator.events)

    response = club.post("/v1/members/ada/pause", {"until": until})

    assert response.status_code == 400
    assert error_of(response)["param"] == "until"
    assert stripe_subscription(subscription_id)["pause_collection"] is None
    assert club.emulator.events_since(before) == []
    assert club.member("ada")["perks_active"] is True


def test_unknown_fields_are_refused(club: Club) -> None:
    club.join("ada")
    response = club.post("/v1/members/ada/pause", {"resumes_at": 2_000_000_000})
    assert response.status_code == 400
    assert club.member("ada")["perks_active"] is True


def test_pause_and_unpause_of_an_unknown_shopper_are_not_found(club: Club) -> None:
    for action in ("pause", "unpause"):
        response = club.post(f"/v1/members/nobody/{action}")
        assert response.status_code == 404
        assert error_of(response)["param"] == "customer_ref"


def test_a_shopper_without_a_subscription_cannot_pause(club: Club) -> None:
    club.start_checkout("ada")
    for action in ("pause", "unpause"):
        response = club.post(f"/v1/members/ada/{action}")
        assert response.status_code == 409
        assert error_of(response)["code"] == "no_subscription"


def test_a_canceled_subscription_cannot_pause(club: Club) -> None:
    club.join("ada")
    assert club.post("/v1/members/ada/cancel", {"at_period_end": False}).status_code == 200
    response = club.post("/v1/members/ada/pause")
    assert response.status_code == 409


def test_the_pause_needs_the_storefront_key(club: Club) -> None:
    club.join("ada")
    response = club.client.http.post("/v1/members/ada/pause", body="{}", headers={})
    assert response.status_code == 401
    assert club.member("ada")["perks_active"] is True


def test_a_lost_portal_pause_webhook_is_healed_by_reconciliation(club: Club) -> None:
    subscription_id = club.join("ada")
    club.emulator.pause(subscription_id, "void")  # its webhook never arrives
    assert club.member("ada")["perks_active"] is True

    assert reconcile(club, "ada") == (1, 1)
    member = club.member("ada")
    assert (member["status"], member["perks_active"]) == ("active", False)
    assert eligible(club, "ada")["member"] is False
    assert reconcile(club, "ada") == (1, 0)

    club.emulator.unpause(subscription_id)  # lost as well
    assert club.member("ada")["perks_active"] is False
    assert reconcile(club, "ada") == (1, 1)
    assert club.member("ada")["perks_active"] is True


def test_the_lost_webhook_arriving_late_changes_nothing(club: Club) -> None:
    subscription_id = club.join("ada")
    before = len(club.emulator.events)
    club.emulator.pause(subscription_id, "void")
    paused = club.emulator.events_since(before)
    before = len(club.emulator.events)
    club.emulator.unpause(subscription_id)
    unpaused = club.emulator.events_since(before)
    assert set(club.deliver(unpaused)) == {200}
    # The pause's event comes after the unpause's: an older state never wins.
    assert set(club.deliver(paused)) == {200}
    assert club.member("ada")["perks_active"] is True


def test_stripes_own_paused_status_stops_perks_and_unpause_resumes_it(club: Club) -> None:
    subscription_id = club.join("ada")
    before = len(club.emulator.events)
    stripe_client().v1.subscriptions.pause(subscription_id, params={"type": "subscription"})
    events = club.emulator.events_since(before)
    assert "customer.subscription.paused" in [e["type"] for e in events]
    assert set(club.deliver(events)) == {200}

    member = club.member("ada")
    assert (member["status"], member["perks_active"], member["paused_until"]) == ("paused", False, None)
    # Already paused: pausing again changes nothing, but an end cannot be set on Stripe's own pause.
    assert club.post("/v1/members/ada/pause").status_code == 200
    refused = club.post("/v1/members/ada/pause", {"until": rfc3339(datetime.now(UTC) + timedelta(days=3))})
    assert (refused.status_code, error_of(refused)["code"]) == (409, "paused_by_stripe")

    before = len(club.emulator.events)
    response = club.post("/v1/members/ada/unpause")
    assert response.status_code == 200, response.body
    assert (json.loads(response.body)["status"], json.loads(response.body)["perks_active"]) == (
        "active",
        True,
    )
    events = club.emulator.events_since(before)
    assert "customer.subscription.resumed" in [e["type"] for e in events]
    assert set(club.deliver(events)) == {200}
    assert club.member("ada")["perks_active"] is True


def test_a_lost_resume_webhook_of_stripes_pause_is_healed_by_reconciliation(club: Club) -> None:
    subscription_id = club.join("ada")
    before = len(club.emulator.events)
    stripe_client().v1.subscriptions.pause(subscription_id, params={"type": "subscription"})
    club.deliver(club.emulator.events_since(before))
    stripe_client().v1.subscriptions.resume(subscription_id)  # its webhooks never arrive
    assert club.member("ada")["perks_active"] is False
    assert reconcile(club, "ada")[1] >= 1
    assert (club.member("ada")["status"], club.member("ada")["perks_active"]) == ("active", True)


def test_a_paused_members_warm_eligibility_check_costs_one_dynamodb_read(club: Club) -> None:
    club.join("ada")
    assert club.post("/v1/members/ada/pause").status_code == 200
    eligible(club, "ada")  # warms the plan, cause and key caches
    with counting_dynamodb_calls() as calls:
        assert eligible(club, "ada")["member"] is False
    assert dict(calls) == {"GetItem": 1}


def test_a_paused_member_is_sent_to_unpause_rather_than_a_second_checkout(club: Club) -> None:
    club.join("ada")
    assert club.post("/v1/members/ada/pause").status_code == 200
    response = club.post(
        "/v1/members/ada/checkout",
        {"plan_id": "vip-monthly", "email": "ada@example.com", "success_url": "https://s.example/ok",
         "cancel_url": "https://s.example/no"},
    )  # fmt: skip
    assert (response.status_code, error_of(response)["code"]) == (409, "membership_paused")
    assert len(club.emulator.stripe.account.checkout_sessions) == 1


PAUSE_EVENTS = {*HANDLED, "customer.subscription.paused", "customer.subscription.resumed"}


def test_shuffled_events_of_pauses_renewals_and_unpauses_converge(club: Club) -> None:
    session = club.start_checkout("ada")
    replay = Replay("ada")
    events = club.pay(session)
    subscription_id = next(
        e["data"]["object"]["id"] for e in events if e["type"] == "customer.subscription.created"
    )
    before = len(club.emulator.events)
    club.emulator.pause(subscription_id, "void")
    club.emulator.advance(subscription_id, "paid")
    club.emulator.unpause(subscription_id)
    stripe_client().v1.subscriptions.pause(subscription_id, params={"type": "subscription"})
    events += club.emulator.events_since(before)
    events = [e for e in events if e["type"] in PAUSE_EVENTS]
    rng = random.Random(2412)
    orders = [rng.sample(range(len(events)), len(events)) for _ in range(8)]
    _converges(club, replay, events, orders)
    member = club.member("ada")
    assert (member["status"], member["perks_active"], member["paused_until"]) == ("paused", False, None)


def test_unpause_lifts_a_portal_pause_whose_webhook_was_lost(club: Club) -> None:
    subscription_id = club.join("ada")
    club.emulator.pause(subscription_id, "void")  # its webhook never arrives
    assert club.member("ada")["perks_active"] is True

    response = club.post("/v1/members/ada/unpause")

    assert (response.status_code, json.loads(response.body)["perks_active"]) == (200, True)
    assert stripe_subscription(subscription_id)["pause_collection"] is None
    assert reconcile(club, "ada") == (1, 0)  # nothing left to heal: perks stay
    assert club.member("ada")["perks_active"] is True


def test_pause_sees_a_portal_pause_whose_webhook_was_lost(club: Club) -> None:
    subscription_id = club.join("ada")
    club.emulator.pause(subscription_id, "keep_as_draft")  # its webhook never arrives
    before = len(club.emulator.events)

    response = club.post("/v1/members/ada/pause")

    assert (response.status_code, json.loads(response.body)["perks_active"]) == (200, False)
    assert stripe_subscription(subscription_id)["pause_collection"]["behavior"] == "keep_as_draft"
    assert club.emulator.events_since(before) == []
