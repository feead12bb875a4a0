"""A membership whose perks lapse with the clock (grace runs out, Stripe says nothing new) gets its one
`member.ended` from the hourly reconciliation within the hour, and its cohort move with it; nothing after
(another visit, replayed webhooks, Stripe giving up) makes a second one. Real HTTP to the emulator, the
service's clock pinned."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib import clock
from tests.helpers import BRAND_KEY, auth
from tests.integration.conftest import Club
from tests.integration.events.test_catalog_causes import events_of, gapless, types


@pytest.fixture(autouse=True)
def real_clock_after() -> Iterator[None]:
    yield
    clock.set_clock(None)


def at(moment: datetime) -> None:
    clock.set_clock(lambda: moment)


def hourly_run(club: Club) -> dict[str, Any]:
    """What the hourly schedule does: re-read the shoppers that are due now."""
    response = club.post("/v1/admin/reconcile", {}, key=BRAND_KEY)
    assert response.status_code == 200, response.body
    result: dict[str, Any] = json.loads(response.body)
    return result


def active_in_cohort(club: Club) -> int:
    """The shopper's cohort's `active` count for the current month (the pinned clock's)."""
    cohort = club.member("ada")["member_since"][:7]
    month = clock.now().strftime("%Y-%m")
    response = club.client.http.get(f"/v1/reports/cohorts?from={cohort}&to={month}", headers=auth(BRAND_KEY))
    assert response.status_code == 200, response.body
    (row,) = json.loads(response.body)["data"]
    active: int = row["active"][-1]
    return active


def ended(club: Club) -> list[dict[str, Any]]:
    return [event for event in events_of(club, "ada") if event["type"] == "member.ended"]


@pytest.fixture
def in_dunning(club: Club) -> tuple[str, list[dict[str, Any]], datetime]:
    """Ada joined, her renewal failed (the webhooks delivered): past_due, perks through grace."""
    subscription_id = club.join("ada")
    failed = club.advance(subscription_id, "payment_failed")
    assert set(club.deliver(failed)) == {200}
    member = club.member("ada")
    assert (member["status"], member["perks_active"]) == ("past_due", True)
    grace_until = datetime.fromisoformat(member["grace_until"].replace("Z", "+00:00"))
    return subscription_id, failed, grace_until


def test_the_hourly_run_after_grace_ends_the_membership_as_lapsed_once(
    club: Club, in_dunning: tuple[str, list[dict[str, Any]], datetime]
) -> None:
    subscription_id, failed, grace_until = in_dunning
    # The hourly run before grace ends: perks still on, nothing to tell; the next visit is due at its end.
    at(grace_until - timedelta(minutes=20))
    assert hourly_run(club)["checked"] == 1
    assert types(events_of(club, "ada")) == ["member.joined", "member.payment_failed"]
    assert active_in_cohort(club) == 1

    # The next hourly run, with Stripe still reporting past_due: the lapse is told.
    at(grace_until + timedelta(minutes=40))
    assert hourly_run(club)["checked"] == 1
    events = events_of(club, "ada")
    assert types(events) == ["member.joined", "member.payment_failed", "member.ended"]
    assert gapless(events)
    lapse = events[-1]
    assert (lapse["sequence"], lapse["data"]["reason"]) == (3, "lapsed")
    assert (lapse["data"]["membership"]["status"], lapse["data"]["membership"]["perks_active"]) == (
        "past_due",
        False,
    )
    created = datetime.fromisoformat(lapse["created_at"].replace("Z", "+00:00"))
    assert grace_until <= created < grace_until + timedelta(hours=1)
    # The cohort counters moved at that same visit.
    assert active_in_cohort(club) == 0

    # Later runs, replayed webhooks and Stripe finally canceling the subscription tell no second end.
    at(grace_until + timedelta(hours=2))
    assert hourly_run(club)["checked"] == 1
    # Stripe signs each delivery when it sends it: now, by the pinned clock.
    assert set(club.deliver([*failed, *failed], at=clock.epoch_seconds())) == {200}
    assert club.post("/v1/admin/reconcile", {"customer_refs": ["ada"]}, key=BRAND_KEY).status_code == 200
    gave_up = club.advance(subscription_id, "payment_failed", "cancel")
    at(grace_until + timedelta(days=1))
    assert set(club.deliver([*gave_up, *gave_up], at=clock.epoch_seconds())) == {200}
    assert club.member("ada")["status"] == "canceled"
    assert [event["sequence"] for event in ended(club)] == [3]
    assert gapless(events_of(club, "ada"))
    assert active_in_cohort(club) == 0


def test_a_payment_after_the_told_lapse_is_a_recovery(
    club: Club, in_dunning: tuple[str, list[dict[str, Any]], datetime]
) -> None:
    subscription_id, _, grace_until = in_dunning
    at(grace_until + timedelta(minutes=5))
    club.post("/v1/admin/reconcile", {"customer_refs": ["ada"]}, key=BRAND_KEY)
    assert len(ended(club)) == 1

    paid = club.advance(subscription_id, "paid")
    at(grace_until + timedelta(hours=1))
    assert set(club.deliver(paid, at=clock.epoch_seconds())) == {200}

    events = events_of(club, "ada")
    assert types(events)[2:] == ["member.ended", "member.payment_recovered", "member.renewed"]
    assert gapless(events)
    assert club.member("ada")["perks_active"] is True
    assert active_in_cohort(club) == 1
