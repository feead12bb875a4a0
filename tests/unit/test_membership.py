"""The perks rule and the ordering rules of membership state, at every status and boundary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.membership import (
    AccessPolicy,
    SubscriptionSnapshot,
    access_until,
    dunning_started_at,
    governing_subscription,
    grace_until,
    member_since,
    merge_snapshot,
    next_check,
    perks_active,
    supersedes,
)

POLICY = AccessPolicy(renewal_leeway=timedelta(hours=48), grace=timedelta(days=3))
START = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
END = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())


def sub(status: str, **fields: object) -> SubscriptionSnapshot:
    values: dict[str, object] = {
        "subscription_id": "sub_1",
        "status": status,
        "plan_id": "vip-monthly",
        "current_period_start": START,
        "current_period_end": END,
        "created": START,
        "past_due_since": dunning_started_at(status, START),
    }
    values.update(fields)
    return SubscriptionSnapshot(**values)  # type: ignore[arg-type]


def at(epoch: int, **delta: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC) + timedelta(**delta)


@pytest.mark.parametrize("status", ["trialing", "active"])
def test_access_statuses_have_perks_until_period_end_plus_leeway(status: str) -> None:
    snapshot = sub(status)
    assert perks_active(snapshot, at(START), POLICY)
    assert perks_active(snapshot, at(END, hours=48, seconds=-1), POLICY)
    assert not perks_active(snapshot, at(END, hours=48), POLICY)  # exactly at period end + leeway


def test_cancel_at_period_end_keeps_perks_until_the_period_ends() -> None:
    snapshot = sub("active", cancel_at_period_end=True)
    assert perks_active(snapshot, at(END, seconds=-1), POLICY)


def test_past_due_has_perks_until_grace_ends() -> None:
    snapshot = sub("past_due")
    assert grace_until(snapshot, POLICY) == at(START, days=3)
    assert perks_active(snapshot, at(START, days=3, seconds=-1), POLICY)
    assert not perks_active(snapshot, at(START, days=3), POLICY)  # exactly at grace_until


def test_grace_follows_the_setting() -> None:
    assert grace_until(sub("past_due"), AccessPolicy(grace=timedelta(days=7))) == at(START, days=7)


@pytest.mark.parametrize("status", ["incomplete", "incomplete_expired", "unpaid", "canceled", "paused"])
def test_other_statuses_have_no_perks(status: str) -> None:
    assert not perks_active(sub(status), at(START, seconds=1), POLICY)
    assert access_until(sub(status), POLICY) is None


def test_no_subscription_has_no_perks() -> None:
    assert not perks_active(None, at(START), POLICY)


def test_the_membership_follows_the_subscription_with_the_most_access() -> None:
    old = sub("canceled", subscription_id="sub_old", created=START + 10)
    new = sub("active", subscription_id="sub_new", created=START)
    assert governing_subscription([old, new], at(START, days=1), POLICY) == new


def test_without_access_the_latest_subscription_is_shown() -> None:
    first = sub("canceled", subscription_id="sub_a", created=START)
    second = sub("incomplete_expired", subscription_id="sub_b", created=START + 60)
    assert governing_subscription([first, second], at(START, days=1), POLICY) == second


def test_only_a_strictly_newer_state_supersedes() -> None:
    stored = sub("active", observed_at=100)
    assert supersedes(sub("past_due", observed_at=101), stored)
    assert not supersedes(sub("past_due", observed_at=100), stored)  # a tie is not ordered
    assert not supersedes(sub("past_due", observed_at=99), stored)
    assert supersedes(sub("active"), None)


def test_an_ended_subscription_never_comes_back() -> None:
    stored = sub("canceled", observed_at=100)
    assert not supersedes(sub("active", observed_at=200), stored)
    assert supersedes(sub("canceled", observed_at=200), stored)


def test_merge_replaces_the_same_subscription_and_keeps_others() -> None:
    merged = merge_snapshot([sub("active"), sub("canceled", subscription_id="sub_0", created=START - 1)],
                            sub("past_due"))  # fmt: skip
    assert [(s.subscription_id, s.status) for s in merged] == [("sub_0", "canceled"), ("sub_1", "past_due")]


def test_member_since_is_the_first_paid_subscription_and_never_moves_later() -> None:
    assert member_since([sub("incomplete")], None) is None
    assert member_since([sub("active")], None) == at(START)
    assert member_since([sub("active", created=START + 99)], at(START)) == at(START)


def test_reconciliation_checks_an_hour_after_a_period_should_have_renewed() -> None:
    assert next_check([sub("active")], None, START) == END + 3600
    assert next_check([sub("active")], None, END + 7200) == END + 7200 + 3600


def test_reconciliation_checks_dunning_hourly_and_ignores_ended_subscriptions() -> None:
    assert next_check([sub("past_due")], None, START) == START + 3600
    assert next_check([sub("canceled")], None, START) is None


def test_reconciliation_checks_a_checkout_that_never_reported_back() -> None:
    assert next_check([], START, START) == START + 3600
    assert next_check([], START, START + 3600) == START + 25 * 3600
    assert next_check([], START, START + 25 * 3600) is None
