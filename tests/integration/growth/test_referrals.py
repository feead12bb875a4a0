"""Referrals through the emulator and real webhooks: the friend's free month, the referrer's credit once the
hold has stood (pinned clock), and every way a reward is withheld or refused."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.domain.times import from_epoch
from tests.helpers import BRAND_KEY, STOREFRONT_KEY, auth
from tests.integration.conftest import PLANS, Club, subscription_of

DAY = 86_400
PLAN = "vip-referral"


class Time:
    """One pinned "now" for the service and the emulator, moved by the test."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def pass_days(self, days: float) -> None:
        self.now += days * DAY


@pytest.fixture
def pinned(emulator: Any) -> Iterator[Time]:
    moment = Time()
    emulator.stripe.clock = lambda: moment.now
    clock.set_clock(lambda: from_epoch(int(moment.now)))
    yield moment
    emulator.stripe.clock = time.time
    clock.set_clock(None)


@pytest.fixture
def referral_club(club: Club, pinned: Time) -> Club:
    plan = {**PLANS["vip-monthly"], "referral": {"friend_free_months": 1, "referrer_free_months": 1}}
    response = club.client.http.put(f"/v1/plans/{PLAN}", body=json.dumps(plan), headers=auth(BRAND_KEY))
    assert response.status_code == 200, response.body
    return club


def deliver(club: Club, pinned: Time, events: list[dict[str, Any]]) -> None:
    assert set(club.deliver(events, at=int(pinned.now))) == {200}


def join(
    club: Club, pinned: Time, customer_ref: str, card: str | None = None, **extra: Any
) -> tuple[str, list[dict[str, Any]]]:
    """The shopper checks out and pays (with the test card number `card`, else a card of their own)."""
    session_id = club.start_checkout(customer_ref, PLAN, **extra)
    before = len(club.emulator.events)
    club.emulator.complete_checkout(session_id, card=card)
    events = club.emulator.events_since(before)
    deliver(club, pinned, events)
    return subscription_of(events), events


def referral(club: Club, customer_ref: str) -> dict[str, Any]:
    response = club.client.http.get(f"/v1/members/{customer_ref}/referral", headers=auth(STOREFRONT_KEY))
    assert response.status_code == 200, response.body
    result: dict[str, Any] = json.loads(response.body)
    return result


def hourly_job(club: Club) -> int:
    """Run the hourly job on demand; returns how many referral credits Stripe holds afterwards."""
    response = club.post("/v1/admin/reconcile", {}, key=BRAND_KEY)
    assert response.status_code == 200, response.body
    credits = club.emulator.stripe.account.balance_transactions.values()
    return sum(1 for t in credits if t["type"] == "adjustment" and t["amount"] < 0)


def paid_invoices(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["data"]["object"] for e in events if e["type"] == "invoice.paid"]


def balance(club: Club, customer_ref: str) -> int:
    customer = club.emulator.stripe.account.customers[club_customer(club, customer_ref)]
    amount: int = customer["balance"]
    return amount


def club_customer(club: Club, customer_ref: str) -> str:
    from chalicelib.store.members import get_member

    state = get_member(customer_ref)
    assert state is not None and state.stripe_customer_id is not None
    return state.stripe_customer_id


def rewarded_events(club: Club) -> list[dict[str, Any]]:
    response = club.client.http.get("/v1/events?type=referral.rewarded", headers=auth(BRAND_KEY))
    assert response.status_code == 200, response.body
    data: list[dict[str, Any]] = json.loads(response.body)["data"]
    return data


def friend_renews(club: Club, pinned: Time, subscription_id: str) -> dict[str, Any]:
    """A month later the friend's first full-price invoice is paid."""
    pinned.pass_days(31)
    events = club.advance(subscription_id)
    deliver(club, pinned, events)
    (invoice,) = paid_invoices(events)
    return invoice


def hourly_job_withholds_adas_reward(club: Club, reason: str) -> None:
    """The hourly job decides the friend's referral: withheld for `reason`, nothing credited, no event."""
    assert hourly_job(club) == 0
    assert balance(club, "ada") == 0
    assert rewarded_events(club) == []
    assert referral(club, "ada")["friends"] == {
        "joined": 1, "rewarded": 0, "pending": 0, "withheld": 1, "withheld_reasons": {reason: 1}
    }  # fmt: skip


