"""Stripe unreachable: 502 and nothing half-written. Lost webhooks: reconciliation heals."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock
from chalicelib.services import members
from chalicelib.services.unit_of_work import on_dynamodb
from chalicelib.settings import settings
from chalicelib.store.members import MemberRecord
from tests.helpers import BRAND_KEY, lambda_context
from tests.integration.conftest import Club

CHECKOUT = {
    "plan_id": "vip-monthly",
    "email": "ada@example.com",
    "success_url": "https://shop.example/welcome",
    "cancel_url": "https://shop.example/join",
}


def _hours_later(hours: float) -> None:
    moment = datetime.now(UTC) + timedelta(hours=hours)
    clock.set_clock(lambda: moment)


@pytest.fixture
def club_with_stripe_down(club: Club, stripe_down: None) -> Club:
    return club


def test_checkout_while_stripe_is_down_is_502_and_writes_nothing(club_with_stripe_down: Club) -> None:
    response = club_with_stripe_down.post("/v1/members/ada/checkout", CHECKOUT)
    assert response.status_code == 502
    assert json.loads(response.body)["error"]["type"] == "upstream"
    assert MemberRecord.count() == 0


def test_cancel_while_stripe_is_down_is_502_and_changes_nothing(
    club: Club, request: pytest.FixtureRequest
) -> None:
    club.join("ada")
    before = MemberRecord.get("ada")
    request.getfixturevalue("stripe_down")
    response = club.post("/v1/members/ada/cancel", {"at_period_end": True})
    assert response.status_code == 502
    after = MemberRecord.get("ada")
    assert (after.version, after.subscriptions) == (before.version, before.subscriptions)


def test_concurrent_checkouts_create_one_stripe_customer(club: Club) -> None:
    def start(_: int) -> str:
        return members.start_checkout(
            "ada", plan_id="vip-monthly", email="ada@example.com", success_url="https://s.example/ok",
            cancel_url="https://s.example/no", cause_id=None, uow=on_dynamodb(),
        ).session_id  # fmt: skip

    with ThreadPoolExecutor(max_workers=8) as pool:
        sessions = list(pool.map(start, range(8)))
    customers = {club.emulator.stripe.account.checkout_sessions[s]["customer"] for s in sessions}
    assert len(customers) == 1
    assert len(club.emulator.stripe.account.customers) == 1
    assert MemberRecord.get("ada").stripe_customer_id in customers


def test_reconciliation_heals_a_member_whose_webhooks_were_never_delivered(club: Club) -> None:
    club.pay(club.start_checkout("ada"))  # Stripe's events are lost
    assert club.member("ada")["status"] == "none"
    _hours_later(1.1)  # the checkout's check is due an hour after it started
    response = club.post("/v1/admin/reconcile", {}, key=BRAND_KEY)
    assert response.status_code == 200
    # Two fixes: the membership, and the first fee's pledge (10 % of 9.99).
    assert json.loads(response.body) == {
        "checked": 1,
        "fixed": 2,
        "failed": 0,
        "left": 0,
        "stopped_early": False,
    }
    member = club.member("ada")
    assert (member["status"], member["perks_active"]) == ("active", True)
    assert member["impact"]["usd"]["pledged"] == 100


def test_reconciliation_catches_a_lost_renewal_failure(club: Club) -> None:
    subscription_id = club.join("ada")
    club.advance(subscription_id, "payment_failed")  # events lost
    # Nothing is due until the (old) period would have ended; the member is checked then.
    assert json.loads(club.post("/v1/admin/reconcile", {}, key=BRAND_KEY).body)["checked"] == 0
    response = club.post("/v1/admin/reconcile", {"customer_refs": ["ada"]}, key=BRAND_KEY)
    assert json.loads(response.body) == {
        "checked": 1,
        "fixed": 1,
        "failed": 0,
        "left": 0,
        "stopped_early": False,
    }
    assert club.member("ada")["status"] == "past_due"


def test_reconciliation_leaves_settled_members_alone(club: Club) -> None:
    club.join("ada")
    response = club.post("/v1/admin/reconcile", {}, key=BRAND_KEY)
    assert json.loads(response.body) == {
        "checked": 0,
        "fixed": 0,
        "failed": 0,
        "left": 0,
        "stopped_early": False,
    }
    response = club.post("/v1/admin/reconcile", {"customer_refs": ["ada"]}, key=BRAND_KEY)
    assert json.loads(response.body) == {
        "checked": 1,
        "fixed": 0,
        "failed": 0,
        "left": 0,
        "stopped_early": False,
    }


def test_reconciliation_is_bounded_per_run(club: Club) -> None:
    for ref in ("ada", "bo", "cy"):
        club.pay(club.start_checkout(ref))
    _hours_later(1.1)
    first = json.loads(club.post("/v1/admin/reconcile", {"limit": 2}, key=BRAND_KEY).body)
    second = json.loads(club.post("/v1/admin/reconcile", {"limit": 2}, key=BRAND_KEY).body)
    assert (first["checked"], second["checked"]) == (2, 1)


def test_reconcile_is_for_brand_keys_only(club: Club) -> None:
    response = club.post("/v1/admin/reconcile", {})
    assert response.status_code == 403


def test_the_hourly_schedule_runs_reconciliation(club: Club) -> None:
    from chalice.test import Client

    from app import app
    from chalicelib.api.admin import reconcile_members

    club.pay(club.start_checkout("ada"))
    _hours_later(1.1)
    with Client(app) as test_client:
        event = test_client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[], region="us-east-1"
        )
    # As Lambda calls it, with the function's timeout (chalice.test's `lambda_.invoke` allows only 3 s).
    reconcile_members(event, lambda_context("reconcile_members", settings.lambda_timeout_seconds))
    assert club.member("ada")["status"] == "active"


def test_reconcile_refuses_bad_shopper_lists_naming_the_field(club: Club) -> None:
    for body, param in (
        ({"customer_refs": ["ada", "not valid!"]}, "customer_refs[1]"),
        ({"customer_refs": []}, "customer_refs"),
        ({"customer_refs": [f"s{n}" for n in range(101)]}, "customer_refs"),
        ({"customer_refs": "ada"}, "customer_refs"),
    ):
        response = club.post("/v1/admin/reconcile", body, key=BRAND_KEY)
        assert response.status_code == 400, body
        assert json.loads(response.body)["error"]["param"] == param
