"""The pure rules of referrals and gift memberships."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.catalog import Cause, DonationRule, FreeShipping, Perks, Plan
from chalicelib.domain.events import (
    GIFT_PURCHASED,
    REFERRAL_REWARDED,
    Fact,
    GiftData,
    ReferralData,
    Standing,
    events_for_fact,
    membership_moments,
)
from chalicelib.domain.events import Credit as EventCredit
from chalicelib.domain.gift import add_months, extend_gift, gift_ids, monthly_price
from chalicelib.domain.member import Member
from chalicelib.domain.membership import SubscriptionSnapshot, gift_active
from chalicelib.domain.referral import (
    BalanceMove,
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
from chalicelib.services.members import DecideTogether, MemberChange, change_member, change_members
from tests.memory_uow import InMemoryUnitOfWork, MemoryCatalog

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


def test_a_refund_made_before_the_hold_ended_takes_back_a_reward_delivered_late() -> None:
    rewarded = Referral("ada", "VIPX").paid("in_1", 999, T0, HOLD).rewarded(CREDIT, T0 + HOLD)
    clawed = rewarded.charge_troubled("refunded", T0 + timedelta(days=3))
    assert (clawed.state, clawed.reason, clawed.credit) == ("withheld", "refunded", CREDIT)
    assert clawed.clawed_back and clawed.clawed_back_at == T0 + timedelta(days=3)
    assert clawed.reward_year == (T0 + HOLD).year  # the year whose cap gets its slot back
    assert clawed.charge_troubled("disputed", T0 + timedelta(days=4)) == clawed  # taken back once


def test_a_refund_made_after_the_hold_ended_leaves_the_reward() -> None:
    rewarded = Referral("ada", "VIPX").paid("in_1", 999, T0, HOLD).rewarded(CREDIT, T0 + HOLD)
    assert rewarded.charge_troubled("refunded", T0 + HOLD) == rewarded
    assert rewarded.charge_troubled("disputed", T0 + HOLD + timedelta(days=30)) == rewarded


def test_a_claw_back_counts_as_withheld_and_in_the_claw_back_counter() -> None:
    rewarded = Referral("ada", "VIPX").paid("in_1", 999, T0, HOLD).rewarded(CREDIT, T0 + HOLD)
    clawed = rewarded.charge_troubled("disputed", T0)
    assert transition_counts(rewarded, clawed) == ["withheld#disputed", "clawed_back"]
    counted = tally([clawed])
    assert (counted.rewarded, counted.withheld, counted.withheld_reasons) == (0, 1, {"disputed": 1})


def test_a_referrers_rewards_count_per_year_and_a_claw_back_gives_the_slot_back() -> None:
    ada = Member("ada")
    ada.count_referral_reward(2026)
    ada.count_referral_reward(2026)
    ada.count_referral_reward(2027)
    assert (ada.referral_rewards_in(2026), ada.referral_rewards_in(2027)) == (2, 1)
    ada.count_referral_reward(2027, -1)
    ada.count_referral_reward(2027, -1)
    assert ada.referral_rewards == {"2026": 2}


def test_a_balance_move_is_keyed_per_friend_and_signed_as_stripe_signs_it() -> None:
    credit = BalanceMove("bea", "credit", "cus_ada", 999, "usd")
    debit = BalanceMove("bea", "debit", "cus_ada", 999, "usd")
    assert (credit.signed_amount, debit.signed_amount) == (-999, 999)
    assert credit.idempotency_key == "vip-referral-reward-bea"  # the key credits were always made with
    assert debit.idempotency_key == "vip-referral-clawback-bea"


def test_a_reward_and_a_gift_purchase_are_events_of_the_shoppers_sequence() -> None:
    standing = Standing(status="active", plan_id="vip-monthly", perks_active=True)
    reward = ReferralData(friend_ref="bea", credit=EventCredit(amount=999, currency="usd"))
    gift = GiftData(
        code="GIFT-1", plan_id="vip-monthly", months=3, recipient_email="g@example.com", message=None
    )
    assert [m.type for m in membership_moments(standing, standing, Fact(referral_rewarded=reward))] == [
        REFERRAL_REWARDED
    ]
    # A purchaser never seen before: no membership events, only the purchase.
    assert [m.type for m in membership_moments(None, Standing(), Fact(gift_purchased=gift))] == [
        GIFT_PURCHASED
    ]
    (event,) = events_for_fact(
        standing, standing, Fact(referral_rewarded=reward), customer_ref="ada", last_sequence=4, now=T0,
        membership={"customer_ref": "ada"},
    )  # fmt: skip
    assert (event.type, event.customer_ref, event.sequence) == (REFERRAL_REWARDED, "ada", 5)
    assert event.data["referral"] == {"friend_ref": "bea", "credit": {"amount": 999, "currency": "usd"}}


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


# --- several shoppers in one commit (a reward: the friend's referral and the referrer's count) -----------


def _club() -> InMemoryUnitOfWork:
    plan = Plan(plan_id="vip-monthly", name="VIP", amount=999, currency="usd", interval="month",
                perks=Perks(free_shipping=FreeShipping()), donation=DonationRule(order_bps=0, renewal_bps=0))  # fmt: skip
    uow = InMemoryUnitOfWork(
        MemoryCatalog({"vip-monthly": plan}, {"general-fund": Cause(cause_id="general-fund", name="Fund")})
    )
    active = SubscriptionSnapshot(subscription_id="sub_1", status="active", plan_id="vip-monthly",
                                  current_period_start=0, current_period_end=2_000_000_000, created=1,
                                  observed_at=1.0)  # fmt: skip
    uow.tables.members["ada"] = Member("ada", subscriptions=[active], last_sequence=3, version=1)
    uow.tables.members["bea"] = Member(
        "bea", referred=Referral("ada", "VIPX").paid("in_1", 999, T0, HOLD), version=1
    )
    return uow


def _reward_up_to(cap: int, now: datetime, seen: list[int]) -> DecideTogether:
    """The reward's commit as `services.referrals` makes it: rewarded below the cap, else withheld."""

    def decide(loaded: Mapping[str, Member | None], changes: Mapping[str, MemberChange]) -> list[Member]:
        ada, bea = loaded["ada"], loaded["bea"]
        assert ada is not None and bea is not None and bea.referred is not None
        before = bea.referred
        seen.append(ada.referral_rewards_in(now.year))
        if ada.referral_rewards_in(now.year) >= cap:
            bea.referred = before.withheld("yearly_cap", now)
        else:
            bea.referred = before.rewarded(CREDIT, now)
            ada.count_referral_reward(now.year)
            changes["ada"].note(
                Fact(
                    referral_rewarded=ReferralData(
                        friend_ref="bea", credit=EventCredit(amount=999, currency="usd")
                    )
                )
            )
        changes["bea"].change_referral(before, bea.referred)
        return [bea, ada]

    return decide


