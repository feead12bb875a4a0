"""The perks rule and the ordering rules of membership state, at every status and boundary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.membership import (
    AccessPolicy,
    SubscriptionSnapshot,
    access_until,
    dunning_started_at,
    governing_subscription,
    grace_until,
    is_paused,
    member_since,
    merge_snapshot,
    next_check,
    paused_until,
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
    assert next_check([sub("active")], None, START, POLICY) == END + 3600
    assert next_check([sub("active")], None, END + 7200, POLICY) == END + 7200 + 3600


def test_reconciliation_checks_dunning_hourly_and_ignores_ended_subscriptions() -> None:
    assert next_check([sub("past_due")], None, START, POLICY) == START + 3600
    assert next_check([sub("canceled")], None, START, POLICY) is None


def test_reconciliation_visits_at_the_moment_grace_ends() -> None:
    grace_end = START + 3 * 86400
    assert next_check([sub("past_due")], None, grace_end - 600, POLICY) == grace_end
    # Then hourly again, as dunning is.
    assert next_check([sub("past_due")], None, grace_end, POLICY) == grace_end + 3600


def test_reconciliation_visits_when_perks_end_by_the_clock_if_that_comes_before_the_renewal_check() -> None:
    short_leeway = AccessPolicy(renewal_leeway=timedelta(minutes=10), grace=timedelta(days=3))
    assert next_check([sub("active")], None, START, short_leeway) == END + 600


@given(now=st.integers(min_value=START - 86400, max_value=END + 3599))
def test_a_settled_member_is_visited_no_sooner_than_an_hour_after_the_period_should_have_renewed(
    now: int,
) -> None:
    # Perks end (the period's end plus the leeway) after the renewal check: it adds no visit.
    assert next_check([sub("active")], None, now, POLICY) == END + 3600


@given(now=st.integers(min_value=END + 3600, max_value=END + 5 * 86400))
def test_a_stale_period_is_looked_at_hourly_and_at_the_moment_its_perks_end(now: int) -> None:
    perks_end = END + 48 * 3600
    expected = min(now + 3600, perks_end) if perks_end > now else now + 3600
    assert next_check([sub("active")], None, now, POLICY) == expected


def test_reconciliation_checks_a_checkout_that_never_reported_back() -> None:
    assert next_check([], START, START, POLICY) == START + 3600
    assert next_check([], START, START + 3600, POLICY) == START + 25 * 3600
    assert next_check([], START, START + 25 * 3600, POLICY) is None


@pytest.mark.parametrize("behavior", ["void", "mark_uncollectible", "keep_as_draft"])
@pytest.mark.parametrize("status", ["trialing", "active", "past_due"])
def test_a_pause_collection_stops_perks_whatever_the_status_says(status: str, behavior: str) -> None:
    paused = sub(status, pause_behavior=behavior)
    assert is_paused(paused)
    assert not perks_active(paused, at(START, seconds=1), POLICY)
    assert access_until(paused, POLICY) is None
    assert grace_until(paused, POLICY) is None
    # Unpaused (pause_collection cleared), the same subscription grants perks again.
    assert perks_active(sub(status), at(START, seconds=1), POLICY)


def test_paused_until_is_when_stripe_resumes_collection_or_none() -> None:
    resumes = START + 10 * 86400
    assert paused_until(sub("active", pause_behavior="void", pause_resumes_at=resumes)) == at(resumes)
    assert paused_until(sub("active", pause_behavior="void")) is None
    assert paused_until(sub("paused")) is None
    assert paused_until(sub("active")) is None


def test_a_scheduled_resume_grants_nothing_until_stripe_reports_the_pause_lifted() -> None:
    resumes = START + 10 * 86400
    paused = sub("active", pause_behavior="void", pause_resumes_at=resumes)
    assert not perks_active(paused, at(resumes, seconds=1), POLICY)


def test_a_paused_member_follows_an_unpaused_subscription_that_still_grants_perks() -> None:
    older = sub("active", subscription_id="sub_0", created=START - 100)
    newer = sub("active", subscription_id="sub_1", pause_behavior="void")
    assert governing_subscription([older, newer], at(START, seconds=1), POLICY) == older
    assert governing_subscription([newer], at(START, seconds=1), POLICY) == newer


def test_reconciliation_looks_after_a_scheduled_resume_and_daily_at_an_open_pause() -> None:
    resumes = START + 10 * 86400
    assert next_check(
        [sub("active", pause_behavior="void", pause_resumes_at=resumes)], None, START, POLICY
    ) == (resumes + 3600)
    assert next_check([sub("active", pause_behavior="void")], None, START, POLICY) == START + 24 * 3600
    assert next_check([sub("paused")], None, START, POLICY) == START + 24 * 3600


@given(
    status=st.sampled_from(
        ["incomplete", "incomplete_expired", "trialing", "active", "past_due", "unpaid", "canceled", "paused"]
    ),
    behavior=st.sampled_from([None, "void", "mark_uncollectible", "keep_as_draft"]),
    resumes_in=st.none() | st.integers(min_value=-86400 * 60, max_value=86400 * 60),
    offset=st.integers(min_value=-86400 * 40, max_value=86400 * 40),
    cancel=st.booleans(),
)
def test_no_paused_subscription_ever_grants_perks(
    status: str, behavior: str | None, resumes_in: int | None, offset: int, cancel: bool
) -> None:
    snapshot = sub(
        status,
        pause_behavior=behavior,
        pause_resumes_at=None if resumes_in is None or behavior is None else START + resumes_in,
        cancel_at_period_end=cancel,
    )
    now = at(START, seconds=offset)
    unpaused = sub(status, cancel_at_period_end=cancel)
    if is_paused(snapshot):
        assert not perks_active(snapshot, now, POLICY)
    else:
        assert perks_active(snapshot, now, POLICY) == perks_active(unpaused, now, POLICY)
    # A pause never grants what the same subscription unpaused would not.
    assert not perks_active(snapshot, now, POLICY) or perks_active(unpaused, now, POLICY)