def test_referred_friend_first_month_costs_nothing_and_referrer_is_credited_once_after_the_hold(
    referral_club: Club, pinned: Time
) -> None:
    club = referral_club
    join(club, pinned, "ada")
    code = referral(club, "ada")["code"]
    assert referral(club, "ada")["code"] == code  # one code per member

    friend_subscription, events = join(club, pinned, "bea", referral_code=code.lower())
    (first,) = paid_invoices(events)
    assert first["amount_paid"] == 0
    assert referral(club, "ada")["friends"] == {
        "joined": 1, "rewarded": 0, "pending": 1, "withheld": 0, "withheld_reasons": {}
    }  # fmt: skip

    invoice = friend_renews(club, pinned, friend_subscription)
    assert invoice["amount_paid"] == 999
    pinned.pass_days(13)
    assert hourly_job(club) == 0
    assert balance(club, "ada") == 0

    pinned.pass_days(1.1)
    assert hourly_job(club) == 1
    assert balance(club, "ada") == -999
    (event,) = rewarded_events(club)
    assert event["customer_ref"] == "ada"
    assert event["data"]["referral"] == {"friend_ref": "bea", "credit": {"amount": 999, "currency": "usd"}}
    assert event["data"]["membership"]["customer_ref"] == "ada"
    assert referral(club, "ada")["friends"] == {
        "joined": 1, "rewarded": 1, "pending": 0, "withheld": 0, "withheld_reasons": {}
    }  # fmt: skip

    # A second hourly run and a replayed webhook credit nothing more.
    assert hourly_job(club) == 1
    paid_event = next(e for e in club.emulator.events if e["type"] == "invoice.paid"
                      and e["data"]["object"]["id"] == invoice["id"])  # fmt: skip
    deliver(club, pinned, [paid_event])
    pinned.pass_days(20)
    assert hourly_job(club) == 1
    assert balance(club, "ada") == -999
    assert len(rewarded_events(club)) == 1


def test_the_referrers_credit_pays_their_next_renewal(referral_club: Club, pinned: Time) -> None:
    club = referral_club
    ada_subscription, _ = join(club, pinned, "ada")
    friend_subscription, _ = join(club, pinned, "bea", referral_code=referral(club, "ada")["code"])
    friend_renews(club, pinned, friend_subscription)
    pinned.pass_days(15)
    assert hourly_job(club) == 1
    events = club.advance(ada_subscription)
    deliver(club, pinned, events)
    (renewal,) = paid_invoices(events)
    assert renewal["amount_paid"] == 0
    assert renewal["starting_balance"] == -999
    assert club.member("ada")["value"]["usd"]["fees_paid"] == 999  # the first month only


@pytest.mark.parametrize("trouble", ["refunded", "disputed"])
def test_a_refund_or_dispute_during_the_hold_withholds_the_reward(
    referral_club: Club, pinned: Time, trouble: str
) -> None:
    club = referral_club
    join(club, pinned, "ada")
    friend_subscription, _ = join(club, pinned, "bea", referral_code=referral(club, "ada")["code"])
    invoice = friend_renews(club, pinned, friend_subscription)
    pinned.pass_days(3)
    before = len(club.emulator.events)
    if trouble == "refunded":
        club.emulator.refund(invoice["id"])
    else:
        club.emulator.dispute(invoice["id"], "fraudulent")
    deliver(club, pinned, club.emulator.events_since(before))

    pinned.pass_days(15)
    hourly_job_withholds_adas_reward(club, trouble)


def test_a_friend_paying_with_the_referrers_card_earns_the_referrer_nothing(
    referral_club: Club, pinned: Time
) -> None:
    club = referral_club
    join(club, pinned, "ada", card="4242424242424242")
    code = referral(club, "ada")["code"]
    friend_subscription, _ = join(club, pinned, "bea", card="4242 4242 4242 4242", referral_code=code)
    friend_renews(club, pinned, friend_subscription)  # the first charge: the card kept at checkout

    pinned.pass_days(15)
    hourly_job_withholds_adas_reward(club, "self_referral")


def test_a_friend_paying_with_another_card_earns_the_referrer_the_credit(
    referral_club: Club, pinned: Time
) -> None:
    club = referral_club
    join(club, pinned, "ada", card="4242424242424242")
    code = referral(club, "ada")["code"]
    friend_subscription, _ = join(club, pinned, "bea", card="5555555555554444", referral_code=code)
    friend_renews(club, pinned, friend_subscription)

    pinned.pass_days(15)
    assert hourly_job(club) == 1
    assert balance(club, "ada") == -999
    assert referral(club, "ada")["friends"]["rewarded"] == 1


