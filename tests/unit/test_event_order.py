"""Stripe delivers at least once and in any order: every order of a shopper's events, each delivered twice,
ends in the same membership, with each paid invoice accounted for once. The real use case
(`apply_stripe_event`) on the in-memory unit of work, with Stripe's current state read from a fake; one
HTTP case per scenario runs in `tests/integration/members/test_event_order.py`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib import clock
from chalicelib.domain.catalog import Cause, DonationRule, Plan
from chalicelib.domain.member import Member
from chalicelib.domain.membership import SubscriptionSnapshot, governing_subscription, perks_active
from chalicelib.payments.events import StripeEvent, Subscription, parse_event, snapshot_of
from chalicelib.services import members
from chalicelib.services.access import access_policy
from chalicelib.services.stripe_events import apply_stripe_event
from tests.memory_uow import InMemoryUnitOfWork, MemoryCatalog, Tables

T0 = 1_795_000_000  # 2026-11-19
MONTH = 30 * 86_400
CATALOG = MemoryCatalog(
    {"vip-monthly": Plan(plan_id="vip-monthly", name="VIP Monthly", amount=999, currency="usd", interval="month",
                         donation=DonationRule(order_bps=200, renewal_bps=1000))},
    {"general-fund": Cause(cause_id="general-fund", name="General Fund")},
)  # fmt: skip


@pytest.fixture(autouse=True)
def pinned_clock() -> Iterator[None]:
    clock.set_clock(lambda: datetime.fromtimestamp(T0 + 3600, UTC))
    yield
    clock.set_clock(None)


def _subscription(status: str, *, cancel: bool = False, ended_at: int | None = None) -> dict[str, Any]:
    price = {"id": "price_1", "lookup_key": "vip-monthly", "unit_amount": 999, "currency": "usd",
             "recurring": {"interval": "month"}}  # fmt: skip
    return {"id": "sub_1", "object": "subscription", "customer": "cus_1", "status": status, "created": T0,
            "items": {"data": [{"price": price, "current_period_start": T0, "current_period_end": T0 + MONTH}]},
            "cancel_at_period_end": cancel, "canceled_at": ended_at, "ended_at": ended_at,
            "metadata": {"customer_ref": "ada"}}  # fmt: skip


def _invoice(invoice_id: str, status: str = "paid") -> dict[str, Any]:
    return {"id": invoice_id, "object": "invoice", "customer": "cus_1", "currency": "usd",
            "amount_paid": 999 if status == "paid" else 0, "created": T0, "status_transitions": {"paid_at": T0},
            "parent": {"subscription_details": {"subscription": "sub_1", "metadata": {"customer_ref": "ada"}}}}  # fmt: skip


def _event(event_id: str, event_type: str, created: int, obj: dict[str, Any]) -> StripeEvent:
    body = {"id": event_id, "type": event_type, "created": created, "data": {"object": obj}}
    event = parse_event(json.dumps(body).encode())
    assert isinstance(event, StripeEvent)
    return event


class FakeStripe:
    """Stripe's current state of the subscription (what a re-read returns), and how often it was asked."""

    def __init__(self, current: dict[str, Any]) -> None:
        self.current = msgspec_subscription(current)
        self.reads = 0

    def retrieve_subscription(self, subscription_id: str, observed_at: float) -> SubscriptionSnapshot:
        self.reads += 1
        return snapshot_of(self.current, observed_at)


def msgspec_subscription(obj: dict[str, Any]) -> Subscription:
    event = _event("evt_read", "customer.subscription.updated", T0, obj)
    assert isinstance(event.object, Subscription)
    return event.object


# A checkout: the subscription is created incomplete and becomes active in the same second, the first
# invoice is paid, the checkout completes (Stripe stamps them all with one `created`).
CHECKOUT = (
    [
        _event("evt_1", "customer.subscription.created", T0, _subscription("incomplete")),
        _event("evt_2", "customer.subscription.updated", T0, _subscription("active")),
        _event("evt_3", "invoice.paid", T0, _invoice("in_1")),
        _event("evt_4", "checkout.session.completed", T0,
               {"id": "cs_1", "customer": "cus_1", "subscription": "sub_1", "metadata": {"customer_ref": "ada"}}),
    ],
    _subscription("active"),
)  # fmt: skip
# Then a cancellation at the period's end, and the end.
CANCELLATION = (
    [
        *CHECKOUT[0],
        _event("evt_5", "customer.subscription.updated", T0 + 60, _subscription("active", cancel=True)),
        _event("evt_6", "customer.subscription.deleted", T0 + MONTH,
               _subscription("canceled", cancel=True, ended_at=T0 + MONTH)),
        _event("evt_7", "invoice.payment_failed", T0 + MONTH, _invoice("in_2", "open")),
    ],
    _subscription("canceled", cancel=True, ended_at=T0 + MONTH),
)  # fmt: skip


