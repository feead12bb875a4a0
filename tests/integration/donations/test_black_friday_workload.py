"""A Black Friday mix against DynamoDB with every write recorded: no item, partition key or index is hot."""

from __future__ import annotations

from typing import Any

from localdev.black_friday import Shop, run
from tests.helpers import WEBHOOK_SECRET


def test_a_black_friday_puts_no_more_than_a_tenth_of_a_write_per_order_on_any_item_or_key(
    client: Any, keys: dict[str, str], emulator: Any
) -> None:
    shop = Shop(client, emulator, keys["brand"], keys["storefront"], WEBHOOK_SECRET)

    figures = run(shop, orders=1000, shoppers=40)

    print("\n" + "\n".join(figures.lines()))
    assert (figures.orders, figures.refunds, figures.disbursements) == (1000, 100, 5)
    assert figures.renewals >= 3
    assert figures.hottest_item[1] <= 0.10, figures.hottest_item
    assert figures.hottest_partition[1] <= 0.10, figures.hottest_partition
    # `by-day` is the events table's listing index (each disbursement writes `disbursement.recorded`); its day
    # key takes every event of a day by design of the events listing, so its share is not a sharding figure.
    assert set(figures.index_shares) == {
        "by-stripe-customer",
        "by-reconcile-at",
        "by-cause-listing",
        "by-day",
    }
    for index, (key, share) in figures.index_shares.items():
        assert index == "by-day" or share <= 0.25, (index, key, share)