@pytest.mark.parametrize(("trouble", "reason"), [("refund", "refunded"), ("dispute", "disputed")])
def test_a_refund_or_dispute_whose_webhook_is_lost_withholds_the_reward_when_the_hold_ends(
    referral_club: Club, pinned: Time, trouble: str, reason: str
) -> None:
    club = referral_club
    join(club, pinned, "ada")
    friend_subscription, _ = join(club, pinned, "bea", referral_code=referral(club, "ada")["code"])
    invoice = friend_renews(club, pinned, friend_subscription)
    pinned.pass_days(3)
    club.emulator.set_webhooks(False)  # `charge.refunded` / `charge.dispute.created` never arrive
    before = len(club.emulator.events)
    if trouble == "refund":
        club.emulator.refund(invoice["id"], 100)  # part of it: any refund counts
    else:
        club.emulator.dispute(invoice["id"], "fraudulent")
    assert club.emulator.events_since(before)  # Stripe has the event; the service never hears of it
    club.emulator.set_webhooks(True)
    pinned.pass_days(10)
    assert hourly_job(club) == 0
    assert referral(club, "ada")["friends"]["pending"] == 1  # still holding: nothing known yet

    pinned.pass_days(5)
    hourly_job_withholds_adas_reward(club, reason)


def referral_calls(club: Club, since: int) -> list[str]:
    """The Stripe calls of the referral rewards since `since` (the same run also reconciles memberships)."""
    rewards = ("GET /v1/invoice_payments", "GET /v1/charges", "POST /v1/customers/")
    return [call for call in club.emulator.api_requests[since:] if call.startswith(rewards)]


def test_the_hourly_job_reads_stripe_only_for_a_referral_that_is_due(
    referral_club: Club, pinned: Time
) -> None:
    club = referral_club
    join(club, pinned, "ada")
    friend_subscription, _ = join(club, pinned, "bea", referral_code=referral(club, "ada")["code"])
    friend_renews(club, pinned, friend_subscription)
    pinned.pass_days(13)
    before = len(club.emulator.api_requests)
    assert hourly_job(club) == 0
    assert referral_calls(club, before) == []

    pinned.pass_days(1.1)
    before = len(club.emulator.api_requests)
    assert hourly_job(club) == 1
    assert referral_calls(club, before) == [
        "GET /v1/invoice_payments",
        "GET /v1/charges",  # the charge of the friend's first payment, by its PaymentIntent
        "GET /v1/charges",  # the referrer's charges
        f"POST /v1/customers/{club_customer(club, 'ada')}/balance_transactions",
    ]


def test_a_member_cannot_use_their_own_code(referral_club: Club, pinned: Time) -> None:
    club = referral_club
    join(club, pinned, "ada", email="Ada.Lovelace@gmail.com")
    code = referral(club, "ada")["code"]
    checkout = {"plan_id": PLAN, "success_url": "https://shop.example/welcome",
                "cancel_url": "https://shop.example/join", "referral_code": code}  # fmt: skip

    own = club.post("/v1/members/ada/checkout", {**checkout, "email": "Ada.Lovelace@gmail.com"})
    assert own.status_code in (400, 409), own.body
    same_mailbox = club.post("/v1/members/ada2/checkout", {**checkout, "email": "adalovelace+vip@GMAIL.com"})
    assert same_mailbox.status_code == 400, same_mailbox.body
    error = json.loads(same_mailbox.body)["error"]
    assert (error["param"], error["code"]) == ("referral_code", "own_referral_code")
    unknown = club.post(
        "/v1/members/cy/checkout", {**checkout, "email": "cy@example.com", "referral_code": "NOPE1"}
    )
    assert unknown.status_code == 400
    assert json.loads(unknown.body)["error"]["param"] == "referral_code"
    assert referral(club, "ada")["friends"]["joined"] == 0


