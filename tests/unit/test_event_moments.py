"""Which outbound events a fact makes, from the shopper's standing before and after it (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import events as ev
from chalicelib.domain.events import Fact, InvoiceData, Recap, Standing, membership_moments, standing_of
from chalicelib.domain.membership import AccessPolicy, SubscriptionSnapshot

POLICY = AccessPolicy(renewal_leeway=timedelta(hours=48), grace=timedelta(days=3))
NOW = datetime(2026, 11, 15, tzinfo=UTC)
START = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
END = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
# A renewal failed a day ago: grace runs until two days from now.
DUNNING = int((NOW - timedelta(days=1)).timestamp())
INVOICE = InvoiceData(id="in_1", amount=999, currency="usd")


def sub(status: str, **fields: object) -> SubscriptionSnapshot:
    values: dict[str, object] = {
        "subscription_id": "sub_1",
        "status": status,
        "plan_id": "vip-monthly",
        "current_period_start": START,
        "current_period_end": END,
        "created": START,
        "past_due_since": DUNNING if status == "past_due" else None,
    }
    values.update(fields)
    return SubscriptionSnapshot(**values)  # type: ignore[arg-type]


def standing(*subs: SubscriptionSnapshot, cause_id: str | None = None, **kw: object) -> Standing:
    return standing_of(list(subs), cause_id, NOW, POLICY, **kw)  # type: ignore[arg-type]


def types(before: Standing | None, after: Standing, fact: Fact = Fact()) -> list[str]:
    return [moment.type for moment in membership_moments(before, after, fact)]


def test_first_paid_subscription_is_a_join() -> None:
    assert types(None, standing(sub("active"))) == ["member.joined"]
    assert types(standing(sub("incomplete")), standing(sub("active"))) == ["member.joined"]


def test_rejoining_after_an_end_is_a_join() -> None:
    ended = standing(sub("canceled", ended_at=START))
    rejoined = standing(
        sub("canceled", ended_at=START), sub("active", subscription_id="sub_2", created=START + 1)
    )
    assert types(ended, rejoined) == ["member.joined"]


def test_a_trial_start_is_a_join() -> None:
    assert types(None, standing(sub("trialing"))) == ["member.joined"]


def test_a_paid_renewal_is_renewed_with_its_invoice_and_recap() -> None:
    recap = Recap(saved=1200, fees_paid=999, donated=100, currency="usd")
    moments = membership_moments(
        standing(sub("active")),
        standing(sub("active")),
        Fact(invoice_paid=INVOICE, renewal=True, recap=recap),
    )
    assert [m.type for m in moments] == ["member.renewed"]
    assert moments[0].extra == ev.Renewed(invoice=INVOICE, recap=recap)


def test_the_first_invoice_of_a_join_is_no_renewal() -> None:
    assert types(None, standing(sub("active")), Fact(invoice_paid=INVOICE)) == ["member.joined"]


def test_a_failed_renewal_names_the_invoice_and_the_end_of_grace() -> None:
    after = standing(sub("past_due"))
    moments = membership_moments(standing(sub("active")), after, Fact(invoice_failed=INVOICE))
    assert [m.type for m in moments] == ["member.payment_failed"]
    assert moments[0].extra == ev.PaymentFailed(invoice=INVOICE, grace_until=after.grace_until)
    assert after.grace_until == NOW + timedelta(days=2)


def test_a_payment_after_a_failure_is_a_recovery_and_a_renewal() -> None:
    fact = Fact(invoice_paid=INVOICE, renewal=True)
    assert types(standing(sub("past_due")), standing(sub("active")), fact) == [
        "member.payment_recovered",
        "member.renewed",
    ]


def test_a_recovery_after_grace_ran_out_is_not_a_new_join() -> None:
    before = standing(sub("past_due", past_due_since=START - 10 * 86400))
    assert not before.perks_active
    assert types(before, standing(sub("active")), Fact(invoice_paid=INVOICE)) == ["member.payment_recovered"]


def test_cancel_at_period_end_is_scheduled_then_resumed() -> None:
    active, cancelling = standing(sub("active")), standing(sub("active", cancel_at_period_end=True))
    moments = membership_moments(active, cancelling)
    assert [m.type for m in moments] == ["member.cancellation_scheduled"]
    assert moments[0].extra == ev.CancellationScheduled(ends_at=datetime.fromtimestamp(END, UTC))
    assert types(cancelling, active) == ["member.resumed"]


def test_a_plan_switch_names_the_previous_plan() -> None:
    moments = membership_moments(standing(sub("active")), standing(sub("active", plan_id="vip-yearly")))
    assert [(m.type, m.extra) for m in moments] == [
        ("member.plan_changed", ev.PlanChanged(previous_plan_id="vip-monthly"))
    ]


def test_a_new_cause_names_the_previous_one() -> None:
    moments = membership_moments(
        standing(sub("active"), cause_id="ocean"), standing(sub("active"), cause_id="meals")
    )
    assert [(m.type, m.extra) for m in moments] == [
        ("member.cause_changed", ev.CauseChanged(previous_cause_id="ocean"))
    ]


def test_cancellation_now_ends_the_membership_as_canceled() -> None:
    moments = membership_moments(standing(sub("active")), standing(sub("canceled", ended_at=START + 5)))
    assert [(m.type, m.extra) for m in moments] == [("member.ended", ev.Ended(reason="canceled"))]


def test_dunning_that_gives_up_ends_as_unpaid() -> None:
    assert [m.extra for m in membership_moments(standing(sub("past_due")), standing(sub("unpaid")))] == [
        ev.Ended(reason="unpaid")
    ]


LAPSED = sub("past_due", past_due_since=START - 10 * 86400)


def test_the_first_write_after_perks_lapse_with_the_clock_is_member_ended_lapsed() -> None:
    now = standing(LAPSED)
    assert not now.perks_active
    # Stripe says nothing new (a reconcile visit): perks were active as last written, gone now.
    moments = membership_moments(ev.as_last_written(now, perks_written=True), now)
    assert [(m.type, m.extra) for m in moments] == [("member.ended", ev.Ended(reason="lapsed"))]


def test_a_lapse_already_told_makes_no_second_end() -> None:
    now = standing(LAPSED)
    told = ev.as_last_written(now, perks_written=False)
    assert types(told, now) == []
    # Stripe closing the lapsed membership later (canceled, or unpaid) ends nothing more.
    assert types(told, standing(sub("canceled", ended_at=START))) == []
    assert types(told, standing(sub("unpaid"))) == []


def test_an_unpaid_end_is_not_ended_again_when_stripe_cancels() -> None:
    unpaid = standing(sub("unpaid"))
    assert types(standing(sub("past_due")), unpaid) == ["member.ended"]
    told = ev.as_last_written(unpaid, perks_written=False)
    assert types(told, standing(sub("canceled", ended_at=START))) == []


def test_a_lapse_not_yet_told_ends_with_the_reason_of_the_fact_that_finds_it() -> None:
    untold = ev.as_last_written(standing(LAPSED), perks_written=True)
    assert [m.extra for m in membership_moments(untold, standing(sub("canceled", ended_at=START)))] == [
        ev.Ended(reason="canceled")
    ]
    # Paid before any write saw the lapse: the shopper was never told perks stopped.
    assert types(untold, standing(sub("active")), Fact(invoice_paid=INVOICE)) == ["member.payment_recovered"]


def test_after_a_told_lapse_a_payment_is_a_recovery() -> None:
    told = ev.as_last_written(standing(LAPSED), perks_written=False)
    assert types(told, standing(sub("active")), Fact(invoice_paid=INVOICE)) == ["member.payment_recovered"]


def test_perks_never_start_by_the_clock() -> None:
    active = standing(sub("active"))
    assert ev.as_last_written(active, perks_written=False) == active


def test_a_member_written_before_the_mark_counts_as_told_of_perks_unless_stripe_stopped_them() -> None:
    assert ev.as_last_written(standing(LAPSED), perks_written=None).perks_active
    ended_by_period = standing(sub("active", current_period_end=START))
    assert ev.as_last_written(ended_by_period, perks_written=None).perks_active
    for stopped in (sub("unpaid"), sub("paused"), sub("active", pause_behavior="void"), sub("canceled")):
        assert not ev.as_last_written(standing(stopped), perks_written=None).perks_active


def test_a_paused_membership_ends_when_stripe_closes_it() -> None:
    paused = standing(sub("active", pause_behavior="void"))
    assert types(paused, standing(sub("canceled", ended_at=START, pause_behavior="void"))) == ["member.ended"]


def test_a_pause_stops_perks_and_an_unpause_brings_them_back() -> None:
    until = datetime(2027, 1, 1, tzinfo=UTC)
    paused = standing(sub("active"), paused_until=until)
    moments = membership_moments(standing(sub("active")), paused)
    assert [(m.type, m.extra) for m in moments] == [("member.paused", ev.Paused(until=until))]
    assert types(paused, standing(sub("active"))) == ["member.unpaused"]
    assert types(standing(sub("active")), standing(sub("paused"))) == ["member.paused"]


def test_nothing_changed_makes_no_event() -> None:
    assert types(standing(sub("active")), standing(sub("active"))) == []


STATUSES = st.sampled_from(
    ["none", "incomplete", "trialing", "active", "past_due", "unpaid", "canceled", "paused"]
)
STANDINGS = st.builds(
    Standing,
    status=STATUSES,
    plan_id=st.sampled_from([None, "vip-monthly", "vip-yearly"]),
    perks_active=st.booleans(),
    cancel_at_period_end=st.booleans(),
    paused=st.booleans(),
    cause_id=st.sampled_from([None, "ocean", "meals"]),
)
FACTS = st.builds(
    Fact,
    invoice_paid=st.sampled_from([None, INVOICE]),
    renewal=st.booleans(),
    invoice_failed=st.sampled_from([None, INVOICE]),
)


@given(STANDINGS, FACTS)
def test_a_fact_that_changes_nothing_makes_only_its_invoice_events(state: Standing, fact: Fact) -> None:
    made = set(types(state, state, fact))
    assert made <= {"member.renewed", "member.payment_failed", "member.payment_recovered"}


@given(st.one_of(st.none(), STANDINGS), STANDINGS, FACTS)
def test_every_moment_is_in_the_catalog_once_with_the_extra_data_of_its_type(
    before: Standing | None, after: Standing, fact: Fact
) -> None:
    moments = membership_moments(before, after, fact)
    assert len({m.type for m in moments}) == len(moments)
    for moment in moments:
        expected = ev.EXTRA_DATA[moment.type]
        assert (moment.extra is None) if expected is None else isinstance(moment.extra, expected)
    made = {m.type for m in moments}
    # Perks cannot both start and stop in one fact, and a join is never also an unpause.
    assert not ({"member.joined", "member.unpaused"} & made and {"member.ended", "member.paused"} & made)
    assert not {"member.joined", "member.unpaused"} <= made


@given(st.one_of(st.none(), STANDINGS), STANDINGS)
def test_perks_starting_always_announce_themselves(before: Standing | None, after: Standing) -> None:
    was = before or Standing()
    made = set(types(before, after))
    if (
        after.perks_active
        and not was.perks_active
        and was.status not in ("past_due", "unpaid", "trialing", "active")
    ):
        assert made & {"member.joined", "member.unpaused"}
    if was.perks_active and not after.perks_active:
        assert made & {"member.ended", "member.paused"}


def test_event_ids_sort_by_creation_and_carry_their_time() -> None:
    first, second = ev.new_event_id(NOW), ev.new_event_id(NOW + timedelta(milliseconds=1))
    assert first < second and first.startswith("evt_")
    assert ev.created_millis(first) == int(NOW.timestamp() * 1000)


def test_the_event_carries_the_membership_and_the_extra_data() -> None:
    moment = ev.Moment(type="member.ended", extra=ev.Ended(reason="canceled"))
    event = ev.event_of(
        moment, event_id="evt_1", created_at=NOW, customer_ref="shopper-1", sequence=3,
        membership={"customer_ref": "shopper-1", "status": "canceled"},
    )  # fmt: skip
    body = msgspec.json.decode(msgspec.json.encode(event))
    assert body == {
        "id": "evt_1", "type": "member.ended", "created_at": "2026-11-15T00:00:00Z", "customer_ref": "shopper-1",
        "sequence": 3, "data": {"membership": {"customer_ref": "shopper-1", "status": "canceled"}, "reason": "canceled"},
    }  # fmt: skip


def test_unknown_types_are_named() -> None:
    assert ev.unknown_types(["member.joined", "*", "member.exploded"]) == ["member.exploded"]
    assert ev.subscribed(["*"], "gift.purchased") and not ev.subscribed(["member.joined"], "member.ended")


def test_the_events_of_one_fact_continue_the_shoppers_sequence() -> None:
    events = ev.events_for_fact(
        standing(sub("past_due")), standing(sub("active")), Fact(invoice_paid=INVOICE, renewal=True),
        customer_ref="shopper-1", last_sequence=4, now=NOW, membership={"status": "active"},
    )  # fmt: skip
    assert [(e.type, e.sequence) for e in events] == [("member.payment_recovered", 5), ("member.renewed", 6)]
    assert len({e.id for e in events}) == 2
    assert all(e.data["membership"] == {"status": "active"} and e.created_at == NOW for e in events)
