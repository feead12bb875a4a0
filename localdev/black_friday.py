"""Black Friday as a workload model: which DynamoDB items and partition keys take its writes.

The mix: member orders (80 % of them from members of one cause), partial refunds of one order in ten, a
renewal now and then and a payout to every cause, recorded through the service layer in-process against
the local DynamoDB with every write request recorded (`localdev.dynamodb_calls`). What it measures:

- the hottest single item and the hottest partition key (tables and indexes), in writes per order:
  at 1,000 orders/s, 0.10 writes per order is 100 writes/s on that item or key;
- per index, the share of its items under its busiest partition key.

Used by `tests/integration/donations/test_black_friday_workload.py` (which asserts the bounds) and
`make bench` (which prints the figures). Local DynamoDB cannot show throttling or transaction conflicts;
docs/scale.md turns these counts into DynamoDB's published limits.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from localdev.dynamodb_calls import ItemWrite, key_schemas, recording_dynamodb_writes
from localdev.stripe_emulator.signing import sign_payload

HOT_CAUSE = "clean-water"
CAUSES = (HOT_CAUSE, "school-meals", "reforestation", "ocean-cleanup", "animal-rescue")
PLAN_ID = "peak-vip"
PLAN = {
    "name": "Peak VIP", "amount": 999, "currency": "usd", "interval": "month",
    "perks": {"free_shipping": None, "member_discount": {"percent": 10}, "early_access": None},
    "donation": {"order_bps": 200, "renewal_bps": 1000},
}  # fmt: skip


@dataclass
class Figures:
    orders: int
    refunds: int
    renewals: int
    disbursements: int
    writes: int
    hottest_item: tuple[str, float]  # (item, writes per order)
    hottest_partition: tuple[str, float]  # (table or index + partition key, writes per order)
    index_shares: dict[str, tuple[str, float]] = field(default_factory=dict)  # index → (key, share of items)
    largest_put: int = 0  # bytes, as DynamoDB sizes items (names + values): ≤ 1 KB is one write unit
    seconds: float = 0.0

    def lines(self) -> list[str]:
        per_order = self.writes / self.orders
        shares = [
            f"  {index:<34} {share:>6.1%} of its items under {key}"
            for index, (key, share) in sorted(self.index_shares.items())
        ]
        return [
            f"{self.orders} member orders, {self.refunds} partial refunds, {self.renewals} renewals, "
            f"{self.disbursements} disbursements: {self.writes} item writes ({per_order:.2f} per order), "
            f"{self.seconds:.1f} s; largest item written {self.largest_put} bytes",
            f"  hottest item           {self.hottest_item[1]:.3f} writes/order  {self.hottest_item[0]}",
            f"  hottest partition key  {self.hottest_partition[1]:.3f} writes/order  "
            f"{self.hottest_partition[0]}",
            "  busiest key of each index:",
            *shares,
        ]


@dataclass
class Shop:
    """How the workload reaches the service: an in-process chalice.test.Client, keys, the Stripe emulator."""

    client: Any
    emulator: Any
    brand_key: str
    storefront_key: str
    webhook_secret: str

    def call(self, method: str, path: str, payload: Any, key: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        response = getattr(self.client.http, method)(path, body=json.dumps(payload), headers=headers)
        assert response.status_code in (200, 201), (path, response.status_code, response.body)
        result: dict[str, Any] = json.loads(response.body)
        return result

    def deliver(self, events: list[dict[str, Any]]) -> None:
        """Post Stripe's events to the webhook as Stripe would (signed)."""
        for event in events:
            payload = json.dumps(event)
            signature = sign_payload(payload.encode(), self.webhook_secret, int(time.time()))
            headers = {"Stripe-Signature": signature, "Content-Type": "application/json"}
            response = self.client.http.post("/v1/webhooks/stripe", body=payload, headers=headers)
            assert response.status_code == 200, response.body


def _join(shop: Shop, customer_ref: str, cause_id: str) -> str:
    """A shopper joins through checkout on the emulator; returns the subscription id."""
    session = shop.call("post", f"/v1/members/{customer_ref}/checkout", {
        "plan_id": PLAN_ID, "email": f"{customer_ref}@example.com", "cause_id": cause_id,
        "success_url": "https://shop.example/welcome", "cancel_url": "https://shop.example/join",
    }, shop.storefront_key)  # fmt: skip
    before = len(shop.emulator.events)
    shop.emulator.complete_checkout(session["session_id"], "succeeded")
    membership = shop.call("post", f"/v1/members/{customer_ref}/sync", {}, shop.storefront_key)
    assert membership["perks_active"], membership
    return next(
        str(event["data"]["object"]["id"])
        for event in shop.emulator.events_since(before)
        if event["type"] == "customer.subscription.created"
    )


