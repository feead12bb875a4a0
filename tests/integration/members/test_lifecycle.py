"""Membership lifecycles end to end: the API, the emulator over HTTP, Stripe's events through the webhook."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from chalicelib import clock
from tests.integration.conftest import Club, subscription_of


def test_checkout_creates_a_subscription_mode_session_and_records_the_shopper(club: Club) -> None:
    session_id = club.start_checkout("ada", cause_id="school-meals")
    session = club.emulator.stripe.account.checkout_sessions[session_id]
    assert (session["mode"], session["client_reference_id"]) == ("subscription", "ada")
    assert session["allow_promotion_codes"] is True
    member = club.member("ada")
    assert (member["status"], member["perks_active"], member["cause_id"]) == ("none", False, "school-meals")


def test_checkout_then_webhooks_make_an_active_member_with_perks(club: Club) -> None:
    club.join("ada")
    member = club.member("ada")
    assert (member["status"], member["plan_id"], member["perks_active"]) == ("active", "vip-monthly", True)
    assert member["perks"]["member_discount"] == {"percent": 10}
    assert member["member_since"] is not None and member["cancel_at_period_end"] is False


def test_a_second_checkout_reuses_the_stripe_customer(club: Club) -> None:
    first = club.start_checkout("ada")
    second = club.start_checkout("ada")
    sessions = club.emulator.stripe.account.checkout_sessions
    assert sessions[first]["customer"] == sessions[second]["customer"]
    assert len(club.emulator.stripe.account.customers) == 1


def test_checkout_for_an_active_member_is_a_conflict(club: Club) -> None:
    club.join("ada")
    response = club.post(
        "/v1/members/ada/checkout",
        {"plan_id": "vip-yearly", "email": "ada@example.com", "success_url": "https://s.example/ok",
         "cancel_url": "https://s.example/no"},
    )  # fmt: skip
    assert response.status_code == 409
    assert json.loads(response.body)["error"]["code"] == "already_member"


def test_checkout_names_the_bad_field(club: Club) -> None:
    response = club.post(
        "/v1/members/ada/checkout",
        {"plan_id": "no-such-plan", "email": "ada@example.com", "success_url": "https://s.example/ok",
         "cancel_url": "https://s.example/no"},
    )  # fmt: skip
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["param"] == "plan_id"
    response = club.post("/v1/members/ada/checkout", {"plan_id": "vip-monthly", "email": "not-an-email"})
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["param"] in ("email", "success_url")
    assert (
        club.client.http.get(
            "/v1/members/ada", headers={"Authorization": "Bearer test-storefront-key"}
        ).status_code
        == 404
    )


def test_a_declined_card_gives_no_perks(club: Club) -> None:
    session_id = club.start_checkout("ada")
    events = club.pay(session_id, "card_declined")
    assert club.deliver(events) == [200] * len(events)
    synced = club.post("/v1/members/ada/sync")
    assert json.loads(synced.body)["perks_active"] is False
    assert club.member("ada")["status"] == "none"


def test_trial_members_have_perks_during_the_trial(club: Club) -> None:
    club.join("ada", "vip-trial")
    member = club.member("ada")
    assert (member["status"], member["perks_active"]) == ("trialing", True)


def test_renewal_paid_moves_the_period_forward(club: Club) -> None:
    subscription_id = club.join("ada")
    before = club.member("ada")["current_period_end"]
    assert set(club.deliver(club.advance(subscription_id, "paid"))) == {200}
    member = club.member("ada")
    assert member["status"] == "active" and member["current_period_end"] >= before


def test_failed_renewal_keeps_perks_through_grace_then_loses_them(club: Club) -> None:
    subscription_id = club.join("ada")
    assert set(club.deliver(club.advance(subscription_id, "payment_failed"))) == {200}
    member = club.member("ada")
    assert (member["status"], member["perks_active"]) == ("past_due", True)
    grace_until = datetime.fromisoformat(member["grace_until"].replace("Z", "+00:00"))
    clock.set_clock(lambda: grace_until - timedelta(seconds=1))
    assert club.member("ada")["perks_active"] is True
    clock.set_clock(lambda: grace_until)
    assert club.member("ada")["perks_active"] is False
    clock.set_clock(None)
    # Stripe gives up: the subscription is canceled, or marked unpaid.
    assert set(club.deliver(club.advance(subscription_id, "payment_failed", "cancel"))) == {200}
    member = club.member("ada")
    assert (member["status"], member["perks_active"]) == ("canceled", False)


def test_exhausted_retries_marked_unpaid_end_perks(club: Club) -> None:
    subscription_id = club.join("ada")
    club.deliver(club.advance(subscription_id, "payment_failed"))
    club.deliver(club.advance(subscription_id, "payment_failed", "mark_unpaid"))
    member = club.member("ada")
    assert (member["status"], member["perks_active"]) == ("unpaid", False)


def test_a_paid_retry_restores_an_active_membership(club: Club) -> None:
    subscription_id = club.join("ada")
    club.deliver(club.advance(subscription_id, "payment_failed"))
    club.deliver(club.advance(subscription_id, "paid"))
    member = club.member("ada")
    assert (member["status"], member["perks_active"], member["grace_until"]) == ("active", True, None)


def test_cancel_at_period_end_keeps_perks_until_the_end(club: Club) -> None:
    subscription_id = club.join("ada")
    response = club.post("/v1/members/ada/cancel", {})
    assert response.status_code == 200
    member = json.loads(response.body)
    # Answered as Stripe has it now, before any webhook.
    assert (member["cancel_at_period_end"], member["perks_active"]) == (True, True)
    period_end = datetime.fromisoformat(member["current_period_end"].replace("Z", "+00:00"))
    clock.set_clock(lambda: period_end - timedelta(seconds=1))
    assert club.member("ada")["perks_active"] is True
    clock.set_clock(None)
    assert set(club.deliver(club.advance(subscription_id))) == {200}
    member = club.member("ada")
    assert (member["status"], member["perks_active"]) == ("canceled", False)


def test_resume_undoes_a_scheduled_cancellation(club: Club) -> None:
    club.join("ada")
    club.post("/v1/members/ada/cancel", {"at_period_end": True})
    response = club.post("/v1/members/ada/resume")
    assert response.status_code == 200
    assert json.loads(response.body)["cancel_at_period_end"] is False
    assert club.post("/v1/members/ada/resume").status_code == 409


def test_cancel_now_ends_perks_at_once(club: Club) -> None:
    club.join("ada")
    response = club.post("/v1/members/ada/cancel", {"at_period_end": False})
    assert response.status_code == 200
    assert (json.loads(response.body)["status"], json.loads(response.body)["perks_active"]) == (
        "canceled",
        False,
    )
    assert club.post("/v1/members/ada/cancel", {}).status_code == 409


def test_switching_plan_prorates_in_stripe_and_updates_the_membership(club: Club) -> None:
    subscription_id = club.join("ada")
    before = len(club.emulator.events)
    response = club.post("/v1/members/ada/plan", {"plan_id": "vip-yearly"})
    assert response.status_code == 200
    assert json.loads(response.body)["plan_id"] == "vip-yearly"
    events = club.emulator.events_since(before)
    invoices = [e["data"]["object"] for e in events if e["type"] == "invoice.paid"]
    assert [i["billing_reason"] for i in invoices] == ["subscription_update"]
    assert set(club.deliver(events)) == {200}
    member = club.member("ada")
    assert (member["plan_id"], member["perks_active"]) == ("vip-yearly", True)
    assert (
        club.emulator.stripe.account.subscriptions[subscription_id]["items"]["data"][0]["price"]["lookup_key"]
        == "vip-yearly"
    )


def test_portal_returns_the_stripe_portal_url(club: Club) -> None:
    club.join("ada")
    response = club.post("/v1/members/ada/portal", {"return_url": "https://shop.example/account"})
    assert response.status_code == 200
    assert json.loads(response.body)["portal_url"].startswith(club.emulator.base_url + "/portal/")


def test_choosing_a_cause_is_stored_and_validated(club: Club) -> None:
    club.join("ada")
    response = club.client.http.put(
        "/v1/members/ada/cause", body=json.dumps({"cause_id": "school-meals"}),
        headers={"Authorization": "Bearer test-storefront-key", "Content-Type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 200 and json.loads(response.body)["cause_id"] == "school-meals"
    response = club.client.http.put(
        "/v1/members/ada/cause", body=json.dumps({"cause_id": "nope"}),
        headers={"Authorization": "Bearer test-storefront-key", "Content-Type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 400 and json.loads(response.body)["error"]["param"] == "cause_id"


def test_unknown_shopper_is_404(club: Club) -> None:
    response = club.client.http.get(
        "/v1/members/nobody", headers={"Authorization": "Bearer test-storefront-key"}
    )
    assert response.status_code == 404
    assert json.loads(response.body)["error"]["param"] == "customer_ref"


def test_sync_shows_perks_before_any_webhook(club: Club) -> None:
    club.pay(club.start_checkout("ada"))
    assert club.member("ada")["perks_active"] is False
    response = club.post("/v1/members/ada/sync")
    assert response.status_code == 200
    assert json.loads(response.body)["perks_active"] is True
    assert club.member("ada")["status"] == "active"


def test_cancel_now_rejoin_then_late_events_of_the_old_subscription_keep_the_new_perks(club: Club) -> None:
    old_events = club.pay(club.start_checkout("ada"))
    club.deliver(old_events)
    before = len(club.emulator.events)
    club.post("/v1/members/ada/cancel", {"at_period_end": False})
    cancel_events = club.emulator.events_since(before)
    new_subscription = club.join("ada", "vip-yearly")
    # Stripe redelivers everything about the old subscription, late and out of order.
    assert set(club.deliver(list(reversed(cancel_events + old_events)))) == {200}
    member = club.member("ada")
    assert (member["status"], member["plan_id"], member["perks_active"]) == ("active", "vip-yearly", True)
    assert new_subscription != subscription_of(old_events)
