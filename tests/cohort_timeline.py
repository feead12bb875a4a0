"""A membership timeline driven through the real use cases, and the cohort model's view of it: shared by the
in-memory property test (`tests/unit`) and the HTTP one (`tests/integration/program`)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta

from chalicelib import clock
from chalicelib.domain.member import Member, PaidInvoice
from chalicelib.domain.membership import SubscriptionSnapshot
from chalicelib.services import donations, members, stripe_events
from chalicelib.services.donations import OrderIn, RefundIn
from chalicelib.services.unit_of_work import UnitOfWork
from tests.cohort_model import CohortModel

FEE = 999  # vip-monthly's price
YEARLY = 9900
PERIOD = timedelta(days=400)  # no period runs out unnoticed: perks end only when a subscription ends
PRICES = {"vip-monthly": FEE, "vip-yearly": YEARLY}


class Timeline:
    """Memberships, fees, orders and refunds at chosen moments, through the service, and the model's view."""

    def __init__(self, unit_of_work: Callable[[], UnitOfWork]) -> None:
        self.unit_of_work = unit_of_work
        self.model = CohortModel()
        self.ids = itertools.count()
        self.live: dict[str, SubscriptionSnapshot] = {}
        self.seen: list[tuple[str, SubscriptionSnapshot]] = []
        self.orders: dict[str, int] = {}

    def _change(self, customer_ref: str, at: datetime, snapshot: SubscriptionSnapshot | None,
                invoice: PaidInvoice | None = None) -> None:  # fmt: skip
        clock.set_clock(lambda: at)

        def decide(current: Member | None, change: members.MemberChange) -> Member:
            member = current or Member(customer_ref=customer_ref)
            member.observe([snapshot] if snapshot else [])
            if invoice is not None:
                stripe_events.account_for_invoice(member, invoice, change)
            return member

        members.change_member(customer_ref, decide, at, self.unit_of_work())

    def _paid(self, customer_ref: str, at: datetime, snapshot: SubscriptionSnapshot) -> None:
        amount = PRICES[snapshot.plan_id or ""]
        invoice = PaidInvoice(f"in_{next(self.ids)}", snapshot.subscription_id, amount, "usd", at)
        self._change(customer_ref, at, snapshot, invoice)
        self._change(customer_ref, at, None, invoice)  # a repeated invoice.paid: counted once
        self.seen.append((customer_ref, snapshot))
        self.model.fee(customer_ref, amount)

    def join(self, customer_ref: str, plan_id: str, at: datetime) -> None:
        epoch = int(at.timestamp())
        snapshot = SubscriptionSnapshot(
            subscription_id=f"sub_{next(self.ids)}", status="active", plan_id=plan_id, currency="usd",
            unit_amount=PRICES[plan_id], interval="month", current_period_start=epoch,
            current_period_end=epoch + int(PERIOD.total_seconds()), created=epoch, observed_at=epoch,
        )  # fmt: skip
        self.live[customer_ref] = snapshot
        self.model.start(customer_ref, plan_id, at)
        self._paid(customer_ref, at, snapshot)

    def renew(self, customer_ref: str, at: datetime) -> None:
        epoch = int(at.timestamp())
        snapshot = self.live[customer_ref]
        renewed = SubscriptionSnapshot(**{
            **{f: getattr(snapshot, f) for f in snapshot.__struct_fields__},
            "current_period_start": epoch, "current_period_end": epoch + int(PERIOD.total_seconds()),
            "observed_at": epoch,
        })  # fmt: skip
        self.live[customer_ref] = renewed
        self._paid(customer_ref, at, renewed)

    def cancel(self, customer_ref: str, at: datetime) -> None:
        epoch = int(at.timestamp())
        snapshot = self.live.pop(customer_ref)
        ended = SubscriptionSnapshot(**{
            **{f: getattr(snapshot, f) for f in snapshot.__struct_fields__},
            "status": "canceled", "canceled_at": epoch, "ended_at": epoch, "observed_at": epoch,
        })  # fmt: skip
        self._change(customer_ref, at, ended)
        self.seen.append((customer_ref, ended))
        self.model.end(customer_ref, at)

    def replay(self, at: datetime) -> None:
        """A late, repeated delivery of an earlier state: older than what is stored, so nothing changes."""
        if self.seen:
            customer_ref, snapshot = self.seen[len(self.seen) // 2]
            self._change(customer_ref, at, snapshot)

    def order(self, customer_ref: str, amount: int, at: datetime) -> str:
        clock.set_clock(lambda: at)
        order_id = f"o-{next(self.ids)}"
        donations.record_order(OrderIn(order_id=order_id, customer_ref=customer_ref, currency="usd",
                                       amount=amount, placed_at=at), self.unit_of_work())  # fmt: skip
        self.orders[order_id] = amount
        self.model.order(order_id, customer_ref, amount)
        return order_id

    def refund(self, at: datetime, order_id: str | None = None, part: int | None = None) -> None:
        """Refund `part` of the order (default: half of the latest order with something left to refund)."""
        refundable = [(o, a) for o, a in self.orders.items() if a > 1 and order_id in (None, o)]
        if not refundable:
            return
        clock.set_clock(lambda: at)
        order_id, amount = refundable[-1]
        part = part or amount // 2
        donations.record_refund(
            order_id, RefundIn(refund_id=f"r-{next(self.ids)}", amount=part), self.unit_of_work()
        )
        self.orders[order_id] = amount - part
        self.model.refund(order_id, part)


Step = tuple[str, str, str, int, int]  # (shopper, action, plan, days after the previous step, amount)


def play(timeline: Timeline, steps: list[Step], start: datetime, suffix: str = "") -> None:
    """Play the steps from `start`: join, renew, cancel, order, refund or replay, each a later moment."""
    at = start
    for name, action, plan_id, days, amount in steps:
        at += timedelta(days=days, minutes=7)
        customer_ref = f"{name}{suffix}"
        live = customer_ref in timeline.live
        if action == "join" and not live:
            timeline.join(customer_ref, plan_id, at)
        elif action == "renew" and live:
            timeline.renew(customer_ref, at)
        elif action == "cancel" and live:
            timeline.cancel(customer_ref, at)
        elif action in ("order", "join", "renew", "cancel"):
            timeline.order(customer_ref, amount, at)
        elif action == "refund":
            timeline.refund(at)
        else:
            timeline.replay(at)
