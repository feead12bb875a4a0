"""Every membership event produced by its real cause: Stripe's events from the emulator posted to the
webhook, the API's own changes, reconciliation; each event written in its fact's transaction and
listed by `GET /v1/events` with the shopper's gapless `sequence`."""

from __future__ import annotations

import itertools
import json
import threading
from typing import Any

from tests.helpers import BRAND_KEY, STOREFRONT_KEY, auth
from tests.integration.conftest import Club

# A member's savings on one order through perks (the storefront applied them).
SAVINGS = {"member_discount": 1_000, "shipping": 500}


def events_of(club: Club, customer_ref: str) -> list[dict[str, Any]]:
    """The shopper's events in commit order (their `sequence`: facts in one millisecond list in any order)."""
    response = client_get(club, f"/v1/events?customer_ref={customer_ref}&limit=100")
    return sorted(json.loads(response.body)["data"], key=lambda event: event["sequence"])


def client_get(club: Club, path: str) -> Any:
    response = club.client.http.get(path, headers=auth(BRAND_KEY))
    assert response.status_code == 200, response.body
    return response


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def gapless(events: list[dict[str, Any]]) -> bool:
    return [event["sequence"] for event in events] == list(range(1, len(events) + 1))


def new_stripe_events(club: Club, act: Any) -> list[dict[str, Any]]:
    before = len(club.emulator.events)
    act()
    return club.emulator.events_since(before)


def test_joining_is_member_joined_with_the_membership_as_of_the_join(club: Club) -> None:
    club.join("ada")

    (joined,) = events_of(club, "ada")
    assert (joined["type"], joined["customer_ref"], joined["sequence"]) == ("member.joined", "ada", 1)
    membership = joined["data"]["membership"]
    assert (membership["status"], membership["plan_id"], membership["perks_active"]) == (
        "active",
        "vip-monthly",
        True,
    )
    assert membership == {**club.member("ada"), "impact": membership["impact"], "value": membership["value"]}


def test_a_renewal_carries_its_invoice_and_the_recap_of_the_period_that_ended(club: Club) -> None:
    subscription_id = club.join("ada")
    order = {
        "order_id": "o-1",
        "customer_ref": "ada",
        "currency": "usd",
        "amount": 10_000,
        "savings": SAVINGS,
    }
    assert club.post("/v1/orders", order).status_code == 201

    assert set(club.deliver(club.advance(subscription_id))) == {200}

    joined, renewed = events_of(club, "ada")
    assert types([joined, renewed]) == ["member.joined", "member.renewed"] and gapless([joined, renewed])
    invoice = renewed["data"]["invoice"]
    assert (invoice["amount"], invoice["currency"]) == (999, "usd")
    assert invoice["period_start"] < invoice["period_end"]
    # The period that ended: the order's savings and pledge (2 % of 100.00), and the joining fee.
    assert renewed["data"]["recap"] == {
        "saved": 1_500,
        "fees_paid": 999,
        "donated": 200 + 100,
        "currency": "usd",
    }


def test_the_second_renewal_recaps_only_its_own_period(club: Club) -> None:
    subscription_id = club.join("ada")
    club.deliver(club.advance(subscription_id))
    order = {
        "order_id": "o-2",
        "customer_ref": "ada",
        "currency": "usd",
        "amount": 10_000,
        "savings": SAVINGS,
    }
    assert club.post("/v1/orders", order).status_code == 201
    club.deliver(club.advance(subscription_id))

    renewals = [e for e in events_of(club, "ada") if e["type"] == "member.renewed"]
    assert [e["data"]["recap"] for e in renewals] == [
        {"saved": 0, "fees_paid": 999, "donated": 100, "currency": "usd"},
        {"saved": 1_500, "fees_paid": 999, "donated": 100 + 200, "currency": "usd"},
    ]


