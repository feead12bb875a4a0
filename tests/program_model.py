"""A straightforward recomputation of the program report from the raw sequence of orders, refunds and fees.

The service keeps pre-aggregated counters; this model keeps every fact and recomputes each figure the way
SPEC.md words it, with Decimal rounding, so the tests compare two independent computations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_ref: str
    currency: str
    amount: int
    placed_at: datetime
    member: bool
    member_discount: int = 0
    shipping: int = 0

    @property
    def month(self) -> str:
        return self.placed_at.strftime("%Y-%m")


@dataclass(frozen=True)
class Refund:
    order_id: str
    amount: int
    month: str


@dataclass(frozen=True)
class Fee:
    currency: str
    amount: int
    month: str


@dataclass
class ProgramModel:
    orders: list[Order] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    fees: list[Fee] = field(default_factory=list)
    # (month, currency) → net donations, as the donation report has them
    donations: dict[tuple[str, str], int] = field(default_factory=dict)

    def refunded(self, order_id: str, upto: int | None = None) -> int:
        refunds = [r for r in self.refunds if r.order_id == order_id]
        return sum(r.amount for r in refunds[: len(refunds) if upto is None else upto])

    def reversed_part(self, part: int, order: Order, refunded: int) -> int:
        return (
            int((Decimal(part) * refunded / order.amount).quantize(Decimal(1), ROUND_HALF_UP))
            if order.amount
            else 0
        )

    def saved(self, order: Order) -> tuple[int, int]:
        """(member discount, shipping) net of refunds."""
        refunded = self.refunded(order.order_id)
        return (
            order.member_discount - self.reversed_part(order.member_discount, order, refunded),
            order.shipping - self.reversed_part(order.shipping, order, refunded),
        )

    def _first(self, customer_ref: str) -> Order:
        return min(
            (o for o in self.orders if o.customer_ref == customer_ref),
            key=lambda o: (o.placed_at, o.order_id),
        )

    def _segment(self, months: set[str], currency: str, member: bool) -> dict[str, Any]:
        orders = [
            o for o in self.orders if o.month in months and o.currency == currency and o.member == member
        ]
        by_id = {o.order_id: o for o in self.orders}
        revenue = sum(o.amount for o in orders)
        # Refunds count in the month they happen, in the segment of their order.
        revenue -= sum(
            r.amount for r in self.refunds
            if r.month in months and by_id[r.order_id].currency == currency and by_id[r.order_id].member == member
        )  # fmt: skip
        customers = {o.customer_ref for o in orders}
        returning = {o.customer_ref for o in orders if self._first(o.customer_ref) != o}
        return {
            "customers": len(customers),
            "orders": len(orders),
            "revenue": revenue,
            "aov": _round(Decimal(revenue) / len(orders)) if orders else None,
            "orders_per_customer": _ratio(Decimal(len(orders)), Decimal(len(customers))),
            "returning_customers": len(returning),
            "returning_rate": _ratio(Decimal(len(returning)), Decimal(len(customers))),
        }

    def row(self, period: str, months: set[str], currency: str) -> dict[str, Any]:
        members = self._segment(months, currency, True)
        others = self._segment(months, currency, False)
        by_id = {o.order_id: o for o in self.orders}
        discount = sum(o.member_discount for o in self.orders if o.month in months and o.currency == currency)
        shipping = sum(o.shipping for o in self.orders if o.month in months and o.currency == currency)
        for order in self.orders:  # savings reversed in the month of each refund
            if order.currency != currency:
                continue
            refunds = [r for r in self.refunds if r.order_id == order.order_id]
            for index, refund in enumerate(refunds):
                if refund.month not in months:
                    continue
                before, after = self.refunded(order.order_id, index), self.refunded(order.order_id, index + 1)
                discount -= self.reversed_part(order.member_discount, order, after) - self.reversed_part(
                    order.member_discount, order, before
                )
                shipping -= self.reversed_part(order.shipping, order, after) - self.reversed_part(
                    order.shipping, order, before
                )
        del by_id
        fees = sum(f.amount for f in self.fees if f.month in months and f.currency == currency)
        donations = sum(v for (m, c), v in self.donations.items() if m in months and c == currency)

        def lift(key: str, scale: str | None = None) -> str | None:
            def value(segment: dict[str, Any]) -> Decimal | None:
                if scale is None:
                    return Decimal(segment["revenue"]) / segment["orders"] if segment["orders"] else None
                return Decimal(segment[key]) / segment[scale] if segment[scale] else None

            a, b = value(members), value(others)
            return None if a is None or b is None else _ratio(a, b)

        return {
            "period": period,
            "currency": currency,
            "members": members,
            "non_members": others,
            "lift": {
                "aov": lift("aov"),
                "orders_per_customer": lift("orders", "customers"),
                "returning_rate": lift("returning_customers", "customers"),
            },
            "fees": fees,
            "member_discount": discount,
            "shipping_waived": shipping,
            "donations": donations,
            "program_net": fees - discount - shipping - donations,
        }

    def report(self, months: list[str], currencies: list[str]) -> dict[str, Any]:
        data = [self.row(m, {m}, c) for c in currencies for m in months]
        data.sort(key=lambda r: (r["period"], r["currency"]))
        totals = [self.row(f"{months[0]}..{months[-1]}", set(months), c) for c in currencies]
        return {"data": data, "totals": totals}

    def value(self, customer_ref: str, currency: str) -> int:
        """What a member saved in one currency, net of refunds."""
        return sum(
            sum(self.saved(o))
            for o in self.orders
            if o.customer_ref == customer_ref and o.currency == currency
        )


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), ROUND_HALF_UP))


def _ratio(numerator: Decimal, denominator: Decimal) -> str | None:
    if denominator == 0:
        return None
    text = str((numerator / denominator).quantize(Decimal("0.0001"), ROUND_HALF_UP))
    return "0.0000" if text == "-0.0000" else text
