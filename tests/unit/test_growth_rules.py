"""The pure rules of referrals and gift memberships."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.gift import add_months, extend_gift, gift_ids, monthly_price
from chalicelib.domain.membership import gift_active
from chalicelib.domain.referral import (
    Credit,
    PaymentCheck,
    Referral,
    decide_reward,
    normalise_email,
    referral_code_for,
    same_mailbox,
    tally,
    transition_counts,
)

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
HOLD = timedelta(days=14)
CREDIT = Credit(999, "usd")
# The friend's first payment as Stripe shows it when the hold has stood: their own card, untroubled.
CLEAN = PaymentCheck(friend_cards=frozenset({"fp_bea"}), referrer_cards=frozenset({"fp_ada"}))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Ada.Lovelace@gmail.com", "adalovelace+vip@GMAIL.com"),
        ("ada.lovelace@googlemail.com", "adalovelace@gmail.com"),
        ("ada+shop@outlook.com", "ADA@outlook.com"),
        ("ada+x@icloud.com", "ada@icloud.com"),
    ],
)
def test_one_mailbox_under_another_spelling_is_the_same(first: str, second: str) -> None:
    assert same_mailbox(first, second)


def test_dots_and_tags_matter_at_providers_that_keep_them() -> None:
    assert not same_mailbox("a.da@example.com", "ada@example.com")
    assert normalise_email("Ada+Team@Example.com") == "ada+team@example.com"
    assert not same_mailbox(None, "ada@example.com")


def test_a_members_code_is_stable_and_distinct() -> None:
    assert referral_code_for("ada") == referral_code_for("ada")
    assert referral_code_for("ada") != referral_code_for("bea")


def test_the_first_invoice_joins_and_the_first_above_zero_starts_the_hold() -> None:
    referral = Referral("ada", "VIPX")
    joined = referral.paid("in_1", 0, T0, HOLD)
    assert (joined.state, joined.due_at) == ("joined", None)
    holding = joined.paid("in_2", 999, T0 + timedelta(days=31), HOLD)
    assert (holding.state, holding.invoice_id) == ("holding", "in_2")
    assert holding.due_at == T0 + timedelta(days=45)
    assert holding.paid("in_3", 999, T0 + timedelta(days=62), HOLD) == holding


def test_a_returning_members_first_payment_withholds_the_reward() -> None:
    referral = Referral("ada", "VIPX", returning=True).paid("in_1", 999, T0, HOLD)
    assert (referral.state, referral.reason) == ("withheld", "returning_member")


def test_a_refund_before_the_hold_ends_withholds_and_one_after_it_does_not() -> None:
    holding = Referral("ada", "VIPX").paid("in_1", 999, T0, HOLD)
    assert holding.charge_troubled("refunded", T0 + timedelta(days=3)).reason == "refunded"
    assert holding.charge_troubled("disputed", T0 + HOLD) == holding


def test_nothing_is_due_before_the_hold_has_stood() -> None:
    holding = Referral("ada", "VIPX").paid("in_1", 999, T0, HOLD)
    args = {"friend_email": "bea@example.com", "referrer_email": "ada@example.com", "payment": CLEAN,
            "referrer_credit": CREDIT, "rewards_this_year": 0, "max_per_year": 12}  # fmt: skip
    assert decide_reward(holding, T0 + HOLD - timedelta(seconds=1), **args) is None  # type: ignore[arg-type]
    decision = decide_reward(holding, T0 + HOLD, **args)  # type: ignore[arg-type]
    assert decision is not None and decision.credit == CREDIT


@pytest.mark.parametrize(
    ("friend", "payment", "credit", "rewards", "reason"),
    [
        ("ada+2@gmail.com", CLEAN, CREDIT, 0, "self_referral"),
        ("bea@example.com", PaymentCheck(frozenset({"fp_ada"}), referrer_cards=frozenset({"fp_ada"})),
         CREDIT, 0, "self_referral"),
        ("bea@example.com", replace(CLEAN, refunded=True), CREDIT, 0, "refunded"),
        ("bea@example.com", replace(CLEAN, disputed=True), CREDIT, 0, "disputed"),
        ("bea@example.com", CLEAN, None, 0, "referrer_not_member"),
        ("bea@example.com", CLEAN, CREDIT, 12, "yearly_cap"),
    ],
    ids=["same-mailbox", "same-card", "refunded", "disputed", "referrer-not-member", "yearly-cap"],
)  # fmt: skip
def test_a_due_reward_is_withheld_with_its_reason(
    friend: str, payment: PaymentCheck, credit: Credit | None, rewards: int, reason: str
) -> None:
    holding = Referral("ada", "VIPX").paid("in_1", 999, T0, HOLD)
    decision = decide_reward(
        holding, T0 + HOLD, friend_email=friend, referrer_email="ada@gmail.com", payment=payment,
        referrer_credit=credit, rewards_this_year=rewards, max_per_year=12,
    )  # fmt: skip
    assert decision is not None and (decision.credit, decision.reason) == (None, reason)


def test_a_shared_card_is_a_self_referral_whatever_else_withholds_the_reward() -> None:
    holding = Referral("ada", "VIPX").paid("in_1", 999, T0, HOLD)
    shared = PaymentCheck(frozenset({"fp_1", "fp_2"}), refunded=True, disputed=True,
                          referrer_cards=frozenset({"fp_2", "fp_3"}))  # fmt: skip

    decision = decide_reward(
        holding, T0 + HOLD, friend_email="bea@example.com", referrer_email="ada@example.com",
        payment=shared, referrer_credit=None, rewards_this_year=12, max_per_year=12,
    )  # fmt: skip

    assert decision is not None and decision.reason == "self_referral"


def test_a_refund_found_at_the_end_of_the_hold_wins_over_the_referrers_state() -> None:
    holding = Referral("ada", "VIPX").paid("in_1", 999, T0, HOLD)

    decision = decide_reward(
        holding, T0 + HOLD, friend_email="bea@example.com", referrer_email="ada@example.com",
        payment=replace(CLEAN, refunded=True, disputed=True), referrer_credit=None, rewards_this_year=12,
        max_per_year=12,
    )  # fmt: skip

    assert decision is not None and decision.reason == "refunded"


def test_cards_unknown_to_stripe_share_nothing() -> None:
    assert not PaymentCheck().shared_card
    assert not PaymentCheck(frozenset({"fp_bea"})).shared_card
    assert not CLEAN.shared_card


def test_a_referral_is_due_only_while_holding_once_the_hold_has_stood() -> None:
    holding = Referral("ada", "VIPX").paid("in_1", 999, T0, HOLD)

    assert not holding.due(T0 + HOLD - timedelta(seconds=1))
    assert holding.due(T0 + HOLD)
    assert not holding.withheld("refunded", T0).due(T0 + HOLD)
    assert not Referral("ada", "VIPX").paid("in_1", 0, T0, HOLD).due(T0 + HOLD)


def test_a_referrers_friends_add_up() -> None:
    started = Referral("ada", "VIPX")
    joined = started.paid("in_1", 0, T0, HOLD)
    rewarded = joined.paid("in_2", 999, T0, HOLD).rewarded(CREDIT, T0 + HOLD)
    withheld = joined.withheld("refunded", T0)
    counted = tally([started, joined, rewarded, withheld])
    assert (counted.joined, counted.rewarded, counted.pending, counted.withheld) == (3, 1, 1, 1)
    assert counted.withheld_reasons == {"refunded": 1}


def test_report_counters_move_once_per_transition() -> None:
    started = Referral("ada", "VIPX")
    assert transition_counts(None, started) == ["codes_used"]
    joined = started.paid("in_1", 0, T0, HOLD)
    assert transition_counts(started, joined) == ["joined"]
    assert transition_counts(joined, joined) == []
    rewarded = joined.paid("in_2", 999, T0, HOLD).rewarded(CREDIT, T0)
    assert transition_counts(joined, rewarded) == ["rewarded"]


def test_gift_months_follow_the_calendar_and_extend_a_running_gift() -> None:
    assert add_months(datetime(2027, 1, 31, tzinfo=UTC), 1) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2026, 11, 15, tzinfo=UTC), 3) == datetime(2027, 2, 15, tzinfo=UTC)
    running = T0 + timedelta(days=10)
    assert extend_gift(running, T0, 1) == add_months(running, 1)
    assert extend_gift(T0 - timedelta(days=1), T0, 1) == add_months(T0, 1)


def test_a_gift_grants_perks_until_gifted_until_only() -> None:
    assert gift_active(T0, T0 - timedelta(seconds=1))
    assert not gift_active(T0, T0)
    assert not gift_active(None, T0)


def test_a_gift_month_of_a_yearly_plan_is_a_twelfth_rounded_half_up() -> None:
    assert monthly_price(999, "month") == 999
    assert monthly_price(9900, "year") == 825
    assert monthly_price(1000, "year") == 83


def test_a_gift_id_and_code_come_from_its_checkout_session() -> None:
    assert gift_ids("cs_1") == gift_ids("cs_1")
    assert gift_ids("cs_1")[1] != gift_ids("cs_2")[1]
    assert gift_ids("cs_1")[1].startswith("GIFT-")