def test_a_returning_member_joins_with_the_code_but_earns_the_referrer_nothing(
    referral_club: Club, pinned: Time
) -> None:
    club = referral_club
    join(club, pinned, "ada")
    code = referral(club, "ada")["code"]
    # Bea had a trial membership before (nothing paid, so Stripe still sees a first-time customer).
    events = club.pay(club.start_checkout("bea", "vip-trial"))
    deliver(club, pinned, events)
    pinned.pass_days(2)
    response = club.post("/v1/members/bea/cancel", {"at_period_end": False})
    assert response.status_code == 200, response.body
    assert json.loads(response.body)["status"] == "canceled"

    friend_subscription, _ = join(club, pinned, "bea", referral_code=code)
    friend_renews(club, pinned, friend_subscription)
    pinned.pass_days(15)
    assert hourly_job(club) == 0
    assert balance(club, "ada") == 0
    assert referral(club, "ada")["friends"]["withheld_reasons"] == {"returning_member": 1}


def test_referral_report_counts_codes_joins_rewards_and_credit(referral_club: Club, pinned: Time) -> None:
    club = referral_club
    join(club, pinned, "ada")
    friend_subscription, _ = join(club, pinned, "bea", referral_code=referral(club, "ada")["code"])
    friend_renews(club, pinned, friend_subscription)
    pinned.pass_days(15)
    assert hourly_job(club) == 1
    first = from_epoch(int(pinned.now) - 60 * DAY).strftime("%Y-%m")
    last = from_epoch(int(pinned.now)).strftime("%Y-%m")
    response = club.client.http.get(f"/v1/reports/referrals?from={first}&to={last}", headers=auth(BRAND_KEY))
    assert response.status_code == 200, response.body
    rows = json.loads(response.body)["data"]
    assert sum(r["codes_used"] for r in rows) == 1
    assert sum(r["joined"] for r in rows) == 1
    assert sum(r["rewarded"] for r in rows) == 1
    assert [c for r in rows for c in r["credit"]] == [{"currency": "usd", "amount": 999}]
    csv = club.client.http.get(
        f"/v1/reports/referrals?from={first}&to={last}&format=csv", headers=auth(BRAND_KEY)
    )
    assert csv.status_code == 200
    assert (
        csv.body.decode()
        .splitlines()[0]
        .startswith("period,codes_used,joined,rewarded,clawed_back,withheld_")
    )


def test_the_shopper_reads_their_code_and_a_friend_joins_with_it_from_the_browser(
    referral_club: Club, pinned: Time
) -> None:
    from tests.integration.shopper.conftest import as_shopper, mint

    club = referral_club
    join(club, pinned, "ada")
    answer = club.client.http.get("/v1/shopper/referral", headers=as_shopper(mint(club.client, "ada")))
    assert answer.status_code == 200, answer.body
    code = json.loads(answer.body)["code"]
    assert code == referral(club, "ada")["code"]

    started = club.client.http.post(
        "/v1/shopper/checkout",
        body=json.dumps({"plan_id": PLAN, "email": "bea@example.com", "referral_code": code,
                         "success_url": "https://shop.example.com/welcome",
                         "cancel_url": "https://shop.example.com/join"}),
        headers=as_shopper(mint(club.client, "bea")),
    )  # fmt: skip
    assert started.status_code == 201, started.body
    events = club.pay(json.loads(started.body)["session_id"])
    deliver(club, pinned, events)
    assert [i["amount_paid"] for i in paid_invoices(events)] == [0]
    assert referral(club, "ada")["friends"]["joined"] == 1


# --- how a reward is committed: the referrer's sequence, the yearly cap, claw-backs ----------------------


def events_of(club: Club, customer_ref: str) -> list[dict[str, Any]]:
    """The shopper's events in their `sequence` order."""
    response = club.client.http.get(
        f"/v1/events?customer_ref={customer_ref}&limit=100", headers=auth(BRAND_KEY)
    )
    assert response.status_code == 200, response.body
    return sorted(json.loads(response.body)["data"], key=lambda event: event["sequence"])


def stripe_moves(club: Club, customer_ref: str) -> list[int]:
    """The referral adjustments of the shopper's Stripe balance (credits negative, debits positive)."""
    customer = club_customer(club, customer_ref)
    return [
        t["amount"]
        for t in club.emulator.stripe.account.balance_transactions.values()
        if t["customer"] == customer and t["type"] == "adjustment"
    ]


def report_rows(club: Club, pinned: Time) -> list[dict[str, Any]]:
    first = from_epoch(int(pinned.now) - 90 * DAY).strftime("%Y-%m")
    last = from_epoch(int(pinned.now)).strftime("%Y-%m")
    response = club.client.http.get(f"/v1/reports/referrals?from={first}&to={last}", headers=auth(BRAND_KEY))
    assert response.status_code == 200, response.body
    rows: list[dict[str, Any]] = json.loads(response.body)["data"]
    return rows


