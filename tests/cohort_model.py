"""A straightforward recomputation of the cohort report from the raw sequence of memberships, fees and orders.

The service keeps running counters as memberships start and end; this model keeps every fact and answers
the report's questions directly: who first paid when and on which plan, who had perks at each month end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.membership_report import months_between


def _month(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def _end_of(month: str) -> datetime:
    year, number = int(month[:4]), int(month[5:7])
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return datetime(year, number, 1, tzinfo=UTC)


@dataclass
class Shopper:
    # (perks started, perks ended or None), in time order
    spans: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    plan_id: str | None = None  # of the first paid membership
    fees: int = 0
    revenue: int = 0

    @property
    def joined(self) -> datetime | None:
        return self.spans[0][0] if self.spans else None

    def active_at(self, moment: datetime) -> bool:
        return any(start < moment and (end is None or moment <= end) for start, end in self.spans)


@dataclass
class CohortModel:
    shoppers: dict[str, Shopper] = field(default_factory=dict)
    # order id → (shopper, amount, counted in a cohort)
    orders: dict[str, tuple[str, int, bool]] = field(default_factory=dict)

    def shopper(self, customer_ref: str) -> Shopper:
        return self.shoppers.setdefault(customer_ref, Shopper())

    def start(self, customer_ref: str, plan_id: str, at: datetime) -> None:
        shopper = self.shopper(customer_ref)
        shopper.plan_id = shopper.plan_id or plan_id
        shopper.spans.append((at, None))

    def end(self, customer_ref: str, at: datetime) -> None:
        spans = self.shopper(customer_ref).spans
        spans[-1] = (spans[-1][0], at)

    def fee(self, customer_ref: str, amount: int) -> None:
        self.shopper(customer_ref).fees += amount

    def order(self, order_id: str, customer_ref: str, amount: int) -> None:
        shopper = self.shopper(customer_ref)
        counted = shopper.joined is not None  # revenue counts from the first paid membership on
        self.orders[order_id] = (customer_ref, amount, counted)
        if counted:
            shopper.revenue += amount

    def refund(self, order_id: str, amount: int) -> None:
        customer_ref, _, counted = self.orders[order_id]
        if counted:
            self.shopper(customer_ref).revenue -= amount

    def report(self, first: str, last: str, current: str) -> list[dict[str, Any]]:
        groups: dict[tuple[str, str], list[Shopper]] = {}
        for shopper in self.shoppers.values():
            if shopper.joined is not None and shopper.plan_id is not None:
                groups.setdefault((_month(shopper.joined), shopper.plan_id), []).append(shopper)
        rows = []
        for (month, plan_id), members in sorted(groups.items()):
            if not first <= month <= last:
                continue
            rows.append({
                "cohort": month, "plan_id": plan_id, "currency": "usd", "joined": len(members),
                "active": [sum(s.active_at(_end_of(m)) for s in members) for m in months_between(month, current)],
                "fees": sum(s.fees for s in members), "revenue": sum(s.revenue for s in members),
            })  # fmt: skip
        return rows
