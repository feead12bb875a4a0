"""Outbound events committed by the member use case itself (`services.members.change_member`), on the
in-memory unit of work: the standing before and after each change, the shopper's gapless sequence on the
member, recaps from period marks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock
from chalicelib.domain.catalog import Cause, FreeShipping, MemberDiscount, Perks, Plan
from chalicelib.domain.events import (
    MEMBER_CAUSE_CHANGED,
    MEMBER_JOINED,
    MEMBER_PAUSED,
    Fact,
    InvoiceData,
    Standing,
    events_for_fact,
    standing_of,
)
from chalicelib.domain.member import Member, ValueFigures
from chalicelib.domain.membership import AccessPolicy, SubscriptionSnapshot
from chalicelib.services import members
from chalicelib.settings import settings
from tests.memory_uow import InMemoryUnitOfWork, MemoryCatalog

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
POLICY = AccessPolicy(renewal_leeway=timedelta(hours=48), grace=timedelta(days=3))
PLAN = Plan(plan_id="vip-monthly", name="VIP", amount=999, currency="usd", interval="month",
            perks=Perks(free_shipping=FreeShipping(), member_discount=MemberDiscount(10)))  # fmt: skip
ACTIVE = SubscriptionSnapshot(
    subscription_id="sub_1", status="active", plan_id="vip-monthly", current_period_start=0,
    current_period_end=2_000_000_000, created=1, observed_at=1.0,
)  # fmt: skip


@pytest.fixture(autouse=True)
def pinned_clock() -> Iterator[None]:
    clock.set_clock(lambda: NOW)
    yield
    clock.set_clock(None)


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    catalog = MemoryCatalog({"vip-monthly": PLAN}, {c: Cause(cause_id=c, name=c) for c in ("a", "b", "c")})
    return InMemoryUnitOfWork(catalog)


def choose(cause_id: str) -> members.Decide:
    def decide(member: Member | None, _: members.MemberChange) -> Member | None:
        if member is not None:
            member.cause_id = cause_id
        return member

    return decide


def join(member: Member | None, _: members.MemberChange) -> Member:
    joined = member or Member("ada")
    joined.observe([ACTIVE])
    return joined


def test_each_change_commits_its_events_numbered_after_the_members_last_sequence(
    uow: InMemoryUnitOfWork,
) -> None:
    members.change_member("ada", join, NOW, uow)
    members.change_member("ada", choose("a"), NOW, uow)
    members.change_member("ada", choose("a"), NOW, uow)  # changes nothing: no event
    members.change_member("ada", choose("b"), NOW, uow)

    events = list(uow.tables.outbox.values())
    assert [(e.type, e.sequence) for e in events] == [
        (MEMBER_JOINED, 1), (MEMBER_CAUSE_CHANGED, 2), (MEMBER_CAUSE_CHANGED, 3),
    ]  # fmt: skip
    assert uow.tables.members["ada"].last_sequence == 3
    assert events[2].data["previous_cause_id"] == "a"
    assert events[2].data["membership"]["cause_id"] == "b"
    assert events[0].data["membership"]["perks_active"] is True


def test_a_lost_race_decides_again_and_numbers_after_the_winner(uow: InMemoryUnitOfWork) -> None:
    members.change_member("ada", join, NOW, uow)
    # Another writer commits its own change between this change's load and its commit.
    other = InMemoryUnitOfWork(uow.catalog, uow.tables)
    uow.before_commit.append(lambda: members.change_member("ada", choose("c"), NOW, other) and None)

    members.change_member("ada", choose("b"), NOW, uow)

    events = list(uow.tables.outbox.values())
    default = settings.default_cause_id
    assert [(e.sequence, e.data.get("previous_cause_id")) for e in events] == [
        (1, None),
        (2, default),
        (3, "c"),
    ]


def test_a_fact_that_writes_nothing_has_no_event(uow: InMemoryUnitOfWork) -> None:
    assert members.change_member("nobody", choose("a"), NOW, uow) is None
    assert uow.tables.outbox == {}


def test_a_pause_without_an_end_is_paused_not_ended() -> None:
    before = standing_of([ACTIVE], None, NOW, POLICY)
    paused = SubscriptionSnapshot(**{**_fields(ACTIVE), "pause_behavior": "void"})  # type: ignore[arg-type]
    after = standing_of([paused], None, NOW, POLICY)
    (event,) = events_for_fact(before, after, customer_ref="ada", last_sequence=4, now=NOW, membership=None)
    assert (event.type, event.sequence, event.data["until"]) == (MEMBER_PAUSED, 5, None)


def _fields(snapshot: SubscriptionSnapshot) -> dict[str, object]:
    return {name: getattr(snapshot, name) for name in snapshot.__struct_fields__}


def test_one_facts_events_sort_in_their_order() -> None:
    before = Standing(status="past_due", plan_id="vip-monthly", cause_id="a")
    after = standing_of([ACTIVE], "a", NOW, POLICY)
    paid = InvoiceData(id="in_1", amount=999, currency="usd")
    events = events_for_fact(before, after, Fact(invoice_paid=paid, renewal=True), customer_ref="ada",
                             last_sequence=0, now=NOW, membership=None)  # fmt: skip
    assert len(events) >= 2
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))


def test_a_recap_is_the_figures_now_less_the_mark_of_the_periods_start() -> None:
    member = Member("ada")
    at_join = {"usd": ValueFigures(saved=0, fees_paid=0, donated=0)}
    assert member.close_period("usd", at_join).fees_paid == 0
    at_renewal = {"usd": ValueFigures(saved=1_500, fees_paid=999, donated=300)}
    ended = member.close_period("usd", at_renewal)
    assert (ended.saved, ended.fees_paid, ended.donated, ended.currency) == (1_500, 999, 300, "usd")
    so_far = member.recap("usd", {"usd": ValueFigures(saved=1_600, fees_paid=1_998, donated=400)})
    assert (so_far.saved, so_far.fees_paid, so_far.donated) == (100, 999, 100)
    assert member.period_marks == at_renewal


# A renewal failed a day before NOW: grace (3 days) runs out two days after NOW; Stripe stays silent.
DUNNING_START = int(NOW.timestamp()) - 86_400
GRACE_END = datetime.fromtimestamp(DUNNING_START, UTC) + POLICY.grace
PAST_DUE = SubscriptionSnapshot(**{**_fields(ACTIVE), "status": "past_due", "current_period_start": DUNNING_START,
                                   "past_due_since": DUNNING_START, "observed_at": 2.0})  # type: ignore[arg-type]  # fmt: skip
CANCELED = SubscriptionSnapshot(**{**_fields(PAST_DUE), "status": "canceled", "past_due_since": None,
                                   "ended_at": DUNNING_START + 30 * 86_400, "observed_at": 3.0})  # type: ignore[arg-type]  # fmt: skip


def observe(*snapshots: SubscriptionSnapshot) -> members.Decide:
    """A write that folds in what Stripe says (nothing new: a reconcile visit that found no change)."""

    def decide(member: Member | None, _: members.MemberChange) -> Member | None:
        if member is not None:
            member.observe(list(snapshots))
        return member

    return decide


def types_of(uow: InMemoryUnitOfWork) -> list[tuple[str, int | None, str | None]]:
    return [(e.type, e.sequence, e.data.get("reason")) for e in uow.tables.outbox.values()]


@pytest.fixture
def in_dunning(uow: InMemoryUnitOfWork) -> InMemoryUnitOfWork:
    members.change_member("ada", join, NOW, uow)
    members.change_member("ada", observe(PAST_DUE), NOW, uow)
    assert uow.tables.members["ada"].perks_written is True
    return uow


def test_the_first_write_after_grace_runs_out_ends_the_membership_as_lapsed(
    in_dunning: InMemoryUnitOfWork,
) -> None:
    after_grace = GRACE_END + timedelta(minutes=5)
    members.change_member("ada", observe(), after_grace, in_dunning)

    assert types_of(in_dunning)[-1] == ("member.ended", 2, "lapsed")
    ended = list(in_dunning.tables.outbox.values())[-1]
    assert (ended.data["membership"]["status"], ended.data["membership"]["perks_active"]) == (
        "past_due",
        False,
    )
    assert in_dunning.tables.members["ada"].perks_written is False
    # The cohort counters stop counting the shopper active at that same write.
    assert [move.active for move in in_dunning.tables.cohort_moves] == [1, -1]


def test_a_lapse_is_told_once_whatever_comes_after(in_dunning: InMemoryUnitOfWork) -> None:
    later = GRACE_END + timedelta(hours=1)
    members.change_member("ada", observe(), later, in_dunning)
    members.change_member("ada", observe(), later + timedelta(hours=1), in_dunning)  # the next visit
    members.change_member("ada", observe(CANCELED), later + timedelta(days=20), in_dunning)  # Stripe gives up

    assert [t for t in types_of(in_dunning) if t[0] == "member.ended"] == [("member.ended", 2, "lapsed")]
    assert in_dunning.tables.members["ada"].last_sequence == 2


def test_stripe_closing_a_lapse_no_write_saw_is_the_one_end_with_stripes_reason(
    in_dunning: InMemoryUnitOfWork,
) -> None:
    members.change_member("ada", observe(CANCELED), GRACE_END + timedelta(days=20), in_dunning)

    assert types_of(in_dunning)[1:] == [("member.ended", 2, "canceled")]


def test_a_payment_after_the_told_lapse_is_a_recovery(in_dunning: InMemoryUnitOfWork) -> None:
    members.change_member("ada", observe(), GRACE_END, in_dunning)
    paid = SubscriptionSnapshot(**{**_fields(ACTIVE), "observed_at": 4.0})  # type: ignore[arg-type]
    invoice = InvoiceData(id="in_2", amount=999, currency="usd")

    def pay(member: Member | None, change: members.MemberChange) -> Member | None:
        change.note(Fact(invoice_paid=invoice))
        return observe(paid)(member, change)

    members.change_member("ada", pay, GRACE_END + timedelta(days=1), in_dunning)

    assert [t[0] for t in types_of(in_dunning)] == [
        "member.joined",
        "member.ended",
        "member.payment_recovered",
    ]
    assert in_dunning.tables.members["ada"].perks_written is True


def test_reconciliation_is_due_at_the_moment_grace_ends(uow: InMemoryUnitOfWork) -> None:
    members.change_member("ada", join, NOW, uow)
    members.change_member("ada", observe(PAST_DUE), GRACE_END - timedelta(minutes=10), uow)

    assert uow.tables.members["ada"].reconcile_at == int(GRACE_END.timestamp())