def test_invoice_upcoming_is_member_renewal_upcoming_with_the_recap_so_far(club: Club) -> None:
    subscription_id = club.join("ada")
    order = {
        "order_id": "o-1",
        "customer_ref": "ada",
        "currency": "usd",
        "amount": 10_000,
        "savings": SAVINGS,
    }
    assert club.post("/v1/orders", order).status_code == 201

    sent = new_stripe_events(club, lambda: club.emulator.upcoming(subscription_id))
    assert club.deliver(sent + sent) == [200, 200]  # the same Stripe event twice

    upcoming = events_of(club, "ada")[-1]
    assert types(events_of(club, "ada")) == ["member.joined", "member.renewal_upcoming"]
    preview = sent[0]["data"]["object"]
    assert upcoming["data"]["invoice"]["amount"] == preview["amount_due"] == 999
    assert upcoming["data"]["recap"] == {"saved": 1_500, "fees_paid": 999, "donated": 300, "currency": "usd"}


def test_a_failed_renewal_then_its_paid_retry(club: Club) -> None:
    subscription_id = club.join("ada")
    assert set(club.deliver(club.advance(subscription_id, "payment_failed"))) == {200}
    retried = club.advance(subscription_id, "paid")
    assert set(club.deliver(retried)) == {200}

    events = events_of(club, "ada")
    assert types(events) == [
        "member.joined",
        "member.payment_failed",
        "member.payment_recovered",
        "member.renewed",
    ]
    assert gapless(events)
    failed, recovered = events[1], events[2]
    assert failed["data"]["grace_until"] is not None and failed["data"]["invoice"]["amount"] == 999
    assert failed["data"]["membership"]["status"] == "past_due"
    assert recovered["data"]["invoice"]["id"] == failed["data"]["invoice"]["id"]


def test_exhausted_retries_end_the_membership_unpaid(club: Club) -> None:
    subscription_id = club.join("ada")
    club.deliver(club.advance(subscription_id, "payment_failed"))
    club.deliver(club.advance(subscription_id, "payment_failed", "mark_unpaid"))

    events = events_of(club, "ada")
    assert types(events)[-1] == "member.ended" and events[-1]["data"]["reason"] == "unpaid"
    assert gapless(events)


def test_cancel_at_period_end_resume_then_cancel_now(club: Club) -> None:
    club.join("ada")
    assert club.post("/v1/members/ada/cancel", {}).status_code == 200
    assert club.post("/v1/members/ada/resume").status_code == 200
    assert club.post("/v1/members/ada/cancel", {"at_period_end": False}).status_code == 200

    events = events_of(club, "ada")
    assert types(events) == [
        "member.joined",
        "member.cancellation_scheduled",
        "member.resumed",
        "member.ended",
    ]
    assert events[1]["data"]["ends_at"] == events[1]["data"]["membership"]["current_period_end"]
    assert events[3]["data"]["reason"] == "canceled"
    assert gapless(events)


def test_the_webhooks_after_an_api_change_add_no_second_event(club: Club) -> None:
    club.join("ada")
    sent = new_stripe_events(club, lambda: club.post("/v1/members/ada/cancel", {}))
    assert set(club.deliver(sent)) == {200}

    assert types(events_of(club, "ada")) == ["member.joined", "member.cancellation_scheduled"]


def test_a_plan_change_and_a_cause_change(club: Club) -> None:
    club.join("ada")
    sent = new_stripe_events(club, lambda: club.post("/v1/members/ada/plan", {"plan_id": "vip-yearly"}))
    club.deliver(sent)
    response = club.client.http.put(
        "/v1/members/ada/cause", body=json.dumps({"cause_id": "school-meals"}), headers=auth(STOREFRONT_KEY)
    )
    assert response.status_code == 200

    events = events_of(club, "ada")
    assert types(events) == ["member.joined", "member.plan_changed", "member.cause_changed"]
    assert events[1]["data"]["previous_plan_id"] == "vip-monthly"
    assert events[1]["data"]["membership"]["plan_id"] == "vip-yearly"
    assert events[2]["data"]["previous_cause_id"] == "general-fund"  # the deployment's default
    assert events[2]["data"]["membership"]["cause_id"] == "school-meals"


