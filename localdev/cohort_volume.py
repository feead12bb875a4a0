"""Many orders in a member's cohort at once, for measuring that the cohort report's cost does not grow.

Recording 10,000 orders one transaction at a time is slow on moto (its transactions copy whole tables).
Each order adds its revenue to one cohort item, picked by its id's shard (`store.program.add_cohort_revenue`);
the same items and the same sums result from adding the orders' revenue per shard, one transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.store.members import get_member
from chalicelib.store.program import add_cohort_revenue
from chalicelib.store.shards import totals_shard
from chalicelib.store.transaction import Transaction
from localdev.dynamodb_calls import counting_dynamodb_calls


def add_orders_in_bulk(customer_ref: str, order_ids: list[str], amount: int) -> None:
    """Count orders of `amount` each, with these ids, in the shopper's cohort (the shopper must be in one)."""
    member = get_member(customer_ref)
    assert member is not None and member.cohort is not None, f"{customer_ref} has no cohort"
    per_shard: dict[int, tuple[str, int]] = {}
    for order_id in order_ids:
        shard = totals_shard(order_id)
        first_id, total = per_shard.get(shard, (order_id, 0))
        per_shard[shard] = (first_id, total + amount)
    transaction = Transaction()
    for first_id, total in per_shard.values():
        add_cohort_revenue(transaction, first_id, member.cohort.cohort, "usd", total)
    transaction.commit()


def report_calls_by_orders(report: Callable[[], object], customer_ref: str) -> tuple[int, int]:
    """DynamoDB calls of one cohort `report` after 100 and 10,000 orders added to the shopper's cohort."""
    figures: list[int] = []
    added = 0
    for target in (100, 10_000):
        add_orders_in_bulk(customer_ref, [f"volume-{i}" for i in range(added, target)], 1000)
        added = target
        with counting_dynamodb_calls() as counted:
            report()
        figures.append(sum(counted.values()))
    return figures[0], figures[1]