def referrer_rewards(customer_ref: str, year: int) -> int:
    from chalicelib.store.members import get_member

    state = get_member(customer_ref)
    assert state is not None
    return state.referral_rewards_in(year)


def test_referral_rewarded_is_the_referrers_next_event_in_their_gapless_sequence(
    referral_club: Club, pinned: Time
) -> None:
    from chalicelib.store.members import get_member

    club = referral_club
    join(club, pinned, "ada")
    before = events_of(club, "ada")  # listable for 30 days: read while they are
    assert [e["sequence"] for e in before] == list(range(1, len(before) + 1))
    friend_subscription, _ = join(club, pinned, "bea", referral_code=referral(club, "ada")["code"])
    friend_renews(club, pinned, friend_subscription)
    pinned.pass_days(15)
    assert hourly_job(club) == 1

    # Ada's older events are past the listing's 30 days. Her own renewal was never paid in this story, so
    # the run's visit of her tells that lapse first, then the reward is credited.
    lapsed, rewarded = events_of(club, "ada")
    assert (lapsed["type"], lapsed["sequence"], lapsed["data"]["reason"]) == (
        "member.ended",
        len(before) + 1,
        "lapsed",
    )
    assert (rewarded["type"], rewarded["sequence"]) == ("referral.rewarded", len(before) + 2)
    assert rewarded["data"]["membership"]["customer_ref"] == "ada"
    assert rewarded["data"]["membership"]["status"] == "active"
    ada = get_member("ada")
    assert ada is not None and ada.last_sequence == len(before) + 2
    assert referrer_rewards("ada", from_epoch(int(pinned.now)).year) == 1


def test_two_concurrent_runs_at_one_below_the_yearly_cap_credit_exactly_once(
    referral_club: Club, pinned: Time
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.services import referrals as referral_service
    from chalicelib.services.unit_of_work import on_dynamodb
    from chalicelib.settings import settings
    from chalicelib.store.members import get_member, save_member

    club = referral_club
    join(club, pinned, "ada")
    code = referral(club, "ada")["code"]
    friends = [join(club, pinned, friend, referral_code=code)[0] for friend in ("bea", "cy")]
    pinned.pass_days(31)
    for subscription_id in friends:
        deliver(club, pinned, club.advance(subscription_id))
    pinned.pass_days(15)
    # Ada has been rewarded for all but one friend this year already.
    year = from_epoch(int(pinned.now)).year
    ada = get_member("ada")
    assert ada is not None
    ada.referral_rewards = {str(year): settings.referral_max_per_year - 1}
    save_member(ada, clock.now())

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda _: referral_service.reward_due(on_dynamodb()), range(2)))

    assert sum(run.rewarded for run in runs) == 1
    assert stripe_moves(club, "ada") == [-999]
    assert balance(club, "ada") == -999
    assert len(rewarded_events(club)) == 1
    assert referral(club, "ada")["friends"] == {
        "joined": 2, "rewarded": 1, "pending": 0, "withheld": 1, "withheld_reasons": {"yearly_cap": 1}
    }  # fmt: skip
    assert referrer_rewards("ada", year) == settings.referral_max_per_year
    assert hourly_job(club) == 1  # a later run credits nothing more