def test_two_shoppers_commit_together_each_event_numbered_in_its_own_sequence() -> None:
    uow = _club()
    seen: list[int] = []
    committed = change_members(["bea", "ada"], _reward_up_to(1, T0 + HOLD, seen), T0 + HOLD, uow)
    assert set(committed) == {"ada", "bea"} and uow.tables.commits == 1
    (event,) = uow.tables.outbox.values()
    assert (event.type, event.customer_ref, event.sequence) == (REFERRAL_REWARDED, "ada", 4)
    assert uow.tables.members["ada"].last_sequence == 4
    assert uow.tables.members["ada"].referral_rewards_in(2026) == 1
    assert uow.tables.referrals["bea"].state == "rewarded"


def test_a_reward_that_lost_the_race_for_the_referrer_is_decided_again_on_the_new_count() -> None:
    uow = _club()
    other = InMemoryUnitOfWork(uow.catalog, uow.tables)

    def another_run_rewards_ada(member: Member | None, _: MemberChange) -> Member | None:
        assert member is not None
        member.count_referral_reward(2026)
        return member

    uow.before_commit.append(lambda: change_member("ada", another_run_rewards_ada, T0, other) and None)
    seen: list[int] = []
    change_members(["bea", "ada"], _reward_up_to(1, T0 + HOLD, seen), T0 + HOLD, uow)
    assert seen == [0, 1]  # decided again on the count the other run committed
    assert uow.tables.referrals["bea"].reason == "yearly_cap"
    assert uow.tables.members["ada"].referral_rewards_in(2026) == 1
    assert list(uow.tables.outbox.values()) == []  # the lost decision's event never committed


def test_a_decision_that_writes_nobody_commits_nothing() -> None:
    uow = _club()
    assert change_members(["bea", "ada"], lambda _loaded, _changes: [], T0, uow) == {}
    assert uow.tables.commits == 0