def _deliver(events: list[StripeEvent], current: dict[str, Any]) -> tuple[Any, ...]:
    """Deliver the events to a shopper who started a checkout; what the shopper ends with."""
    tables = Tables()
    tables.members["ada"] = Member("ada", stripe_customer_id="cus_1", version=1)
    stripe = FakeStripe(current)
    for event in events:
        assert apply_stripe_event(event, InMemoryUnitOfWork(CATALOG, tables), stripe) in (
            "applied",
            "duplicate",
        )
    member = tables.members["ada"]
    [subscription] = member.subscriptions
    return (
        subscription.status, subscription.plan_id, subscription.current_period_end,
        subscription.cancel_at_period_end, member.paid_invoices, sorted(tables.entries), len(tables.fees),
    )  # fmt: skip


@pytest.mark.parametrize("scenario", [CHECKOUT, CANCELLATION], ids=["checkout", "cancellation"])
def test_in_order_delivery_ends_in_stripes_state_with_the_invoice_pledged_once(
    scenario: tuple[list[StripeEvent], dict[str, Any]],
) -> None:
    events, current = scenario
    outcome = _deliver(events, current)
    assert outcome[4:] == (["in_1"], ["pledge#invoice#in_1"], 1)
    assert outcome[0] == current["status"]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_every_order_with_every_event_delivered_twice_converges(data: st.DataObject) -> None:
    events, current = data.draw(st.sampled_from([CHECKOUT, CANCELLATION]))
    expected = _deliver(events, current)
    shuffled = data.draw(st.permutations(events))
    assert _deliver(shuffled + shuffled, current) == expected


# A dunning run: the renewal fails at the period's end (Stripe moves the period forward and the
# subscription is past_due), grace runs out with Stripe silent, and weeks later Stripe gives up.
def _past_due() -> dict[str, Any]:
    moved = _subscription("past_due")
    moved["items"]["data"][0].update(current_period_start=T0 + MONTH, current_period_end=T0 + 2 * MONTH)
    return moved


GIVE_UP = T0 + MONTH + 20 * 86_400
DUNNING = [
    *CHECKOUT[0],
    _event("evt_8", "invoice.payment_failed", T0 + MONTH, _invoice("in_2", "open")),
    _event("evt_9", "customer.subscription.updated", T0 + MONTH, _past_due()),
    _event("evt_10", "customer.subscription.deleted", GIVE_UP, _subscription("canceled", ended_at=GIVE_UP)),
]
# Reconcile visits (a write with nothing new from Stripe) may fall anywhere, grace's end included.
VISIT_TIMES = st.lists(st.integers(min_value=T0, max_value=GIVE_UP + 86_400), max_size=6)


def _visit(now: int) -> Any:
    def nothing_new(member: Member | None, _: Any) -> Member | None:
        return member

    return lambda uow: members.change_member("ada", nothing_new, datetime.fromtimestamp(now, UTC), uow)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_every_run_of_perks_told_ends_once_whatever_the_order_and_the_visits(data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(DUNNING + DUNNING))
    steps: list[tuple[int, Any]] = []
    at = T0
    for event in shuffled:
        at = max(at, event.created) + 60  # delivered after it happened, in the drawn order
        steps.append((at, event))
    steps += [(time, _visit(time)) for time in data.draw(VISIT_TIMES)]
    tables = Tables()
    tables.members["ada"] = Member("ada", stripe_customer_id="cus_1", version=1)
    stripe = FakeStripe(_subscription("canceled", ended_at=GIVE_UP))
    for time, step in sorted(steps, key=lambda s: s[0]):
        clock.set_clock(lambda time=time: datetime.fromtimestamp(time, UTC))
        uow = InMemoryUnitOfWork(CATALOG, tables)
        if isinstance(step, StripeEvent):
            apply_stripe_event(step, uow, stripe)
            continue
        step(uow)
        # A visit writes the member: what the events last told of perks is what the perks rule says now.
        told = [e.type for e in tables.outbox.values() if e.type in ("member.joined", "member.ended")]
        now = datetime.fromtimestamp(time, UTC)
        subscriptions = tables.members["ada"].subscriptions
        has_perks = perks_active(
            governing_subscription(subscriptions, now, access_policy()), now, access_policy()
        )
        assert has_perks == (told[-1:] == ["member.joined"])

    told = [e.type for e in tables.outbox.values() if e.type in ("member.joined", "member.ended")]
    # Perks started and ended in turn, and the canceled membership's last run was ended: one end per run.
    assert told == ["member.joined", "member.ended"] * (len(told) // 2)
    assert told.count("member.ended") <= 1