@pytest.mark.parametrize("trouble", ["refunded", "disputed"])
def test_a_refund_made_during_the_hold_but_delivered_after_the_credit_claws_it_back_once(
    referral_club: Club, pinned: Time, trouble: str
) -> None:
    club = referral_club
    join(club, pinned, "ada")
    friend_subscription, _ = join(club, pinned, "bea", referral_code=referral(club, "ada")["code"])
    friend_renews(club, pinned, friend_subscription)
    pinned.pass_days(3)
    # Another payment of the friend during the hold (the hourly job reads only the first one's charge from
    # Stripe, so only the webhook tells of trouble with this one).
    renewed = club.advance(friend_subscription)
    deliver(club, pinned, renewed)
    (invoice,) = paid_invoices(renewed)
    before = len(club.emulator.events)
    # Made now, during the hold ...
    if trouble == "refunded":
        club.emulator.refund(invoice["id"])
    else:
        club.emulator.dispute(invoice["id"], "fraudulent")
    refund_events = club.emulator.events_since(before)
    pinned.pass_days(12)
    assert hourly_job(club) == 1
    assert balance(club, "ada") == -999
    year = from_epoch(int(pinned.now)).year
    assert referrer_rewards("ada", year) == 1

    pinned.pass_days(1)
    deliver(club, pinned, refund_events)  # ... delivered after the reward was credited

    assert stripe_moves(club, "ada") == [-999, 999]
    assert balance(club, "ada") == 0
    assert referral(club, "ada")["friends"] == {
        "joined": 1, "rewarded": 0, "pending": 0, "withheld": 1, "withheld_reasons": {trouble: 1}
    }  # fmt: skip
    assert referrer_rewards("ada", year) == 0
    rows = report_rows(club, pinned)
    assert sum(r["rewarded"] for r in rows) == 1
    assert sum(r["clawed_back"] for r in rows) == 1
    assert sum(r["withheld"].get(trouble, 0) for r in rows) == 1
    assert sum(c["amount"] for r in rows for c in r["credit"]) == 0
    this_month = next(r for r in rows if r["period"] == from_epoch(int(pinned.now)).strftime("%Y-%m"))
    assert this_month["clawed_back"] == 1
    month = this_month["period"]
    csv = (
        club.client.http.get(
            f"/v1/reports/referrals?from={month}&to={month}&format=csv", headers=auth(BRAND_KEY)
        )
        .body.decode()
        .splitlines()
    )
    header, line = csv[0].split(","), csv[1].split(",")
    assert line[header.index("clawed_back")] == "1"

    # The refund delivered again, and later hourly runs: nothing more moves.
    deliver(club, pinned, refund_events)
    pinned.pass_days(1)
    assert hourly_job(club) == 1
    assert stripe_moves(club, "ada") == [-999, 999]
    assert len(rewarded_events(club)) == 1


def test_a_refund_made_after_the_hold_changes_nothing(referral_club: Club, pinned: Time) -> None:
    club = referral_club
    join(club, pinned, "ada")
    friend_subscription, _ = join(club, pinned, "bea", referral_code=referral(club, "ada")["code"])
    invoice = friend_renews(club, pinned, friend_subscription)
    pinned.pass_days(15)
    assert hourly_job(club) == 1
    before = len(club.emulator.events)
    club.emulator.refund(invoice["id"])
    deliver(club, pinned, club.emulator.events_since(before))

    assert stripe_moves(club, "ada") == [-999]
    assert referral(club, "ada")["friends"]["rewarded"] == 1
    assert sum(r["clawed_back"] for r in report_rows(club, pinned)) == 0


def _committed_credit(club: Club, friend_ref: str, referrer_ref: str) -> Any:
    """What a crash right after the reward's commit leaves: the credit's pointer, nothing in Stripe yet."""
    from chalicelib.domain.referral import BalanceMove
    from chalicelib.services.unit_of_work import on_dynamodb

    move = BalanceMove(friend_ref, "credit", club_customer(club, referrer_ref), 999, "usd")
    uow = on_dynamodb()
    with uow:
        uow.referrals.add_balance_move(move)
        uow.commit()
    return move


def test_a_credit_committed_but_not_yet_made_in_stripe_is_made_by_the_next_run_once(
    referral_club: Club, pinned: Time
) -> None:
    from chalicelib.store import referrals as referral_store

    club = referral_club
    join(club, pinned, "ada")
    _committed_credit(club, "bea", "ada")
    assert hourly_job(club) == 1
    assert referral_store.balance_moves(10) == []
    assert hourly_job(club) == 1
    assert stripe_moves(club, "ada") == [-999]


def test_a_credit_made_in_stripe_whose_pointer_survived_a_crash_is_not_made_twice(
    referral_club: Club, pinned: Time
) -> None:
    from chalicelib.payments import referrals as stripe_referrals

    club = referral_club
    join(club, pinned, "ada")
    move = _committed_credit(club, "bea", "ada")
    stripe_referrals.move_balance(
        move.stripe_customer_id, move.signed_amount, move.currency,
        idempotency_key=move.idempotency_key, description="Referral reward: bea joined with your code",
    )  # fmt: skip
    assert hourly_job(club) == 1
    assert stripe_moves(club, "ada") == [-999]
    assert balance(club, "ada") == -999
