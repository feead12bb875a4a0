"""A shopper's cohort standing: joined once, on the first paid subscription; each start and end counted once."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from chalicelib.domain.cohorts import (
    Cohort,
    CohortMove,
    CohortReport,
    CohortSums,
    cohort_report,
    cohorts_csv,
    follow,
)
from chalicelib.domain.membership import AccessPolicy, SubscriptionSnapshot

POLICY = AccessPolicy()
SEP_3 = int(datetime(2026, 9, 3, tzinfo=UTC).timestamp())
OCT_5 = int(datetime(2026, 10, 5, tzinfo=UTC).timestamp())
NOV_2 = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp())
YEAR = 366 * 86400


def _sub(
    sub_id: str, status: str, created: int, plan_id: str = "vip-monthly", **extra: int
) -> SubscriptionSnapshot:
    return SubscriptionSnapshot(
        subscription_id=sub_id, status=status, plan_id=plan_id, currency="usd", created=created,
        current_period_start=created, current_period_end=created + YEAR, observed_at=extra.pop("observed_at", created),
        **extra,
    )  # fmt: skip


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch + 3600, UTC)


def test_a_trial_joins_no_cohort_until_it_is_paid() -> None:
    assert follow(None, [_sub("s1", "trialing", SEP_3)], _at(SEP_3), POLICY) == (None, [])


def test_the_first_paid_subscription_joins_its_start_month_and_plan() -> None:
    standing, moves = follow(None, [_sub("s1", "active", SEP_3)], _at(OCT_5), POLICY)
    cohort = Cohort("2026-09", "vip-monthly", "usd")
    assert standing is not None and (standing.cohort, standing.active) == (cohort, True)
    assert moves == [CohortMove(cohort, "2026-09", active=1, joined=1)]
    assert follow(standing, [_sub("s1", "active", SEP_3)], _at(OCT_5), POLICY) == (standing, [])


def test_an_end_and_a_rejoin_are_counted_once_each_in_their_months_and_the_cohort_stays() -> None:
    standing, _ = follow(None, [_sub("s1", "active", SEP_3)], _at(SEP_3), POLICY)
    ended = _sub("s1", "canceled", SEP_3, ended_at=OCT_5, canceled_at=OCT_5, observed_at=OCT_5)
    standing, moves = follow(standing, [ended], _at(OCT_5), POLICY)
    assert standing is not None and [(m.month, m.active) for m in moves] == [("2026-10", -1)]
    assert follow(standing, [ended], _at(OCT_5 + 60), POLICY)[1] == []  # the same end again: nothing

    rejoined = [ended, _sub("s2", "active", NOV_2, plan_id="vip-yearly")]
    standing, moves = follow(standing, rejoined, _at(NOV_2), POLICY)
    assert standing is not None and standing.cohort == Cohort("2026-09", "vip-monthly", "usd")
    assert [(m.month, m.active, m.joined) for m in moves] == [("2026-11", 1, 0)]


def test_a_join_seen_only_after_it_ended_counts_its_months_and_its_end() -> None:
    ended = _sub("s1", "active", SEP_3)  # last seen active; its paid period (and leeway) ran out long ago
    standing, moves = follow(None, [ended], _at(SEP_3 + YEAR + 10 * 86400), POLICY)
    assert standing is not None and standing.active is False
    assert [(m.month, m.active, m.joined) for m in moves] == [("2026-09", 1, 1), ("2027-09", -1, 0)]


def test_active_at_each_month_end_is_the_sum_of_the_moves_up_to_it() -> None:
    sums = {("2026-09", "vip-monthly"): CohortSums(
        joined=2, active={"2026-09": 2, "2026-10": -1, "2026-11": 1}, money={"usd": (4995, 21500), "eur": (0, 900)},
    )}  # fmt: skip
    report = cohort_report("2026-09", "2026-09", "2026-12", sums)
    assert [(r.currency, r.active, r.fees, r.revenue) for r in report.data] == [
        ("eur", [2, 1, 2, 2], 0, 900),
        ("usd", [2, 1, 2, 2], 4995, 21500),
    ]
    assert cohort_report("2026-10", "2026-12", "2026-12", sums).data == []


def test_the_csv_keeps_a_cohort_plan_that_looks_like_a_formula_inert() -> None:
    sums = {("2026-09", "=cmd"): CohortSums(joined=1, active={"2026-09": 1}, money={"usd": (999, 0)})}
    text = cohorts_csv(cohort_report("2026-09", "2026-09", "2026-10", sums))
    assert text.splitlines() == [
        "cohort,plan_id,currency,joined,active,fees,revenue",
        "2026-09,'=cmd,usd,1,1 1,999,0",
    ]
    assert isinstance(cohort_report("2026-09", "2026-09", "2026-10", {}), CohortReport)


def test_a_pause_ends_the_standing_when_it_was_seen_and_the_unpause_restarts_it() -> None:
    standing, _ = follow(None, [_sub("s1", "active", SEP_3)], _at(SEP_3), POLICY)
    paused = msgspec.structs.replace(_sub("s1", "active", SEP_3, observed_at=OCT_5), pause_behavior="void")
    standing, moves = follow(standing, [paused], _at(OCT_5), POLICY)
    assert standing is not None and standing.active is False
    assert [(m.month, m.active, m.joined) for m in moves] == [("2026-10", -1, 0)]

    unpaused = _sub("s1", "active", SEP_3, observed_at=NOV_2)
    standing, moves = follow(standing, [unpaused], _at(NOV_2), POLICY)
    assert standing is not None and standing.active is True
    assert [(m.month, m.active, m.joined) for m in moves] == [("2026-11", 1, 0)]