def run(shop: Shop, orders: int = 1000, shoppers: int = 40, seed: int = 15) -> Figures:
    """Set up a plan, causes and members, then record the peak mix; returns where its writes landed."""
    from chalicelib.services import donations
    from chalicelib.services.donations import DisbursementIn, OrderIn, RefundIn
    from chalicelib.services.unit_of_work import on_dynamodb

    rng = random.Random(seed)
    shop.call("put", f"/v1/plans/{PLAN_ID}", PLAN, shop.brand_key)
    for cause_id in CAUSES:
        shop.call(
            "put", f"/v1/causes/{cause_id}", {"name": cause_id.replace("-", " ").title()}, shop.brand_key
        )
    # 80 % of the members (so of the orders) give to one cause; the rest spread over the others.
    causes = {f"peak-{n:03d}": HOT_CAUSE if n % 5 else CAUSES[1 + (n // 5) % 4] for n in range(shoppers)}
    subscriptions = {ref: _join(shop, ref, cause_id) for ref, cause_id in causes.items()}

    uow = on_dynamodb()
    started = time.perf_counter()
    pledged = Counter[str]()
    placed: list[tuple[str, int, str]] = []  # orders not refunded yet: id, amount, cause
    refunds = renewals = 0
    with recording_dynamodb_writes() as writes:
        for n in range(orders):
            order = OrderIn(order_id=f"bf-{n:05d}", customer_ref=rng.choice(list(causes)), currency="usd",
                            amount=rng.randint(1_000, 30_000))  # fmt: skip
            # `created` may be False: the local DynamoDB can be slow enough for botocore to retry a committed
            # transaction, and the order then answers as its replay. Either way it is recorded once.
            answer, _ = donations.record_order(order, uow)
            assert answer.donation is not None, answer
            pledged[answer.donation.cause_id] += answer.donation.amount
            placed.append((order.order_id, order.amount, answer.donation.cause_id))
            if n % 10 == 9:  # one order in ten is partly refunded, a little later
                order_id, amount, cause_id = placed.pop(rng.randrange(len(placed)))
                refund = RefundIn(refund_id=f"r-{order_id}", amount=rng.randint(1, amount - 1))
                pledged[cause_id] -= donations.record_refund(order_id, refund, uow)[0].donation_reversed
                refunds += 1
            if n % (orders // 5) == orders // 10:  # a handful of renewals come in during the day
                ref = rng.choice(list(subscriptions))
                before = len(shop.emulator.events)
                shop.emulator.advance(subscriptions[ref], "paid")
                shop.deliver(shop.emulator.events_since(before))
                renewals += 1
        now = datetime.now(UTC)
        for cause_id in CAUSES:  # end of day: every cause is paid part of what its orders pledged
            donations.record_disbursement(DisbursementIn(
                disbursement_id=f"payout-{cause_id}", cause_id=cause_id, currency="usd",
                amount=max(1, pledged[cause_id] // 4), paid_at=now, reference=f"wire {cause_id}",
            ), uow)  # fmt: skip
    seconds = time.perf_counter() - started
    return _figures(writes, orders, refunds, renewals, len(CAUSES), seconds)


def _figures(
    writes: list[ItemWrite], orders: int, refunds: int, renewals: int, disbursements: int, seconds: float
) -> Figures:
    keys = key_schemas()
    items: Counter[str] = Counter()
    partitions: Counter[str] = Counter()
    indexes = _index_keys()
    for write in writes:
        names = keys[write.table]
        values = [_scalar(write.key[name]) for name in names]
        items[f"{write.table} {'/'.join(values)}"] += 1
        partitions[f"{write.table} {values[0]}"] += 1
        for index, hash_name in indexes.get(write.table, []):
            if write.item is not None and hash_name in write.item:
                partitions[f"{write.table}.{index} {_scalar(write.item[hash_name])}"] += 1

    def hottest(counter: Counter[str]) -> tuple[str, float]:
        key, count = counter.most_common(1)[0]
        return key, count / orders

    return Figures(
        orders=orders, refunds=refunds, renewals=renewals, disbursements=disbursements, writes=len(writes),
        hottest_item=hottest(items), hottest_partition=hottest(partitions), index_shares=index_shares(),
        largest_put=max((_item_size(w.item) for w in writes if w.item is not None), default=0),
        seconds=seconds,
    )  # fmt: skip


def _item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size for the string and number attributes we store: names plus values."""
    size = 0
    for name, value in item.items():
        ((kind, raw),) = value.items()
        size += len(name.encode()) + (len(str(raw).encode()) if kind == "S" else len(str(raw)) // 2 + 1)
    return size


def _scalar(value: dict[str, Any]) -> str:
    return str(next(iter(value.values())))


def _index_keys() -> dict[str, list[tuple[str, str]]]:
    """Table name → [(index name, its hash key attribute)]."""
    from chalicelib.store.base import all_models

    found: dict[str, list[tuple[str, str]]] = {}
    for model in all_models():
        for name, index in model._indexes.items():  # type: ignore[attr-defined]
            found.setdefault(model.Meta.table_name, []).append(  # type: ignore[attr-defined]
                (name, index._hash_key_attribute().attr_name)
            )
    return found


def index_shares() -> dict[str, tuple[str, float]]:
    """Per index: its busiest partition key and the share of the index's items under it (a Scan each)."""
    from chalicelib.store.base import all_models

    shares: dict[str, tuple[str, float]] = {}
    for model in all_models():
        for name, index in model._indexes.items():  # type: ignore[attr-defined]
            attribute = index._hash_key_attribute().attr_name
            counts: Counter[str] = Counter(
                str(getattr(item, attribute))
                for item in model.scan()  # type: ignore[attr-defined]
                if getattr(item, attribute) is not None
            )
            if counts:
                key, count = counts.most_common(1)[0]
                shares[name] = (key, count / sum(counts.values()))
    return shares
