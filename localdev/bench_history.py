"""`make bench`, second part: the hot paths on an empty local stack against one holding the demo history.

Side by side in one run, same process, same moto server: order and eligibility latency on empty tables,
then after `localdev.demo_history` has replayed a year of shoppers, with the local DynamoDB's item-level
rollback (`localdev.dynamodb_transactions`) and, for comparison, with moto's own TransactWriteItems
(which copies every table a transaction names). The ratios are what to read: absolute figures depend on
the machine and its load.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

CALLS = int(os.environ.get("BENCH_HISTORY_CALLS", "200"))
# moto's own rollback makes an order cost ten times more: fewer calls show it as well.
MOTO_CALLS = int(os.environ.get("BENCH_HISTORY_MOTO_CALLS", "50"))


@contextmanager
def _moto_rollback() -> Iterator[None]:
    """moto's own TransactWriteItems (whole-table copies) for the duration of the block."""
    from moto.dynamodb.models import DynamoDBBackend

    from localdev import dynamodb_transactions

    original = DynamoDBBackend.__dict__["transact_write_items"]
    moto_own = dynamodb_transactions.MOTO_TRANSACT_WRITE_ITEMS
    DynamoDBBackend.transact_write_items = moto_own  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]


def _item_count(dynamodb_url: str) -> int:
    import boto3

    client = boto3.client("dynamodb", endpoint_url=dynamodb_url, region_name="us-east-1")
    prefix = os.environ["TABLE_PREFIX"]
    return sum(
        client.describe_table(TableName=name)["Table"]["ItemCount"]
        for name in client.list_tables()["TableNames"]
        if name.startswith(prefix)
    )


def history_side_by_side(
    client: Any,
    make_member: Callable[[], str],
    timed: Callable[[Callable[[], Any], int], tuple[float, float]],
    dynamodb_url: str,
) -> None:
    """Print order and eligibility latency: empty stack, demo history, demo history with moto's rollback."""
    from localdev import seed
    from localdev.demo_history import seed_demo_history

    headers = {"Authorization": f"Bearer {seed.STOREFRONT_KEY}", "Content-Type": "application/json"}
    member_ref = make_member()
    cart = json.dumps({
        "customer_ref": member_ref, "currency": "usd",
        "items": [{"sku": "tee", "unit_amount": 2500, "quantity": 2}],
        "shipping": {"method": "standard", "amount": 595},
    })  # fmt: skip
    order_ids = iter(range(10**9))

    def eligibility() -> None:
        response = client.http.post("/v1/eligibility", body=cart, headers=headers)
        assert response.status_code == 200, response.body

    def order() -> None:
        body = json.dumps({"order_id": f"bench-history-{next(order_ids)}", "customer_ref": member_ref,
                           "currency": "usd", "amount": 4999})  # fmt: skip
        response = client.http.post("/v1/orders", body=body, headers=headers)
        assert response.status_code == 201, response.body

    def measure(calls: int = CALLS) -> list[tuple[float, float]]:
        eligibility()  # warm the caches
        order()
        return [timed(order, calls), timed(eligibility, calls)]

    empty_items = _item_count(dynamodb_url)
    empty = measure()
    summary = seed_demo_history(os.environ["STRIPE_WEBHOOK_SECRET"])
    loaded_items = _item_count(dynamodb_url)
    loaded = measure()
    with _moto_rollback():
        moto_loaded = measure(MOTO_CALLS)

    print(
        f"\ndemo history: {summary.shoppers} shoppers, {summary.orders} orders, "
        f"{summary.renewals} membership payments, {summary.disbursements} disbursements "
        f"replayed in {summary.seconds:.0f} s; "
        f"items in the tables: {empty_items} empty, {loaded_items} with the history"
    )
    print(
        f"{CALLS} calls each ({MOTO_CALLS} with moto's rollback), median / p99 ms "
        "(ratio of medians to the empty stack)"
    )
    print(f"{'operation':<34} {'empty':>16} {'with history':>22} {'history, moto rollback':>28}")
    for name, before, after, moto in zip(
        ("POST /v1/orders (member)", "POST /v1/eligibility (member)"), empty, loaded, moto_loaded, strict=True
    ):
        print(
            f"{name:<34} {before[0]:>7.2f} / {before[1]:>6.2f}"
            f" {after[0]:>8.2f} / {after[1]:>6.2f} ({after[0] / before[0]:.2f}×)"
            f" {moto[0]:>11.2f} / {moto[1]:>6.2f} ({moto[0] / before[0]:.2f}×)"
        )
