"""Gift memberships through the emulator and real webhooks: bought once, its code in `gift.purchased`, redeemed
once, perks until `gifted_until`, its donation pledged once, and a paying member's gift paid through the balance."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.helpers import BRAND_KEY, STOREFRONT_KEY, auth
from tests.integration.conftest import Club, subscription_of


def buy_gift(
    club: Club, months: int = 3, plan_id: str = "vip-monthly", purchaser_ref: str = "ada"
) -> tuple[str, list[dict[str, Any]]]:
    """Ada buys a gift for Grace and pays; returns the code from `gift.purchased` and Stripe's events."""
    response = club.post(
        "/v1/gifts/checkout",
        {
            "purchaser_ref": purchaser_ref, "plan_id": plan_id, "months": months, "recipient_email": "grace@example.com",
            "message": "Happy birthday!", "success_url": "https://shop.example/thanks",
            "cancel_url": "https://shop.example/gift",
        },
    )  # fmt: skip
    assert response.status_code == 201, response.body
    events = club.pay(json.loads(response.body)["session_id"])
    assert set(club.deliver(events)) == {200}
    purchased = gift_events(club)
    return purchased[0]["data"]["gift"]["code"], events


def gift_events(club: Club) -> list[dict[str, Any]]:
    response = club.client.http.get("/v1/events?type=gift.purchased", headers=auth(BRAND_KEY))
    assert response.status_code == 200, response.body
    data: list[dict[str, Any]] = json.loads(response.body)["data"]
    return data


def redeem(club: Club, customer_ref: str, code: str) -> Any:
    return club.post(f"/v1/members/{customer_ref}/gifts/redeem", {"code": code})


def program_month(club: Club) -> dict[str, Any]:
    month = datetime.now(UTC).strftime("%Y-%m")
    response = club.client.http.get(f"/v1/reports/program?from={month}&to={month}", headers=auth(BRAND_KEY))
    assert response.status_code == 200, response.body
    rows = [r for r in json.loads(response.body)["data"] if r["currency"] == "usd"]
    return rows[0] if rows else {"fees": 0, "donations": 0}


def test_a_paid_gift_carries_its_code_in_the_event_and_counts_as_a_fee_with_its_pledge_once(
    club: Club,
) -> None:
    code, events = buy_gift(club, months=3)
    (event,) = gift_events(club)
    assert event["customer_ref"] == "ada"
    assert event["data"]["gift"] == {
        "code": code, "plan_id": "vip-monthly", "months": 3, "recipient_email": "grace@example.com",
        "message": "Happy birthday!",
    }  # fmt: skip
    month = program_month(club)
    assert month["fees"] == 3 * 999
    assert month["donations"] == 300  # 10 % of 29.97, rounded half up

    # Stripe delivers the payment again: nothing more.
    assert set(club.deliver(events)) == {200}
    assert len(gift_events(club)) == 1
    assert program_month(club)["fees"] == 3 * 999
    assert program_month(club)["donations"] == 300


def test_a_gift_redeems_once_and_grants_the_plans_perks_until_gifted_until(club: Club) -> None:
    code, _ = buy_gift(club, months=3)
    response = redeem(club, "grace", code.lower())
    assert response.status_code == 200, response.body
    membership = json.loads(response.body)
    assert membership["perks_active"] is True
    assert membership["plan_id"] == "vip-monthly"
    assert membership["perks"]["member_discount"] == {"percent": 10}
    gifted_until = datetime.fromisoformat(membership["gifted_until"])
    assert 89 <= (gifted_until - datetime.now(UTC)).days <= 92

    eligibility = club.post(
        "/v1/eligibility",
        {
            "customer_ref": "grace",
            "currency": "usd",
            "items": [{"sku": "tee", "unit_amount": 2000, "quantity": 1}],
        },
    )
    assert eligibility.status_code == 200, eligibility.body
    assert json.loads(eligibility.body)["member"] is True

    again = redeem(club, "grace", code)
    assert again.status_code == 409
    assert json.loads(again.body)["error"]["code"] == "gift_redeemed"
    other = redeem(club, "hopper", code)
    assert other.status_code == 409
    unknown = redeem(club, "grace", "GIFT-AAAA-BBBB-CCCC-DDDD")
    assert unknown.status_code == 404
    assert json.loads(unknown.body)["error"]["param"] == "code"


def test_a_subscription_started_during_a_gift_pays_only_when_the_gift_ends(club: Club) -> None:
    code, _ = buy_gift(club, months=2)
    assert redeem(club, "grace", code).status_code == 200
    events = club.pay(club.start_checkout("grace"))
    assert set(club.deliver(events)) == {200}
    subscription = club.emulator.stripe.account.subscriptions[subscription_of(events)]
    assert subscription["status"] == "trialing"
    gifted_until = datetime.fromisoformat(club.member("grace")["gifted_until"])
    assert abs(subscription["trial_end"] - gifted_until.timestamp()) < 86_400
    first = [e["data"]["object"] for e in events if e["type"] == "invoice.paid"]
    assert [i["amount_paid"] for i in first] == [0]


def test_a_paying_members_gift_covers_their_renewals_through_the_balance(club: Club) -> None:
    subscription_id = club.join("bea")
    code, _ = buy_gift(club, months=1)
    response = redeem(club, "bea", code)
    assert response.status_code == 200, response.body
    assert json.loads(response.body)["gifted_until"] is None  # no double perks
    events = club.advance(subscription_id)
    assert set(club.deliver(events)) == {200}
    (renewal,) = [e["data"]["object"] for e in events if e["type"] == "invoice.paid"]
    assert renewal["starting_balance"] == -999
    assert renewal["amount_paid"] == 0
    assert club.member("bea")["value"]["usd"]["fees_paid"] == 999  # the first month, paid by Bea
    headers = auth(STOREFRONT_KEY)
    assert club.client.http.get("/v1/members/bea", headers=headers).status_code == 200


def events_of(club: Club, customer_ref: str) -> list[dict[str, Any]]:
    """The shopper's events in their `sequence` order."""
    response = club.client.http.get(
        f"/v1/events?customer_ref={customer_ref}&limit=100", headers=auth(BRAND_KEY)
    )
    assert response.status_code == 200, response.body
    return sorted(json.loads(response.body)["data"], key=lambda event: event["sequence"])


def test_gift_purchased_is_the_purchasers_next_event_in_their_gapless_sequence(club: Club) -> None:
    club.join("ada")
    before = events_of(club, "ada")
    _, paid = buy_gift(club, months=2)
    events = events_of(club, "ada")
    assert [e["sequence"] for e in events] == list(range(1, len(before) + 2))
    assert events[:-1] == before
    purchased = events[-1]
    assert purchased["type"] == "gift.purchased"
    assert purchased["data"]["membership"]["status"] == "active"

    # Stripe delivers the payment again: no second event, no sequence taken.
    assert set(club.deliver(paid)) == {200}
    assert events_of(club, "ada") == events


def test_a_purchaser_never_seen_before_becomes_a_shopper_whose_first_event_is_the_gift(club: Club) -> None:
    buy_gift(club, purchaser_ref="hal")
    (event,) = events_of(club, "hal")
    assert (event["type"], event["sequence"]) == ("gift.purchased", 1)
    assert event["data"]["membership"]["status"] == "none"
    assert event["data"]["membership"]["customer_ref"] == "hal"
    assert club.member("hal")["status"] == "none"
