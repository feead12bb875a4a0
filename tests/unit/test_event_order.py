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
from chalicelib.domain.membership import SubscriptionSnapshot
from chalicelib.payments.events import StripeEvent, Subscription, parse_event, snapshot_of
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