def test_pause_and_unpause_through_the_api(club: Club) -> None:
    club.join("ada")
    assert club.post("/v1/members/ada/pause", {}).status_code == 200
    assert club.post("/v1/members/ada/unpause").status_code == 200

    events = events_of(club, "ada")
    assert types(events) == ["member.joined", "member.paused", "member.unpaused"]
    assert events[1]["data"]["until"] is None and events[1]["data"]["membership"]["perks_active"] is False
    assert events[2]["data"]["membership"]["perks_active"] is True


def test_a_portal_pause_is_member_paused_once(club: Club) -> None:
    subscription_id = club.join("ada")
    sent = new_stripe_events(club, lambda: club.emulator.pause(subscription_id, "void"))
    assert set(club.deliver(sent + sent)) == {200}

    assert types(events_of(club, "ada")) == ["member.joined", "member.paused"]


def test_the_same_stripe_event_twice_is_one_event(club: Club) -> None:
    subscription_id = club.join("ada")
    renewal = club.advance(subscription_id)
    assert set(club.deliver(renewal + renewal)) == {200}

    assert types(events_of(club, "ada")) == ["member.joined", "member.renewed"]


def test_a_reconcile_after_a_lost_webhook_is_one_event_and_the_late_webhook_adds_none(club: Club) -> None:
    subscription_id = club.join("ada")
    lost = club.advance(subscription_id)  # renewed in Stripe; the webhooks are lost

    assert club.post("/v1/admin/reconcile", {"customer_refs": ["ada"]}, key=BRAND_KEY).status_code == 200
    assert club.post("/v1/admin/reconcile", {"customer_refs": ["ada"]}, key=BRAND_KEY).status_code == 200
    assert set(club.deliver(lost)) == {200}  # they arrive after all

    events = events_of(club, "ada")
    assert types(events) == ["member.joined", "member.renewed"] and gapless(events)


def test_a_disbursement_is_a_brand_event_committed_with_it(club: Club) -> None:
    club.join("ada")  # pledges 1.00 to the default cause
    disbursement = {"disbursement_id": "d-1", "cause_id": "general-fund", "currency": "usd", "amount": 100,
                    "paid_at": "2026-12-01T00:00:00Z", "reference": "wire 1"}  # fmt: skip
    first = club.post("/v1/disbursements", disbursement, key=BRAND_KEY)
    again = club.post("/v1/disbursements", disbursement, key=BRAND_KEY)
    assert (first.status_code, again.status_code) == (201, 200)

    response = club.client.http.get("/v1/events?type=disbursement.recorded", headers=auth(BRAND_KEY))
    (event,) = json.loads(response.body)["data"]
    assert (event["customer_ref"], event["sequence"]) == (None, None)
    assert event["data"]["disbursement"] == json.loads(first.body)


def test_concurrent_facts_of_one_shopper_have_gapless_sequences(club: Club) -> None:
    club.join("ada")
    causes = ["school-meals", "general-fund"] * 4

    def choose(cause_id: str) -> None:
        response = club.client.http.put(
            "/v1/members/ada/cause", body=json.dumps({"cause_id": cause_id}), headers=auth(STOREFRONT_KEY)
        )
        assert response.status_code == 200, response.body

    threads = [threading.Thread(target=choose, args=(cause,)) for cause in causes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    events = events_of(club, "ada")
    assert gapless(events)
    changes = [e for e in events if e["type"] == "member.cause_changed"]
    # Each change names the cause the one before it left (commit order).
    for earlier, later in itertools.pairwise(changes):
        assert later["data"]["previous_cause_id"] == earlier["data"]["membership"]["cause_id"]


def test_a_recovery_is_one_event_whichever_of_stripes_events_comes_first(club: Club) -> None:
    subscription_id = club.join("ada")
    club.deliver(club.advance(subscription_id, "payment_failed"))
    retried = club.advance(subscription_id, "paid")
    # The subscription's `active` first, the invoice's payment after it.
    assert set(club.deliver(list(reversed(retried)))) == {200}

    events = events_of(club, "ada")
    assert types(events)[2:] == ["member.payment_recovered", "member.renewed"] and gapless(events)
